"""The collaborators of the service layer, as one value the composition root builds.

The core takes this type (or, better, only the collaborator it uses); it never imports
``connector.bootstrap``, which builds the real adapters and sits on top with the CLI and the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from connector.calendar import WorkCalendar
from connector.codehost import CodeHost
from connector.config.settings import Settings
from connector.sop.model import Sop
from connector.tracker import IssueTracker


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """The collaborators of the service layer, passed in rather than imported."""

    settings: Settings
    engine: Engine
    tracker: IssueTracker
    sop: Sop
    calendar: WorkCalendar
    clock: Callable[[], datetime] = utc_now
    codehost: CodeHost | None = None

    def today(self) -> date:
        """Today in the office's time zone (a case arriving at 07:00 WITA is that day's)."""
        return self.local_date(self.clock())

    def local_date(self, moment: datetime) -> date:
        """The office's calendar day of a moment."""
        return moment.astimezone(ZoneInfo(self.settings.calendar.timezone)).date()
