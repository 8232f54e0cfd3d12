"""One exception root for everything the library raises on purpose."""

from __future__ import annotations


class ConnectorError(Exception):
    """Root of every error sop-connector raises deliberately."""


class ConfigError(ConnectorError):
    """The configuration file is wrong; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SopError(ConnectorError):
    """An SOP file is invalid; ``problems`` lists every fault with its step."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CalendarError(ConnectorError):
    """A working-day computation was asked something impossible."""
