"""The documents as an office signs them: PDF and DOCX content, escaping, and what is loaded."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import UndefinedError
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

from connector.documents import (
    DELIVERABLES,
    BeritaAcara,
    DevelopmentPeriod,
    DocumentError,
    DocumentKind,
    DocumentSettings,
    Kekurangan,
    Kop,
    LaporanKetidaktersediaan,
    NumberPatterns,
    Official,
    Opd,
    Representative,
    RequestLetter,
    SopReference,
    SuratKepadaOpd,
    Unavailability,
    deliverables_from_links,
    kekurangan_from_findings,
    standard_next_steps,
)
from connector.documents.fetcher import AssetFetcher, AssetRefused
from connector.documents.render import (
    document_filename,
    documents_dir,
    render_docx,
    render_html,
    render_pdf,
)
from connector.errors import ConfigError
from connector.rendering import html_env

PREVIEW_DIR = Path("/tmp/sop-documents-preview")
HOSTILE = ('{{ 7*7 }} <script>alert(1)</script> <img src="file:///etc/passwd"> '
           '<img src="http://example.invalid/x.png">')
REPO = "https://git.sumbawakab.go.id/aplikasi/si-puskesmas"
SOP_REF = SopReference("555/568/DKIST/2021", "Layanan Permohonan Pembuatan Aplikasi",
                       ("Undang-undang Nomor 11 Tahun 2008 tentang Infomasi dan Transaksi "
                        "Elektronik",))
NOTE = ("Server aplikasi penuh dan belum ada anggaran pengadaan pada tahun anggaran 2026.\n"
        "Tenaga programmer sedang menangani 4 aplikasi lain.")


def office() -> DocumentSettings:
    return DocumentSettings(
        kop=Kop(alamat="Jalan Garuda Nomor 1, Sumbawa Besar 84312", telepon="(0371) 21000",
                email="diskominfo@sumbawakab.go.id", laman="diskominfo.sumbawakab.go.id"),
        kepala_dinas=Official(
            "Ir. H. Contoh Kepala, M.Si.", "19700101 199503 1 001",
            "Kepala Dinas Komunikasi Informatika Statistik dan Persandian Kabupaten Sumbawa",
            "Pembina Utama Muda (IV/c)"),
        kepala_bidang_ti=Official("Contoh Kabid, S.Kom.", "19800202 200501 1 002",
                                  "Kepala Bidang Teknologi Informasi", "Pembina (IV/a)"),
        kepala_seksi_aplikasi=Official("Contoh Kasi, S.T.", "19850303 201001 2 003",
                                       "Kepala Seksi Aplikasi dan E-Government"),
    )


def berita_acara(s: DocumentSettings, **changes: Any) -> BeritaAcara:
    links: dict[str, str | None] = {n: f"{REPO}/-/wikis/hasil-{i}"
                                    for i, n in enumerate(DELIVERABLES, 1)}
    links["Aplikasi"] = "https://puskesmas.sumbawakab.go.id"
    links["Dokumentasi API"] = None
    doc = BeritaAcara(
        nomor="000.1.2/007/DKIST/2026", tanggal=date(2026, 12, 28), tempat="Sumbawa Besar",
        case_key="DINKES:027/145/DINKES/2026", nama_aplikasi="SI Puskesmas",
        deskripsi="Aplikasi pencatatan kunjungan pasien di 26 puskesmas.",
        opd=Opd("DINKES", "Dinas Kesehatan"),
        surat=RequestLetter("027/145/DINKES/2026", date(2026, 11, 20),
                            "Permohonan Pembuatan Aplikasi Sistem Informasi Puskesmas"),
        repository_url=REPO, wiki_url=f"{REPO}/-/wikis/home",
        deliverables=deliverables_from_links(links),
        pengembangan=DevelopmentPeriod(date(2026, 10, 12), date(2026, 11, 27), 33),
        persetujuan_rencana=(date(2026, 10, 9),),
        persetujuan_hasil=(date(2026, 12, 2), date(2026, 12, 21)),
        jumlah_rencana_ulang=1, jumlah_perbaikan=2,
        tim=("Ahmad Programmer, S.Kom.", "Budi Analis, S.T."),
        pihak_pertama=s.kepala_seksi_aplikasi,
        pihak_kedua=Representative("dr. Siti Aminah", "Kepala Seksi Data dan Informasi",
                                   "Dinas Kesehatan Kabupaten Sumbawa", "19820404 200801 2 004"),
        mengetahui=s.kepala_dinas, sop=SOP_REF)
    return dataclasses.replace(doc, **changes)


def temuan(note: str = NOTE, findings: tuple[str, ...] = ("SDM", "Anggaran"),
           **changes: Any) -> Unavailability:
    k = kekurangan_from_findings(findings)
    found = Unavailability(
        nama_aplikasi="SI Puskesmas", deskripsi="Aplikasi pencatatan kunjungan pasien.",
        opd=Opd("DINKES", "Dinas Kesehatan"),
        surat=RequestLetter("027/145/DINKES/2026", date(2026, 11, 20), "Permohonan Aplikasi"),
        kekurangan=k, catatan=note, tindak_lanjut=standard_next_steps(k))
    return dataclasses.replace(found, **changes)


def laporan(s: DocumentSettings, t: Unavailability | None = None) -> LaporanKetidaktersediaan:
    return LaporanKetidaktersediaan(
        nomor="000.1.5/003/DKIST/2026", tanggal=date(2026, 11, 26), tempat=s.tempat,
        case_key="DINKES:027/145/DINKES/2026", sop_nomor="555/568/DKIST/2021",
        tanggal_verifikasi=date(2026, 11, 25), temuan=t or temuan(),
        pelapor=s.kepala_bidang_ti, mengetahui=s.kepala_dinas, sop=SOP_REF)


def surat(s: DocumentSettings, t: Unavailability | None = None, **changes: Any) -> SuratKepadaOpd:
    doc = SuratKepadaOpd(
        nomor="000.1.2/012/DKIST/XI/2026", tanggal=date(2026, 11, 26), tempat=s.tempat,
        case_key="DINKES:027/145/DINKES/2026", temuan=t or temuan(),
        penandatangan=s.kepala_dinas, tembusan=s.tembusan,
        nomor_laporan="000.1.5/003/DKIST/2026", sop=SOP_REF)
    return dataclasses.replace(doc, **changes)


def need(tool: str) -> str:
    """The poppler tool's path; in CI a missing tool fails, elsewhere it skips."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} (Debian package poppler-utils) is not installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([need("pdftotext"), "-layout", "-enc", "UTF-8", str(source), "-"],
                         check=True, capture_output=True, text=True)
    return out.stdout


