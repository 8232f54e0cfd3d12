"""Issue 15 acceptance: the store lost, or an older backup restored, is rebuilt from Redmine.

Each time, the service restarts as ``serve`` does (recovery first, then the poll and the
worker) and the case finishes: one Berita Acara, no note written twice nor a false one, no
case adopted again, and the trail complete and in order.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.recovery.rebuild import plan, recover_at_start
from connector.services import Services
from connector.store import audit, cases
from connector.store.schema import CaseStatus
from connector.sync.poll import poll_once
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
UP_TO_12 = [2, 3, 4, 5, 6, 8, 9, 10, 11]
FROM_12 = [12, 13, 14, 15, 16, 17]
ALL_STEPS = [*UP_TO_12, *FROM_12]


@pytest.fixture(scope="module")
def redmine() -> Any:
    """A Redmine of this module's own: a rebuild reads every case of the project, so the cases
    other test files leave half-done in a shared Redmine would be rebuilt too.
    """
    from tests.redmine_server import start_redmine_server

    server = start_redmine_server()
    yield server
    server.destroy()


@pytest.fixture
def services(redmine_settings: Settings) -> Any:
    built = bootstrap(redmine_settings)
    yield built
    built.engine.dispose()


def _driver(services: Services, server: Any, key: str = "") -> CaseDriver:
    from webhooks import create_app

    return CaseDriver(services, server, create_app(services).test_client(), key)


def _store_path(settings: Settings) -> Path:
    return Path(settings.database.url.removeprefix("sqlite:///"))


def _restart_on(settings: Settings, url: str, server: Any, key: str) -> CaseDriver:
    """The service started again on the store at ``url``: recovery, one poll, the worker."""
    services = bootstrap(replace(settings, database=replace(settings.database, url=url)))
    recover_at_start(services)
    driver = _driver(services, server, key)
    poll_once(services)
    driver.drain()
    return driver


def _service_notes(driver: CaseDriver) -> list[str]:
    """Every note the service wrote on the case's issues."""
    api = driver.api("admin")
    bot = api.user.get("current").login
    ids = [driver.case().redmine_issue_id, *(c.id for c in driver.parent().children)]
    notes = []
    for issue_id in ids:
        for journal in api.issue.get(issue_id, include=["journals"]).journals:
            if getattr(journal, "user", None) and journal.notes and \
                    api.user.get(journal.user.id).login == bot:
                notes.append(f"#{issue_id}: {journal.notes}")
    return notes


TRAIL = {"step_completed", "step_activated", "loop", "completion_refused", "team_recorded",
         "step_cancelled", "case_closed"}


def _history(driver: CaseDriver) -> list[tuple[Any, ...]]:
    """The case's trail as the workflow wrote it: who did what, from and to which step."""
    with driver.services.engine.connect() as conn:
        trail = audit.list_audit(conn, driver.case().id)
    keep = ("start", "due", "assignee", "outcome", "on", "times", "logins", "reason")
    return [(e.action, e.step_from, e.step_to, e.actor, e.journal_id,
             {k: v for k, v in (e.detail or {}).items() if k in keep})
            for e in trail if e.action in TRAIL]


def _completions(driver: CaseDriver) -> list[tuple[int | None, str]]:
    with driver.services.engine.connect() as conn:
        trail = audit.list_audit(conn, driver.case().id)
    return [(e.step_from, e.actor) for e in trail if e.action == "step_completed"]


