"""The demo's directory and configuration: SQLite store, documents, local git, short polls.

Everything the demo makes lives in one directory (``./demo-data`` by default), marked by a
``.sop-demo`` file so a later run may clear it and never clears a directory it did not make.
Secrets go to files beside the configuration (mode 0600), named by ``*_file`` keys as an
office's own configuration would name them.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from connector.errors import ConnectorError

MARKER = ".sop-demo"
REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "config.example.toml"
#: Seconds between two polls of Redmine by the demo's worker, as in production. The poll is
#: the source of truth and re-reads every issue changed in the last two minutes, so a short
#: interval floods a small machine's queue; the demo's webhook hints make each step quick.
POLL_SECONDS = 60
#: With ``--poll-only`` (no hints) the poll is all there is: poll often enough to watch.
POLL_ONLY_SECONDS = 10
SECRETS = ("intake-token", "redmine-webhook-secret", "dashboard-token", "session-secret",
           "signing-passphrase")


class DemoDirError(ConnectorError):
    """The demo directory cannot be used."""


@dataclass(frozen=True)
class DemoDir:
    """Where each part of the demo lives."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def redmine_state(self) -> Path:
        return self.root / "redmine"

    @property
    def git_root(self) -> Path:
        return self.root / "git"

    @property
    def workspace(self) -> Path:
        """Where the developers clone the repository to push their work."""
        return self.root / "kerja"

    @property
    def documents(self) -> Path:
        """Where the Berita Acara (or the refusal documents) are downloaded to."""
        return self.root / "dokumen"

    @property
    def service_log(self) -> Path:
        return self.root / "service.log"

    def secret(self, name: str) -> str:
        return (self.root / "secrets" / name).read_text().strip()


def prepare_dir(root: Path) -> DemoDir:
    """Make ``root`` an empty demo directory, clearing only a previous demo's files."""
    root = root.resolve()
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise DemoDirError(f"{root} tidak kosong dan bukan direktori demo; pilih --dir lain")
    demo = DemoDir(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).touch()
    for child in root.iterdir():
        if child.name not in (MARKER, demo.redmine_state.name):  # the script clears its own
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    folder = root / "secrets"
    folder.mkdir(mode=0o700)
    for name in SECRETS:
        path = folder / name
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    for path in (demo.workspace, demo.documents):
        path.mkdir()
    return demo


def write_config(demo: DemoDir, *, redmine_url: str, redmine_key: str, port: int,
                 local_git: bool, poll_seconds: int = POLL_SECONDS, extra: str = "") -> Path:
    """Write the demo's ``config.toml`` and the Redmine key beside it; return the path."""
    key_file = demo.root / "secrets" / "redmine-api-key"
    key_file.write_text(redmine_key + "\n")
    text = CONFIG.format(port=port, redmine_url=redmine_url, poll=poll_seconds)
    if local_git:
        text += f'\n[local_git]\nroot = "{demo.git_root}"\n'
    demo.config.write_text(text + documents_section() + extra)
    return demo.config


def documents_section() -> str:
    """The example configuration's ``[documents]`` tables, so step 17 draws up the BA."""
    text = EXAMPLE.read_text(encoding="utf-8")
    return text[text.index("\n[documents]\n"):text.index("\n[webhooks]\n")] + "\n"


CONFIG = """\
# Konfigurasi demo sop-connector (dibuat oleh `sop-connector demo`).

[server]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"
worker_threads = 1

[database]
url = "sqlite:///sop-connector.db"

[redmine]
url = "{redmine_url}"
api_key_file = "secrets/redmine-api-key"
poll_interval_seconds = {poll}

[roles]
kepala_dinas = ["kadis"]
kepala_bidang_ti = ["kabid"]
kepala_seksi_aplikasi = ["kasi"]
bidang_ti = ["bidangti", "kabid"]
tim_pengembang = ["dev1", "dev2"]
tim_teknis_opd = ["opd1"]

[opd]
allow_unknown = false

[opd.agencies.DINKES]
name = "Dinas Kesehatan"
tim_teknis = ["opd1"]
intake_token_file = "secrets/intake-token"

[sla]
check_interval_seconds = 300

[dashboard]
redmine_login = true
access_token_file = "secrets/dashboard-token"
session_secret_file = "secrets/session-secret"

[webhooks]
redmine_secret_file = "secrets/redmine-webhook-secret"
"""
