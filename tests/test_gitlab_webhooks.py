"""GitLab webhooks: documented payloads in, one progress job out, short notes on step 12.

Payloads are GitLab's own examples ("Webhook events" documentation); where a test needs an
outcome the documentation does not show (a merged merge request, a failed pipeline), it
changes only the field that says so. Every test runs with ``responses`` active and no URL
registered: a request to any URL of a payload would fail the test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.errors import RemoteUnavailable
from connector.gitlab.events import SUPPORTED
from connector.services import Services
from connector.signatures import standard_webhook_signature
from connector.store import audit, cases, jobs
from connector.store.audit import Delivery
from connector.store.kinds import GITLAB_PROGRESS, OPEN_CASE
from connector.store.projects import CaseProject, link_project
from connector.store.schema import StepState, gitlab_progress, inbox
from connector.tracker import IssueDraft
from connector.workflow.progress import flush_progress, record_progress
from tests.conftest import FROZEN, write_config
from tests.fakes import FakeTracker
from webhooks import create_app, gitlab_hooks

TOKEN = "gitlab-hook-token-0123456789"
SIGNING_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks test key
PAYLOADS = Path(__file__).parent / "payloads"
URL = "/webhooks/gitlab"
GITLAB = """
[gitlab]
url = "http://gitlab.test"
token_env = "SOP_TEST_GITLAB_API_TOKEN"
group = "diskominfo/aplikasi"
service_username = "sop-bot"
note_interval_minutes = 60
"""
EVENTS = ("Push Hook", "Merge Request Hook", "Wiki Page Hook", "Pipeline Hook",
          "Tag Push Hook", "Release Hook", "Issue Hook")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = FROZEN

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def no_network() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        assert list(mock.calls) == [], "a URL was fetched"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeTracker:
    return FakeTracker(clock)


def _build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTracker, clock: Clock,
           token: str | None = TOKEN, gitlab_extra: str = "") -> Services:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "redmine-key-for-tests")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", "intake-token-for-tests-0123456789")
    monkeypatch.setenv("SOP_TEST_GITLAB_API_TOKEN", "glpat-api-token")
    extra = ""
    if token is not None:
        monkeypatch.setenv("SOP_TEST_GITLAB_TOKEN", token)
        extra = 'gitlab_token_env = "SOP_TEST_GITLAB_TOKEN"\n'
    settings = load_settings(write_config(tmp_path, extra=extra + GITLAB + gitlab_extra))
    return bootstrap(settings, tracker=fake, clock=clock)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTracker,
             clock: Clock) -> Iterator[Services]:
    built = _build(tmp_path, monkeypatch, fake, clock)
    yield built
    built.engine.dispose()


def _app(services: Services) -> Flask:
    app = create_app(services)
    if gitlab_hooks.blueprint.name not in app.blueprints:  # until webhooks.app registers it
        app.register_blueprint(gitlab_hooks.blueprint)
    return app


@pytest.fixture
def client(services: Services) -> Any:
    return _app(services).test_client()


def _doc(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"gitlab__{name}.json").read_bytes())
    return loaded


def _headers(event: str, key: str | None = "delivery-1", token: str = TOKEN) -> dict[str, str]:
    found = {"Content-Type": "application/json", "X-Gitlab-Event": event,
             "X-Gitlab-Token": token, "User-Agent": "GitLab/18.4.0",
             "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e"}
    return found | ({"Idempotency-Key": key} if key else {})


def _post(client: Any, event: str, document: Any, **headers: Any) -> Any:
    return client.post(URL, data=json.dumps(document), headers=_headers(event, **headers))


def _stored(services: Services) -> tuple[int, int]:
    """(GitLab deliveries in the inbox, gitlab_progress jobs)."""
    with services.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(inbox)
                             .where(inbox.c.source == "gitlab")).scalar_one()
    return int(count), len(_progress_jobs(services))


def _progress_jobs(services: Services) -> list[jobs.Job]:
    return [j for j in jobs.list_jobs(services.engine) if j.kind == GITLAB_PROGRESS]


def _merged() -> dict[str, Any]:
    doc = _doc("merge_request_hook")
    doc["object_attributes"] |= {"action": "merge", "state": "merged"}
    return doc


def _with(name: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = _doc(name)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


HANDLED = [
    ("Push Hook", _doc("push_hook"), 15, "push",
     '4 commit ke master oleh jsmith: "fixed readme"'),
    ("Merge Request Hook", _merged(), 1, "merge",
     'MR !1 "MS-Viewport" digabung ke master oleh root'),
    ("Wiki Page Hook", _doc("wiki_page_hook"), 1, "wiki",
     'Halaman wiki "Awesome" dibuat oleh root'),
    ("Wiki Page Hook", _with("wiki_page_hook", ("object_attributes", "action"), "update"), 1,
     "wiki", 'Halaman wiki "Awesome" diperbarui oleh root'),
    ("Pipeline Hook", _doc("pipeline_hook"), 1, "pipeline", "Pipeline #31 pada master berhasil"),
    ("Pipeline Hook", _with("pipeline_hook", ("object_attributes", "status"), "failed"), 1,
     "pipeline", "Pipeline #31 pada master gagal"),
    ("Tag Push Hook", _doc("tag_push_hook"), 1, "tag", "Tag v1.0.0 dibuat oleh John Smith"),
    ("Release Hook", _doc("release_hook"), 2, "release",
     'Rilis "v1.1" (tag v1.1) diterbitkan'),
]


@pytest.mark.parametrize("event,document,project_id,kind,line", HANDLED,
                         ids=[f"{h[0]}:{h[4][:24]}" for h in HANDLED])
def test_a_handled_event_is_stored_with_one_progress_job(
        client: Any, services: Services, event: str, document: dict[str, Any],
        project_id: int, kind: str, line: str) -> None:
    answer = _post(client, event, document)

    assert answer.status_code == 202
    assert answer.get_json() == {"accepted": True, "kind": kind, "duplicate": False}
    [job] = _progress_jobs(services)
    assert dict(job.payload) == {"project_id": project_id, "kind": kind, "summary_line": line,
                                 "at": FROZEN.isoformat(), "event_key": "gitlab:id:delivery-1"}
    entry = audit.get_inbox(services.engine, job.inbox_id or 0)
    assert entry is not None and entry.source == "gitlab"
    assert entry.body == json.dumps(document).encode()
    assert "X-Gitlab-Token" not in entry.headers and entry.headers["X-Gitlab-Event"] == event


IGNORED = [
    ("Push Hook", _with("push_hook", ("ref",), "refs/heads/feature"),
     "a push to a branch other than the default branch"),
    ("Push Hook", _with("push_hook", ("after",), "0" * 40),
     "event 'Push Hook' with action 'delete' is not used"),
    ("Merge Request Hook", _doc("merge_request_hook"),  # as documented: action "open"
     "event 'Merge Request Hook' with action 'open' is not used"),
    ("Wiki Page Hook", _with("wiki_page_hook", ("object_attributes", "action"), "delete"),
     "event 'Wiki Page Hook' with action 'delete' is not used"),
    ("Pipeline Hook", _with("pipeline_hook", ("object_attributes", "status"), "running"),
     "event 'Pipeline Hook' with action 'running' is not used"),
    ("Tag Push Hook", _with("tag_push_hook", ("after",), "0" * 40),
     "event 'Tag Push Hook' with action 'delete' is not used"),
    ("Release Hook", _with("release_hook", ("action",), "update"),
     "event 'Release Hook' with action 'update' is not used"),
    ("Issue Hook", _doc("issue_hook"), "event 'Issue Hook' with action 'open' is not used"),
    ("", _doc("push_hook"), "event '' with action '' is not used"),
    ("Push Hook", [1, 2], "the body is not a JSON object"),
    ("Release Hook", _with("release_hook", ("project", "id"), "2"),
     "no project id in the delivery"),
]


@pytest.mark.parametrize("event,document,reason", IGNORED, ids=[i[2][:40] for i in IGNORED])
def test_an_event_we_do_not_use_is_answered_2xx_and_not_stored(
        client: Any, services: Services, event: str, document: Any, reason: str) -> None:
    answer = _post(client, event, document)

    assert answer.status_code == 200
    assert answer.get_json() == {"ignored": reason}
    assert _stored(services) == (0, 0)


def test_the_supported_list_is_the_dispatch_table() -> None:
    assert SUPPORTED == ("Push Hook: push", "Merge Request Hook: merge", "Wiki Page Hook: create",
                         "Wiki Page Hook: update", "Pipeline Hook: success",
                         "Pipeline Hook: failed", "Tag Push Hook: create",
                         "Release Hook: create")


@pytest.mark.parametrize("event,document", [
    ("Push Hook", _with("push_hook", ("user_username",), "SOP-Bot")),
    ("Merge Request Hook", _with("merge_request_hook", ("user", "username"), "sop-bot")
     | {"object_attributes": _merged()["object_attributes"]}),
])
def test_an_event_caused_by_the_service_user_is_ignored(
        client: Any, services: Services, event: str, document: dict[str, Any]) -> None:
    answer = _post(client, event, document)

    assert (answer.status_code, answer.get_json()) == (
        200, {"ignored": "caused by the service's own GitLab user"})
    assert _stored(services) == (0, 0)


@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x", "tökén-ü"])
def test_a_missing_or_wrong_token_is_401_and_stores_nothing(
        client: Any, services: Services, token: str | None) -> None:
    headers = _headers("Push Hook")
    headers.pop("X-Gitlab-Token")
    if token is not None:
        headers["X-Gitlab-Token"] = token
    answer = client.post(URL, data=json.dumps(_doc("push_hook")).encode(),
                         headers={k: v.encode("utf-8").decode("latin-1")
                                  for k, v in headers.items()})

    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert _stored(services) == (0, 0)


def test_with_no_token_configured_every_delivery_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTracker,
        clock: Clock) -> None:
    services = _build(tmp_path, monkeypatch, fake, clock, token=None)
    answer = _post(_app(services).test_client(), "Push Hook", _doc("push_hook"))

    assert answer.status_code == 401
    assert answer.get_json()["message"] == "no secret is configured for X-Gitlab-Token"
    assert _stored(services) == (0, 0)


def _signed(body: bytes, *, key: str = SIGNING_KEY, at: datetime = FROZEN,
            msg_id: str = "msg_2mAnCcdSk2wYMaWJbVvXU7") -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    return {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook",
            "webhook-id": msg_id, "webhook-timestamp": stamp, "Idempotency-Key": msg_id,
            "webhook-signature": standard_webhook_signature(key, msg_id, stamp, body)}


@pytest.fixture
def signed_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTracker,
                  clock: Clock) -> Iterator[tuple[Any, Services]]:
    services = _build(tmp_path, monkeypatch, fake, clock, token=SIGNING_KEY,
                      gitlab_extra="signed_webhooks = true\n")
    yield _app(services).test_client(), services
    services.engine.dispose()


@pytest.fixture
def whsec_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTracker,
                 clock: Clock) -> Iterator[tuple[Any, Services]]:
    """A ``whsec_`` secret without ``signed_webhooks``: GitLab may or may not sign."""
    services = _build(tmp_path, monkeypatch, fake, clock, token=SIGNING_KEY)
    yield _app(services).test_client(), services
    services.engine.dispose()


@pytest.mark.parametrize("case, status", [
    ("token only, as from a GitLab that ignores signing_token", 202),
    ("valid signature", 202), ("valid signature and token", 202),
    ("wrong token", 401), ("no secret at all", 401),
    ("bad signature, right token", 401)])
def test_a_whsec_secret_authenticates_by_token_unless_a_signature_is_sent(
        whsec_client: tuple[Any, Services], case: str, status: int) -> None:
    client, services = whsec_client
    body = json.dumps(_doc("push_hook")).encode()
    signed = _signed(body)
    plain = {k: v for k, v in signed.items() if not k.startswith("webhook-")}
    headers = {
        "token only, as from a GitLab that ignores signing_token":
            plain | {"X-Gitlab-Token": SIGNING_KEY},
        "valid signature": signed,
        "valid signature and token": signed | {"X-Gitlab-Token": SIGNING_KEY},
        "wrong token": plain | {"X-Gitlab-Token": "whsec_" + "QUJD" * 8},
        "no secret at all": plain,
        "bad signature, right token": _signed(body, key="whsec_" + "QUJD" * 8)
        | {"X-Gitlab-Token": SIGNING_KEY},
    }[case]

    assert client.post(URL, data=body, headers=headers).status_code == status
    assert _stored(services) == ((1, 1) if status == 202 else (0, 0))


def test_a_signing_token_accepts_a_valid_standard_webhooks_signature(
        signed_client: tuple[Any, Services]) -> None:
    client, services = signed_client
    body = json.dumps(_doc("push_hook")).encode()

    assert client.post(URL, data=body, headers=_signed(body)).status_code == 202
    [job] = _progress_jobs(services)
    assert job.payload["event_key"] == "gitlab:id:msg_2mAnCcdSk2wYMaWJbVvXU7"


@pytest.mark.parametrize("case", ["tampered body", "other key", "stale", "future",
                                  "no signature", "the key as X-Gitlab-Token"])
def test_a_signing_token_refuses_anything_but_a_fresh_valid_signature(
        signed_client: tuple[Any, Services], case: str) -> None:
    """With ``signed_webhooks = true`` only a signature counts, never the key in clear."""
    client, services = signed_client
    body = json.dumps(_doc("push_hook")).encode()
    headers = _signed(body)
    if case == "tampered body":
        body = body.replace(b'"jsmith"', b'"mallory"')
    elif case == "other key":
        headers = _signed(body, key="whsec_" + "QUJD" * 8)
    elif case in ("stale", "future"):
        headers = _signed(body, at=FROZEN + timedelta(minutes=-6 if case == "stale" else 6))
    else:
        headers = {k: v for k, v in headers.items() if k != "webhook-signature"}
        if case == "the key as X-Gitlab-Token":
            headers["X-Gitlab-Token"] = SIGNING_KEY

    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert _stored(services) == (0, 0)


def test_a_redelivery_with_the_same_idempotency_key_does_nothing(
        client: Any, services: Services) -> None:
    first = _post(client, "Push Hook", _doc("push_hook"), key="a1b2")
    again = [_post(client, "Push Hook", _doc("push_hook"), key="a1b2") for _ in range(5)]

    assert first.status_code == 202
    assert {(a.status_code, a.get_json()["duplicate"]) for a in again} == {(200, True)}
    assert _stored(services) == (1, 1)


def test_the_event_uuid_is_not_a_delivery_id_but_a_hash_is(
        client: Any, services: Services) -> None:
    push, wiki = _doc("push_hook"), _doc("wiki_page_hook")
    codes = [_post(client, "Push Hook", push, key="k1").status_code,
             _post(client, "Push Hook", push, key="k2").status_code,  # same event UUID
             _post(client, "Wiki Page Hook", wiki, key=None).status_code,
             _post(client, "Wiki Page Hook", wiki, key=None).status_code]

    assert codes == [202, 202, 202, 200]
    assert _stored(services) == (3, 3)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=25)
FIELDS = ("project", "object_attributes", "ref", "after", "user", "user_username", "commits",
          "total_commits_count", "action", "name", "tag", "user_name")
NAMES = ("push_hook", "merge_request_hook", "wiki_page_hook", "pipeline_hook", "tag_push_hook",
         "release_hook", "issue_hook")


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["bytes", "json", "mutated"]))
    if shape == "bytes":
        return draw(st.binary(max_size=300))
    if shape == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    doc = copy.deepcopy(_doc(draw(st.sampled_from(NAMES))))
    doc.update(draw(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=3)))
    if isinstance(doc.get("object_attributes"), dict):
        doc["object_attributes"].update(draw(st.dictionaries(
            st.sampled_from(["action", "status", "title", "iid", "id", "ref"]), JSON_VALUES,
            max_size=3)))
    return json.dumps(doc).encode()


@hsettings(max_examples=300, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies(), event=st.sampled_from(EVENTS) | st.text(
    st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
def test_no_body_ever_gets_a_500(client: Any, event: str, body: bytes) -> None:
    answer = client.post(URL, data=body, headers=_headers(event, key=None))

    assert answer.status_code in (200, 202, 422)


# -- the handler: aggregated notes on step 12 --

def _case(services: Services, fake: FakeTracker, project_id: int, *, step12: bool = True) -> int:
    """A case linked to ``project_id``; returns its step-12 subtask's id (0 if none)."""
    key = f"DINKES:027/{project_id}/2026"
    issue_id = 0
    if step12:
        issue_id = fake.open_issue(IssueDraft(key=f"{key}#12", kind="step", subject="Langkah 12",
                                              description="", status="In Progress")).id
    with services.engine.begin() as conn:
        case_id = cases.record_intake(
            conn, case_key=key, opd="DINKES", nomor_surat=f"027/{project_id}/2026",
            nama_aplikasi="SI Puskesmas", letter={}, attachments=[],
            inbox=Delivery("intake", f"test:{key}", {}, b"{}"), clock=services.clock).case_id
        if step12:
            cases.upsert_case_step(conn, case_id, 12, state=StepState.ACTIVE,
                                   redmine_issue_id=issue_id)
        link_project(conn, CaseProject(case_id, project_id, "diskominfo/aplikasi/si-puskesmas",
                                       "http://gitlab.test/p", "http://gitlab.test/p/-/wikis"))
    return issue_id


