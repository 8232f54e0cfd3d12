"""``GET /api/redmine/issues/<id>/panel``: the data of the sop_connector plugin's issue panel.

The plugin sends ``Authorization: Bearer <[webhooks] redmine_secret>`` (the secret it signs
its hints with); anything else answers 401. An issue of no case answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from connector.reporting.panel import panel
from connector.signatures import SignatureError, verify_bearer
from webhooks.context import services

blueprint = Blueprint("plugin_panel", __name__)
MAX_ISSUE_ID = 2**63 - 1


@blueprint.get(f"/api/redmine/issues/<int(max={MAX_ISSUE_ID}):issue_id>/panel")
def issue_panel(issue_id: int) -> Any:
    """The case and step an issue belongs to, for the panel on its Redmine page."""
    secret = services().settings.webhooks.redmine_secret
    try:
        verify_bearer(request.headers.get("Authorization"),
                      secret.reveal() if secret is not None else None)
    except SignatureError as exc:
        return jsonify({"error": "unauthorized", "message": str(exc)}), 401
    data = panel(services(), issue_id)
    if data is None:
        return jsonify({"error": "not_found",
                        "message": f"Masalah {issue_id} bukan bagian dari kasus SOP."}), 404
    return jsonify(data)
