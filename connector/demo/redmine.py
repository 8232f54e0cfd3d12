"""A throw-away local Redmine, started by ``scripts/redmine-test-server`` (Debian packages).

The demo uses the same script and the same set-up script (``connector.redmine.setup_script``)
as the tests: a fresh SQLite database, the REST API on, one user per SOP role (password
``sop-test-<login>``) and the SOP's trackers, statuses, custom fields and workflows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from connector.errors import ConnectorError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redmine-test-server"
TIMEOUT = 900  # seconds; the first start may install packages and migrate


class RedmineStartError(ConnectorError):
    """The local Redmine could not be started or stopped."""


@dataclass
class LocalRedmine:
    """A running local Redmine; ``passwords`` and ``user_keys`` are keyed by login."""

    url: str
    admin_key: str
    state_dir: Path
    passwords: dict[str, str] = field(default_factory=dict)
    user_keys: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server; its database stays in ``state_dir``."""
        _script("stop", str(self.state_dir))

    def destroy(self) -> None:
        """Stop the server and delete its state."""
        _script("destroy", str(self.state_dir))


def cannot_start_reason() -> str | None:
    """Why a local Redmine cannot be started here, or None when it can."""
    if not SCRIPT.is_file():
        return f"{SCRIPT} is missing (run the demo from a clone of the repository)"
    if os.geteuid() != 0:
        return "the local Redmine (Debian packages) must be started as root"
    if not Path("/usr/share/redmine").is_dir() and shutil.which("apt-get") is None:
        return "Redmine is not installed and apt-get is missing"
    return None


def start_local_redmine(state_dir: Path) -> LocalRedmine:
    """Start a fresh Redmine with the SOP set-up applied, its state in ``state_dir``."""
    reason = cannot_start_reason()
    if reason is not None:
        raise RedmineStartError(reason)
    env = parse_env(_script("start", str(state_dir)))
    return LocalRedmine(url=env["REDMINE_URL"], admin_key=env["REDMINE_API_KEY"],
                        state_dir=Path(env["REDMINE_STATE"]),
                        passwords=_by_login(env, "REDMINE_PASSWORD_"),
                        user_keys=_by_login(env, "REDMINE_KEY_"))


def parse_env(stdout: str) -> dict[str, str]:
    """The script's ``KEY=VALUE`` lines as a dict."""
    pairs = (line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def _by_login(env: dict[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in env.items() if k.startswith(prefix)}


def _script(*args: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env=dict(os.environ, PYTHON=sys.executable))
    if done.returncode != 0:
        raise RedmineStartError(f"redmine-test-server {' '.join(args)} gagal "
                                f"({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout
