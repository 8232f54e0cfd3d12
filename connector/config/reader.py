"""Typed reads from a parsed TOML table, collecting one message per problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from connector.config.secret import Secret, read_secret

_MISSING: Any = object()


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
        if value is not default and (not isinstance(value, str) or not value.strip()):
            self._bad(key, "a non-empty string", value)
            return default if default is not _MISSING else ""
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int = 0) -> Any:
        """A whole number of at least ``minimum``."""
        value = self._get(key, default, "a whole number")
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        if value is not default and not ok:
            self._bad(key, f"a whole number >= {minimum}", value)
            return default if default is not _MISSING else minimum
        return value

    def flag(self, key: str, default: Any = _MISSING) -> Any:
        """true or false."""
        value = self._get(key, default, "true or false")
        if value is not default and not isinstance(value, bool):
            self._bad(key, "true or false", value)
            return bool(default) if default is not _MISSING else False
        return value

    def texts(self, key: str, default: Any = _MISSING) -> Any:
        """A list of non-empty strings, returned as a tuple."""
        value = self._get(key, default, "a list of strings")
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
        """A secret named by ``<stem>_env`` or ``<stem>_file``, never written inline."""
        self.seen.update({stem, f"{stem}_env", f"{stem}_file"})
        if stem in self.data:
            self.problems.append(
                f"{self._where(stem)}: secrets are never written in the file; "
                f"use {stem}_env (an environment variable) or {stem}_file (a file path)"
            )
            return None
        env, file = self.data.get(f"{stem}_env"), self.data.get(f"{stem}_file")
        if env is None and file is None:
            if required:
                self.problems.append(
                    f"{self._where(stem + '_env')}: missing; expected {stem}_env or {stem}_file"
                )
            return None
        if not resolve:
            return None
        found = read_secret(
            env=env if isinstance(env, str) else None,
            file=self.file.parent / file if isinstance(file, str) else None,
        )
        if isinstance(found, str):
            key = f"{stem}_env" if env is not None else f"{stem}_file"
            self.problems.append(f"{self._where(key)}: {found}")
            return None
        return found

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
