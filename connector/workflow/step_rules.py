"""What a step subtask needs before it may be closed, written where the Redmine plugin reads it.

The service stays the brain: on each step subtask it writes the *Aturan Langkah* field, one
``key: value`` per line, and the sop_connector plugin refuses a closing status change that
breaks it, in the form and over REST (422), before anything is committed:

    langkah: 5
    peran: Kepala Seksi Aplikasi
    boleh: kasi, superuser
    dokumen: Nota Dinas; Surat Disposisi
    tim_pengembang: wajib

``boleh`` lists the logins of the role (the development team once it is recorded, the OPD's
own technical team) and the override logins; ``dokumen`` is present when the SOP asks for a
document, ``tim_pengembang`` on the step that forms the team. A step the service performs
itself gets no rules (it is closed by the service). The engine's refusal with a put-back note
stays the safety net for Redmines without the plugin; the same rules, so it never fires there.
"""

from __future__ import annotations

from connector.services import Services
from connector.sop.model import Role, Step
from connector.store import cases
from connector.tracker import CaseField
from connector.workflow.engine import CaseView, as_checked, party_logins
from connector.workflow.policy import policy_for
from connector.workflow.state import case_view

FIELD = CaseField.STEP_RULES  # the adapter names it in Redmine (*Aturan Langkah*)


def allowed_logins(services: Services, case: cases.Case, step: Step) -> tuple[str, ...]:
    """Who may complete ``step`` of ``case``: as ``engine.holders``, then the overrides."""
    settings = services.settings
    team = _recorded_team(services, case) if step.role is Role.TIM_PENGEMBANG else ()
    holders = team or settings.logins_for(step.role, case.opd)
    return tuple(dict.fromkeys((*holders, *settings.role_overrides)))


def rules_text(step: Step, allowed: tuple[str, ...]) -> str:
    """The field's text for ``step``; the plugin splits it on lines and the first colon."""
    lines = [f"langkah: {step.number}", f"peran: {step.role.label}",
             f"boleh: {', '.join(allowed)}"]
    if step.requires_document:
        lines.append(f"dokumen: {'; '.join(step.outputs) or 'dokumen langkah ini'}")
    if step.records_team:
        lines.append("tim_pengembang: wajib")
    return "\n".join(lines)


def rule_fields(services: Services, case: cases.Case, step: Step) -> dict[str, str]:
    """``{FIELD: text}`` for a step a person completes; ``{}`` for one the service does."""
    policy = policy_for(services)
    if step.automation is not None and step.automation in policy.automations:
        return {}
    return {FIELD: rules_text(as_checked(step, policy), allowed_logins(services, case, step))}


def acknowledgement_fields(services: Services, case: cases.Case, step: Step,
                           pending: tuple[Role, ...]) -> dict[str, str]:
    """``{FIELD: text}`` while ``step`` waits to be known: only the parties still to know it
    may close it, each with their own account (no override: the acknowledgement is theirs)."""
    view = CaseView(opd=case.opd, current_step=step.number)
    policy = policy_for(services)
    logins = tuple(dict.fromkeys(x for r in pending for x in party_logins(r, view, policy)))
    parties = "; ".join(r.label for r in pending)
    return {FIELD: "\n".join([f"langkah: {step.number}",
                              f"peran: pihak yang mengetahui ({parties})",
                              f"boleh: {', '.join(logins)}"])}


def _recorded_team(services: Services, case: cases.Case) -> tuple[str, ...]:
    with services.engine.connect() as conn:
        return case_view(conn, case, services.calendar).team
