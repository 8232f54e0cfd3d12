"""Issue 17, item 4: mail to the OPD through a real SMTP server (aiosmtpd) in the test run.

Over the fake tracker (the receipt touches Redmine only through ``open_case``, which the fake
stands in for here; tests/test_mail_redmine.py runs the same path against the real Redmine):
the receipt is queued with the case's commit and mailed once to each recipient, over
STARTTLS or TLS with AUTH; failures are retried or recorded; without ``[email]`` nothing
is sent; hostile header text stays inside its header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.config import load_settings
from connector.errors import ConfigError
from connector.handlers import handlers_for
from connector.intake.open_case import open_case
from connector.mail.queue import SURAT, queue_for_case
from connector.services import Services
from connector.store import audit, cases, jobs
from connector.store import mail as outbox
from connector.store.kinds import SEND_MAIL
from connector.store.mail import queue_mail
from connector.store.schema import CaseStatus, JobStatus, MailState, mail_outbox
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fakes import FakeTracker
from tests.smtp_server import SmtpServer, smtp_server

pytestmark = [
    # aiosmtpd's own warnings, in its server thread: SMTPS with AUTH (TLS throughout, but
    # aiosmtpd only counts STARTTLS as TLS) and its deprecated Session.login_data.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
]
OPD_EMAIL = 'email = "sekretariat@dinkes.sumbawakab.go.id"'
PASSWORD = "smtp-password-for-tests-0123"


class Office:
    """Services over the fake tracker, the intake app, and the SMTP server they mail to."""

    def __init__(self, services: Services, server: SmtpServer | None, config: Path) -> None:
        self.services = services
        self.server = server
        self.config = config
        self.client = _app(services)

    def intake(self, **changes: Any) -> int:
        answer = self.client.post("/webhooks/intake", json=sample_letter(**changes),
                                  headers=auth())
        assert answer.status_code in (200, 202), answer.get_json()  # 200: a resend
        return int(answer.get_json()["case_id"])

    def drain(self, *, hours: float = 0) -> int:
        later = lambda: datetime.now(UTC) + timedelta(hours=hours)  # noqa: E731
        return jobs.drain(self.services.engine, handlers_for(self.services), "w", clock=later)

    def mail(self) -> list[outbox.Mail]:
        return outbox.list_mail(self.services.engine)

    def mail_jobs(self) -> list[jobs.Job]:
        return [j for j in jobs.list_jobs(self.services.engine) if j.kind == SEND_MAIL]


def _app(services: Services) -> Any:
    from webhooks import create_app

    return create_app(services).test_client()


@pytest.fixture
def office(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Callable[..., Office]]:
    """``office(tls=..., password=..., email=True, opd_email=True)`` builds one."""
    monkeypatch.setenv("SOP_TEST_SMTP_PASSWORD", PASSWORD)
    with ExitStack() as stack:
        def build(*, tls: bool = False, implicit_tls: bool = False, password: str | None = None,
                  email: bool = True, opd_email: bool = True, client_password: str = PASSWORD,
                  running: bool = True, **extra: str) -> Office:
            server = stack.enter_context(smtp_server(
                tmp_path, tls=tls, implicit_tls=implicit_tls, password=password)) \
                if running else None
            monkeypatch.setenv("SOP_TEST_SMTP_PASSWORD", client_password)
            security = "tls" if implicit_tls else "starttls" if tls else "none"
            section = ""
            if email:
                section = server.config(security=security, **extra) if server else (
                    '\n[email]\nhost = "127.0.0.1"\nport = 9\nsecurity = "none"\n'
                    'from_address = "bidang.ti@kominfo.sumbawakab.go.id"\n')
            config = write_config(tmp_path, dinkes=OPD_EMAIL if opd_email else "")
            config.write_text(config.read_text() + section)
            services = bootstrap(load_settings(config), tracker=FakeTracker())
            stack.callback(services.engine.dispose)
            return Office(services, server, config)
        yield build


def test_the_receipt_is_mailed_once_to_the_contact_and_the_opd(office: Callable[..., Office]
                                                                ) -> None:
    o = office()
    case_id = o.intake()
    o.drain()
    assert o.server is not None
    got = sorted(o.server.received, key=lambda r: r.rcpt_tos)
    assert [r.rcpt_tos for r in got] == [["sekretariat@dinkes.sumbawakab.go.id"],
                                        ["siti@dinkes.sumbawakab.go.id"]]
    message = got[1].message
    assert message["To"] == "\"dr. Siti Aminah\" <siti@dinkes.sumbawakab.go.id>"
    assert message["From"] == ("Bidang TI Diskominfo Sumbawa "
                               "<bidang.ti@kominfo.sumbawakab.go.id>")
    assert "DINKES:027/145/DINKES/2026" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Nomor kasus  : DINKES:027/145/DINKES/2026" in text
    assert f"http://sop.test/api/cases/{case_id}" in text
    assert {m.state for m in o.mail()} == {MailState.SENT}
    sent = [e for e in audit.list_audit(o.services.engine, case_id) if e.action == "mail_sent"]
    assert sorted(e.detail["recipient"] for e in sent if e.detail) == [
        "sekretariat@dinkes.sumbawakab.go.id", "siti@dinkes.sumbawakab.go.id"]
    # The same letter again, the open_case job redone, the mail jobs redone: nothing more.
    o.intake()
    open_case(o.services, case_id)
    for job in o.mail_jobs():
        with o.services.engine.begin() as conn:
            jobs.enqueue(conn, SEND_MAIL, job.payload)
    o.drain()
    assert len(o.server.received) == 2
    assert len(o.mail()) == 2


def test_the_message_id_is_fixed_per_document_and_recipient(office: Callable[..., Office]
                                                            ) -> None:
    o = office()
    o.intake()
    o.intake(nomor_surat="027/146/DINKES/2026")
    o.drain()
    assert o.server is not None
    ids = [r.message["Message-ID"] for r in o.server.received]
    assert len(set(ids)) == 4
    assert sorted(ids) == sorted(m.message_id for m in o.mail())
    again = outbox.message_id_for(outbox.mail_key(o.mail()[0].document,
                                                  o.mail()[0].recipient.upper()),
                                  "kominfo.sumbawakab.go.id")
    assert again == o.mail()[0].message_id


def test_without_an_email_section_nothing_is_queued_or_sent(office: Callable[..., Office]
                                                            ) -> None:
    o = office(email=False)
    assert o.services.settings.email is None
    case_id = o.intake()
    o.drain()
    assert o.server is not None and o.server.received == []
    assert o.mail() == [] and o.mail_jobs() == []
    case = cases.get_case(o.services.engine, case_id)
    assert case is not None and case.status is CaseStatus.OPEN  # the intake is unchanged
    assert {j.status for j in jobs.list_jobs(o.services.engine)} == {JobStatus.DONE}


def test_queueing_a_document_again_adds_no_mail_and_no_job(office: Callable[..., Office]
                                                            ) -> None:
    """What a draw-up redone after a crash does (connector/workflow/paperwork.py)."""
    o = office()
    case_id = o.intake()
    o.drain()
    case = cases.get_case(o.services.engine, case_id)
    assert case is not None
    for _ in range(3):
        with o.services.engine.begin() as conn:
            ids = queue_for_case(conn, o.services.settings, case, SURAT, "surat-x.pdf")
    assert len(ids) == 2
    assert len(o.mail()) == 4 and len(o.mail_jobs()) == 4
    # The same recipient in other capitals is the same recipient.
    with o.services.engine.begin() as conn:
        again = queue_mail(conn, case_id=case_id, kind=SURAT, document="surat-x.pdf",
                           recipient="SITI@Dinkes.Sumbawakab.go.id", recipient_name="x",
                           domain="kominfo.sumbawakab.go.id")
    assert again in ids and len(o.mail()) == 4


def test_starttls_and_auth(office: Callable[..., Office]) -> None:
    o = office(tls=True, password=PASSWORD)
    o.intake()
    o.drain()
    assert o.server is not None
    assert len(o.server.received) == 2
    assert o.server.handler.logins == ["PLAIN:ok", "PLAIN:ok"]  # one session per mail


def test_tls_from_the_first_byte_with_auth(office: Callable[..., Office]) -> None:
    o = office(implicit_tls=True, password=PASSWORD)
    o.intake()
    o.drain()
    assert o.server is not None and len(o.server.received) == 2


def test_a_wrong_password_is_a_refusal_recorded_and_visible(office: Callable[..., Office],
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    o = office(tls=True, password=PASSWORD, client_password="not-the-password-123")
    case_id = o.intake()
    o.drain()
    assert o.server is not None and o.server.received == []
    assert {m.state for m in o.mail()} == {MailState.REFUSED}
    assert {j.status for j in o.mail_jobs()} == {JobStatus.DEAD}
    refused = [e for e in audit.list_audit(o.services.engine, case_id)
               if e.action == "mail_refused"]
    assert len(refused) == 2
    listed = CliRunner().invoke(main, ["--config", str(o.config), "jobs", "list"])
    assert "send_mail" in listed.output and "ditolak" in listed.output
    assert "not-the-password-123" not in caplog.text + listed.output + str(
        [m.last_error for m in o.mail()])


def test_a_server_that_cannot_be_reached_is_retried_with_backoff(office: Callable[..., Office]
                                                                 ) -> None:
    o = office(running=False)
    o.intake()
    o.drain()
    assert {m.state for m in o.mail()} == {MailState.QUEUED}
    failed = o.mail_jobs()
    assert {j.status for j in failed} == {JobStatus.FAILED}
    assert all("tidak dapat dihubungi" in (j.last_error or "") for j in failed)
    assert all(j.run_after > datetime.now(UTC) - timedelta(seconds=1) for j in failed)


def test_a_temporary_refusal_is_retried_and_then_sent_once(office: Callable[..., Office]
                                                           ) -> None:
    o = office()
    assert o.server is not None
    o.server.handler.answers = {"RCPT": ["451 4.3.0 coba lagi nanti"],
                                "DATA": ["452 4.3.1 penyimpanan penuh"]}
    o.intake()
    o.drain()
    states = sorted(m.state.value for m in o.mail())
    assert states == ["queued", "queued"]  # one refused at RCPT, the other at DATA
    assert len(o.server.received) == 0
    assert {j.status for j in o.mail_jobs()} == {JobStatus.FAILED}
    o.drain(hours=2)
    assert len(o.server.received) == 2
    assert {m.state for m in o.mail()} == {MailState.SENT}


def test_a_permanent_refusal_at_data_is_recorded_not_retried(office: Callable[..., Office]
                                                             ) -> None:
    o = office(opd_email=False)
    assert o.server is not None
    o.server.handler.answers = {"DATA": ["554 5.7.1 pesan ditolak"]}
    case_id = o.intake()
    o.drain()
    [row] = o.mail()
    assert row.state is MailState.REFUSED and "554" in (row.last_error or "")
    [job] = o.mail_jobs()
    assert job.status is JobStatus.DEAD
    o.drain(hours=2)
    assert o.server.received == []
    assert [e.action for e in audit.list_audit(o.services.engine, case_id)
            if e.action.startswith("mail_")] == ["mail_refused"]
    # A person's explicit resend sends it (the server now takes it).
    done = CliRunner().invoke(main, ["--config", str(o.config), "mail", "resend", str(row.id)])
    assert done.exit_code == 0, done.output
    o.drain()
    assert len(o.server.received) == 1
    assert o.mail()[0].state is MailState.SENT


HOSTILE = "Siti\r\nBcc: curi@jahat.example\r\nX-Sisipan: ya"


def test_hostile_names_and_subjects_cannot_add_a_header_or_a_recipient(
        office: Callable[..., Office]) -> None:
    o = office(opd_email=False)
    # Stored as a letter that bypassed the intake's own checks would be: CR/LF included.
    with o.services.engine.begin() as conn:
        from connector.store.cases import record_intake

        letter = sample_letter(nama_aplikasi="SIP\r\nBcc: lain@jahat.example\r\n\r\nbadan")
        letter["kontak"]["nama"] = HOSTILE
        letter["nomor_surat"] = "027/9\nBcc: x@jahat.example"
        result = record_intake(conn, case_key="DINKES:HOSTILE/1", opd="DINKES",
                               nomor_surat=letter["nomor_surat"],
                               nama_aplikasi=letter["nama_aplikasi"], letter=letter,
                               attachments=[], inbox=("test", "hostile-1", {}, b"{}"))
    o.drain()
    assert o.server is not None
    [got] = o.server.received
    assert got.rcpt_tos == ["siti@dinkes.sumbawakab.go.id"]
    head = got.content.split(b"\r\n\r\n", 1)[0].decode()
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if line[:1] not in " \t"]
    assert "Bcc" not in names and "X-Sisipan" not in names
    assert sorted(set(names)) == sorted(set(names) & {
        "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "Content-Type",
        "Content-Transfer-Encoding", "MIME-Version"})
    message = got.message
    assert message["To"].addresses[0].addr_spec == "siti@dinkes.sumbawakab.go.id"
    assert message["To"].addresses[0].display_name == \
        "Siti Bcc: curi@jahat.example X-Sisipan: ya"
    assert "\n" not in str(message["Subject"]) and "Bcc: lain@jahat.example" in \
        str(message["Subject"])
    assert result.created


@pytest.mark.parametrize("recipient", ["a@b.example, c@d.example", "sïti@dinkes.example",
                                       "a@b.example\r\nRCPT TO:<c@d.example>"])
def test_an_address_that_is_not_one_mailbox_is_refused_not_sent(
        office: Callable[..., Office], recipient: str) -> None:
    o = office(opd_email=False)
    case_id = o.intake()
    with o.services.engine.begin() as conn:
        conn.execute(insert(mail_outbox).values(
            mail_key=f"x|{recipient}", case_id=case_id, kind="tanda_terima",
            document="x", recipient=recipient, recipient_name="x",
            message_id="<x@kominfo.sumbawakab.go.id>", state="queued", resends=0,
            created_at=datetime.now(UTC)))
        mail_id = conn.execute(select(mail_outbox.c.id).where(
            mail_outbox.c.mail_key == f"x|{recipient}")).scalar_one()
        jobs.enqueue(conn, SEND_MAIL, {"mail_id": mail_id})
    o.drain()
    row = outbox.get_mail(o.services.engine, mail_id)
    assert row is not None and row.state is MailState.REFUSED
    assert "alamat surel" in (row.last_error or "")
    [job] = [j for j in o.mail_jobs() if j.payload["mail_id"] == mail_id]
    assert job.status is JobStatus.DEAD and job.attempts == 1
    assert o.server is not None
    assert all(r.rcpt_tos == ["siti@dinkes.sumbawakab.go.id"] for r in o.server.received)


@pytest.mark.parametrize(("section", "problem"), [
    ('host = "smtp.example"\nfrom_address = "a@b.example"\npassword = "x"',
     "[email] password: secrets are never written in the file"),
    ('host = "smtp.example"\nfrom_address = "a@b.example"\nsecurity = "ssl"',
     "[email] security: expected one of starttls, tls, none"),
    ('host = "smtp.example"\nfrom_address = "bukan alamat"',
     "[email] from_address: expected one e-mail address"),
    ('host = "smtp.example"', "[email] from_address: missing"),
    ('host = "smtp.example"\nfrom_address = "a@b.example"\nusername = "u"',
     "[email] password_env: missing"),
    ('host = "smtp.example"\nfrom_address = "a@b.example"\nusername = "u"\n'
     'password_env = "SOP_TEST_SMTP_PASSWORD"\nsecurity = "none"',
     "[email] security: \"none\" would send the password unencrypted"),
    ('host = "smtp.example"\nfrom_address = "a@b.example"\nreplyto = "a@b.example"',
     "[email] replyto: unknown key"),
])
def test_a_wrong_email_section_is_refused_with_a_clear_message(
        tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch, section: str,
        problem: str) -> None:
    monkeypatch.setenv("SOP_TEST_SMTP_PASSWORD", PASSWORD)
    config = write_config(tmp_path)
    config.write_text(config.read_text() + "\n[email]\n" + section + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert any(problem in p for p in raised.value.problems), raised.value.problems


def test_an_opd_email_that_is_not_an_address_is_refused(tmp_path: Path, env: None) -> None:
    config = write_config(tmp_path, dinkes='email = "sekretariat\\nBcc: x@y.example"')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert any("[opd.agencies.DINKES] email: expected one e-mail address" in p
               for p in raised.value.problems)


def test_the_email_section_defaults(tmp_path: Path, env: None) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text() + '\n[email]\nhost = "smtp.example"\n'
                      'from_address = "bidang.ti@kominfo.example.go.id"\n')
    email = load_settings(config).email
    assert email is not None
    assert (email.port, email.security, email.username, email.password) == (
        587, "starttls", "", None)
    assert INTAKE_TOKEN  # the intake credential is unaffected
