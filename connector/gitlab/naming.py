"""A case's project path, display name and marker, all derived from the case alone.

The marker has two copies so that one human edit cannot orphan a project: the topic
``sop-<12 hex of SHA-256(case key)>`` (queryable with ``GET /projects?topic=``, survives
edits of the description, and hashed because topics are listed instance-wide and a case key
holds the letter's number) and the line ``Kunci SOP: <case key>`` in the description
(readable by people, survives removal of the topic). Either one makes the project ours.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

MAX_SLUG = 50  # GitLab allows 255; short paths make readable clone URLs
MAX_CANDIDATES = 20  # <slug>, <slug>-2 .. <slug>-20
FALLBACK_SLUG = "aplikasi"
MARKER_LINE = "Kunci SOP: "


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


def display_name(title: str, suffix: str = "") -> str:
    """A project name GitLab accepts (letters, digits, space, ``_ . + - ( )``).

    GitLab wants names unique in a group too, so the project at ``<slug>-3`` gets ``suffix``
    "3" and is named "<title> (3)".
    """
    cleaned = " ".join(re.sub(r"[^\w .+\-()]", " ", title).split())
    cleaned = re.sub(r"^[^\w]+", "", cleaned) or FALLBACK_SLUG
    return f"{cleaned[:240]} ({suffix})" if suffix else cleaned[:255]


def marker_topic(case_key: str) -> str:
    """The topic that marks the case's project: ``sop-`` and 12 hex digits."""
    return "sop-" + hashlib.sha256(case_key.encode("utf-8")).hexdigest()[:12]


def is_ours(project: Mapping[str, Any], case_key: str) -> bool:
    """True when a project (as GitLab returns it) carries the case's topic or marker line.

    A fork copies its origin's description (and topics), so a fork is never ours.
    """
    if project.get("forked_from_project"):
        return False
    if marker_topic(case_key) in (project.get("topics") or ()):
        return True
    lines = str(project.get("description") or "").splitlines()
    return any(line.strip() == MARKER_LINE + case_key for line in lines)
