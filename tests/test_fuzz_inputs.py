"""Bad input everywhere: every parser answers only with its declared error, every endpoint
with a declared status (never a 500), and nothing is stored when a request is refused."""

from __future__ import annotations

import contextlib
import json
import math
import re
import tempfile
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connector.bootstrap import bootstrap
from connector.codehost.events import ProgressEvent
from connector.config import load_settings
from connector.errors import ConfigError, SopError
from connector.gitlab.events import ROUTES, Ignored, classify
from connector.intake.letter import FieldProblem, Letter, parse_letter
from connector.redmine.events import parse_hint
from connector.services import Services
from connector.signatures import (
    SignatureError,
    hmac_sha256_hex,
    verify_bearer,
    verify_hmac_sha256,
    verify_standard_webhook,
    verify_token,
)
from connector.sop.loader import parse_sop
from connector.store.schema import metadata
from connector.workflow.drafts import parse_step_key
from tests.conftest import (
    CONFIG,
    FROZEN,
    INTAKE_TOKEN,
    another_client,
    auth,
    sample_letter,
    write_config,
)
from tests.dashboard_forms import sign_in_with_token
from tests.fakes import FakeTracker
from webhooks import create_app
from webhooks.openapi import SPEC

FAST = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

# -- TOML documents built from arbitrary values ------------------------------------------------

