"""Issue 17: a worker killed (SIGKILL) while mailing never makes the OPD get a mail twice.

What the design guarantees (connector/store/mail.py): per (document, recipient), the SMTP
server is handed the message at most once unless a person resends it, and exactly once
unless the worker dies between marking the mail ``attempted`` (just before DATA) and
recording ``sent``. A mail caught in that window becomes ``uncertain``: not sent again, its
job dead with "status tidak pasti" in ``sop-connector jobs list`` and ``mail list``, until
``sop-connector mail resend``. These tests kill a real worker process at both points.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from connector.cli import main
from connector.intake.open_case import open_case
from connector.store import audit
from connector.store.kinds import OPEN_CASE
from connector.store.schema import JobStatus, MailState
from connector.store.schema import jobs as job_rows
from tests.fault_worker import save
from tests.gitlab_stubs import FakeGitLab
from tests.test_mail import Office, office  # noqa: F401  (the fixture)
from tests.worker_process import run_fault_worker

pytestmark = [
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
]


def _opened(o: Office, tmp_path: Path) -> tuple[int, Path]:
    """A letter whose case is opened here, its receipt queued but not yet mailed."""
    case_id = o.intake()
    open_case(o.services, case_id)
    with o.services.engine.begin() as conn:
        conn.execute(update(job_rows).where(job_rows.c.kind == OPEN_CASE)
                     .values(status=JobStatus.DONE.value))
    state = tmp_path / "gitlab.pickle"
    save(FakeGitLab(users=()), state)
    return case_id, state


def _cli(o: Office, *args: str) -> str:
    done = CliRunner().invoke(main, ["--config", str(o.config), *args])
    assert done.exit_code == 0, done.output
    return done.output


def test_killed_after_the_server_took_the_mail_it_is_not_sent_again(
        office: Callable[..., Office], tmp_path: Path) -> None:  # noqa: F811
    o = office(opd_email=False)
    assert o.server is not None
    case_id, state = _opened(o, tmp_path)
    ended = run_fault_worker(o.config, state, "mail.after_data")
    assert ended.killed_at == "mail.after_data", ended.output
    assert len(o.server.received) == 1  # the server has it; the store does not know yet
    [row] = o.mail()
    assert row.state is MailState.ATTEMPTED

    o.drain(hours=1)  # the killed worker's lease runs out; another worker redoes the job
    assert len(o.server.received) == 1  # not sent twice
    [row] = o.mail()
    assert row.state is MailState.UNCERTAIN
    [job] = o.mail_jobs()
    assert job.status is JobStatus.DEAD and "status tidak pasti" in (job.last_error or "")
    assert "status tidak pasti" in _cli(o, "jobs", "list")
    assert "status tidak pasti" in _cli(o, "mail", "list", "--state", "uncertain")
    actions = [e.action for e in audit.list_audit(o.services.engine, case_id)
               if e.action.startswith("mail_")]
    assert actions == ["mail_uncertain"]
    o.drain(hours=2)
    assert len(o.server.received) == 1

    # A person who checked with the OPD decides to resend: one more copy, the same Message-ID.
    assert "diantrekan lagi" in _cli(o, "mail", "resend", str(row.id))
    o.drain(hours=3)
    assert len(o.server.received) == 2
    first, second = (r.message["Message-ID"] for r in o.server.received)
    assert first == second == row.message_id
    [row] = o.mail()
    assert row.state is MailState.SENT and row.resends == 1
    actions = [e.action for e in audit.list_audit(o.services.engine, case_id)
               if e.action.startswith("mail_")]
    assert actions == ["mail_uncertain", "mail_resend_requested", "mail_sent"]


def test_killed_before_data_it_is_not_sent_by_the_retry_either(
        office: Callable[..., Office], tmp_path: Path) -> None:  # noqa: F811
    o = office(opd_email=False)
    assert o.server is not None
    _, state = _opened(o, tmp_path)
    ended = run_fault_worker(o.config, state, "mail.after_attempt_marked")
    assert ended.killed_at == "mail.after_attempt_marked", ended.output
    assert o.server.received == []
    o.drain(hours=1)
    assert o.server.received == []  # at most once: the window is not guessed at
    [row] = o.mail()
    assert row.state is MailState.UNCERTAIN


def test_a_worker_process_that_is_not_killed_sends_each_mail_once(
        office: Callable[..., Office], tmp_path: Path) -> None:  # noqa: F811
    o = office()
    assert o.server is not None
    _, state = _opened(o, tmp_path)
    ended = run_fault_worker(o.config, state, None)
    assert ended.exitcode == 0, ended.output
    assert len(o.server.received) == 2
    o.drain(hours=1)
    assert len(o.server.received) == 2
    assert {m.state for m in o.mail()} == {MailState.SENT}
