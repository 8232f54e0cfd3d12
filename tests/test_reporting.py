"""The dashboard's read model and the monthly recap, on cases built in the store on real dates.

October and November 2026 have no national holiday, so every count below can be checked on
a wall calendar: SI Puskesmas is re-planned once (11 tidak), developed 19 hari kerja
(19 Oktober to 13 November), sent back by a rework (14 tidak) and is in its second round of
development on Senin 30 November 2026.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from connector.calendar import WorkCalendar
from connector.reporting.cases import case_summaries, case_timeline
from connector.reporting.recap import (
    CSV_HEADER,
    ReportError,
    StepRecap,
    monthly_recap,
    parse_month,
    recap_csv,
    recap_svg,
)
from connector.sop.loader import load_default_sop
from connector.store import append_audit, case_key_for, record_intake, set_case_status
from connector.store import upsert_case_step as upsert
from connector.store.db import make_engine
from connector.store.migrate import create_all
from connector.store.schema import CaseStatus, StepState

SOP = load_default_sop()
CALENDAR = WorkCalendar.standard()
NOV_30 = date(2026, 11, 30)


class CaseBuilder:
    """Writes a case's rows the way the intake and the workflow do: steps and audit lines."""

    def __init__(self, engine: Engine, nomor: str, *, opd: str = "DINKES",
                 nama: str = "SI Puskesmas", received: date) -> None:
        self.engine = engine
        moment = datetime(received.year, received.month, received.day, 1, tzinfo=UTC)
        with engine.begin() as conn:
            self.id = record_intake(
                conn, case_key=case_key_for(opd, nomor), opd=opd, nomor_surat=nomor,
                nama_aplikasi=nama, letter={"nomor_surat": nomor}, attachments=[],
                inbox=("test", f"test:{nomor}", {}, b"{}"), clock=lambda: moment).case_id
            upsert(conn, self.id, 1, state=StepState.DONE, started_on=received,
                   completed_on=received)
            upsert(conn, self.id, 2, state=StepState.ACTIVE, started_on=received,
                   due_on=CALENDAR.add_workdays(received, 1))
            set_case_status(conn, self.id, CaseStatus.OPEN, current_step=2)
            append_audit(conn, self.id, "sop-connector", "case_opened", step_from=1, step_to=2)
        self.day = received
        self.started: dict[int, date] = {2: received}
        self.spent: dict[int, int] = {}

    def step(self, number: int, done: date, outcome: str = "selesai",
             then: int | None = None, holder: str | None = "dev1") -> CaseBuilder:
        """Complete ``number`` on ``done`` and activate ``then`` (default: the SOP's next)."""
        sop_step = SOP.step(number)
        target = then if then is not None else sop_step.next
        begun = self.started.pop(number)
        self.spent[number] = self.spent.get(number, 0) + CALENDAR.workdays_between(begun, done)
        with self.engine.begin() as conn:
            upsert(conn, self.id, number, state=StepState.DONE, completed_on=done)
            append_audit(conn, self.id, "u", "step_completed", step_from=number,
                         step_to=target, detail={"outcome": outcome, "on": done.isoformat()})
            if target is not None and target <= number:
                append_audit(conn, self.id, "u", "loop", step_from=number, step_to=target)
            if target is None:
                set_case_status(conn, self.id, CaseStatus.CLOSED)
            else:
                self._activate(conn, target, done, holder)
        self.day = done
        return self

    def _activate(self, conn: Connection, number: int, on: date, holder: str | None) -> None:
        time = SOP.step(number).time
        amount = 0 if time is None else time.amount - (
            self.spent.get(number, 0) if time.cumulative else 0)
        due = CALENDAR.due_date(on, amount, time.unit.value) if time else None
        self.started[number] = on
        upsert(conn, self.id, number, state=StepState.ACTIVE, started_on=on,
               due_on=due)
        set_case_status(conn, self.id, CaseStatus.OPEN, current_step=number)
        append_audit(conn, self.id, "sop-connector", "step_activated", step_to=number,
                     detail={"start": on.isoformat(), "assignee": holder,
                             "due": due.isoformat() if due else None})

    def reject(self, on: date) -> CaseBuilder:
        with self.engine.begin() as conn:
            set_case_status(conn, self.id, CaseStatus.REJECTED)
            append_audit(conn, self.id, "u", "case_rejected", step_from=7)
        self.day = on
        return self


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def build_puskesmas(engine: Engine) -> CaseBuilder:
    """Re-planned once, 19 hari kerja of development, one rework, developing again."""
    case = CaseBuilder(engine, "027/145/DINKES/2026", received=d(10, 5))
    case.step(2, d(10, 6), holder="kabid").step(3, d(10, 7), holder="kasi")
    case.step(4, d(10, 8), holder="kasi").step(5, d(10, 9), holder="kabid")
    case.step(6, d(10, 12), "ya", then=8, holder="kasi").step(8, d(10, 12))
    case.step(9, d(10, 13)).step(10, d(10, 14), holder="opd1")
    case.step(11, d(10, 14), "tidak", then=9)          # re-plan
    case.step(9, d(10, 16)).step(10, d(10, 16), holder="opd1")  # 2 hari kerja: late
    case.step(11, d(10, 19), "ya", then=12)
    # 13: 1 hari from Jumat 13 November falls on Sabtu, so it is due (and met) on Senin 16.
    case.step(12, d(11, 13)).step(13, d(11, 16), holder="opd1")
    return case.step(14, d(11, 17), "tidak", then=12, holder="dev2")  # rework


