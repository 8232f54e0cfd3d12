"""The visible stamp of a signature: who signed, as what, and when, in Indonesian."""

from __future__ import annotations

from typing import Any

STAMP_TEXT = ("Ditandatangani secara elektronik\n%(nama)s\n%(jabatan)s\n%(waktu)s")


def stamp_style() -> Any:
    """pyHanko's text stamp with our wording (the background is left out: a signature
    block on a white page reads best as plain text with a border)."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(stamp_text=STAMP_TEXT, text_box_style=TextBoxStyle(font_size=7),
                          border_width=1, background=None)
