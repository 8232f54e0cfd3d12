"""The import contracts of pyproject.toml hold, and they fail on an import that runs upward.

``lint-imports`` runs in scripts/test too; here it is also shown to catch a break, on a copy
of the tree with one upward import added (the store importing the workflow) and one cycle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for name in ("connector", "webhooks"):
        shutil.copytree(ROOT / name, tree / name,
                        ignore=shutil.ignore_patterns("__pycache__", "plugin"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contracts_hold_on_the_tree() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("connector/store/db.py", "import connector.workflow.sync", "layers"),
    ("connector/workflow/sync.py", "import connector.redmine.tracker", "ports"),
    ("connector/store/schema.py", "import connector.store.jobs", "cycle"),
])
def test_an_upward_import_or_a_cycle_breaks_a_contract(tmp_path: Path, module: str, line: str,
                                                       broken: str) -> None:
    tree = _copy(tmp_path)
    assert _lint(tree).returncode == 0  # the copy itself is sound
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")

    result = _lint(tree)

    assert result.returncode != 0
    names = {"layers": "Each layer imports only the layers below it BROKEN",
             "ports": "only through their ports BROKEN",
             "cycle": "No import cycle among the modules of any package BROKEN"}
    assert names[broken] in result.stdout
