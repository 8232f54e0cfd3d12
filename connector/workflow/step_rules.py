"""What a step subtask needs before it may be closed, written where the Redmine plugin reads it.

The service stays the brain: on each step subtask it writes the *Aturan Langkah* field, one
``key: value`` per line, and the sop_connector plugin refuses a closing status change that
breaks it, in the form and over REST (422), before anything is committed:

    langkah: 5
    peran: Kepala Seksi Aplikasi
    boleh: kasi, superuser
    dokumen: Nota Dinas; Surat Disposisi
    keluaran: nota-dinas; surat-disposisi
    berkas_sejak: 2026-03-16T02:00:00+00:00
    tim_pengembang: wajib
    temuan: wajib_jika_tidak
    status_tidak: Rejected

``boleh`` lists the logins of the role (the development team once it is recorded, the OPD's
own technical team) and the override logins. ``dokumen`` is present when the SOP asks for a
document; with it ``keluaran`` (the outputs' slugs, ``engine.slug``) when it names several:
one file per output, its name containing the slug (``engine.output_file_matches``); and
``berkas_sejak`` in a later round of a loop: only files attached after that time (Redmine's
time of the step's last completion, in whole seconds, as ``evidence.round_evidence``) count.
``tim_pengembang`` is on the step that forms the team; ``temuan`` (with ``status_tidak``, the
closing statuses that mean *tidak*) on the decision whose *tidak* must fill the *Temuan
Verifikasi* field (step 6). A step the service performs
itself gets no rules (it is closed by the service). The engine's refusal with a put-back note
stays the safety net for Redmines without the plugin; the same rules, so it never fires there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connector.services import Services
from connector.sop.model import Role, Step
from connector.store import cases
from connector.tracker import CaseField, team_and_functions, team_function_key
from connector.workflow.engine import CaseView, as_checked, party_logins, slug
from connector.workflow.policy import policy_for
from connector.workflow.state import case_view

FIELD = CaseField.STEP_RULES  # the adapter names it in Redmine (*Aturan Langkah*)


def allowed_logins(services: Services, case: cases.Case, step: Step) -> tuple[str, ...]:
    """Who may complete ``step`` of ``case``: as ``engine.holders``, then the overrides."""
    settings = services.settings
    team = _recorded_team(services, case) if step.role is Role.TIM_PENGEMBANG else ()
    holders = team or settings.logins_for(step.role, case.opd)
    return tuple(dict.fromkeys((*holders, *settings.role_overrides)))


def rules_text(step: Step, allowed: tuple[str, ...], tidak: tuple[str, ...] = (),
               since: datetime | None = None, *, team_fields: tuple[str, ...] = ()) -> str:
    """The field's text for ``step``; the plugin splits it on lines and the first colon.

    ``tidak``: the closing statuses that mean *tidak* (a findings step requires its findings
    with them); ``since``: when a document step's current round began. ``team_fields`` are
    the Redmine names of the per-function team fields (*Tim: Programmer* ...): at the team
    step, one of them filled is as good as *Tim Pengembang* filled.
    """
    lines = [f"langkah: {step.number}", f"peran: {step.role.label}",
             f"boleh: {', '.join(allowed)}"]
    if step.requires_document:
        lines.append(f"dokumen: {'; '.join(step.outputs) or 'dokumen langkah ini'}")
        if len(step.outputs) > 1:
            lines.append(f"keluaran: {'; '.join(slug(o) for o in step.outputs)}")
        if since is not None:
            lines.append(f"berkas_sejak: {since.astimezone(UTC).isoformat(timespec='seconds')}")
    if step.records_team:
        lines.append("tim_pengembang: wajib")
        if team_fields:
            lines.append(f"tim_fungsi: {'; '.join(team_fields)}")
    if step.findings and tidak:
        lines += ["temuan: wajib_jika_tidak", f"status_tidak: {', '.join(tidak)}"]
    return "\n".join(lines)


def team_fields(services: Services, fields: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """``team`` and ``team_functions`` of a ``StepClosed`` from a subtask's fields: the union
    of *Tim Pengembang* and the SOP's per-function fields, and each member's functions."""
    team, functions = team_and_functions(fields, services.sop.header.kualifikasi_fungsi)
    return {"team": team, "team_functions": functions}


def rule_fields(services: Services, case: cases.Case, step: Step,
                since: datetime | None = None) -> dict[str, str]:
    """``{FIELD: text}`` for a step a person completes; ``{}`` for one the service does.

    ``since``: when a document step's current round began (its last completion), if it had one.
    """
    policy = policy_for(services)
    if step.automation is not None and step.automation in policy.automations:
        return {}
    labels = tuple(services.tracker.field_label(team_function_key(f))
                   for f in services.sop.header.kualifikasi_fungsi) if step.records_team else ()
    return {FIELD: rules_text(as_checked(step, policy), allowed_logins(services, case, step),
                              tuple(services.settings.redmine.reject_statuses), since,
                              team_fields=labels)}


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
