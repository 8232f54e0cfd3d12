"""POST /webhooks/intake: authenticate, validate, store, answer; nothing stored on refusal."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connector.services import Services
from connector.signatures import standard_webhook_signature
from connector.store.schema import cases as case_rows
from connector.store.schema import inbox
from connector.store.schema import jobs as job_rows
from tests.conftest import another_client, auth, sample_letter


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _stored(services: Services) -> tuple[int, int, int]:
    return (_count(services, case_rows), _count(services, job_rows), _count(services, inbox))


def test_a_valid_letter_is_stored_and_acknowledged(client, services: Services) -> None:
    answer = client.post("/webhooks/intake", json=sample_letter(), headers=auth())
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["status"] == "received" and body["created"] is True
    # From [server] public_url, not from the request's Host header (issue 20, finding 13).
    assert body["status_url"] == f"http://sop.test/api/cases/{body['case_id']}"
    assert _stored(services) == (1, 1, 1)
    status = client.get(f"/api/cases/{body['case_id']}", headers=auth())
    assert status.status_code == 200
    assert status.get_json()["timeline"][0]["action"] == "case_received"


def test_the_same_letter_again_answers_200_with_the_same_case(client, services: Services) -> None:
    first = client.post("/webhooks/intake", json=sample_letter(), headers=auth()).get_json()
    again = client.post("/webhooks/intake", json=sample_letter(), headers=auth())
    assert again.status_code == 200
    assert again.get_json()["case_id"] == first["case_id"]
    assert again.get_json()["created"] is False
    # The nomor surat is compared without regard to case and spacing.
    respaced = client.post(
        "/webhooks/intake", json=sample_letter(nomor=" 027/145/dinkes/2026 "), headers=auth()
    )
    assert respaced.status_code == 200
    assert _count(services, case_rows) == 1 and _count(services, job_rows) == 1


def test_100_in_a_row_and_20_at_once_make_one_case(services: Services) -> None:
    from webhooks import create_app

    app = create_app(services)
    for _ in range(100):
        assert app.test_client().post(
            "/webhooks/intake", json=sample_letter(), headers=auth()
        ).status_code in (200, 202)
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        barrier.wait()
        answer = app.test_client().post(
            "/webhooks/intake", json=sample_letter(nomor="999/1/DINKES/2026"), headers=auth()
        )
        codes.append(answer.status_code)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 19 + [202]
    assert _count(services, case_rows) == 2 and _count(services, job_rows) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer tökén"},
    ],
)
def test_a_wrong_or_missing_token_is_401_and_nothing_is_stored(
    client, services: Services, headers: dict[str, str]
) -> None:
    answer = client.post("/webhooks/intake", json=sample_letter(), headers=headers)
    assert answer.status_code == 401
    assert _stored(services) == (0, 0, 0)


def test_a_signed_delivery_is_accepted_and_a_tampered_one_refused(
    services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from tests.conftest import write_config
    from webhooks import create_app

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    monkeypatch.setenv("SOP_TEST_SIGNING", secret)
    (tmp_path / "signed").mkdir()
    dinkes = 'intake_signing_secret_env = "SOP_TEST_SIGNING"\n'
    path = write_config(tmp_path / "signed", dinkes=dinkes)
    signed = bootstrap(load_settings(path), tracker=services.tracker)
    client = create_app(signed).test_client()
    body = json.dumps(sample_letter()).encode()
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "Content-Type": "application/json",
        "webhook-signature": standard_webhook_signature(secret, "msg_1", stamp, body),
    }
    assert (
        client.post("/webhooks/intake", data=body[:-1] + b" }", headers=headers).status_code == 401
    )
    assert client.post("/webhooks/intake", data=body, headers=headers).status_code == 202


def _problems(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    return {f["field"]: f["problem"] for f in answer.get_json()["fields"]}


def test_every_faulty_field_is_named(client, services: Services) -> None:
    letter = sample_letter(tanggal_surat="20-11-2026", perihal=7, unknown="x")
    del letter["nama_aplikasi"]
    letter["kontak"]["email"] = "bukan-email"
    letter["lampiran"][0]["nama_file"] = "../../etc/passwd"
    problems = _problems(client.post("/webhooks/intake", json=letter, headers=auth()))
    assert set(problems) == {
        "tanggal_surat",
        "perihal",
        "unknown",
        "nama_aplikasi",
        "kontak.email",
        "lampiran[0].nama_file",
    }
    assert _stored(services) == (0, 0, 0)


def test_an_unknown_opd_is_refused(client, services: Services) -> None:
    problems = _problems(
        client.post("/webhooks/intake", json=sample_letter(opd="DISHUB"), headers=auth())
    )
    assert "DISHUB" in problems["opd"] and "DINKES" in problems["opd"]
    assert _stored(services) == (0, 0, 0)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"a": 1}', "text/plain"),
        (b"[" * 100000, "application/json"),
    ],
)
def test_malformed_bodies_are_422(
    client, services: Services, body: bytes, content_type: str
) -> None:
    answer = client.post(
        "/webhooks/intake", data=body, headers={**auth(), "Content-Type": content_type}
    )
    assert answer.status_code == 422
    assert _stored(services) == (0, 0, 0)


def test_an_oversized_attachment_is_refused(client, services: Services) -> None:
    big = base64.b64encode(b"x" * 100001).decode()
    letter = sample_letter(
        lampiran=[{"nama_file": "besar.pdf", "content_type": "application/pdf", "isi_base64": big}]
    )
    problems = _problems(client.post("/webhooks/intake", json=letter, headers=auth()))
    assert "100000" in problems["lampiran[0].isi_base64"]
    assert _stored(services) == (0, 0, 0)


def test_an_oversized_body_is_413_before_parsing(client, services: Services) -> None:
    answer = client.post(
        "/webhooks/intake",
        data=b"{" + b" " * 2_000_001 + b"}",
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert _stored(services) == (0, 0, 0)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_letters = (
    st.fixed_dictionaries({}, optional={k: _json_values for k in sample_letter()}) | _json_values
)


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=_letters)
def test_fuzzed_bodies_never_cause_a_500(client, services: Services, payload: Any) -> None:
    before = _stored(services)
    answer = client.post("/webhooks/intake", json=payload, headers=auth())
    assert answer.status_code in (200, 202, 422)
    if answer.status_code == 422:
        assert _stored(services) == before


@hsettings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.binary(max_size=300),
    token=st.text(st.characters(blacklist_characters="\r\n\x00"), max_size=40),
)
def test_fuzzed_bytes_and_tokens_never_cause_a_500(
    client, services: Services, raw: bytes, token: str
) -> None:
    headers = {"Content-Type": "application/json"}
    with contextlib.suppress(UnicodeEncodeError):
        headers["Authorization"] = f"Bearer {token}".encode("latin-1").decode("latin-1")
    answer = client.post("/webhooks/intake", data=raw, headers=headers,
                         environ_base=another_client())
    assert answer.status_code in (401, 422)
    assert _stored(services) == (0, 0, 0)


def test_healthz_reports_store_and_queue(client) -> None:
    client.post("/webhooks/intake", json=sample_letter(), headers=auth())
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["store"] == "ok"
    assert body["queue"]["pending"] == 1


def test_openapi_describes_the_endpoints(client) -> None:
    spec = client.get("/openapi.json").get_json()
    assert {"/webhooks/intake", "/api/cases/{case_id}", "/healthz"} <= set(spec["paths"])
    assert set(spec["paths"]["/webhooks/intake"]["post"]["responses"]) >= {
        "202",
        "200",
        "401",
        "422",
    }
