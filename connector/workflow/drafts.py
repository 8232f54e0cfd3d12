"""The subtask of an SOP step, and the key that finds it again: ``<case key>#<step>``.

Intake creates the subtasks of the main path up front; the workflow creates a step reached
only by a branch (7) when the branch is taken. Both draw them up here.
"""

from __future__ import annotations

from datetime import date

from connector.rendering import redmine_env
from connector.services import Services
from connector.sop.model import Step
from connector.store import cases
from connector.tracker import CaseField, IssueDraft
from connector.workflow.engine import naming_rule
from connector.workflow.step_rules import rule_fields


def step_key(case_key: str, number: int) -> str:
    """The key of a step's subtask: the case key and the step number."""
    return f"{case_key}#{number:02d}"


def step_draft(services: Services, case: cases.Case, parent_id: int, step: Step, *,
               status: str, assignee: str | None = None, start: date | None = None,
               due: date | None = None) -> IssueDraft:
    """The subtask of one SOP step of a case."""
    context = {"step": step, "sop": services.sop, "follows": _follows(step),
               "kelengkapan": kelengkapan(step, services.settings.standar_tik_url),
               "naming": naming_rule(step) if step.requires_document else "",
               "findings_label": services.tracker.field_label(CaseField.VERIFICATION_FINDINGS)}
    return IssueDraft(
        key=step_key(case.case_key, step.number), kind="step",
        subject=f"[{step.number:02d}] {step.title} — {case.nama_aplikasi}",
        description=redmine_env(services.settings.redmine.text_formatting).get_template(
            "redmine/step_description.j2").render(**context),
        status=status, parent_id=parent_id, assignee_login=assignee,
        start_date=start, due_date=due,
        fields={CaseField.STEP_NUMBER: str(step.number), **rule_fields(services, case, step)},
    )


STANDAR_TIK = "Standarisasi Pembangunan dan Pengembangan TIK"
"""How the SOP names the standard step 9 refers to (its kelengkapan, "... Pemkab Sumbawa")."""


def kelengkapan(step: Step, standar_tik_url: str | None) -> list[str]:
    """The step's kelengkapan as the SOP names them; the TIK standard with its address when
    ``[sop] standar_tik_url`` gives one (Redmine links a bare URL itself)."""
    return [f"{item} ({standar_tik_url})" if standar_tik_url and item.startswith(STANDAR_TIK)
            else item for item in step.inputs]


def _follows(step: Step) -> str:
    if step.decision is not None:
        return f"ya: langkah {step.decision.ya}; tidak: langkah {step.decision.tidak}"
    return "selesai" if step.next is None else f"langkah {step.next}"


def parse_step_key(key: str) -> tuple[str, int] | None:
    """``(case key, step number)`` of a step subtask's key; None for any other issue."""
    case_key, sep, number = key.rpartition("#")
    # isdigit() alone admits "²", which int() refuses; the keys we write use ASCII digits.
    return (case_key, int(number)) if sep and number.isascii() and number.isdigit() else None
