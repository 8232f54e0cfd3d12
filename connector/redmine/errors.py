"""Redmine's answers in our own terms: retry later (RemoteUnavailable) or never (RemoteRejected).

python-redmine raises its own exceptions and drops the response, so a 429 or 5xx is caught by
a session response hook first, where its ``Retry-After`` is still known.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from redminelib import exceptions

from connector.config.secret import redact
from connector.errors import RemoteRejected, RemoteUnavailable, retry_after

_OUTAGES = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            exceptions.JSONDecodeError)  # JSONDecodeError: a proxy's HTML error page
_REFUSALS = (exceptions.ResourceNotFoundError, exceptions.ConflictError,
             exceptions.RequestEntityTooLargeError)


class _Busy(RemoteUnavailable):
    """A 429 or 5xx answer, raised by the session's response hook with its ``Retry-After``."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"Redmine answered {status}", retry_after=retry_after)
        self.status = status


def refuse_busy(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: a 429 or 5xx raises here, where its ``Retry-After`` is still known
    (python-redmine's errors drop the response, so the job queue could not honour it)."""
    code = response.status_code
    if code == 429 or code >= 500:
        response.close()
        raise _Busy(code, retry_after(response.headers.get("Retry-After")))


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Turn client errors into RemoteUnavailable (retry) or RemoteRejected (do not)."""
    try:
        yield
    except _Busy as exc:
        raise RemoteUnavailable(f"Redmine answered {exc.status} while {what}",
                                retry_after=exc.retry_after) from exc
    except _OUTAGES as exc:
        raise RemoteUnavailable(f"Redmine unreachable while {what}: {type(exc).__name__}") from exc
    except exceptions.ServerError as exc:
        raise RemoteUnavailable(f"Redmine answered 500 while {what}") from exc
    except exceptions.UnknownError as exc:
        if exc.status_code >= 500 or exc.status_code in (408, 429):
            raise RemoteUnavailable(
                f"Redmine answered {exc.status_code} while {what}") from exc
        raise RemoteRejected(f"Redmine answered {exc.status_code} while {what}") from exc
    except exceptions.ValidationError as exc:
        raise RemoteRejected(f"Redmine refused {what}: {redact(str(exc))}") from exc
    except _REFUSALS as exc:
        raise RemoteRejected(f"Redmine refused {what}: {type(exc).__name__}") from exc
    except (exceptions.AuthError, exceptions.ForbiddenError, exceptions.ImpersonateError) as exc:
        raise RemoteRejected(f"Redmine refused the API key while {what}: "
                             f"{type(exc).__name__}") from exc
