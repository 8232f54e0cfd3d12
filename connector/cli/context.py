"""How commands find the configuration: ``--config`` on the group or on the command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from connector.config import Settings, default_config_path, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """Add ``--config PATH`` to a subcommand, so it works before or after the command name."""
    return click.option(
        "--config", "config_path", metavar="PATH", default=None,
        help="Configuration file (default: $SOP_CONNECTOR_CONFIG, then ./config.toml).",
    )(func)


def _chosen(config_path: str | None) -> str | None:
    ctx = click.get_current_context()
    root = ctx.find_root().obj
    return config_path or (root if isinstance(root, str) else None)


def settings_from(config_path: str | None, *, resolve_secrets: bool = True) -> Settings:
    """The settings named by ``--config``, ``$SOP_CONNECTOR_CONFIG`` or ``./config.toml``."""
    return load_settings(default_config_path(_chosen(config_path)),
                         resolve_secrets=resolve_secrets)


def optional_settings(config_path: str | None) -> Settings | None:
    """Settings when a file is named or ``./config.toml`` exists; None for built-in defaults.

    Used by commands that are useful without any configuration (``workdays``, ``sop``).
    """
    chosen = _chosen(config_path)
    path = default_config_path(chosen)
    if chosen is None and path == Path("config.toml") and not path.exists():
        return None
    return load_settings(path, resolve_secrets=False)
