"""The demo's terminal display, in Indonesian: one line per step, a spinner while waiting.

On a terminal the waiting line is redrawn in place (a spinner and the seconds spent) and
marks are coloured; when stdout is not a terminal (CI, a log file) only plain lines are
written, one per event, so the output reads the same in a log.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import click

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """Writes the demo's story as it happens."""

    def __init__(self, out: TextIO | None = None, *, tty: bool | None = None) -> None:
        self._out = out or sys.stdout
        self._tty = self._out.isatty() if tty is None else tty
        self._waiting = ""
        self._since = 0.0
        self._frame = 0

    def heading(self, text: str) -> None:
        self._line(click.style(text, bold=True))

    def info(self, text: str) -> None:
        self._line(text)

    def action(self, step: int, title: str, who: str, what: str) -> None:
        """A person does something at a step."""
        number = click.style(f"[{step:>2}/17]", fg="cyan")
        self._line(f"{number} {title}\n        {who}: {what}")

    def service(self, text: str) -> None:
        """What sop-connector did in answer."""
        self._line(f"        {click.style('✔', fg='green')} {text}")

    def warning(self, text: str) -> None:
        self._line(f"        {click.style('!', fg='yellow')} {text}")

    def waiting(self, text: str) -> None:
        """Start a waiting line (redrawn by ``tick`` on a terminal)."""
        self._waiting, self._since, self._frame = text, time.monotonic(), 0
        if self._tty:
            self.tick()

    def tick(self) -> None:
        if not (self._tty and self._waiting):
            return
        spent = time.monotonic() - self._since
        frame = SPINNER[self._frame % len(SPINNER)]
        self._frame += 1
        self._out.write(f"\r\033[K        {frame} {self._waiting} ({spent:.0f} s)")
        self._out.flush()

    def _line(self, text: str) -> None:
        if self._tty and self._waiting:
            self._out.write("\r\033[K")
        self._waiting = ""
        click.echo(text, file=self._out, color=self._tty)