_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_string(text: str) -> str:
    """A TOML basic string holding exactly ``text`` (control characters escaped)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (tables inline too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_key(key: str) -> str:
    return key if _KEY.fullmatch(key) else toml_string(key)


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(),
    st.text(max_size=40), st.sampled_from(["", " ", "DINKES", "../x", "\x00", "whsec_", "0",
                                           "Asia/Makassar", "Mars/Olympus", "sqlite:///",
                                           "http://", "#1", "{seq:03d}", "{nope}"]),
    st.dates(), st.datetimes(timezones=st.just(UTC)), st.times())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def base_config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.format(db="/nonexistent/store.db", redmine_url="http://r.test",
                                       dinkes="", bappeda=""))


CONFIG_KEYS = sorted({m for m in re.findall(r"^#? ?([a-z_]+) ?=", Path(
    "config.example.toml").read_text(), re.M)} | {"file", "root", "agencies", "kop", "nomor"})


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """``base`` with a few values replaced, keys added, tables dropped or turned to values."""
    data = json.loads(json.dumps(base, default=str))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from([*sorted(data), "gitlab", "local_git", "sop",
                                                      "dashboard", "documents", "nope"]))
        action = draw(st.sampled_from(["set", "set", "set", "drop", "replace"]))
        if action == "drop":
            data.pop(section, None)
        elif action == "replace" or not isinstance(data.get(section, {}), dict):
            data[section] = draw(values)
        else:
            table = data.setdefault(section, {})
            table[draw(st.sampled_from(keys) | st.text(max_size=10))] = draw(values)
    return data


def _load_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_settings(path)
        except ConfigError as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@FAST
@given(document=mutated(base_config(), CONFIG_KEYS))
def test_a_mutated_configuration_fails_only_with_config_error(document: dict[str, Any],
                                                              env: None) -> None:
    _load_text(toml_document(document))


@FAST
@given(text=st.text(max_size=300))
def test_any_text_as_configuration_fails_only_with_config_error(text: str) -> None:
    _load_text(text)


def test_the_base_configuration_of_the_fuzzer_is_valid(env: None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(toml_document(base_config()))
        assert load_settings(path).opd.agencies["DINKES"].name == "Dinas Kesehatan"


# -- SOP files ------------------------------------------------------------------------------

BUNDLED = resources.files("connector.sop").joinpath("sumbawa.toml").read_text("utf-8")
STEP_KEYS = ["number", "title", "text", "role", "inputs", "outputs", "time", "next", "decision",
             "terminal", "requires_document", "automation", "documents", "gate", "amount",
             "unit", "cumulative", "ya", "tidak"]


@st.composite
def mutated_sop(draw: st.DrawFn) -> str:
    data = tomllib.loads(BUNDLED)
    steps = data["steps"]
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["set", "set", "set", "drop_key", "drop_step", "dup",
                                       "header"]))
        index = draw(st.integers(0, len(steps) - 1)) if steps else 0
        if not steps or action == "header":
            data[draw(st.sampled_from(["sop", "steps", "other"]))] = draw(values)
            steps = data["steps"] if isinstance(data.get("steps"), list) else []
        elif action == "drop_step":
            steps.pop(index)
        elif action == "dup":
            steps.append(json.loads(json.dumps(steps[index], default=str)))
        elif action == "drop_key" and isinstance(steps[index], dict) and steps[index]:
            steps[index].pop(draw(st.sampled_from(sorted(steps[index]))))
        elif isinstance(steps[index], dict):
            target = steps[index]
            nested = draw(st.sampled_from(["", "time", "decision"]))
            if nested and isinstance(target.get(nested), dict):
                target = target[nested]
            target[draw(st.sampled_from(STEP_KEYS))] = draw(values)
    return toml_document(data)


@settings(FAST, max_examples=200)
@given(text=mutated_sop())
def test_a_mutated_sop_fails_only_with_sop_error(text: str) -> None:
    try:
        parse_sop(text, source="fuzz.toml")
    except SopError as exc:
        assert exc.problems


@FAST
@given(text=st.text(max_size=300))
def test_any_text_as_sop_fails_only_with_sop_error(text: str) -> None:
    with pytest.raises(SopError):
        parse_sop(text, source="fuzz.toml")


def test_the_bundled_sop_survives_the_writer() -> None:
    assert len(parse_sop(toml_document(tomllib.loads(BUNDLED)), source="x").steps) == 17


# -- parsers of deliveries --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5), max_leaves=20)


@st.composite
def letter_like(draw: st.DrawFn) -> Any:
    letter: dict[str, Any] = sample_letter()
    for key in draw(st.lists(st.sampled_from([*letter, "kontak.email", "lampiran.0", "x"]),
                             max_size=3)):
        head, _, tail = key.partition(".")
        if tail and isinstance(letter.get(head), dict):
            letter[head][tail] = draw(json_values)
        elif tail and isinstance(letter.get(head), list) and letter[head]:
            letter[head][0] = draw(json_values)
        else:
            letter[head] = draw(json_values)
    return draw(st.just(letter) | json_values)


@FAST
@given(data=letter_like(), limit=st.integers(0, 100))
def test_a_letter_is_parsed_or_its_problems_are_named(data: Any, limit: int) -> None:
    found = parse_letter(data, max_attachment_bytes=limit)
    assert isinstance(found, Letter) or (
        found and all(isinstance(p, FieldProblem) and p.problem for p in found))


@st.composite
def gitlab_like(draw: st.DrawFn) -> tuple[str, Any]:
    event, action = draw(st.sampled_from(sorted(ROUTES)))
    document: dict[str, Any] = {
        "object_kind": draw(st.sampled_from(["push", "merge_request", "wiki_page", "pipeline",
                                             "tag_push", "release"])),
        "project": {"id": draw(json_values | st.integers(1, 10))},
        "object_attributes": draw(st.dictionaries(
            st.sampled_from(["action", "state", "status", "title", "url", "ref", "iid",
                             "source_branch", "target_branch", "slug"]),
            json_values | st.just(action))),
        "user": draw(st.dictionaries(st.sampled_from(["username", "name"]), json_values)),
        "user_username": draw(json_values), "ref": draw(json_values),
        "commits": draw(st.lists(st.dictionaries(st.sampled_from(["id", "message", "title"]),
                                                 json_values), max_size=3)),
        "total_commits_count": draw(json_values), "after": draw(json_values),
        "before": draw(json_values), "name": draw(json_values), "tag": draw(json_values),
        "action": draw(json_values | st.just(action)),
    }
    drop = draw(st.lists(st.sampled_from(sorted(document)), max_size=4))
    return event, {k: v for k, v in document.items() if k not in drop}


@FAST
@given(delivery=gitlab_like() | st.tuples(st.text(max_size=20), json_values),
       me=st.text(max_size=8))
def test_a_gitlab_delivery_is_read_or_ignored(delivery: tuple[str, Any], me: str) -> None:
    event, document = delivery
    outcome = classify(event, document, received_at=FROZEN, service_username=me)
    assert isinstance(outcome, ProgressEvent | Ignored)
    if isinstance(outcome, ProgressEvent):
        assert ProgressEvent.from_payload(outcome.as_payload()) == outcome


@FAST
@given(payload=st.dictionaries(st.sampled_from(["project_id", "kind", "summary_line", "at"]),
                               json_values | st.datetimes().map(datetime.isoformat)))
def test_a_job_payload_is_read_back_or_refused_with_value_error(payload: dict[str, Any]) -> None:
    with contextlib.suppress(ValueError):
        ProgressEvent.from_payload(payload)


@FAST
@given(document=json_values | st.fixed_dictionaries({"data": st.fixed_dictionaries({
    "issue": st.dictionaries(st.sampled_from(["id", "updated_on"]), json_values),
    "journal": json_values})}), envelope=st.sampled_from(["payload", "data"]))
def test_a_redmine_hint_is_an_issue_or_nothing(document: Any, envelope: str) -> None:
    hint = parse_hint(document, envelope, b"{}")
    assert hint is None or hint.issue_id > 0


@FAST
@given(key=st.text(max_size=30) | st.builds("{}#{}".format, st.text(max_size=10),
                                            st.text(max_size=4) | st.sampled_from(
                                                ["1", "007", "²", "٣", "¹2", "1\n"])))
@example(key="DINKES:027/145/DINKES/2026#²")
def test_a_step_key_is_read_or_not_a_step(key: str) -> None:
    found = parse_step_key(key)
    assert found is None or (found[1] >= 0 and found[0] == key.rpartition("#")[0])


@FAST
@given(header=st.text(max_size=60) | st.none(), secret=st.text(max_size=20) | st.none(),
       body=st.binary(max_size=50),
       headers=st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp",
                                                "webhook-signature", "x"]),
                               st.text(max_size=40) | st.integers(0, 2**40).map(str)))
def test_signature_checks_fail_only_with_signature_error(header: str | None, secret: str | None,
                                                         body: bytes,
                                                         headers: dict[str, str]) -> None:
    checks = [lambda: verify_bearer(header, secret),
              lambda: verify_token(header, secret, header="X-Gitlab-Token"),
              lambda: verify_hmac_sha256(header, secret, body),
              lambda: verify_standard_webhook(headers, body, secret, now=FROZEN.timestamp()),
              lambda: verify_standard_webhook(headers, body, "whsec_" + (secret or ""),
                                              now=FROZEN.timestamp())]
    for check in checks:
        try:
            check()
        except SignatureError as exc:
            assert str(exc)


# -- endpoints: size limits, query parameters -------------------------------------------------

REDMINE_SECRET, GITLAB_TOKEN, ACCESS_TOKEN = "fuzz-redmine-secret", "fuzz-gitlab", "fuzz-dash"
EXTRA = """redmine_secret_env = "SOP_FUZZ_REDMINE_SECRET"
gitlab_token_env = "SOP_FUZZ_GITLAB_TOKEN"

