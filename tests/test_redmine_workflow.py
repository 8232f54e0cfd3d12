"""Issue 4 acceptance, against the real Redmine, acting as each role's own user."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.services import Services
from connector.store import audit
from connector.store.schema import CaseStatus
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine


@pytest.fixture
def services(redmine_settings: Settings) -> Any:
    built = bootstrap(redmine_settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(services: Services, redmine: Any) -> CaseDriver:
    from webhooks import create_app

    return CaseDriver(services, redmine, create_app(services).test_client())


def _trail(driver: CaseDriver) -> list[audit.AuditEntry]:
    with driver.services.engine.connect() as conn:
        return audit.list_audit(conn, driver.case().id)


def test_the_happy_path_from_letter_to_step_17(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
    case = driver.case()
    assert case.status is CaseStatus.CLOSED
    parent = driver.parent()
    assert parent.status.name == "Closed"
    children = {c.id for c in parent.children}
    assert len(children) == 16  # every main-path step; 7 was never needed
    completed = [(e.step_from, e.actor) for e in _trail(driver) if e.action == "step_completed"]
    assert completed == [
        (2, "kadis"),
        (3, "kabid"),
        (4, "kasi"),
        (5, "kasi"),
        (6, "kabid"),
        (8, "kasi"),
        (9, "dev1"),
        (10, "dev1"),
        (11, "opd1"),
        (12, "dev1"),
        (13, "dev1"),
        (14, "opd1"),
        (15, "dev1"),
        (16, "kabid"),
        (17, "kadis"),  # dev1 attached the Berita Acara; the last to know it completes 17
    ]
    known = [(e.actor, e.step_from) for e in _trail(driver) if e.action == "step_acknowledged"]
    assert known == [("opd1", 17), ("kadis", 17)]
    assert all(driver.remote(n).status.name == "Closed" for n in (2, 9, 17))
    team = [e.detail for e in _trail(driver) if e.action == "team_recorded"]
    assert team == [{"logins": ["dev1", "dev2"], "names": ["Pengembang Satu", "Pengembang Dua"]}]
    # The step after the team was formed is held by the team: step 9 assigned to dev1.
    assert driver.remote(9).assigned_to.name == "Pengembang Satu"


def test_refusal_at_6_activates_7_and_ends_the_case_rejected(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran TA 2026 tidak tersedia.",
               findings=("Anggaran",))
    driver.sync(6)
    case = driver.case()
    assert case.current_step == 7 and case.status is CaseStatus.OPEN
    seven = driver.remote(7)
    assert seven.status.name == "In Progress" and seven.assigned_to.name == "Bidang TI"
    assert driver.remote(8).status.name == "Rejected"
    driver.act(7)
    driver.sync(7)
    assert driver.case().status is CaseStatus.REJECTED
    assert driver.parent().status.name == "Rejected"


def test_two_replans_and_one_rework_then_acceptance(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10])
    for _ in range(2):
        driver.act(11, status="Rejected", notes="Alur bisnis belum sesuai.")
        driver.sync(11)
        assert driver.case().current_step == 9
        assert driver.remote(10).status.name == "New"
        driver.walk([9, 10])
    driver.walk([11, 12, 13])
    driver.act(14, status="Rejected", notes="Laporan pengujian belum lengkap.")
    driver.sync(14)
    assert driver.case().current_step == 12
    driver.walk([12, 13, 14, 15, 16, 17])
    assert driver.case().status is CaseStatus.CLOSED
    trail = _trail(driver)
    loops = Counter(e.step_from for e in trail if e.action == "loop")
    assert loops == {11: 2, 14: 1}
    completed = [e.step_from for e in trail if e.action == "step_completed"]
    assert completed == [
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        11,
        9,
        10,
        11,
        9,
        10,
        11,
        12,
        13,
        14,
        12,
        13,
        14,
        15,
        16,
        17,
    ]
    notes = " ".join(j.notes or "" for j in driver.parent().journals)
    assert "revisi rencana ke-2" in notes and "pengerjaan ulang ke-1" in notes


def test_a_wrong_role_and_a_missing_document_are_put_back(driver: CaseDriver) -> None:
    driver.open()
    driver.act(2, "kabid")
    driver.sync(2)
    two = driver.remote(2)
    assert two.status.name == "In Progress"
    assert (
        "kadis" in list(two.journals)[-1].notes and "Kepala Dinas" in list(two.journals)[-1].notes
    )
    assert driver.case().current_step == 2
    driver.walk([2, 3, 4])
    driver.act(5, attach=False)
    driver.sync(5)
    five = driver.remote(5)
    assert five.status.name == "In Progress"
    assert "Laporan Hasil Analisis" in list(five.journals)[-1].notes
    assert driver.case().current_step == 5
    refusals = [e.step_from for e in _trail(driver) if e.action == "completion_refused"]
    assert refusals == [2, 5]


def test_the_same_change_seen_many_times_is_processed_once(driver: CaseDriver) -> None:
    driver.open()
    driver.act(2)
    for _ in range(50):
        driver.sync(2)
    trail = _trail(driver)
    assert [e.step_from for e in trail if e.action == "step_completed"] == [2]
    parent_notes = [j.notes for j in driver.parent().journals if j.notes]
    assert len([n for n in parent_notes if "Langkah 2" in n]) == 1
    assert driver.case().current_step == 3


WEBHOOK_SECRET = "redmine-webhook-secret-0123456789abcdef"


@pytest.fixture
def hooked(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Any:
    """A driver whose service also accepts redmine_webhook plugin hints."""
    from connector.config import load_settings
    from tests.conftest import INTAKE_TOKEN, write_config
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_REDMINE_HOOK", WEBHOOK_SECRET)
    path = write_config(
        tmp_path, redmine_url=redmine.url, extra='redmine_secret_env = "SOP_TEST_REDMINE_HOOK"\n'
    )
    services = bootstrap(load_settings(path))
    yield CaseDriver(services, redmine, create_app(services).test_client())
    services.engine.dispose()


def _plugin_hint(driver: CaseDriver, step: int) -> Any:
    """What the redmine_webhook plugin posts after a change (only the id is trusted)."""
    issue = driver.remote(step)
    journal = list(issue.journals)[-1]
    body = {
        "payload": {
            "action": "updated",
            "url": f"{driver.server.url}/issues/{issue.id}",
            "issue": {
                "id": issue.id,
                "subject": issue.subject,
                "status": {"id": issue.status.id, "name": issue.status.name},
            },
            "journal": {"id": journal.id, "notes": journal.notes or "", "details": []},
        }
    }
    return driver.client.post(f"/webhooks/redmine/{WEBHOOK_SECRET}", json=body)


def test_a_change_seen_by_the_poller_and_by_webhooks_is_processed_once(hooked: CaseDriver) -> None:
    from connector.sync.poll import poll_once

    hooked.open()
    hooked.act(2, notes="Mohon ditindaklanjuti.")
    answers = {_plugin_hint(hooked, 2).status_code for _ in range(50)}
    assert answers <= {200, 202}
    assert poll_once(hooked.services) >= 1
    hooked.drain()
    completed = [e.step_from for e in _trail(hooked) if e.action == "step_completed"]
    assert completed == [2]
    assert hooked.case().current_step == 3
    notes = [j.notes for j in hooked.parent().journals if j.notes and "Langkah 2" in j.notes]
    assert len(notes) == 1


def test_a_change_made_while_the_service_was_stopped_is_picked_up_by_the_next_poll(
    driver: CaseDriver,
) -> None:
    from connector.sync.poll import poll_once

    driver.open()
    poll_once(driver.services)
    driver.drain()  # the service is up to date; now it "stops"
    driver.act(2)  # ... and the Kepala Dinas works meanwhile, sending no hint
    assert driver.case().current_step == 2
    assert poll_once(driver.services) >= 1  # the service is back: the next poll sees it
    driver.drain()
    assert driver.case().current_step == 3


def test_an_overdue_step_is_noted_once_and_escalated_in_redmine(driver: CaseDriver) -> None:
    from datetime import timedelta

    from connector.deadlines.check import check_deadlines
    from connector.store import cases

    driver.open()
    driver.walk([2, 3, 4])
    [five] = cases.list_case_steps(driver.services.engine, driver.case().id, only=5)
    assert five.due_on is not None
    late = five.due_on + timedelta(days=7)
    for _ in range(2):
        check_deadlines(driver.services, late)
    issue = driver.api("admin").issue.get(driver.step_issue(5),
                                          include=["journals", "watchers"])
    notes = [j.notes for j in issue.journals if j.notes and "Terlambat" in j.notes]
    assert len(notes) == 1 and "Kepala Bidang TI (kabid)" in notes[0]
    assert "Kepala Bidang" in {w.name for w in issue.watchers}