def flat(text: str) -> str:
    """Text with all whitespace removed: a PDF wraps lines wherever the layout needs."""
    return re.sub(r"\s+", "", text)


def docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [p.text for t in document.tables for row in t.rows for c in row.cells
              for p in c.paragraphs]
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return "\n".join(parts)


class RecordingFetcher(AssetFetcher):
    """The real fetcher, remembering every URL WeasyPrint asked for."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.calls.append(url)
        return super().fetch(url, headers)


@pytest.fixture
def s() -> DocumentSettings:
    return office()


def preview(pdf: bytes, tmp_path: Path, name: str) -> Path:
    """The first page as a PNG for a person to look at, in tmp and in PREVIEW_DIR."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([need("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(tmp_path / name)], check=True)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, PREVIEW_DIR / f"{name}.png")
    return png


def test_berita_acara_pdf_says_everything_step_17_needs(s: DocumentSettings,
                                                        tmp_path: Path) -> None:
    doc = berita_acara(s)
    pdf = render_pdf(DocumentKind.BERITA_ACARA, doc, s)
    assert pdf.startswith(b"%PDF-")
    text = flat(pdf_text(pdf, tmp_path))
    expected = [
        "PEMERINTAH KABUPATEN SUMBAWA", "DINAS KOMUNIKASI INFORMATIKA STATISTIK DAN PERSANDIAN",
        "BERITA ACARA PEKERJAAN", "Nomor: 000.1.2/007/DKIST/2026",
        "Pada hari ini Senin tanggal dua puluh delapan bulan Desember tahun dua ribu dua "
        "puluh enam",
        "PIHAK PERTAMA", "Contoh Kasi, S.T.", "19850303 201001 2 003",
        "PIHAK KEDUA", "dr. Siti Aminah", "19820404 200801 2 004",
        "Mengetahui,", "Ir. H. Contoh Kepala, M.Si.", "NIP. 19700101 199503 1 001",
        "SI Puskesmas", "027/145/DINKES/2026", "20 November 2026", REPO,
        f"{REPO}/-/wikis/home", "https://puskesmas.sumbawakab.go.id",
        "33 (tiga puluh tiga) hari kerja", "12 Oktober 2026 s.d. 27 November 2026",
        "9 Oktober 2026", "2 Desember 2026; 21 Desember 2026",
        "1 (satu) kali", "2 (dua) kali", "Ahmad Programmer, S.Kom.", "Budi Analis, S.T.",
        "Demikian Berita Acara ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana "
        "mestinya.",
        "Sumbawa Besar, 28 Desember 2026", "Ref. kasus: DINKES:027/145/DINKES/2026",
        *DELIVERABLES,
        *(f"{REPO}/-/wikis/hasil-{i}" for i in range(2, 7)),
    ]
    for phrase in expected:
        assert flat(phrase) in text, phrase
    assert "None" not in text
    preview(pdf, tmp_path, "berita-acara")


