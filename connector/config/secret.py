"""Secrets that are read from the environment or a file and never shown."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Secret:
    """A secret value; ``repr`` and ``str`` never reveal it, ``reveal()`` does."""

    _value: str = field(repr=False)
    source: str = ""

    def reveal(self) -> str:
        """The secret itself: pass it to the client that needs it, nowhere else."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})" if self.source else "Secret(********)"

    __str__ = __repr__


def read_secret(*, env: str | None, file: Path | None) -> Secret | str:
    """The secret named by an environment variable or a file, or a message saying why not.

    The message names the variable or the path, never any part of a value.
    """
    if env is not None:
        value = os.environ.get(env, "")
        if not value.strip():
            return f"environment variable {env} is not set or empty"
        return Secret(value.strip(), source=f"${env}")
    if file is not None:
        try:
            value = file.read_text("utf-8").strip()
        except OSError as exc:
            return f"cannot read secret file {file} ({exc.strerror})"
        if not value:
            return f"secret file {file} is empty"
        return Secret(value, source=str(file))
    return "no secret source given"
