"""Issue 20 against the real Redmine: refused requests leave the store and Redmine untouched.

A tampered, a forged-OPD, a replayed, an oversized and a conflicting request each change
nothing: the store's tables (every row) and Redmine's issues (ids, update times,
attachments) are compared before and after, with the job queue drained in between. And an
attachment whose name Redmine sanitises is never uploaded twice (finding 10).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redminelib import Redmine

from connector.bootstrap import bootstrap
from connector.config import Settings, load_settings
from connector.handlers import handlers_for
from connector.redmine.filenames import redmine_filename
from connector.redmine.tracker import RedmineTracker
from connector.services import Services
from connector.store import jobs
from connector.tracker import IssueDraft
from tests.conftest import INTAKE_TOKEN, another_client, auth, sample_letter, write_config
from tests.test_intake_hostile import (
    BAPPEDA_KEY,
    BAPPEDA_TOKEN,
    DINKES_KEY,
    TWO_OPDS,
    bappeda_letter,
    signed,
    store_dump,
)

pytestmark = pytest.mark.redmine


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any,
              extra: str = "") -> Settings:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    for name, value in {"SOP_T_BAPPEDA": BAPPEDA_TOKEN, "SOP_T_NEXT": "n" * 30,
                        "SOP_T_DINKES_KEY": DINKES_KEY, "SOP_T_BAPPEDA_KEY": BAPPEDA_KEY}.items():
        monkeypatch.setenv(name, value)
    return load_settings(write_config(tmp_path, redmine_url=redmine.url, extra=extra,
                                      **TWO_OPDS))


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Any:
    built = bootstrap(_settings(tmp_path, monkeypatch, redmine))
    yield built
    built.engine.dispose()


@pytest.fixture
def client(services: Services) -> FlaskClient:
    from webhooks import create_app

    return create_app(services).test_client()


def _drain(services: Services) -> int:
    return jobs.drain(services.engine, handlers_for(services), jobs.new_worker_id())


def redmine_state(server: Any, settings: Settings) -> list[tuple[Any, ...]]:
    """Every issue of the SOP project: id, update time, journal count and attachment names."""
    api = Redmine(server.url, key=server.admin_key)
    issues = api.issue.filter(project_id=settings.redmine.project, status_id="*",
                              include=["attachments", "journals"], limit=100)
    found = []
    for issue in issues:
        full = api.issue.get(issue.id, include=["attachments", "journals"])
        found.append((full.id, str(full.updated_on), len(list(full.journals)),
                      sorted(a.filename for a in full.attachments)))
    return sorted(found)


def test_refused_requests_leave_the_store_and_redmine_as_they_were(
        client: FlaskClient, services: Services, redmine: Any) -> None:
    """Acceptance of issue 20: tampered, forged OPD, replayed, oversized, conflicting."""
    nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
    body = json.dumps(sample_letter(nomor)).encode()
    headers = signed(DINKES_KEY, body, msg_id=f"msg_{uuid.uuid4().hex}")
    assert client.post("/webhooks/intake", data=body, headers=headers).status_code == 202
    assert _drain(services) == 1
    store_before = store_dump(services.engine)
    redmine_before = redmine_state(redmine, services.settings)
    assert len(redmine_before) >= 1

    tampered = body.replace(b"SI Puskesmas", b"SI Pusk3smas")
    forged = json.dumps(bappeda_letter(f"{uuid.uuid4().hex[:8]}/BAPPEDA/2026")).encode()
    old = time.time() - 600
    stale = signed(DINKES_KEY, body, msg_id="msg_old", at=old)
    conflicting = sample_letter(nomor, perihal="Isi lain dengan nomor yang sama")
    answers = {
        "tampered": client.post("/webhooks/intake", data=tampered, headers=headers),
        "forged opd (token)": client.post("/webhooks/intake", data=forged,
                                          headers={**auth(), "Content-Type": "application/json"}),
        "forged opd (key)": client.post("/webhooks/intake", data=forged,
                                        headers=signed(DINKES_KEY, forged)),
        "replayed": client.post("/webhooks/intake", data=body, headers=headers),
        "replayed late": client.post("/webhooks/intake", data=body, headers=stale),
        "oversized": client.post(
            "/webhooks/intake", data=b"{" + b" " * services.settings.server.max_body_bytes + b"}",
            headers={**auth(), "Content-Type": "application/json"}),
        "conflicting": client.post("/webhooks/intake", json=conflicting, headers=auth()),
    }
    assert {name: a.status_code for name, a in answers.items()} == {
        "tampered": 401, "forged opd (token)": 403, "forged opd (key)": 403, "replayed": 200,
        "replayed late": 401, "oversized": 413, "conflicting": 409}
    assert _drain(services) == 0
    assert store_dump(services.engine) == store_before
    assert redmine_state(redmine, services.settings) == redmine_before


def test_a_sanitised_attachment_name_is_uploaded_once(redmine: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 10: a retry (after a crash) finds the file Redmine renamed; no second copy."""
    tracker = RedmineTracker(_settings(tmp_path, monkeypatch, redmine).redmine)
    key = f"ADAPTER:{uuid.uuid4().hex[:10]}#05"
    issue = tracker.open_issue(IssueDraft(key=key, kind="step", subject=f"Lampiran {key}",
                                          description="Uji nama berkas.", status="New"))
    names = ["surat.pdf\n", "C:\\scan\\surat?.pdf", "a/b/c:d.pdf", "it's \"x\" <1>|*%.pdf"]
    for _ in range(2):  # the second round is the retry
        for name in names:
            tracker.attach_document(issue.id, name, "application/pdf", b"%PDF-1.4 x")
    api = Redmine(redmine.url, key=redmine.admin_key)
    stored = [a.filename for a in api.issue.get(issue.id, include=["attachments"]).attachments]
    assert sorted(stored) == sorted(redmine_filename(n) for n in names)
    assert len(stored) == len(names)