def build_bappeda(engine: Engine) -> CaseBuilder:
    """Opened on Senin 2 November and still waiting at step 2 (due Selasa 3 November)."""
    return CaseBuilder(engine, "050/77/BAPPEDA/2026", opd="BAPPEDA", nama="E-Planning",
                       received=d(11, 2))


def build_refused(engine: Engine) -> CaseBuilder:
    """No infrastructure, SDM or budget: 6 tidak, then 7, and the case is refused."""
    case = CaseBuilder(engine, "027/200/DINKES/2026", nama="SI Gizi", received=d(11, 2))
    case.step(2, d(11, 3)).step(3, d(11, 3)).step(4, d(11, 4)).step(5, d(11, 5))
    case.step(6, d(11, 6), "tidak", then=7, holder="bidangti")
    with engine.begin() as conn:
        upsert(conn, case.id, 7, state=StepState.DONE, completed_on=d(11, 9))
        append_audit(conn, case.id, "u", "step_completed", step_from=7,
                     detail={"outcome": "selesai", "on": "2026-11-09"})
    return case.reject(d(11, 9))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_all(built)
    yield built
    built.dispose()


def test_the_case_in_development_counts_both_rounds_against_the_35(engine: Engine) -> None:
    case = build_puskesmas(engine)
    [summary] = case_summaries(engine, SOP, CALENDAR, NOV_30)
    assert summary.id == case.id and summary.current_step == 12
    assert summary.step_title == "Proses pengembangan aplikasi"
    assert (summary.holder, summary.role) == ("dev2", "Tim Pengembang")
    assert summary.development_used == 19 + 9  # 18-20, 23-27, 30 November
    assert (summary.development_limit, summary.development_left) == (35, 7)
    assert summary.started_on == d(11, 17)
    assert summary.due_on == d(12, 9) and summary.left == 7 and not summary.overdue
    assert (summary.replans, summary.reworks) == (1, 1)


def test_a_step_past_its_due_date_is_overdue_and_listed_first(engine: Engine) -> None:
    build_puskesmas(engine)
    late = build_bappeda(engine)
    first, second = case_summaries(engine, SOP, CALENDAR, NOV_30)
    assert first.id == late.id and first.overdue
    assert first.due_on == d(11, 3) and first.left == -19
    assert first.holder is None and first.role == "Kepala Dinas"  # opened, never reassigned
    assert first.development_used == 0 and first.development_left == 35
    assert not second.overdue


def test_filters_by_opd_and_status(engine: Engine) -> None:
    build_puskesmas(engine)
    build_bappeda(engine)
    refused = build_refused(engine)
    names = lambda **f: [s.nama_aplikasi for s in case_summaries(engine, SOP, CALENDAR,  # noqa: E731
                                                               NOV_30, **f)]
    assert names(opd="DINKES") == ["SI Puskesmas", "SI Gizi"]
    assert names(opd=" bappeda ") == ["E-Planning"]
    assert names(status=CaseStatus.OPEN) == ["E-Planning", "SI Puskesmas"]
    assert names(status=CaseStatus.REJECTED, opd="DINKES") == ["SI Gizi"]
    [gone] = case_summaries(engine, SOP, CALENDAR, NOV_30, status=CaseStatus.REJECTED)
    assert gone.id == refused.id and gone.due_on is None and not gone.overdue


def test_the_timeline_chains_the_plan_and_keeps_every_round(engine: Engine) -> None:
    case = build_puskesmas(engine)
    timeline = case_timeline(engine, SOP, CALENDAR, case.id)
    assert timeline is not None and timeline.start == d(10, 5)
    steps = {s.number: s for s in timeline.steps}
    assert sorted(steps) == [n for n in range(1, 18) if n != 7]
    assert (steps[2].planned_start, steps[2].planned_end) == (d(10, 5), d(10, 6))
    assert (steps[5].planned_start, steps[5].planned_end) == (d(10, 6), d(10, 7))
    assert (steps[12].planned_start, steps[12].planned_end) == (d(10, 8), d(11, 26))
    assert steps[13].planned_end == d(11, 27) and steps[14].planned_end == d(12, 1)
    assert [(r.start, r.end) for r in steps[9].rounds] == [(d(10, 12), d(10, 13)),
                                                           (d(10, 14), d(10, 16))]
    assert [(r.start, r.end) for r in steps[12].rounds] == [(d(10, 19), d(11, 13)),
                                                            (d(11, 17), None)]
    assert steps[1].rounds[0].end == d(10, 5) and steps[2].rounds[0].start == d(10, 5)
    assert (steps[9].met, steps[12].met, steps[13].met, steps[14].met) == (False, True, True,
                                                                           True)
    assert steps[11].met is None and steps[15].rounds == ()
    assert steps[12].standard == "maks. 35 hari kerja"
    assert timeline.last_day(NOV_30) == d(12, 1)


