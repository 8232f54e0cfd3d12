"""Group commit: concurrent writers' work stored in one transaction, one fsync per batch.

Each intake must be on disk before its sender is answered (RELIABILITY promise 2), and a
durable commit costs one fsync. Under many concurrent senders, one commit per letter makes
the disk's fsync rate the ceiling and the writers queue for the lock one by one. Here the
callers take turns leading: a caller that finds no batch being written writes one itself,
of its own work and whatever else is waiting (up to ``max_batch`` items), in one
transaction, commits once, and only then hands each caller its result; a caller that finds
a batch being written waits, and the leader hands the turn to the first of them when it is
done. So a caller is answered only after its batch is durable, a crash before the commit
loses the whole batch, none of which was answered, and a lone caller writes its own work
at once, with no hand-over to another thread and back. A failing batch does not take its
items down with it: it is rolled back and its items run again one transaction each, so only
the faulty one gets its error.

``BatchCommitter`` hands a whole batch to one function (``connector.store.intakes`` stores
every letter waiting with one statement per table); ``GroupCommitter`` runs callables, one
after the other, in the batch's transaction. SQLite and PostgreSQL alike: the batch is a
plain ``engine.begin()`` transaction (SQLite's ``BEGIN IMMEDIATE`` and ``synchronous=FULL``
from ``connector.store.db``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

T = TypeVar("T")
W = TypeVar("W")
R = TypeVar("R")
DEFAULT_MAX_BATCH = 64


class _Unfinished(RuntimeError):
    """The leader of a batch stopped before this item's outcome was known."""


@dataclass(eq=False)
class _Item(Generic[W]):
    work: W
    ready: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # set when this item's caller is to write the next batch
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True
        self.ready.set()


class BatchCommitter(Generic[W, R]):
    """Store callers' items in shared, durable batches: ``write(conn, items)`` per batch."""

    def __init__(self, engine: Engine, write: Callable[[Connection, Sequence[W]], list[R]], *,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._write_batch = write
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Item[W]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._leading = False  # a caller is writing a batch
        self.batches = 0  # committed batches, for benchmarks and tests
        self.items = 0  # items committed in them

    def run(self, work: W) -> R:
        """Store ``work`` in the next batch; return its result once the batch is committed.

        ``write`` must only use ``conn`` (no commit of its own) and may see an item twice:
        once in a batch that fails for another item's sake (rolled back), then alone.
        """
        item: _Item[W] = _Item(work)
        with self._lock:
            if self._leading:
                self._waiting.put(item)
            else:
                self._leading = item.lead = True
        if not item.lead:
            item.ready.wait()  # until done, or handed the turn to lead
        if item.lead:
            self._lead(item)
        if item.error is not None:
            raise item.error
        result: R = item.result
        return result

    def close(self) -> None:
        """Nothing to stop: every batch is written by one of its own callers."""

    def _lead(self, mine: _Item[W]) -> None:
        batch = [mine]
        try:
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
        finally:
            for item in batch:  # only if writing stopped half-way (a BaseException)
                if not item.done:
                    item.finish(error=_Unfinished("the batch was not committed"))
            self._hand_over()

    def _hand_over(self) -> None:
        """Give the turn to the first caller waiting, or leave it free."""
        with self._lock:
            try:
                following = self._waiting.get_nowait()
            except queue.Empty:
                self._leading = False
                return
        following.lead = True
        following.ready.set()

    def _write(self, batch: list[_Item[W]]) -> None:
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        try:
            with self._engine.begin() as conn:
                results = self._write_batch(conn, [item.work for item in batch])
        except Exception:
            log.info("group commit: a batch of %d failed; running its items one by one",
                     len(batch))
            for item in batch:
                self._commit_alone(item)
            return
        self.batches += 1
        self.items += len(batch)
        for item, result in zip(batch, results, strict=True):
            item.finish(result)

    def _commit_alone(self, item: _Item[W]) -> None:
        try:
            with self._engine.begin() as conn:
                [result] = self._write_batch(conn, [item.work])
        except BaseException as exc:  # the caller's own error, raised in the caller's thread
            item.finish(error=exc)
            return
        self.batches += 1
        self.items += 1
        item.finish(result)


def _each(conn: Connection, works: Sequence[Callable[[Connection], Any]]) -> list[Any]:
    return [work(conn) for work in works]


class GroupCommitter(BatchCommitter[Callable[[Connection], Any], Any]):
    """Run callers' transactional work (``work(conn)``) in shared, durable batches."""

    def __init__(self, engine: Engine, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        super().__init__(engine, _each, max_batch=max_batch)

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in the next batch; return its result once it is committed.

        ``work`` must only use ``conn`` (no commit of its own) and may run twice: once in a
        batch that fails for another item's sake (rolled back), then alone.
        """
        result: T = super().run(work)
        return result
