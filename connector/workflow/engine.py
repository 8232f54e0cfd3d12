"""The engine: given a case and what a person did in Redmine, decide what happens next.

Pure: no I/O, no clock, no Redmine. The SOP data says what follows each step; this module
adds the SOP's rules on top (only the step's role may complete it, a document step needs
its document, a decision reads ya/tidak from the closing status) and returns commands
that ``connector.workflow.apply`` carries out. An illegal move is refused with a command
that puts the subtask back and a note saying why, in Indonesian, for the person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from connector.calendar import WorkCalendar
from connector.sop.model import Automation, DocumentKind, Gate, Role, Sop, Step
from connector.workflow.paths import main_path, steps_between

SERVICE_ACTOR = "sop-connector"  # the actor of the steps the service performs itself


class Outcome(StrEnum):
    """How a step was completed."""

    DONE = "selesai"
    YA = "ya"
    TIDAK = "tidak"


@dataclass(frozen=True)
class CaseView:
    """What the engine needs to know about a case."""

    opd: str
    current_step: int
    team: tuple[str, ...] = ()
    loops: Mapping[int, int] = field(default_factory=dict)  # decision step -> times "tidak"
    spent: Mapping[int, int] = field(default_factory=dict)  # step -> hari kerja in past rounds
    # A step whose document is drawn up and waits to be known (``acknowledged_by``): who has
    # acknowledged it so far (role -> login). A step is in the mapping from the moment it waits.
    acknowledged: Mapping[int, Mapping[Role, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StepClosed:
    """Event: a person set a step's subtask to a closing status."""

    step: int
    status: str
    previous_status: str | None
    actor: str | None
    note: str
    on: date
    attachments: frozenset[str] = frozenset()
    team: tuple[str, ...] = ()  # the Tim Pengembang and "Tim: <fungsi>" fields, at step 4
    team_functions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # login -> fungsi
    missing_deliverables: tuple[str, ...] = ()  # the gate's checklist of what is missing
    findings: tuple[str, ...] = ()  # the Temuan Verifikasi field, read at step 6


@dataclass(frozen=True)
class Policy:
    """The configuration the rules depend on."""

    done_statuses: frozenset[str]
    reject_statuses: frozenset[str]
    active_status: str
    new_status: str
    roles: Mapping[Role, tuple[str, ...]]
    opd_teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overrides: frozenset[str] = frozenset()
    continue_cumulative: bool = True  # a rework continues the 35-hari-kerja clock
    automations: frozenset[Automation] = frozenset()  # the work the service can do itself
    findings_label: str = "Temuan Verifikasi"  # the findings field as people see it
    acknowledgement_days: int = 5  # hari kerja for the parties to know a drawn-up document
    # Steps whose document is issued for electronic signing ([signing]) and that a person's
    # close does not complete: the step waits for the last signature (7: the signed letter).
    awaits_signature: frozenset[int] = frozenset()


# -- commands (imperative names) -----------------------------------------------------------

@dataclass(frozen=True)
class RefuseCompletion:
    """Put the subtask back to ``restore_status`` with a note saying who or what is missing."""

    step: int
    restore_status: str
    note: str


@dataclass(frozen=True)
class CompleteStep:
    """Record the step as done, with its outcome (``by_service``: close its subtask too)."""

    step: int
    outcome: Outcome
    actor: str | None
    note: str
    by_service: bool = False
    findings: tuple[str, ...] = ()  # what a "tidak" found missing (step 6), as chosen


@dataclass(frozen=True)
class DrawUpDocuments:
    """Produce the step's documents and attach them to the case (7: refusal, 17: BA)."""

    step: int
    kinds: tuple[DocumentKind, ...]


@dataclass(frozen=True)
class ProvisionRepository:
    """Step 8: create the project, repository, wiki, members, milestone and hook."""

    step: int


@dataclass(frozen=True)
class ActivateStep:
    """Make a step current: status, holder, start and due dates (creating it if needed)."""

    step: int
    assignee: str | None
    start: date
    due: date | None


@dataclass(frozen=True)
class ReopenStep:
    """Put a step of a loop back to not-started (its earlier work is kept in the journal)."""

    step: int


@dataclass(frozen=True)
class CancelStep:
    """A step that will never run because the case was refused."""

    step: int


