"""Cases, their steps and attachments, the inbox, the audit trail and processed changes."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

import connector.store.audit as audit_module
from connector.store import (
    CaseStatus,
    Delivery,
    IntakeResult,
    StepState,
    add_attachment,
    append_audit,
    case_key_for,
    find_case_by_key,
    get_case,
    get_inbox,
    list_attachments,
    list_audit,
    list_case_steps,
    list_jobs,
    mark_change_processed,
    record_inbox,
    record_intake,
    set_attachment_redmine,
    set_case_redmine,
    set_case_status,
    upsert_case_step,
)
from connector.store.schema import cases, inbox, jobs

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
KEY = "DINKES:027/145/DINKES/2026"
LETTER = {"nomor_surat": "027/145/DINKES/2026", "opd": "DINKES", "nama_aplikasi": "SIMPUS"}
PDF = ("surat.pdf", "application/pdf", b"%PDF-1.7 surat")


def clock() -> datetime:
    return T0


def _intake(engine: Engine, delivery_key: str = "d1", **changes: Any) -> IntakeResult:
    args: dict[str, Any] = {
        "case_key": KEY, "opd": "DINKES", "nomor_surat": LETTER["nomor_surat"],
        "nama_aplikasi": "SIMPUS", "letter": LETTER, "attachments": [PDF],
        "inbox": ("intake", delivery_key, {"Content-Type": "application/json"}, b"{}"),
        "clock": clock,
    } | changes  # fmt: skip
    with engine.begin() as conn:
        return record_intake(conn, **args)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _new_case(engine: Engine) -> int:
    return _intake(engine).case_id


# --- intake -----------------------------------------------------------------------------------


def test_case_key_is_upper_cased_with_spaces_collapsed() -> None:
    assert case_key_for(" dinkes ", "027/145 /  Dinkes/2026 ") == "DINKES:027/145 / DINKES/2026"


def test_record_intake_stores_everything_for_a_new_case(engine: Engine) -> None:
    result = _intake(engine)
    assert result.created
    case = get_case(engine, result.case_id)
    assert case is not None
    assert (case.case_key, case.opd, case.nama_aplikasi, dict(case.letter)) == (
        KEY, "DINKES", "SIMPUS", LETTER,
    )  # fmt: skip
    assert (case.status, case.current_step, case.redmine_issue_id) == ("received", None, None)
    assert case.created_at == T0 and case.created_at.tzinfo == UTC
    [stored] = list_attachments(engine, result.case_id)
    assert (stored.filename, stored.content_type, stored.content) == PDF
    assert stored.sha256 == hashlib.sha256(PDF[2]).hexdigest()
    [job] = list_jobs(engine)
    assert (job.kind, dict(job.payload), job.dedupe_key) == (
        "open_case", {"case_id": result.case_id}, f"open_case:{result.case_id}",
    )  # fmt: skip
    assert job.inbox_id is not None
    entry = get_inbox(engine, job.inbox_id)
    assert entry is not None and (entry.source, entry.delivery_key, entry.body) == (
        "intake", "d1", b"{}",
    )  # fmt: skip
    [line] = list_audit(engine, result.case_id)
    assert (line.actor, line.action, line.detail) == (
        "intake", "case_received", {"inbox_id": job.inbox_id, "attachments": ["surat.pdf"]},
    )  # fmt: skip


def test_the_same_delivery_again_changes_nothing(engine: Engine) -> None:
    first = _intake(engine)
    again = _intake(engine)
    assert again == IntakeResult(first.case_id, created=False)
    assert [_count(engine, t) for t in (cases, inbox, jobs)] == [1, 1, 1]
    assert len(list_audit(engine, first.case_id)) == 1


def test_a_resent_letter_stores_nothing_new(engine: Engine) -> None:
    """Issue 20, finding 12: a resend (another delivery key) keeps no second body or row."""
    first = _intake(engine)
    again = _intake(engine, "d2", attachments=[("lain.pdf", "application/pdf", b"x")])
    assert again == IntakeResult(first.case_id, created=False)
    assert [_count(engine, t) for t in (cases, inbox, jobs)] == [1, 1, 1]
    assert [a.filename for a in list_attachments(engine, first.case_id)] == ["surat.pdf"]
    actions = [line.action for line in list_audit(engine, first.case_id)]
    assert actions == ["case_received"]


def test_a_failed_transaction_stores_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        record_intake(
            conn, case_key=KEY, opd="DINKES", nomor_surat="1", nama_aplikasi="A", letter={},
            attachments=[PDF], inbox=("intake", "d1", {}, b""),
        )  # fmt: skip
        raise RuntimeError("answer could not be built")
    assert [_count(engine, t) for t in (cases, inbox, jobs)] == [0, 0, 0]


@pytest.mark.parametrize("same_delivery", [True, False], ids=["same-delivery", "resends"])
def test_twenty_concurrent_intakes_make_one_case_and_one_job(
    engine: Engine, same_delivery: bool
) -> None:
    barrier = threading.Barrier(20)

    def intake(n: int) -> IntakeResult:
        barrier.wait()
        return _intake(engine, "d" if same_delivery else f"d{n}")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(intake, range(20)))
    assert len({r.case_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert [_count(engine, t) for t in (cases, jobs)] == [1, 1]
    assert _count(engine, inbox) == 1  # resends of a known key store nothing (issue 20, 12)


def test_secret_headers_are_never_stored(engine: Engine) -> None:
    headers = {"X-Gitlab-Token": "s3cret", "Authorization": "Bearer x", "X-Gitlab-Event": "Push"}
    with engine.begin() as conn:
        inbox_id = record_inbox(conn, Delivery("gitlab", "k", headers, b"{}"), clock=clock)
        assert record_inbox(conn, Delivery("gitlab", "k", headers, b"{}")) is None
    assert inbox_id is not None
    entry = get_inbox(engine, inbox_id)
    assert entry is not None
    assert (dict(entry.headers), entry.received_at) == ({"X-Gitlab-Event": "Push"}, T0)
    assert get_inbox(engine, 999) is None


# --- cases, steps, attachments ----------------------------------------------------------------


def test_cases_are_found_by_id_and_key(engine: Engine) -> None:
    case_id = _new_case(engine)
    found = find_case_by_key(engine, KEY)
    assert found is not None and found.id == case_id
    assert find_case_by_key(engine, "BAPPEDA|1") is None
    assert get_case(engine, 999) is None


def test_set_case_redmine_never_relinks_to_another_issue(engine: Engine) -> None:
    case_id = _new_case(engine)
    with engine.begin() as conn:
        assert set_case_redmine(conn, case_id, 41)
        assert set_case_redmine(conn, case_id, 41)
        assert not set_case_redmine(conn, case_id, 42)
        assert not set_case_redmine(conn, 999, 41)
    case = get_case(engine, case_id)
    assert case is not None and case.redmine_issue_id == 41


def test_set_case_status_moves_the_case(engine: Engine) -> None:
    case_id = _new_case(engine)
    with engine.begin() as conn:
        assert set_case_status(conn, case_id, CaseStatus.OPEN, current_step=2)
        assert set_case_status(conn, case_id, CaseStatus.CLOSED)
        assert not set_case_status(conn, 999, CaseStatus.OPEN)
    case = get_case(engine, case_id)
    assert case is not None and (case.status, case.current_step) == (CaseStatus.CLOSED, 2)


def test_upsert_case_step_creates_then_updates_keeping_unset_fields(engine: Engine) -> None:
    case_id = _new_case(engine)
    monday, friday = date(2025, 1, 6), date(2025, 1, 10)
    with engine.begin() as conn:
        upsert_case_step(conn, case_id, 3, state=StepState.PENDING)
        step = upsert_case_step(
            conn, case_id, 2, state=StepState.ACTIVE, redmine_issue_id=7,
            started_on=monday, due_on=friday,
        )  # fmt: skip
        assert (step.state, step.redmine_issue_id, step.due_on) == ("active", 7, friday)
        done = upsert_case_step(conn, case_id, 2, state=StepState.DONE, completed_on=friday)
    assert (done.state, done.redmine_issue_id, done.started_on, done.completed_on) == (
        StepState.DONE, 7, monday, friday,
    )  # fmt: skip
    assert [(s.step, s.state) for s in list_case_steps(engine, case_id)] == [
        (2, "done"), (3, "pending"),
    ]  # fmt: skip


def test_attachments_are_unique_per_case_and_remember_redmine_ids(engine: Engine) -> None:
    case_id = _new_case(engine)
    with engine.begin() as conn:
        assert add_attachment(conn, case_id, "surat.pdf", "application/pdf", b"other") is None
        extra = add_attachment(conn, case_id, "kak.docx", "application/msword", b"kak")
        assert extra is not None
        assert set_attachment_redmine(conn, extra, token="7.abc")
        assert set_attachment_redmine(conn, extra, redmine_attachment_id=99)
        assert not set_attachment_redmine(conn, extra)
    stored = list_attachments(engine, case_id)
    assert [(a.filename, a.redmine_token, a.redmine_attachment_id) for a in stored] == [
        ("surat.pdf", None, None), ("kak.docx", "7.abc", 99),
    ]  # fmt: skip


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        add_attachment(conn, 999, "x.pdf", "application/pdf", b"x")


# --- audit and processed changes --------------------------------------------------------------


def test_audit_lines_are_appended_in_order(engine: Engine) -> None:
    case_id = _new_case(engine)
    later = T0 + timedelta(days=1)
    with engine.begin() as conn:
        append_audit(
            conn, case_id, "kabid", "step_completed", step_from=2, step_to=3, journal_id=501,
            detail={"notes": "disetujui"}, clock=lambda: later,
        )  # fmt: skip
        append_audit(conn, None, "poller", "cursor_moved")
    trail = list_audit(engine, case_id)
    assert [(a.action, a.step_from, a.step_to, a.journal_id, a.at) for a in trail] == [
        ("case_received", None, None, None, T0), ("step_completed", 2, 3, 501, later),
    ]  # fmt: skip
    assert trail[1].detail == {"notes": "disetujui"}
    assert [a.action for a in list_audit(engine, None)] == ["cursor_moved"]


def test_the_audit_module_offers_no_way_to_change_history() -> None:
    public = [name for name in dir(audit_module) if not name.startswith("_")]
    assert not [name for name in public if name.startswith(("update", "delete", "remove"))]


def test_a_change_is_processed_once_even_under_races(engine: Engine) -> None:
    with engine.begin() as conn:
        assert mark_change_processed(conn, "redmine:journal:1", clock=clock)
        assert not mark_change_processed(conn, "redmine:journal:1", clock=clock)
    barrier = threading.Barrier(20)

    def mark(_: int) -> bool:
        barrier.wait()
        with engine.begin() as conn:
            return mark_change_processed(conn, "redmine:journal:2")

    with ThreadPoolExecutor(20) as pool:
        assert sorted(pool.map(mark, range(20))) == [False] * 19 + [True]
