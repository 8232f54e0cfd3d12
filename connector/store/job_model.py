"""The job queue's vocabulary: jobs, retry policy, and the exceptions handlers raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import RowMapping

from connector.errors import ConnectorError
from connector.store.db import StoreError, from_row
from connector.store.schema import JobStatus


class Jitter(Protocol):
    """A random source; ``random.Random`` is one."""

    def uniform(self, a: float, b: float) -> float:
        """Return a number between ``a`` and ``b``."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped (AWS, "Exponential Backoff And Jitter")."""

    base_seconds: float = 2.0
    cap_seconds: float = 3600.0

    def delay(self, attempts: int, rng: Jitter, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failure; ``retry_after`` is a floor."""
        exponent = min(max(attempts - 1, 0), 64)
        delay = rng.uniform(0.0, min(self.cap_seconds, self.base_seconds * 2.0**exponent))
        return delay if retry_after is None else max(delay, retry_after)


@dataclass(frozen=True, slots=True)
class Job:
    """A job as the queue holds it."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    run_after: datetime
    dedupe_key: str | None
    lease_owner: str | None
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    inbox_id: int | None


class RetryLater(ConnectorError):
    """Raised by a handler: try again later, no sooner than ``retry_after`` seconds."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(ConnectorError):
    """Raised by a handler: retrying cannot help (e.g. HTTP 4xx), send the job to dead."""


class JobNotReplayable(StoreError):
    """``replay`` was given a job id that does not exist or is not dead or failed."""


def job_from_row(row: RowMapping) -> Job:
    """Build a ``Job`` from a ``jobs`` row."""
    return from_row(Job, row, status=JobStatus(row["status"]))
