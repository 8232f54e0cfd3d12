"""Count (and time) every HTTP request made through ``requests``, by peer and by caller.

python-redmine and python-gitlab both send through ``requests.Session.send``; wrapping it
counts their calls whether the peer is real or answered by ``responses`` (which patches the
adapter beneath the session). A request carrying ``X-Skip-Webhooks`` is one of the service's
own (``connector.redmine.tracker`` sets it); one without it was made by a person in the test.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """One request: who made it, to which host, how, and how long it took."""

    host: str
    method: str
    path: str
    by_service: bool
    seconds: float
    url: str = ""
    body: Any = None
    answer: bytes = b""  # the response body of a write, for replaying it


@dataclass
class CallLog:
    """The requests seen while ``recording()`` was active."""

    calls: list[Call] = field(default_factory=list)

    def of(self, host: str, *, by_service: bool | None = True) -> list[Call]:
        """Calls to ``host`` (``netloc``), by the service, by people, or by anyone (None)."""
        return [c for c in self.calls if c.host == host
                and (by_service is None or c.by_service == by_service)]

    @staticmethod
    def writes(calls: list[Call]) -> list[Call]:
        return [c for c in calls if c.method in WRITES]

    @staticmethod
    def seconds(calls: list[Call]) -> float:
        return sum(c.seconds for c in calls)

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def recording(log: CallLog | None = None) -> Iterator[CallLog]:
    """Record every ``requests`` call made in this process until the block ends."""
    log = log if log is not None else CallLog()
    original = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest,
             **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = None
        try:
            response = original(session, request, **kwargs)
            return response
        finally:
            parts = urlsplit(request.url or "")
            method = request.method or ""
            answer = response.content if response is not None and method in WRITES else b""
            log.calls.append(Call(
                host=parts.netloc, method=method, path=parts.path,
                by_service="X-Skip-Webhooks" in request.headers,
                seconds=time.perf_counter() - started, url=request.url or "",
                body=_bytes(request.body), answer=answer))

    requests.Session.send = send  # type: ignore[method-assign]
    try:
        yield log
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


def _bytes(body: Any) -> Any:
    """A streamed body (python-redmine uploads a BytesIO) as its bytes."""
    return body.getvalue() if hasattr(body, "getvalue") else body


def route(path: str) -> str:
    """``/issues/123.json`` as ``/issues/:id.json``: the kind of call, whatever the object."""
    return re.sub(r"/\d+(?=[/.]|$)", "/:id", path)


def breakdown(calls: list[Call]) -> list[tuple[str, int, int]]:
    """Calls per kind (method and route), most first: (kind, reads, writes)."""
    counts: Counter[tuple[str, bool]] = Counter(
        (f"{c.method} {route(c.path)}", c.method in WRITES) for c in calls)
    kinds = sorted({kind for kind, _ in counts},
                   key=lambda k: (-(counts[(k, False)] + counts[(k, True)]), k))
    return [(kind, counts[(kind, False)], counts[(kind, True)]) for kind in kinds]


def print_breakdown(title: str, calls: list[Call]) -> None:
    """Print the calls of one peer per kind, reads and writes apart (for the README)."""
    rows = breakdown(calls)
    print(f"# {title}: {len(calls)} calls, "
          f"{sum(r for _, r, _ in rows)} reads, {sum(w for _, _, w in rows)} writes")
    for kind, reads, writes in rows:
        print(f"#   {reads:4d} reads {writes:4d} writes  {kind}")
