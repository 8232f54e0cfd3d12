"""The QR code and URL of a document's verification page, drawn as an SVG path.

The template draws the code as one ``<path>`` whose data is made here from the code's
modules: digits and the letters M, h, v and z only, so it needs no markup marked safe and no
image file (the renderer loads only bundled files, see ``fetcher.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

QUIET_ZONE = 2  # modules of white around the code; the page around it is white too


@dataclass(frozen=True)
class VerificationMark:
    """What the template prints: the URL, the QR code's path data and its size in modules."""

    url: str
    qr_path: str
    qr_size: int


def verification_mark(url: str) -> VerificationMark:
    """The QR code of ``url`` (error correction M), ready for the template."""
    import segno

    code = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in code.matrix]
    path = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            path.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
    return VerificationMark(url, "".join(path), len(rows) + 2 * QUIET_ZONE)
