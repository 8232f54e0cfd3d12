"""Intake against the real Redmine: one well-formed case per letter, never two, none lost."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redminelib import Redmine

from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.faults import POINTS
from connector.handlers import handlers_for
from connector.services import Services
from connector.store import cases, jobs
from connector.store.schema import CaseStatus
from tests.conftest import auth, sample_letter
from tests.worker_process import run_worker_until_killed

pytestmark = pytest.mark.redmine
MAIN_PATH = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]


def _nomor() -> str:
    return f"{uuid.uuid4().hex[:8]}/DINKES/2026"


@pytest.fixture
def services(redmine_settings: Settings) -> Any:
    built = bootstrap(redmine_settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def client(services: Services) -> Any:
    from webhooks import create_app

    return create_app(services).test_client()


def _redmine(server: Any) -> Redmine:
    """An independent client, to check Redmine's state without our adapter."""
    return Redmine(server.url, key=server.admin_key)


def _issues_with_key(server: Any, settings: Settings, key: str) -> tuple[list[Any], list[Any]]:
    """(parents, subtasks) in Redmine whose key field starts with ``key``."""
    api = _redmine(server)
    field = next(f.id for f in api.custom_field.all() if f.name == settings.redmine.key_field)
    found = list(
        api.issue.filter(
            project_id=settings.redmine.project,
            status_id="*",
            **{f"cf_{field}": f"~{key}"},
            limit=100,
        )
    )
    parents = [i for i in found if i.tracker.name == settings.redmine.case_tracker]
    steps = [i for i in found if i.tracker.name == settings.redmine.step_tracker]
    return parents, steps


def _drain(services: Services, *, clock: Any = None) -> int:
    kwargs = {"clock": clock} if clock else {}
    return jobs.drain(services.engine, handlers_for(services), jobs.new_worker_id(), **kwargs)


def test_a_letter_becomes_one_well_formed_case(client, services: Services, redmine) -> None:
    nomor = _nomor()
    answer = client.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    assert answer.status_code == 202
    assert _drain(services) == 1

    key = f"DINKES:{nomor.upper()}"
    [parent], steps = _issues_with_key(redmine, services.settings, key)
    assert parent.subject == "Permohonan aplikasi SI Puskesmas — Dinas Kesehatan"
    assert nomor in parent.description and "Alur SOP 555/568/DKIST/2021" in parent.description
    full = _redmine(redmine).issue.get(parent.id, include=["attachments", "children"])
    assert [(a.filename, a.filesize) for a in full.attachments] == [("surat-permohonan.pdf", 14)]
    assert len(full.children) == len(MAIN_PATH) == len(steps)
    by_number = {int(s.subject[1:3]): s for s in steps}
    assert sorted(by_number) == MAIN_PATH
    assert all(s.parent.id == parent.id for s in steps)
    assert by_number[1].status.name == "Closed"
    step2 = by_number[2]
    assert step2.status.name == "In Progress"
    assert step2.assigned_to.name == "Kepala Dinas"  # user kadis
    received = services.today()
    assert (step2.start_date, step2.due_date) == (
        received,
        services.calendar.add_workdays(received, 1),
    )
    assert "Kepala Dinas mendisposisikan surat ke Kepala Bidang TI" in step2.description
    assert all(s.status.name == "New" for n, s in by_number.items() if n > 2)

    case = cases.find_case_by_key(services.engine, key)
    assert case is not None and case.status is CaseStatus.OPEN
    assert case.redmine_issue_id == parent.id and case.current_step == 2


def test_the_same_letter_100_times_then_20_at_once_is_one_case(services: Services, redmine) -> None:
    from webhooks import create_app

    app, nomor = create_app(services), _nomor()
    for _ in range(100):
        assert app.test_client().post(
            "/webhooks/intake", json=sample_letter(nomor), headers=auth()
        ).status_code in (200, 202)
    barrier = threading.Barrier(20)

    def send() -> None:
        barrier.wait()
        app.test_client().post("/webhooks/intake", json=sample_letter(nomor), headers=auth())

    senders = [threading.Thread(target=send) for _ in range(20)]
    workers = [threading.Thread(target=_drain, args=(services,)) for _ in range(3)]
    for thread in senders + workers:
        thread.start()
    for thread in senders + workers:
        thread.join()
    _drain(services)
    parents, steps = _issues_with_key(redmine, services.settings, f"DINKES:{nomor.upper()}")
    assert len(parents) == 1 and len(steps) == len(MAIN_PATH)


