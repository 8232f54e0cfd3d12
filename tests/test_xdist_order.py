"""The suite's own scheduling (tests/xdist_order.py): slowest files first, nothing dropped."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.xdist_order import (
    ONE_UNIT_PER_TEST,
    SLOW_FIRST,
    SlowestFirstFileScheduling,
    slowest_first,
)

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_named_exists_so_a_rename_does_not_quietly_end_up_last() -> None:
    missing = [name for name in (*SLOW_FIRST, *ONE_UNIT_PER_TEST) if not (ROOT / name).is_file()]
    assert missing == []


def test_the_slow_files_come_first_in_their_order_and_the_rest_keep_theirs() -> None:
    ids = ["tests/test_a.py::t1", "tests/test_benchmarks.py::t", "tests/test_a.py::t2",
           "tests/test_fault_case.py::t[sqlite]", "tests/test_b.py::t",
           "tests/test_fault_case.py::t[postgresql]"]
    items: list[Any] = [SimpleNamespace(nodeid=nodeid) for nodeid in ids]
    slowest_first(items)
    assert [item.nodeid for item in items] == [
        "tests/test_fault_case.py::t[sqlite]", "tests/test_fault_case.py::t[postgresql]",
        "tests/test_benchmarks.py::t", "tests/test_a.py::t1", "tests/test_a.py::t2",
        "tests/test_b.py::t"]


def test_a_file_is_one_unit_except_the_fault_sweeps_which_are_one_per_test(
        pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytestconfig.option, "loadscopereorder", True)
    monkeypatch.setattr(pytestconfig.option, "tx", ["popen", "popen"])  # as under -n 2
    monkeypatch.setattr(pytestconfig.option, "numprocesses", None)
    scheduling = SlowestFirstFileScheduling(pytestconfig)
    assert pytestconfig.option.loadscopereorder is False  # xdist would sort by test count
    assert scheduling._split_scope("tests/test_a.py::t1") == "tests/test_a.py"
    sweep = "tests/test_fault_case.py::test_every_fault_point[sqlite]"
    assert scheduling._split_scope(sweep) == sweep