@dataclass(frozen=True)
class RecordTeam:
    """The development team recorded at step 4 holds the Tim Pengembang steps from now on."""

    logins: tuple[str, ...]
    functions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # login -> fungsi


@dataclass(frozen=True)
class CountLoop:
    """A decision said "tidak" and sent the case back: a re-plan (11) or a rework (14)."""

    decision_step: int
    back_to: int
    times: int


@dataclass(frozen=True)
class AwaitAcknowledgement:
    """The step's document is drawn up: the step stays open, "menunggu tanda tangan", held by
    the first party still to know it; ``due`` is set when the wait begins (None: kept)."""

    step: int
    pending: tuple[Role, ...]
    assignee: str | None
    due: date | None


@dataclass(frozen=True)
class RecordAcknowledgement:
    """A party closed the waiting step with its own account: it knows the document."""

    step: int
    role: Role
    actor: str


@dataclass(frozen=True)
class CloseCase:
    """The procedure reached its end: ``accepted`` (17) or refused (7)."""

    accepted: bool


Command = (RefuseCompletion | CompleteStep | ActivateStep | ReopenStep | CancelStep | RecordTeam
           | CountLoop | CloseCase | DrawUpDocuments | ProvisionRepository
           | AwaitAcknowledgement | RecordAcknowledgement)


@dataclass(frozen=True)
class Decision:
    """The commands for one event, in the order to carry them out."""

    commands: tuple[Command, ...]

    @property
    def refused(self) -> bool:
        """True when the event was refused and the case does not move."""
        return any(isinstance(c, RefuseCompletion) for c in self.commands)


def holders(step: Step, case: CaseView, policy: Policy) -> tuple[str, ...]:
    """Logins who may complete ``step`` of this case."""
    if step.role is Role.TIM_PENGEMBANG and case.team:
        return case.team
    if step.role is Role.TIM_TEKNIS_OPD and policy.opd_teams.get(case.opd):
        return policy.opd_teams[case.opd]
    return policy.roles.get(step.role, ())


def party_logins(role: Role, case: CaseView, policy: Policy) -> tuple[str, ...]:
    """Logins who may acknowledge for ``role``: the OPD's side is the OPD's own accounts."""
    if role in (Role.OPD_PEMOHON, Role.TIM_TEKNIS_OPD) and policy.opd_teams.get(case.opd):
        return policy.opd_teams[case.opd]
    return policy.roles.get(role, ())


def service_draws(step: Step, policy: Policy) -> bool:
    """True when the service draws up the step's documents itself ([documents] is set)."""
    return bool(step.documents) and Automation.BERITA_ACARA in policy.automations


def as_checked(step: Step, policy: Policy) -> Step:
    """The step as a person's completion is judged: a document the service draws up itself
    is not asked of the person (``requires_document`` holds when nobody else draws it up)."""
    return replace(step, requires_document=False) if service_draws(step, policy) else step


def decide(sop: Sop, case: CaseView, event: StepClosed, policy: Policy,
           calendar: WorkCalendar) -> Decision:
    """The commands that follow from ``event``; a refusal when the SOP does not allow it."""
    step = sop.step(event.step)
    if step.number in case.acknowledged and step.number == case.current_step:
        return _acknowledgement(sop, case, step, event, policy, calendar)
    refusal = _refusal(as_checked(step, policy), case, event, policy, sop.header.peringatan)
    if refusal is not None:
        return Decision((RefuseCompletion(step.number, _restore(event, policy), refusal),))
    if step.number in policy.awaits_signature and not step.acknowledged_by:
        # Issued for signing (7): the step stays open until the last signature completes it.
        return Decision((DrawUpDocuments(step.number, step.documents),
                         AwaitAcknowledgement(step.number, (), event.actor, None)))
    if step.acknowledged_by:  # drawn up by hand: now the parties must know it
        drawn = [DrawUpDocuments(step.number, step.documents)] if step.documents else []
        return Decision((*drawn, _await(step, case, policy, calendar, event.on, {})))
    outcome = _outcome(step, event, policy)
    findings = event.findings if step.findings and outcome is Outcome.TIDAK else ()
    commands: list[Command] = [CompleteStep(step.number, outcome, event.actor, event.note,
                                            findings=findings)]
    if step.records_team:
        commands.append(RecordTeam(event.team, event.team_functions))
        case = CaseView(case.opd, case.current_step, event.team or case.team, case.loops,
                        case.spent)
    if step.documents:
        commands.append(DrawUpDocuments(step.number, step.documents))
    target = _target(step, outcome)
    if target is None:
        return Decision((*commands, CloseCase(accepted=step.number in main_path(sop))))
    commands += _moves(sop, case, step, target)
    commands += _enter(sop, case, target, policy, calendar, event.on)
    return Decision(tuple(commands))


