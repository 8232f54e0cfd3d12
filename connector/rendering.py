"""Jinja2 environments over the project's ``templates/`` folder.

Two environments, both with ``StrictUndefined`` so that a missing field is an error and
never a blank: ``html_env`` (autoescape on) for documents and pages, and ``redmine_env``
for Redmine descriptions and notes, whose text Redmine itself escapes when it renders;
there, ``table`` and ``heading`` write the instance's text formatting (textile or
Markdown) and ``cell`` keeps untrusted text from breaking a table.

Text from a letter is never markup: the ``literal`` filter marks a table value for an
inline code span and ``fenced`` puts a block of it in a code block. Redmine neither
formats, links, mentions nor runs macros inside ``<pre>`` and ``<code>``
(``ApplicationHelper#parse_non_pre_blocks``), so a letter cannot bring an image, a
``{{macro}}``, an ``@login`` mention, a link or a heading into a case.
"""

from __future__ import annotations

import os
import re
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
    env.filters["literal"] = Literal
    env.filters["fenced"] = lambda text: fenced(text, text_formatting)
    env.filters["inline"] = lambda text: inline_literal(text, text_formatting)
    env.globals["table"] = lambda rows, header: table(rows, header, text_formatting)
    env.globals["heading"] = lambda text, level: heading(text, level, text_formatting)
    return env


class Literal(str):
    """Untrusted text for a table cell: ``table`` writes it as an inline code span."""

    __slots__ = ()


# Textile's own "leave this alone" tags: one inside the text would end our fence early.
_OFFTAG = re.compile(r"<(/?)(code|pre|kbd|notextile)", re.IGNORECASE)
_WORD_JOINER = "\u2060"  # invisible; breaks the tag name without changing what is read


def _defuse_offtags(text: str) -> str:
    return _OFFTAG.sub(lambda m: f"<{m[1]}{_WORD_JOINER}{m[2]}", text)


def fenced(text: object, formatting: str) -> str:
    """A block of untrusted text as a code block: shown as written, never formatted.

    Textile: ``<pre>``; CommonMark: a ``~`` fence longer than any run of ``~`` in the text;
    Markdown (Redcarpet): an indented code block, which no line of the text can end.
    """
    body = "\n".join(str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if formatting == "textile":
        return f"<pre>\n{_defuse_offtags(body)}\n</pre>"
    if formatting == "markdown":  # Redcarpet ends a ~~~ fence at any ~~~ line: indent instead
        return "\n".join("    " + line for line in body.split("\n"))
    runs = [len(run) for run in re.findall(r"~+", body)]
    fence = "~" * max(3, max(runs, default=0) + 1)
    return f"{fence}\n{body}\n{fence}"


def inline_literal(text: object, formatting: str) -> str:
    """One line of untrusted text as an inline code span (line breaks become spaces)."""
    flat = " ".join(str(text).split()) or "-"
    if formatting == "textile":
        return f"<code>{_defuse_offtags(flat)}</code>"
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def cell(text: object) -> str:
    """One table cell: no line breaks or pipes that would split the row."""
    return " ".join(str(text).split()).replace("|", "/") or "-"


def table(rows: Sequence[Sequence[object]], header: Sequence[str], formatting: str) -> str:
    """A table in textile (``|_. head |``) or Markdown (``| head |`` and ``|---|``).

    A ``Literal`` value (untrusted text) is written as an inline code span.
    """
    def value(text: object) -> str:
        return inline_literal(cell(text), formatting) if isinstance(text, Literal) else cell(text)

    if formatting == "textile":
        lines = ["|_. " + " |_. ".join(map(cell, header)) + " |"]
    else:
        lines = ["| " + " | ".join(map(cell, header)) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(value, row)) + " |" for row in rows]
    return "\n".join(lines)


def heading(text: str, level: int, formatting: str) -> str:
    """A heading: ``h2. Text`` in textile, ``## Text`` in Markdown."""
    return f"h{level}. {text}" if formatting == "textile" else f"{'#' * level} {text}"