def test_a_refused_case_ends_at_step_7(engine: Engine) -> None:
    case = build_refused(engine)
    timeline = case_timeline(engine, SOP, CALENDAR, case.id)
    assert timeline is not None
    assert [s.number for s in timeline.steps] == [1, 2, 3, 4, 5, 6, 7]
    assert case_timeline(engine, SOP, CALENDAR, 999) is None


def test_the_october_recap_counts_rounds_and_medians(engine: Engine) -> None:
    build_puskesmas(engine)
    recap = {r.step: r for r in monthly_recap(engine, SOP, CALENDAR, "2026-10")}
    assert sorted(recap) == list(range(1, 18))
    assert (recap[9].completed, recap[9].met, recap[9].median_hari_kerja) == (2, 1, 1.5)
    assert (recap[11].completed, recap[11].met, recap[11].median_hari_kerja) == (2, None, 0.5)
    assert (recap[2].completed, recap[2].met, recap[2].median_hari_kerja) == (1, 1, 1)
    assert recap[12].completed == 0 and recap[12].median_hari_kerja is None


def test_the_november_recap_judges_development_on_all_its_rounds(engine: Engine) -> None:
    build_puskesmas(engine)
    build_refused(engine)
    build_bappeda(engine)
    recap = {r.step: r for r in monthly_recap(engine, SOP, CALENDAR, "2026-11")}
    assert (recap[12].completed, recap[12].met, recap[12].median_hari_kerja) == (1, 1, 19)
    # 13 -> 16 November: Jumat + 1 hari is Sabtu, due on the next working day, so met.
    assert (recap[13].completed, recap[13].met) == (1, 1)
    assert (recap[14].completed, recap[14].met) == (1, 1)
    assert (recap[2].completed, recap[2].met) == (1, 1)  # SI Gizi; E-Planning is still there
    assert (recap[7].completed, recap[7].met) == (1, None)


def test_csv_and_svg(engine: Engine) -> None:
    build_puskesmas(engine)
    recap = monthly_recap(engine, SOP, CALENDAR, "2026-10")
    lines = recap_csv("2026-10", recap).splitlines()
    assert lines[0] == ",".join(CSV_HEADER) and len(lines) == 18
    assert lines[9] == "2026-10,9,Penyusunan rencana pengembangan aplikasi,1 hari kerja,2,1,1.5"
    assert lines[11] == "2026-10,11,Tanggapan OPD atas rencana pengembangan,,2,,0.5"
    svg = recap_svg("2026-10", recap)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Oktober 2026" in svg and svg.count('class="recap-row"') == 17
    assert 'data-step="9" data-completed="2"' in svg and "median 1,5 hk" in svg


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "November", "", "2026-00", "２０２６-11"])
def test_a_malformed_month_is_refused(text: str) -> None:
    with pytest.raises(ReportError, match="YYYY-MM"):
        parse_month(text)


def test_month_bounds() -> None:
    assert parse_month("2026-02") == (d(2, 1), d(2, 28))
    assert parse_month("2026-12") == (d(12, 1), d(12, 31))


def test_the_report_command_prints_and_writes_the_recap(
        tmp_path: Path, env: None) -> None:
    import click
    from click.testing import CliRunner

    from connector.cli import report_commands
    from tests.conftest import write_config

    config = write_config(tmp_path)
    built = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_all(built)
    build_puskesmas(built)
    built.dispose()
    group = click.Group("sop-connector")
    report_commands.register(group)
    out_csv, out_svg = tmp_path / "rekap.csv", tmp_path / "rekap.svg"
    result = CliRunner().invoke(group, ["report", "--config", str(config), "--month", "2026-10",
                                        "--csv", str(out_csv), "--svg", str(out_svg)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Rekap Oktober 2026 — SOP 555/568/DKIST/2021")
    assert lines[1].split() == ["Langkah", "Selesai", "Sesuai", "Median", "Judul"]
    assert lines[10].split()[:4] == ["9", "2", "1", "1,5"]
    recap = monthly_recap_of(tmp_path, "2026-10")
    assert out_csv.read_bytes() == recap_csv("2026-10", recap).encode()
    assert out_svg.read_text().startswith("<svg") and "Oktober 2026" in out_svg.read_text()
    bad = CliRunner().invoke(group, ["report", "--config", str(config), "--month", "11-2026"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def monthly_recap_of(tmp_path: Path, month: str) -> list[StepRecap]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        return monthly_recap(engine, SOP, CALENDAR, month)
    finally:
        engine.dispose()
