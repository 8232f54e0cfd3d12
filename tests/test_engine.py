"""The engine alone: each SOP rule, both branches and both loops, with no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from connector.calendar import WorkCalendar
from connector.sop.loader import load_default_sop
from connector.sop.model import Automation, DocumentKind, Role
from connector.workflow.engine import (
    SERVICE_ACTOR,
    ActivateStep,
    AwaitAcknowledgement,
    CancelStep,
    CaseView,
    CloseCase,
    CompleteStep,
    CountLoop,
    DrawUpDocuments,
    Outcome,
    Policy,
    ProvisionRepository,
    RecordAcknowledgement,
    RecordTeam,
    RefuseCompletion,
    ReopenStep,
    StepClosed,
    decide,
    signed_completion,
)
from connector.workflow.paths import main_path
from tests.workflow_driver import ROLE_OF_STEP

SOP = load_default_sop()
CAL = WorkCalendar.standard()
POLICY = Policy(
    done_statuses=frozenset({"Closed"}),
    reject_statuses=frozenset({"Rejected"}),
    active_status="In Progress",
    new_status="New",
    roles={
        Role.KEPALA_DINAS: ("kadis",),
        Role.KEPALA_BIDANG_TI: ("kabid",),
        Role.KEPALA_SEKSI_APLIKASI: ("kasi",),
        Role.BIDANG_TI: ("bidangti",),
        Role.TIM_PENGEMBANG: ("dev1",),
        Role.TIM_TEKNIS_OPD: ("opd-default",),
    },
    opd_teams={"DINKES": ("opd1",)},
    overrides=frozenset({"admin-override"}),
)
MON = date(2026, 3, 16)
# One file per output of step 7 (the naming rule); step 17 has one output, any file will do.
PAPER = frozenset({"laporan-ketidaktersediaan.pdf", "surat-kepada-opd.pdf"})
PARTIES = (Role.OPD_PEMOHON, Role.KEPALA_DINAS)
# 5 hari kerja ([sla] pengesahan_hari_kerja) from Senin 16 Maret 2026, across Nyepi.
ACK_DUE = date(2026, 3, 30)


def closed(step: int, actor: str, *, status: str = "Closed", **kw: object) -> StepClosed:
    values: dict[str, object] = {"previous_status": "In Progress", "note": "", "on": MON}
    values.update(kw)
    return StepClosed(step=step, status=status, actor=actor, **values)


def case(step: int, **kw: object) -> CaseView:
    return replace(CaseView(opd="DINKES", current_step=step), **kw)


def test_the_main_path_skips_only_the_refusal() -> None:
    assert main_path(SOP) == (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)


def test_completing_a_step_activates_the_next_with_its_holder_and_due_date() -> None:
    decision = decide(SOP, case(2), closed(2, "kadis", note="Disposisi ke Kabid"), POLICY, CAL)
    assert decision.commands == (
        CompleteStep(2, Outcome.DONE, "kadis", "Disposisi ke Kabid"),
        ActivateStep(3, "kabid", MON, None),
    )
    to_five = decide(SOP, case(4), closed(4, "kasi", team=("dev2", "dev1")), POLICY, CAL)
    assert to_five.commands[-1] == ActivateStep(5, "kasi", MON, date(2026, 3, 17))


def test_the_team_recorded_at_step_4_holds_the_team_steps() -> None:
    decision = decide(SOP, case(4), closed(4, "kasi", team=("dev2", "dev3")), POLICY, CAL)
    assert RecordTeam(("dev2", "dev3")) in decision.commands
    plan = decide(SOP, case(8, team=("dev2", "dev3")), closed(8, "kasi"), POLICY, CAL)
    assert plan.commands[-1] == ActivateStep(9, "dev2", MON, date(2026, 3, 17))
    refused = decide(
        SOP, case(9, team=("dev2",)), closed(9, "dev1", attachments=frozenset({"x"})), POLICY, CAL
    )
    assert refused.refused and "dev2" in refused.commands[0].note


def test_step_4_without_a_team_is_refused() -> None:
    decision = decide(SOP, case(4), closed(4, "kasi"), POLICY, CAL)
    assert decision.refused
    assert "Tim Pengembang" in decision.commands[0].note


@pytest.mark.parametrize("actor", ["kabid", "dev1", None, "opd1"])
def test_a_user_of_the_wrong_role_is_refused_and_told_who_may(actor: str | None) -> None:
    decision = decide(SOP, case(2), closed(2, actor), POLICY, CAL)
    [refusal] = decision.commands
    assert isinstance(refusal, RefuseCompletion)
    assert refusal.restore_status == "In Progress"
    assert "Kepala Dinas" in refusal.note and "kadis" in refusal.note


def test_an_override_login_may_complete_any_step() -> None:
    assert not decide(SOP, case(2), closed(2, "admin-override"), POLICY, CAL).refused


def test_the_opd_technical_team_is_per_opd() -> None:
    plan_ok = closed(11, "opd1")
    assert not decide(SOP, case(11), plan_ok, POLICY, CAL).refused
    assert decide(SOP, case(11), closed(11, "opd-default"), POLICY, CAL).refused
    other_opd = case(11, opd="BAPPEDA")
    assert not decide(SOP, other_opd, closed(11, "opd-default"), POLICY, CAL).refused


STEP_9_FILES = frozenset({"Jadwal_Pengembangan_Aplikasi.pdf", "alur-bisnis v2.pdf",
                          "DOKUMEN ANALISIS.docx"})


@pytest.mark.parametrize("step, actor, files", [
    (5, "kasi", {"laporan.pdf"}), (9, "dev1", STEP_9_FILES), (13, "dev1", {"laporan.pdf"})])
def test_a_document_step_without_its_document_is_refused(step: int, actor: str,
                                                          files: set[str]) -> None:
    decision = decide(SOP, case(step), closed(step, actor), POLICY, CAL)
    assert decision.refused
    assert SOP.step(step).outputs[0] in decision.commands[0].note
    attached = closed(step, actor, attachments=frozenset(files))
    assert not decide(SOP, case(step), attached, POLICY, CAL).refused


def test_step_9_needs_a_file_for_each_output_and_names_the_missing() -> None:
    one = closed(9, "dev1", attachments=frozenset({"jadwal-pengembangan-aplikasi.pdf",
                                                   "catatan.txt"}))
    [refusal] = decide(SOP, case(9), one, POLICY, CAL).commands
    assert isinstance(refusal, RefuseCompletion)
    assert "keluaran Alur Bisnis; Dokumen analisis belum dilampirkan" in refusal.note
    assert "Jadwal Pengembangan Aplikasi" not in refusal.note.split("misalnya")[0]
    assert ("misalnya jadwal-pengembangan-aplikasi.pdf, alur-bisnis.pdf, dokumen-analisis.pdf"
            in refusal.note)
    # A name only containing the words inside another word does not count.
    near = closed(9, "dev1", attachments=STEP_9_FILES - {"alur-bisnis v2.pdf"}
                  | {"alurbisnis.pdf", "xalur-bisnis.pdf"})
    [refusal] = decide(SOP, case(9), near, POLICY, CAL).commands
    assert isinstance(refusal, RefuseCompletion) and "keluaran Alur Bisnis belum" in refusal.note


def test_a_single_output_step_takes_any_file_of_the_round() -> None:
    assert not decide(SOP, case(5), closed(5, "kasi", attachments=frozenset({"x.pdf"})),
                      POLICY, CAL).refused


def test_step_6_tidak_without_findings_is_refused_naming_the_field_and_values() -> None:
    [refusal] = decide(SOP, case(6), closed(6, "kabid", status="Rejected", note="Belum."),
                       POLICY, CAL).commands
    assert refusal == RefuseCompletion(6, "In Progress", (
        "Kolom 'Temuan Verifikasi' belum diisi: pilih yang tidak tersedia (Infrastruktur, SDM, "
        "Anggaran) pada subtugas ini, lalu selesaikan kembali langkah 6 dengan status "
        "Rejected."))
    odd = closed(6, "kabid", status="Rejected", findings=("Anggaran", "Listrik"))
    [refusal] = decide(SOP, case(6), odd, POLICY, CAL).commands
    assert isinstance(refusal, RefuseCompletion)
    assert "berisi nilai yang tidak dikenal (Listrik)" in refusal.note
    # "ya" needs no findings, and findings given with "ya" are not recorded.
    ya = decide(SOP, case(6), closed(6, "kabid", findings=("SDM",)), POLICY, CAL)
    assert ya.commands[0] == CompleteStep(6, Outcome.YA, "kabid", "")


def test_step_6_tidak_records_exactly_the_chosen_findings() -> None:
    note = "infrastruktur dan SDM tersedia, anggaran belum"
    event = closed(6, "kabid", status="Rejected", note=note, findings=("Anggaran",))
    decision = decide(SOP, case(6), event, POLICY, CAL)
    assert decision.commands[0] == CompleteStep(6, Outcome.TIDAK, "kabid", note,
                                                findings=("Anggaran",))


def test_a_step_that_is_not_current_is_refused() -> None:
    decision = decide(SOP, case(3), closed(5, "kasi", attachments=frozenset({"a"})), POLICY, CAL)
    assert decision.refused and "langkah 3" in decision.commands[0].note


def test_rejected_on_a_step_that_is_not_a_decision_is_refused() -> None:
    assert decide(SOP, case(3), closed(3, "kabid", status="Rejected"), POLICY, CAL).refused


def test_step_6_ya_goes_to_8() -> None:
    decision = decide(SOP, case(6), closed(6, "kabid"), POLICY, CAL)
    assert decision.commands == (
        CompleteStep(6, Outcome.YA, "kabid", ""),
        ActivateStep(8, "kasi", MON, None),
    )


def test_step_6_tidak_activates_7_cancels_the_rest_and_7_ends_the_case_refused() -> None:
    decision = decide(
        SOP, case(6), closed(6, "kabid", status="Rejected", note="Anggaran tidak ada",
                             findings=("Anggaran",)), POLICY, CAL
    )
    assert decision.commands[0] == CompleteStep(6, Outcome.TIDAK, "kabid", "Anggaran tidak ada",
                                                findings=("Anggaran",))
    assert [c.step for c in decision.commands if isinstance(c, CancelStep)] == [
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
    ]
    assert decision.commands[-1] == ActivateStep(7, "bidangti", MON, None)
    end = decide(SOP, case(7), closed(7, "bidangti", attachments=PAPER), POLICY, CAL)
    assert end.commands[-1] == CloseCase(accepted=False)


def test_step_11_tidak_replans_from_9_and_counts() -> None:
    decision = decide(
        SOP,
        case(11, team=("dev1",), loops={11: 1}),
        closed(11, "opd1", status="Rejected", note="Alur bisnis kurang"),
        POLICY,
        CAL,
    )
    assert decision.commands == (
        CompleteStep(11, Outcome.TIDAK, "opd1", "Alur bisnis kurang"),
        CountLoop(11, 9, 2),
        ReopenStep(10),
        ReopenStep(11),
        ActivateStep(9, "dev1", MON, date(2026, 3, 17)),
    )


def test_step_14_tidak_reworks_from_12_and_counts() -> None:
    decision = decide(SOP, case(14), closed(14, "opd1", status="Rejected"), POLICY, CAL)
    assert decision.commands[1:] == (
        CountLoop(14, 12, 1),
        ReopenStep(13),
        ReopenStep(14),
        # 35 hari kerja from Senin 16 Maret 2026, across Nyepi and Idul Fitri.
        ActivateStep(12, "dev1", MON, date(2026, 5, 13)),
    )


def test_step_17_closed_by_hand_with_the_berita_acara_waits_for_the_parties() -> None:
    decision = decide(SOP, case(17), closed(17, "dev1", attachments=PAPER), POLICY, CAL)
    assert decision.commands == (
        DrawUpDocuments(17, (DocumentKind.BERITA_ACARA,)),
        AwaitAcknowledgement(17, PARTIES, "opd1", ACK_DUE),
    )


def test_with_automation_the_service_draws_up_the_berita_acara_and_waits() -> None:
    auto = replace(POLICY, automations=frozenset({Automation.BERITA_ACARA}))
    decision = decide(SOP, case(16), closed(16, "kabid"), auto, CAL)
    assert decision.commands == (
        CompleteStep(16, Outcome.DONE, "kabid", ""),
        ActivateStep(17, "dev1", MON, None),
        DrawUpDocuments(17, (DocumentKind.BERITA_ACARA,)),
        AwaitAcknowledgement(17, PARTIES, "opd1", ACK_DUE),
    )
    assert not any(isinstance(c, (CompleteStep, CloseCase)) and getattr(c, "step", 17) == 17
                   for c in decision.commands)


def test_the_acknowledgement_time_is_configurable() -> None:
    longer = replace(POLICY, acknowledgement_days=10)
    decision = decide(SOP, case(17), closed(17, "dev1", attachments=PAPER), longer, CAL)
    assert decision.commands[-1] == AwaitAcknowledgement(17, PARTIES, "opd1",
                                                         CAL.due_date(MON, 10, "hari_kerja"))


def test_step_17_closes_only_when_both_parties_acknowledged_each_by_own_account() -> None:
    waiting = case(17, acknowledged={17: {}})
    # The Kepala Dinas may know it first; the step then waits for the OPD only.
    first = decide(SOP, waiting, closed(17, "kadis"), POLICY, CAL)
    assert first.commands == (
        RecordAcknowledgement(17, Role.KEPALA_DINAS, "kadis"),
        AwaitAcknowledgement(17, (Role.OPD_PEMOHON,), "opd1", None),
    )
    half = case(17, acknowledged={17: {Role.KEPALA_DINAS: "kadis"}})
    last = decide(SOP, half, closed(17, "opd1", note="Mengetahui."), POLICY, CAL)
    assert last.commands == (
        RecordAcknowledgement(17, Role.OPD_PEMOHON, "opd1"),
        CompleteStep(17, Outcome.DONE, "opd1", "Mengetahui."),
        CloseCase(accepted=True),
    )


@pytest.mark.parametrize("actor", ["dev1", "kabid", "admin-override", "opd-default", None])
def test_a_wrong_account_cannot_acknowledge(actor: str | None) -> None:
    """Not a party (nor the override: the acknowledgement is the party's own), and for the
    OPD only the OPD's own accounts."""
    decision = decide(SOP, case(17, acknowledged={17: {}}), closed(17, actor or ""), POLICY, CAL)
    assert decision.refused
    [refusal] = decision.commands
    assert isinstance(refusal, RefuseCompletion) and refusal.restore_status == "In Progress"
    assert "menunggu tanda tangan" in refusal.note
    assert "OPD/pemohon (opd1)" in refusal.note and "Kepala Dinas (kadis)" in refusal.note


def test_a_party_acknowledges_once_and_does_not_reject() -> None:
    half = case(17, acknowledged={17: {Role.KEPALA_DINAS: "kadis"}})
    again = decide(SOP, half, closed(17, "kadis"), POLICY, CAL)
    assert again.refused and "Sudah diketahui: Kepala Dinas (kadis)" in again.commands[0].note
    rejected = decide(SOP, half, closed(17, "opd1", status="Rejected"), POLICY, CAL)
    assert rejected.refused and "bukan keputusan" in rejected.commands[0].note


@pytest.mark.parametrize("step", [7, 17])
def test_without_documents_a_document_step_needs_its_attachment(step: int) -> None:
    actor = ROLE_OF_STEP[step]
    bare = decide(SOP, case(step), closed(step, actor), POLICY, CAL)
    assert bare.refused and "Kelengkapan belum ada" in bare.commands[0].note
    assert not decide(SOP, case(step), closed(step, actor, attachments=PAPER), POLICY, CAL).refused


def test_with_documents_the_service_draws_up_step_7_so_nothing_is_asked() -> None:
    auto = replace(POLICY, automations=frozenset({Automation.BERITA_ACARA}))
    decision = decide(SOP, case(7), closed(7, "bidangti"), auto, CAL)
    assert not decision.refused
    assert decision.commands[-1] == CloseCase(accepted=False)


def test_with_a_code_host_step_8_is_provisioned_and_left_at_once() -> None:
    auto = replace(POLICY, automations=frozenset({Automation.PROVISION_REPOSITORY}))
    decision = decide(SOP, case(6, team=("dev2",)), closed(6, "kabid"), auto, CAL)
    assert decision.commands == (
        CompleteStep(6, Outcome.YA, "kabid", ""),
        ActivateStep(8, "kasi", MON, None),
        ProvisionRepository(8),
        CompleteStep(8, Outcome.DONE, SERVICE_ACTOR, "", by_service=True),
        ActivateStep(9, "dev2", MON, date(2026, 3, 17)),
    )


def test_the_refusal_documents_are_drawn_up_when_step_7_is_done() -> None:
    decision = decide(SOP, case(7), closed(7, "bidangti", attachments=PAPER), POLICY, CAL)
    assert decision.commands[1:] == (
        DrawUpDocuments(7, (DocumentKind.LAPORAN_KETIDAKTERSEDIAAN, DocumentKind.SURAT_OPD)),
        CloseCase(accepted=False),
    )


def test_development_cannot_be_completed_with_deliverables_missing() -> None:
    lines = ("- [x] Aplikasi (main)", "- [ ] Dokumentasi API: masih templat",
             "- [ ] Panduan Pengguna: belum ada")
    event = closed(12, "dev1", missing_deliverables=lines)
    decision = decide(SOP, case(12), event, POLICY, CAL)
    assert decision.refused
    # Each checklist line stands on its own line of the note, so Redmine shows a list.
    assert all(line in decision.commands[0].note.splitlines() for line in lines)
    assert not decide(SOP, case(12), closed(12, "dev1"), POLICY, CAL).refused


def test_the_whole_happy_path_visits_every_main_step_once() -> None:
    actors = dict(ROLE_OF_STEP)
    view, visited = case(2), [2]
    while True:
        event = closed(
            view.current_step,
            actors[view.current_step],
            team=("dev1",),
            attachments=frozenset({"dokumen.pdf"}) | STEP_9_FILES,
        )
        decision = decide(SOP, view, event, POLICY, CAL)
        assert not decision.refused, decision
        last = decision.commands[-1]
        if isinstance(last, CloseCase):
            assert last.accepted
            break
        if isinstance(last, AwaitAcknowledgement):  # 17: each party knows it in turn
            known = dict(view.acknowledged.get(17, {}))
            if isinstance(decision.commands[0], RecordAcknowledgement):
                known[decision.commands[0].role] = decision.commands[0].actor
            view = replace(view, acknowledged={17: known})
            actors = {**actors, 17: last.assignee or ""}
            visited.append(f"17 menunggu {last.assignee}")
            continue
        assert isinstance(last, ActivateStep)
        view = replace(view, current_step=last.step, team=("dev1",))
        visited.append(last.step)
    assert visited == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                       "17 menunggu opd1", "17 menunggu kadis"]


