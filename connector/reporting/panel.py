"""What the sop_connector plugin's panel shows on a case or step issue in Redmine.

Read-only, from the store and the SOP: the case's current step, its holders, due date and
hari kerja left, the loops so far, the documents the step expects, a link to the case on the
dashboard, and, on a step subtask, what completing it will do (the next step and who gets it,
or the decision's two branches).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.deadlines.rules import hari_kerja_left
from connector.services import Services
from connector.sop.model import Step
from connector.store import cases
from connector.store.schema import case_steps
from connector.store.schema import cases as case_rows
from connector.workflow.state import case_view
from connector.workflow.step_rules import allowed_logins


def case_of_issue(services: Services, issue_id: int) -> tuple[cases.Case, int | None] | None:
    """The case whose parent or step subtask is ``issue_id``, and the step (None: parent)."""
    with services.engine.connect() as conn:
        parent = conn.execute(select(case_rows.c.id).where(
            case_rows.c.redmine_issue_id == issue_id)).scalar()
        if parent is not None:
            case = cases.get_case(conn, parent)
            return (case, None) if case else None
        row = conn.execute(select(case_steps.c.case_id, case_steps.c.step).where(
            case_steps.c.redmine_issue_id == issue_id)).first()
        if row is None:
            return None
        case = cases.get_case(conn, row.case_id)
        return (case, int(row.step)) if case else None


def panel(services: Services, issue_id: int) -> dict[str, Any] | None:
    """The panel's data for ``issue_id``, or None when it belongs to no case."""
    found = case_of_issue(services, issue_id)
    if found is None:
        return None
    case, step_number = found
    with services.engine.connect() as conn:
        rows = {s.step: s for s in cases.list_case_steps(conn, case.id)}
        view = case_view(conn, case, services.calendar)
    current = services.sop.step(case.current_step) if case.current_step else None
    row = rows.get(current.number) if current else None
    due = row.due_on if row else None
    data: dict[str, Any] = {
        "case": {"id": case.id, "case_key": case.case_key, "nama_aplikasi": case.nama_aplikasi,
                 "opd": case.opd, "status": case.status.value,
                 "dashboard_url": f"{services.settings.server.public_url}/dashboard/cases/"
                                  f"{case.id}"},
        "current": None if current is None else {
            "step": current.number, "title": current.title, "role": current.role.label,
            "holders": list(allowed_logins(services, case, current)),
            "due_on": due.isoformat() if due else None,
            "hari_kerja_left": hari_kerja_left(services.calendar, services.today(), due)
            if due else None,
            "documents": list(current.outputs) if current.requires_document else []},
        "loops": {str(k): v for k, v in sorted(view.loops.items())},
        "step": None,
    }
    if step_number is not None:
        step = services.sop.step(step_number)
        state = rows[step_number].state.value if step_number in rows else None
        data["step"] = {"step": step.number, "title": step.title, "state": state,
                        "on_complete": on_complete(services, case, step)}
    return data


def on_complete(services: Services, case: cases.Case, step: Step) -> str:
    """In Indonesian: what completing ``step`` leads to."""
    if step.decision is not None:
        return (f"Ya: {_goes_to(services, case, step.decision.ya)}; "
                f"Tidak: {_goes_to(services, case, step.decision.tidak)}")
    if step.next is None:
        return "Kasus selesai."
    return _goes_to(services, case, step.next)


def _goes_to(services: Services, case: cases.Case, number: int) -> str:
    step = services.sop.step(number)
    who = ", ".join(allowed_logins(services, case, step)) or "-"
    return f"langkah {step.number} ({step.title}), untuk {step.role.label}: {who}"
