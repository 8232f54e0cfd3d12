"""A known letter sent again: the same content is a repeat, other content a conflict.

The case key (OPD and nomor surat) says "the same letter"; the rest must then be the same
too. A resend with other content is refused with 409 naming the fields that differ, never
a silent 200 that drops it (issue 20, finding 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connector.intake.letter import CONTACT_FIELDS, Letter
from connector.store.cases import StoredAttachment

KEY_FIELDS = frozenset({"opd", "nomor_surat"})  # equal by the case key, however written


def differing_fields(stored: Mapping[str, Any], attachments: Iterable[StoredAttachment],
                     letter: Letter) -> list[str]:
    """The JSON paths of ``letter``'s fields that differ from the stored letter, sorted."""
    fresh = letter.as_record()
    found = []
    for key, value in fresh.items():
        if key in KEY_FIELDS or key == "lampiran":
            continue
        if key == "kontak":
            old = stored.get("kontak") or {}
            found += [f"kontak.{f}" for f in CONTACT_FIELDS if old.get(f) != value[f]]
        elif stored.get(key) != value:
            found.append(key)
    kept = sorted((a.filename, a.sha256) for a in attachments)
    if kept != sorted((a.filename, a.sha256) for a in letter.lampiran):
        found.append("lampiran")
    return sorted(found)
