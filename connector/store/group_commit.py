"""Group commit: concurrent writers' work stored in one transaction, one fsync per batch.

Each intake must be on disk before its sender is answered (RELIABILITY promise 2), and a
durable commit costs one fsync. Under many concurrent senders, one commit per letter makes
the disk's fsync rate the ceiling and the writers queue for the lock one by one. Here one
writer thread takes whatever work is waiting (up to ``max_batch`` items), runs each item in
the same transaction, commits once, and only then hands each caller its result: so a caller
is answered only after its batch is durable, and a crash before the commit loses the whole
batch, none of which was answered. A failing item does not take its batch down with it: the
batch is rolled back and its items run again one transaction each, so only the faulty one
gets its error.

SQLite and PostgreSQL alike: the batch is a plain ``engine.begin()`` transaction (SQLite's
``BEGIN IMMEDIATE`` and ``synchronous=FULL`` from ``connector.store.db``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_MAX_BATCH = 64


@dataclass
class _Item:
    work: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class GroupCommitter:
    """Run callers' transactional work in shared, durable batches (one writer thread)."""

    def __init__(self, engine: Engine, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # committed batches, for benchmarks and tests
        self.items = 0  # items committed in them

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in the next batch; return its result once the batch is committed.

        ``work`` must only use ``conn`` (no commit of its own) and may run twice: once in a
        batch that fails for another item's sake (rolled back), then alone.
        """
        item = _Item(work)
        self._ensure_writer()
        self._waiting.put(item)
        result: T = item.future.result()
        return result

    def close(self) -> None:
        """Stop the writer thread once the work already waiting is done."""
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._waiting.put(None)
            thread.join()

    def _ensure_writer(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever,
                                                name="store-group-commit", daemon=True)
                self._thread.start()

    def _write_forever(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Item]) -> None:
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        try:
            results = self._commit_together(batch)
        except Exception:
            log.info("group commit: a batch of %d failed; running its items one by one",
                     len(batch))
            for item in batch:
                self._commit_alone(item)
            return
        self.batches += 1
        self.items += len(batch)
        for item, result in zip(batch, results, strict=True):
            item.future.set_result(result)

    def _commit_together(self, batch: list[_Item]) -> list[Any]:
        with self._engine.begin() as conn:
            return [item.work(conn) for item in batch]

    def _commit_alone(self, item: _Item) -> None:
        try:
            with self._engine.begin() as conn:
                result = item.work(conn)
        except BaseException as exc:  # the caller's own error, raised in the caller's thread
            item.future.set_exception(exc)
            return
        self.batches += 1
        self.items += 1
        item.future.set_result(result)