def test_a_rework_continues_the_35_hari_kerja_clock() -> None:
    """20 hari kerja already spent in step 12: the rework has the remaining 15."""
    reworked = decide(SOP, case(14, spent={12: 20}), closed(14, "opd1", status="Rejected"),
                      POLICY, CAL)
    assert reworked.commands[-1] == ActivateStep(12, "dev1", MON, CAL.add_workdays(MON, 15))
    restart = replace(POLICY, continue_cumulative=False)
    again = decide(SOP, case(14, spent={12: 20}), closed(14, "opd1", status="Rejected"),
                   restart, CAL)
    assert again.commands[-1] == ActivateStep(12, "dev1", MON, date(2026, 5, 13))
    spent_all = decide(SOP, case(14, spent={12: 40}), closed(14, "opd1", status="Rejected"),
                       POLICY, CAL)
    assert spent_all.commands[-1] == ActivateStep(12, "dev1", MON, MON)


def test_only_the_cumulative_standard_continues() -> None:
    """A re-plan (11 tidak) gives step 9 its full 1 hari kerja again."""
    decision = decide(SOP, case(11, spent={9: 3}), closed(11, "opd1", status="Rejected"),
                      POLICY, CAL)
    assert decision.commands[-1] == ActivateStep(9, "dev1", MON, date(2026, 3, 17))


