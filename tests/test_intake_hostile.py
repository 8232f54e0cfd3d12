"""Issue 20, the intake side: what a hostile sender tried, and what holds now.

Each test reproduces one finding (the number in its docstring) against the app with a fake
tracker and asserts the whole visible result: the answer, and the store's rows, compared as
a dump of every table before and after (nothing stored means nothing at all).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.errors import ConfigError
from connector.services import Services
from connector.signatures import standard_webhook_signature
from connector.store.migrate import store_metadata
from tests.conftest import FROZEN, INTAKE_TOKEN, another_client, auth, sample_letter, write_config
from tests.dashboard_forms import sign_in_with_token
from tests.fakes import FakeTracker

BAPPEDA_TOKEN = "bappeda-intake-token-0123456789abcdef"
NEXT_TOKEN = "dinkes-next-intake-token-0123456789ab"
GATEWAY_TOKEN = "gateway-intake-token-0123456789abcdef"
DINKES_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BAPPEDA_KEY = "whsec_" + base64.b64encode(b"bappeda-signing-key-32-bytes-ok!").decode()


def store_dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, in a stable order."""
    with engine.connect() as conn:
        return {table.name: sorted(map(tuple, conn.execute(select(table)).all()), key=repr)
                for table in store_metadata().sorted_tables}


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: str) -> FlaskClient:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "redmine-key-for-tests")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    for name, value in {"SOP_T_BAPPEDA": BAPPEDA_TOKEN, "SOP_T_NEXT": NEXT_TOKEN,
                        "SOP_T_GATEWAY": GATEWAY_TOKEN, "SOP_T_DINKES_KEY": DINKES_KEY,
                        "SOP_T_BAPPEDA_KEY": BAPPEDA_KEY}.items():
        monkeypatch.setenv(name, value)
    services = bootstrap(load_settings(write_config(tmp_path, **config)),
                         tracker=FakeTracker(), clock=lambda: FROZEN)
    client = create_app(services).test_client()
    client.application.config["TEST_SERVICES"] = services
    return client


def _services(client: FlaskClient) -> Services:
    found: Services = client.application.config["TEST_SERVICES"]
    return found


TWO_OPDS = {"dinkes": 'intake_token_next_env = "SOP_T_NEXT"\n'
                      'intake_signing_secret_env = "SOP_T_DINKES_KEY"\n',
            "bappeda": 'intake_token_env = "SOP_T_BAPPEDA"\n'
                       'intake_signing_secret_env = "SOP_T_BAPPEDA_KEY"\n'}


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """DINKES and BAPPEDA, each with its own token and signing key (DINKES: two tokens)."""
    return _app(tmp_path, monkeypatch, **TWO_OPDS)


def bappeda_letter(nomor: str = "050/1/BAPPEDA/2026", **changes: Any) -> dict[str, Any]:
    return sample_letter(nomor, opd="BAPPEDA", **changes)


def signed(key: str, body: bytes, *, msg_id: str = "msg_1", at: float | None = None,
           ) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "Content-Type": "application/json",
            "webhook-signature": standard_webhook_signature(key, msg_id, stamp, body)}


# --- finding 1: each OPD its own credential ---------------------------------------------------


def test_a_token_of_one_opd_cannot_send_a_letter_of_another(two: FlaskClient) -> None:
    """Finding 1: DINKES's token files nothing in BAPPEDA's name (and the reverse)."""
    before = store_dump(_services(two).engine)
    answer = two.post("/webhooks/intake", json=bappeda_letter(), headers=auth())
    assert answer.status_code == 403
    assert answer.get_json()["field"] == "opd"
    assert "DINKES" in answer.get_json()["message"] and "BAPPEDA" in answer.get_json()["message"]
    assert two.post("/webhooks/intake", json=sample_letter(),
                    headers=auth(BAPPEDA_TOKEN)).status_code == 403
    assert store_dump(_services(two).engine) == before


