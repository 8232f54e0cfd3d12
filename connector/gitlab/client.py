"""The python-gitlab client, built to fail fast, and its errors in our words.

python-gitlab can retry by itself (``obey_rate_limit`` sleeps through every 429 up to
``max_retries`` = 10 times, ``retry_transient_errors`` repeats 5xx and timeouts). We switch
all of that off and let our job queue retry (RELIABILITY promise 5): a sleeping client holds
the job's lease and a worker thread for up to ten ``Retry-After`` periods, and a client that
repeats a POST after a timeout can create a second project, while our job re-runs the whole
idempotent provisioning, which looks every object up before creating it. So 429, 5xx and
transport failures become ``RemoteUnavailable`` (with GitLab's ``Retry-After``), any other
4xx ``RemoteRejected``; 404 is left to the callers, for which it means "missing".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError

from connector.config.secret import Secret, redact
from connector.errors import RemoteRejected, RemoteUnavailable, retry_after

T = TypeVar("T")
_TRANSPORT = (requests.ConnectionError, requests.Timeout,
              requests.exceptions.ChunkedEncodingError)


def connect(url: str, token: Secret | str, *, timeout: float = 30.0,
            ssl_verify: bool = True) -> gitlab.Gitlab:
    """A ``gitlab.Gitlab`` that never retries or sleeps and raises ``RemoteUnavailable``."""
    session = requests.Session()
    session.hooks["response"].append(_refuse_outage)
    private = token.reveal() if isinstance(token, Secret) else token
    return gitlab.Gitlab(url, private_token=private, timeout=timeout, ssl_verify=ssl_verify,
                         retry_transient_errors=False, session=session)


def _refuse_outage(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: a 429 or 5xx raises at once, before python-gitlab can sleep on it."""
    code = response.status_code
    if code == 429 or code >= 500:
        method = response.request.method if response.request is not None else "request"
        wait = retry_after(response.headers.get("Retry-After"))
        response.close()
        raise RemoteUnavailable(f"GitLab answered {code} to {method}", retry_after=wait)


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Turn transport failures into ``RemoteUnavailable`` and other 4xx into ``RemoteRejected``."""
    try:
        yield
    except _TRANSPORT as exc:
        raise RemoteUnavailable(f"GitLab unreachable while {what}: {type(exc).__name__}") from exc
    except GitlabError as exc:  # python-gitlab's errors all carry the HTTP status, if any
        code = exc.response_code or 0
        if code in (408, 429) or code >= 500:
            raise RemoteUnavailable(f"GitLab answered {code} while {what}") from exc
        raise RemoteRejected(f"GitLab refused {what} ({code or type(exc).__name__}): "
                             f"{redact(str(exc.error_message))}") from exc


def found(get: Callable[[], T]) -> T | None:
    """The object ``get()`` returns, or None when GitLab answers 404."""
    try:
        return get()
    except GitlabError as exc:
        if exc.response_code == 404:
            return None
        raise
