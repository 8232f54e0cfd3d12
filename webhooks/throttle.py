"""Throttling of failed credentials: too many failures from one place answer 429.

In memory, per process: for each key (a credential scope such as ``intake`` and the
client's address, or ``sign-in`` and a login) the times of its failures in a sliding
window of ``[webhooks] throttle_window_seconds``. At ``throttle_failures`` failures the
key is refused, even with the right credential, until the oldest failure leaves the
window; the answer says when in ``Retry-After`` (RFC 9110, section 10.2.3). A success does
not clear earlier failures: guessing stays as slow as the window allows. A restart
forgets everything, which costs an attacker one restart per window at most.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, jsonify, make_response, request, url_for

from connector.rendering import html_env

MAX_KEYS = 100_000  # beyond this many tracked keys the oldest are forgotten first
REFUSED = frozenset({401, 403})  # a sign-in answer that counts as a failed attempt
F = TypeVar("F", bound=Callable[..., Any])


class Throttle:
    """Sliding-window counts of failures per key; thread-safe."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Whole seconds until every key may try again; None when none is throttled."""
        now = self._clock()
        waits = []
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    waits.append(times[len(times) - self.limit] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, keys: Iterable[str]) -> None:
        """Record one failure under each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


def throttle() -> Throttle:
    """This app's throttle (made by ``create_app`` from the configuration)."""
    found: Throttle = current_app.extensions["sop_throttle"]
    return found


def client_keys(scope: str, *extra: str) -> list[str]:
    """The throttle keys of this request: the scope with the client's address, and extras."""
    return [f"{scope}@{request.remote_addr or '-'}", *(f"{scope}:{e}" for e in extra)]


def too_many(seconds: int) -> Any:
    """The JSON 429 answer, with ``Retry-After``."""
    body = {"error": "too_many_requests",
            "message": f"Terlalu banyak kredensial yang salah; coba lagi dalam {seconds} detik."}
    return jsonify(body), 429, {"Retry-After": str(seconds)}


def throttled_sign_in(view: F) -> F:
    """Throttle the dashboard's sign-in attempts per client address and per login.

    Wraps the sign-in view: an attempt (a POST, or ``?token=``) from a throttled address
    or for a throttled login answers 429 without checking anything; an attempt the view
    refuses (401 or 403) counts as a failure.
    """
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" and "token" not in request.args:
            return view(*args, **kwargs)
        login = request.form.get("login", "").strip().casefold()[:200]
        keys = client_keys("sign-in", *([f"login={login}"] if login else []))
        wait = throttle().retry_after(keys)
        if wait is not None:
            page = html_env().get_template("dashboard/throttled.html")
            html = page.render(url_for=url_for, login=None, seconds=wait)
            return html, 429, {"Retry-After": str(wait)}
        answer = make_response(view(*args, **kwargs))
        if answer.status_code in REFUSED:
            throttle().failed(keys)
        return answer
    return cast(F, wrapper)
