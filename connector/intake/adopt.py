"""Adopt a case the secretariat opened by hand in Redmine (SOP step 1 from inside Redmine).

The secretariat may create an issue with the case tracker in the SOP project, attach the
scanned letter and fill the custom fields *Nomor Surat*, *Tanggal Surat*, *OPD* and *Nama
Aplikasi*. The poller (or a webhook hint) finds it; the service writes the case key on it
and records the case, whose ``open_case`` job then finds this issue by its key and adds the
step subtasks, exactly as for a letter received over the API: no second parent is created.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from connector.rendering import inline_literal
from connector.services import Services
from connector.store import cases
from connector.store.audit import Delivery
from connector.tracker import CaseField, IssueChanges, IssueSnapshot
from connector.workflow.notes import note_once

LETTER_FIELDS = (CaseField.LETTER_NUMBER, CaseField.LETTER_DATE, CaseField.OPD,
                 CaseField.APPLICATION_NAME)
ADOPTED = "redmine"  # the letter's "sumber" when the case was adopted from an issue


def adopted(case: cases.Case) -> bool:
    """Whether the case was adopted from an issue opened by hand (its parent exists already)."""
    return case.letter.get("sumber") == ADOPTED


def adopt_if_new_letter(services: Services, snap: IssueSnapshot) -> None:
    """Adopt the issue when it is a new letter opened by hand (not yet any case's parent)."""
    if is_letter_issue(services, snap) and not _is_case_parent(services, snap):
        adopt_case(services, snap)


def _is_case_parent(services: Services, snap: IssueSnapshot) -> bool:
    """The issue is already a case's parent: a poll of it is no new letter (no repeat)."""
    case = cases.find_case_by_key(services.engine, snap.issue.key) if snap.issue.key else None
    return case is not None and case.redmine_issue_id == snap.issue.id


def is_letter_issue(services: Services, snap: IssueSnapshot) -> bool:
    """A case to adopt: plainly a new letter, never a piece of a case's history.

    Only an issue of the case tracker, open, with no parent and no step number, whose letter
    fields are filled, is a new letter (issue 15). One that already carries an SOP key is
    adopted only to finish an adoption cut short (the key written, the store not yet): it
    names this very letter, the store does not know it and no step subtask exists. Any other
    keyed issue is a case the store has lost or not reached yet: ``cases rebuild`` restores it
    from Redmine, adopting it would reopen a finished case at step 2.
    """
    issue = snap.issue
    redmine = services.settings.redmine
    closed = issue.status in {*redmine.done_statuses, *redmine.reject_statuses}
    plain = issue.kind == "case" and issue.parent_id is None and not closed \
        and not _value(snap, CaseField.STEP_NUMBER)
    if not plain or not _value(snap, CaseField.LETTER_NUMBER) or not _value(snap, CaseField.OPD):
        return False
    return not issue.key or _adoption_cut_short(services, snap)


def _adoption_cut_short(services: Services, snap: IssueSnapshot) -> bool:
    """The key we write on adopting is there, but the store and the subtasks are not."""
    key = cases.case_key_for(_value(snap, CaseField.OPD), _value(snap, CaseField.LETTER_NUMBER))
    return snap.issue.key == key and cases.find_case_by_key(services.engine, key) is None \
        and not services.tracker.steps_of(snap.issue.id)


def adopt_case(services: Services, snap: IssueSnapshot) -> int | None:
    """Record the issue as a case (once) and queue its opening; None when refused."""
    problems = _problems(services, snap)
    if problems:
        note_once(services.tracker, snap.issue.id,
                  "Permohonan belum dapat diproses sop-connector:\n"
                  + "\n".join(f"* {p}" for p in problems))
        return None
    opd, nomor = _value(snap, CaseField.OPD), _value(snap, CaseField.LETTER_NUMBER)
    key = cases.case_key_for(opd, nomor)
    known = cases.find_case_by_key(services.engine, key)
    if known is not None and known.redmine_issue_id not in (None, snap.issue.id):
        lit = _literal(services)
        note_once(services.tracker, snap.issue.id, f"Surat {lit(nomor)} dari {lit(opd)} sudah "
                  f"tercatat sebagai kasus #{known.redmine_issue_id}; permohonan ini tidak "
                  "diproses lagi.")
        return None
    if snap.issue.key != key:
        services.tracker.change_issue(snap.issue.id, IssueChanges(
            fields={CaseField.SOP_KEY: key},
            notes=f"Diterima sop-connector sebagai kasus {_literal(services)(key)}."))
    with services.engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key=key, opd=opd.upper(), nomor_surat=nomor,
            nama_aplikasi=_value(snap, CaseField.APPLICATION_NAME), letter=_letter(snap),
            attachments=[], clock=services.clock,
            inbox=Delivery("redmine", f"redmine-issue:{snap.issue.id}", {}, b""))
    return result.case_id


def value_of(snap: IssueSnapshot, key: str) -> str:
    """A letter field of a case issue (``letter_number``, ``opd``...), trimmed."""
    return _value(snap, key)


def letter_of(snap: IssueSnapshot) -> dict[str, object]:
    """The letter as the store keeps it, read from a case issue's fields."""
    return _letter(snap)


def _value(snap: IssueSnapshot, key: str) -> str:
    values = snap.fields.get(key) or ("",)
    return (values[0] or "").strip()


def _problems(services: Services, snap: IssueSnapshot) -> list[str]:
    label = services.tracker.field_label
    missing = [label(k) for k in LETTER_FIELDS if not _value(snap, k)]
    problems = [f"kolom '{name}' wajib diisi" for name in missing]
    opd = _value(snap, CaseField.OPD).upper()
    agencies = services.settings.opd.agencies
    if opd and not services.settings.opd.allow_unknown and opd not in agencies:
        problems.append(f"OPD {_literal(services)(opd)} tidak dikenal; yang dikenal: "
                        f"{', '.join(sorted(agencies))}")
    if any(c in _value(snap, CaseField.LETTER_NUMBER) for c in "|#"):  # "#" joins a step number
        problems.append(f"kolom '{label(CaseField.LETTER_NUMBER)}' tidak boleh memuat tanda | "
                        "atau #")
    try:
        date.fromisoformat(_value(snap, CaseField.LETTER_DATE) or "x")
    except ValueError:
        if _value(snap, CaseField.LETTER_DATE):
            problems.append(f"kolom '{label(CaseField.LETTER_DATE)}' harus tanggal YYYY-MM-DD")
    return problems


def _literal(services: Services) -> Callable[[str], str]:
    """Quote the issue's own field values in our notes as code: never markup (issue 20)."""
    formatting = services.settings.redmine.text_formatting
    return lambda text: inline_literal(text, formatting)


def _letter(snap: IssueSnapshot) -> dict[str, object]:
    return {"nomor_surat": _value(snap, CaseField.LETTER_NUMBER),
            "tanggal_surat": _value(snap, CaseField.LETTER_DATE),
            "opd": _value(snap, CaseField.OPD).upper(), "perihal": snap.issue.subject,
            "nama_aplikasi": _value(snap, CaseField.APPLICATION_NAME),
            "deskripsi": "", "kontak": {"nama": "", "jabatan": "", "email": "", "telepon": ""},
            "lampiran": sorted(snap.attachment_names), "sumber": ADOPTED}