def _enter(sop: Sop, case: CaseView, target: int, policy: Policy, calendar: WorkCalendar,
           on: date) -> list[Command]:
    """Activate ``target``; a step the service performs itself is done and left at once."""
    commands: list[Command] = []
    while True:
        step = sop.step(target)
        commands.append(_activate(step, case, policy, calendar, on))
        if step.automation is None or step.automation not in policy.automations:
            return commands
        if step.automation is Automation.PROVISION_REPOSITORY:
            commands.append(ProvisionRepository(step.number))
        else:
            commands.append(DrawUpDocuments(step.number, step.documents))
        if step.acknowledged_by:
            commands.append(_await(step, case, policy, calendar, on, {}))
            return commands
        commands.append(CompleteStep(step.number, Outcome.DONE, SERVICE_ACTOR, "", True))
        if step.next is None:
            commands.append(CloseCase(accepted=step.number in main_path(sop)))
            return commands
        target = step.next


def _kelengkapan(refusal: str, peringatan: tuple[str, ...]) -> str:
    """A kelengkapan refusal with the SOP's own Peringatan: incomplete records are what the
    SOP warns will make the oversight of development fail."""
    if not peringatan:
        return refusal
    return refusal + "\n\n" + "\n".join(f"Peringatan SOP: {item}" for item in peringatan)


def _await(step: Step, case: CaseView, policy: Policy, calendar: WorkCalendar, on: date,
           done: Mapping[Role, str]) -> AwaitAcknowledgement:
    """Wait for the parties who have not acknowledged yet; the clock starts with the wait."""
    pending = tuple(r for r in step.acknowledged_by if r not in done)
    who = party_logins(pending[0], case, policy)
    due = None if done else calendar.due_date(on, policy.acknowledgement_days, "hari_kerja")
    return AwaitAcknowledgement(step.number, pending, who[0] if who else None, due)


def _acknowledgement(sop: Sop, case: CaseView, step: Step, event: StepClosed, policy: Policy,
                     calendar: WorkCalendar) -> Decision:
    """A close of a step that waits to be known: a party's acknowledgement, or refused."""
    done = case.acknowledged[step.number]
    pending = [r for r in step.acknowledged_by if r not in done]
    role = next((r for r in pending if event.actor in party_logins(r, case, policy)), None)
    note = None
    if not step.acknowledged_by:  # waits for the electronic signatures only (7)
        note = (f"Langkah {step.number} menunggu tanda tangan elektronik atas dokumennya; "
                f"langkah ini selesai sendiri setelah tanda tangan terakhir masuk. "
                f"Penutupan oleh {event.actor or 'pengguna tidak dikenal'} dibatalkan.")
    elif event.status not in policy.done_statuses:
        note = (f"Langkah {step.number} menunggu tanda tangan, bukan keputusan: pihak yang "
                f"mengetahui menutup subtugas ini dengan status "
                f"{sorted(policy.done_statuses)[0]}. Status dikembalikan.")
    elif role is None:
        waiting = "; ".join(f"{r.label} ({', '.join(party_logins(r, case, policy)) or '-'})"
                            for r in pending)
        known = "; ".join(f"{r.label} ({login})" for r, login in done.items())
        note = (f"Langkah {step.number} menunggu tanda tangan dari {waiting}, masing-masing "
                f"dengan akunnya sendiri. Penutupan oleh "
                f"{event.actor or 'pengguna tidak dikenal'} dibatalkan."
                + (f" Sudah diketahui: {known}." if known else ""))
    if note is not None:
        return Decision((RefuseCompletion(step.number, _restore(event, policy), note),))
    assert role is not None and event.actor is not None
    commands: list[Command] = [RecordAcknowledgement(step.number, role, event.actor)]
    if len(pending) > 1:
        return Decision((*commands, _await(step, case, policy, calendar, event.on,
                                           {**done, role: event.actor})))
    commands.append(CompleteStep(step.number, Outcome.DONE, event.actor, event.note))
    if step.next is None:
        return Decision((*commands, CloseCase(accepted=step.number in main_path(sop))))
    commands += _moves(sop, case, step, step.next)
    commands += _enter(sop, case, step.next, policy, calendar, event.on)
    return Decision(tuple(commands))


