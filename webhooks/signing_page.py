"""The signing pages (issue 17): a signer's queue, and the form where they sign one block.

``GET /dashboard/tandatangan`` lists the documents waiting for a signature, marking those the
signed-in login may sign; ``GET /dashboard/tandatangan/<token>`` shows one document's blocks
and, for the signer's own block, a form with the passphrase (or BSrE TOTP). The POST signs
through ``connector.signing.flow.sign_slot``: verified before it is kept, nothing kept when
refused. The passphrase lives in that one request: it is not logged, not stored, and never
rendered back into a page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from connector.config.secret import Secret
from connector.signing.bsre import BsreSigner
from connector.signing.flow import sign_slot
from connector.signing.port import SignerIdentity, SigningError
from connector.signing.verify import load_trust_roots
from connector.signing.who import may_sign, signer_for
from connector.store.issued import IssuedDocument, awaiting_signature, get_issued
from webhooks.auth import STALE_FORM, current_login, page_requires_sign_in, render_page
from webhooks.context import services
from webhooks.csrf import csrf_ok
from webhooks.verification import KINDS, NOT_FOUND, protect

blueprint = Blueprint("signing", __name__)
blueprint.after_request(protect)  # no framing, no caching: the same headers as the dashboard
NOT_CONFIGURED = "Tanda tangan elektronik belum dikonfigurasi ([signing])."


@blueprint.get("/dashboard/tandatangan")
@page_requires_sign_in
def queue() -> Any:
    """Every document waiting for a signature; the signer's own blocks first."""
    s, login = services(), current_login() or ""
    rows = []
    for doc in awaiting_signature(s.engine):
        mine = [slot.peran for slot in doc.unsigned_slots
                if may_sign(s.settings, login, slot.slot, doc.case_key)]
        rows.append({"doc": doc, "jenis": KINDS.get(doc.kind, doc.kind), "mine": mine,
                     "waiting": [slot.peran for slot in doc.unsigned_slots]})
    rows.sort(key=lambda row: not row["mine"])
    return render_page("tandatangan.html", rows=rows)


@blueprint.get("/dashboard/tandatangan/<token>")
@page_requires_sign_in
def document_page(token: str) -> Any:
    """One document's blocks, with a form for the signer's own."""
    doc = get_issued(services().engine, token)
    if doc is None:
        return render_page("error.html", 404, message=NOT_FOUND)
    return _page(doc)


@blueprint.post("/dashboard/tandatangan/<token>")
@page_requires_sign_in
def sign(token: str) -> Any:
    """Sign block ``slot`` with the passphrase typed in the form."""
    s, login = services(), current_login() or ""
    doc, slot, refusal = _signer_form(token, login)
    if refusal is not None or doc is None:
        return refusal
    typed = request.form.get("passphrase", "")
    if not typed:
        return _page(doc, 400, error="Isi passphrase (atau TOTP) Anda.")
    signing = s.settings.signing
    if signing is None:
        return _page(doc, 503, error=NOT_CONFIGURED)
    try:
        signer, nik = signer_for(signing, login)
        where = doc.slot(slot)
        signed = sign_slot(s.engine, token, slot, signer=signer,
                           identity=SignerIdentity(where.nama, peran=where.peran, nik=nik),
                           credential=Secret(typed, source="formulir"),
                           trust_roots=load_trust_roots(signing.trust_roots.read_bytes()),
                           clock=s.clock)
    except (SigningError, OSError) as exc:
        return _page(doc, 422, error=str(exc) if isinstance(exc, SigningError)
                     else "Akar kepercayaan (trust_roots) tidak dapat dibaca.")
    done = f"Blok {where.peran} telah ditandatangani ({len(signed.signatures)} dari " \
           f"{len(signed.slots)})."
    return _page(signed, done=done)


@blueprint.post("/dashboard/tandatangan/<token>/totp")
@page_requires_sign_in
def send_totp(token: str) -> Any:
    """Have BSrE send the signer a TOTP for block ``slot`` (``[signing] bsre_totp``)."""
    s, login = services(), current_login() or ""
    doc, slot, refusal = _signer_form(token, login)
    if refusal is not None or doc is None:
        return refusal
    signing = s.settings.signing
    if signing is None or signing.provider != "bsre" or not signing.bsre_totp:
        return _page(doc, 400, error="TOTP hanya dipakai bila [signing] provider = \"bsre\" "
                                     "dan bsre_totp = true.")
    try:
        signer, nik = signer_for(signing, login)
        assert isinstance(signer, BsreSigner)
        signer.request_totp(SignerIdentity(doc.slot(slot).nama, nik=nik))
    except SigningError as exc:
        return _page(doc, 422, error=str(exc))
    return _page(doc, done="TOTP telah diminta dari BSrE; periksa ponsel atau e-mail Anda.")


def _signer_form(token: str, login: str) -> tuple[IssuedDocument | None, str, Any]:
    """The document and the block a signing form posts for, and the page refusing it (None
    when allowed): an unknown token (404), a stale form (403), another's block (403)."""
    doc = get_issued(services().engine, token)
    slot = request.form.get("slot", "")
    if doc is None:
        return None, slot, render_page("error.html", 404, message=NOT_FOUND)
    if not csrf_ok():
        return doc, slot, _page(doc, 403, error=STALE_FORM)
    if not may_sign(services().settings, login, slot, doc.case_key):
        return doc, slot, _page(doc, 403,
                                error=f"{login} tidak berwenang menandatangani blok ini.")
    return doc, slot, None


def _page(doc: IssuedDocument, status: int = 200, **context: Any) -> Any:
    s, login = services(), current_login() or ""
    signed = {r.slot: r for r in doc.signatures}
    slots = [{"slot": slot, "signed": signed.get(slot.slot),
              "mine": slot.slot not in signed and may_sign(s.settings, login, slot.slot,
                                                           doc.case_key)}
             for slot in doc.slots]
    context.setdefault("error", None)
    context.setdefault("done", None)
    return render_page("tandatangan_dokumen.html", status, doc=doc, slots=slots,
                       jenis=KINDS.get(doc.kind, doc.kind),
                       totp=s.settings.signing is not None and s.settings.signing.bsre_totp,
                       **context)
