"""The data of the documents that end a case: step 17's Berita Acara, step 7's laporan and letter.

Plain frozen dataclasses, checked when built, so a template never has to guess: a missing
deliverable, a link that is not http(s) or a period that ends before it starts is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from urllib.parse import urlsplit

from connector.config.documents import Official
from connector.errors import ConnectorError


class DocumentError(ConnectorError):
    """A document cannot be built or rendered from what it was given."""


class DocumentKind(StrEnum):
    """The documents the SOP asks for; the value is the key of its number pattern."""

    BERITA_ACARA = "berita_acara"
    LAPORAN = "laporan"
    SURAT = "surat"


DELIVERABLES = ("Aplikasi", "Dokumentasi dan hasil analisis", "Dokumentasi pengembangan",
                "Dokumentasi Pengujian", "Petunjuk Instalasi", "Petunjuk Penggunaan",
                "Dokumentasi API")
"""The seven outputs of step 12, in the SOP's order, each listed in the Berita Acara."""


def check_link(link: str | None, what: str) -> None:
    """Refuse a link that is not absolute http(s): a ``file:`` or ``javascript:`` link in a
    signed PDF would point somewhere the signatory never saw."""
    if link is None:
        return
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DocumentError(f"{what}: expected an http(s) URL, got {link!r}")


@dataclass(frozen=True)
class SopReference:
    """The SOP a document is drawn up under: its number (in every document's reference
    line), its name and its Dasar Hukum (cited by the laporan and the letter)."""

    nomor: str
    nama: str
    dasar_hukum: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.nomor.strip():
            raise DocumentError("a document names the SOP it follows: the SOP's nomor is empty")


@dataclass(frozen=True)
class TeamMember:
    """A member of the development team (step 4) and the functions the Kasi recorded."""

    nama: str
    fungsi: tuple[str, ...] = ()


@dataclass(frozen=True)
class Opd:
    """The requesting regional agency: its code (``DINKES``) and full name."""

    kode: str
    nama: str


@dataclass(frozen=True)
class RequestLetter:
    """The OPD's request letter (step 1)."""

    nomor: str
    tanggal: date
    perihal: str


@dataclass(frozen=True)
class Representative:
    """PIHAK KEDUA: who signs for the OPD; NIP and rank are optional (not every signer is a
    civil servant)."""

    nama: str
    jabatan: str
    instansi: str
    nip: str | None = None
    pangkat: str = ""


@dataclass(frozen=True)
class Deliverable:
    """One output of step 12 and where it can be seen, if anywhere."""

    nama: str
    link: str | None = None
    lokasi: str | None = None  # where it is, in words, when there is no web link

    def __post_init__(self) -> None:
        check_link(self.link, f"deliverable {self.nama!r}")


def deliverables_from_links(links: Mapping[str, str | None],
                            locations: Mapping[str, str] | None = None
                            ) -> tuple[Deliverable, ...]:
    """The seven deliverables in the SOP's order, from a mapping of name to link (or None).

    ``locations`` names where each one is when it has no web link (a local git host).
    """
    missing = [name for name in DELIVERABLES if name not in links]
    unknown = sorted(set(links) - set(DELIVERABLES))
    if missing or unknown:
        raise DocumentError(f"deliverables: missing {missing}, unknown {unknown}")
    where = locations or {}
    return tuple(Deliverable(name, links[name], where.get(name)) for name in DELIVERABLES)


@dataclass(frozen=True)
class DevelopmentPeriod:
    """Step 12: when development ran and how many hari kerja it took (at most 35)."""

    mulai: date
    selesai: date
    hari_kerja: int

    def __post_init__(self) -> None:
        if self.selesai < self.mulai or self.hari_kerja < 0:
            raise DocumentError(f"development period {self.mulai}..{self.selesai}, "
                                f"{self.hari_kerja} hari kerja: impossible")


