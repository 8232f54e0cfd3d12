"""The case's workflow state as derived from its audit trail."""

from __future__ import annotations

from connector.services import Services
from connector.store import audit, cases
from connector.store.audit import Delivery
from connector.workflow.state import case_view


def _case(services: Services) -> cases.Case:
    with services.engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key="DINKES:1", opd="DINKES", nomor_surat="1", nama_aplikasi="A",
            letter={}, attachments=[], inbox=Delivery("t", "k", {}, b""))
    case = cases.get_case(services.engine, result.case_id)
    assert case is not None
    return case


def test_days_spent_in_step_12_add_up_over_rounds(services: Services) -> None:
    """Two rounds of development: 16-20 March 2026 and 6-10 April 2026.

    The first round: activated Mon 16 March, completed Thu 26 March. Working days after the
    16th up to the 26th: 17, 25, 26 (18-24 are Nyepi, Idul Fitri and their cuti bersama) = 3.
    The second: activated Mon 6 April, completed Fri 10 April = 4 (7, 8, 9, 10).
    """
    case = _case(services)
    rounds = [("2026-03-16", "2026-03-26"), ("2026-04-06", "2026-04-10")]
    with services.engine.begin() as conn:
        for start, end in rounds:
            audit.append_audit(conn, case.id, "s", "step_activated", step_to=12,
                               detail={"start": start})
            audit.append_audit(conn, case.id, "dev1", "step_completed", step_from=12,
                               detail={"on": end})
        audit.append_audit(conn, case.id, "s", "step_activated", step_to=12,
                           detail={"start": "2026-04-20"})  # the third round is running
        audit.append_audit(conn, case.id, "kasi", "team_recorded",
                           detail={"logins": ["dev2"]})
        audit.append_audit(conn, case.id, "opd1", "loop", step_from=14, step_to=12)
        view = case_view(conn, case, services.calendar)
    assert view.spent == {12: 7}
    assert view.team == ("dev2",) and view.loops == {14: 1}
