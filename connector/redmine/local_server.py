"""A throw-away local Redmine, started by ``scripts/redmine-test-server`` (Debian packages).

The demo and the tests use this one wrapper of the script, and the same set-up script
(``connector.redmine.setup_script``): a fresh SQLite database, the REST API on, one user per
SOP role (password ``sop-test-<login>``) and the SOP's trackers, statuses, custom fields and
workflows. ``stop()`` and ``start_again()`` take a server down and bring it back on the same
port with the same database (for outage tests); ``destroy()`` removes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from connector.errors import ConnectorError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redmine-test-server"
TIMEOUT = 900  # seconds; the first start may install packages and migrate


class RedmineStartError(ConnectorError):
    """The local Redmine could not be started, restarted, stopped or scripted."""


@dataclass
class LocalRedmine:
    """A running local Redmine; ``user_keys`` and ``passwords`` are keyed by login."""

    url: str
    admin_key: str
    state_dir: Path
    pid: int = 0
    port: int = 0
    log: Path | None = None
    root: Path = Path("/usr/share/redmine")  # a private copy when started with the plugin
    user_keys: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Kill Redmine; the database and the port stay reserved for ``start_again``."""
        _script("stop", str(self.state_dir))

    def start_again(self) -> None:
        """Start Redmine again on the same port with the same database."""
        self._update(parse_env(_script("restart", str(self.state_dir))))

    def restart(self) -> None:
        """Stop, then start again (``restart`` of the script does both)."""
        self.start_again()

    def destroy(self) -> None:
        """Stop Redmine and delete its state and instance link."""
        _script("destroy", str(self.state_dir))

    def run_rails(self, ruby: str) -> subprocess.CompletedProcess[str]:
        """Run Ruby source with ``bin/rails runner`` on this instance; never raises on failure."""
        with tempfile.NamedTemporaryFile(
            "w", suffix=".rb", dir=self.state_dir, delete=False, encoding="utf-8"
        ) as file:
            file.write(ruby)
        try:
            return _run("runner", file.name, str(self.state_dir))
        finally:
            os.unlink(file.name)

    def run_rake(self, task: str, *variables: str) -> subprocess.CompletedProcess[str]:
        """Run ``bin/rake TASK VAR=VALUE...`` on this instance; never raises on failure."""
        return _run("rake", str(self.state_dir), task, *variables)

    def _update(self, env: dict[str, str]) -> None:
        self.url, self.admin_key = env["REDMINE_URL"], env["REDMINE_API_KEY"]
        self.pid, self.port = int(env["REDMINE_PID"]), int(env["REDMINE_PORT"])
        self.state_dir, self.log = Path(env["REDMINE_STATE"]), Path(env["REDMINE_LOG"])
        self.root = Path(env.get("REDMINE_ROOT", "/usr/share/redmine"))
        self.user_keys = _by_login(env, "REDMINE_KEY_")
        self.passwords = _by_login(env, "REDMINE_PASSWORD_")


def cannot_start_reason() -> str | None:
    """Why a local Redmine cannot be started here, or None when it can."""
    if not SCRIPT.is_file():
        return f"{SCRIPT} is missing (run from a clone of the repository)"
    if os.geteuid() != 0:
        return "the local Redmine (Debian packages) must be started as root"
    if not Path("/usr/share/redmine").is_dir() and shutil.which("apt-get") is None:
        return "Redmine is not installed and apt-get is missing"
    return None


def start_local_redmine(state_dir: Path | None = None, *, bare: bool = False,
                        plugin: bool = False) -> LocalRedmine:
    """Start a fresh Redmine, its state in ``state_dir`` (a new temporary directory if None);
    ``bare`` stops before the SOP set-up script is applied; ``plugin`` runs it from a private
    Redmine root with the sop_connector plugin installed by ``sop-connector redmine-plugin
    install`` (the system root is never touched)."""
    reason = cannot_start_reason()
    if reason is not None:
        raise RedmineStartError(reason)
    state = state_dir or Path(tempfile.mkdtemp(prefix="sop-redmine-"))
    server = LocalRedmine("", "", state)
    flags = [*(["--bare"] if bare else []), *(["--plugin"] if plugin else [])]
    server._update(parse_env(_script("start", *flags, str(state))))
    return server


def parse_env(stdout: str) -> dict[str, str]:
    """The script's ``KEY=VALUE`` lines as a dict."""
    pairs = (line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def _by_login(env: dict[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in env.items() if k.startswith(prefix)}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env=dict(os.environ, PYTHON=sys.executable))


def _script(*args: str) -> str:
    done = _run(*args)
    if done.returncode != 0:
        raise RedmineStartError(f"redmine-test-server {' '.join(args)} gagal "
                                f"({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout
