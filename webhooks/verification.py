"""``GET /verifikasi/<token>``: the public page a document's QR code opens (issue 17).

It shows only the document's kind, number, date, parties, hash, and who signed when; a PDF
uploaded there is compared by its SHA-256 with every version we issued. An unknown token is
a plain 404 that says nothing about which tokens exist. No sign-in: a reader of a printed
or forwarded document has no account, and nothing here changes anything.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.datastructures import FileStorage

from connector.documents.words import tanggal_panjang
from connector.store.issued import IssuedDocument, get_issued
from webhooks.auth import render_page
from webhooks.context import services

blueprint = Blueprint("verification", __name__)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
KINDS = {"berita_acara": "Berita Acara Pekerjaan",
         "laporan": "Laporan Ketidaktersediaan",
         "surat": "Surat kepada OPD"}
NOT_FOUND = "Dokumen tidak ditemukan. Periksa kembali alamat atau kode QR-nya."
CHUNK = 64 * 1024


@blueprint.after_request
def protect(response: Response) -> Response:
    """No framing, no sniffing, nothing loaded from elsewhere, no caching."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/verifikasi/<token>")
def verification_page(token: str) -> Any:
    """What the document is and who signed it; 404 for an unknown token."""
    document = get_issued(services().engine, token)
    if document is None:
        return render_page("error.html", 404, message=NOT_FOUND)
    return _page(document)


@blueprint.post("/verifikasi/<token>")
def compare_upload(token: str) -> Any:
    """Whether the uploaded PDF (form field ``berkas``) is exactly a version we issued."""
    document = get_issued(services().engine, token)
    if document is None:
        return render_page("error.html", 404, message=NOT_FOUND)
    upload = request.files.get("berkas")
    if upload is None or not upload.filename:
        return _page(document, 400, error="Pilih berkas PDF yang akan diperiksa.")
    digest, size = _digest(upload)
    if size == 0:
        return _page(document, 400, error="Berkas yang diunggah kosong.")
    found = document.known_hashes().get(digest.hexdigest())
    return _page(document, result={"ours": found is not None, "version": found,
                                   "sha256": digest.hexdigest()})


def _digest(upload: FileStorage) -> tuple[Any, int]:
    """The SHA-256 and size of an uploaded file, read in chunks; the file is closed after."""
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := upload.stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    finally:
        upload.close()
    return digest, size


def _page(document: IssuedDocument, status: int = 200, **context: Any) -> Any:
    slots = {s.slot: s for s in document.slots}
    signed = [{"peran": slots[r.slot].peran if r.slot in slots else r.slot, "nama": r.nama,
               "waktu": f"{tanggal_panjang(r.signed_at.date())} "
                        f"{r.signed_at:%H.%M} UTC"} for r in document.signatures]
    latest = document.signatures[-1].sha256 if document.signatures else document.sha256
    context.setdefault("result", None)
    context.setdefault("error", None)
    return render_page("verifikasi.html", status, jenis=KINDS.get(document.kind, document.kind),
                       doc=document, tanggal=tanggal_panjang(document.tanggal), signed=signed,
                       latest=latest, waiting=[s.peran for s in document.unsigned_slots],
                       **context)
