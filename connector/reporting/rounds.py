"""Rounds of work on the steps of cases, read in bulk from the audit trail and the step rows.

A round runs from the day a step became active to the day it was completed. A step that a
loop sends the case back to (9 after a re-plan at 11, 12 after a rework at 14) has one round
per pass. The audit trail records every round (``step_activated`` with ``detail.start``,
``step_completed`` with ``detail.on``), the way ``connector.workflow.state`` reads it; the
step rows fill in what the trail does not hold: step 1, done at intake, and the step made
active when the case was opened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, select

from connector.store.audit import AuditEntry
from connector.store.cases import CaseStep
from connector.store.db import from_row
from connector.store.schema import StepState, audit, case_steps
from connector.workflow.state import ACKNOWLEDGED, ACTIVATED, AWAITING, COMPLETED, LOOPED

_ACTIONS = (ACTIVATED, COMPLETED, LOOPED, AWAITING, ACKNOWLEDGED)


@dataclass(frozen=True)
class Round:
    """One pass of a case through a step; ``end`` is None while it is still running."""

    step: int
    start: date
    end: date | None


@dataclass(frozen=True)
class CaseHistory:
    """What happened to one case: rounds per step, loops per decision step, last holders."""

    rounds: Mapping[int, tuple[Round, ...]]
    loops: Mapping[int, int]
    assignees: Mapping[int, str | None]
    # A step that waited to be known (17): role -> (login, day) of each acknowledgement so far.
    acknowledged: Mapping[int, Mapping[str, tuple[str, date]]] = field(default_factory=dict)


def load_histories(conn: Connection, case_ids: Select[Any]) -> dict[int, CaseHistory]:
    """The history of every case whose id ``case_ids`` (a one-column select) returns."""
    trail_query = (select(audit).where(audit.c.case_id.in_(case_ids))
                   .where(audit.c.action.in_(_ACTIONS)).order_by(audit.c.id))
    step_query = select(case_steps).where(case_steps.c.case_id.in_(case_ids))
    trails: dict[int, list[AuditEntry]] = defaultdict(list)
    for row in conn.execute(trail_query).mappings():
        trails[row["case_id"]].append(from_row(AuditEntry, row))
    rows: dict[int, list[CaseStep]] = defaultdict(list)
    for row in conn.execute(step_query).mappings():
        rows[row["case_id"]].append(from_row(CaseStep, row, state=StepState(row["state"])))
    return {case_id: history(trails[case_id], rows[case_id])
            for case_id in set(trails) | set(rows)}


def history(trail: Sequence[AuditEntry], rows: Sequence[CaseStep]) -> CaseHistory:
    """Rounds, loops and holders of one case from its trail (oldest first) and step rows."""
    by_step = {row.step: row for row in rows}
    running: dict[int, date] = {}
    found: dict[int, list[Round]] = defaultdict(list)
    loops: Counter[int] = Counter()
    assignees: dict[int, str | None] = {}
    acknowledged: dict[int, dict[str, tuple[str, date]]] = {}
    for entry in trail:
        detail = entry.detail or {}
        if entry.action == ACTIVATED and entry.step_to is not None and "start" in detail:
            running[entry.step_to] = date.fromisoformat(detail["start"])
            assignees[entry.step_to] = detail.get("assignee")
            acknowledged.pop(entry.step_to, None)
        elif entry.action == AWAITING and entry.step_from is not None:
            acknowledged.setdefault(entry.step_from, {})
            assignees[entry.step_from] = detail.get("assignee")
        elif entry.action == ACKNOWLEDGED and entry.step_from is not None and "on" in detail:
            acknowledged.setdefault(entry.step_from, {})[detail["role"]] = (
                entry.actor, date.fromisoformat(detail["on"]))
        elif entry.action == COMPLETED and entry.step_from is not None and "on" in detail:
            step = entry.step_from
            start = running.pop(step, None) or _row_start(by_step.get(step), found[step])
            if start is not None:
                found[step].append(Round(step, start, date.fromisoformat(detail["on"])))
        elif entry.action == LOOPED and entry.step_from is not None:
            loops[entry.step_from] += 1
    for step, start in running.items():
        found[step].append(Round(step, start, None))
    for row in rows:
        if not found[row.step] and row.started_on is not None:
            _add_from_row(found[row.step], row)
    rounds = {step: tuple(sorted(r, key=lambda x: x.start)) for step, r in found.items() if r}
    return CaseHistory(rounds, dict(loops), assignees, acknowledged)


def _row_start(row: CaseStep | None, earlier: list[Round]) -> date | None:
    """The start of a first round that no ``step_activated`` recorded (the opening step)."""
    return row.started_on if row is not None and not earlier else None


def _add_from_row(found: list[Round], row: CaseStep) -> None:
    assert row.started_on is not None
    if row.state is StepState.ACTIVE:
        found.append(Round(row.step, row.started_on, None))
    elif row.state is StepState.DONE:
        found.append(Round(row.step, row.started_on, row.completed_on or row.started_on))
