"""The issue tracker port: what the SOP needs from Redmine, in our own words.

Adapters (``connector.redmine.tracker.RedmineTracker``, ``tests.fakes.FakeTracker``)
implement it and return our dataclasses, never the client library's objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol


class CaseField(StrEnum):
    """The custom fields of a case and its steps, in our words.

    ``IssueDraft.fields``, ``IssueChanges.fields`` and ``IssueSnapshot.fields`` are keyed by
    these; the Redmine adapter maps them to its custom fields (*Nomor Surat*, *Tim
    Pengembang*...), whose names people see through ``IssueTracker.field_label``.
    """

    SOP_KEY = "sop_key"
    LETTER_NUMBER = "letter_number"
    LETTER_DATE = "letter_date"
    OPD = "opd"
    APPLICATION_NAME = "application_name"
    STEP_NUMBER = "step_number"
    DEV_TEAM = "dev_team"
    REMAINING_HARI_KERJA = "remaining_hari_kerja"
    STEP_RULES = "step_rules"  # what the Redmine plugin checks at save (workflow.step_rules)
    VERIFICATION_FINDINGS = "verification_findings"  # what step 6 "tidak" found missing


TEAM_FUNCTION_PREFIX = "team_function:"


def team_function_key(fungsi: str) -> str:
    """Our key of the field in which the Kasi picks the team members with one function (step
    4): ``team_function:Programmer``. The SOP's Kualifikasi Pelaksana names the functions;
    the team is the union of these fields and the older *Tim Pengembang* field."""
    return f"{TEAM_FUNCTION_PREFIX}{fungsi}"


def team_and_functions(fields: Mapping[str, tuple[str, ...]], functions: tuple[str, ...]
                       ) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The team (logins, in the order first chosen) and each member's functions, from a step
    subtask's fields: *Tim Pengembang* first (members without a function), then each
    function's field in the SOP's order."""
    chosen: dict[str, list[str]] = {login: [] for login in fields.get(CaseField.DEV_TEAM, ())}
    for fungsi in functions:
        for login in fields.get(team_function_key(fungsi), ()):
            chosen.setdefault(login, []).append(fungsi)
    return tuple(chosen), {login: tuple(f) for login, f in chosen.items() if f}


@dataclass(frozen=True)
class IssueDraft:
    """Everything needed to create one issue, found again later by its ``key``."""

    key: str
    kind: str  # "case" (the parent issue) or "step" (an SOP step subtask)
    subject: str
    description: str
    status: str
    parent_id: int | None = None
    assignee_login: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None


@dataclass(frozen=True)
class TrackedIssue:
    """An issue as the connector sees it."""

    id: int
    key: str
    subject: str
    status: str
    assignee_login: str | None
    start_date: date | None
    due_date: date | None
    parent_id: int | None
    url: str
    kind: str = ""  # "case" or "step" when its tracker is the SOP's case or step tracker


@dataclass(frozen=True)
class JournalEntry:
    """One journal of an issue: who changed it, when, the note, and the status change."""

    id: int
    author_login: str | None
    created_on: datetime
    notes: str
    status_from: str | None = None  # status names; both None when the status did not change
    status_to: str | None = None


@dataclass(frozen=True)
class IssueSnapshot:
    """An issue re-read over REST with everything the engine may need about it."""

    issue: TrackedIssue
    updated_on: datetime
    journals: tuple[JournalEntry, ...]
    attachment_names: frozenset[str]
    # Custom field values by field name; a user field's values are logins.
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Every attachment as (file name, when Redmine stored it), for a loop's new round.
    attachment_times: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class IssueChange:
    """One issue as the poll's listing shows it: enough to tell a change already seen.

    Redmine stamps ``updated_on`` to the second, so two writes to one issue within the same
    second share it; the status tells the one that matters (a close) from the one before it.
    """

    issue_id: int
    updated_on: datetime
    status: str


@dataclass(frozen=True)
class IssueChanges:
    """What to change on an issue; None leaves a property as it is."""

    status: str | None = None
    notes: str | None = None
    assignee_login: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


class IssueTracker(Protocol):
    """The operations the SOP engine needs from the project-management tool."""

    def find_case(self, key: str) -> TrackedIssue | None:
        """The case's parent issue carrying ``key``, or None."""

    def open_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Create the issue described by ``draft`` (callers look it up first)."""

    def case_issues(self) -> list[TrackedIssue]:
        """Every issue of the case tracker in the SOP project, any status, oldest first."""

    def steps_of(self, case_issue_id: int) -> dict[str, TrackedIssue]:
        """The case's step subtasks, by key."""

    def attachment_names(self, issue_id: int) -> frozenset[str]:
        """The file names attached to an issue."""

    def attachment_content(self, issue_id: int, filename: str) -> bytes | None:
        """The bytes of the file of that name attached to an issue, or None (issue 17: mail)."""

    def update_issue(self, issue_id: int, *, status: str | None = None,
                     notes: str | None = None) -> None:
        """Change an issue's status and/or add a note."""

    def change_issue(self, issue_id: int, changes: IssueChanges) -> None:
        """Apply several changes in one update (one journal in Redmine)."""

    def snapshot(self, issue_id: int) -> IssueSnapshot:
        """Re-read one issue with its journals, attachments and custom field values."""

    def updated_since(self, since: datetime) -> list[int]:
        """Ids of every issue of the SOP project updated at or after ``since``, any status."""

    def changes_since(self, since: datetime) -> list[IssueChange]:
        """The same issues with their ``updated_on`` and status, so a change already seen is
        known."""

    def service_login(self) -> str:
        """The login of the account the service writes as (its journals are ours)."""

    def field_label(self, key: str) -> str:
        """The name people see for the field ``key`` (a ``CaseField``), for notes."""

    def display_name(self, login: str) -> str:
        """The person's name as Redmine shows it (firstname lastname); the login if none."""

    def project_members(self) -> frozenset[str]:
        """The logins of the SOP project's members (one read, for ``ensure_member``)."""

    def ensure_member(self, login: str, *, members: frozenset[str] | None = None) -> None:
        """Make a user a member of the SOP project so that steps can be assigned to them.

        ``members``: the members as just listed (``project_members``), so they are not read
        again for each login of a team.
        """

    def add_watcher(self, issue_id: int, login: str) -> None:
        """Add a watcher (idempotent), so Redmine's own e-mail reaches them."""

    def ensure_subproject(self, identifier: str, name: str, description: str,
                          member_logins: tuple[str, ...]) -> str:
        """The application's subproject under the SOP project, with these members; its URL."""

    def ensure_version(self, project: str, name: str, due: date | None) -> None:
        """A version of the subproject ``project``, carrying ``due`` when given."""

    def attach_document(self, issue_id: int, filename: str, content_type: str,
                        content: bytes, *, notes: str | None = None,
                        attached: frozenset[str] | None = None) -> None:
        """Attach a file to an issue unless a file with that name is already there.

        ``attached``: the names the caller knows to be all the issue's files (of an issue it
        has just created), so they need not be read.
        """
