"""The demo's three stories, as what each person does in Redmine, step by step.

``normal``: the request is approved and built; ``tolak``: the Kepala Bidang finds no budget or
staff at step 6 and the case ends with the refusal documents (step 7); ``revisi``: the OPD
sends the plan back at step 11 (a re-plan, steps 9-11 again) and the result back at step 14
(a rework, steps 12-14 again), then accepts. Steps the service does itself (8 with a code
host, drawing up the Berita Acara at 17 with documents) have no action here, except step 8 by
hand when no code host is configured; the OPD and the Kepala Dinas then know the Berita Acara
at 17, each by their own account.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.demo.roles import Upload
from connector.demo.sample import sample_pdf

CLOSED, REJECTED = "Closed", "Rejected"
SCENARIOS = ("normal", "tolak", "revisi")


@dataclass(frozen=True)
class Action:
    """One person closes (or rejects) one step's subtask."""

    step: int
    login: str
    notes: str
    status: str = CLOSED
    # (file name, title) of each PDF to attach: one per SOP output of a step with several,
    # named by the naming rule (the file name contains the output's slug, see the engine)
    documents: tuple[tuple[str, str], ...] = ()
    team: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()  # Temuan Verifikasi, at a step 6 "tidak"
    push: str = ""  # commit message of the team's work pushed before closing (step 12)
    by_hand_only: bool = False  # skipped when the service already did the step

    def uploads(self) -> tuple[Upload, ...]:
        return tuple(Upload(filename, sample_pdf(title, self.notes))
                     for filename, title in self.documents)


OPENING = (
    Action(2, "kadis", "Mohon Kepala Bidang TI menindaklanjuti permohonan Dinas Kesehatan."),
    Action(3, "kabid", "Surat sudah diverifikasi. Kepala Seksi Aplikasi mohon membentuk tim."),
    Action(4, "kasi", "Tim Pengembang: Pengembang Satu dan Pengembang Dua.",
           team=("dev1", "dev2")),
    Action(5, "kasi", "Hasil analisis aplikasi terlampir.",
           documents=(("analisis-aplikasi.pdf", "Analisis Aplikasi SI Puskesmas"),)),
)
APPROVAL = (
    Action(6, "kabid", "Infrastruktur, SDM dan anggaran tersedia. Lanjutkan."),
    Action(8, "kasi", "Project dan repositori dibuat secara manual.", by_hand_only=True),
)
PLANNING = (
    Action(9, "dev1", "Rencana pengembangan terlampir.",
           documents=(("jadwal-pengembangan-aplikasi.pdf", "Jadwal Pengembangan Aplikasi"),
                      ("alur-bisnis.pdf", "Alur Bisnis SI Puskesmas"),
                      ("dokumen-analisis.pdf", "Dokumen Analisis SI Puskesmas"))),
    Action(10, "dev1", "Rencana sudah dipresentasikan kepada Tim Teknis Dinas Kesehatan."),
)
PLAN_ACCEPTED = Action(11, "opd1", "Rencana pengembangan disetujui.")
BUILDING = (
    Action(12, "dev1", "Aplikasi dan seluruh dokumentasi sudah di repositori.",
           push="Aplikasi SI Puskesmas dan dokumentasinya"),
    Action(13, "dev1", "Hasil pengembangan sudah dipresentasikan; laporan terlampir.",
           documents=(("hasil-pengembangan.pdf", "Presentasi Hasil Pengembangan"),)),
)
RESULT_ACCEPTED = Action(14, "opd1", "Hasil pengembangan diterima. Terima kasih.")
CLOSING = (
    Action(15, "dev1", "Laporan Tim Pengembang kepada Kepala Seksi sudah disampaikan."),
    Action(16, "kabid", "Laporan pembuatan aplikasi diterima."),
)
# Step 17's Berita Acara, once drawn up, is known by the OPD and the Kepala Dinas, each
# closing the step's subtask with their own account; then the case closes.
ACKNOWLEDGING = (
    Action(17, "opd1", "Berita Acara Pekerjaan sudah kami ketahui. Terima kasih."),
    Action(17, "kadis", "Mengetahui."),
)
REFUSAL = (
    Action(6, "kabid", "Anggaran dan SDM tidak tersedia pada tahun anggaran ini.",
           status=REJECTED, findings=("SDM", "Anggaran")),
    Action(7, "bidangti", "Laporan ketidaktersediaan dan surat kepada OPD disiapkan."),
)
REPLAN = Action(11, "opd1", "Alur pendaftaran pasien belum sesuai; mohon rencana direvisi.",
                status=REJECTED)
REWORK = Action(14, "opd1", "Laporan bulanan belum dapat diunduh sebagai Excel; mohon diperbaiki.",
                status=REJECTED)
REPLANNING = (
    Action(9, "dev1", "Rencana pengembangan revisi terlampir (alur pendaftaran diperbaiki).",
           documents=(("jadwal-pengembangan-aplikasi-revisi.pdf",
                       "Jadwal Pengembangan Aplikasi (Revisi)"),
                      ("alur-bisnis-revisi.pdf", "Alur Bisnis (Revisi)"),
                      ("dokumen-analisis-revisi.pdf", "Dokumen Analisis (Revisi)"))),
    PLANNING[1],
)
REBUILDING = (
    Action(12, "dev1", "Perbaikan ekspor laporan bulanan sudah di repositori.",
           push="Ekspor laporan bulanan ke Excel"),
    Action(13, "dev1", "Hasil perbaikan sudah dipresentasikan; laporan terlampir.",
           documents=(("hasil-perbaikan.pdf", "Presentasi Hasil Perbaikan"),)),
)


def scenario(name: str) -> tuple[Action, ...]:
    """The actions of the named scenario, in order."""
    if name == "normal":
        return (*OPENING, *APPROVAL, *PLANNING, PLAN_ACCEPTED, *BUILDING, RESULT_ACCEPTED,
                *CLOSING, *ACKNOWLEDGING)
    if name == "tolak":
        return (*OPENING, *REFUSAL)
    if name == "revisi":
        return (*OPENING, *APPROVAL, *PLANNING, REPLAN, *REPLANNING, PLAN_ACCEPTED, *BUILDING,
                REWORK, *REBUILDING, RESULT_ACCEPTED, *CLOSING, *ACKNOWLEDGING)
    raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