def test_a_signing_key_of_one_opd_cannot_sign_a_letter_of_another(two: FlaskClient) -> None:
    """Finding 1 with Standard Webhooks: DINKES's key signs only DINKES's letters."""
    before = store_dump(_services(two).engine)
    body = json.dumps(bappeda_letter()).encode()
    assert two.post("/webhooks/intake", data=body,
                    headers=signed(DINKES_KEY, body)).status_code == 403
    assert store_dump(_services(two).engine) == before
    answer = two.post("/webhooks/intake", data=body, headers=signed(BAPPEDA_KEY, body))
    assert answer.status_code == 202


def test_the_real_letter_is_not_taken_by_an_earlier_forgery(two: FlaskClient) -> None:
    """Finding 1: the forged letter was refused, so the real one later opens its case."""
    forged = bappeda_letter(perihal="Palsu", deskripsi="Dikirim oleh OPD lain.")
    assert two.post("/webhooks/intake", json=forged, headers=auth()).status_code == 403
    real = two.post("/webhooks/intake", json=bappeda_letter(), headers=auth(BAPPEDA_TOKEN))
    assert real.status_code == 202 and real.get_json()["created"] is True


def test_the_status_api_shows_only_the_senders_own_cases(two: FlaskClient) -> None:
    """Finding 1: another OPD's case is 404, exactly like a case that does not exist."""
    mine = two.post("/webhooks/intake", json=bappeda_letter(),
                    headers=auth(BAPPEDA_TOKEN)).get_json()["case_id"]
    theirs = two.post("/webhooks/intake", json=sample_letter(), headers=auth()).get_json()
    assert two.get(f"/api/cases/{mine}", headers=auth(BAPPEDA_TOKEN)).status_code == 200
    refused = two.get(f"/api/cases/{theirs['case_id']}", headers=auth(BAPPEDA_TOKEN))
    missing = two.get("/api/cases/999", headers=auth(BAPPEDA_TOKEN))
    assert (refused.status_code, missing.status_code) == (404, 404)
    assert refused.get_json()["message"] == f"Kasus {theirs['case_id']} tidak ditemukan."
    assert two.get(f"/api/cases/{theirs['case_id']}", headers=auth()).status_code == 200


def test_two_tokens_of_one_opd_are_valid_at_once_for_rotation(two: FlaskClient) -> None:
    """Rotation: the current and the next token both work, for the same OPD only."""
    first = two.post("/webhooks/intake", json=sample_letter("1/DINKES/2026"), headers=auth())
    second = two.post("/webhooks/intake", json=sample_letter("2/DINKES/2026"),
                      headers=auth(NEXT_TOKEN))
    assert (first.status_code, second.status_code) == (202, 202)
    assert two.post("/webhooks/intake", json=bappeda_letter(),
                    headers=auth(NEXT_TOKEN)).status_code == 403
    assert two.get(f"/api/cases/{first.get_json()['case_id']}",
                   headers=auth(NEXT_TOKEN)).status_code == 200


