"""The visible stamp of a signature: who signed, as what, and when, in Indonesian.

pyHanko's built-in stamp font (Courier) knows only ASCII, so the stamp's text is folded to
ASCII ("Ñoman Ādi" -> "Noman Adi"; anything without a Latin base letter becomes "?"). The
stamp is only the picture of the signature: the signer's name as written is in the
signature's certificate, which pyHanko, pdfsig and the verification page read.
"""

from __future__ import annotations

import unicodedata
from typing import Any

STAMP_TEXT = ("Ditandatangani secara elektronik\n%(nama)s\n%(jabatan)s\n%(waktu)s")
FONT_SIZE = 7


def ascii_text(text: str) -> str:
    """``text`` in printable ASCII: accents dropped, other characters as ``?``."""
    folded = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in kept)


def stamp_style() -> Any:
    """pyHanko's text stamp with our wording (plain text in a thin border)."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(stamp_text=STAMP_TEXT, text_box_style=TextBoxStyle(
        font_size=FONT_SIZE), border_width=1, background=None)