def signed_completion(sop: Sop, case: CaseView, step_number: int,
                      signers: Mapping[Role, str], note: str, policy: Policy,
                      calendar: WorkCalendar, on: date) -> Decision:
    """Every block of a waiting step's document is signed (issue 17): each signature counts
    as its party's acknowledgement (``signers``: role -> who signed), any party still pending
    is acknowledged by the complete signed document, and the service completes the step."""
    step = sop.step(step_number)
    done = case.acknowledged.get(step.number, {})
    commands: list[Command] = [
        RecordAcknowledgement(step.number, role, signers.get(role, SERVICE_ACTOR))
        for role in step.acknowledged_by if role not in done]
    commands.append(CompleteStep(step.number, Outcome.DONE, SERVICE_ACTOR, note, True))
    if step.next is None:
        return Decision((*commands, CloseCase(accepted=step.number in main_path(sop))))
    commands += _moves(sop, case, step, step.next)
    commands += _enter(sop, case, step.next, policy, calendar, on)
    return Decision(tuple(commands))


def _refusal(step: Step, case: CaseView, event: StepClosed, policy: Policy,
             peringatan: tuple[str, ...] = ()) -> str | None:
    """Why this completion is not allowed, in Indonesian; None when it is.

    A missing kelengkapan (document, deliverables, team) also quotes the SOP's Peringatan.
    """
    if step.number != case.current_step:
        return (f"Langkah {step.number} belum/tidak sedang berjalan; langkah aktif kasus ini "
                f"adalah langkah {case.current_step}. Status dikembalikan.")
    allowed = holders(step, case, policy)
    if event.actor not in allowed and event.actor not in policy.overrides:
        who = ", ".join(allowed) or "(belum dikonfigurasi)"
        return (f"Langkah {step.number} hanya dapat diselesaikan oleh {step.role.label}: "
                f"{who}. Perubahan oleh {event.actor or 'pengguna tidak dikenal'} dibatalkan.")
    if event.status in policy.reject_statuses and step.decision is None:
        return (f"Langkah {step.number} bukan langkah keputusan; selesaikan dengan status "
                f"{sorted(policy.done_statuses)[0]}.")
    if step.requires_document and (missing := missing_outputs(step, event.attachments)):
        return _kelengkapan(_missing_outputs_note(step, missing), peringatan)
    if step.gate is Gate.DELIVERABLES and event.missing_deliverables:
        # One checklist line per output, so Redmine shows a list rather than one paragraph.
        checklist = "\n".join(event.missing_deliverables)
        return _kelengkapan(f"Deliverable belum lengkap, langkah {step.number} belum dapat "
                            f"diselesaikan:\n\n{checklist}\n\nLengkapi di repositori (docs/) "
                            "atau wiki, lalu selesaikan kembali.", peringatan)
    if step.findings and event.status in policy.reject_statuses and (
            refused := _findings_refusal(step, event, policy)):
        return refused
    if step.records_team and not (event.team or case.team):
        return _kelengkapan("Tim Pengembang belum diisi: pilih anggota tim pada kolom 'Tim "
                            "Pengembang' subtugas ini, lalu selesaikan kembali.", peringatan)
    return None


def _findings_refusal(step: Step, event: StepClosed, policy: Policy) -> str | None:
    """A "tidak" at a findings step (6) names what is missing, from the step's choices."""
    choices = ", ".join(step.findings)
    unknown = [f for f in event.findings if f not in step.findings]
    if event.findings and not unknown:
        return None
    what = (f"berisi nilai yang tidak dikenal ({', '.join(unknown)})" if unknown
            else "belum diisi")
    return (f"Kolom '{policy.findings_label}' {what}: pilih yang tidak tersedia ({choices}) "
            f"pada subtugas ini, lalu selesaikan kembali langkah {step.number} dengan status "
            f"{event.status}.")