def test_a_gateway_token_sends_for_every_opd_only_when_opted_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared gateway: an explicit opt-in; it may send and read for any OPD."""
    gateway = _app(tmp_path, monkeypatch,
                   extra='shared_gateway = true\nintake_token_env = "SOP_T_GATEWAY"\n')
    for letter in (sample_letter(), bappeda_letter()):
        answer = gateway.post("/webhooks/intake", json=letter, headers=auth(GATEWAY_TOKEN))
        assert answer.status_code == 202
        case_id = answer.get_json()["case_id"]
        assert gateway.get(f"/api/cases/{case_id}",
                           headers=auth(GATEWAY_TOKEN)).status_code == 200
    # DINKES's own token still sends only DINKES's letters.
    assert gateway.post("/webhooks/intake", json=bappeda_letter("9/B/2026"),
                        headers=auth()).status_code == 403


def test_the_old_shared_token_fails_config_load_with_how_to_migrate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared ``[webhooks] intake_token_env`` without ``shared_gateway`` is refused."""
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "k")
    monkeypatch.setenv("SOP_T_GATEWAY", GATEWAY_TOKEN)
    path = write_config(tmp_path, extra='intake_token_env = "SOP_T_GATEWAY"\n')
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: [webhooks] intake_token_env: one intake credential for "
                              "every OPD lets each OPD send letters in another OPD's name")
    assert "[opd.agencies.<KODE>] intake_token_env" in problem
    assert "shared_gateway = true" in problem and "docs/keamanan.md" in problem
    no_credential = write_config(tmp_path, extra="shared_gateway = true\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(no_credential)
    assert caught.value.problems == [
        f"{no_credential}: [webhooks] shared_gateway: true, but no intake_token_env/_file or "
        "intake_signing_secret_env/_file is given"]


@pytest.mark.parametrize("value, expected", [
    ("short-token-23-chars-xx", "the token is shorter than 24 characters; generate one with "
                                "`openssl rand -hex 32`"),
])
def test_a_short_token_fails_config_load_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    """Finding 8: a token shorter than 24 characters is refused at load, named, not shown."""
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "k")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_T_SHORT", value)
    path = write_config(tmp_path, bappeda='intake_token_env = "SOP_T_SHORT"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        f"{path}: [opd.agencies.BAPPEDA] intake_token_env: {expected}"]
    assert value not in str(caught.value)


@pytest.mark.parametrize("key", ["whsec_" + base64.b64encode(b"23-bytes-is-too-short!!").decode(),
                                 "no-prefix-but-long-enough-to-pass", "whsec_not base64!"])
def test_a_weak_or_malformed_signing_key_fails_config_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Finding 8: a signing key must be whsec_<base64> of at least 24 bytes."""
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "k")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_T_KEY", key)
    path = write_config(tmp_path, dinkes='intake_signing_secret_env = "SOP_T_KEY"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        f"{path}: [opd.agencies.DINKES] intake_signing_secret_env: expected whsec_<base64> of "
        "at least 24 bytes"]


def test_a_next_token_without_a_current_one_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "k")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_T_NEXT", NEXT_TOKEN)
    path = write_config(tmp_path, bappeda='intake_token_next_env = "SOP_T_NEXT"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        f"{path}: [opd.agencies.BAPPEDA] intake_token_next_env: a next value needs a current "
        "one (intake_token_env or _file)"]


# --- finding 1 (second half) and 12: a known letter number with other content -----------------


def test_a_known_letter_with_other_content_is_409_naming_what_differs(two: FlaskClient) -> None:
    """Finding 1: not a silent 200 that drops the content; nothing is stored."""
    first = two.post("/webhooks/intake", json=sample_letter(), headers=auth()).get_json()
    before = store_dump(_services(two).engine)
    other = sample_letter(perihal="Lain", lampiran=[{
        "nama_file": "surat-permohonan.pdf", "content_type": "application/pdf",
        "isi_base64": base64.b64encode(b"%PDF-1.4 lain").decode()}])
    other["kontak"]["telepon"] = "0371-99999"
    answer = two.post("/webhooks/intake", json=other, headers=auth())
    assert answer.status_code == 409
    body = answer.get_json()
    assert (body["error"], body["case_id"]) == ("conflict", first["case_id"])
    assert [f["field"] for f in body["fields"]] == ["kontak.telepon", "lampiran", "perihal"]
    assert store_dump(_services(two).engine) == before
    same = two.post("/webhooks/intake", json=sample_letter(), headers=auth(NEXT_TOKEN))
    assert (same.status_code, same.get_json()["case_id"]) == (200, first["case_id"])
    assert store_dump(_services(two).engine) == before


def test_1000_resends_with_small_differences_keep_one_body(two: FlaskClient) -> None:
    """Finding 12: 1,000 resends (500 differing, 500 identical) store nothing new."""
    assert two.post("/webhooks/intake", json=sample_letter(lampiran=[]),
                    headers=auth()).status_code == 202
    before = store_dump(_services(two).engine)
    codes = set()
    for n in range(1000):
        letter = sample_letter(lampiran=[], perihal=f"Dikirim ulang {n}") if n % 2 else \
            sample_letter(lampiran=[])
        codes.add(two.post("/webhooks/intake", json=letter,
                           headers={**auth(), "Idempotency-Key": f"resend-{n}"}).status_code)
    assert codes == {200, 409}
    assert store_dump(_services(two).engine) == before
    assert len(before["inbox"]) == 1 and len(before["audit"]) == 1


# --- finding 10: attachment names -------------------------------------------------------------


@pytest.mark.parametrize("name", ["surat.pdf\n", "surat.pdf\r", "surat:1.pdf", "a/b.pdf",
                                  "it's.pdf", "x.pdf\n.exe"])
def test_an_attachment_name_redmine_would_change_is_refused(two: FlaskClient, name: str) -> None:
    """Finding 10: ``$`` let a trailing newline through; fullmatch does not."""
    letter = sample_letter()
    letter["lampiran"][0]["nama_file"] = name
    before = store_dump(_services(two).engine)
    answer = two.post("/webhooks/intake", json=letter, headers=auth())
    assert answer.status_code == 422
    assert [f["field"] for f in answer.get_json()["fields"]] == ["lampiran[0].nama_file"]
    assert store_dump(_services(two).engine) == before


def test_a_redmine_sanitised_name_is_found_before_uploading_again() -> None:
    """Finding 10: the look-up compares the name Redmine stores (its sanitize_filename)."""
    from connector.redmine.filenames import redmine_filename

    assert redmine_filename("surat.pdf\n") == "surat.pdf_"
    assert redmine_filename("C:\\Users\\x\\surat?.pdf") == "surat_.pdf"
    assert redmine_filename("a/b\n/c:\"d'<>|*%.pdf") == "c_d_.pdf"
    assert redmine_filename("surat-permohonan (1).pdf") == "surat-permohonan (1).pdf"


# --- finding 11: one letter number, however it is written --------------------------------------


@pytest.mark.parametrize("nomor", ["０２７/１４５/ＤＩＮＫＥＳ/２０２６",
                                   "027/145/\u200bDINKES/2026",
                                   "027\u2060/145/DINKES/2026\ufeff", "027/145/dinkes/2026 "])
def test_the_same_number_in_other_characters_is_the_same_case(two: FlaskClient,
                                                               nomor: str) -> None:
    """Finding 11: fullwidth digits and zero-width characters open no second case."""
    first = two.post("/webhooks/intake", json=sample_letter(), headers=auth()).get_json()
    before = store_dump(_services(two).engine)
    again = two.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    assert (again.status_code, again.get_json()["case_id"]) == (200, first["case_id"])
    assert store_dump(_services(two).engine) == before


@pytest.mark.parametrize("nomor", ["027/145#02", "027|145", "\u200b\u200b", "027\n145",
                                   "1/＃02"])
def test_a_letter_number_that_could_clash_with_a_key_is_422(two: FlaskClient, nomor: str) -> None:
    """Finding 11: ``#`` would make a case key equal to another case's step key."""
    answer = two.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    assert answer.status_code == 422
    [problem] = answer.get_json()["fields"]
    assert problem["field"] == "nomor_surat"
    assert store_dump(_services(two).engine)["cases"] == []


def test_a_stored_letter_number_is_the_normalised_one(two: FlaskClient) -> None:
    answer = two.post("/webhooks/intake", json=sample_letter("０２７/\u200b１/X"), headers=auth())
    assert answer.get_json()["case_key"] == "DINKES:027/1/X"
    case = two.get(f"/api/cases/{answer.get_json()['case_id']}", headers=auth()).get_json()
    assert case["nomor_surat"] == "027/1/X"


# --- finding 13: the status URL ---------------------------------------------------------------


def test_the_status_url_ignores_the_host_header(two: FlaskClient) -> None:
    """Finding 13: a forged Host cannot point the OPD's status link elsewhere."""
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    answer = two.post("/webhooks/intake", json=sample_letter(), headers={**auth(), **forged})
    case_id = answer.get_json()["case_id"]
    assert answer.get_json()["status_url"] == f"http://sop.test/api/cases/{case_id}"


# --- finding 8: throttling of failed credentials ---------------------------------------------


@pytest.fixture
def strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    return _app(tmp_path, monkeypatch,
                extra="throttle_failures = 3\nthrottle_window_seconds = 60\n")


def test_repeated_wrong_tokens_are_answered_429_with_retry_after(strict: FlaskClient) -> None:
    """Finding 8: after 3 failures, even the right token waits; other clients do not."""
    before = store_dump(_services(strict).engine)
    codes = [strict.post("/webhooks/intake", json=sample_letter(),
                         headers=auth(f"wrong-{n}")).status_code for n in range(3)]
    assert codes == [401, 401, 401]
    blocked = strict.post("/webhooks/intake", json=sample_letter(), headers=auth())
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert blocked.get_json()["error"] == "too_many_requests"
    assert strict.get("/api/cases/1", headers=auth()).status_code == 404  # its own scope
    assert store_dump(_services(strict).engine) == before
    elsewhere = strict.post("/webhooks/intake", json=sample_letter(), headers=auth(),
                            environ_base=another_client())
    assert elsewhere.status_code == 202


def test_repeated_bad_signatures_are_throttled(strict: FlaskClient) -> None:
    body = json.dumps(sample_letter()).encode()
    headers = {**signed(DINKES_KEY, body), "Authorization": "Bearer x"}
    headers["webhook-signature"] = "v1,AAAA"
    codes = [strict.post("/webhooks/intake", data=body, headers=headers).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_repeated_wrong_tokens_on_the_status_api_are_throttled(strict: FlaskClient) -> None:
    codes = [strict.get("/api/cases/1", headers=auth("wrong")).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert strict.get("/api/cases/1", headers=auth()).headers.get("Retry-After")


def test_the_throttle_window_slides() -> None:
    from webhooks.throttle import Throttle

    now = [1000.0]
    gate = Throttle(limit=2, window=60, clock=lambda: now[0])
    gate.failed(["k"])
    now[0] += 30
    gate.failed(["k"])
    assert gate.retry_after(["k"]) == 30  # the first failure leaves the window in 30 s
    assert gate.retry_after(["other"]) is None
    now[0] += 30
    assert gate.retry_after(["k"]) is None  # one failure left in the window
    gate.failed(["k"])
    assert gate.retry_after(["j", "k"]) == 30


def test_repeated_wrong_dashboard_tokens_are_throttled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 8 on the dashboard: the sign-in POST is throttled per address (and login)."""
    monkeypatch.setenv("SOP_T_ACCESS", "dashboard-access-token-0123456789")
    client = _app(tmp_path, monkeypatch,
                  extra='throttle_failures = 3\n[dashboard]\naccess_token_env = "SOP_T_ACCESS"\n')
    codes = [sign_in_with_token(client, f"salah-{n}").status_code for n in range(3)]
    assert codes == [403, 403, 403]
    blocked = sign_in_with_token(client, "dashboard-access-token-0123456789")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Terlalu banyak percobaan masuk" in blocked.get_data(as_text=True)
    assert "sop_dashboard" not in blocked.headers.get("Set-Cookie", "")
    assert client.get("/dashboard/masuk").status_code == 200  # the form itself stays open
    other = client.application.test_client()
    other.environ_base.update(another_client())
    assert sign_in_with_token(other, "dashboard-access-token-0123456789").status_code == 302


def test_x_forwarded_for_counts_only_behind_a_configured_proxy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``proxy_hops`` a client cannot escape the throttle by forging the header;
    with ``proxy_hops = 1`` (behind nginx) each real client has its own count."""
    def wrong(client: FlaskClient, forwarded: str) -> int:
        return client.post("/webhooks/intake", json=sample_letter(), headers={
            **auth("wrong"), "X-Forwarded-For": forwarded}).status_code

    (tmp_path / "direct").mkdir()
    direct = _app(tmp_path / "direct", monkeypatch, extra="throttle_failures = 2\n")
    assert [wrong(direct, f"192.0.2.{n}") for n in range(3)] == [401, 401, 429]
    (tmp_path / "proxied").mkdir()
    text = write_config(tmp_path / "proxied", extra="throttle_failures = 2\n").read_text()
    (tmp_path / "proxied" / "config.toml").write_text(
        text.replace("[server]\n", "[server]\nproxy_hops = 1\n", 1))
    from webhooks import create_app

    proxied = create_app(bootstrap(load_settings(tmp_path / "proxied" / "config.toml"),
                                   tracker=FakeTracker(), clock=lambda: FROZEN)).test_client()
    assert [wrong(proxied, f"192.0.2.{n}") for n in range(3)] == [401, 401, 401]
    assert [wrong(proxied, "192.0.2.9") for _ in range(3)] == [401, 401, 429]
