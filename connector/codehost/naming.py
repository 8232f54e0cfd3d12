"""A repository path made from an application's name, the same on every code host."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

MAX_SLUG = 50  # GitLab allows 255; short paths make readable clone URLs

MAX_CANDIDATES = 20  # <slug>, <slug>-2 .. <slug>-20

FALLBACK_SLUG = "aplikasi"


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by hyphens: "Sistem Informasi Posyandu (SIP)" -> ..."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    return slug.strip("-") or FALLBACK_SLUG


def candidate_paths(slug: str) -> Iterator[str]:
    """The paths tried in order: ``slug``, ``slug-2``, ... ``slug-20``, always the same."""
    yield slug
    for n in range(2, MAX_CANDIDATES + 1):
        yield f"{slug}-{n}"

MARKER_LINE = "Kunci SOP: "
