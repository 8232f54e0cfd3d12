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
from collections.abc import Mapping
from typing import Any

from connector.codehost.naming import FALLBACK_SLUG, MARKER_LINE


def display_name(title: str, suffix: str = "") -> str:
    """A project name that GitLab's ``project_name_regex`` accepts, readable as ``title``.

    GitLab allows letters, digits, emoji, ``_``, ``.``, dashes and spaces, starting with a
    letter, digit, emoji or ``_`` (Projects API, "name"; ``Gitlab::Regex.project_name_regex``):
    no parentheses, slashes, quotes or ``&``. We keep letters, digits, ``_ . -`` and spaces
    (the set every GitLab version accepts), turn anything else into a space, and end a clash
    suffix as " - 3". The full name stays in the project's description.
    """
    kept = "".join(ch if _kept(ch) else " " for ch in unicodedata.normalize("NFC", title))
    cleaned = " ".join(kept.split())
    cleaned = re.sub(r"^[^\w]+", "", cleaned) or FALLBACK_SLUG
    if suffix:
        return f"{cleaned[:240].rstrip(' .-')} - {suffix}"
    return cleaned[:255].rstrip(" ")


def _kept(ch: str) -> bool:
    return ch.isalnum() or ch in "_.- "


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
