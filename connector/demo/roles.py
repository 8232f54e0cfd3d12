"""The SOP's people, acting in Redmine over its REST API (python-redmine).

Each role's user acts as themself: the demo holds the administrator's key and uses Redmine's
user switching (``X-Redmine-Switch-User``, python-redmine's ``impersonate``), so Redmine
checks that user's permissions and records the journal under their name, exactly as if they
had closed the subtask in the browser. The service then judges who acted from the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from io import BytesIO
from pathlib import Path
from typing import Any

from redminelib import Redmine

ADMIN = "admin"


@dataclass(frozen=True)
class Upload:
    """A document a person attaches when closing a step."""

    filename: str
    content: bytes


@dataclass
class RedmineRoles:
    """Acts as any Redmine user, given the administrator's API key."""

    url: str
    admin_key: str
    _clients: dict[str, Redmine] = field(default_factory=dict, repr=False)

    def as_user(self, login: str) -> Redmine:
        """A client whose requests Redmine runs as ``login``."""
        if login not in self._clients:
            extra = {} if login == ADMIN else {"impersonate": login}
            self._clients[login] = Redmine(self.url, key=self.admin_key,
                                           requests={"timeout": 30}, **extra)
        return self._clients[login]

    def close_step(self, issue_id: int, login: str, *, status: str, notes: str = "",
                   uploads: Sequence[Upload] = (), team: Sequence[str] = (),
                   findings: Sequence[str] = ()) -> int | None:
        """``login`` sets the subtask's status (with notes, documents, the team field, the
        Temuan Verifikasi field).

        Returns the id of the journal Redmine wrote, as the redmine_webhook plugin sends it.
        """
        api = self.as_user(login)
        fields: dict[str, Any] = {"status_id": self._status_ids[status], "notes": notes}
        if uploads:
            fields["uploads"] = [
                {"token": api.upload(BytesIO(u.content), filename=u.filename)["token"],
                 "filename": u.filename, "content_type": "application/pdf"} for u in uploads]
        custom = []
        if team:
            custom.append({"id": self._field_ids["Tim Pengembang"],
                           "value": [self.user_id(login) for login in team]})
        if findings:
            custom.append({"id": self._field_ids["Temuan Verifikasi"], "value": list(findings)})
        if custom:
            fields["custom_fields"] = custom
        api.issue.update(issue_id, **fields)
        journals = list(self.as_user(ADMIN).issue.get(issue_id, include=["journals"]).journals)
        return int(journals[-1].id) if journals else None

    def latest_note(self, issue_id: int) -> str:
        """The last non-empty note on an issue (for example a refusal by the service)."""
        issue = self.as_user(ADMIN).issue.get(issue_id, include=["journals"])
        notes = [j.notes for j in issue.journals if getattr(j, "notes", "")]
        return str(notes[-1]) if notes else ""

    def download(self, issue_id: int, prefix: str, folder: Path) -> list[Path]:
        """Save the issue's attachments whose names start with ``prefix`` into ``folder``."""
        issue = self.as_user(ADMIN).issue.get(issue_id, include=["attachments"])
        saved = []
        for attachment in issue.attachments:
            if str(attachment.filename).startswith(prefix):
                saved.append(Path(attachment.download(savepath=str(folder),
                                                      filename=attachment.filename)))
        return sorted(saved)

    def user_id(self, login: str) -> int:
        """The numeric id of a login (users are found by login, which is unique)."""
        users = self.as_user(ADMIN).user.filter(name=login)
        return next(int(u.id) for u in users if u.login == login)

    @cached_property
    def _status_ids(self) -> dict[str, int]:
        return {str(s.name): int(s.id) for s in self.as_user(ADMIN).issue_status.all()}

    @cached_property
    def _field_ids(self) -> dict[str, int]:
        return {str(f.name): int(f.id) for f in self.as_user(ADMIN).custom_field.all()}
