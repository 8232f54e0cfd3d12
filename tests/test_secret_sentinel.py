"""Sentinel secrets never leak: every secret of the configuration gets a distinctive value,
the service is driven through its refusals, failures and outputs, and none of the values
appears in any log record, message, answer, output or document."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from click.testing import CliRunner

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.config import Settings, load_settings
from connector.documents import DocumentKind
from connector.documents.render import render_docx, render_pdf
from connector.errors import ConfigError, ConnectorError
from connector.services import Services
from connector.signatures import hmac_sha256_hex, standard_webhook_signature
from connector.store import jobs as queue
from tests.conftest import FROZEN, sample_letter, write_config
from tests.dashboard_forms import CSRF, sign_in_with_token
from tests.fakes import FakeTracker
from tests.gitlab_stubs import BASE, GROUP, sample_request, url
from tests.test_documents_render import berita_acara, office, pdf_text
from webhooks import create_app

SIGNING_KEY = b"SENTINEL-signing-key-4e1f"
SENTINELS = {
    "SOP_TEST_REDMINE_KEY": "SENTINEL-redmine-api-key-5b1e",
    "SOP_TEST_INTAKE_TOKEN": "SENTINEL-intake-token-0a9d",
    "SOP_TEST_SIGNING": "whsec_" + base64.b64encode(SIGNING_KEY).decode(),
    "SOP_TEST_REDMINE_HOOK": "SENTINEL-redmine-hook-secret-8c3b",
    "SOP_TEST_GITLAB_HOOK": "SENTINEL-gitlab-hook-token-1d6e",
    "SOP_TEST_GITLAB_TOKEN": "SENTINEL-gitlab-api-token-77c2",
    "SOP_TEST_ACCESS": "SENTINEL-dashboard-token-3f0a",
    "SOP_TEST_SESSION": "SENTINEL-session-secret-9e2c",
}
# Every form a value could take in a text: itself, the signing key's base64 and raw bytes.
NEEDLES = [*SENTINELS.values(), base64.b64encode(SIGNING_KEY).decode(), "SENTINEL"]
DINKES = 'intake_signing_secret_env = "SOP_TEST_SIGNING"\n'
EXTRA = f"""redmine_secret_env = "SOP_TEST_REDMINE_HOOK"
gitlab_token_env = "SOP_TEST_GITLAB_HOOK"

[gitlab]
url = "{BASE}"
token_env = "SOP_TEST_GITLAB_TOKEN"
group = "{GROUP}"
hook_url = "https://sop.sumbawakab.go.id/webhooks/gitlab"

[dashboard]
access_token_env = "SOP_TEST_ACCESS"
session_secret_env = "SOP_TEST_SESSION"
"""
REDMINE = "http://redmine.test"
JSON_TYPE = {"Content-Type": "application/json"}
LOGGERS = ("werkzeug", "waitress", "urllib3", "requests", "gitlab", "redminelib", "sqlalchemy")


class Outputs:
    """Every text the test saw; checked for the sentinels when the test ends."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str | bytes) -> None:
        self.texts.append((where, text.decode("utf-8", "replace") if isinstance(text, bytes)
                           else text))

    def leaks(self) -> list[str]:
        return [f"{where}: …{text[max(0, text.find(n) - 80):text.find(n) + 80]}…"
                for where, text in self.texts for n in NEEDLES if n in text]


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Outputs]:
    for name, value in SENTINELS.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    outputs = Outputs()
    yield outputs
    captured = capsys.readouterr()
    outputs.add("stdout", captured.out)
    outputs.add("stderr", captured.err)
    outputs.add("log", caplog.text)
    for record in caplog.records:  # the message with its arguments, and any traceback
        outputs.add(f"log record {record.name}", record.getMessage() + repr(record.args))
    assert outputs.texts
    assert not outputs.leaks(), "\n".join(outputs.leaks())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, redmine_url=REDMINE, extra=EXTRA, dinkes=DINKES)


@pytest.fixture
def settings(config: Path, seen: Outputs) -> Settings:
    return load_settings(config)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings, tracker=FakeTracker(), clock=lambda: FROZEN)
    yield built
    built.engine.dispose()


