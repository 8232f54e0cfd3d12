"""What happened in a case's code-host project, as the service keeps it: one line per event.

The code-host adapters read their deliveries into ``ProgressEvent`` (``connector.gitlab.events``
for GitLab); step 12's progress notes (``connector.workflow.progress``) take it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.payloads import positive_int

MAX_LINE = 240  # one event's line in a note
KINDS = ("push", "merge", "wiki", "pipeline", "tag", "release")



@dataclass(frozen=True)
class ProgressEvent:
    """Something that happened in a project, as one line of a progress note."""

    project_id: int
    kind: str  # one of KINDS: events of one kind are aggregated into one note
    summary_line: str
    at: datetime  # when the delivery was received

    def as_payload(self) -> dict[str, Any]:
        """The event as a JSON-safe job payload."""
        return {"project_id": self.project_id, "kind": self.kind,
                "summary_line": self.summary_line, "at": self.at.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ProgressEvent:
        """Read a job payload back; ValueError when it is not one ``as_payload`` made."""
        project_id, kind = positive_int(payload.get("project_id")), payload.get("kind")
        line, at = payload.get("summary_line"), payload.get("at")
        if project_id is None or kind not in KINDS or not isinstance(line, str) \
                or not isinstance(at, str):
            raise ValueError("not a gitlab_progress payload")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("the event time has no time zone")
        return cls(project_id, str(kind), line[:MAX_LINE], moment)
