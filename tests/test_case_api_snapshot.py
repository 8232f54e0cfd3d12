"""Issue 15, item 6: ``GET /api/cases/<id>`` reads the case and its timeline as one snapshot.

A step's completion is committed by another connection between the answer's first read (the
case row) and its last (the timeline): the answer must show the case either wholly before
or wholly after it, never a ``step_completed 2`` while ``current_step`` is still 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.services import Services
from connector.store import audit, cases
from connector.store.schema import CaseStatus
from tests.conftest import auth
from tests.fakes import FakeTracker


@pytest.fixture
def on_store(settings: Settings, engine: Engine, db_url: str) -> Iterator[Services]:
    """The service on the test's store (SQLite, and PostgreSQL when one is given)."""
    moved = dataclasses.replace(settings, database=dataclasses.replace(settings.database,
                                                                      url=db_url))
    built = bootstrap(moved, tracker=FakeTracker())
    yield built
    built.engine.dispose()


def _case_at_step_2(engine: Engine) -> int:
    with engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key="DINKES:1/X/2026", opd="DINKES", nomor_surat="1/X/2026",
            nama_aplikasi="SI X", letter={}, attachments=[],
            inbox=("api", "delivery-1", {}, b""))
        cases.set_case_status(conn, result.case_id, CaseStatus.OPEN, current_step=2)
    return result.case_id


def _complete_step_2_after_first_case_read(engine: Engine, case_id: int) -> None:
    """Between the answer's reads, another writer completes step 2 and activates 3."""
    done: list[bool] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if done or "FROM cases" not in statement:
            return
        done.append(True)
        with engine.begin() as other:
            audit.append_audit(other, case_id, "kadis", "step_completed", step_from=2,
                               step_to=3)
            cases.set_case_status(other, case_id, CaseStatus.OPEN, current_step=3)

    event.listen(engine, "after_cursor_execute", after)


def test_the_case_and_its_timeline_come_from_one_snapshot(on_store: Services) -> None:
    from webhooks import create_app

    case_id = _case_at_step_2(on_store.engine)
    _complete_step_2_after_first_case_read(on_store.engine, case_id)
    answer = create_app(on_store).test_client().get(f"/api/cases/{case_id}", headers=auth())
    body = answer.get_json()
    assert answer.status_code == 200, body
    completed = [e["step_from"] for e in body["timeline"] if e["action"] == "step_completed"]
    assert (body["current_step"], completed) == (2, [])  # all before the other commit
    again = create_app(on_store).test_client().get(f"/api/cases/{case_id}", headers=auth())
    later = again.get_json()
    assert later["current_step"] == 3
    assert [e["step_from"] for e in later["timeline"] if e["action"] == "step_completed"] == [2]
