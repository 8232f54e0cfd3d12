"""The SOP's header (issue 16, item 6): every item of the signed SOP is in the data, and shows
where people read it: ``sop show --full``, the case description, step 4's subtask, every
kelengkapan refusal and the documents.

``tests/data/sop_555_header.txt`` is the header of SOP 555/568/DKIST/2021 as the seed text has
it (the part above the table); the test parses it rather than repeating its words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.documents import DocumentKind, tanggal_panjang
from connector.documents.render import render_html
from connector.errors import SopError
from connector.handlers import handlers_for
from connector.services import Services
from connector.sop.loader import load_default_sop, parse_sop
from connector.sop.model import Sop
from connector.store import jobs
from connector.workflow.drafts import step_key
from connector.workflow.engine import CaseView, StepClosed, decide
from connector.workflow.paperwork import sop_reference
from tests.conftest import auth, sample_letter
from tests.fakes import FakeTracker
from tests.test_documents_render import berita_acara, laporan, office, surat

SEED = (Path(__file__).parent / "data" / "sop_555_header.txt").read_text(encoding="utf-8")
SOP = load_default_sop()
OL = '<ol style="list-style-type: none">'


def _field(label: str) -> str:
    """The value of a ``Label<TAB>value`` line of the seed's header ('' when blank)."""
    match = re.search(rf"^{re.escape(label)}\t(.*)$", SEED, re.MULTILINE)
    assert match is not None, label
    return match[1].strip()


def _cells(heading: str) -> tuple[str, str]:
    """The two cells under a two-column heading such as ``DASAR HUKUM<TAB>KUALIFIKASI ...``."""
    lines = SEED.splitlines()
    row = lines[lines.index(heading) + 1]
    left, right = (" ".join(cell.split()) for cell in row.split(OL)[1:])
    return left, right


def _words(items: tuple[str, ...]) -> str:
    return " ".join(" ".join(items).split())


DASAR_HUKUM, KUALIFIKASI = _cells("DASAR HUKUM\tKUALIFIKASI PELAKSANA")
KETERKAITAN, PERALATAN = _cells("KETERKAITAN\tPERALATAN/PERLENGKAPAN")
PERINGATAN, PENCATATAN = _cells("PERINGATAN\tPENCATATAN DAN PENDATAAN")
LAWS = tuple(law.strip() for law in DASAR_HUKUM.split(";"))
FUNCTIONS = tuple(re.search(r"\(([^()]*)\)$", KUALIFIKASI)[1].split(", "))  # type: ignore[index]
STAFF = tuple(re.search(r"terdiri dari (.*?) dengan", KUALIFIKASI)[1]  # type: ignore[index]
              .split(" dan/atau "))


def _header_strings(sop: Sop) -> list[str]:
    """Every header item of the seed as a string someone should be able to read."""
    return [_field("Nomor SOP"), _field("Nama SOP"), _field("Tanggal Pembuatan"),
            _field("Tanggal Efektif"), _field("Di Sahkan Oleh"), *LAWS,
            *sop.header.kualifikasi_pelaksana, *FUNCTIONS, *STAFF, KETERKAITAN,
            *sop.header.peralatan, PERINGATAN, PENCATATAN]


def test_every_header_item_of_the_seed_is_in_the_sop_data() -> None:
    h = SOP.header
    assert SOP.nomor == _field("Nomor SOP") == "555/568/DKIST/2021"
    assert SOP.nama == _field("Nama SOP")
    assert tanggal_panjang(h.tanggal_pembuatan) == _field("Tanggal Pembuatan")  # type: ignore[arg-type]
    assert _field("Tanggal Revisi") == "" and h.tanggal_revisi is None
    assert tanggal_panjang(h.tanggal_efektif) == _field("Tanggal Efektif")  # type: ignore[arg-type]
    assert h.disahkan_oleh == _field("Di Sahkan Oleh")
    assert h.dasar_hukum == LAWS and len(LAWS) == 13
    # Lists the seed runs together: the items, in order, are exactly the cell's words.
    assert _words(h.kualifikasi_pelaksana) == KUALIFIKASI
    assert h.kualifikasi_fungsi == FUNCTIONS == (
        "IT Project Manager", "Programmer", "System Analyst", "Multimedia Designer")
    assert h.kualifikasi_status == STAFF == ("ASN", "Pegawai Tidak Tetap", "Tenaga Konsultan")
    assert _words(h.keterkaitan) == KETERKAITAN
    assert _words(h.peralatan) == PERALATAN and len(h.peralatan) == 8
    assert _words(h.peringatan) == PERINGATAN
    assert _words(h.pencatatan) == PENCATATAN


