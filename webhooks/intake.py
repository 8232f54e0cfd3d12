"""``POST /webhooks/intake``: a request letter is authenticated, stored, then answered.

The answer is 202 only after the letter, its attachments and its ``open_case`` job are
committed (RELIABILITY promise 2); the same OPD and nomor surat again answer 200 with the
existing case; bad input answers 422 naming every faulty field, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from connector.intake.letter import FieldProblem, Letter, parse_letter
from connector.signatures import SignatureError, verify_bearer, verify_standard_webhook
from connector.store import cases
from connector.store.audit import Delivery
from webhooks.context import services

blueprint = Blueprint("intake", __name__)
SOURCE = "intake"
KEPT_HEADERS = ("Content-Type", "User-Agent", "Idempotency-Key", "webhook-id",
                "webhook-timestamp")


@blueprint.post("/webhooks/intake")
def receive_letter() -> Any:
    """Authenticate, validate, store, answer."""
    body = request.get_data(cache=True)
    denied = _authenticate(body)
    if denied is not None:
        return denied
    letter = _parse(body)
    if not isinstance(letter, Letter):
        return _invalid(letter)
    delivery = Delivery(SOURCE, _delivery_key(body), _kept_headers(), body)
    with services().engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key=letter.case_key, opd=letter.opd, nomor_surat=letter.nomor_surat,
            nama_aplikasi=letter.nama_aplikasi, letter=letter.as_record(), inbox=delivery,
            attachments=[(a.filename, a.content_type, a.content) for a in letter.lampiran],
            clock=services().clock)
    case = cases.get_case(services().engine, result.case_id)
    assert case is not None
    answer = {"case_id": case.id, "case_key": case.case_key, "status": case.status.value,
              "created": result.created,
              "status_url": url_for("cases_api.show_case", case_id=case.id, _external=True)}
    return jsonify(answer), 202 if result.created else 200


def _authenticate(body: bytes) -> Any | None:
    """Bearer token, or a Standard Webhooks signature when the sender signs."""
    hooks = services().settings.webhooks
    try:
        if "webhook-signature" in request.headers and hooks.intake_signing_secret:
            verify_standard_webhook(dict(request.headers.items()), body,
                                    hooks.intake_signing_secret.reveal(), now=time.time())
        else:
            token = hooks.intake_token.reveal() if hooks.intake_token else None
            verify_bearer(request.headers.get("Authorization"), token)
    except SignatureError as exc:
        body_out = {"error": "unauthorized", "message": str(exc)}
        return jsonify(body_out), 401, {"WWW-Authenticate": 'Bearer realm="sop-connector"'}
    return None


def _parse(body: bytes) -> Letter | list[FieldProblem]:
    if request.mimetype != "application/json":
        return [FieldProblem("$", "Content-Type harus application/json")]
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return [FieldProblem("$", "isi permintaan bukan JSON yang valid")]
    settings = services().settings
    letter = parse_letter(data, max_attachment_bytes=settings.server.max_attachment_bytes)
    if isinstance(letter, Letter) and not settings.opd.allow_unknown \
            and letter.opd not in settings.opd.agencies:
        known = ", ".join(sorted(settings.opd.agencies)) or "-"
        return [FieldProblem("opd", f"OPD {letter.opd!r} tidak dikenal; yang dikenal: {known}")]
    return letter


def _invalid(problems: list[FieldProblem]) -> Any:
    body = {"error": "invalid_request",
            "message": "Permintaan tidak valid; perbaiki kolom berikut.",
            "fields": [{"field": p.field, "problem": p.problem} for p in problems]}
    return jsonify(body), 422


def _delivery_key(body: bytes) -> str:
    """The sender's stable delivery id, else a hash of the body."""
    for header in ("Idempotency-Key", "webhook-id"):
        value = request.headers.get(header)
        if value:
            return f"{header.lower()}:{value[:200]}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _kept_headers() -> dict[str, str]:
    return {h: request.headers[h][:500] for h in KEPT_HEADERS if h in request.headers}
