"""Secrets that are read from the environment or a file and never shown."""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path

# Conventional variable names; secrets (hex keys, glpat-, whsec_) are not of this form.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


# Every secret value this process holds, so that text from a peer can be cleaned of them.
_KNOWN_VALUES: set[str] = set()
_MIN_REDACTED = 6  # shorter values would blank ordinary words
_SECRET_LIKE_NAME = 20  # a missing secret "file" this long, without a dot, is not named


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by ``********``.

    For text a peer sent back (an error body that echoes a request), before it is logged,
    stored as a job's error or shown.
    """
    for value in sorted(_KNOWN_VALUES, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "********")
    return text


class Secret:
    """A secret value; ``repr`` and ``str`` never reveal it, ``reveal()`` does.

    Deliberately not a dataclass: tools that print a dataclass field by field, ignoring its
    ``__repr__`` (hypothesis's failure reports, ``dataclasses.asdict``), would show the value.
    """

    __slots__ = ("_value", "source")
    _value: str
    source: str

    def __init__(self, value: str, source: str = "") -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "source", source)
        if len(value) >= _MIN_REDACTED:
            _KNOWN_VALUES.add(value)

    def reveal(self) -> str:
        """The secret itself: pass it to the client that needs it, nowhere else."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})" if self.source else "Secret(********)"

    __str__ = __repr__

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Secret cannot be changed")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        same = hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))
        return same and self.source == other.source

    def __hash__(self) -> int:
        return hash((Secret, self.source))

    def __reduce__(self) -> tuple[type[Secret], tuple[str, str]]:
        return (Secret, (self._value, self.source))


def read_secret(*, env: str | None, file: Path | None) -> Secret | str:
    """The secret named by an environment variable or a file, or a message saying why not.

    The message names the variable or the path, never any part of a value.
    """
    if env is not None:
        value = os.environ.get(env, "")
        if not value.strip() and not _ENV_NAME.fullmatch(env):
            # Not named: a value that is no conventional name may be the secret itself.
            return ("is not the name of an environment variable (expected capitals, digits "
                    "and _, like SOP_INTAKE_TOKEN); was the secret itself written here?")
        if not value.strip():
            return f"environment variable {env} is not set or empty"
        return Secret(value.strip(), source=f"${env}")
    if file is not None:
        try:
            value = file.read_text("utf-8").strip()
        except OSError as exc:
            if len(file.name) >= _SECRET_LIKE_NAME and "." not in file.name:
                # Not named: a long name without a dot may be the secret, in the wrong key.
                return (f"cannot read the secret file ({exc.strerror}); a relative path is "
                        f"read from {file.parent}")
            return f"cannot read secret file {file} ({exc.strerror})"
        if not value:
            return f"secret file {file} is empty"
        return Secret(value, source=str(file))
    return "no secret source given"
