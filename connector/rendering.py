"""Jinja2 environments over the project's ``templates/`` folder.

Two environments, both with ``StrictUndefined`` so that a missing field is an error and
never a blank: ``html_env`` (autoescape on) for documents and pages, and ``redmine_env``
for Redmine descriptions and notes, whose text Redmine itself escapes when it renders;
there, ``table`` and ``heading`` write the instance's text formatting (textile or
Markdown) and ``cell`` keeps untrusted text from breaking a table.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_ENV = "SOP_CONNECTOR_TEMPLATES"


def templates_dir() -> Path:
    """``$SOP_CONNECTOR_TEMPLATES`` or the ``templates/`` folder beside the package."""
    configured = os.environ.get(TEMPLATES_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "templates"


@cache
def html_env() -> Environment:
    """Environment for HTML documents and pages: autoescape on, strict undefined."""
    return Environment(loader=FileSystemLoader(templates_dir()), undefined=StrictUndefined,
                       autoescape=select_autoescape(default=True, default_for_string=True))


@cache
def redmine_env(text_formatting: str) -> Environment:
    """Environment for Redmine text in the instance's formatting."""
    env = Environment(loader=FileSystemLoader(templates_dir()), undefined=StrictUndefined,
                      autoescape=False, keep_trailing_newline=True)
    env.filters["cell"] = cell
    env.globals["table"] = lambda rows, header: table(rows, header, text_formatting)
    env.globals["heading"] = lambda text, level: heading(text, level, text_formatting)
    return env


def cell(text: object) -> str:
    """One table cell: no line breaks or pipes that would split the row."""
    return " ".join(str(text).split()).replace("|", "/") or "-"


def table(rows: Sequence[Sequence[object]], header: Sequence[str], formatting: str) -> str:
    """A table in textile (``|_. head |``) or Markdown (``| head |`` and ``|---|``)."""
    if formatting == "textile":
        lines = ["|_. " + " |_. ".join(map(cell, header)) + " |"]
    else:
        lines = ["| " + " | ".join(map(cell, header)) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def heading(text: str, level: int, formatting: str) -> str:
    """A heading: ``h2. Text`` in textile, ``## Text`` in Markdown."""
    return f"h{level}. {text}" if formatting == "textile" else f"{'#' * level} {text}"
