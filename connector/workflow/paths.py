"""Paths through the SOP graph that the engine and the intake share."""

from __future__ import annotations

from connector.sop.model import Sop


def main_path(sop: Sop) -> tuple[int, ...]:
    """Step numbers reached from the first by ``next`` and ``ya`` branches, in order.

    These steps get a subtask when a case opens; a step reached only through a "tidak"
    branch (7: the refusal) is created when that branch is taken.
    """
    seen: set[int] = set()
    todo = [sop.first.number]
    while todo:
        number = todo.pop()
        if number in seen:
            continue
        seen.add(number)
        step = sop.step(number)
        todo.extend([step.decision.ya] if step.decision else list(step.successors))
    return tuple(sorted(seen))


def steps_between(sop: Sop, start: int, end: int) -> tuple[int, ...]:
    """Main-path steps from ``start`` to ``end`` inclusive (a loop's steps to reopen)."""
    return tuple(n for n in main_path(sop) if start <= n <= end)