@pytest.mark.parametrize("fault", [p for p in POINTS if p.startswith("intake.")])
def test_a_worker_killed_at_each_fault_point_resumes_without_duplicates(
    client, services: Services, redmine, fault: str
) -> None:
    nomor = _nomor()
    assert (
        client.post("/webhooks/intake", json=sample_letter(nomor), headers=auth()).status_code
        == 202
    )
    run_worker_until_killed(services.settings.source, fault)
    key = f"DINKES:{nomor.upper()}"
    case = cases.find_case_by_key(services.engine, key)
    assert case is not None and case.status is CaseStatus.RECEIVED
    # The lease of the killed worker must run out before another worker may take the job.
    later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
    assert jobs.drain(services.engine, handlers_for(services), "restarted", clock=later) == 1
    parents, steps = _issues_with_key(redmine, services.settings, key)
    assert len(parents) == 1 and len(steps) == len(MAIN_PATH)
    full = _redmine(redmine).issue.get(parents[0].id, include=["attachments"])
    assert [a.filename for a in full.attachments] == ["surat-permohonan.pdf"]
    case = cases.find_case_by_key(services.engine, key)
    assert case is not None and case.status is CaseStatus.OPEN


@pytest.mark.slow
def test_redmine_down_while_50_letters_arrive_loses_nothing(
    client, services: Services, redmine
) -> None:
    nomors = [_nomor() for _ in range(50)]
    redmine.stop()
    try:
        codes = [
            client.post("/webhooks/intake", json=sample_letter(n), headers=auth()).status_code
            for n in nomors
        ]
        assert codes == [202] * 50
        # Every attempt fails and is scheduled again (a short jittered backoff may let a
        # job come round more than once while draining).
        assert _drain(services) >= 50
        assert len(jobs.list_jobs(services.engine, ["failed"])) == 50
        assert jobs.list_jobs(services.engine, ["done", "dead"]) == []
    finally:
        redmine.start_again()
    later = lambda: datetime.now(UTC) + timedelta(days=1)  # noqa: E731  past every backoff
    # Every job runs again; one meeting a Redmine still warming up is simply retried.
    assert _drain(services, clock=later) >= 50
    assert jobs.list_jobs(services.engine, ["pending", "running", "failed", "dead"]) == []
    for nomor in nomors:
        parents, steps = _issues_with_key(redmine, services.settings, f"DINKES:{nomor.upper()}")
        assert len(parents) == 1 and len(steps) == len(MAIN_PATH)


def _hand_made_case(server: Any, settings: Settings, fields: dict[str, str]) -> Any:
    """The secretariat opens a case in Redmine itself, with the scanned letter attached."""
    import io

    api = _redmine(server)
    ids = {f.name: f.id for f in api.custom_field.all()}
    tracker = next(t.id for t in api.tracker.all() if t.name == settings.redmine.case_tracker)
    upload = api.upload(io.BytesIO(b"%PDF-1.4 pindaian"), filename="surat-pindaian.pdf")
    return api.issue.create(
        project_id=settings.redmine.project,
        tracker_id=tracker,
        subject="Permohonan aplikasi e-Arsip",
        uploads=[{"token": upload["token"], "filename": "surat-pindaian.pdf"}],
        custom_fields=[{"id": ids[name], "value": value} for name, value in fields.items()],
    )


def test_a_case_opened_by_hand_in_redmine_is_adopted_not_duplicated(
    services: Services, redmine
) -> None:
    from connector.sync.poll import poll_once

    nomor = _nomor()
    issue = _hand_made_case(
        redmine,
        services.settings,
        {
            "Nomor Surat": nomor,
            "Tanggal Surat": "2026-11-20",
            "OPD": "DINKES",
            "Nama Aplikasi": "e-Arsip",
        },
    )
    for _ in range(2):  # the second round finds nothing new to do
        poll_once(services)
        _drain(services)
    key = f"DINKES:{nomor.upper()}"
    parents, steps = _issues_with_key(redmine, services.settings, key)
    assert [p.id for p in parents] == [issue.id]
    assert len(steps) == len(MAIN_PATH)
    case = cases.find_case_by_key(services.engine, key)
    assert case is not None and case.status is CaseStatus.OPEN
    assert case.redmine_issue_id == issue.id and case.nama_aplikasi == "e-Arsip"


def test_a_hand_made_case_with_missing_fields_gets_one_note(services: Services, redmine) -> None:
    from connector.sync.poll import poll_once

    issue = _hand_made_case(redmine, services.settings, {"Nomor Surat": _nomor(), "OPD": "DISHUB"})
    for _ in range(2):
        poll_once(services)
        _drain(services)
    notes = [
        j.notes
        for j in _redmine(redmine).issue.get(issue.id, include=["journals"]).journals
        if j.notes
    ]
    assert len(notes) == 1
    assert "Tanggal Surat" in notes[0] and "Nama Aplikasi" in notes[0] and "DISHUB" in notes[0]


