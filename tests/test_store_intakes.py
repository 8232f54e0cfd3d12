"""A batch of letters stored with one statement per table has the outcome of storing them
one after another (``connector.store.intakes``), on SQLite and PostgreSQL; and the group
committer's turn passes from caller to caller without losing or answering early."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from connector.store import get_case, list_attachments, list_audit, list_jobs, record_intake
from connector.store.audit import Delivery
from connector.store.group_commit import BatchCommitter
from connector.store.intakes import Intake, IntakeResult, record_intakes
from connector.store.schema import attachments, audit, cases, inbox, jobs

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def clock() -> datetime:
    return T0


def _intake(number: str, delivery_key: str | None = None, **changes: object) -> Intake:
    letter = {"nomor_surat": number, "opd": "DINKES", "perihal": "Permohonan"} | changes
    body = repr(letter).encode()
    return Intake(f"DINKES:{number}", "DINKES", number, "SIMPUS", letter,
                  [("surat.pdf", "application/pdf", b"%PDF " + body),
                   ("lampiran.pdf", "application/pdf", b"%PDF lampiran")],
                  Delivery("intake", delivery_key or f"sha256:{number}",
                           {"Content-Type": "application/json", "Authorization": "Bearer x"},
                           body))


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_batch_stores_every_new_letter_whole(engine: Engine) -> None:
    batch = [_intake(f"{n}/2026") for n in range(5)]
    with engine.begin() as conn:
        results = record_intakes(conn, batch, clock=clock)
    assert [r.created for r in results] == [True] * 5
    assert len({r.case_id for r in results}) == 5
    for intake, result in zip(batch, results, strict=True):
        case = get_case(engine, result.case_id)
        assert case is not None and case.case_key == intake.case_key
        assert case.letter == intake.letter and case.created_at == T0
        stored = list_attachments(engine, result.case_id)
        assert [(a.filename, a.content) for a in stored] == [
            (name, content) for name, _, content in intake.attachments]
        [line] = list_audit(engine, result.case_id)
        assert line.action == "case_received" and line.actor == "intake"
        assert line.detail is not None
        assert line.detail["attachments"] == ["surat.pdf", "lampiran.pdf"]
        [job] = [j for j in list_jobs(engine) if j.payload == {"case_id": result.case_id}]
        assert job.dedupe_key == f"open_case:{result.case_id}"
        assert job.inbox_id is not None and job.inbox_id == line.detail["inbox_id"]
    with engine.connect() as conn:
        headers = conn.execute(select(inbox.c.headers)).scalars().all()
    assert headers and all("Authorization" not in h for h in headers)  # never stored
    assert (_count(engine, cases), _count(engine, inbox), _count(engine, attachments),
            _count(engine, audit), _count(engine, jobs)) == (5, 5, 10, 5, 5)


def test_a_batch_matches_storing_its_letters_one_after_another(engine: Engine) -> None:
    """A key stored before, a key twice in the batch (the first wins, whatever the second
    holds), a delivery key reused by another letter: as ``record_intake`` one by one."""
    with engine.begin() as conn:
        before = record_intakes(conn, [_intake("1/2026")], clock=clock)[0]
    batch = [_intake("1/2026"), _intake("2/2026"), _intake("2/2026", perihal="lain"),
             _intake("3/2026", delivery_key="sha256:2/2026"), _intake("4/2026")]
    with engine.begin() as conn:
        results = record_intakes(conn, batch, clock=clock)
    assert results[0] == IntakeResult(before.case_id, created=False)
    assert results[1].created and results[2] == IntakeResult(results[1].case_id, False)
    assert results[3].created and results[4].created
    second = get_case(engine, results[1].case_id)
    assert second is not None and second.letter["perihal"] == "Permohonan"
    [line] = list_audit(engine, results[3].case_id)
    assert line.detail is not None and line.detail["inbox_id"] is None  # its key was taken
    [job] = [j for j in list_jobs(engine) if j.payload == {"case_id": results[3].case_id}]
    assert job.inbox_id is None
    assert (_count(engine, cases), _count(engine, inbox), _count(engine, jobs)) == (4, 3, 4)


def test_record_intake_is_a_batch_of_one(engine: Engine) -> None:
    intake = _intake("9/2026")
    with engine.begin() as conn:
        first = record_intake(conn, case_key=intake.case_key, opd=intake.opd,
                              nomor_surat=intake.nomor_surat,
                              nama_aplikasi=intake.nama_aplikasi, letter=intake.letter,
                              attachments=intake.attachments, inbox=intake.inbox, clock=clock)
        again = record_intakes(conn, [intake], clock=clock)[0]
    assert first.created and again == IntakeResult(first.case_id, created=False)


def test_the_turn_to_write_passes_to_a_waiting_caller(engine: Engine) -> None:
    """While one caller writes its batch, others wait; the first of them writes the next
    batch with everything waiting, and every caller gets its own result, once committed."""
    started, release = threading.Event(), threading.Event()

    def write(conn: Connection, items: list[str]) -> list[str]:
        if items == ["first"]:
            started.set()
            release.wait(10)
        return [f"{item}!" for item in items]

    committer: BatchCommitter[str, str] = BatchCommitter(engine, write)
    results: dict[str, str] = {}
    threads = [threading.Thread(target=lambda: results.update(first=committer.run("first")))]
    threads[0].start()
    assert started.wait(10)
    for n in range(10):
        threads.append(threading.Thread(
            target=lambda n=n: results.update({f"k{n}": committer.run(f"k{n}")})))
        threads[-1].start()
    while committer._waiting.qsize() < 10:
        threading.Event().wait(0.01)
    assert results == {}  # nobody answered before the first batch is committed
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == {"first": "first!", **{f"k{n}": f"k{n}!" for n in range(10)}}
    assert (committer.batches, committer.items) == (2, 11)
    assert committer.run("alone") == "alone!"  # the turn was left free
