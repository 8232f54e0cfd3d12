"""Rendering one Berita Acara as PDF and as DOCX, against the bare libraries.

The document is the one the rendering tests sign off (``tests/test_documents_render.py``).
Baselines: WeasyPrint laying out a minimal HTML page of the same text (no stylesheet, no
letterhead, no images), and python-docx writing the same text as plain paragraphs. The first
rendering of each (fonts and templates loaded) is left out; the median of the rest is shown.
"""

from __future__ import annotations

import html
import io
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import docx
from weasyprint import HTML

from benchmarks.table import Figure
from connector.documents import DocumentKind
from connector.documents.render import render_docx, render_html, render_pdf
from tests.test_documents_render import berita_acara, office

NAME = "Berita Acara"


def _median_seconds(action: Callable[[], bytes], times: int) -> float:
    action()  # warm: fonts, templates, imports
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def plain_paragraphs(page: str) -> list[str]:
    """The visible text of an HTML page, one paragraph per non-empty line."""
    body = re.sub(r"<(style|head)\b.*?</\1>", "", page, flags=re.S | re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", body))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _bare_docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def run(_workdir: Path, *, renders: int) -> list[Figure]:
    """Time the PDF and DOCX renderings and their bare baselines."""
    settings = office()
    document = berita_acara(settings)
    kind = DocumentKind.BERITA_ACARA
    paragraphs = plain_paragraphs(render_html(kind, document, settings))
    minimal = "<!doctype html><meta charset=utf-8><body>" + "".join(
        f"<p>{html.escape(p)}</p>" for p in paragraphs) + "</body>"
    pdf = _median_seconds(lambda: render_pdf(kind, document, settings), renders)
    bare_pdf = _median_seconds(lambda: HTML(string=minimal).write_pdf(), renders)
    docx_s = _median_seconds(lambda: render_docx(kind, document, settings), renders)
    bare_docx = _median_seconds(lambda: _bare_docx(paragraphs), renders)
    words = sum(len(p.split()) for p in paragraphs)
    return [
        Figure(NAME, "PDF (WeasyPrint, letterhead, styles)", pdf,
               f"WeasyPrint, minimal page, same {words} words", bare_pdf, "s"),
        Figure(NAME, "DOCX (from the same HTML)", docx_s,
               "python-docx, same text as paragraphs", bare_docx, "s"),
    ]
