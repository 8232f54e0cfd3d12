"""The job handlers: job kinds mapped to service functions, remote errors to retry policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial

from connector.errors import RemoteRejected, RemoteUnavailable
from connector.intake.adopt import adopt_if_new_letter
from connector.intake.open_case import open_case
from connector.mail.send import send_mail
from connector.services import Services
from connector.store.jobs import Job, PermanentFailure, RetryLater
from connector.store.kinds import (
    GITLAB_PROGRESS,
    OPEN_CASE,
    SEND_MAIL,
    SIGNED_DOCUMENT,
    SYNC_ISSUE,
)
from connector.workflow.progress import record_progress
from connector.workflow.signed import attach_signed
from connector.workflow.sync import sync_issue

HINT_WAITS = 3  # attempts of a hinted sync that wait for the hinted journal to show


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
    # The redmine_webhook plugin posts before Redmine commits the change it tells of: wait a
    # few short retries for the hinted journal to show, then let the poller have the rest.
    journal = job.payload.get("journal_id")
    awaited = int(journal) if journal is not None and job.attempts <= HINT_WAITS else None
    with retry_policy():
        sync_issue(services, int(job.payload["issue_id"]), awaiting_journal=awaited,
                   other_issue=partial(adopt_if_new_letter, services))


def _gitlab_progress(services: Services, job: Job) -> None:
    with retry_policy():
        record_progress(services, job.payload)


def _send_mail(services: Services, job: Job) -> None:
    # Unreachable server or 4xx: retried with backoff; refused (5xx) or uncertain: dead.
    with retry_policy():
        send_mail(services, int(job.payload["mail_id"]))


def _signed_document(services: Services, job: Job) -> None:
    with retry_policy():
        attach_signed(services, str(job.payload["token"]))


def handlers_for(services: Services) -> Mapping[str, Callable[[Job], None]]:
    """Every job kind the worker knows, bound to the services."""
    return {OPEN_CASE: partial(_open_case, services), SYNC_ISSUE: partial(_sync_issue, services),
            GITLAB_PROGRESS: partial(_gitlab_progress, services),
            SEND_MAIL: partial(_send_mail, services),
            SIGNED_DOCUMENT: partial(_signed_document, services)}
