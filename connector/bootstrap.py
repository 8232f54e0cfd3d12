"""The composition root: settings in, the real adapters wired into ``Services`` out.

Only the top imports it: the CLI, the Flask app's entry points, the demo and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from connector.calendar import WorkCalendar
from connector.codehost import CodeHost
from connector.config.settings import Settings
from connector.services import Services, utc_now
from connector.sop.loader import load_sop
from connector.store.db import make_engine
from connector.store.migrate import create_all
from connector.tracker import IssueTracker


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
              clock: Callable[[], datetime] = utc_now,
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
