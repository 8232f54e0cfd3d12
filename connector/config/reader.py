"""Typed reads from a parsed TOML table, collecting one message per problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from connector.config.secret import Secret, read_secret

_MISSING: Any = object()
_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def email_problem(value: str) -> str | None:
    """Why ``value`` is not one plain e-mail address (``name@example.go.id``), or None."""
    if _ADDRESS.fullmatch(value.strip()) is None or len(value) > 254:
        return f"expected one e-mail address like bidang.ti@kominfo.example.go.id, got {value!r}"
    return None


@dataclass
class Section:
    """One ``[section]`` of the configuration file, read key by key.

    Every read records the key as known; ``finish()`` reports keys nobody read, which
    catches typos such as ``projcet = ...`` instead of silently ignoring them.
    """

    file: Path
    name: str
    data: Mapping[str, Any]
    problems: list[str]
    seen: set[str] = field(default_factory=set)

    def _where(self, key: str) -> str:
        return f"{self.file}: [{self.name}] {key}"

    def _get(self, key: str, default: Any, expected: str) -> Any:
        self.seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.problems.append(f"{self._where(key)}: missing; expected {expected}")
        return default

    def _bad(self, key: str, expected: str, value: Any) -> None:
        self.problems.append(
            f"{self._where(key)}: expected {expected}, got {type(value).__name__} {value!r}"
        )

    def text(self, key: str, default: Any = _MISSING) -> Any:
        """A non-empty string."""
        value = self._get(key, default, "a string")
        if value is _MISSING:
            return ""
        if value is not default and (not isinstance(value, str) or not value.strip()):
            self._bad(key, "a non-empty string", value)
            return default if default is not _MISSING else ""
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int = 0) -> Any:
        """A whole number of at least ``minimum``."""
        value = self._get(key, default, "a whole number")
        if value is _MISSING:
            return minimum
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        if value is not default and not ok:
            self._bad(key, f"a whole number >= {minimum}", value)
            return default if default is not _MISSING else minimum
        return value

    def flag(self, key: str, default: Any = _MISSING) -> Any:
        """true or false."""
        value = self._get(key, default, "true or false")
        if value is _MISSING:
            return False
        if value is not default and not isinstance(value, bool):
            self._bad(key, "true or false", value)
            return bool(default) if default is not _MISSING else False
        return value

    def texts(self, key: str, default: Any = _MISSING) -> Any:
        """A list of non-empty strings, returned as a tuple."""
        value = self._get(key, default, "a list of strings")
        if value is _MISSING:
            return ()
        if value is default:
            return tuple(value) if isinstance(value, (list, tuple)) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self._bad(key, "a list of non-empty strings", value)
            return ()
        return tuple(value)

    def dates(self, key: str) -> frozenset[date]:
        """A list of dates, written as TOML dates (2026-08-17) or ISO strings."""
        value = self._get(key, [], "a list of dates")
        result: set[date] = set()
        for item in value if isinstance(value, list) else [value]:
            parsed = _as_date(item)
            if parsed is None:
                self._bad(key, "a list of dates like 2026-08-17", item)
            else:
                result.add(parsed)
        return frozenset(result)

    def secret(self, stem: str, *, required: bool, resolve: bool) -> Secret | None:
        """A secret named by ``<stem>_env`` or ``<stem>_file``, never written inline.

        Messages name the key and the variable or path, never a value: a value given in
        the wrong place may well be the secret itself.
        """
        env_key, file_key = f"{stem}_env", f"{stem}_file"
        self.seen.update({stem, env_key, file_key})
        if stem in self.data:
            self.problems.append(
                f"{self._where(stem)}: secrets are never written in the file; "
                f"use {env_key} (an environment variable) or {file_key} (a file path)"
            )
            return None
        given = [key for key in (env_key, file_key) if key in self.data]
        if not given:
            if required:
                self.problems.append(
                    f"{self._where(env_key)}: missing; expected {env_key} or {file_key}")
            return None
        if len(given) > 1:
            self.problems.append(f"{self._where(stem)}: give only one of {env_key} or {file_key}")
            return None
        key, name = given[0], self.data[given[0]]
        if not isinstance(name, str) or not name.strip():
            what = "an environment variable" if key == env_key else "a file path"
            got = "an empty string" if isinstance(name, str) else f"a {type(name).__name__}"
            self.problems.append(f"{self._where(key)}: expected the name of {what} "
                                 f"(a non-empty string), got {got}")
            return None
        if not resolve:
            return None
        found = read_secret(env=name if key == env_key else None,
                            file=self.file.parent / name if key == file_key else None)
        if isinstance(found, str):
            self.problems.append(f"{self._where(key)}: {found}")
            return None
        return found

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed``; anything else is a problem and gives ``default``."""
        value: str = self.text(key, default)
        if value not in allowed:
            self.problems.append(
                f"{self.file}: [{self.name}] {key}: expected one of {', '.join(allowed)}, "
                f"got {value!r}")
            return default
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        """A sub-table (``[section.key]``), empty when absent."""
        value = self._get(key, {}, "a table")
        if not isinstance(value, Mapping):
            self._bad(key, "a table", value)
            return {}
        return value

    def finish(self) -> None:
        """Report every key that no reader asked for."""
        for key in sorted(set(self.data) - self.seen):
            self.problems.append(f"{self._where(key)}: unknown key")


def _as_date(item: Any) -> date | None:
    if isinstance(item, date):
        return item
    if isinstance(item, str):
        try:
            return date.fromisoformat(item)
        except ValueError:
            return None
    return None