def _work(services: Services) -> int:
    """Run the due jobs as the worker would."""
    handlers = {OPEN_CASE: lambda job: None,
                GITLAB_PROGRESS: lambda job: record_progress(services, job.payload)}
    return jobs.drain(services.engine, handlers, "test-worker", clock=services.clock)


def _push(client: Any, key: str, **changes: Any) -> None:
    doc = _doc("push_hook") | changes
    assert _post(client, "Push Hook", doc, key=key).status_code == 202


def _notes(fake: FakeTracker, issue_id: int) -> list[str]:
    return list(fake.issues[issue_id].notes)


def test_pushes_within_the_interval_make_one_note_then_a_new_one_after_it(
        client: Any, services: Services, fake: FakeTracker, clock: Clock) -> None:
    issue_id = _case(services, fake, 15)
    for minute, key in ((0, "p1"), (10, "p2"), (20, "p3")):
        clock.now = FROZEN + timedelta(minutes=minute)
        _push(client, key)
        _work(services)
    clock.now = FROZEN + timedelta(minutes=59)
    assert flush_progress(services) == 0 and _notes(fake, issue_id) == []

    clock.now = FROZEN + timedelta(minutes=60)
    assert flush_progress(services) == 1
    line = '— 4 commit ke master oleh jsmith: "fixed readme"'
    assert _notes(fake, issue_id) == [
        "*Progres GitLab: push ke cabang utama* (3 kejadian; ringkasan #1)\n\n"
        f"* 16/03 09:00 {line}\n* 16/03 09:10 {line}\n* 16/03 09:20 {line}"]

    clock.advance(5)
    _push(client, "p4", total_commits_count=1)
    _work(services)
    clock.advance(30)
    assert flush_progress(services) == 0
    clock.advance(30)
    _push(client, "p5", total_commits_count=2)  # the next event writes the due note itself
    _work(services)
    assert len(_notes(fake, issue_id)) == 2
    assert _notes(fake, issue_id)[1] == (
        "*Progres GitLab: push ke cabang utama* (2 kejadian; ringkasan #2)\n\n"
        '* 16/03 10:05 — 1 commit ke master oleh jsmith: "fixed readme"\n'
        '* 16/03 11:05 — 2 commit ke master oleh jsmith: "fixed readme"')
    assert flush_progress(services) == 0


