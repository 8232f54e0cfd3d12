"""The links to a case's documents on its wiki home page (Beranda), as text.

A line ``- [title](url)`` under the heading ``## Dokumen``; text that people wrote on the page
is kept as it is. Each code host reads and writes the page its own way.
"""

from __future__ import annotations

import re

HEADING = "## Dokumen"

_SECTION_END = re.compile(r"#{1,2}(\s|$)")  # the next heading of the same or a higher level


def link_line(title: str, url: str) -> str:
    """A Markdown list item linking ``title`` to ``url``."""
    text = re.sub(r"([\\\[\]])", r"\\\1", title)
    return f"- [{text}]({_target(url)})"


def has_link(content: str, url: str) -> bool:
    """True when ``content`` links to exactly ``url`` (``[..](url)``, with a title or not)."""
    target = re.escape(_target(url))
    return re.search(rf"\]\(\s*<?{target}>?(\s|\))|<{target}>", content) is not None


def with_link(content: str, line: str) -> str:
    """``content`` with ``line`` at the end of its ``## Dokumen`` section, added if missing."""
    lines = content.rstrip().splitlines()
    start = next((i for i, text in enumerate(lines) if text.strip() == HEADING), None)
    if start is None:
        return "\n".join([*lines, *([""] if lines else []), HEADING, "", line]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if _SECTION_END.match(lines[i])),
               len(lines))
    last = max(i for i in range(start, end) if lines[i].strip())
    added = [line] if last > start and lines[last].lstrip().startswith(("- ", "* ")) \
        else ["", line]
    if last + 1 == end and end < len(lines):
        added.append("")  # keep a blank line before the next heading
    return "\n".join([*lines[:last + 1], *added, *lines[last + 1:]]) + "\n"


def _target(url: str) -> str:
    """``url`` safe inside Markdown's ``(...)``: spaces and parentheses percent-encoded."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
