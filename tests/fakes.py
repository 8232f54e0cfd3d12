"""Fakes of our own ports, keeping state so tests assert on the end state."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from connector.errors import RemoteRejected, RemoteUnavailable
from connector.redmine.schema import DEFAULT_CUSTOM_FIELDS
from connector.tracker import (
    CaseField,
    IssueChange,
    IssueChanges,
    IssueDraft,
    IssueSnapshot,
    JournalEntry,
    TrackedIssue,
)

SERVICE_LOGIN = "sop-bot"
KEY_FIELD = CaseField.SOP_KEY.value
# As in Redmine: the user fields (Tim Pengembang, Tim: <fungsi>) take comma-separated logins.
USER_FIELDS = frozenset({spec.key for spec in DEFAULT_CUSTOM_FIELDS if spec.field_format == "user"})
LABELS = {spec.key: spec.name for spec in DEFAULT_CUSTOM_FIELDS}  # Redmine's default names


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeIssue:
    issue: TrackedIssue
    draft: IssueDraft
    attachments: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    journals: list[JournalEntry] = field(default_factory=list)
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    watchers: set[str] = field(default_factory=set)
    updated_on: datetime = field(default_factory=_utc_now)


class FakeTracker:
    """An in-memory IssueTracker; ``down = True`` makes every call fail as an outage would.

    ``clock`` stamps ``updated_on`` and journals (set it to move time). The service writes as
    ``sop-bot``; ``act`` is a person changing an issue in Redmine's UI (it works while
    ``down``, since the outage is between the service and Redmine).
    """

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self.issues: dict[int, FakeIssue] = {}
        self.down = False
        self.fail_creates_after: int | None = None  # an outage after N issues exist
        self.calls = 0
        self.subprojects: dict[str, set[str]] = {}
        self.versions: dict[tuple[str, str], date | None] = {}
        self.clock = clock
        self.members: set[str] = set()
        self.names: dict[str, str] = {}  # login -> "firstname lastname", as Redmine shows
        self._journal_ids = itertools.count(1)
        self._lock = threading.Lock()

    def _call(self) -> None:
        self.calls += 1
        if self.down:
            raise RemoteUnavailable("fake Redmine is down")

    def _issue(self, issue_id: int) -> FakeIssue:
        try:
            return self.issues[issue_id]
        except KeyError:
            raise RemoteRejected(f"fake Redmine has no issue #{issue_id}") from None

    def find_case(self, key: str) -> TrackedIssue | None:
        self._call()
        return next(
            (
                i.issue
                for i in self.issues.values()
                if i.issue.key == key and i.draft.kind == "case"
            ),
            None,
        )

    def open_issue(self, draft: IssueDraft) -> TrackedIssue:
        self._call()
        if self.fail_creates_after is not None and len(self.issues) >= self.fail_creates_after:
            raise RemoteUnavailable("connection reset after creating issues")
        with self._lock:
            new_id = len(self.issues) + 1
            issue = TrackedIssue(
                id=new_id,
                key=draft.key,
                subject=draft.subject,
                status=draft.status,
                assignee_login=draft.assignee_login,
                start_date=draft.start_date,
                due_date=draft.due_date,
                parent_id=draft.parent_id,
                url=f"http://redmine.test/issues/{new_id}",
                kind=draft.kind,
            )
            fields = {KEY_FIELD: (draft.key,)} | {k: _values(k, v) for k, v in draft.fields.items()}
            self.issues[new_id] = FakeIssue(issue, draft, fields=fields, updated_on=self.clock())
        return issue

    def case_issues(self) -> list[TrackedIssue]:
        self._call()
        return [i.issue for i in self.issues.values() if i.draft.kind == "case"]

    def steps_of(self, case_issue_id: int) -> dict[str, TrackedIssue]:
        self._call()
        return {
            i.issue.key: i.issue for i in self.issues.values() if i.issue.parent_id == case_issue_id
        }

    def attachment_names(self, issue_id: int) -> frozenset[str]:
        self._call()
        return frozenset(self._issue(issue_id).attachments)

    def attachment_content(self, issue_id: int, filename: str) -> bytes | None:
        self._call()
        return self._issue(issue_id).attachments.get(filename)

    def update_issue(
        self, issue_id: int, *, status: str | None = None, notes: str | None = None
    ) -> None:
        self.change_issue(issue_id, IssueChanges(status=status, notes=notes))

    def change_issue(self, issue_id: int, changes: IssueChanges) -> None:
        """One journal by ``sop-bot``, as one PUT would make in Redmine."""
        self._call()
        fake = self._issue(issue_id)
        self._change(fake, SERVICE_LOGIN, changes, {})

    def attach_document(
        self,
        issue_id: int,
        filename: str,
        content_type: str,
        content: bytes,
        *,
        notes: str | None = None,
        attached: frozenset[str] | None = None,
    ) -> None:
        if filename in (self.attachment_names(issue_id) if attached is None else attached):
            return
        self._change(
            self._issue(issue_id), SERVICE_LOGIN, IssueChanges(notes=notes), {filename: content}
        )

    def snapshot(self, issue_id: int) -> IssueSnapshot:
        self._call()
        fake = self._issue(issue_id)
        return IssueSnapshot(
            issue=fake.issue,
            updated_on=fake.updated_on,
            journals=tuple(fake.journals),
            attachment_names=frozenset(fake.attachments),
            fields=dict(fake.fields),
        )

    def updated_since(self, since: datetime) -> list[int]:
        self._call()
        found = [i for i in self.issues.values() if i.updated_on >= since]
        return [i.issue.id for i in sorted(found, key=lambda i: (i.updated_on, i.issue.id))]

    def changes_since(self, since: datetime) -> list[IssueChange]:
        ids = self.updated_since(since)
        return [IssueChange(i, self.issues[i].updated_on, self.issues[i].issue.status)
                for i in ids]

    def service_login(self) -> str:
        self._call()
        return SERVICE_LOGIN

    def field_label(self, key: str) -> str:
        return LABELS.get(key, key)

    def display_name(self, login: str) -> str:
        self._call()
        return self.names.get(login, login)

    def project_members(self) -> frozenset[str]:
        self._call()
        return frozenset(self.members)

    def ensure_member(self, login: str, *, members: frozenset[str] | None = None) -> None:
        self._call()
        self.members.add(login)

    def add_watcher(self, issue_id: int, login: str) -> None:
        self._call()
        self._issue(issue_id).watchers.add(login)

    def ensure_subproject(self, identifier: str, name: str, description: str,
                          member_logins: tuple[str, ...]) -> str:
        self._call()
        self.subprojects.setdefault(identifier, set()).update(member_logins)
        return f"http://redmine.test/projects/{identifier}"

    def ensure_version(self, project: str, name: str, due: date | None) -> None:
        self._call()
        self.versions[(project, name)] = due

    # -- what people do in Redmine --
    def act(
        self,
        issue_id: int,
        login: str,
        *,
        status: str | None = None,
        notes: str = "",
        attach: str | Mapping[str, bytes] | None = None,
        fields: Mapping[str, str | Sequence[str]] | None = None,
    ) -> JournalEntry | None:
        """``login`` changes an issue in Redmine (status, note, files, custom fields).

        ``attach`` is a file name (empty content) or names to contents. Returns the journal,
        or None when nothing changed (Redmine writes no journal then either).
        """
        files = {attach: b""} if isinstance(attach, str) else dict(attach or {})
        changes = IssueChanges(status=status, notes=notes or None)
        return self._change(self._issue(issue_id), login, changes, files, fields or {})

    def _change(
        self,
        fake: FakeIssue,
        login: str,
        changes: IssueChanges,
        files: Mapping[str, bytes],
        raw_fields: Mapping[str, str | Sequence[str]] | None = None,
    ) -> JournalEntry | None:
        before = fake.issue
        after = replace(
            before,
            **{
                name: getattr(changes, name)
                for name in ("status", "assignee_login", "start_date", "due_date")
                if getattr(changes, name) is not None
            },
        )
        new_fields = {k: _values(k, v) for k, v in {**changes.fields, **(raw_fields or {})}.items()}
        new_files = {k: v for k, v in files.items() if k not in fake.attachments}
        fields_changed = any(fake.fields.get(k, ()) != v for k, v in new_fields.items())
        if after == before and not changes.notes and not new_files and not fields_changed:
            return None
        with self._lock:
            fake.issue = after
            fake.fields.update(new_fields)
            fake.attachments.update(new_files)
            if changes.notes:
                fake.notes.append(changes.notes)
            fake.updated_on = self.clock()
            status_moved = after.status != before.status
            journal = JournalEntry(
                id=next(self._journal_ids),
                author_login=login,
                created_on=fake.updated_on,
                notes=changes.notes or "",
                status_from=before.status if status_moved else None,
                status_to=after.status if status_moved else None,
            )
            fake.journals.append(journal)
        return journal

    # -- assertions helpers --
    def cases(self) -> list[FakeIssue]:
        return [i for i in self.issues.values() if i.draft.kind == "case"]

    def children(self, parent_id: int) -> list[FakeIssue]:
        return [i for i in self.issues.values() if i.issue.parent_id == parent_id]


def _values(name: str, value: str | Sequence[str]) -> tuple[str, ...]:
    """A custom field's value(s) as the snapshot holds them: empty values dropped."""
    items = [value] if isinstance(value, str) else list(value)
    if name in USER_FIELDS:
        items = [login.strip() for item in items for login in item.split(",")]
    return tuple(v for v in items if v)