def test_each_kind_has_its_own_note(client: Any, services: Services, fake: FakeTracker,
                                    clock: Clock) -> None:
    issue_id = _case(services, fake, 1)
    assert _post(client, "Pipeline Hook", _doc("pipeline_hook"), key="a").status_code == 202
    assert _post(client, "Wiki Page Hook", _doc("wiki_page_hook"), key="b").status_code == 202
    _work(services)
    clock.advance(60)

    assert flush_progress(services) == 2
    assert _notes(fake, issue_id) == [
        "*Progres GitLab: pipeline selesai* (1 kejadian; ringkasan #1)\n\n"
        "* 16/03 09:00 — Pipeline #31 pada master berhasil",
        "*Progres GitLab: halaman wiki* (1 kejadian; ringkasan #1)\n\n"
        '* 16/03 09:00 — Halaman wiki "Awesome" dibuat oleh root']


def test_a_long_window_lists_the_latest_ten_lines_and_counts_the_rest(
        client: Any, services: Services, fake: FakeTracker, clock: Clock) -> None:
    issue_id = _case(services, fake, 15)
    for n in range(1, 13):
        _push(client, f"k{n}", total_commits_count=n)
    _work(services)
    clock.advance(60)
    flush_progress(services)

    [note] = _notes(fake, issue_id)
    lines = note.splitlines()
    assert lines[0] == "*Progres GitLab: push ke cabang utama* (12 kejadian; ringkasan #1)"
    assert lines[2] == "* ... dan 2 kejadian sebelumnya"
    assert lines[3].startswith("* 16/03 09:00 — 3 commit") and len(lines) == 13


