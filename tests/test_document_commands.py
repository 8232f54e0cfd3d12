"""``documents CASE``: a preview that writes files, attaches nothing and issues no number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document as read_docx

from connector.bootstrap import bootstrap
from connector.cli import document_commands, main
from connector.config import load_settings
from connector.documents.model import DocumentError, DocumentKind
from connector.documents.numbering import existing_number, issue_number
from connector.errors import ConnectorError
from connector.services import Services
from connector.store import audit, cases
from connector.store.audit import Delivery
from tests.conftest import sample_letter, write_config
from tests.fakes import FakeTracker
from tests.test_redmine_documents import documents_section

ON = date(2026, 11, 30)
KEY = "DINKES:027/145/DINKES/2026"
REFUSAL = ["laporan-ketidaktersediaan-dinkes-027-145-dinkes-2026",
           "surat-ketidaktersediaan-dinkes-027-145-dinkes-2026"]


@pytest.fixture
def config(tmp_path: Path, env: None) -> Path:
    return write_config(tmp_path, extra=documents_section())


@pytest.fixture
def tracker() -> FakeTracker:
    return FakeTracker()


@pytest.fixture
def services(config: Path, tracker: FakeTracker) -> Iterator[Services]:
    built = bootstrap(load_settings(config), tracker=tracker)
    yield built
    built.engine.dispose()


def store_case(services: Services, status: cases.CaseStatus, step: int, *,
               team: tuple[str, ...] = ("dev1", "dev2")) -> cases.Case:
    """A case as the workflow leaves it: its team (step 4) and the Kabid's step 6 note."""
    with services.engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key=KEY, opd="DINKES", nomor_surat="027/145/DINKES/2026",
            nama_aplikasi="SI Puskesmas", letter=sample_letter(), attachments=[],
            inbox=Delivery("t", "k", {}, b""))
        if team:
            audit.append_audit(conn, result.case_id, "kasi", "team_recorded",
                               detail={"logins": list(team)})
        audit.append_audit(conn, result.case_id, "kabid", "step_completed", step_from=6,
                           detail={"on": "2026-11-25", "outcome": "tidak",
                                   "note": "Anggaran belum tersedia."})
        cases.set_case_status(conn, result.case_id, status, current_step=step)
    found = cases.get_case(services.engine, result.case_id)
    assert found is not None
    return found


def numbers(services: Services, case_id: int) -> dict[str, str | None]:
    with services.engine.connect() as conn:
        return {kind.value: existing_number(conn, kind.value, case_id) for kind in DocumentKind}


def test_an_open_case_previews_its_berita_acara_without_side_effects(
        services: Services, tracker: FakeTracker, tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.OPEN, 12)
    paths = document_commands.preview_documents(services, case, tmp_path / "out", "pdf", on=ON)
    assert paths == [tmp_path / "out" / "berita-acara-dinkes-027-145-dinkes-2026.pdf"]
    assert paths[0].read_bytes().startswith(b"%PDF-")
    assert tracker.calls == 0 and tracker.issues == {}
    assert set(numbers(services, case.id).values()) == {None}


@pytest.mark.parametrize("status, step", [(cases.CaseStatus.REJECTED, 7),
                                          (cases.CaseStatus.OPEN, 7),
                                          (cases.CaseStatus.REJECTED, 6)])
def test_a_refused_case_previews_the_laporan_and_the_letter(
        services: Services, tmp_path: Path, status: cases.CaseStatus, step: int) -> None:
    case = store_case(services, status, step)
    paths = document_commands.preview_documents(services, case, tmp_path, "docx", on=ON)
    assert [p.name for p in paths] == [f"{name}.docx" for name in REFUSAL]
    text = "\n".join(p.text for p in read_docx(str(paths[0])).paragraphs)
    assert "(pratinjau)" in text and "Anggaran belum tersedia." in text
    assert set(numbers(services, case.id).values()) == {None}


def test_a_number_already_issued_shows_in_the_preview(services: Services,
                                                      tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.OPEN, 17)
    nomor = issue_number(services.engine, DocumentKind.BERITA_ACARA.value, 2026, case.id,
                         "000.1.2/{seq:03d}/DKIST/{year}")
    [path] = document_commands.preview_documents(services, case, tmp_path, "html", on=ON)
    html = path.read_text(encoding="utf-8")
    assert f"Nomor: {nomor}" in html and "(pratinjau)" not in html
    assert (tmp_path / "print.css").is_file()
    assert (tmp_path / "assets" / "logo-sumbawa.svg").is_file()


def test_a_case_without_a_team_has_no_berita_acara_yet(services: Services,
                                                       tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.OPEN, 3, team=())
    with pytest.raises(DocumentError, match="development team"):
        document_commands.preview_documents(services, case, tmp_path, "pdf", on=ON)
    assert list(tmp_path.glob("berita-acara-*")) == []


def test_without_documents_settings_it_is_a_clear_error(tmp_path: Path, env: None) -> None:
    plain = bootstrap(load_settings(write_config(tmp_path)), tracker=FakeTracker())
    try:
        case = store_case(plain, cases.CaseStatus.OPEN, 12)
        with pytest.raises(ConnectorError, match=r"\[documents\]"):
            document_commands.preview_documents(plain, case, tmp_path, "pdf")
    finally:
        plain.engine.dispose()


def run(*args: str) -> Any:
    group = type(main)("sop-connector")  # the real group class: ConnectorError exits 2
    document_commands.register(group)
    return CliRunner().invoke(group, ["documents", *args])


def test_the_command_writes_the_files_and_prints_their_paths(
        services: Services, config: Path, tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.OPEN, 12)
    out = tmp_path / "pratinjau"
    result = run(KEY, "--config", str(config), "--output", str(out))
    assert result.exit_code == 0, result.output
    written = out / "berita-acara-dinkes-027-145-dinkes-2026.pdf"
    assert result.output.splitlines() == [str(written)]
    assert written.read_bytes().startswith(b"%PDF-")
    by_id = run(str(case.id), "--config", str(config), "--output", str(out), "--format", "html")
    assert by_id.output.splitlines() == [str(written.with_suffix(".html"))]
    assert set(numbers(services, case.id).values()) == {None}


def test_the_command_without_documents_settings_exits_2(tmp_path: Path, env: None) -> None:
    result = run("1", "--config", str(write_config(tmp_path)))
    assert result.exit_code == 2
    assert "error: documents are not configured: add a [documents] section" in result.output


def test_the_command_names_an_unknown_case(config: Path) -> None:
    result = run("DINKES:999/2026", "--config", str(config))
    assert result.exit_code == 2 and "no case 'DINKES:999/2026'" in result.output
