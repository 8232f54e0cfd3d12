"""The job handlers: job kinds mapped to service functions, remote errors to retry policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial

from connector.bootstrap import Services
from connector.errors import RemoteRejected, RemoteUnavailable
from connector.gitlab.progress import GITLAB_PROGRESS, record_progress
from connector.intake.open_case import open_case
from connector.store.cases import OPEN_CASE
from connector.store.jobs import Job, PermanentFailure, RetryLater
from connector.workflow.sync import SYNC_ISSUE, sync_issue


@contextmanager
def retry_policy() -> Iterator[None]:
    """RemoteUnavailable: retry with backoff (honouring Retry-After); RemoteRejected: dead."""
    try:
        yield
    except RemoteUnavailable as exc:
        raise RetryLater(str(exc), retry_after=exc.retry_after) from exc
    except RemoteRejected as exc:
        raise PermanentFailure(str(exc)) from exc


def _open_case(services: Services, job: Job) -> None:
    with retry_policy():
        open_case(services, int(job.payload["case_id"]))


def _sync_issue(services: Services, job: Job) -> None:
    with retry_policy():
        sync_issue(services, int(job.payload["issue_id"]))


def _gitlab_progress(services: Services, job: Job) -> None:
    with retry_policy():
        record_progress(services, job.payload)


def handlers_for(services: Services) -> Mapping[str, Callable[[Job], None]]:
    """Every job kind the worker knows, bound to the services."""
    return {OPEN_CASE: partial(_open_case, services), SYNC_ISSUE: partial(_sync_issue, services),
            GITLAB_PROGRESS: partial(_gitlab_progress, services)}
