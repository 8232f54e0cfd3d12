"""``GET /api/cases/<id>``: a case's state and its audit trail (the intake's status URL)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from connector.signatures import SignatureError, verify_bearer
from connector.store import audit, cases
from connector.store.db import snapshot
from webhooks.context import services

blueprint = Blueprint("cases_api", __name__)
# Ids beyond a signed 64-bit integer are no row of ours; the store could not even look them up.
MAX_CASE_ID = 2**63 - 1
CASE_ID = f"<int(max={MAX_CASE_ID}):case_id>"


@blueprint.get(f"/api/cases/{CASE_ID}")
def show_case(case_id: int) -> Any:
    """The case, its steps and its timeline; the intake token is required."""
    token = services().settings.webhooks.intake_token
    try:
        verify_bearer(request.headers.get("Authorization"), token.reveal() if token else None)
    except SignatureError as exc:
        return jsonify({"error": "unauthorized", "message": str(exc)}), 401
    with snapshot(services().engine) as conn:  # the row, steps and timeline agree
        case = cases.get_case(conn, case_id)
        if case is None:
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
