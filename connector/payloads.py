"""Reading untrusted JSON (webhook bodies, job payloads): a value of the expected type, or None.

Shared by the senders' parsers (``connector.gitlab.events``, ``connector.redmine.events``) and
the job payloads, so that a malformed value is never used, whatever its sender.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**53  # ids beyond what JSON numbers hold exactly are nobody's


def get(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None as soon as a level is not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def positive_int(value: Any) -> int | None:
    """An id: an int (not a bool) from 1 to below ``MAX_ID``, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
        return None
    return value
