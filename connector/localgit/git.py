"""Plain ``git`` over subprocess for bare repositories, which have no working tree.

Commits are made with plumbing (a throw-away index, ``commit-tree``) and published with
``update-ref <ref> <new> <old>``, a compare-and-swap: if a developer pushed meanwhile the
update fails and nothing is lost; the job is retried and reads the new state. A repository
is created under a hidden temporary name and renamed into place, so it either exists
whole (with its marker) or not at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connector.errors import RemoteUnavailable

BRANCH = "main"
TIMEOUT_SECONDS = 60
_QUIET = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitFailed(RemoteUnavailable):
    """A git command failed (a branch moved by a push meanwhile, a full disk): retry later."""


@dataclass(frozen=True)
class Author:
    """Who the service's commits are by (``[local_git] author_name``, ``author_email``)."""

    name: str
    email: str

    def env(self) -> dict[str, str]:
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}


def run_git(*args: str, git_dir: Path | None = None, stdin: bytes | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> str:
    """Run ``git args``; raise GitFailed on failure unless ``check`` is False ("" then)."""
    command = ["git", *([f"--git-dir={git_dir}"] if git_dir else []), *args]
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, check=False,
                              timeout=TIMEOUT_SECONDS,
                              env={**os.environ, **_QUIET, **(env or {})})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitFailed(f"git {args[0]} could not run: {type(exc).__name__}") from exc
    if done.returncode != 0:
        if not check:
            return ""
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailed(f"git {args[0]} failed in {git_dir}: {error[-1] if error else '?'}")
    return done.stdout.decode("utf-8", "replace")


@dataclass(frozen=True)
class BareRepo:
    """One bare repository on disk and its ``main`` branch."""

    path: Path

    def exists(self) -> bool:
        return (self.path / "config").is_file() and (self.path / "HEAD").is_file()

    def git(self, *args: str, stdin: bytes | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> str:
        return run_git(*args, git_dir=self.path, stdin=stdin, env=env, check=check)

    def config(self, key: str) -> str | None:
        """A ``git config`` value of this repository, None when unset or no repository."""
        if not self.exists():
            return None
        value = run_git("config", "--file", str(self.path / "config"), "--get", key,
                        check=False)
        return value.rstrip("\n") or None

    def set_config(self, key: str, value: str) -> None:
        self.git("config", key, value)

    def head(self) -> str | None:
        """The commit at the tip of ``main``, None while the branch has none."""
        found = self.git("rev-parse", "-q", "--verify", f"refs/heads/{BRANCH}^{{commit}}",
                         check=False)
        return found.strip() or None

    def files(self) -> list[str]:
        """Every file path on ``main``, in git's (sorted) order."""
        head = self.head()
        if head is None:
            return []
        return [p for p in self.git("ls-tree", "-r", "-z", "--name-only", head).split("\0")
                if p]

    def read(self, path: str) -> str | None:
        """The text of ``path`` on ``main``, None when it is not there."""
        head = self.head()
        entry = self.git("ls-tree", head, "--", path) if head else ""
        if entry.split("\t", 1)[0].split(" ")[1:2] != ["blob"]:
            return None
        return self.git("cat-file", "blob", f"{head}:{path}")

    def commit(self, files: Mapping[str, str], message: str, author: Author) -> str | None:
        """Write ``files`` on ``main`` in one commit; None when they are already so."""
        parent = self.head()
        with tempfile.TemporaryDirectory(prefix="sop-index-") as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if parent is not None:
                self.git("read-tree", parent, env=index)
            entries = [f"100644 {self._blob(text)}\t{path}\n" for path, text in files.items()]
            self.git("update-index", "--add", "--index-info",
                     stdin="".join(entries).encode("utf-8"), env=index)
            tree = self.git("write-tree", env=index).strip()
        if parent is not None and tree == self.git("rev-parse", f"{parent}^{{tree}}").strip():
            return None
        commit = self.git("commit-tree", tree, *(["-p", parent] if parent else []),
                          "-m", message, env=author.env()).strip()
        self.git("update-ref", "-m", message, f"refs/heads/{BRANCH}", commit, parent or "")
        return commit

    def _blob(self, text: str) -> str:
        return self.git("hash-object", "-w", "--stdin", stdin=text.encode("utf-8")).strip()


def create_bare(repo: BareRepo, config: Mapping[str, str], description: str) -> bool:
    """Create ``repo`` whole, with ``config`` set; False when something is there already.

    Built under a hidden temporary name beside it and renamed into place. A crash leaves at
    worst an unused hidden ``.<name>.*.partial`` folder, never a half-made repository.
    """
    repo.path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{repo.path.name}.", suffix=".partial",
                                    dir=repo.path.parent))
    try:
        run_git("init", "-q", "--bare", f"--initial-branch={BRANCH}", "--shared=group",
                str(scratch))
        scratch.chmod(0o2775)  # the team's group may push, a web viewer may read
        (scratch / "description").write_text(description + "\n", encoding="utf-8")
        for key, value in config.items():
            run_git("config", key, value, git_dir=scratch)
        if repo.path.exists():
            return False
        try:
            scratch.rename(repo.path)
        except OSError:  # created meanwhile by another run
            return False
        return True
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