def test_the_pdf_is_the_same_bytes_every_time(s: DocumentSettings) -> None:
    doc = berita_acara(s)
    assert render_pdf(DocumentKind.BERITA_ACARA, doc, s) == render_pdf(
        DocumentKind.BERITA_ACARA, doc, s)


def test_missing_links_print_a_dash_not_none(s: DocumentSettings, tmp_path: Path) -> None:
    doc = berita_acara(s, repository_url=None, wiki_url=None,
                       pihak_kedua=Representative("Budi", "Staf", "Dinas Kesehatan"))
    text = pdf_text(render_pdf(DocumentKind.BERITA_ACARA, doc, s), tmp_path)
    assert "None" not in text
    assert re.search(r"Repositori kode sumber\s*:\s*-", text)
    assert "NIP. 1982" not in text


def test_hostile_text_prints_literally_and_loads_nothing(s: DocumentSettings,
                                                         tmp_path: Path) -> None:
    doc = berita_acara(s, nama_aplikasi=f"App {HOSTILE}", deskripsi=f"Desc {HOSTILE}")
    html = render_html(DocumentKind.BERITA_ACARA, doc, s)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<img src="file:///etc/passwd">' not in html

    fetcher = RecordingFetcher(documents_dir())
    pdf = render_pdf(DocumentKind.BERITA_ACARA, doc, s, url_fetcher=fetcher)
    text = flat(pdf_text(pdf, tmp_path))
    assert flat(f"App {HOSTILE}") in text and flat(f"Desc {HOSTILE}") in text
    assert "49" not in text
    allowed = {(documents_dir() / "print.css").resolve().as_uri(),
               (documents_dir() / "assets" / s.kop.logo).resolve().as_uri()}
    assert fetcher.calls and set(fetcher.calls) <= allowed, fetcher.calls

    words = docx_text(render_docx(DocumentKind.BERITA_ACARA, doc, s))
    assert f"App {HOSTILE}" in words and f"Desc {HOSTILE}" in words


def test_control_characters_do_not_break_either_format(s: DocumentSettings,
                                                       tmp_path: Path) -> None:
    doc = berita_acara(s, nama_aplikasi="SI\x00Puskesmas\x0b\x1fBaru", deskripsi="a\x0cb")
    assert "Baru" in pdf_text(render_pdf(DocumentKind.BERITA_ACARA, doc, s), tmp_path)
    assert "Baru" in docx_text(render_docx(DocumentKind.BERITA_ACARA, doc, s))


def test_a_logo_that_is_not_bundled_stops_the_rendering(s: DocumentSettings) -> None:
    missing = dataclasses.replace(s, kop=dataclasses.replace(s.kop, logo="missing.svg"))
    with pytest.raises(DocumentError, match="refused to load"):
        render_pdf(DocumentKind.BERITA_ACARA, berita_acara(s), missing)


