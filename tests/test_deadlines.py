"""check-deadlines: each threshold once, on the right day; overdue escalates; quiet days cost
no Redmine call. Dates are real 2026 ones: step 12 from Senin 16 Maret is due Rabu 13 Mei."""

from __future__ import annotations

from datetime import date

import pytest

from connector.deadlines.check import check_deadlines
from connector.handlers import handlers_for
from connector.services import Services
from connector.store import cases, jobs
from connector.store.schema import CaseStatus, StepState
from connector.workflow.engine import CaseView, due_on
from connector.workflow.policy import policy_for
from tests.conftest import auth, sample_letter
from tests.fakes import FakeTracker

START, DUE = date(2026, 3, 16), date(2026, 5, 13)


def _case_in_development(client, services: Services, nomor: str = "1/DINKES/2026") -> int:
    answer = client.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    case_id = int(answer.get_json()["case_id"])
    jobs.drain(services.engine, handlers_for(services), "w")
    with services.engine.begin() as conn:
        cases.upsert_case_step(conn, case_id, 2, state=StepState.DONE, completed_on=START)
        cases.upsert_case_step(conn, case_id, 12, state=StepState.ACTIVE, started_on=START,
                               due_on=DUE)
        cases.set_case_status(conn, case_id, CaseStatus.OPEN, current_step=12)
    return case_id


def _step_issue(services: Services, case_id: int, step: int) -> int:
    [row] = cases.list_case_steps(services.engine, case_id, only=step)
    assert row.redmine_issue_id is not None
    return row.redmine_issue_id


@pytest.mark.parametrize("today, level, left", [
    (date(2026, 4, 28), "10", 10),  # 29, 30 April; 4-8, 11-13 Mei
    (date(2026, 5, 6), "5", 5),     # 7, 8, 11, 12, 13 Mei
    (date(2026, 5, 12), "1", 1),
])
def test_each_threshold_is_written_once_on_its_day(
        client, services: Services, fake_tracker: FakeTracker, today: date, level: str,
        left: int) -> None:
    case_id = _case_in_development(client, services)
    before_day = check_deadlines(services, date(2026, 4, 27))
    assert [a.level for a in before_day.alerts] == []
    report = check_deadlines(services, today)
    assert [(a.level, a.left) for a in report.alerts] == [(level, left)]
    notes = fake_tracker.issues[_step_issue(services, case_id, 12)].notes
    assert notes[-1].startswith("*Pengingat:*") and f"sisa {left} hari kerja" in notes[-1]
    calls = fake_tracker.calls
    again = check_deadlines(services, today)
    assert again.alerts == [] and again.remaining_updated == 0
    assert fake_tracker.calls == calls  # nothing new: not a single Redmine call


