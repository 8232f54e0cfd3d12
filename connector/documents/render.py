"""Render the documents to HTML, PDF (WeasyPrint) and DOCX (python-docx), all from one template.

The HTML comes from ``templates/documents/<kind>.html`` through ``html_env()``: autoescape on and
``StrictUndefined``, so untrusted text prints literally and a missing field raises instead of
leaving a blank in a signed document. The PDF is that HTML laid out by WeasyPrint, which may
read nothing but bundled files (``AssetFetcher``). The DOCX is built from the same HTML, so the
two never say different things. For the PDF, the HTML leaves out its ``<link>`` to
``print.css``: WeasyPrint is given the stylesheet already parsed (``warm.py``), since parsing it
again for every document was a fifth of a rendering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from connector.config.documents import DocumentSettings
from connector.documents import docx_writer
from connector.documents.fetcher import AssetFetcher
from connector.documents.model import DOCUMENT_TYPES, Document, DocumentError, DocumentKind
from connector.documents.warm import stylesheet, warm
from connector.documents.words import kalimat_tanggal, tanggal_panjang, terbilang
from connector.rendering import html_env, templates_dir

FILENAME_PREFIX = {
    DocumentKind.BERITA_ACARA: "berita-acara",
    DocumentKind.LAPORAN: "laporan-ketidaktersediaan",
    DocumentKind.SURAT: "surat-ketidaktersediaan",
}
MAX_SLUG = 80


def documents_dir() -> Path:
    """``templates/documents``: the templates, ``print.css`` and ``assets/``."""
    return templates_dir() / "documents"


def daftar(items: Iterable[str]) -> str:
    """Join as Indonesian prose: "a", "a dan b", "a, b dan c"."""
    words = list(items)
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " dan " + words[-1]


def balanced(text: str, limit: int = 36) -> list[str]:
    """A heading split into two lines of similar length when longer than ``limit``, so the
    letterhead reads "DINAS KOMUNIKASI INFORMATIKA / STATISTIK DAN PERSANDIAN"."""
    words = text.split()
    if len(text) <= limit or len(words) < 2:
        return [text]
    middle = len(text) / 2
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - middle))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def render_html(kind: DocumentKind, document: Document, settings: DocumentSettings, *,
                verifikasi: Any = None, link_stylesheet: bool = True) -> str:
    """The document as HTML (UTF-8 text, relative asset links), ready for print or PDF.

    ``verifikasi`` (a ``connector.documents.qr.VerificationMark``) adds the QR code and URL
    of the verification page; None leaves them out. ``link_stylesheet=False`` leaves out
    the ``<link>`` to ``print.css``, for ``layout()``, which applies the stylesheet itself.
    """
    expected = DOCUMENT_TYPES[DocumentKind(kind)]
    if not isinstance(document, expected):
        raise DocumentError(f"a {kind} document needs a {expected.__name__}, "
                            f"got {type(document).__name__}")
    template = html_env().get_template(f"documents/{DocumentKind(kind).value}.html")
    return template.render(_context(document, settings)
                           | {"verifikasi": verifikasi, "link_stylesheet": link_stylesheet})


def _context(document: Document, settings: DocumentSettings) -> dict[str, Any]:
    """What every template sees; helper functions are passed in, the shared env is untouched."""
    return {"doc": document, "kop": settings.kop, "instansi": settings.instansi,
            "kalimat_tanggal": kalimat_tanggal, "tanggal_panjang": tanggal_panjang,
            "terbilang": terbilang, "daftar": daftar, "balanced": balanced,
            "verifikasi": None}


def render_pdf(kind: DocumentKind, document: Document, settings: DocumentSettings, *,
               url_fetcher: AssetFetcher | None = None) -> bytes:
    """The document as an A4 PDF, ready to upload to Srikandi and sign there.

    ``url_fetcher`` must be an ``AssetFetcher`` (tests pass a recording subclass); anything
    it refuses stops the rendering with AssetRefused's message in a DocumentError.
    """
    html = render_html(kind, document, settings, link_stylesheet=False)
    try:
        pdf: bytes = layout(html, url_fetcher).write_pdf()
    except FatalURLFetchingError as exc:
        raise DocumentError(f"{kind}: {exc.__cause__ or exc}") from exc
    return pdf


def layout(html: str, url_fetcher: AssetFetcher | None = None) -> Any:
    """The document's HTML laid out in pages by WeasyPrint (a ``weasyprint.Document``), which
    may load only bundled files; ``.write_pdf()`` makes the PDF, ``.pages`` tell where things
    are (connector/documents/issue.py finds the signature blocks there).

    ``html`` comes from ``render_html(..., link_stylesheet=False)``: ``print.css`` is applied
    here, parsed once per thread (``warm.py``), with that thread's fonts and parsed images.
    A ``url_fetcher`` given by the caller is used for everything, the stylesheet included,
    and nothing is kept.
    """
    root = documents_dir().resolve()
    base_url = root.as_uri() + "/"
    if url_fetcher is not None:
        fonts = FontConfiguration()
        return HTML(string=html, base_url=base_url, url_fetcher=url_fetcher).render(
            stylesheets=[stylesheet(root, url_fetcher, fonts)], font_config=fonts)
    state = warm(root)
    return HTML(string=html, base_url=base_url, url_fetcher=AssetFetcher(root)).render(
        stylesheets=[state.stylesheet], font_config=state.font_config, cache=state.images)


def render_docx(kind: DocumentKind, document: Document, settings: DocumentSettings) -> bytes:
    """The document as DOCX, the same text as the PDF, for offices that edit before signing."""
    html = render_html(kind, document, settings)
    logo = settings.kop.logo_raster
    logo_path = documents_dir() / "assets" / logo if logo else None
    return docx_writer.html_to_docx(html, logo=logo_path)


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens, at most MAX_SLUG long."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:MAX_SLUG].rstrip("-") or "dokumen"


def document_filename(kind: DocumentKind, document: Document, ext: str) -> str:
    """``berita-acara-<case key slug>.pdf`` and the like: the same name on every retry, so an
    attachment already uploaded is found by name (one document of each kind per case)."""
    if ext.lstrip(".") not in ("pdf", "docx", "html"):
        raise DocumentError(f"unknown document extension {ext!r}")
    return f"{FILENAME_PREFIX[DocumentKind(kind)]}-{slug(document.case_key)}.{ext.lstrip('.')}"
