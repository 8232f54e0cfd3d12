"""Install, remove and inspect the ``sop_connector`` Redmine plugin shipped in this package.

The plugin is plain Ruby under ``connector/redmine/plugin/sop_connector``; installing copies it
to ``<redmine root>/plugins/sop_connector`` (Redmine reads plugins from ``Rails.root/plugins``;
on Debian 12 that is ``/usr/share/redmine/plugins``). It has no database migrations, so no
``redmine:plugins:migrate`` is needed; Redmine must be restarted to load or unload it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from connector.errors import ConnectorError

PLUGIN_ID = "sop_connector"
SOURCE = Path(__file__).resolve().parent / "plugin" / PLUGIN_ID
_VERSION = re.compile(r"^\s*VERSION\s*=\s*'([^']+)'", re.MULTILINE)


class PluginInstallError(ConnectorError):
    """The plugin cannot be installed into or removed from that Redmine."""


@dataclass(frozen=True)
class PluginStatus:
    """What is in ``<root>/plugins/sop_connector`` compared with the shipped plugin."""

    root: Path
    installed: bool
    version: str | None  # of the installed copy
    shipped_version: str
    up_to_date: bool  # every shipped file is installed with the same bytes

    def describe(self) -> str:
        if not self.installed:
            return f"plugin {PLUGIN_ID} not installed in {self.root}"
        state = "up to date" if self.up_to_date else (
            f"differs from the shipped {self.shipped_version}: run redmine-plugin install")
        return f"plugin {PLUGIN_ID} {self.version} installed in {self.root} ({state})"


def plugin_dir(root: Path) -> Path:
    return root / "plugins" / PLUGIN_ID


def version_of(plugin: Path) -> str | None:
    """The ``VERSION`` of a plugin copy (``lib/sop_connector.rb``), or None."""
    try:
        text = (plugin / "lib" / f"{PLUGIN_ID}.rb").read_text(encoding="utf-8")
    except OSError:
        return None
    found = _VERSION.search(text)
    return found.group(1) if found else None


def status(root: Path) -> PluginStatus:
    """Whether the plugin is installed under ``root`` and whether it is the shipped one."""
    target = plugin_dir(root)
    shipped = version_of(SOURCE) or "?"
    if not (target / "init.rb").is_file():
        return PluginStatus(root, False, None, shipped, False)
    return PluginStatus(root, True, version_of(target), shipped, _same_tree(SOURCE, target))


def install(root: Path) -> PluginStatus:
    """Copy the shipped plugin to ``root/plugins/sop_connector``, replacing an older copy.

    The copy is made beside the target and renamed into place, so Redmine never sees half a
    plugin. Refuses a root that does not look like a Redmine.
    """
    _check_root(root)
    plugins = root / "plugins"
    plugins.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_ID}-", dir=plugins))
    try:
        shutil.copytree(SOURCE, staging / PLUGIN_ID, ignore=shutil.ignore_patterns("*~"))
        (staging / PLUGIN_ID).chmod(0o755)
        target = plugin_dir(root)
        if target.exists():
            old = staging / "old"
            target.rename(old)
        (staging / PLUGIN_ID).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return status(root)


def remove(root: Path) -> PluginStatus:
    """Delete ``root/plugins/sop_connector`` (and its mirrored assets, if any)."""
    _check_root(root)
    for path in (plugin_dir(root), root / "public" / "plugin_assets" / PLUGIN_ID):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path)
    return status(root)


def _check_root(root: Path) -> None:
    if not (root / "config" / "application.rb").is_file() or not (root / "app").is_dir():
        raise PluginInstallError(
            f"{root} is not a Redmine folder (no config/application.rb): give --redmine-root "
            "the folder that holds Redmine's app/ and config/ (Debian: /usr/share/redmine)")


def _same_tree(source: Path, target: Path) -> bool:
    for path in source.rglob("*"):
        if path.is_file():
            copy = target / path.relative_to(source)
            if not copy.is_file() or copy.read_bytes() != path.read_bytes():
                return False
    return True