def _fresh_store(settings: Settings, path: Any) -> Services:
    """Services on a new, empty store facing the same Redmine (a lost store, a second host)."""
    from dataclasses import replace

    url = f"sqlite:///{path / 'fresh.sqlite3'}"
    return bootstrap(replace(settings, database=replace(settings.database, url=url)))


def _journal_count(server: Any, issue_ids: list[int]) -> int:
    api = _redmine(server)
    return sum(len(api.issue.get(i, include=["journals"]).journals) for i in issue_ids)


def test_a_fresh_store_adopts_no_issue_that_carries_an_sop_key(
    services: Services, redmine, tmp_path
) -> None:
    """Issue 15: a closed case, an open one and their steps are history, not new letters."""
    from connector.sync.poll import poll_once

    client = _client_for(services)
    closed_nomor, open_nomor = _nomor(), _nomor()
    for nomor in (closed_nomor, open_nomor):
        assert client.post("/webhooks/intake", json=sample_letter(nomor),
                           headers=auth()).status_code == 202
    _drain(services)
    api = _redmine(redmine)
    closed_parents, closed_steps = _issues_with_key(
        redmine, services.settings, f"DINKES:{closed_nomor.upper()}")
    open_parents, open_steps = _issues_with_key(
        redmine, services.settings, f"DINKES:{open_nomor.upper()}")
    status = {s.name: s.id for s in api.issue_status.all()}
    for issue in [*closed_steps, *closed_parents]:
        api.issue.update(issue.id, status_id=status["Closed"])
    api.issue.update(closed_steps[-1].id, notes="Komentar setelah kasus selesai.")
    everything = [i.id for i in (*closed_parents, *closed_steps, *open_parents, *open_steps)]
    before = _journal_count(redmine, everything)

    fresh = _fresh_store(services.settings, tmp_path)
    try:
        for _ in range(2):
            poll_once(fresh)
            _drain(fresh)
        assert cases.find_case_by_key(fresh.engine, f"DINKES:{closed_nomor.upper()}") is None
        assert cases.find_case_by_key(fresh.engine, f"DINKES:{open_nomor.upper()}") is None
        assert _journal_count(redmine, everything) == before  # no note, no status put back
        assert api.issue.get(closed_parents[0].id).status.name == "Closed"
    finally:
        fresh.engine.dispose()


def test_only_a_plain_new_letter_is_adopted(services: Services, redmine) -> None:
    """A letter under a parent, closed, of another tracker or with a step number stays alone."""
    from connector.sync.poll import poll_once

    api = _redmine(redmine)
    fields = {"Tanggal Surat": "2026-11-20", "OPD": "DINKES", "Nama Aplikasi": "e-Arsip"}
    plain = _hand_made_case(redmine, services.settings, {"Nomor Surat": _nomor(), **fields})
    closed = _hand_made_case(redmine, services.settings, {"Nomor Surat": _nomor(), **fields})
    status = {s.name: s.id for s in api.issue_status.all()}
    api.issue.update(closed.id, status_id=status["Closed"])
    numbered = _hand_made_case(redmine, services.settings,
                               {"Nomor Surat": _nomor(), "Nomor Langkah": "5", **fields})
    child = _hand_made_case(redmine, services.settings, {"Nomor Surat": _nomor(), **fields})
    api.issue.update(child.id, parent_issue_id=numbered.id)
    step_tracker = next(t.id for t in api.tracker.all()
                        if t.name == services.settings.redmine.step_tracker)
    other = _hand_made_case(redmine, services.settings, {"Nomor Surat": _nomor(), **fields})
    api.issue.update(other.id, tracker_id=step_tracker)
    others = [closed.id, child.id, numbered.id, other.id]
    assert api.issue.get(closed.id).status.name == "Closed"
    before = _journal_count(redmine, others)

    for _ in range(2):
        poll_once(services)
        _drain(services)

    adopted = {c.redmine_issue_id for c in _all_cases(services)}
    assert plain.id in adopted
    assert adopted.isdisjoint(others)
    assert _journal_count(redmine, others) == before


def _client_for(services: Services) -> Any:
    from webhooks import create_app

    return create_app(services).test_client()


def _all_cases(services: Services) -> list[cases.Case]:
    from sqlalchemy import select

    from connector.store.schema import cases as case_rows

    with services.engine.connect() as conn:
        ids = conn.execute(select(case_rows.c.id)).scalars().all()
    return [c for c in (cases.get_case(services.engine, i) for i in ids) if c is not None]
