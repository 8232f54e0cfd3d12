"""The order in which pytest-xdist hands test files to its workers: the slowest first.

`scripts/test` runs the suite with ``--dist loadfile``: each file is a unit of work, run whole
by one worker. By default xdist hands out the files with the most tests first, so the few
files whose tests each drive whole cases against the real Redmine (minutes each, and few
tests) came last and ran alone at the end while the other workers sat idle. Here the files
measured slowest (``scripts/test --durations=0``, summed per file) go first, and the two
whole-case fault sweeps of ``tests/test_fault_case.py`` (SQLite and PostgreSQL) are two
units, so two workers share them. Only the order and the grouping change: every test runs,
once, in a worker with its own Redmine and database, as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

# Slowest first, by their summed durations on a clean clone (2026-12-08).
SLOW_FIRST = (
    "tests/test_fault_case.py",
    "tests/test_benchmarks.py",
    "tests/test_redmine_intake.py",
    "tests/test_redmine_plugin_hints.py",
    "tests/test_redmine_signed_flow.py",
    "tests/test_redmine_rebuild.py",
    "tests/test_redmine_gitlab.py",
    "tests/test_intake_group_commit.py",
    "tests/test_redmine_acknowledgement.py",
    "tests/test_redmine_workflow.py",
    "tests/test_redmine_documents.py",
    "tests/test_outages.py",
    "tests/test_mail_kill.py",
    "tests/test_state_machine.py",
)
# Files whose every test is a unit of its own (each takes minutes).
ONE_UNIT_PER_TEST = frozenset({"tests/test_fault_case.py"})


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def slowest_first(items: list[pytest.Item]) -> None:
    """Sort ``items`` in place: the files of ``SLOW_FIRST`` in its order, then the rest as
    collected (the sort is stable, so each file keeps its own order)."""
    rank = {name: index for index, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(file_of(item.nodeid), len(rank)))


class SlowestFirstFileScheduling(LoadFileScheduling):
    """``--dist loadfile`` in the collected order, with ``ONE_UNIT_PER_TEST`` split."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        config.option.loadscopereorder = False  # keep the order ``slowest_first`` made
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        name = file_of(nodeid)
        return nodeid if name in ONE_UNIT_PER_TEST else name
