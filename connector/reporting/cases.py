"""The dashboard's read model: where each case stands, and its timeline planned against actual.

Pure apart from reading the store: the caller passes ``today`` and the calendar. The
development clock is the SOP's cumulative step ("Maksimal 35 Hari Kerja", step 12): its
hari kerja add up across the rounds a rework (14 "tidak") sends the case through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, Select, select

from connector.calendar import WorkCalendar
from connector.deadlines.rules import hari_kerja_left
from connector.reporting.rounds import CaseHistory, Round, load_histories
from connector.sop.model import Sop, Step
from connector.store.cases import Case, CaseStep, get_case
from connector.store.db import from_row, reading
from connector.store.schema import CaseStatus, StepState, case_steps, cases
from connector.workflow.paths import main_path


@dataclass(frozen=True)
class Acknowledgement:
    """One party that must know a drawn-up document (step 17), and whether it has."""

    party: str  # the SOP's label of the role (OPD/pemohon, Kepala Dinas)
    login: str | None  # the account that acknowledged it; None: not yet
    on: date | None


@dataclass(frozen=True)
class CaseSummary:
    """One line of the dashboard: a case, its current step and its clocks."""

    id: int
    opd: str
    nama_aplikasi: str
    nomor_surat: str
    status: CaseStatus
    current_step: int | None
    step_title: str | None
    role: str | None  # the SOP's label of who executes the current step
    holder: str | None  # the login the current step was assigned to
    started_on: date | None
    due_on: date | None
    left: int | None  # hari kerja left before the current step's due date; negative: late
    overdue: bool
    development_used: int
    development_limit: int
    replans: int  # "tidak" at 11: the plan was redone
    reworks: int  # "tidak" at 14: back to development
    redmine_issue_id: int | None
    # Step 17's Berita Acara once drawn up: who has and has not known it (empty before).
    acknowledgements: tuple[Acknowledgement, ...] = ()

    @property
    def awaiting_signature(self) -> bool:
        """The case waits at its step for a party to know its document (menunggu tanda
        tangan)."""
        return self.status is CaseStatus.OPEN and any(a.login is None
                                                      for a in self.acknowledgements)

    @property
    def development_left(self) -> int:
        """Hari kerja of the development clock still available (negative: over the limit)."""
        return self.development_limit - self.development_used


NO_HISTORY = CaseHistory({}, {}, {})


def development_step(sop: Sop) -> Step | None:
    """The step whose time standard is a maximum over all its rounds (12 in Sumbawa)."""
    return next((s for s in sop.steps if s.time is not None and s.time.cumulative), None)


def workdays_spent(calendar: WorkCalendar, rounds: tuple[Round, ...], today: date) -> int:
    """Hari kerja spent in these rounds; a running round counts up to today."""
    return sum(calendar.workdays_between(r.start, r.end or today) for r in rounds)


def case_summaries(engine: Engine, sop: Sop, calendar: WorkCalendar, today: date, *,
                   opd: str | None = None, status: CaseStatus | None = None,
                   case_id: int | None = None) -> list[CaseSummary]:
    """Every case matching the filters: overdue first, then the least time left first."""
    query = select(cases).order_by(cases.c.id)
    if case_id is not None:
        query = query.where(cases.c.id == case_id)
    if opd:
        query = query.where(cases.c.opd == opd.strip().upper())
    if status is not None:
        query = query.where(cases.c.status == status.value)
    ids = query.with_only_columns(cases.c.id).order_by(None)
    with reading(engine) as conn:
        found = [from_row(Case, row, status=CaseStatus(row["status"]))
                 for row in conn.execute(query).mappings()]
        histories = load_histories(conn, ids)
        current = _current_rows(conn, ids)
    summaries = [_summary(sop, calendar, today, case, histories.get(case.id, NO_HISTORY),
                          current.get(case.id)) for case in found]
    return sorted(summaries, key=lambda s: (not s.overdue, s.left is None, s.left or 0, s.id))


def known_opds(engine: Engine) -> list[str]:
    """The OPD codes that have sent at least one case, in alphabetical order."""
    with reading(engine) as conn:
        return sorted(conn.execute(select(cases.c.opd).distinct()).scalars())


def _current_rows(conn: Connection, ids: Select[tuple[int]]) -> dict[int, CaseStep]:
    """The step row of each case's current step, when it is active."""
    query = (select(case_steps)
             .join(cases, (cases.c.id == case_steps.c.case_id)
                   & (cases.c.current_step == case_steps.c.step))
             .where(case_steps.c.case_id.in_(ids))
             .where(case_steps.c.state == StepState.ACTIVE.value))
    return {row["case_id"]: from_row(CaseStep, row, state=StepState(row["state"]))
            for row in conn.execute(query).mappings()}


