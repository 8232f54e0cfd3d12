"""Rendering one Berita Acara as PDF and as DOCX, against the bare libraries.

The document is the one the rendering tests sign off (``tests/test_documents_render.py``).
Baselines: WeasyPrint laying out a minimal HTML page of the same text (no stylesheet, no
letterhead, no images), and python-docx writing the same text as plain paragraphs. The first
rendering of each (fonts and templates loaded) is left out; the median of the rest is shown.

A document and its baseline are rendered in turn (ours, bare, bare, ours, ...), so on a machine
shared with other jobs both meet the same load; measured one block after the other, a change of
load between the blocks moved the ratio by more than any change to the renderer. The service
keeps one FontConfiguration per thread between renderings (``connector/documents/warm.py``), so
the bare WeasyPrint baseline keeps one too. Beside the wall time, the CPU time of the same
renderings (``time.process_time``): on a machine where other jobs take the cores, wall time
is mostly waiting for one, and CPU time is what the rendering itself costs.
"""

from __future__ import annotations

import html
import io
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import docx
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from benchmarks.table import Figure
from connector.documents import DocumentKind
from connector.documents.render import render_docx, render_html, render_pdf
from tests.test_documents_render import berita_acara, office

NAME = "Berita Acara"


class Timing(NamedTuple):
    """Median seconds of one side: wall clock and this process's CPU."""

    wall: float
    cpu: float


def _medians(ours: Callable[[], bytes], bare: Callable[[], bytes],
             times: int) -> tuple[Timing, Timing]:
    """Median wall and CPU time of each, rendered in turn, after one warm-up rendering each."""
    ours()  # warm: fonts, templates, imports
    bare()
    wall: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for i in range(times):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            started, started_cpu = time.perf_counter(), time.process_time()
            (ours, bare)[side]()
            wall[side].append(time.perf_counter() - started)
            cpu[side].append(time.process_time() - started_cpu)
    medians = [Timing(statistics.median(wall[s]), statistics.median(cpu[s])) for s in (0, 1)]
    return medians[0], medians[1]


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
    fonts = FontConfiguration()
    pdf, bare_pdf = _medians(lambda: render_pdf(kind, document, settings),
                             lambda: HTML(string=minimal).write_pdf(font_config=fonts), renders)
    docx_s, bare_docx = _medians(lambda: render_docx(kind, document, settings),
                                 lambda: _bare_docx(paragraphs), renders)
    words = sum(len(p.split()) for p in paragraphs)
    minimal_page = f"WeasyPrint, minimal page, same {words} words"
    return [
        Figure(NAME, "PDF (WeasyPrint, letterhead, styles)", pdf.wall, minimal_page,
               bare_pdf.wall, "s"),
        Figure(NAME, "PDF: CPU time", pdf.cpu, minimal_page, bare_pdf.cpu, "s"),
        Figure(NAME, "DOCX (from the same HTML)", docx_s.wall,
               "python-docx, same text as paragraphs", bare_docx.wall, "s"),
    ]