@pytest.mark.parametrize("url", [
    "http://example.invalid/x.png", "https://example.invalid/x.css", "ftp://example.invalid/x",
    "file:///etc/passwd", "data:image/png;base64,iVBORw0KGgo=",
    "ASSETS/../berita_acara.html", "ASSETS/logo-sumbawa.svg?x=1", "ROOT/berita_acara.html",
    "ASSETS/", "ASSETS/missing.png", "file://otherhost/ASSETS/logo-sumbawa.svg",
])
def test_the_fetcher_refuses_everything_but_bundled_assets(url: str) -> None:
    root = documents_dir().resolve()
    url = url.replace("ASSETS", (root / "assets").as_uri().removeprefix("file://"), 1)
    url = url.replace("ROOT", root.as_uri(), 1)
    if url.startswith("/"):
        url = "file://" + url
    with pytest.raises(AssetRefused):
        AssetFetcher(root).fetch(url)


def test_the_fetcher_serves_the_stylesheet_and_assets() -> None:
    root = documents_dir().resolve()
    fetcher = AssetFetcher(root)
    css = fetcher.fetch((root / "print.css").as_uri())
    assert css.content_type == "text/css" and b"@page" in css.read()
    logo = fetcher.fetch((root / "assets" / "logo-sumbawa.svg").as_uri())
    assert logo.content_type == "image/svg+xml"


def test_a_symlink_out_of_the_assets_is_refused(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.svg").symlink_to("/etc/passwd")
    with pytest.raises(AssetRefused):
        AssetFetcher(tmp_path).fetch((tmp_path / "assets" / "logo.svg").as_uri())


@pytest.mark.parametrize("markup", [
    '<img src="http://example.invalid/x.png"/>', '<img src="file:///etc/passwd"/>',
    '<link rel="stylesheet" href="https://example.invalid/x.css"/>',
    '<div style="background: url(file:///etc/hostname)">x</div>',
])
def test_weasyprint_stops_when_the_fetcher_refuses(markup: str) -> None:
    """A template mistake cannot load anything either: the rendering stops."""
    root = documents_dir().resolve()
    with pytest.raises(FatalURLFetchingError):
        HTML(string=f"<p>{markup}</p>", base_url=root.as_uri() + "/",
             url_fetcher=AssetFetcher(root)).write_pdf()


def test_a_missing_field_raises_instead_of_printing_a_blank(s: DocumentSettings) -> None:
    template = html_env().get_template("documents/berita_acara.html")
    doc = berita_acara(s)
    context = {"doc": doc, "kop": s.kop, "instansi": s.instansi, "kalimat_tanggal": str,
               "tanggal_panjang": str, "terbilang": str, "daftar": ", ".join,
               "balanced": lambda text: [text]}
    template.render(context)  # complete: renders
    with pytest.raises(UndefinedError):
        template.render({k: v for k, v in context.items() if k != "instansi"})
    fields = {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc)}
    del fields["wiki_url"]
    with pytest.raises(UndefinedError):
        template.render(context | {"doc": SimpleNamespace(**fields)})


def test_a_document_of_the_wrong_kind_is_refused(s: DocumentSettings) -> None:
    with pytest.raises(DocumentError):
        render_html(DocumentKind.LAPORAN, berita_acara(s), s)


def test_docx_has_the_same_key_text(s: DocumentSettings) -> None:
    data = render_docx(DocumentKind.BERITA_ACARA, berita_acara(s), s)
    assert data[:2] == b"PK"
    text = docx_text(data)
    for phrase in ["PEMERINTAH KABUPATEN SUMBAWA", "BERITA ACARA PEKERJAAN",
                   "Nomor: 000.1.2/007/DKIST/2026",
                   "Pada hari ini Senin tanggal dua puluh delapan bulan Desember tahun dua "
                   "ribu dua puluh enam, bertempat di Sumbawa Besar",
                   "PIHAK PERTAMA", "PIHAK KEDUA", "Contoh Kasi, S.T.", "dr. Siti Aminah",
                   "NIP. 19850303 201001 2 003", "Mengetahui,", "Ir. H. Contoh Kepala, M.Si.",
                   "SI Puskesmas", REPO, "33 (tiga puluh tiga) hari kerja",
                   "Demikian Berita Acara ini dibuat dengan sebenarnya untuk dipergunakan "
                   "sebagaimana mestinya.", "Sumbawa Besar, 28 Desember 2026",
                   "Ref. kasus: DINKES:027/145/DINKES/2026", *DELIVERABLES]:
        assert phrase in text, phrase
    assert "None" not in text
    assert render_docx(DocumentKind.BERITA_ACARA, berita_acara(s), s) == data


