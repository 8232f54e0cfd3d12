"""The SOP as plain, immutable data: steps, roles, time standards and branches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Role(StrEnum):
    """Who executes a step (the SOP's "Pelaksana" columns and its qualifications)."""

    KEPALA_DINAS = "kepala_dinas"
    KEPALA_BIDANG_TI = "kepala_bidang_ti"
    KEPALA_SEKSI_APLIKASI = "kepala_seksi_aplikasi"
    TIM_PENGEMBANG = "tim_pengembang"
    TIM_TEKNIS_OPD = "tim_teknis_opd"
    OPD_PEMOHON = "opd_pemohon"
    BIDANG_TI = "bidang_ti"

    @property
    def label(self) -> str:
        """The role's name as the SOP writes it, for people to read."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.KEPALA_DINAS: "Kepala Dinas",
    Role.KEPALA_BIDANG_TI: "Kepala Bidang TI",
    Role.KEPALA_SEKSI_APLIKASI: "Kepala Seksi Aplikasi & E-Government",
    Role.TIM_PENGEMBANG: "Tim Pengembang",
    Role.TIM_TEKNIS_OPD: "Tim Teknis OPD",
    Role.OPD_PEMOHON: "OPD/pemohon",
    Role.BIDANG_TI: "Bidang TI",
}


class TimeUnit(StrEnum):
    """The SOP's units of the "Mutu Baku: Waktu" column."""

    HARI_KERJA = "hari_kerja"
    HARI = "hari"


@dataclass(frozen=True)
class TimeStandard:
    """A step's time standard, such as "35 hari kerja" (step 12) or "1 hari" (step 13).

    ``cumulative`` marks a maximum over the whole step ("Maksimal 35 Hari Kerja"): when a
    loop sends the case back to the step, the working days already spent there count.
    """

    amount: int
    unit: TimeUnit
    cumulative: bool = False

    @property
    def label(self) -> str:
        """Indonesian text, e.g. ``35 hari kerja``."""
        text = f"{self.amount} {self.unit.value.replace('_', ' ')}"
        return f"maks. {text}" if self.cumulative else text


class Automation(StrEnum):
    """Work the service itself does for a step, when the step becomes active."""

    PROVISION_REPOSITORY = "provision_repository"  # step 8: project, repository, wiki, team
    BERITA_ACARA = "berita_acara"  # step 17: the Berita Acara Pekerjaan


class DocumentKind(StrEnum):
    """Documents the service draws up, with the step that produces them."""

    BERITA_ACARA = "berita_acara"
    LAPORAN_KETIDAKTERSEDIAAN = "laporan_ketidaktersediaan"
    SURAT_OPD = "surat_opd"


class Gate(StrEnum):
    """A check that must pass before a step may be completed."""

    DELIVERABLES = "deliverables"  # step 12: the seven deliverables exist and are filled in


@dataclass(frozen=True)
class Decision:
    """The two branches of a decision step (6, 11, 14 in the Sumbawa SOP)."""

    ya: int
    tidak: int


@dataclass(frozen=True)
class Step:
    """One row of the SOP table."""

    number: int
    title: str
    text: str
    role: Role
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    time: TimeStandard | None = None
    requires_document: bool = False
    next: int | None = None
    decision: Decision | None = None
    automation: Automation | None = None
    documents: tuple[DocumentKind, ...] = ()  # drawn up when the step is completed
    gate: Gate | None = None
    records_team: bool = False  # the step that forms the development team (Tim Pengembang)
    # A decision whose "tidak" must say what was found missing, chosen from these (step 6:
    # Infrastruktur, SDM, Anggaran) in the *Temuan Verifikasi* field of its subtask.
    findings: tuple[str, ...] = ()
    # Who must know (acknowledge) the step's output, each by their own account, before the
    # step is done (17: "diketahui pihak pemohon (OPD) dan Kepala Dinas Kominfo").
    acknowledged_by: tuple[Role, ...] = ()

    @property
    def is_terminal(self) -> bool:
        """True for an end of the procedure (7 and 17)."""
        return self.next is None and self.decision is None

    @property
    def successors(self) -> tuple[int, ...]:
        """Every step that may follow this one."""
        if self.decision is not None:
            return (self.decision.ya, self.decision.tidak)
        return () if self.next is None else (self.next,)


@dataclass(frozen=True)
class SopHeader:
    """The SOP's header (the part above the table), as the SOP writes it.

    The seed's cells: Tanggal Pembuatan/Revisi/Efektif, Di Sahkan Oleh, Dasar Hukum,
    Kualifikasi Pelaksana, Keterkaitan, Peralatan/Perlengkapan, Peringatan, Pencatatan dan
    Pendataan. ``kualifikasi_fungsi`` are the functions a development team member has (step
    4 records them: IT Project Manager, Programmer, ...); ``kualifikasi_status`` the kinds of
    staff the team is made of (ASN, Pegawai Tidak Tetap, Tenaga Konsultan).
    """

    tanggal_pembuatan: date | None = None
    tanggal_revisi: date | None = None
    tanggal_efektif: date | None = None
    disahkan_oleh: str = ""
    dasar_hukum: tuple[str, ...] = ()
    kualifikasi_pelaksana: tuple[str, ...] = ()
    kualifikasi_fungsi: tuple[str, ...] = ()
    kualifikasi_status: tuple[str, ...] = ()
    keterkaitan: tuple[str, ...] = ()
    peralatan: tuple[str, ...] = ()
    peringatan: tuple[str, ...] = ()
    pencatatan: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sop:
    """A whole procedure: its identity, its header and its steps in number order."""

    nomor: str
    nama: str
    instansi: str
    steps: tuple[Step, ...]
    header: SopHeader = field(default_factory=SopHeader)

    def step(self, number: int) -> Step:
        """The step with that number; KeyError when there is none."""
        for candidate in self.steps:
            if candidate.number == number:
                return candidate
        raise KeyError(f"the SOP has no step {number}")

    @property
    def first(self) -> Step:
        """The step a case starts at (the lowest number)."""
        return self.steps[0]

    @property
    def team_step(self) -> int | None:
        """The step that records the development team (``records_team``)."""
        return next((s.number for s in self.steps if s.records_team), None)

    @property
    def findings_step(self) -> int | None:
        """The decision whose "tidak" names what is missing (``findings``; step 6)."""
        return next((s.number for s in self.steps if s.findings), None)

    @property
    def development_step(self) -> int | None:
        """The development step: the one gated by its deliverables."""
        return next((s.number for s in self.steps if s.gate is Gate.DELIVERABLES), None)

    def step_with(self, automation: Automation) -> int | None:
        """The step whose work the service does itself with ``automation``."""
        return next((s.number for s in self.steps if s.automation is automation), None)

    def step_drawing_up(self, kind: DocumentKind) -> int | None:
        """The step whose completion draws up documents of ``kind``."""
        return next((s.number for s in self.steps if kind in s.documents), None)
