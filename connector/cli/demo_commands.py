"""``sop-connector demo``: the main job in one command (a real Redmine, the service, a case)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

import click

from connector.demo.scenarios import SCENARIOS

KEY_ENV = "SOP_DEMO_REDMINE_API_KEY"


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds the demo, which stops what it started


def register(main: click.Group) -> None:
    """Add ``demo`` to the main command."""

    @main.command()
    @click.option("--scenario", type=click.Choice(SCENARIOS), default="normal",
                  show_default=True,
                  help="normal: approved and built; tolak: refused at step 6; "
                       "revisi: a re-plan at step 11 and a rework at step 14.")
    @click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
                  default=Path("demo-data"), show_default=True,
                  help="Directory of the demo's Redmine, store, git repositories and documents "
                       "(cleared at each run; only a previous demo's directory is cleared).")
    @click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
                  help="Port of the demo's sop-connector service.")
    @click.option("--redmine-url", metavar="URL", default=None,
                  help=f"Use this running Redmine (prepared by the set-up script) instead of "
                       f"starting one; its administrator's API key in ${KEY_ENV}.")
    @click.option("--exit", "--no-wait", "exit_after", is_flag=True,
                  help="Stop everything and exit once the case is finished (for CI).")
    @click.option("--poll-only", is_flag=True,
                  help="Send no Redmine webhook hints: the service sees each change through "
                       "its poller only (slower).")
    def demo(scenario: str, directory: Path, port: int, redmine_url: str | None,
             exit_after: bool, poll_only: bool) -> None:
        """Start Redmine and the service, and walk a sample request through the whole SOP.

        Each role's user acts in Redmine over its REST API; the steps are printed in
        Indonesian as they happen. At the end the Berita Acara's path, the Redmine address
        with the demo logins and the dashboard's address are printed, and everything keeps
        running until Ctrl-C (unless --exit).
        """
        from connector.demo.progress import Progress
        from connector.demo.run import DemoOptions, run_demo

        key = os.environ.get(KEY_ENV) if redmine_url else None
        if redmine_url and not key:
            raise click.UsageError(f"--redmine-url needs the administrator's API key in "
                                   f"${KEY_ENV}")
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        options = DemoOptions(scenario=scenario, directory=directory, port=port,
                              redmine_url=redmine_url, redmine_key=key,
                              wait=not exit_after, hints=not poll_only)
        try:
            run_demo(options, Progress())
        except KeyboardInterrupt:
            click.echo("\nDemo dihentikan.", err=True)