def test_an_event_for_an_unknown_project_does_nothing(
        client: Any, services: Services, fake: FakeTracker, clock: Clock) -> None:
    issue_id = _case(services, fake, 999)
    _push(client, "x")
    assert _work(services) == 2  # open_case and gitlab_progress, both done
    clock.advance(120)

    assert flush_progress(services) == 0
    assert _notes(fake, issue_id) == []
    assert {j.status.value for j in _progress_jobs(services)} == {"done"}
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(gitlab_progress)).scalar_one() == 0


def test_a_job_run_twice_counts_its_event_once(
        services: Services, fake: FakeTracker, clock: Clock, client: Any) -> None:
    issue_id = _case(services, fake, 15)
    _push(client, "once")
    [job] = _progress_jobs(services)
    record_progress(services, job.payload)
    record_progress(services, job.payload)  # a lease lost, the job redone
    clock.advance(60)
    flush_progress(services)

    assert _notes(fake, issue_id)[0].startswith(
        "*Progres GitLab: push ke cabang utama* (1 kejadian; ringkasan #1)")


def test_a_note_is_written_once_when_redmine_fails_or_the_clear_is_lost(
        services: Services, fake: FakeTracker, clock: Clock, client: Any) -> None:
    issue_id = _case(services, fake, 15)
    _push(client, "r1")
    _work(services)
    clock.advance(60)
    fake.down = True
    with pytest.raises(RemoteUnavailable):
        flush_progress(services)
    fake.down = False
    assert flush_progress(services) == 1
    [note] = _notes(fake, issue_id)
    with services.engine.begin() as conn:  # as if the worker died before clearing it
        conn.execute(update(gitlab_progress).values(outgoing_note=note))

    assert flush_progress(services) == 0
    assert _notes(fake, issue_id) == [note]


