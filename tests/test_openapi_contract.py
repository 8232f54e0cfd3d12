"""The OpenAPI description is whole and true: every route is described, and the running app's
answers to generated requests (schemathesis 4) match what the description says."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from connector.signatures import hmac_sha256_hex, standard_webhook_signature
from tests.conftest import FROZEN, INTAKE_TOKEN, auth, sample_letter, write_config
from tests.dashboard_forms import sign_in_with_token
from tests.fakes import FakeTracker
from webhooks import create_app, openapi_markdown
from webhooks.openapi import SPEC
from webhooks.openapi_markdown import DEFAULT_PAGE, render_markdown

REDMINE_SECRET = "redmine-secret-for-contract-tests"
GITLAB_TOKEN = "gitlab-token-for-contract-tests"
ACCESS_TOKEN = "dashboard-token-for-contract-tests"
EXTRA = """redmine_secret_env = "SOP_TEST_REDMINE_SECRET"
gitlab_token_env = "SOP_TEST_GITLAB_TOKEN"

[dashboard]
access_token_env = "SOP_TEST_ACCESS_TOKEN"
redmine_login = false
"""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Operations whose inputs have constraints that negative generation can break (the others
# take free text or any JSON, so nothing sent to them is invalid by their description).
CONSTRAINED = {"POST /webhooks/intake", "GET /api/cases", "GET /api/cases/{case_id}",
               "GET /dashboard", "GET /dashboard/cases/{case_id}"}
# schemathesis reads a streamed file answer (the stylesheet) without closing it, as a WSGI
# server would; the warning is about the test transport, not the app.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*dashboard.css:pytest.PytestUnraisableExceptionWarning")


def openapi_path(rule: str) -> str:
    """``/api/cases/<int:case_id>`` as OpenAPI writes it: ``/api/cases/{case_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: None) -> Iterator[Flask]:
    monkeypatch.setenv("SOP_TEST_REDMINE_SECRET", REDMINE_SECRET)
    monkeypatch.setenv("SOP_TEST_GITLAB_TOKEN", GITLAB_TOKEN)
    monkeypatch.setenv("SOP_TEST_ACCESS_TOKEN", ACCESS_TOKEN)
    built: Services = bootstrap(load_settings(write_config(tmp_path, extra=EXTRA)),
                                tracker=FakeTracker(), clock=lambda: FROZEN)
    flask_app = create_app(built)
    client = flask_app.test_client()  # one stored case, so that case pages have one to show
    assert client.post("/webhooks/intake", json=sample_letter(), headers=auth()).status_code == 202
    yield flask_app
    built.engine.dispose()