@dataclass(frozen=True)
class BeritaAcara:
    """Step 17: the Berita Acara Pekerjaan, known by the OPD and the Kepala Dinas."""

    nomor: str
    tanggal: date
    tempat: str
    case_key: str
    nama_aplikasi: str
    deskripsi: str
    opd: Opd
    surat: RequestLetter
    repository_url: str | None
    wiki_url: str | None
    deliverables: tuple[Deliverable, ...]
    pengembangan: DevelopmentPeriod
    persetujuan_rencana: tuple[date, ...]
    persetujuan_hasil: tuple[date, ...]
    jumlah_rencana_ulang: int
    jumlah_perbaikan: int
    tim: tuple[str, ...]
    pihak_pertama: Official
    pihak_kedua: Representative
    mengetahui: Official
    # Where the repository and the wiki are, in words, when they have no web link (a local
    # git host without a web viewer): a document that closes a case names where the work is.
    repository_lokasi: str | None = None
    wiki_lokasi: str | None = None
    sop: SopReference = field(kw_only=True)
    # The team's functions (step 4's "Tim: <fungsi>" fields); a member without a function
    # (an older case, recorded in "Tim Pengembang" only) is listed by name alone.
    fungsi_tim: Mapping[str, tuple[str, ...]] = field(default_factory=dict, kw_only=True)

    @property
    def anggota_tim(self) -> tuple[TeamMember, ...]:
        """The team by name, each with the functions recorded for them."""
        return tuple(TeamMember(nama, tuple(self.fungsi_tim.get(nama, ()))) for nama in self.tim)

    def __post_init__(self) -> None:
        check_link(self.repository_url, "repository_url")
        check_link(self.wiki_url, "wiki_url")
        if tuple(d.nama for d in self.deliverables) != DELIVERABLES:
            raise DocumentError(f"deliverables must be the seven of step 12 in order: "
                                f"{', '.join(DELIVERABLES)}")
        if not self.persetujuan_rencana or not self.persetujuan_hasil:
            raise DocumentError("a Berita Acara needs the OPD's approval of the plan (step 11) "
                                "and of the result (step 14)")
        if self.jumlah_rencana_ulang < 0 or self.jumlah_perbaikan < 0:
            raise DocumentError("re-plan and rework counts cannot be negative")
        if not self.tim:
            raise DocumentError("a Berita Acara names the development team (step 4)")


class Kekurangan(StrEnum):
    """What step 6 found missing: infrastructure, staff (SDM) or budget."""

    INFRASTRUKTUR = "infrastruktur"
    SDM = "sdm"
    ANGGARAN = "anggaran"

    @property
    def label(self) -> str:
        """The words a document uses for it."""
        return {"infrastruktur": "infrastruktur", "sdm": "sumber daya manusia (SDM)",
                "anggaran": "anggaran"}[self.value]


@dataclass(frozen=True)
class Unavailability:
    """Step 6 "tidak": what was asked, what is missing, the Kabid's note and the way forward.

    ``kekurangan`` is what the Kabid chose in the *Temuan Verifikasi* field; empty only for a
    step 6 recorded before that field existed, and the documents then refer to "sebagaimana
    catatan verifikasi" rather than guess.
    """

    nama_aplikasi: str
    deskripsi: str
    opd: Opd
    surat: RequestLetter
    kekurangan: frozenset[Kekurangan]
    catatan: str
    tindak_lanjut: tuple[str, ...]

    @property
    def kekurangan_urut(self) -> tuple[Kekurangan, ...]:
        """``kekurangan`` in a fixed order (infrastruktur, SDM, anggaran)."""
        return tuple(k for k in Kekurangan if k in self.kekurangan)

    def __post_init__(self) -> None:
        if not self.catatan.strip():
            raise DocumentError("the Kabid's verification note (step 6) is empty")
        if not self.tindak_lanjut:
            raise DocumentError("say what the OPD may do next (tindak_lanjut)")


@dataclass(frozen=True)
class LaporanKetidaktersediaan:
    """Step 7: Bidang TI's report that infrastructure, SDM and/or budget are unavailable."""

    nomor: str
    tanggal: date
    tempat: str
    case_key: str
    sop_nomor: str
    tanggal_verifikasi: date
    temuan: Unavailability
    pelapor: Official
    mengetahui: Official
    sop: SopReference = field(kw_only=True)


@dataclass(frozen=True)
class SuratKepadaOpd:
    """Step 7: the Kepala Dinas's letter telling the OPD the application cannot be built now."""

    nomor: str
    tanggal: date
    tempat: str
    case_key: str
    temuan: Unavailability
    penandatangan: Official
    tembusan: tuple[str, ...]
    nomor_laporan: str | None = None
    sifat: str = "Biasa"
    perihal: str = "Tanggapan atas Permohonan Pembuatan Aplikasi"
    sop: SopReference = field(kw_only=True)

    @property
    def lampiran(self) -> str:
        """"1 (satu) berkas" when the laporan goes with the letter, else "-"."""
        return "1 (satu) berkas" if self.nomor_laporan else "-"


Document = BeritaAcara | LaporanKetidaktersediaan | SuratKepadaOpd
DOCUMENT_TYPES: dict[DocumentKind, type[Document]] = {
    DocumentKind.BERITA_ACARA: BeritaAcara,
    DocumentKind.LAPORAN: LaporanKetidaktersediaan,
    DocumentKind.SURAT: SuratKepadaOpd,
}
