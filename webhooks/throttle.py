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
from typing import Any

from flask import current_app, jsonify, request

MAX_KEYS = 100_000  # beyond this many tracked keys the oldest are forgotten first


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
