"""Run the benchmarks and print one table: each figure next to its baseline, same run.

``benchmarks/run [--quick] [--only NAME ...] [--json FILE] [--markdown]``; NAME is one of
``intake`` (acknowledgement and memory of ``serve``), ``redmine-case``, ``whole-case``,
``check-deadlines``, ``documents``, ``queue``, ``plugin-hints`` (close-to-next-step latency with
the Redmine plugin, on a Redmine of its own). ``--quick`` uses small counts (a CI smoke run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.table import Figure, render, write_json

NEEDS_REDMINE = {"intake", "redmine-case", "whole-case"}


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: quick for CI, full for the README."""

    seconds: float  # per sender count, intake
    cases: int  # letters opened in Redmine
    open_cases: int  # check-deadlines
    renders: int  # documents
    transitions: int = 50  # plugin-hints, per way of learning of a change
    poll_seconds: float = 5  # plugin-hints, the poll-only baseline's interval


FULL = Sizes(seconds=10, cases=6, open_cases=10_000, renders=10)
QUICK = Sizes(seconds=1, cases=2, open_cases=1_000, renders=1, transitions=4, poll_seconds=2)


def _benchmarks(sizes: Sizes) -> dict[str, Callable[[Path, Any], list[Figure]]]:
    from benchmarks import (
        check_deadlines,
        documents,
        intake,
        job_queue,
        plugin_hints,
        redmine_case,
        whole_case,
    )

    return {
        "intake": lambda d, r: intake.run(d, seconds=sizes.seconds, redmine=r),
        "redmine-case": lambda d, r: redmine_case.run(d, r, cases=sizes.cases),
        "whole-case": lambda d, r: whole_case.run(d, r),
        "check-deadlines": lambda d, _r: check_deadlines.run(d, sizes.open_cases),
        "documents": lambda d, _r: documents.run(d, renders=sizes.renders),
        "queue": lambda d, _r: job_queue.run(d),
        "plugin-hints": lambda d, _r: plugin_hints.run(
            d, transitions=sizes.transitions, poll_seconds=sizes.poll_seconds),
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (CI smoke run)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        choices=["intake", "redmine-case", "whole-case", "check-deadlines",
                                 "documents", "queue", "plugin-hints"],
                        help="run only this benchmark (repeatable): intake (with the memory "
                        "figures), redmine-case, whole-case, check-deadlines, documents, queue, "
                        "plugin-hints")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    benchmarks = _benchmarks(QUICK if args.quick else FULL)
    chosen = args.only or list(benchmarks)
    started_at, load_at_start = datetime.now(UTC), os.getloadavg()[0]
    figures: list[Figure] = []
    with ExitStack() as stack:
        redmine = None
        if NEEDS_REDMINE & set(chosen):
            from benchmarks.redmine import real_redmine

            redmine = stack.enter_context(real_redmine())
        for name in chosen:
            if name in NEEDS_REDMINE - {"intake"} and redmine is None:
                print(f"{name}: skipped, no real Redmine on this machine", file=sys.stderr)
                continue
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"sop-{name}-")))
            started = time.perf_counter()
            print(f"{name}: running", file=sys.stderr, flush=True)
            figures += benchmarks[name](workdir, redmine)
            print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(f"# {started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average "
          f"{load_at_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end")
    print(render(figures, markdown=args.markdown))
    if args.json:
        write_json(figures, args.json)


if __name__ == "__main__":
    main()