def test_sop_show_full_prints_the_header() -> None:
    result = CliRunner().invoke(main, ["sop", "show", "--full", "--file",
                                       str(Path(__file__).parents[1] / "connector" / "sop"
                                           / "sumbawa.toml")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for item in _header_strings(SOP):
        assert item in flat, item
    assert "Tanggal Revisi : -" in flat
    assert "2 Pembuatan aplikasi" not in flat  # the step table follows, unchanged
    plain = CliRunner().invoke(main, ["sop", "show", "--file", str(
        Path(__file__).parents[1] / "connector" / "sop" / "sumbawa.toml")])
    assert PERINGATAN not in plain.output  # without --full: the table only


HEADER_OK = """
[sop]
nomor = "1/X/2026"
nama = "Uji"
{extra}

[[steps]]
number = 1
title = "Mulai"
text = "Mulai"
role = "opd_pemohon"
{step_extra}
terminal = true
"""


@pytest.mark.parametrize("extra, step_extra, named", [
    ("tanggal_efektiv = 2021-12-02", "", "[sop]: unknown key 'tanggal_efektiv'"),
    ("peringatan_sop = ['x']", "", "[sop]: unknown key 'peringatan_sop'"),
    ("", "kelengkapan = ['x']", "step 1: unknown key 'kelengkapan'"),
    ("tanggal_efektif = '2 Desember 2021'", "",
     "[sop]: 'tanggal_efektif' must be a date such as 2021-12-02"),
    ("dasar_hukum = 'UU 11/2008'", "", "[sop]: 'dasar_hukum' must be a list of strings"),
])
def test_the_loader_refuses_unknown_or_wrong_header_keys(extra: str, step_extra: str,
                                                          named: str) -> None:
    with pytest.raises(SopError) as caught:
        parse_sop(HEADER_OK.format(extra=extra, step_extra=step_extra), source="<uji>")
    assert any(named in problem for problem in caught.value.problems), caught.value.problems


def test_a_header_with_every_key_loads() -> None:
    found = parse_sop(HEADER_OK.format(extra="tanggal_efektif = 2021-12-02\n"
                                             "peringatan = ['Hati-hati']", step_extra=""),
                      source="<uji>")
    assert found.header.tanggal_efektif == date(2021, 12, 2)
    assert found.header.peringatan == ("Hati-hati",)


def _opened(client, services: Services, fake_tracker: FakeTracker):
    answer = client.post("/webhooks/intake", json=sample_letter(), headers=auth())
    assert answer.status_code == 202
    jobs.drain(services.engine, handlers_for(services), "w")
    [parent] = fake_tracker.cases()
    children = {c.issue.key: c for c in fake_tracker.children(parent.issue.id)}
    return parent, children


def test_the_case_description_carries_the_peringatan(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    parent, _ = _opened(client, services, fake_tracker)
    assert PERINGATAN in " ".join(parent.draft.description.split())
    assert "Peringatan SOP 555/568/DKIST/2021" in parent.draft.description


def test_step_4_lists_the_kualifikasi_and_how_to_record_each_function(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    parent, children = _opened(client, services, fake_tracker)
    text = " ".join(children[step_key(parent.issue.key, 4)].draft.description.split())
    for item in (*SOP.header.kualifikasi_pelaksana, *FUNCTIONS, *STAFF):
        assert item in text, item
    for function in FUNCTIONS:
        assert f'"Tim: {function}"' in text
    step_5 = children[step_key(parent.issue.key, 5)].draft.description
    assert FUNCTIONS[0] not in step_5  # only at the step that forms the team


def _refused(step: int, actor: str, **event: object) -> str:
    from tests.test_engine import CAL, POLICY

    closed = StepClosed(step=step, status="Closed", previous_status="In Progress",
                        actor=actor, note="", on=date(2026, 3, 16), **event)  # type: ignore[arg-type]
    decision = decide(SOP, CaseView(opd="DINKES", current_step=step), closed, POLICY, CAL)
    assert decision.refused
    return decision.commands[0].note  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("step, actor, event", [
    (5, "kasi", {}),  # the Laporan Hasil Analisis is not attached
    (4, "kasi", {}),  # the team is not recorded
    (12, "dev1", {"missing_deliverables": ("- Petunjuk Instalasi: belum ada",)}),
])
def test_every_kelengkapan_refusal_quotes_the_peringatan(step: int, actor: str,
                                                          event: dict[str, object]) -> None:
    note = _refused(step, actor, **event)
    assert f"Peringatan SOP: {PERINGATAN}" in note


def test_a_refusal_that_is_not_about_kelengkapan_does_not() -> None:
    note = _refused(5, "kabid", attachments=frozenset({"laporan.pdf"}))
    assert "hanya dapat diselesaikan" in note and PERINGATAN not in note


def test_the_documents_carry_the_sop_number_and_the_laporan_and_letter_its_dasar_hukum(
        services: Services) -> None:
    s, ref = office(), sop_reference(services)
    html = {kind: render_html(kind, replace(document, sop=ref), s) for kind, document in (
        (DocumentKind.BERITA_ACARA, berita_acara(s)), (DocumentKind.LAPORAN, laporan(s)),
        (DocumentKind.SURAT, surat(s)))}
    for kind, text in html.items():
        assert f"SOP Nomor {SOP.nomor}" in text, kind
    for kind in (DocumentKind.LAPORAN, DocumentKind.SURAT):
        for law in LAWS:
            assert law in html[kind], (kind, law)


def test_the_berita_acara_lists_the_team_by_name_and_function() -> None:
    s = office()
    doc = berita_acara(s, fungsi_tim={"Ahmad Programmer, S.Kom.": ("Programmer",),
                                      "Budi Analis, S.T.": ("IT Project Manager",
                                                            "System Analyst")})
    text = " ".join(render_html(DocumentKind.BERITA_ACARA, doc, s).split())
    assert "<td>Ahmad Programmer, S.Kom.</td><td>Programmer</td>" in text
    assert "<td>Budi Analis, S.T.</td><td>IT Project Manager, System Analyst</td>" in text
    old = " ".join(render_html(DocumentKind.BERITA_ACARA, berita_acara(s), s).split())
    assert "<td>Ahmad Programmer, S.Kom.</td><td>-</td>" in old  # a case from before


def test_step_9_links_the_tik_standard_from_the_configuration(
        services: Services, fake_tracker: FakeTracker) -> None:
    from webhooks import create_app

    url = "https://diskominfo.sumbawakab.go.id/standar-tik"
    configured = replace(services, settings=replace(services.settings, standar_tik_url=url))
    client = create_app(configured).test_client()
    parent, children = _opened(client, configured, fake_tracker)
    text = children[step_key(parent.issue.key, 9)].draft.description
    assert f"Standarisasi Pembangunan dan Pengembangan TIK Pemkab Sumbawa ({url})" in text
    assert url not in children[step_key(parent.issue.key, 8)].draft.description


def test_without_the_key_step_9_names_the_standard_only(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    parent, children = _opened(client, services, fake_tracker)
    text = children[step_key(parent.issue.key, 9)].draft.description
    assert "Standarisasi Pembangunan dan Pengembangan TIK Pemkab Sumbawa" in text
    assert "http" not in text


@pytest.mark.parametrize("value, ok", [("https://tik.example.go.id/standar", True),
                                       ("ftp://tik.example.go.id/standar", False),
                                       ("javascript:alert(1)", False)])
def test_the_tik_standard_address_must_be_http(tmp_path: Path, env: None, value: str,
                                               ok: bool) -> None:
    from connector.config.load import load_settings
    from connector.errors import ConfigError
    from tests.conftest import write_config

    path = write_config(tmp_path)
    path.write_text(path.read_text() + f'\n[sop]\nstandar_tik_url = "{value}"\n')
    if ok:
        assert load_settings(path).standar_tik_url == value
        return
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert any("[sop] standar_tik_url: expected an http(s) URL" in p
               for p in caught.value.problems)