def _finish_and_check(driver: CaseDriver, original: list[tuple[int | None, str]],
                      notes_before: list[str], steps: list[int] = ALL_STEPS,
                      looped: tuple[int, ...] = ()) -> None:
    """Nothing was written by the restart; the case then finishes as if nothing happened."""
    assert driver.case().current_step == 12 and driver.case().status is CaseStatus.OPEN
    assert _service_notes(driver) == notes_before  # no note, no status put back
    assert _completions(driver) == original
    todo = plan(driver.services)  # other tests' cases share this Redmine
    assert driver.key not in {i.key for i in todo.missing}
    assert driver.key not in {c.case_key for c in todo.behind}
    driver.walk(FROM_12)
    assert driver.case().status is CaseStatus.CLOSED
    assert [step for step, _ in _completions(driver)] == steps
    notes = _service_notes(driver)
    # A step done twice (a re-plan) is activated twice; nothing else is written twice.
    twice = {f"#{driver.step_issue(step)}:" for step in looped}
    assert [n for n, times in Counter(notes).items()
            if times > 1 and not (times == 2 and n.split(" ", 1)[0] in twice)] == []
    assert not any("Status dikembalikan" in n for n in notes)
    names = [a.filename for a in driver.api("admin").issue.get(
        driver.case().redmine_issue_id, include=["attachments"]).attachments]
    assert len(names) == len(set(names))
    assert len([n for n in names if "berita" in n.lower() and n.endswith(".pdf")]) <= 1
    assert len(driver.parent().children) == 16  # no case opened again


def test_a_lost_store_is_rebuilt_from_redmine_and_the_case_finishes(
        services: Services, redmine: Any, tmp_path: Path) -> None:
    driver = _driver(services, redmine)
    driver.open()
    driver.act(2, "kabid")  # the wrong person: put back, and in the trail as refused
    driver.sync(2)
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10])
    driver.act(11, status="Rejected", notes="Alur bisnis belum sesuai.")  # a re-plan
    driver.sync(11)
    driver.walk([9, 10, 11])
    original, notes_before = _completions(driver), _service_notes(driver)
    history = _history(driver)
    assert [h[0] for h in history].count("completion_refused") == 1
    assert [h[0] for h in history].count("loop") == 1

    fresh = _restart_on(services.settings, f"sqlite:///{tmp_path / 'lost.sqlite3'}", redmine,
                        driver.key)
    try:
        assert fresh.case().redmine_issue_id == driver.case().redmine_issue_id
        assert _history(fresh) == history  # who, what, when, from and to: all of it, in order
        steps = {s.step: s for s in cases.list_case_steps(fresh.services.engine,
                                                          fresh.case().id)}
        for row in cases.list_case_steps(services.engine, driver.case().id):
            assert (steps[row.step].state, steps[row.step].started_on, steps[row.step].due_on,
                    steps[row.step].completed_on, steps[row.step].redmine_issue_id) == (
                row.state, row.started_on, row.due_on, row.completed_on, row.redmine_issue_id)
        _finish_and_check(fresh, original, notes_before, steps=[
            2, 3, 4, 5, 6, 8, 9, 10, 11, 9, 10, *UP_TO_12[-1:], *FROM_12], looped=(9, 10, 11))
    finally:
        fresh.services.engine.dispose()


def test_an_older_backup_catches_up_with_redmine_and_the_case_finishes(
        services: Services, redmine: Any, tmp_path: Path) -> None:
    driver = _driver(services, redmine)
    driver.open()
    driver.walk([2, 3, 4])
    backup = tmp_path / "backup-at-step-5.sqlite3"
    with sqlite3.connect(_store_path(services.settings)) as source, \
            sqlite3.connect(backup) as copy:
        source.backup(copy)
    assert driver.case().current_step == 5
    driver.walk([5, 6, 8, 9, 10, 11])
    original, notes_before = _completions(driver), _service_notes(driver)

    restored = _restart_on(services.settings, f"sqlite:///{backup}", redmine, driver.key)
    try:
        _finish_and_check(restored, original, notes_before)
    finally:
        restored.services.engine.dispose()


