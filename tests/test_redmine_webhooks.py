"""Redmine webhooks: authenticated deliveries queue one sync_issue job; nothing else is stored."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connector.bootstrap import bootstrap
from connector.config import Settings, load_settings
from connector.services import Services
from connector.signatures import hmac_sha256_hex
from connector.store import audit, jobs
from connector.store.schema import inbox
from connector.store.schema import jobs as job_rows
from tests.conftest import write_config
from tests.fakes import FakeTracker
from webhooks import create_app, redmine_hooks

SECRET = "redmine-webhook-secret-0123456789"
PAYLOADS = Path(__file__).parent / "payloads"
PLUGIN_URL = f"/webhooks/redmine/{SECRET}"
NATIVE_URL = "/webhooks/redmine"


def _app(services: Services) -> Flask:
    app = create_app(services)
    if redmine_hooks.blueprint.name not in app.blueprints:  # until webhooks.app registers it
        app.register_blueprint(redmine_hooks.blueprint)
    return app


@pytest.fixture
def settings(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SOP_TEST_REDMINE_SECRET", SECRET)
    extra = 'redmine_secret_env = "SOP_TEST_REDMINE_SECRET"\n'
    return load_settings(write_config(tmp_path, extra=extra))


@pytest.fixture
def client(services: Services) -> Any:
    return _app(services).test_client()


def _payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "X-Redmine-Signature-256": f"sha256={hmac_sha256_hex(secret, body)}"}


JSON = {"Content-Type": "application/json"}


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _stored(services: Services) -> tuple[int, int]:
    return (_count(services, inbox), _count(services, job_rows))


def _sync_jobs(services: Services) -> list[tuple[dict[str, Any], str | None]]:
    return [(dict(j.payload), j.dedupe_key) for j in jobs.list_jobs(services.engine)
            if j.kind == "sync_issue"]


def test_a_plugin_update_is_stored_and_queues_one_sync(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    body = _payload("redmine_plugin__issue_updated")
    answer = client.post(PLUGIN_URL, data=body, headers=JSON)

    assert answer.status_code == 202
    assert answer.get_json() == {"accepted": True, "issue_id": 42, "duplicate": False}
    assert _sync_jobs(services) == [
        ({"issue_id": 42, "journal_id": 318}, "sync_issue:42:journal:318")]
    [job] = jobs.list_jobs(services.engine)
    assert job.inbox_id is not None
    entry = audit.get_inbox(services.engine, job.inbox_id)
    assert entry is not None and entry.source == "redmine-plugin" and entry.body == body
    assert SECRET not in json.dumps(dict(entry.headers))


def test_a_plugin_new_issue_is_keyed_by_its_updated_on(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(PLUGIN_URL, data=_payload("redmine_plugin__issue_opened"), headers=JSON)

    assert answer.status_code == 202
    assert _sync_jobs(services) == [
        ({"issue_id": 42}, "sync_issue:42:updated_on:2026-03-16T01:00:05.000Z")]


def test_a_signed_redmine7_update_is_stored_and_queues_one_sync(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    body = _payload("redmine7__issue_updated")
    answer = client.post(NATIVE_URL, data=body, headers=_signed(body))

    assert answer.status_code == 202
    assert answer.get_json() == {"accepted": True, "issue_id": 42, "duplicate": False}
    assert _sync_jobs(services) == [
        ({"issue_id": 42, "journal_id": 318}, "sync_issue:42:journal:318")]
    [job] = jobs.list_jobs(services.engine)
    entry = audit.get_inbox(services.engine, job.inbox_id or 0)
    assert entry is not None and entry.source == "redmine"
    assert set(entry.headers) == {"Content-Type", "User-Agent"}  # no signature kept


@pytest.mark.parametrize("name,url", [("redmine_plugin__issue_updated", PLUGIN_URL),
                                      ("redmine7__issue_updated", NATIVE_URL)])
def test_the_same_delivery_50_times_makes_one_job(
        client, services: Services, name: str, url: str) -> None:  # type: ignore[no-untyped-def]
    body = _payload(name)
    codes = [client.post(url, data=body, headers=_signed(body)).status_code for _ in range(50)]

    assert codes == [202] + [200] * 49
    assert _stored(services) == (1, 1)
    again = client.post(url, data=body, headers=_signed(body)).get_json()
    assert again == {"accepted": True, "issue_id": 42, "duplicate": True}


def test_the_same_delivery_20_times_at_once_makes_one_job(services: Services) -> None:
    app, body = _app(services), _payload("redmine_plugin__issue_updated")
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        barrier.wait()
        codes.append(app.test_client().post(PLUGIN_URL, data=body, headers=JSON).status_code)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 19 + [202]
    assert _stored(services) == (1, 1)


def test_the_plugin_and_redmine7_telling_the_same_change_make_one_job(
        client, services: Services) -> None:  # type: ignore[no-untyped-def]
    native = _payload("redmine7__issue_updated")
    assert client.post(PLUGIN_URL, data=_payload("redmine_plugin__issue_updated"),
                       headers=JSON).status_code == 202
    assert client.post(NATIVE_URL, data=native, headers=_signed(native)).status_code == 202

    assert _stored(services) == (2, 1)  # both deliveries kept, one job for journal 318


@pytest.mark.parametrize("secret", ["wrong", SECRET[:-1], SECRET + "x", SECRET.upper(),
                                    "t\u00f6k\u00e9n", "%00"])
def test_a_wrong_url_secret_is_401_and_nothing_is_stored(
        client, services: Services, secret: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(f"/webhooks/redmine/{quote(secret, safe='')}",
                         data=_payload("redmine_plugin__issue_updated"), headers=JSON)

    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert _stored(services) == (0, 0)


def _bad_signatures(body: bytes) -> list[dict[str, str]]:
    good = _signed(body)["X-Redmine-Signature-256"]
    return [{}, {"X-Redmine-Signature-256": ""},
            {"X-Redmine-Signature-256": good.removeprefix("sha256=")},
            {"X-Redmine-Signature-256": "sha1=" + good.removeprefix("sha256=")},
            _signed(body, "another-secret"), _signed(body + b" ")]


@pytest.mark.parametrize("case", range(6))
def test_a_bad_signature_is_401_and_nothing_is_stored(
        client, services: Services, case: int) -> None:  # type: ignore[no-untyped-def]
    body = _payload("redmine7__issue_updated")
    headers = {"Content-Type": "application/json"} | _bad_signatures(body)[case]

    answer = client.post(NATIVE_URL, data=body, headers=headers)

    assert answer.status_code == 401
    assert _stored(services) == (0, 0)


def test_a_tampered_body_is_refused(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    body = _payload("redmine7__issue_updated")
    tampered = body.replace(b'"id": 42', b'"id": 43', 1)
    assert client.post(NATIVE_URL, data=tampered, headers=_signed(body)).status_code == 401
    assert _stored(services) == (0, 0)


def test_without_a_configured_secret_both_endpoints_fail_closed(
        tmp_path: Path, env: None) -> None:
    unset = bootstrap(load_settings(write_config(tmp_path)), tracker=FakeTracker())
    try:
        client, body = _app(unset).test_client(), _payload("redmine7__issue_updated")
        assert client.post(PLUGIN_URL, data=body, headers=JSON).status_code == 401
        assert client.post(NATIVE_URL, data=body, headers=_signed(body, "")).status_code == 401
        assert _stored(unset) == (0, 0)
    finally:
        unset.engine.dispose()


@pytest.mark.parametrize("body", [b"", b"not json", b"{", b"\xff\xfe\x00", b"[" * 100_000])
def test_a_body_that_is_not_json_is_422_and_nothing_is_stored(
        client, services: Services, body: bytes) -> None:  # type: ignore[no-untyped-def]
    for answer in (client.post(PLUGIN_URL, data=body, headers=JSON),
                   client.post(NATIVE_URL, data=body, headers=_signed(body))):
        assert answer.status_code == 422
        assert answer.get_json()["error"] == "invalid_request"
    assert _stored(services) == (0, 0)


@pytest.mark.parametrize("url,document,reason", [
    (NATIVE_URL, {"type": "wiki_page.updated", "data": {"wiki_page": {"id": 3}}},
     "no issue in the delivery"),
    (NATIVE_URL, {"type": "issue.deleted", "data": {"issue": {"id": 42}}},
     "event 'issue.deleted'"),
    (PLUGIN_URL, {"payload": {"action": "updated"}}, "no issue in the delivery"),
    (PLUGIN_URL, {"payload": {"action": "updated", "issue": {"id": "42"}}},
     "no issue in the delivery"),
    (PLUGIN_URL, {"payload": {"action": "updated", "issue": {"id": True}}},
     "no issue in the delivery"),
    (PLUGIN_URL, {"payload": {"action": "updated", "issue": {"id": -4}}},
     "no issue in the delivery"),
    (PLUGIN_URL, {"payload": {"action": "closed", "issue": {"id": 42}}}, "event 'closed'"),
    (PLUGIN_URL, [1, 2, 3], "no issue in the delivery"),
])
def test_an_event_without_a_usable_issue_is_ignored_and_not_stored(
        client, services: Services, url: str, document: Any, reason: str) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(document).encode()
    answer = client.post(url, data=body, headers=_signed(body))

    assert answer.status_code == 200
    assert answer.get_json() == {"ignored": reason}
    assert _stored(services) == (0, 0)


def test_malformed_journal_id_and_updated_on_fall_back_to_the_body_hash(
        client, services: Services) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(_payload("redmine_plugin__issue_updated"))
    document["payload"]["journal"]["id"] = "318:sync_issue:1"
    document["payload"]["issue"]["updated_on"] = "x" * 300
    body = json.dumps(document).encode()

    assert client.post(PLUGIN_URL, data=body, headers=JSON).status_code == 202

    [(payload, key)] = _sync_jobs(services)
    assert payload == {"issue_id": 42}
    assert key is not None and key.startswith("sync_issue:42:sha256:") and len(key) < 100


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
_ids = st.integers() | st.booleans() | st.text(max_size=20) | st.none() | st.floats()
_inner = st.fixed_dictionaries({}, optional={
    "issue": st.fixed_dictionaries({}, optional={"id": _ids, "updated_on": _json_values})
    | _json_values,
    "journal": st.fixed_dictionaries({}, optional={"id": _ids}) | _json_values,
    "action": st.sampled_from(["opened", "updated", "closed"]) | _json_values})
_documents = (st.fixed_dictionaries({}, optional={"payload": _inner | _json_values})
              | st.fixed_dictionaries({}, optional={
                  "type": st.sampled_from(["issue.created", "issue.updated"]) | _json_values,
                  "data": _inner | _json_values})
              | _json_values)


@hsettings(max_examples=200, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_documents, native=st.booleans())
def test_fuzzed_documents_never_cause_a_500(client, services: Services, document: Any,  # type: ignore[no-untyped-def]
                                            native: bool) -> None:
    body = json.dumps(document).encode()
    before = _stored(services)
    answer = client.post(NATIVE_URL if native else PLUGIN_URL, data=body, headers=_signed(body))

    assert answer.status_code in (200, 202)
    if answer.status_code == 202:
        assert _stored(services)[0] == before[0] + 1
    else:
        assert _stored(services)[1] == before[1]


@hsettings(max_examples=150, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), secret=st.text(min_size=1, max_size=40),
       signed=st.booleans())
def test_fuzzed_bytes_and_secrets_never_cause_a_500(client, services: Services, raw: bytes,  # type: ignore[no-untyped-def]
                                                    secret: str, signed: bool) -> None:
    before = _stored(services)
    plugin = client.post(f"/webhooks/redmine/{quote(secret, safe='')}", data=raw, headers=JSON)
    native = client.post(NATIVE_URL, data=raw,
                         headers=_signed(raw) if signed else _signed(raw, secret))

    routing = (404, 405, 308)  # a "/" in the secret: not this route, nothing stored
    assert plugin.status_code in ((200, 202, 422) if secret == SECRET else (401, *routing))
    assert native.status_code in ((200, 202, 422) if signed else (401,))
    if plugin.status_code == 401 and not signed:
        assert _stored(services) == before