def test_dashboard_sign_in_is_throttled_per_login_across_addresses(
        redmine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 8: wrong Redmine passwords for one login from many addresses are throttled."""
    from webhooks import create_app

    settings = _settings(tmp_path, monkeypatch, redmine, extra="throttle_failures = 3\n")
    client = create_app(bootstrap(settings)).test_client()
    codes = [client.post("/dashboard/masuk", data={"login": "kasi", "password": f"salah{n}"},
                         environ_base=another_client()).status_code for n in range(3)]
    assert codes == [403, 403, 403]
    blocked = client.post("/dashboard/masuk", data={"login": "KASI", "password": "salah"},
                          environ_base=another_client())
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    other = client.post("/dashboard/masuk", data={"login": "kadis", "password": "salah"},
                        environ_base=another_client())
    assert other.status_code == 403  # another login is not throttled


def test_a_hand_made_case_whose_number_holds_a_hash_is_not_adopted(
        services: Services, redmine: Any) -> None:
    """Finding 11 on the Redmine side: ``#`` in a number typed in Redmine is refused too."""
    from connector.sync.poll import poll_once
    from tests.test_redmine_intake import _hand_made_case

    nomor = f"{uuid.uuid4().hex[:8]}/DINKES#05"
    issue = _hand_made_case(redmine, services.settings, {
        "Nomor Surat": nomor, "Tanggal Surat": "2026-11-20", "OPD": "DINKES",
        "Nama Aplikasi": "e-Arsip"})
    for _ in range(2):
        poll_once(services)
        _drain(services)
    api = Redmine(redmine.url, key=redmine.admin_key)
    notes = [j.notes for j in api.issue.get(issue.id, include=["journals"]).journals if j.notes]
    assert len(notes) == 1 and "tidak boleh memuat tanda | atau #" in notes[0]
    adopted = [row for row in store_dump(services.engine)["cases"] if nomor in repr(row)]
    assert adopted == []  # (cases made in Redmine by earlier tests may be adopted)