def test_cases_rebuild_says_what_it_would_do_and_refuses_a_store_in_use(
        services: Services, redmine: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from connector.cli import main
    from tests.conftest import INTAKE_TOKEN

    driver = _driver(services, redmine)
    driver.open()  # the store knows this case; Redmine may hold others it does not know
    lost = _driver(bootstrap(replace(services.settings, database=replace(
        services.settings.database, url=f"sqlite:///{tmp_path / 'other.sqlite3'}"))), redmine)
    lost.open()  # a case only another store knows
    lost.services.engine.dispose()
    config = tmp_path / "config.toml"  # written by the redmine_settings fixture: this store
    env = {"SOP_TEST_REDMINE_KEY": redmine.admin_key, "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN}
    run = lambda *a: CliRunner().invoke(  # noqa: E731
        main, ["cases", "rebuild", *a, "--config", str(config)], env=env)

    refused = run()
    assert refused.exit_code == 1
    assert f"dibangun ulang dari Redmine: {lost.key}" in refused.output
    assert driver.key not in refused.output and "--yes" in refused.output
    assert cases_known(services) == {driver.key}

    done = run("--yes")
    assert done.exit_code == 0, done.output
    assert lost.key in cases_known(services)
    again = run()
    assert again.exit_code == 0 and "tidak ada yang dibangun ulang" in again.output, again.output


def cases_known(services: Services) -> set[str]:
    from sqlalchemy import select

    from connector.store.schema import cases as case_rows

    with services.engine.connect() as conn:
        return set(conn.execute(select(case_rows.c.case_key)).scalars())


def test_a_second_rebuild_finds_nothing_after_a_stray_close_of_a_later_step(
        services: Services, redmine: Any, tmp_path: Path) -> None:
    """A person closed a later step's subtask while the service was away: ``cases rebuild``
    leaves that close to ``sync_issue`` and says so once, not "diperbarui" on every run
    (``plan`` and ``catch_up`` ask the same question)."""
    from click.testing import CliRunner

    from connector.cli import main
    from tests.conftest import INTAKE_TOKEN

    driver = _driver(services, redmine)
    driver.open()
    driver.walk([2, 3, 4])
    driver.act(9, "dev1")  # out of order, and no sync: Redmine shows step 9 closed
    config = tmp_path / "config.toml"
    env = {"SOP_TEST_REDMINE_KEY": redmine.admin_key, "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN}
    run = lambda *a: CliRunner().invoke(  # noqa: E731
        main, ["cases", "rebuild", *a, "--config", str(config)], env=env)

    first = run("--yes")  # restores whatever other tests left in this Redmine
    assert first.exit_code == 0, first.output
    assert f"diperbarui dari Redmine: {driver.key}" not in first.output
    again = run()
    assert again.exit_code == 0 and "tidak ada yang dibangun ulang" in again.output, again.output
    assert driver.case().current_step == 5  # the stray close is sync_issue's to refuse


def test_acknowledgements_at_step_17_survive_a_lost_store(
        services: Services, redmine: Any, tmp_path: Path) -> None:
    """Issue 16: the OPD's acknowledgement is its own journal in Redmine; a rebuilt store
    knows it, and the case still waits for the Kepala Dinas only."""
    from connector.sop.model import Role

    driver = _driver(services, redmine)
    driver.open()
    driver.walk([*UP_TO_12, 12, 13, 14, 15, 16])
    driver.act(17, attach=True)  # without [documents]: the Tim Pengembang attaches the BA
    driver.sync(17)
    driver.act(17, "opd1", attach=False)
    driver.sync(17)
    assert driver.awaiting() == {Role.OPD_PEMOHON: "opd1"}
    notes_before = _service_notes(driver)
    with driver.services.engine.connect() as conn:
        known = [(e.actor, e.journal_id, e.detail) for e in audit.list_audit(
            conn, driver.case().id) if e.action == "step_acknowledged"]
    assert len(known) == 1

    fresh = _restart_on(services.settings, f"sqlite:///{tmp_path / 'lost.sqlite3'}", redmine,
                        driver.key)
    try:
        assert fresh.awaiting() == {Role.OPD_PEMOHON: "opd1"}
        with fresh.services.engine.connect() as conn:
            again = [(e.actor, e.journal_id, e.detail) for e in audit.list_audit(
                conn, fresh.case().id) if e.action == "step_acknowledged"]
        assert again == known
        assert _service_notes(fresh) == notes_before  # nothing written, nothing put back
        [row] = cases.list_case_steps(fresh.services.engine, fresh.case().id, only=17)
        [old] = cases.list_case_steps(services.engine, driver.case().id, only=17)
        assert (row.state, row.due_on) == (old.state, old.due_on)
        fresh.act(17, "kadis", attach=False)
        fresh.sync(17)
        assert fresh.case().status is CaseStatus.CLOSED
        assert _completions(fresh)[-1] == (17, "kadis")
    finally:
        fresh.services.engine.dispose()