[dashboard]
access_token_env = "SOP_FUZZ_ACCESS_TOKEN"
redmine_login = false  # a sign-in form never reaches out to a Redmine
"""


@pytest.fixture
def fuzz_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  env: None) -> Iterator[Services]:
    monkeypatch.setenv("SOP_FUZZ_REDMINE_SECRET", REDMINE_SECRET)
    monkeypatch.setenv("SOP_FUZZ_GITLAB_TOKEN", GITLAB_TOKEN)
    monkeypatch.setenv("SOP_FUZZ_ACCESS_TOKEN", ACCESS_TOKEN)
    built = bootstrap(load_settings(write_config(tmp_path, extra=EXTRA)),
                      tracker=FakeTracker(), clock=lambda: FROZEN)
    yield built
    built.engine.dispose()


@pytest.fixture
def app(fuzz_services: Services) -> Flask:
    return create_app(fuzz_services)


def stored_rows(services: Services) -> dict[str, int]:
    with services.engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables}


POSTS = [("/webhooks/intake", auth()), (f"/webhooks/redmine/{REDMINE_SECRET}", {}),
         ("/webhooks/redmine", {"X-Redmine-Signature-256": "sha256=00"}),
         ("/webhooks/gitlab", {"X-Gitlab-Token": GITLAB_TOKEN, "X-Gitlab-Event": "Push Hook"}),
         ("/dashboard/masuk", {}), ("/dashboard/keluar", {}),
         # Issue 17: the public upload of the verification page, and the signing form.
         ("/verifikasi/tidak-dikenal", {}), ("/dashboard/tandatangan/tidak-dikenal", {}),
         ("/dashboard/tandatangan/tidak-dikenal/totp", {})]


def test_every_post_endpoint_is_listed_here(app: Flask) -> None:
    posts = {re.sub(r"<[^>]+>", "*", r.rule) for r in app.url_map.iter_rules()
             if "POST" in (r.methods or set())}
    listed = {re.sub(r"^(/webhooks/redmine|/verifikasi|/dashboard/tandatangan)/[^/]+",
                     r"\1/*", p) for p, _ in POSTS}
    assert posts == listed  # sign-out reads its form too (the CSRF token, issue 20)


@pytest.mark.parametrize(("path", "headers"), POSTS, ids=[p for p, _ in POSTS])
@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(
        app: Flask, fuzz_services: Services, path: str, headers: dict[str, str],
        content_type: str) -> None:
    limit = fuzz_services.settings.server.max_body_bytes
    before = stored_rows(fuzz_services)
    body = b'{"a": "' + b"x" * limit + b'"}'
    answer = app.test_client().post(path, data=body, headers={**headers,
                                                               "Content-Type": content_type})
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "request_entity_too_large"
    assert stored_rows(fuzz_services) == before
    # Declared length over the limit, whatever was really sent: refused without reading.
    answer = app.test_client().post(path, data=b"{}", headers={
        **headers, "Content-Type": content_type},
        environ_overrides={"CONTENT_LENGTH": str(limit + 1)})
    assert answer.status_code == 413 and stored_rows(fuzz_services) == before


def test_signing_out_with_a_large_body_changes_nothing(app: Flask,
                                                       fuzz_services: Services) -> None:
    before = stored_rows(fuzz_services)
    body = b"x" * (fuzz_services.settings.server.max_body_bytes + 1)
    answer = app.test_client().post("/dashboard/keluar", data=body)
    assert answer.status_code in (302, 413) and stored_rows(fuzz_services) == before


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(another_client())  # fuzzed wrong tokens: not one throttled client
    assert sign_in_with_token(client, ACCESS_TOKEN).status_code == 302
    return client


query_text = st.text(max_size=30) | st.sampled_from(["open", "semua", "OPEN", "2026-03",
                                                     "2026-13", "0000-00", "9999-12", "-1"])


@FAST
@given(query=st.dictionaries(st.sampled_from(["opd", "status", "month", "next", "token", "x"]),
                             query_text, max_size=4),
       path=st.sampled_from(["/api/cases", "/dashboard", "/dashboard/recap",
                             "/dashboard/recap.csv", "/dashboard/masuk"]))
@example(query={"month": "0000-01"}, path="/dashboard/recap")
@example(query={"month": "9999-12"}, path="/dashboard/recap.csv")
def test_query_parameters_never_cause_a_server_error(app: Flask, query: dict[str, str],
                                                     path: str) -> None:
    answer = signed_in(app).get(path, query_string=query)
    assert answer.status_code in (200, 302, 400, 403), answer.get_data(as_text=True)[:300]


@FAST
@given(case_id=st.integers(min_value=0, max_value=2**80) | st.text(max_size=12),
       where=st.sampled_from(["/api/cases/", "/dashboard/cases/"]))
def test_case_ids_never_cause_a_server_error(app: Flask, case_id: int | str,
                                             where: str) -> None:
    answer = signed_in(app).get(f"{where}{case_id}", headers=auth(INTAKE_TOKEN))
    assert answer.status_code in (200, 404), answer.status_code


def test_the_fuzzed_pages_do_show_a_stored_case(app: Flask) -> None:
    client = signed_in(app)
    assert client.post("/webhooks/intake", json=sample_letter(), headers=auth()).status_code == 202
    assert client.get("/dashboard/cases/1").status_code == 200
    assert client.get("/api/cases", query_string={"status": "semua"}).get_json()["cases"]


@settings(FAST, max_examples=60)
@given(target=st.sampled_from(POSTS), signed=st.booleans(),
       body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
       content_type=st.sampled_from(["application/json", "text/plain",
                                     "application/x-www-form-urlencoded", ""]))
def test_any_body_is_answered_as_declared_and_stored_only_when_accepted(
        app: Flask, fuzz_services: Services, target: tuple[str, dict[str, str]], signed: bool,
        body: bytes, content_type: str) -> None:
    path, headers = target
    if path == "/webhooks/redmine" and signed:
        headers = {"X-Redmine-Signature-256": "sha256=" + hmac_sha256_hex(REDMINE_SECRET, body)}
    elif not signed:
        headers = {"Authorization": "Bearer nope", "X-Gitlab-Token": "nope"}
        path = path.replace(REDMINE_SECRET, "nope")
    before = stored_rows(fuzz_services)
    answer = app.test_client().post(path, data=body, headers={
        **headers, **({"Content-Type": content_type} if content_type else {})},
        environ_base=another_client())  # each example its own client: not throttled
    spec_path = re.sub(r"^(/verifikasi|/dashboard/tandatangan)/[^/]+", r"\1/{token}",
                       path.replace(REDMINE_SECRET, "{secret}").replace("/nope", "/{secret}"))
    declared = SPEC["paths"].get(spec_path, {})["post"]["responses"]
    assert str(answer.status_code) in declared, (path, answer.status_code)
    if answer.status_code != 202:
        assert stored_rows(fuzz_services) == before, (path, answer.status_code)