def test_every_route_is_described_and_nothing_else(app: Flask) -> None:
    routes = {(openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules()
              for method in (rule.methods or set()) - IGNORED_METHODS}
    described = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert routes == described


def test_the_served_description_is_the_one_in_the_code(app: Flask) -> None:
    served = app.test_client().get("/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == json.loads(json.dumps(SPEC))


def test_every_operation_declares_security_and_answers_with_examples() -> None:
    schemes = set(SPEC["components"]["securitySchemes"])
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, (method, path)
            used = {name for requirement in operation["security"] for name in requirement}
            assert used <= schemes, (method, path)
            assert operation["summary"] and operation["responses"], (method, path)
            if method == "post" and operation.get("requestBody"):
                assert "413" in operation["responses"], (method, path)


def _signed(case: Any, body: bytes) -> dict[str, str]:
    """The credentials the operation needs for ``body``, as the real senders send them."""
    path = case.operation.path
    if path == "/webhooks/intake" or path.startswith("/api/cases/"):
        return auth(INTAKE_TOKEN)
    if path == "/webhooks/redmine":
        return {"X-Redmine-Signature-256": "sha256=" + hmac_sha256_hex(REDMINE_SECRET, body)}
    if path == "/webhooks/gitlab":
        return {"X-Gitlab-Token": GITLAB_TOKEN}
    if path == "/api/cases":
        return auth(ACCESS_TOKEN)
    if path == "/api/redmine/issues/{issue_id}/panel":
        return auth(REDMINE_SECRET)
    return {}


def _encoded(case: Any) -> bytes | None:
    """The bytes to send for a JSON body (negative generation may give raw bytes)."""
    if case.media_type != "application/json" or case.body is NOT_SET:
        return None
    return case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()


def _session_cookie(app: Flask) -> str:
    client = app.test_client()
    assert sign_in_with_token(client, ACCESS_TOKEN).status_code == 302
    cookie = client.get_cookie("sop_dashboard")
    assert cookie is not None
    return cookie.value


def _exercise(app: Flask, *, authenticated: bool,
              mode: GenerationMode = GenerationMode.POSITIVE) -> dict[str, set[int]]:
    """Generated requests to every operation; the status codes seen per operation."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    cookie = _session_cookie(app)
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and operation.label not in CONSTRAINED:
            continue

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=8, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            body = _encoded(case)
            headers: dict[str, str] = {}
            cookies: dict[str, str] = {}
            if authenticated:
                headers = _signed(case, body or b"")
                cookies = {"sop_dashboard": cookie}
                if case.operation.path == "/webhooks/redmine/{secret}":
                    case.path_parameters = {"secret": REDMINE_SECRET}
            elif case.operation.path == "/webhooks/redmine/{secret}":
                case.path_parameters = {"secret": "not-the-secret"}
            extra = {"data": body} if body is not None else {}
            response = case.call(app=app, headers=headers, cookies=cookies, **extra)
            case.validate_response(response, checks=CHECKS)
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        run()
    return seen


def test_authenticated_requests_get_only_described_answers(app: Flask) -> None:
    seen = _exercise(app, authenticated=True)
    described = {f"{method.upper()} {path}" for path, item in SPEC["paths"].items()
                 for method in item}
    # Loaded from /openapi.json, schemathesis leaves that operation out; it is checked above.
    assert set(seen) == described - {"GET /openapi.json"}
    assert {200, 202} & seen["POST /webhooks/intake"] or 422 in seen["POST /webhooks/intake"]
    assert 200 in seen["GET /api/cases"] and 200 in seen["GET /dashboard"]


def test_invalid_requests_get_only_described_answers(app: Flask) -> None:
    seen = _exercise(app, authenticated=True, mode=GenerationMode.NEGATIVE)
    assert seen["POST /webhooks/intake"] <= {401, 413, 422}
    assert 422 in seen["POST /webhooks/intake"]
    assert seen["GET /api/cases"] <= {200, 400}
    assert set(seen) == CONSTRAINED


def test_anonymous_requests_are_refused_as_described(app: Flask) -> None:
    seen = _exercise(app, authenticated=False)
    for label in ("POST /webhooks/intake", "POST /webhooks/redmine", "POST /webhooks/gitlab",
                  "POST /webhooks/redmine/{secret}", "GET /api/cases",
                  "GET /api/cases/{case_id}", "GET /api/redmine/issues/{issue_id}/panel"):
        assert seen[label] <= {401, 404, 413}, label
    assert seen["GET /dashboard"] == {302}


def test_a_signed_intake_letter_matches_the_description(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       env: None) -> None:
    """The Standard Webhooks alternative of the intake, with a real signature."""
    secret = "whsec_" + "c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz"
    monkeypatch.setenv("SOP_TEST_SIGNING", secret)
    dinkes = 'intake_signing_secret_env = "SOP_TEST_SIGNING"\n'
    built = bootstrap(load_settings(write_config(tmp_path, dinkes=dinkes)),
                      tracker=FakeTracker(), clock=lambda: FROZEN)
    app = create_app(built)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    case = schema["/webhooks/intake"]["POST"].Case(body=sample_letter(),
                                                    media_type="application/json")
    body = json.dumps(case.body).encode()
    stamp = str(int(time.time()))
    headers = {"webhook-id": "msg_1", "webhook-timestamp": stamp,
               "webhook-signature": standard_webhook_signature(secret, "msg_1", stamp, body)}
    response = case.call(app=app, headers=headers, data=body)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 202
    built.engine.dispose()


def test_the_committed_api_page_is_the_generated_one() -> None:
    """docs/dokumentasi-api.md is stale when this fails: run scripts/api-docs."""
    page = DEFAULT_PAGE.read_text(encoding="utf-8")
    assert page == render_markdown(), "docs/dokumentasi-api.md is stale: run scripts/api-docs"
    for path, item in SPEC["paths"].items():
        for method in item:
            assert f"### {method.upper()} `{path}`" in page


def test_the_api_page_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "dokumentasi-api.md"
    stale.write_text(render_markdown().replace("/webhooks/gitlab", "/webhooks/gitlab-lama"))
    assert openapi_markdown.main(["--check", str(stale)]) == 1
    assert openapi_markdown.main([str(stale)]) == 0
    assert openapi_markdown.main(["--check", str(stale)]) == 0