def test_laporan_and_letter_say_what_is_missing(s: DocumentSettings, tmp_path: Path) -> None:
    lap = render_pdf(DocumentKind.LAPORAN, laporan(s), s)
    text = flat(pdf_text(lap, tmp_path, "laporan"))
    for phrase in ["LAPORAN KETIDAKTERSEDIAAN", "Nomor: 000.1.5/003/DKIST/2026",
                   "555/568/DKIST/2021", "25 November 2026", "sumber daya manusia (SDM);",
                   "anggaran;", NOTE, "Mengetahui,", "Contoh Kabid, S.Kom.",
                   "Kepala Bidang Teknologi Informasi,", "Sumbawa Besar, 26 November 2026",
                   *standard_next_steps(temuan().kekurangan)]:
        assert flat(phrase) in text, phrase
    assert flat("infrastruktur;") not in text
    preview(lap, tmp_path, "laporan-ketidaktersediaan")

    letter = render_pdf(DocumentKind.SURAT, surat(s), s)
    text = flat(pdf_text(letter, tmp_path, "surat"))
    for phrase in ["Nomor : 000.1.2/012/DKIST/XI/2026", "Sifat : Biasa",
                   "Lampiran : 1 (satu) berkas", "Perihal : Tanggapan atas Permohonan",
                   "Yth. Kepala Dinas Kesehatan", "di", "Tempat",
                   "karena tidak tersedianya sumber daya manusia (SDM) dan anggaran", NOTE,
                   "Laporan Ketidaktersediaan Nomor 000.1.5/003/DKIST/2026",
                   "Ir. H. Contoh Kepala, M.Si.", "Tembusan:", "Bupati Sumbawa (sebagai laporan)."]:
        assert flat(phrase) in text, phrase
    preview(letter, tmp_path, "surat-ketidaktersediaan")
    words = docx_text(render_docx(DocumentKind.SURAT, surat(s), s))
    assert "Tembusan:" in words and "Yth. Kepala Dinas Kesehatan" in words
    assert NOTE.splitlines()[1] in words
    words = docx_text(render_docx(DocumentKind.LAPORAN, laporan(s), s))
    assert "LAPORAN KETIDAKTERSEDIAAN" in words and NOTE.splitlines()[0] in words
    assert "Nomor: 000.1.5/003/DKIST/2026" in words and "Contoh Kabid, S.Kom." in words


def test_no_findings_refers_to_the_note(s: DocumentSettings, tmp_path: Path) -> None:
    """A step 6 recorded before the Temuan Verifikasi field existed: the note alone."""
    t = temuan("Belum memungkinkan tahun ini.", findings=())
    assert t.kekurangan == frozenset()
    letter = surat(s, t, nomor_laporan=None, tembusan=())
    text = flat(pdf_text(render_pdf(DocumentKind.SURAT, letter, s), tmp_path))
    assert flat("belum dapat kami laksanakan sebagaimana catatan verifikasi") in text
    assert flat("Lampiran : -") in text and "Tembusan" not in text and "None" not in text
    lap = flat(pdf_text(render_pdf(DocumentKind.LAPORAN, laporan(s, t), s), tmp_path))
    assert flat("sebagaimana catatan verifikasi berikut") in lap


@pytest.mark.parametrize(("chosen", "expected"), [
    (("Infrastruktur",), {Kekurangan.INFRASTRUKTUR}), (("SDM",), {Kekurangan.SDM}),
    (("Anggaran",), {Kekurangan.ANGGARAN}), ((" sdm ", "ANGGARAN"), {Kekurangan.SDM,
                                                                      Kekurangan.ANGGARAN}),
    (("Infrastruktur", "SDM", "Anggaran"), set(Kekurangan)), ((), set()),
])
def test_what_is_missing_is_what_the_kabid_chose(chosen: tuple[str, ...],
                                                 expected: set[Kekurangan]) -> None:
    assert kekurangan_from_findings(chosen) == expected


