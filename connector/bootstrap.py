"""All wiring in one place: settings in, the collaborators every handler needs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from connector.calendar import WorkCalendar
from connector.codehost import CodeHost
from connector.config.settings import Settings
from connector.sop.loader import load_sop
from connector.sop.model import Sop
from connector.store.db import make_engine
from connector.store.migrate import create_all
from connector.tracker import IssueTracker


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """The collaborators of the service layer, passed in rather than imported."""

    settings: Settings
    engine: Engine
    tracker: IssueTracker
    sop: Sop
    calendar: WorkCalendar
    clock: Callable[[], datetime] = _utc_now
    codehost: CodeHost | None = None

    def today(self) -> date:
        """Today in the office's time zone (a case arriving at 07:00 WITA is that day's)."""
        return self.local_date(self.clock())

    def local_date(self, moment: datetime) -> date:
        """The office's calendar day of a moment."""
        return moment.astimezone(ZoneInfo(self.settings.calendar.timezone)).date()


def calendar_for(settings: Settings) -> WorkCalendar:
    """The working-day calendar of the ``[calendar]`` settings."""
    c = settings.calendar
    return WorkCalendar(work_week=c.work_week, extra_holidays=c.extra_holidays,
                        extra_workdays=c.extra_workdays)


def codehost_for(settings: Settings) -> CodeHost | None:
    """GitLab with ``[gitlab]`` and its token, else local git with ``[local_git]``, else None.

    None leaves step 8 to people. The configuration loader refuses both sections at once;
    were both given anyway, GitLab would win.
    """
    gitlab, local = settings.gitlab, settings.local_git
    if gitlab is not None and gitlab.token is not None:
        from connector.gitlab import GitLabCodeHost
        from connector.gitlab.parts import Policy
        from connector.gitlab.protection import LEVEL_NAMES, BranchRules

        rules = BranchRules(push=LEVEL_NAMES[gitlab.push_access_level],
                            merge=LEVEL_NAMES[gitlab.merge_access_level],
                            allow_force_push=gitlab.allow_force_push)
        return GitLabCodeHost(gitlab.url, gitlab.token, gitlab.group,
                              timeout=gitlab.timeout_seconds, ssl_verify=gitlab.verify_tls,
                              policy=Policy(rules, gitlab.signed_webhooks))
    if local is not None:
        from connector.localgit import Author, LocalGitCodeHost

        return LocalGitCodeHost(local.root, base_url=local.base_url,
                                author=Author(local.author_name, local.author_email))
    return None


def bootstrap(settings: Settings, *, tracker: IssueTracker | None = None,
              clock: Callable[[], datetime] = _utc_now,
              codehost: CodeHost | None = None) -> Services:
    """Build the services from settings; tests pass fakes, a frozen clock or a code host."""
    engine = make_engine(settings.database.url)
    create_all(engine)
    if tracker is None:
        from connector.redmine.tracker import RedmineTracker

        tracker = RedmineTracker(settings.redmine)
    return Services(settings=settings, engine=engine, tracker=tracker,
                    sop=load_sop(settings.sop_file), calendar=calendar_for(settings), clock=clock,
                    codehost=codehost or codehost_for(settings))
