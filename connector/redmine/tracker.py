"""RedmineTracker: the IssueTracker port over Redmine's REST API (python-redmine).

Every request carries ``X-Skip-Webhooks`` so that our own writes do not come back to us
through the redmine_webhook plugin (RELIABILITY promise 7). Names configured in the TOML
file (trackers, statuses, custom fields, logins) are resolved to ids once and cached; the
users map is listed again once when an unknown user id or login shows up.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from redminelib import Redmine

from connector.config.settings import RedmineSettings
from connector.errors import ConfigError, RemoteRejected
from connector.faults import fault_point
from connector.redmine import subprojects
from connector.redmine.errors import refuse_busy, translated_errors
from connector.redmine.filenames import redmine_filename
from connector.redmine.schema import DEFAULT_CUSTOM_FIELDS, RoleSpec
from connector.tracker import (
    CaseField,
    IssueChange,
    IssueChanges,
    IssueDraft,
    IssueSnapshot,
    JournalEntry,
    TrackedIssue,
)

SKIP_WEBHOOKS = {"X-Skip-Webhooks": "1"}
MAX_PAGE_SIZE = 100  # Redmine caps ``limit`` at 100 per request
@dataclass(frozen=True)
class _Field:
    """A custom field as Redmine lists it."""

    id: int
    format: str
    multiple: bool


class RedmineTracker:
    """Cases and their step subtasks as Redmine issues, found by the key custom field."""

    def __init__(self, settings: RedmineSettings, *, page_size: int = MAX_PAGE_SIZE,
                 member_role: str = RoleSpec.name) -> None:
        if settings.api_key is None:
            raise ConfigError(["[redmine] api_key_env or api_key_file is required"])
        if not 0 < page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
        self._settings = settings
        self._page_size = page_size
        self._member_role = member_role
        self._user_ids: dict[str, int] | None = None
        self._user_names: dict[str, str] = {}  # login -> "firstname lastname", as listed
        self._unknown_user_ids: set[int] = set()
        self._login: str | None = None
        # Versions of the subprojects this tracker created, all made by it (ensure_version).
        self._own_versions: dict[str, set[str]] = {}
        # Our field keys (``CaseField``) and Redmine's custom field names, both ways round.
        self._names = {spec.key: spec.name for spec in DEFAULT_CUSTOM_FIELDS} \
            | {CaseField.SOP_KEY.value: settings.key_field}
        self._keys = {name: key for key, name in self._names.items()}
        self._redmine = Redmine(
            settings.url,
            key=settings.api_key.reveal(),
            requests={"timeout": settings.timeout_seconds, "verify": settings.verify_tls,
                      "headers": dict(SKIP_WEBHOOKS), "hooks": {"response": [refuse_busy]}},
        )

    def __repr__(self) -> str:
        return f"RedmineTracker({self._settings.url!r})"

    # -- names to ids, resolved once ------------------------------------------------------

    @cached_property
    def _project_id(self) -> int:
        with translated_errors("reading the project"):
            return int(self._redmine.project.get(self._settings.project).id)

    @cached_property
    def _trackers(self) -> dict[str, int]:
        with translated_errors("listing trackers"):
            return {t.name: t.id for t in self._redmine.tracker.all()}

    @cached_property
    def _statuses(self) -> dict[str, int]:
        with translated_errors("listing statuses"):
            return {s.name: s.id for s in self._redmine.issue_status.all()}

    @cached_property
    def _custom_fields(self) -> dict[str, _Field]:
        with translated_errors("listing custom fields"):
            return {f.name: _Field(int(f.id), str(f.field_format), bool(getattr(f, "multiple",
                                                                                 False)))
                    for f in self._redmine.custom_field.all()}

    @cached_property
    def _roles(self) -> dict[str, int]:
        with translated_errors("listing roles"):
            return {r.name: r.id for r in self._redmine.role.all()}

    @property
    def _users(self) -> dict[str, int]:
        """Logins to user ids, listed once (all statuses, so locked users still resolve)."""
        if self._user_ids is None:
            self._refresh_users()
        assert self._user_ids is not None
        return self._user_ids

    def _refresh_users(self) -> None:
        with translated_errors("listing users"):
            users = [u.raw() for u in self._redmine.user.all(status="")]
        self._user_ids = {u["login"]: u["id"] for u in users}
        self._user_names = {u["login"]: _full_name(u) for u in users}

    def _id(self, table: dict[str, int], name: str, what: str) -> int:
        try:
            return table[name]
        except KeyError:
            raise RemoteRejected(
                f"Redmine has no {what} named {name!r}; run `sop-connector doctor`") from None

    def _tracker_id(self, kind: str) -> int:
        name = self._settings.case_tracker if kind == "case" else self._settings.step_tracker
        return self._id(self._trackers, name, "tracker")

    def _field(self, name: str) -> _Field:
        field = self._custom_fields.get(name)
        if field is None:
            raise RemoteRejected(
                f"Redmine has no custom field named {name!r}; run `sop-connector doctor`")
        return field

    def _user_id(self, login: str) -> int:
        """The id of a login; the users are listed again once if it is unknown."""
        if login not in self._users:
            self._refresh_users()
        return self._id(self._users, login, "user")

    def _login_of(self, user_id: Any) -> str | None:
        """The login of a user id, or None (anonymous, deleted, or a group)."""
        if not isinstance(user_id, int):
            return None
        logins = {v: k for k, v in self._users.items()}
        if user_id not in logins and user_id not in self._unknown_user_ids:
            self._refresh_users()
            logins = {v: k for k, v in self._users.items()}
            if user_id not in logins:  # never list again for it: journals of deleted users
                self._unknown_user_ids.add(user_id)
        return logins.get(user_id)

    def _status_name(self, status_id: Any) -> str | None:
        """A status id of a journal detail (a string) as the status name."""
        if status_id in (None, ""):
            return None
        names = {str(v): k for k, v in self._statuses.items()}
        return names.get(str(status_id), str(status_id))

    # -- the port: cases and steps ----------------------------------------------------------

    def find_case(self, key: str) -> TrackedIssue | None:
        """The parent issue whose key field equals ``key``."""
        found = self._find(key, tracker_id=self._tracker_id("case"))
        return found[0] if found else None

    def case_issues(self) -> list[TrackedIssue]:
        """Every issue of the case tracker in the project, any status, by id (paged)."""
        found: list[TrackedIssue] = []
        while True:
            with translated_errors("listing cases"):
                page = [self._tracked(i.raw()) for i in self._redmine.issue.filter(
                    project_id=self._project_id, tracker_id=self._tracker_id("case"),
                    status_id="*", sort="id", limit=self._page_size, offset=len(found))]
            found += page
            if len(page) < self._page_size:
                return found

    def steps_of(self, case_issue_id: int) -> dict[str, TrackedIssue]:
        """The case's step subtasks by key (one request, whatever their number)."""
        with translated_errors("listing subtasks"):
            children = [i.raw() for i in self._redmine.issue.filter(
                parent_id=case_issue_id, status_id="*", limit=100)]
        return {issue.key: issue for issue in map(self._tracked, children)}

    def open_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Create the issue; the caller has looked it up by its key first.

        Redmine's workflow may refuse a new issue's status silently (a new issue starts in
        the tracker's default status), so any other status is set by an update afterwards.
        """
        fields = self._create_fields(draft)
        with translated_errors(f"creating issue {draft.key}"):
            created = self._tracked(self._redmine.issue.create(**fields).raw())
        if created.status != draft.status:
            self.update_issue(created.id, status=draft.status)
            created = replace(created, status=draft.status)
        return created

    def attachment_names(self, issue_id: int) -> frozenset[str]:
        """The names of the files attached to an issue."""
        with translated_errors(f"reading attachments of #{issue_id}"):
            issue = self._redmine.issue.get(issue_id, include=["attachments"])
            return frozenset(a.filename for a in issue.attachments)

    def attachment_content(self, issue_id: int, filename: str) -> bytes | None:
        """The bytes of the (last) file of that name attached to an issue, or None."""
        with translated_errors(f"downloading {filename} of #{issue_id}"):
            issue = self._redmine.issue.get(issue_id, include=["attachments"])
            found = [a for a in issue.attachments if a.filename == redmine_filename(filename)]
            if not found:
                return None
            response = self._redmine.download(found[-1].content_url)
            content: bytes = response.content
            return content

    def attach_document(self, issue_id: int, filename: str, content_type: str,
                        content: bytes, *, notes: str | None = None,
                        attached: frozenset[str] | None = None) -> None:
        """Upload and attach, unless a file of that name is already attached.

        The name is compared as Redmine stores it (``redmine_filename``), so a retry never
        attaches a second copy of a file whose name Redmine sanitised. ``attached``: all the
        issue's files as the caller knows them (an issue it has just created): not read.
        """
        names = self.attachment_names(issue_id) if attached is None \
            else frozenset(map(redmine_filename, attached))
        if redmine_filename(filename) in names:
            return
        with translated_errors(f"attaching {filename} to #{issue_id}"):
            upload = self._redmine.upload(io.BytesIO(content), filename=filename)
            fault_point("redmine.after_upload")
            self._redmine.issue.update(issue_id, notes=notes or "", uploads=[
                {"token": upload["token"], "filename": filename, "content_type": content_type}])

    def update_issue(self, issue_id: int, *, status: str | None = None,
                     notes: str | None = None) -> None:
        """Set a status by name and/or add a note."""
        self.change_issue(issue_id, IssueChanges(status=status, notes=notes))

    def change_issue(self, issue_id: int, changes: IssueChanges) -> None:
        """Apply every change in one PUT, hence one journal; nothing to change sends nothing."""
        fields = self._change_fields(changes)
        if not fields:
            return
        with translated_errors(f"updating #{issue_id}"):
            self._redmine.issue.update(issue_id, **fields)

    # -- the port: seeing what people did -----------------------------------------------------

    def snapshot(self, issue_id: int) -> IssueSnapshot:
        """The issue with its journals (authors as logins, statuses as names) and files."""
        with translated_errors(f"reading #{issue_id}"):
            raw = self._redmine.issue.get(issue_id, include=["journals", "attachments"]).raw()
        return IssueSnapshot(
            issue=self._tracked(raw), updated_on=_time(raw["updated_on"]),
            journals=tuple(self._journal(j) for j in raw.get("journals") or ()),
            attachment_names=frozenset(a["filename"] for a in raw.get("attachments") or ()),
            fields=self._field_values(raw.get("custom_fields") or ()),
            attachment_times=tuple((a["filename"], _time(a["created_on"]))
                                   for a in raw.get("attachments") or ()),
        )

    def updated_since(self, since: datetime) -> list[int]:
        """Ids of the project's issues updated at or after ``since``, oldest change first."""
        return [change.issue_id for change in self.changes_since(since)]

    def changes_since(self, since: datetime) -> list[IssueChange]:
        """The project's issues updated at or after ``since``, with their ``updated_on`` and
        status, oldest change first.

        Pages are read newest first until one comes back short: an issue updated while we
        page moves to the front, so it shifts the rest towards later pages (read twice,
        never skipped), and python-redmine's own paging, which stops at the first
        ``total_count``, would have missed the oldest ones. Redmine reads ``>=T`` as
        ``> T - 1 s`` (``Query#date_clause``), so the window starts up to a second early.
        """
        if since.tzinfo is None:
            raise ValueError("updated_since needs an aware datetime")
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # floor to the second
        newest_first: dict[int, IssueChange] = {}
        read = 0
        while True:
            with translated_errors("listing updated issues"):
                page = self._redmine.issue.filter(
                    project_id=self._project_id, status_id="*", updated_on=f">={stamp}",
                    sort="updated_on:desc,id:desc", limit=self._page_size,
                    offset=read)
                rows = [i.raw() for i in page]
                total = int(page.total_count)
            read += len(rows)
            for row in rows:  # read twice when it moved up a page: the first read is newer
                newest_first.setdefault(int(row["id"]), IssueChange(
                    int(row["id"]), _time(row["updated_on"]), str(row["status"]["name"])))
            if len(rows) < self._page_size or read >= total:
                # Redmine sorted on the full-precision time; its JSON shows whole seconds.
                return list(reversed(newest_first.values()))

    def field_label(self, key: str) -> str:
        """The custom field's name in Redmine (*Nomor Surat* for ``letter_number``)."""
        return self._names.get(key, key)

    def service_login(self) -> str:
        """The login of the API key's account (``GET /users/current.json``), cached."""
        if self._login is None:
            with translated_errors("reading the current user"):
                self._login = str(self._redmine.user.get("current").login)
        return self._login

    def display_name(self, login: str) -> str:
        """``firstname lastname`` of the login's account, from the users listing (read once,
        and again when a login is unknown); the login itself when the account has no name."""
        self._user_id(login)  # lists the users again if the login is new
        return self._user_names.get(login) or login

    def project_members(self) -> frozenset[str]:
        """The logins of the project's members (users only, not groups)."""
        return frozenset(login for login in map(self._login_of, self._member_ids()) if login)

    def ensure_member(self, login: str, *, members: frozenset[str] | None = None) -> None:
        """Add the user to the project with the SOP role, unless already a member.

        ``members``: as ``project_members`` listed them just before; else they are listed.
        A member added meanwhile by another case's job makes the create fail: then listed.
        """
        user_id = self._user_id(login)
        if (login in members) if members is not None else (user_id in self._member_ids()):
            return
        role_id = self._id(self._roles, self._member_role, "role")
        try:
            with translated_errors(f"adding {login} to the project"):
                self._redmine.project_membership.create(
                    project_id=self._project_id, user_id=user_id, role_ids=[role_id])
        except RemoteRejected:
            if user_id not in self._member_ids():  # else a concurrent call added them first
                raise

    def add_watcher(self, issue_id: int, login: str) -> None:
        """Add a watcher unless already watching."""
        user_id = self._user_id(login)
        with translated_errors(f"adding a watcher to #{issue_id}"):
            issue = self._redmine.issue.get(issue_id, include=["watchers"])
            if any(w.get("id") == user_id for w in issue.raw().get("watchers") or ()):
                return
            issue.watcher.add(user_id)

    def ensure_subproject(self, identifier: str, name: str, description: str,
                          member_logins: tuple[str, ...]) -> str:
        """The application's subproject (step 8), with the team as members; its URL."""
        user_ids = [self._user_id(login) for login in member_logins]
        role_id = self._id(self._roles, self._member_role, "role")
        with translated_errors(f"creating subproject {identifier}"):
            created = subprojects.ensure_subproject(
                self._redmine, parent_id=self._project_id, identifier=identifier, name=name,
                description=description, user_ids=user_ids, role_id=role_id)
        if created:
            self._own_versions[identifier] = set()
        return f"{self._settings.url}/projects/{identifier}"

    def ensure_version(self, project: str, name: str, due: date | None) -> None:
        """The subproject's version mirroring the development milestone.

        In a subproject this tracker has just created, a version it has not created yet
        cannot be there: it is created without listing the versions first. Any other (a
        version to update, a subproject found) is looked up.
        """
        own = self._own_versions.get(project)
        absent = own is not None and name not in own
        if own is not None:
            own.add(name)  # before the create: a retry after any failure looks it up
        with translated_errors(f"setting version {name!r} of {project}"):
            subprojects.ensure_version(self._redmine, project=project, name=name, due=due,
                                       absent=absent)

    # -- helpers ------------------------------------------------------------------------------

    def _member_ids(self) -> set[int]:
        with translated_errors("listing project members"):
            return {m.raw()["user"]["id"] for m in
                    self._redmine.project_membership.filter(project_id=self._project_id)
                    if "user" in m.raw()}

    def _find(self, key: str, *, tracker_id: int) -> list[TrackedIssue]:
        field_id = self._field(self._settings.key_field).id
        with translated_errors(f"looking up {key}"):
            found = [i.raw() for i in self._redmine.issue.filter(
                project_id=self._project_id, tracker_id=tracker_id, status_id="*",
                **{f"cf_{field_id}": key})]
        return [t for t in map(self._tracked, found) if t.key == key]

    def _create_fields(self, draft: IssueDraft) -> dict[str, Any]:
        values = {CaseField.SOP_KEY.value: draft.key, **draft.fields}
        fields: dict[str, Any] = {
            "project_id": self._project_id,
            "tracker_id": self._tracker_id(draft.kind),
            "subject": draft.subject[:255],
            "description": draft.description,
            "status_id": self._id(self._statuses, draft.status, "status"),
            "custom_fields": self._custom_values(values),
        }
        if draft.parent_id is not None:
            fields["parent_issue_id"] = draft.parent_id
        if draft.assignee_login is not None:
            fields["assigned_to_id"] = self._user_id(draft.assignee_login)
        for name in ("start_date", "due_date"):
            if getattr(draft, name) is not None:
                fields[name] = getattr(draft, name).isoformat()
        return fields

    def _change_fields(self, changes: IssueChanges) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if changes.status is not None:
            fields["status_id"] = self._id(self._statuses, changes.status, "status")
        if changes.notes:
            fields["notes"] = changes.notes
        if changes.assignee_login is not None:
            fields["assigned_to_id"] = self._user_id(changes.assignee_login)
        for name in ("start_date", "due_date"):
            if getattr(changes, name) is not None:
                fields[name] = getattr(changes, name).isoformat()
        if changes.fields:
            fields["custom_fields"] = self._custom_values(changes.fields)
        return fields

    def _custom_values(self, values: Mapping[str, str]) -> list[dict[str, Any]]:
        """``custom_fields`` by our key; a user field takes logins (comma-separated if multiple)."""
        out = []
        for key, value in values.items():
            field = self._field(self.field_label(key))
            converted: str | list[str] = value
            if field.format == "user":
                ids = [self._user_value(v.strip()) for v in value.split(",") if v.strip()]
                converted = ids if field.multiple else (ids[0] if ids else "")
            out.append({"id": field.id, "value": converted})
        return out

    def _user_value(self, login: str) -> str:
        """A login as a user id for a user field; a number is taken as an id already."""
        if login.isdigit() and login not in self._users:
            return login
        return str(self._user_id(login))

    def _field_values(self, raw_fields: Any) -> dict[str, tuple[str, ...]]:
        """Custom field values by our key (other fields by name); empty values dropped, user ids
        turned into logins."""
        out: dict[str, tuple[str, ...]] = {}
        for raw in raw_fields:
            value = raw.get("value")
            texts = [str(v) for v in (value if isinstance(value, list) else [value])
                     if v not in (None, "")]
            field = self._custom_fields.get(raw.get("name", ""))
            if field is not None and field.format == "user":
                texts = [self._login_of(int(t)) or t if t.isdigit() else t for t in texts]
            name = str(raw.get("name", ""))
            out[self._keys.get(name, name)] = tuple(texts)
        return out

    def _journal(self, raw: Mapping[str, Any]) -> JournalEntry:
        status = next((d for d in raw.get("details") or ()
                       if d.get("property") == "attr" and d.get("name") == "status_id"), None)
        return JournalEntry(
            id=int(raw["id"]), author_login=self._login_of((raw.get("user") or {}).get("id")),
            created_on=_time(raw["created_on"]), notes=raw.get("notes") or "",
            status_from=self._status_name(status.get("old_value")) if status else None,
            status_to=self._status_name(status.get("new_value")) if status else None,
        )

    def _tracked(self, raw: Mapping[str, Any]) -> TrackedIssue:
        key = next((str(f.get("value") or "") for f in raw.get("custom_fields", [])
                    if f.get("name") == self._settings.key_field), "")
        assignee = raw.get("assigned_to")
        return TrackedIssue(
            id=int(raw["id"]), key=key, subject=raw.get("subject", ""),
            status=raw["status"]["name"],
            assignee_login=self._login_of(assignee.get("id")) if assignee else None,
            start_date=_date(raw.get("start_date")), due_date=_date(raw.get("due_date")),
            parent_id=(raw.get("parent") or {}).get("id"),
            url=f"{self._settings.url}/issues/{raw['id']}",
            kind=self._kind((raw.get("tracker") or {}).get("name")),
        )

    def _kind(self, tracker_name: Any) -> str:
        """"case" or "step" for the SOP's own trackers, "" for any other."""
        names = {self._settings.case_tracker: "case", self._settings.step_tracker: "step"}
        return names.get(str(tracker_name), "")


def _full_name(raw: Mapping[str, Any]) -> str:
    return f"{raw.get('firstname') or ''} {raw.get('lastname') or ''}".strip()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _time(value: str) -> datetime:
    """Redmine's ``2026-03-16T01:00:00Z`` as an aware datetime."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
