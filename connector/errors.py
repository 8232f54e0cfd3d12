"""One exception root for everything the library raises on purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class ConnectorError(Exception):
    """Root of every error sop-connector raises deliberately."""


class ConfigError(ConnectorError):
    """The configuration file is wrong; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SopError(ConnectorError):
    """An SOP file is invalid; ``problems`` lists every fault with its step."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CalendarError(ConnectorError):
    """A working-day computation was asked something impossible."""


class RemoteUnavailable(ConnectorError):
    """Redmine or GitLab could not be reached or answered 5xx/429: retry later.

    ``retry_after`` is the peer's ``Retry-After`` in seconds when it sent one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RemoteRejected(ConnectorError):
    """Redmine or GitLab refused the request (4xx): retrying the same request cannot help."""


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