def slug(text: str) -> str:
    """``text`` in lower case, each run of other characters than letters and digits a "-"."""
    return "-".join(re.findall(r"[^\W_]+", text.casefold()))


def output_file_matches(output: str, filename: str) -> bool:
    """The naming rule of a document step's outputs: the file name, as a slug, contains the
    output's slug ("Jadwal_Pengembangan Aplikasi v2.pdf" is *Jadwal Pengembangan Aplikasi*)."""
    return f"-{slug(output)}-" in f"-{slug(filename)}-"


def missing_outputs(step: Step, attachments: frozenset[str]) -> tuple[str, ...]:
    """The outputs of a document step with no file in ``attachments`` (this round's files).

    A step with one output (or none named) needs any file; with several, one file per output,
    matched by ``output_file_matches``.
    """
    if len(step.outputs) <= 1:
        return () if attachments else (step.outputs or ("dokumen langkah ini",))
    return tuple(o for o in step.outputs
                 if not any(output_file_matches(o, name) for name in attachments))


def naming_rule(step: Step) -> str:
    """How the files of a document step must be named, in Indonesian (empty for one output)."""
    if len(step.outputs) <= 1:
        return ""
    names = ", ".join(f"{slug(o)}.pdf" for o in step.outputs)
    return ("Lampirkan satu berkas untuk setiap keluaran; nama berkas memuat nama keluaran "
            f"(huruf kecil, spasi dan tanda baca menjadi \"-\"), misalnya {names}. "
            "Hanya berkas yang dilampirkan pada putaran ini yang dihitung.")


def _missing_outputs_note(step: Step, missing: tuple[str, ...]) -> str:
    if len(step.outputs) <= 1:
        return (f"Kelengkapan belum ada: lampirkan dokumen ({'; '.join(missing)}) pada "
                "subtugas ini, lalu selesaikan kembali.")
    return (f"Kelengkapan belum ada: keluaran {'; '.join(missing)} belum dilampirkan pada "
            f"putaran ini. {naming_rule(step)} Lampirkan, lalu selesaikan kembali.")


def _restore(event: StepClosed, policy: Policy) -> str:
    previous = event.previous_status
    closing = policy.done_statuses | policy.reject_statuses
    return previous if previous and previous not in closing else policy.active_status


def _outcome(step: Step, event: StepClosed, policy: Policy) -> Outcome:
    if step.decision is None:
        return Outcome.DONE
    return Outcome.TIDAK if event.status in policy.reject_statuses else Outcome.YA


def _target(step: Step, outcome: Outcome) -> int | None:
    if step.decision is not None:
        return step.decision.tidak if outcome is Outcome.TIDAK else step.decision.ya
    return step.next


def _moves(sop: Sop, case: CaseView, step: Step, target: int) -> list[Command]:
    """Loop back (re-plan, rework) or leave the main path (refusal) before activating."""
    if target <= step.number:
        times = case.loops.get(step.number, 0) + 1
        reopen = [ReopenStep(n) for n in steps_between(sop, target + 1, step.number)]
        return [CountLoop(step.number, target, times), *reopen]
    if target not in main_path(sop):
        return [CancelStep(n) for n in main_path(sop) if n > step.number]
    return []


def _activate(step: Step, case: CaseView, policy: Policy, calendar: WorkCalendar,
              on: date) -> ActivateStep:
    who = holders(step, case, policy)
    return ActivateStep(step.number, who[0] if who else None, on,
                        due_on(step, case, policy, calendar, on))


def due_on(step: Step, case: CaseView, policy: Policy, calendar: WorkCalendar,
           on: date) -> date | None:
    """When a step activated on ``on`` is due; a cumulative standard counts past rounds.

    Step 12 is "maksimal 35 hari kerja" for the whole development: after a rework (14
    tidak) the days already spent are deducted, unless the office chose to restart the
    clock (``[sla] development_clock = "restart"``). With nothing left it is due at once.
    """
    if step.time is None:
        return None
    amount = step.time.amount
    if step.time.cumulative and policy.continue_cumulative:
        amount -= case.spent.get(step.number, 0)
        if amount <= 0:
            return on
    return calendar.due_date(on, amount, step.time.unit.value)
