"""``POST /webhooks/intake``: a request letter is authenticated, stored, then answered.

The answer is 202 only after the letter, its attachments and its ``open_case`` job are
committed (RELIABILITY promise 2); the same OPD and nomor surat again with the same content
answer 200 with the existing case and store nothing, with other content 409 naming what
differs; bad input answers 422 naming every faulty field, a credential of another OPD 403,
and nothing is stored. Repeated credential failures answer 429 (``webhooks/throttle.py``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from connector.intake.letter import FieldProblem, Letter, parse_letter
from connector.intake.repeats import differing_fields
from connector.intake.senders import Sender, identify_sender
from connector.signatures import SignatureError
from connector.store import cases
from connector.store.audit import Delivery
from connector.store.group_commit import BatchCommitter
from connector.store.intakes import Intake, IntakeResult
from webhooks.context import services
from webhooks.deliveries import (
    NotJson,
    environ_key,
    json_answer,
    kept_headers,
    read_json,
    sender_delivery_id,
    unauthorized,
)
from webhooks.throttle import client_keys, throttle, too_many

log = logging.getLogger(__name__)

blueprint = Blueprint("intake", __name__)
SOURCE = "intake"
KEPT_HEADERS = ("Content-Type", "User-Agent", "Idempotency-Key", "webhook-id",
                "webhook-timestamp")
# What ``identify_sender`` reads: the bearer token, or the Standard Webhooks signature.
_CREDENTIAL_HEADERS = tuple((name, environ_key(name)) for name in (
    "authorization", "webhook-id", "webhook-timestamp", "webhook-signature"))


@blueprint.post("/webhooks/intake")
def receive_letter() -> Any:
    """Authenticate, validate, store, answer."""
    keys = client_keys("intake")
    wait = throttle().retry_after(keys)
    if wait is not None:
        return too_many(wait)
    body = request.get_data(cache=True)
    sender = _authenticate(body, keys)
    if not isinstance(sender, Sender):
        return sender
    letter = _parse(body)
    if not isinstance(letter, Letter):
        return _invalid(letter)
    if not sender.may_act_for(letter.opd):
        return _forged(sender, letter)
    case_key = letter.case_key
    delivery = Delivery(SOURCE, _delivery_key(body), kept_headers(KEPT_HEADERS), body)
    intake = Intake(case_key, letter.opd, letter.nomor_surat, letter.nama_aplikasi,
                    letter.as_record(),
                    [(a.filename, a.content_type, a.content) for a in letter.lampiran], delivery)
    # Stored together with the letters of other senders waiting now, answered once on disk.
    result = intake_writer().run(intake)
    return _answer(result, letter, case_key)


def intake_writer() -> BatchCommitter[Intake, IntakeResult]:
    """The app's one group committer of letters (``webhooks.app.create_app`` makes it)."""
    writer: BatchCommitter[Intake, IntakeResult] = current_app.extensions["sop_intake_writer"]
    return writer


def _answer(result: IntakeResult, letter: Letter, case_key: str) -> Any:
    """202 for a new case; for a known one 200 if the content is the same, else 409.

    A new case is answered from what was just committed (its key and its first status), so
    no read follows the write; a known one is read to compare its content.
    ``status_url`` is built from ``[server] public_url``, never from the request's Host.
    """
    status = cases.CaseStatus.RECEIVED.value
    if not result.created:
        engine = services().engine
        case = cases.get_case(engine, result.case_id)
        assert case is not None
        differ = differing_fields(case.letter, cases.list_attachments(engine, case.id), letter)
        if differ:
            return _conflict(case, differ)
        case_key, status = case.case_key, case.status.value
    answer = {"case_id": result.case_id, "case_key": case_key, "status": status,
              "created": result.created,
              "status_url": f"{services().settings.server.public_url}/api/cases/"
                            f"{result.case_id}"}
    return json_answer(answer, 202 if result.created else 200)


def _authenticate(body: bytes, keys: list[str]) -> Sender | Any:
    """The OPD (or gateway) whose bearer token or Standard Webhooks signature this carries."""
    environ = request.environ
    headers = {name: environ[key] for name, key in _CREDENTIAL_HEADERS if key in environ}
    try:
        return identify_sender(services().settings, headers, body, now=time.time())
    except SignatureError as exc:
        throttle().failed(keys)
        return unauthorized("intake", exc, {"WWW-Authenticate": 'Bearer realm="sop-connector"'})


def _forged(sender: Sender, letter: Letter) -> Any:
    """403: the credential belongs to another OPD than the letter names; nothing stored."""
    log.warning("intake: credential of %s sent a letter for %r; refused", sender.label,
                letter.opd)
    body = {"error": "forbidden", "field": "opd",
            "message": f"Kredensial ini milik OPD {sender.label}; surat atas nama OPD "
                       f"{letter.opd!r} tidak diterima dengan kredensial ini."}
    return jsonify(body), 403


def _conflict(case: cases.Case, differ: list[str]) -> Any:
    """409: the letter number is known, with other content; nothing stored."""
    body = {"error": "conflict", "case_id": case.id, "case_key": case.case_key,
            "message": "Surat dengan nomor ini sudah diterima dengan isi yang berbeda; "
                       "kirim surat baru dengan nomor surat baru, atau kirim ulang isi yang "
                       "sama.",
            "fields": [{"field": f, "problem": "berbeda dari surat yang sudah diterima"}
                       for f in differ]}
    return jsonify(body), 409


def _parse(body: bytes) -> Letter | list[FieldProblem]:
    if request.mimetype != "application/json":
        return [FieldProblem("$", "Content-Type harus application/json")]
    try:
        data = read_json(body)
    except NotJson:
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
    given = sender_delivery_id()
    if given is not None:
        return f"{given[0].lower()}:{given[1]}"
    return "sha256:" + hashlib.sha256(body).hexdigest()