def test_every_secret_of_the_settings_is_set_to_a_sentinel(settings: Settings,
                                                           seen: Outputs) -> None:
    """The test covers every Secret field: a new one without a sentinel fails here."""
    from connector.config.secret import Secret

    def secrets_in(value: Any, depth: int = 0) -> list[Secret]:
        if isinstance(value, Secret):
            return [value]
        if depth > 6:
            return []
        if isinstance(value, Mapping):  # such as [opd.agencies], each with its credentials
            return [s for item in value.values() for s in secrets_in(item, depth + 1)]
        if isinstance(value, tuple):  # such as the tokens of one OPD
            return [s for item in value for s in secrets_in(item, depth + 1)]
        if not hasattr(value, "__dataclass_fields__"):
            return []
        return [s for name in value.__dataclass_fields__
                for s in secrets_in(getattr(value, name), depth + 1)]

    found = {s.reveal() for s in secrets_in(settings)}
    assert found == set(SENTINELS.values())
    seen.add("repr(settings)", repr(settings))
    seen.add("str(settings)", str(settings))


def test_configuration_errors_name_no_secret(config: Path, seen: Outputs) -> None:
    text = config.read_text()
    broken = [
        text.replace('public_url = "http://sop.test"', 'public_url = 7'),
        text + '\n[sop]\nfile = "missing.toml"\n',
        text.replace('intake_token_env = "SOP_TEST_INTAKE_TOKEN"',
                     f'intake_token = "{SENTINELS["SOP_TEST_INTAKE_TOKEN"]}"'),
        text.replace('access_token_env = "SOP_TEST_ACCESS"',
                     f'access_token_env = "{SENTINELS["SOP_TEST_ACCESS"]}"'),
        text.replace('api_key_env = "SOP_TEST_REDMINE_KEY"',
                     f'api_key_env = "SOP_TEST_REDMINE_KEY"\napi_key = '
                     f'"{SENTINELS["SOP_TEST_REDMINE_KEY"]}"'),
        text.replace('api_key_env = "SOP_TEST_REDMINE_KEY"',
                     f'api_key_file = "{SENTINELS["SOP_TEST_REDMINE_KEY"]}"'),
    ]
    for number, document in enumerate(broken):
        config.write_text(document)
        with pytest.raises(ConfigError) as caught:
            load_settings(config)
        seen.add(f"config error {number}", str(caught.value))
        result = CliRunner().invoke(main, ["jobs", "list", "--config", str(config)])
        assert result.exit_code != 0
        seen.add(f"cli config error {number}", result.output + repr(result.exception))


def test_the_http_answers_hold_no_secret(services: Services, seen: Outputs) -> None:
    client = create_app(services).test_client()
    letter = sample_letter()
    wrong = SENTINELS["SOP_TEST_INTAKE_TOKEN"][:-1] + "X"
    answers = [
        client.post("/webhooks/intake", json=letter, headers={"Authorization": f"Bearer {wrong}"}),
        client.post("/webhooks/intake", json=letter),
        client.post("/webhooks/intake", json={"x": 1}, headers=_bearer("SOP_TEST_INTAKE_TOKEN")),
        client.post("/webhooks/intake", json=letter, headers=_bearer("SOP_TEST_INTAKE_TOKEN")),
        client.post("/webhooks/intake", data=_json(sample_letter("1/SIGNED")), headers={
            **JSON_TYPE, **_standard_webhook(sample_letter("1/SIGNED"))}),
        client.post("/webhooks/intake", data=_json(letter), headers={
            **JSON_TYPE, **_standard_webhook(letter), "webhook-signature": "v1,AAAA"}),
        client.get("/api/cases/1", headers=_bearer("SOP_TEST_INTAKE_TOKEN")),
        client.get("/api/cases/1", headers={"Authorization": f"Bearer {wrong}"}),
        client.get("/healthz"), client.get("/openapi.json"),
        client.get("/api/cases", headers=_bearer("SOP_TEST_ACCESS")),
        client.get("/api/cases", headers={"Authorization": "Bearer nope"}),
        client.get("/dashboard/masuk?token=nope"),
    ]
    answers += _webhook_deliveries(client)
    assert sign_in_with_token(client, SENTINELS["SOP_TEST_ACCESS"]).status_code == 302
    answers += [client.get("/dashboard"), client.get("/dashboard/cases/1"),
                client.get("/dashboard/recap"), client.get("/dashboard/recap.csv"),
                client.get("/dashboard/masuk")]
    for answer in answers:
        seen.add(f"answer {answer.request.path}", answer.get_data())
        seen.add(f"headers {answer.request.path}", str(answer.headers))
    assert [a.status_code for a in answers[:6]] == [401, 401, 422, 202, 202, 401]
    assert answers[-5].status_code == 200 and b"SI Puskesmas" in answers[-4].get_data()