def test_a_late_check_writes_only_the_most_urgent_threshold(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    case_id = _case_in_development(client, services)
    report = check_deadlines(services, date(2026, 5, 8))  # 3 left: 10 and 5 both crossed
    assert [a.level for a in report.alerts] == ["5"]
    assert check_deadlines(services, date(2026, 5, 11)).alerts == []  # 2 left
    assert [a.level for a in check_deadlines(services, date(2026, 5, 12)).alerts] == ["1"]
    notes = fake_tracker.issues[_step_issue(services, case_id, 12)].notes
    assert len([n for n in notes if "Pengingat" in n]) == 2


def test_overdue_is_reported_once_and_escalated_to_the_kasi(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    case_id = _case_in_development(client, services)
    # Kamis 14 Mei is Kenaikan Yesus Kristus and Jumat 15 Mei cuti bersama: Senin 18 Mei is
    # the first working day after the due date.
    report = check_deadlines(services, date(2026, 5, 18))
    [alert] = report.alerts
    assert (alert.level, alert.left) == ("terlambat", -1)
    issue = fake_tracker.issues[_step_issue(services, case_id, 12)]
    assert issue.watchers == {"kasi"}
    assert "terlambat 1 hari kerja" in issue.notes[-1] and "kasi" in issue.notes[-1]
    assert check_deadlines(services, date(2026, 5, 19)).alerts == []


def test_remaining_days_are_kept_on_the_case(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    case_id = _case_in_development(client, services)
    case = cases.get_case(services.engine, case_id)
    assert case is not None and case.redmine_issue_id is not None
    parent = fake_tracker.issues[case.redmine_issue_id]
    check_deadlines(services, date(2026, 5, 6))
    assert parent.fields["remaining_hari_kerja"] == ("5",)
    assert check_deadlines(services, date(2026, 5, 6)).remaining_updated == 0
    check_deadlines(services, date(2026, 5, 7))
    assert parent.fields["remaining_hari_kerja"] == ("4",)


def test_steps_without_time_standard_or_closed_cases_are_ignored(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    case_id = _case_in_development(client, services)
    with services.engine.begin() as conn:
        cases.set_case_status(conn, case_id, CaseStatus.CLOSED)
    assert check_deadlines(services, date(2026, 12, 1)).alerts == []


def _case_at_step(client, services: Services, step: int, started: date, due: date,
                  nomor: str = "13/DINKES/2026") -> int:
    answer = client.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    case_id = int(answer.get_json()["case_id"])
    jobs.drain(services.engine, handlers_for(services), "w")
    with services.engine.begin() as conn:
        cases.upsert_case_step(conn, case_id, 2, state=StepState.DONE, completed_on=started)
        cases.upsert_case_step(conn, case_id, step, state=StepState.ACTIVE, started_on=started,
                               due_on=due)
        cases.set_case_status(conn, case_id, CaseStatus.OPEN, current_step=step)
    return case_id


@pytest.mark.parametrize("started, due", [
    (date(2026, 11, 20), date(2026, 11, 23)),  # Jumat: "1 hari" is due Senin, not Sabtu
    (date(2026, 6, 15), date(2026, 6, 17)),    # Senin before 1 Muharam: due Rabu
])
def test_step_13_one_hari_is_due_on_the_next_working_day(
        services: Services, started: date, due: date) -> None:
    view = CaseView(opd="DINKES", current_step=12)
    assert due_on(services.sop.step(13), view, policy_for(services), services.calendar,
                  started) == due


def test_step_13_from_a_friday_is_quiet_over_the_weekend_then_late_in_hari(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    friday, monday = date(2026, 11, 20), date(2026, 11, 23)
    case_id = _case_at_step(client, services, 13, friday, monday)
    for day in (date(2026, 11, 21), date(2026, 11, 22), monday):  # Sabtu, Minggu, the due day
        assert check_deadlines(services, day).alerts == []
    [alert] = check_deadlines(services, date(2026, 11, 24)).alerts
    assert (alert.level, alert.left) == ("terlambat", -1)
    issue = fake_tracker.issues[_step_issue(services, case_id, 13)]
    assert "melewati batas waktu 2026-11-23 (mutu baku 1 hari), terlambat 1 hari." \
        in issue.notes[-1]
    assert "hari kerja" not in issue.notes[-1]
    assert issue.watchers == {"kasi"}


def test_a_step_13_due_date_stored_on_a_saturday_counts_from_monday(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    """A step activated before the rule: its stored due date (Sabtu) is read as Senin."""
    case_id = _case_at_step(client, services, 13, date(2026, 11, 20), date(2026, 11, 21))
    for day in (date(2026, 11, 22), date(2026, 11, 23)):
        assert check_deadlines(services, day).alerts == []
    [alert] = check_deadlines(services, date(2026, 11, 24)).alerts
    assert alert.step.due_on == date(2026, 11, 23) and alert.left == -1
    assert "batas waktu 2026-11-23" in fake_tracker.issues[
        _step_issue(services, case_id, 13)].notes[-1]


@pytest.mark.parametrize("holiday", [date(2026, 5, 16), date(2026, 5, 17)])
def test_no_escalation_on_a_day_off_it_waits_for_the_next_working_day(
        client, services: Services, fake_tracker: FakeTracker, holiday: date) -> None:
    case_id = _case_in_development(client, services)  # due Rabu 13 Mei; 14-17 Mei are off
    assert check_deadlines(services, date(2026, 5, 14)).alerts == []  # Kenaikan Yesus Kristus
    assert check_deadlines(services, holiday).alerts == []  # the weekend
    issue = fake_tracker.issues[_step_issue(services, case_id, 12)]
    assert issue.watchers == set() and not any("Terlambat" in n for n in issue.notes)
    [alert] = check_deadlines(services, date(2026, 5, 18)).alerts
    assert alert.level == "terlambat" and issue.watchers == {"kasi"}


def test_no_reminder_on_a_day_off(client, services: Services,
                                  fake_tracker: FakeTracker) -> None:
    """Sabtu 9 Mei has 3 hari kerja left (the 5 threshold): the reminder waits for Senin."""
    case_id = _case_in_development(client, services)
    assert check_deadlines(services, date(2026, 5, 9)).alerts == []
    assert [a.level for a in check_deadlines(services, date(2026, 5, 11)).alerts] == ["5"]
    notes = fake_tracker.issues[_step_issue(services, case_id, 12)].notes
    assert len([n for n in notes if "Pengingat" in n]) == 1


def _berita_acara_waiting(client, services: Services, due: date) -> int:
    """A case whose Berita Acara was drawn up on Senin 16 Maret and waits to be known."""
    answer = client.post("/webhooks/intake", json=sample_letter("2/DINKES/2026"), headers=auth())
    case_id = int(answer.get_json()["case_id"])
    jobs.drain(services.engine, handlers_for(services), "w")
    with services.engine.begin() as conn:
        cases.upsert_case_step(conn, case_id, 2, state=StepState.DONE, completed_on=START)
        cases.upsert_case_step(conn, case_id, 17, state=StepState.ACTIVE, started_on=START,
                               due_on=due)
        cases.set_case_status(conn, case_id, CaseStatus.OPEN, current_step=17)
    return case_id


def test_the_berita_acara_waiting_to_be_known_is_reminded_then_escalated(
        client, services: Services, fake_tracker: FakeTracker) -> None:
    """Step 17 has no SOP time standard; its wait has [sla] pengesahan_hari_kerja (5)."""
    assert services.settings.sla.pengesahan_hari_kerja == 5
    due = services.calendar.due_date(START, 5, "hari_kerja")
    assert due == date(2026, 3, 30)  # across Nyepi (Kamis 19 Maret) and its cuti bersama
    case_id = _berita_acara_waiting(client, services, due)
    issue = fake_tracker.issues[_step_issue(services, case_id, 17)]
    assert check_deadlines(services, date(2026, 3, 26)).alerts == []
    [reminder] = check_deadlines(services, date(2026, 3, 27)).alerts  # Jumat: 1 left
    assert (reminder.level, reminder.left) == ("1", 1)
    assert "mutu baku 5 hari kerja" in issue.notes[-1]
    [late] = check_deadlines(services, date(2026, 3, 31)).alerts
    assert late.level == "terlambat" and issue.watchers == {"kasi"}
    assert "Berita Acara Pekerjaan" in issue.notes[-1]


def test_the_acknowledgement_time_is_read_from_the_configuration(tmp_path, env: None) -> None:
    from connector.config import load_settings
    from connector.errors import ConfigError
    from tests.conftest import write_config

    def settings_with(line: str):
        config = write_config(tmp_path)
        text = config.read_text("utf-8")
        if "[sla]" in text:
            text = text.replace("[sla]", f"[sla]\n{line}", 1)
        else:
            text += f"\n[sla]\n{line}\n"
        config.write_text(text, "utf-8")
        return load_settings(config)

    assert settings_with("pengesahan_hari_kerja = 10").sla.pengesahan_hari_kerja == 10
    with pytest.raises(ConfigError, match="pengesahan_hari_kerja"):
        settings_with("pengesahan_hari_kerja = 0")