def test_lines_wait_until_step_12_has_its_subtask(
        services: Services, fake: FakeTracker, clock: Clock, client: Any) -> None:
    _case(services, fake, 15, step12=False)
    _push(client, "early")
    _work(services)
    clock.advance(90)
    assert flush_progress(services) == 0

    issue_id = fake.open_issue(IssueDraft(key="late#12", kind="step", subject="Langkah 12",
                                          description="", status="In Progress")).id
    case = cases.find_case_by_key(services.engine, "DINKES:027/15/2026")
    assert case is not None
    with services.engine.begin() as conn:
        cases.upsert_case_step(conn, case.id, 12, state=StepState.ACTIVE,
                               redmine_issue_id=issue_id)
    assert flush_progress(services) == 1
    assert "(1 kejadian; ringkasan #1)" in _notes(fake, issue_id)[0]


def test_hostile_text_cannot_embed_images_or_macros(
        services: Services, fake: FakeTracker, clock: Clock, client: Any) -> None:
    issue_id = _case(services, fake, 1)
    doc = _merged()
    doc["object_attributes"]["title"] = ("!http://evil.test/x.png! ![a](http://evil.test/y) "
                                         "{{include(Rahasia)}}\n<script>x</script>")
    assert _post(client, "Merge Request Hook", doc, key="h").status_code == 202
    _work(services)
    clock.advance(60)
    flush_progress(services)

    [note] = _notes(fake, issue_id)
    assert note.splitlines()[2] == (
        '* 16/03 09:00 — MR !1 "! http://evil.test/x.png! ! [a](http://evil.test/y) '
        '{ {include(Rahasia)} } <scr…" digabung ke master oleh root')  # clipped at 80