def _bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SENTINELS[name]}"}


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


def _standard_webhook(document: dict[str, Any]) -> dict[str, str]:
    body = _json(document)
    stamp = str(int(time.time()))
    return {"webhook-id": f"msg-{stamp}", "webhook-timestamp": stamp, "webhook-signature":
            standard_webhook_signature(SENTINELS["SOP_TEST_SIGNING"], f"msg-{stamp}", stamp,
                                       body)}


def _webhook_deliveries(client: Any) -> list[Any]:
    plugin = json.dumps({"payload": {"action": "updated", "issue": {"id": 7}}}).encode()
    native = json.dumps({"type": "issue.updated", "data": {"issue": {"id": 7}}}).encode()
    hook_secret = SENTINELS["SOP_TEST_REDMINE_HOOK"]
    push = json.dumps({"object_kind": "push", "project": {"id": 3}, "ref": "refs/heads/main",
                       "total_commits_count": 1, "user_username": "dev1",
                       "commits": [{"id": "a" * 40, "message": "Tambah formulir"}]}).encode()
    json_type = JSON_TYPE
    return [
        client.post(f"/webhooks/redmine/{hook_secret}", data=plugin, headers=json_type),
        client.post(f"/webhooks/redmine/{hook_secret}X", data=plugin, headers=json_type),
        client.post("/webhooks/redmine", data=native, headers={
            **json_type, "X-Redmine-Signature-256": "sha256=" + hmac_sha256_hex(hook_secret,
                                                                                native)}),
        client.post("/webhooks/redmine", data=native, headers={
            **json_type, "X-Redmine-Signature-256": "sha256=00"}),
        client.post("/webhooks/gitlab", data=push, headers={
            **json_type, "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Token": SENTINELS["SOP_TEST_GITLAB_HOOK"]}),
        client.post("/webhooks/gitlab", data=push, headers={
            **json_type, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}),
    ]


def test_a_production_server_logs_no_secret(services: Services, seen: Outputs) -> None:
    """The same deliveries through waitress, whose loggers are captured too."""
    from waitress.server import create_server

    server = create_server(create_app(services), host="127.0.0.1", port=0, threads=2)
    port = server.socket.getsockname()[1]  # type: ignore[union-attr]
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # close() below pulled a socket from under a running select()
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        hook = SENTINELS["SOP_TEST_REDMINE_HOOK"]
        with requests.Session() as http:
            for answer in (
                http.post(f"{base}/webhooks/redmine/{hook}", json={"payload": {}}, timeout=10),
                http.post(f"{base}/webhooks/intake", json=sample_letter("2/W"), timeout=10,
                          headers=_bearer("SOP_TEST_INTAKE_TOKEN")),
                http.post(f"{base}/dashboard/masuk", timeout=10, allow_redirects=False,
                          data={"token": SENTINELS["SOP_TEST_ACCESS"],
                                "csrf": CSRF.findall(http.get(f"{base}/dashboard/masuk",
                                                              timeout=10).text)[0]}),
            ):
                assert answer.status_code in (200, 202, 302)
                seen.add("waitress answer", answer.text + str(answer.headers))
    finally:
        closing.set()
        server.close()
        thread.join(5)