def _summary(sop: Sop, calendar: WorkCalendar, today: date, case: Case, past: CaseHistory,
             row: CaseStep | None) -> CaseSummary:
    step = sop.step(case.current_step) if case.current_step is not None else None
    if case.status is not CaseStatus.OPEN:
        row = None
    due = row.due_on if row is not None else None
    dev = development_step(sop)
    replans, reworks = loop_counts(sop, past.loops)
    return CaseSummary(
        id=case.id, opd=case.opd, nama_aplikasi=case.nama_aplikasi,
        nomor_surat=case.nomor_surat, status=case.status, current_step=case.current_step,
        step_title=step.title if step else None, role=step.role.label if step else None,
        holder=past.assignees.get(step.number) if step else None,
        started_on=row.started_on if row is not None else None, due_on=due,
        left=hari_kerja_left(calendar, today, due) if due else None,
        overdue=due is not None and today > due,
        development_used=workdays_spent(calendar, past.rounds.get(dev.number, ()), today)
        if dev else 0,
        development_limit=dev.time.amount if dev and dev.time else 0,
        replans=replans, reworks=reworks, redmine_issue_id=case.redmine_issue_id,
        acknowledgements=acknowledgements(sop, past))


def acknowledgements(sop: Sop, past: CaseHistory) -> tuple[Acknowledgement, ...]:
    """Each party of the last step that waited to be known, with its acknowledgement."""
    if not past.acknowledged:
        return ()
    number = max(past.acknowledged)
    known = past.acknowledged[number]
    found = []
    for role in sop.step(number).acknowledged_by:
        login, on = known.get(role.value, (None, None))
        found.append(Acknowledgement(role.label, login, on))
    return tuple(found)


def loop_counts(sop: Sop, loops: Mapping[int, int]) -> tuple[int, int]:
    """(re-plans, reworks): a rework sends the case back to the development step (14 to 12),
    a re-plan anywhere else (11 to 9)."""
    dev = development_step(sop)
    target = {n: sop.step(n).decision for n in loops}
    reworks = sum(times for n, times in loops.items()
                  if dev is not None and (d := target[n]) is not None and d.tidak == dev.number)
    return sum(loops.values()) - reworks, reworks


@dataclass(frozen=True)
class TimelineStep:
    """One step of a case's timeline: planned from the time standards, and its actual rounds.

    ``met`` says whether the finished rounds kept to the step's time standard (for a
    cumulative standard: all rounds together); None without a standard or a finished round.
    """

    number: int
    title: str
    role: str
    standard: str | None
    planned_start: date
    planned_end: date
    rounds: tuple[Round, ...]
    met: bool | None


@dataclass(frozen=True)
class Timeline:
    """A case's procedure, planned against actual, step by step."""

    case: Case
    start: date
    steps: tuple[TimelineStep, ...]

    def last_day(self, today: date) -> date:
        """The last day the chart must show: a planned end, an actual end, or today."""
        ends = [s.planned_end for s in self.steps] + [self.start]
        ends += [r.end or today for s in self.steps for r in s.rounds]
        return max(ends)


def case_timeline(engine: Engine, sop: Sop, calendar: WorkCalendar,
                  case_id: int) -> Timeline | None:
    """The timeline of a case, or None when there is no such case.

    The plan starts on the day the case started (its first round) and chains each step's
    time standard from the end of the step before; a step without a standard takes no time.
    """
    with reading(engine) as conn:
        case = get_case(conn, case_id)
        if case is None:
            return None
        ids = select(cases.c.id).where(cases.c.id == case_id)
        past = load_histories(conn, ids).get(case_id, NO_HISTORY)
    starts = [r.start for rounds in past.rounds.values() for r in rounds]
    start = min(starts, default=case.created_at.date())
    planned_end, rows = start, []
    for number in _timeline_steps(sop, case, past):
        step = sop.step(number)
        planned_start = planned_end
        if step.time is not None:
            planned_end = calendar.due_date(planned_start, step.time.amount, step.time.unit.value)
        rounds = past.rounds.get(number, ())
        rows.append(TimelineStep(number, step.title, step.role.label,
                                 step.time.label if step.time else None, planned_start,
                                 planned_end, rounds, _met(calendar, step, rounds)))
    return Timeline(case, start, tuple(rows))


def _timeline_steps(sop: Sop, case: Case, past: CaseHistory) -> list[int]:
    """The main path and every step the case went through; a refused case ends at its end."""
    numbers = sorted(set(main_path(sop)) | set(past.rounds))
    if case.status is CaseStatus.REJECTED and past.rounds:
        last = max(past.rounds, key=lambda n: max(r.start for r in past.rounds[n]))
        numbers = [n for n in numbers if n <= last or n in past.rounds]
    return numbers


def _met(calendar: WorkCalendar, step: Step, rounds: tuple[Round, ...]) -> bool | None:
    finished = [(r.start, r.end) for r in rounds if r.end is not None]
    if step.time is None or not finished:
        return None
    amount, unit = step.time.amount, step.time.unit.value
    if step.time.cumulative:
        return sum(calendar.workdays_between(a, b) for a, b in finished) <= amount
    return all(end <= calendar.due_date(start, amount, unit) for start, end in finished)
