"""Render the idempotent ``rails runner`` script that makes Redmine fit a ``RedmineSchema``.

The schema travels into Ruby as JSON inside a single-quoted heredoc: Ruby interprets nothing
in it, and ASCII-only JSON has no raw newline, so no name can end the heredoc early.
``python -m connector.redmine.setup_script [LOGIN ...]`` prints the script for the default
schema with those logins as project members.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from importlib.resources import files

from connector.redmine.schema import RedmineSchema

PLACEHOLDER = "__SOP_SCHEMA_JSON__"
DELIMITER = "SOP_SCHEMA_JSON"


def render_setup_script(schema: RedmineSchema) -> str:
    """The Ruby set-up script for ``schema``, ready for ``bin/rails runner``."""
    template = files("connector.redmine").joinpath("setup.rb").read_text(encoding="utf-8")
    if template.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"setup.rb must contain {PLACEHOLDER} exactly once")
    data = json.dumps(schema.to_data(), ensure_ascii=True, indent=2, sort_keys=True)
    if any(line.strip() == DELIMITER for line in data.splitlines()):  # pragma: no cover
        raise RuntimeError("schema JSON would end the Ruby heredoc")  # impossible by design
    return template.replace(PLACEHOLDER, data)


def main(argv: list[str] | None = None) -> int:
    """Print the script for the default schema; arguments are member logins."""
    logins = tuple(sys.argv[1:] if argv is None else argv)
    sys.stdout.write(render_setup_script(replace(RedmineSchema(), member_logins=logins)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