def test_every_command_of_the_engine_has_a_handler() -> None:
    """The sync job carries out each command through a table: none may be left out."""
    from typing import get_args

    from connector.workflow.engine import Command
    from connector.workflow.sync import _HANDLERS

    assert set(_HANDLERS) == set(get_args(Command))


def test_a_fully_signed_berita_acara_is_both_acknowledgements() -> None:
    """Issue 17: PIHAK KEDUA signs for the OPD, Mengetahui is the Kepala Dinas; a party that
    already acknowledged by its own account is not recorded twice."""
    signers = {Role.OPD_PEMOHON: "Wakil OPD", Role.KEPALA_DINAS: "Kepala Dinas"}
    waiting = case(17, acknowledged={17: {}})
    decision = signed_completion(SOP, waiting, 17, signers, "ttd lengkap", POLICY, CAL,
                                 date(2026, 12, 7))
    assert decision.commands == (
        RecordAcknowledgement(17, Role.OPD_PEMOHON, "Wakil OPD"),
        RecordAcknowledgement(17, Role.KEPALA_DINAS, "Kepala Dinas"),
        CompleteStep(17, Outcome.DONE, SERVICE_ACTOR, "ttd lengkap", True),
        CloseCase(accepted=True),
    )
    half = case(17, acknowledged={17: {Role.KEPALA_DINAS: "kadis"}})
    decision = signed_completion(SOP, half, 17, signers, "ttd", POLICY, CAL, date(2026, 12, 7))
    assert decision.commands[0] == RecordAcknowledgement(17, Role.OPD_PEMOHON, "Wakil OPD")
    assert sum(isinstance(c, RecordAcknowledgement) for c in decision.commands) == 1