def test_an_unknown_finding_is_an_error_not_a_guess() -> None:
    with pytest.raises(DocumentError, match="Listrik"):
        kekurangan_from_findings(("Listrik",))


def test_the_documents_list_only_what_was_chosen_not_what_the_note_names(
        s: DocumentSettings, tmp_path: Path) -> None:
    """The note names all three (and says two are there); the field says: anggaran only."""
    note = "infrastruktur dan SDM tersedia, anggaran belum"
    t = temuan(note, findings=("Anggaran",))
    lap = flat(pdf_text(render_pdf(DocumentKind.LAPORAN, laporan(s, t), s), tmp_path, "lap"))
    assert flat("belum dapat dipenuhi karena tidak tersedia: 1. anggaran;") in lap
    assert flat(note) in lap
    assert "sumber daya manusia (SDM);" not in lap and "infrastruktur;" not in lap
    letter = flat(pdf_text(render_pdf(DocumentKind.SURAT, surat(s, t), s), tmp_path, "sur"))
    assert flat("karena tidak tersedianya anggaran.") in letter and flat(note) in letter


def test_next_steps_follow_what_is_missing() -> None:
    budget = standard_next_steps(frozenset({Kekurangan.ANGGARAN}))
    assert any("RKA" in step for step in budget)
    assert not any("infrastruktur" in step for step in budget)
    assert len(standard_next_steps(frozenset())) == len(standard_next_steps(frozenset(Kekurangan)))
    assert any("tahun anggaran berikutnya" in step for step in budget)


def test_filenames_are_deterministic(s: DocumentSettings) -> None:
    doc = berita_acara(s)
    assert document_filename(DocumentKind.BERITA_ACARA, doc, "pdf") == \
        "berita-acara-dinkes-027-145-dinkes-2026.pdf"
    assert document_filename(DocumentKind.BERITA_ACARA, doc, ".docx") == \
        "berita-acara-dinkes-027-145-dinkes-2026.docx"
    assert document_filename(DocumentKind.LAPORAN, laporan(s), "pdf") == \
        "laporan-ketidaktersediaan-dinkes-027-145-dinkes-2026.pdf"
    assert document_filename(DocumentKind.SURAT, surat(s), "pdf") == \
        "surat-ketidaktersediaan-dinkes-027-145-dinkes-2026.pdf"
    odd = berita_acara(s, case_key="../../ÉTC:<x>/" + "a" * 200)
    name = document_filename(DocumentKind.BERITA_ACARA, odd, "pdf")
    assert re.fullmatch(r"berita-acara-[a-z0-9-]{1,80}\.pdf", name)
    with pytest.raises(DocumentError):
        document_filename(DocumentKind.BERITA_ACARA, doc, "exe")


@pytest.mark.parametrize(("change", "message"), [
    ({"repository_url": "javascript:alert(1)"}, "http"),
    ({"wiki_url": "file:///etc/passwd"}, "http"),
    ({"deliverables": ()}, "seven"),
    ({"persetujuan_hasil": ()}, "step 14"),
    ({"jumlah_perbaikan": -1}, "negative"),
    ({"tim": ()}, "team"),
])
def test_an_impossible_berita_acara_is_refused(s: DocumentSettings, change: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        berita_acara(s, **change)


def test_settings_report_every_problem() -> None:
    good = office()
    with pytest.raises(ConfigError) as caught:
        dataclasses.replace(
            good, kop=dataclasses.replace(good.kop, alamat=" ", logo="../../etc/passwd"),
            kepala_dinas=Official("", "123", "Kepala Dinas"),
            nomor=NumberPatterns(berita_acara="000/{year}", laporan="{seq}/{year}",
                                 surat="{seq}/{year}"))
    problems = "\n".join(caught.value.problems)
    for expected in ["documents.kop.alamat", "documents.kop.logo", "documents.kepala_dinas.nama",
                     "documents.kepala_dinas.nip", "documents.nomor.berita_acara: must contain"]:
        assert expected in problems, problems
    with pytest.raises(ConfigError, match="own pattern"):
        dataclasses.replace(good, nomor=NumberPatterns(laporan="{seq}/{year}",
                                                       surat="{seq}/{year}"))
