"""The development team's work at step 12: clone the case's repository, write, push.

The team does what developers do with the repository step 8 created: ``git clone``, fill in
the six documents the template seeded under ``docs/`` (dropping the template marker), add the
application's code, commit, ``git push``. The step 12 gate then finds the seven outputs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from connector.codehost.seeds import DOCUMENTS
from connector.errors import ConnectorError

BRANCH = "main"


class GitWorkError(ConnectorError):
    """A git command of the team failed."""


def application_files(round_name: str) -> dict[str, str]:
    """The application's code and the six documents, written for this round of work."""
    files = {doc.path: (f"# {doc.name}\n\nSI Puskesmas, Dinas Kesehatan Kabupaten Sumbawa.\n\n"
                        f"Isi dokumen ini ditulis Tim Pengembang ({round_name}).\n")
             for doc in DOCUMENTS}
    files["app/puskesmas.py"] = (
        '"""SI Puskesmas: pencatatan kunjungan pasien."""\n\n\n'
        "def kunjungan(nama: str, puskesmas: str) -> dict[str, str]:\n"
        '    return {"nama": nama, "puskesmas": puskesmas}\n')
    files["app/laporan.py"] = f'"""Laporan bulanan ({round_name})."""\n'
    return files


def push_work(remote: str, workspace: Path, message: str, files: dict[str, str], *,
              author: tuple[str, str]) -> str:
    """Clone (or update) ``remote`` into ``workspace``, write ``files``, commit and push.

    Returns the pushed commit's id.
    """
    if (workspace / ".git").is_dir():
        _git(workspace, "pull", "--ff-only", "origin", BRANCH)
    else:
        workspace.parent.mkdir(parents=True, exist_ok=True)
        _git(workspace.parent, "clone", "--branch", BRANCH, remote, str(workspace))
    for relative, text in files.items():
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(workspace, "add", "--all")
    name, email = author
    _git(workspace, "-c", f"user.name={name}", "-c", f"user.email={email}",
         "commit", "--quiet", "-m", message)
    _git(workspace, "push", "--quiet", "origin", f"HEAD:{BRANCH}")
    return _git(workspace, "rev-parse", "HEAD").strip()


def _git(where: Path, *args: str) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                          env=env, check=False, timeout=120)
    if done.returncode != 0:
        raise GitWorkError(f"git {' '.join(args)} gagal: {done.stderr.strip()[-1000:]}")
    return done.stdout
