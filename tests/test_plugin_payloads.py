"""The plugin's hints pass the same parser tests as Redmine 7's captured native webhooks.

``sop_connector__issue_updated.json`` was captured from the plugin (``SopConnector::Payload``)
on Debian 12's Redmine 5.0.4; the real-Redmine tests also compare every live hint's shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.services import Services
from connector.store import jobs
from tests.test_redmine_webhooks import (  # noqa: F401  (fixtures)
    NATIVE_URL,
    _app,
    _bad_signatures,
    _signed,
    _stored,
    _sync_jobs,
    client,
    settings,
)

PAYLOADS = Path(__file__).parent / "payloads"
CAPTURES = ["redmine7__issue_updated", "sop_connector__issue_updated"]


def _body(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def shape(value: Any) -> Any:
    """The key tree of a JSON document: dicts keep their keys, lists their first item's shape."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict) else []
    return None


def test_the_plugin_sends_the_shape_of_redmine7() -> None:
    native = shape(json.loads(_body("redmine7__issue_updated")))
    ours = shape(json.loads(_body("sop_connector__issue_updated")))
    assert ours == native


@pytest.mark.parametrize("name", CAPTURES)
def test_a_signed_capture_is_stored_and_queues_one_sync(
        client, services: Services, name: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    body = _body(name)
    data = json.loads(body)["data"]
    issue_id, journal_id = data["issue"]["id"], data["journal"]["id"]

    codes = [client.post(NATIVE_URL, data=body, headers=_signed(body)).status_code
             for _ in range(5)]

    assert codes == [202, 200, 200, 200, 200]
    assert _sync_jobs(services) == [({"issue_id": issue_id, "journal_id": journal_id},
                                     f"sync_issue:{issue_id}:journal:{journal_id}")]
    [job] = jobs.list_jobs(services.engine)
    assert job.inbox_id is not None


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("case", range(6))
def test_a_capture_with_a_bad_signature_is_refused(
        client, services: Services, name: str, case: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    body = _body(name)
    headers = {"Content-Type": "application/json"} | _bad_signatures(body)[case]

    assert client.post(NATIVE_URL, data=body, headers=headers).status_code == 401
    tampered = body.replace(b'"id": ', b'"id": 9', 1)
    assert client.post(NATIVE_URL, data=tampered, headers=_signed(body)).status_code == 401
    assert _stored(services) == (0, 0)
