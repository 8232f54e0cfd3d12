"""Draw a document up for electronic signing: a verification token, its QR code and URL in
the document, the signature blocks located, and the record kept (issue 17, item 3).

The token is made first because the document prints it (the QR code and the short URL
``<base>/verifikasi/<token>``); the PDF is then laid out once, the anchor of each signature
block (``ttd-<slot>`` in ``templates/documents/_macros.html``) read from the layout, and the
PDF with those boxes stored under the token. Signers later add their signatures in turn
(``connector.signing.flow``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from weasyprint.urls import FatalURLFetchingError

from connector.config.documents import DocumentSettings
from connector.documents.model import (
    BeritaAcara,
    Document,
    DocumentError,
    DocumentKind,
    LaporanKetidaktersediaan,
    SuratKepadaOpd,
)
from connector.documents.qr import verification_mark
from connector.documents.render import layout, render_html
from connector.store.issued import (
    IssuedDocument,
    Party,
    Slot,
    find_issued,
    new_token,
    record_issued,
)

PX = 0.75  # PDF points per CSS pixel

# Each signature block of a kind, in signing order: slot key, role as printed, who.
_SIGNERS: dict[DocumentKind, tuple[tuple[str, str, Callable[[Any], str]], ...]] = {
    DocumentKind.BERITA_ACARA: (
        ("pihak_pertama", "PIHAK PERTAMA", lambda d: d.pihak_pertama.nama),
        ("pihak_kedua", "PIHAK KEDUA", lambda d: d.pihak_kedua.nama),
        ("mengetahui", "Mengetahui", lambda d: d.mengetahui.nama),
    ),
    DocumentKind.LAPORAN: (
        ("pelapor", "Pelapor", lambda d: d.pelapor.nama),
        ("mengetahui", "Mengetahui", lambda d: d.mengetahui.nama),
    ),
    DocumentKind.SURAT: (
        ("penandatangan", "Penandatangan", lambda d: d.penandatangan.nama),
    ),
}


def verification_url(base_url: str, token: str) -> str:
    """The short URL of a document's verification page."""
    return f"{base_url.rstrip('/')}/verifikasi/{token}"


def draw_up_for_signing(engine: Engine, kind: DocumentKind, document: Document,
                        settings: DocumentSettings, *, base_url: str) -> IssuedDocument:
    """Render ``document`` with its QR code and URL, locate its signature blocks, and store
    it under a new token; DocumentError when a block cannot be found.

    Idempotent: a document of this kind and number issued before is returned as it was (its
    token, bytes and signatures), never drawn up twice.
    """
    kind = DocumentKind(kind)
    already = find_issued(engine, kind.value, document.nomor)
    if already is not None:  # a retry after a crash: the document issued the first time
        return already
    token = new_token()
    html = render_html(kind, document, settings, link_stylesheet=False,
                       verifikasi=verification_mark(verification_url(base_url, token)))
    try:
        laid_out = layout(html)
        pdf: bytes = laid_out.write_pdf()
    except FatalURLFetchingError as exc:
        raise DocumentError(f"{kind}: {exc.__cause__ or exc}") from exc
    slots = [_slot(laid_out, key, peran, who(document))
             for key, peran, who in _SIGNERS[kind]]
    return record_issued(engine, token=token, kind=kind.value, nomor=document.nomor,
                         tanggal=document.tanggal, case_key=document.case_key,
                         parties=parties(document), slots=slots, pdf=pdf)


def parties(document: Document) -> list[Party]:
    """Who a document names as its parties, for the public verification page."""
    if isinstance(document, BeritaAcara):
        return [Party("PIHAK PERTAMA", document.pihak_pertama.nama),
                Party("PIHAK KEDUA", f"{document.pihak_kedua.nama} "
                                     f"({document.pihak_kedua.instansi})"),
                Party("Mengetahui", document.mengetahui.nama)]
    if isinstance(document, LaporanKetidaktersediaan):
        return [Party("Pelapor", document.pelapor.nama),
                Party("Mengetahui", document.mengetahui.nama),
                Party("Pemohon", document.temuan.opd.nama)]
    assert isinstance(document, SuratKepadaOpd)
    return [Party("Penandatangan", document.penandatangan.nama),
            Party("Kepada", document.temuan.opd.nama)]


def _slot(laid_out: Any, key: str, peran: str, nama: str) -> Slot:
    """Where the block ``ttd-<key>`` is: its page and its box in PDF points."""
    anchor = f"ttd-{key}"
    for number, page in enumerate(laid_out.pages):
        if anchor in page.anchors:
            x1, y1, x2, y2 = page.anchors[anchor]  # CSS px from the top-left
            return Slot(key, peran, nama, number,
                        (round(x1 * PX, 2), round((page.height - y2) * PX, 2),
                         round(x2 * PX, 2), round((page.height - y1) * PX, 2)))
    raise DocumentError(f"the document has no signature block {anchor!r}")