def test_with_signing_closing_step_7_waits_for_the_signed_letter_then_it_ends_refused() -> None:
    """Issue 17: with [signing] the letter of 7 is issued for signing; the case stays open at
    7 (no completion, no close) until the last signature completes 7 and ends it refused."""
    signing = replace(POLICY, automations=frozenset({Automation.BERITA_ACARA}),
                      awaits_signature=frozenset({7}))
    decision = decide(SOP, case(7), closed(7, "bidangti"), signing, CAL)
    assert decision.commands == (
        DrawUpDocuments(7, (DocumentKind.LAPORAN_KETIDAKTERSEDIAAN, DocumentKind.SURAT_OPD)),
        AwaitAcknowledgement(7, (), "bidangti", None),
    )
    waiting = case(7, acknowledged={7: {}})
    again = decide(SOP, waiting, closed(7, "bidangti"), signing, CAL)
    assert again.refused
    [refusal] = again.commands
    assert isinstance(refusal, RefuseCompletion) and "tanda tangan" in refusal.note
    done = signed_completion(SOP, waiting, 7, {}, "ttd lengkap", signing, CAL, MON)
    assert done.commands == (CompleteStep(7, Outcome.DONE, SERVICE_ACTOR, "ttd lengkap", True),
                             CloseCase(accepted=False))
