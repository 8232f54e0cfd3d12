"""RedmineTracker against the real Redmine: changes, snapshots, polling, members, watchers."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from redminelib import Redmine

from connector.config import Settings
from connector.errors import RemoteRejected, RemoteUnavailable
from connector.redmine.tracker import RedmineTracker
from connector.tracker import IssueChanges, IssueDraft

pytestmark = pytest.mark.redmine


@pytest.fixture
def tracker(redmine_settings: Settings) -> RedmineTracker:
    return RedmineTracker(redmine_settings.redmine)


def _as(server: Any, login: str) -> Redmine:
    """python-redmine acting as ``login`` (``admin`` for the admin key)."""
    key = server.admin_key if login == "admin" else server.user_keys[login]
    return Redmine(server.url, key=key)


def _open(tracker: RedmineTracker, **draft: Any) -> int:
    key = f"ADAPTER|{uuid.uuid4().hex[:10]}#05"
    fields = {"key": key, "kind": "step", "subject": f"Langkah uji {key}",
              "description": "Uji adaptor.", "status": "New"} | draft
    return tracker.open_issue(IssueDraft(**fields)).id


def _journals(server: Any, issue_id: int) -> list[Any]:
    return list(_as(server, "admin").issue.get(issue_id, include=["journals"]).journals)


def test_change_issue_sets_everything_in_one_journal(tracker: RedmineTracker, redmine) -> None:  # type: ignore[no-untyped-def]
    issue_id = _open(tracker)
    tracker.change_issue(issue_id, IssueChanges(
        status="In Progress", notes="Mulai dikerjakan.", assignee_login="kasi",
        start_date=date(2026, 3, 16), due_date=date(2026, 3, 20),
        fields={"remaining_hari_kerja": "5", "dev_team": "dev1, dev2"}))

    [journal] = _journals(redmine, issue_id)
    assert journal.notes == "Mulai dikerjakan."
    changed = {d["name"] for d in journal.details if d["property"] == "attr"}
    assert changed == {"status_id", "assigned_to_id", "start_date", "due_date"}
    assert len([d for d in journal.details if d["property"] == "cf"]) == 3  # 5, dev1, dev2
    snap = tracker.snapshot(issue_id)
    assert (snap.issue.status, snap.issue.assignee_login) == ("In Progress", "kasi")
    assert (snap.issue.start_date, snap.issue.due_date) == (date(2026, 3, 16), date(2026, 3, 20))
    assert snap.fields["remaining_hari_kerja"] == ("5",)
    assert sorted(snap.fields["dev_team"]) == ["dev1", "dev2"]

    tracker.change_issue(issue_id, IssueChanges())  # nothing to change: no request, no journal
    tracker.change_issue(issue_id, IssueChanges(status="In Progress"))  # the same: no journal
    assert len(_journals(redmine, issue_id)) == 1


def test_snapshot_shows_what_another_user_did(tracker: RedmineTracker, redmine) -> None:  # type: ignore[no-untyped-def]
    issue_id = _open(tracker, assignee_login="kadis")
    tracker.attach_document(issue_id, "nota-dinas.pdf", "application/pdf", b"%PDF-1.4 nota")
    kadis = _as(redmine, "kadis")
    upload = kadis.upload(__import__("io").BytesIO(b"disposisi"), filename="disposisi.txt")
    closed = next(s.id for s in kadis.issue_status.all() if s.name == "Closed")
    kadis.issue.update(issue_id, status_id=closed, notes="Disetujui, lanjut ke Kabid.",
                       uploads=[{"token": upload["token"], "filename": "disposisi.txt"}])

    snap = tracker.snapshot(issue_id)

    assert snap.issue.status == "Closed"
    assert snap.attachment_names == frozenset({"nota-dinas.pdf", "disposisi.txt"})
    [ours, theirs] = snap.journals
    assert ours.author_login == "admin" and ours.status_from is None
    assert theirs.author_login == "kadis"
    assert (theirs.status_from, theirs.status_to) == ("New", "Closed")
    assert theirs.notes == "Disetujui, lanjut ke Kabid."
    assert theirs.created_on.tzinfo is not None
    assert theirs.created_on <= snap.updated_on
    assert ours.id < theirs.id


def test_a_user_field_set_by_a_person_reads_as_logins(tracker: RedmineTracker, redmine) -> None:  # type: ignore[no-untyped-def]
    issue_id = _open(tracker)
    kasi = _as(redmine, "kasi")
    field = next(f for f in _as(redmine, "admin").custom_field.all()
                 if f.name == "Tim Pengembang")
    users = {u.login: u.id for u in _as(redmine, "admin").user.all()}
    kasi.issue.update(issue_id, custom_fields=[
        {"id": field.id, "value": [str(users["dev2"]), str(users["dev1"])]}])

    snap = tracker.snapshot(issue_id)

    assert sorted(snap.fields["dev_team"]) == ["dev1", "dev2"]
    assert snap.fields["sop_key"] == (snap.issue.key,)
    assert snap.fields["letter_number"] == ()
    assert tracker.field_label("letter_number") == "Nomor Surat"  # the name people see
    assert snap.journals[-1].author_login == "kasi"
    assert snap.journals[-1].status_from is None is snap.journals[-1].status_to


def test_updated_since_pages_through_every_change_oldest_first(
        redmine_settings: Settings, redmine) -> None:  # type: ignore[no-untyped-def]
    tracker = RedmineTracker(redmine_settings.redmine, page_size=7)
    old = [_open(tracker) for _ in range(3)]
    time.sleep(2.1)  # Redmine reads ">=T" as "> T - 1 s" (query.rb date_clause)
    since = datetime.now(UTC)
    new = [_open(tracker) for _ in range(30)]
    _as(redmine, "kadis").issue.update(old[0], notes="Diperbarui setelahnya.")

    found = tracker.updated_since(since)

    assert set(new) | {old[0]} <= set(found)
    assert not set(old[1:]) & set(found)
    assert found[-1] == old[0]  # the most recent change comes last
    assert found.index(new[0]) < found.index(new[-1])
    assert len(found) == len(set(found))
    assert RedmineTracker(redmine_settings.redmine).updated_since(since) == found
    assert tracker.updated_since(datetime.now(UTC).replace(year=2099)) == []


def test_updated_since_refuses_a_naive_time(tracker: RedmineTracker) -> None:
    with pytest.raises(ValueError, match="aware"):
        tracker.updated_since(datetime(2026, 3, 16))


def test_the_service_writes_as_admin(tracker: RedmineTracker) -> None:
    assert tracker.service_login() == "admin"
    assert tracker.service_login() == "admin"


def test_ensure_member_and_add_watcher_are_idempotent(tracker: RedmineTracker, redmine) -> None:  # type: ignore[no-untyped-def]
    admin = _as(redmine, "admin")
    issue_id = _open(tracker)
    tracker.service_login()  # the users map is cached before the new user exists
    login = f"baru{uuid.uuid4().hex[:8]}"
    admin.user.create(login=login, firstname="Pegawai", lastname="Baru",
                      mail=f"{login}@sumbawakab.go.id", password="sop-test-password-123")

    for _ in range(2):
        tracker.ensure_member(login)
        tracker.add_watcher(issue_id, login)

    members = [m for m in admin.project_membership.filter(project_id="permohonan-aplikasi")
               if "user" in m.raw() and m.raw()["user"]["name"] == "Pegawai Baru"
               and m.raw()["user"]["id"] == _user_id(admin, login)]
    assert [[r["name"] for r in m.raw()["roles"]] for m in members] == [["Pelaksana SOP"]]
    watchers = admin.issue.get(issue_id, include=["watchers"]).raw()["watchers"]
    assert [w["id"] for w in watchers].count(_user_id(admin, login)) == 1
    tracker.ensure_member("kadis")  # a member already: nothing changes

    tracker.change_issue(issue_id, IssueChanges(assignee_login=login))
    assert tracker.snapshot(issue_id).issue.assignee_login == login


def _user_id(admin: Redmine, login: str) -> int:
    return int(next(u.id for u in admin.user.filter(name=login) if u.login == login))


def test_unknown_names_and_issues_are_rejected(tracker: RedmineTracker) -> None:
    issue_id = _open(tracker)
    with pytest.raises(RemoteRejected, match="no user named"):
        tracker.change_issue(issue_id, IssueChanges(assignee_login="tidak-ada"))
    with pytest.raises(RemoteRejected, match="no status named"):
        tracker.change_issue(issue_id, IssueChanges(status="Tidak Ada"))
    with pytest.raises(RemoteRejected):
        tracker.snapshot(10_000_000)


def test_a_stopped_redmine_is_remote_unavailable(redmine_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = replace(redmine_settings.redmine, url=f"http://127.0.0.1:{port}",
                       timeout_seconds=2)
    down = RedmineTracker(settings)
    for call in (lambda: down.snapshot(1), lambda: down.updated_since(datetime.now(UTC)),
                 down.service_login, lambda: down.ensure_member("kadis"),
                 lambda: down.add_watcher(1, "kadis"),
                 lambda: down.change_issue(1, IssueChanges(notes="x"))):
        with pytest.raises(RemoteUnavailable):
            call()
