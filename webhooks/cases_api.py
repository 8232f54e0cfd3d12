"""``GET /api/cases/<id>``: a case's state and its audit trail (the intake's status URL)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, jsonify, request

from connector.intake.senders import identify_sender
from connector.signatures import SignatureError
from connector.store import audit, cases
from connector.store.db import snapshot
from webhooks.context import services
from webhooks.throttle import client_keys, throttle, too_many

blueprint = Blueprint("cases_api", __name__)
# Ids beyond a signed 64-bit integer are no row of ours; the store could not even look them up.
MAX_CASE_ID = 2**63 - 1
CASE_ID = f"<int(max={MAX_CASE_ID}):case_id>"


@blueprint.get(f"/api/cases/{CASE_ID}")
def show_case(case_id: int) -> Any:
    """The case, its steps and its timeline; an OPD's intake token sees only its own cases.

    Another OPD's case answers 404, exactly as a missing one, so ids cannot be probed.
    """
    keys = client_keys("api")
    wait = throttle().retry_after(keys)
    if wait is not None:
        return too_many(wait)
    try:
        sender = identify_sender(services().settings, dict(request.headers.items()), b"",
                                 now=time.time(), allow_signature=False)
    except SignatureError as exc:
        throttle().failed(keys)
        return jsonify({"error": "unauthorized", "message": str(exc)}), 401
    with snapshot(services().engine) as conn:  # the row, steps and timeline agree
        case = cases.get_case(conn, case_id)
        if case is None or not sender.may_act_for(case.opd):
            abort(404, description=f"Kasus {case_id} tidak ditemukan.")
        steps = cases.list_case_steps(conn, case_id)
        trail = audit.list_audit(conn, case_id)
    return jsonify({
        "id": case.id, "case_key": case.case_key, "opd": case.opd,
        "nomor_surat": case.nomor_surat, "nama_aplikasi": case.nama_aplikasi,
        "status": case.status.value, "current_step": case.current_step,
        "redmine_issue_id": case.redmine_issue_id,
        "steps": [{"step": s.step, "state": s.state.value, "redmine_issue_id": s.redmine_issue_id,
                   "started_on": _iso(s.started_on), "due_on": _iso(s.due_on),
                   "completed_on": _iso(s.completed_on)}
                  for s in steps],
        "timeline": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                      "step_from": e.step_from, "step_to": e.step_to,
                      "journal_id": e.journal_id} for e in trail],
    })


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