def test_a_failing_redmine_leaves_no_secret_in_errors_logs_or_the_job_list(
        config: Path, settings: Settings, seen: Outputs) -> None:
    """The real Redmine adapter, under ``responses``, meets answers that echo the key."""
    key = SENTINELS["SOP_TEST_REDMINE_KEY"]
    local = bootstrap(settings, tracker=FakeTracker())
    client = create_app(local).test_client()
    assert client.post("/webhooks/intake", json=sample_letter(),
                       headers=_bearer("SOP_TEST_INTAKE_TOKEN")).status_code == 202
    cli = CliRunner()
    for status, body in ((500, f'{{"errors": ["Internal error for key {key}"]}}'),
                         (401, f'{{"errors": ["Invalid API key {key}"]}}'),
                         (422, f'{{"errors": ["Kunci {key} tidak valid"]}}')):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method in ("GET", "POST", "PUT", "DELETE"):
                mock.add(method, re.compile(f"{REDMINE}/.*"), status=status, body=body,
                         content_type="application/json")
            drained = cli.invoke(main, ["worker", "--drain", "--config", str(config)])
            seen.add(f"worker {status}", drained.output + repr(drained.exception))
            assert drained.exit_code == 0 and "1 job(s) run" in drained.output, drained.output
            doctor = cli.invoke(main, ["doctor", "--config", str(config)])
            seen.add(f"doctor {status}", doctor.output + repr(doctor.exception))
            assert doctor.exit_code != 0
        listed = cli.invoke(main, ["jobs", "list", "--config", str(config)])
        seen.add(f"jobs list {status}", listed.output)
        [job] = [j for j in queue.list_jobs(local.engine) if j.kind == "open_case"]
        assert job.last_error and job.status in ("failed", "dead"), job
        assert "Redmine" in job.last_error
        assert ("********" in job.last_error) is (status == 422)  # only a 422 quotes its body
        seen.add(f"stored job error {status}", job.last_error)
        replayed = cli.invoke(main, ["jobs", "replay", str(job.id), "--config", str(config)])
        seen.add(f"jobs replay {status}", replayed.output)
    local.engine.dispose()


def test_gitlab_errors_that_echo_the_token_stay_out_of_messages_and_logs(
        services: Services, seen: Outputs) -> None:
    token = SENTINELS["SOP_TEST_GITLAB_TOKEN"]
    host = services.codehost
    assert host is not None
    for status in (401, 403, 422, 500):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method in ("GET", "POST", "PUT"):
                mock.add(method, re.compile(f"{re.escape(url(''))}.*"), status=status,
                         json={"message": f"{status} token {token} rejected",
                               "error": f"invalid_token {token}"})
            with pytest.raises(ConnectorError) as caught:
                host.provision(sample_request(hook_token=services.settings.webhooks
                                              .gitlab_token))
            # Ours only: python-gitlab's exception (the cause) is never logged or stored.
            seen.add(f"gitlab {status}", f"{caught.value!s} {caught.value!r}")
            assert status == 500 or "invalid_token ********" in str(caught.value)
    seen.add("repr(codehost)", repr(host))


def test_the_berita_acara_holds_no_secret(settings: Settings, seen: Outputs,
                                          tmp_path: Path) -> None:
    documents = settings.documents or office()
    document = berita_acara(documents)
    pdf = render_pdf(DocumentKind.BERITA_ACARA, document, documents)
    text = pdf_text(pdf, tmp_path)
    assert "SI Puskesmas" in text
    seen.add("berita acara pdf text", text)
    seen.add("berita acara pdf bytes", pdf)
    docx = render_docx(DocumentKind.BERITA_ACARA, document, documents)
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        for name in archive.namelist():
            seen.add(f"docx {name}", archive.read(name))


def test_the_check_finds_a_planted_sentinel() -> None:
    outputs = Outputs()
    outputs.add("clean", "Redmine refused creating the case: ********")
    assert outputs.leaks() == []
    outputs.add("planted", b"... key=SENTINEL-redmine-api-key-5b1e ...")
    assert len(outputs.leaks()) >= 1


def test_redact_blanks_every_secret_the_process_holds() -> None:
    from connector.config.secret import Secret, redact

    Secret("glpat-redact-me-0123", "$X")
    Secret("short")
    assert redact("token glpat-redact-me-0123 refused; short") == "token ******** refused; short"
