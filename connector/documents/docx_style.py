"""How the DOCX looks, read from the documents' HTML classes, and HTML whitespace rules.

Pure data and functions (no python-docx objects), so ``docx_writer`` stays a walk over the
tree. The classes mirror ``templates/documents/print.css``: a class styled there for the PDF
gets the same look here for the DOCX.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from docx.enum.text import WD_ALIGN_PARAGRAPH


@dataclass(frozen=True)
class Look:
    """How a paragraph and its runs look; inherited down the tree like CSS."""

    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY
    bold: bool = False
    italic: bool = False
    underline: bool = False
    size: float | None = None
    indent_cm: float = 0.0
    first_line_cm: float = 0.0
    space_after: float = 6.0
    verbatim: bool = False


_C, _R, _L = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
CLASS_LOOK: dict[str, dict[str, object]] = {
    "center": {"align": _C}, "right": {"align": _R}, "left": {"align": _L},
    "subjudul": {"align": _C, "bold": True, "space_after": 0.0},
    "nomor": {"align": _C, "space_after": 14.0},
    "bagian": {"align": _L, "bold": True},
    "kop-text": {"align": _C, "space_after": 0.0},
    "kop-pemerintah": {"bold": True, "size": 14.0}, "kop-dinas": {"bold": True, "size": 15.0},
    "kop-alamat": {"size": 9.0}, "kop-kontak": {"size": 9.0},
    "fields": {"align": _L, "space_after": 1.0}, "grid": {"align": _L, "space_after": 0.0},
    "ttd": {"align": _C, "space_after": 0.0}, "ttd-nama": {"bold": True, "underline": True},
    "surat-tanggal": {"align": _R}, "tujuan": {"align": _L, "space_after": 0.0},
    "di-tempat": {"indent_cm": 0.9}, "indent": {"indent_cm": 0.9},
    "isi": {"first_line_cm": 0.9}, "tembusan": {"align": _L, "size": 10.0, "space_after": 0.0},
    "verbatim": {"italic": True, "verbatim": True, "align": _L, "indent_cm": 0.9},
}
TAG_LOOK: dict[str, dict[str, object]] = {
    "h1": {"align": _C, "bold": True, "underline": True, "space_after": 0.0},
    "strong": {"bold": True}, "b": {"bold": True}, "em": {"italic": True},
    "i": {"italic": True}, "u": {"underline": True},
    "th": {"bold": True, "align": _C},
}

Run = tuple[str, Look] | None  # None is a line break


def look_of(el: ET.Element, inherited: Look) -> Look:
    """The inherited look changed by the element's tag and classes."""
    changes: dict[str, object] = dict(TAG_LOOK.get(el.tag, {}))
    for name in (el.get("class") or "").split():
        changes.update(CLASS_LOOK.get(name, {}))
    return replace(inherited, **changes) if changes else inherited  # type: ignore[arg-type]


def collapse(text: str) -> str:
    return " ".join(text.split())


def normalise(runs: list[Run], verbatim: bool) -> list[Run]:
    """HTML whitespace: runs of spaces become one, none at the start or end of a line.

    In ``verbatim`` text (the Kabid's note) spaces are kept and newlines become line breaks.
    """
    out: list[Run] = []
    at_line_start = True
    for run in runs:
        if run is None:
            out.append(None)
            at_line_start = True
            continue
        text, look = run
        if verbatim:
            for n, line in enumerate(text.split("\n")):
                out.extend(([None] if n else []) + ([(line, look)] if line else []))
            continue
        text = re.sub(r"\s+", " ", text)
        if at_line_start or (out and out[-1] is not None and out[-1][0].endswith(" ")):
            text = text.lstrip(" ")
        if text:
            out.append((text, look))
            at_line_start = False
    return strip_line_ends(out)


def strip_line_ends(pieces: list[Run]) -> list[Run]:
    """Drop trailing spaces before each line break and at the end."""
    result: list[Run] = []
    for i, piece in enumerate(pieces):
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if piece is not None and nxt is None:
            piece = (piece[0].rstrip(" "), piece[1])
        result.append(piece)
    return result
