"""Issue 16, items 4 and 5, against the real Redmine: step 6's findings as data, and each
output of a document step per round.

- Step 6 *tidak* needs the *Temuan Verifikasi* field; the laporan and the letter list exactly
  what was chosen there, beside the Kabid's note quoted verbatim.
- Step 9 needs one file per SOP output (the file name contains the output's slug), and after
  a re-plan (11 *tidak*) only files attached in the new round count.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from connector.store import audit
from connector.store.schema import CaseStatus
from tests.test_redmine_documents import driver as driver  # the fixture: a case with [documents]
from tests.workflow_driver import CaseDriver, output_files

pytestmark = pytest.mark.redmine
NOTE = "infrastruktur dan SDM tersedia, anggaran belum"




def _last_note(driver: CaseDriver, step: int) -> str:
    return [j.notes for j in driver.remote(step).journals if getattr(j, "notes", "")][-1]


def _refusals(driver: CaseDriver) -> list[str]:
    with driver.services.engine.connect() as conn:
        trail = audit.list_audit(conn, driver.case().id)
    return [str((e.detail or {}).get("reason")) for e in trail
            if e.action == "completion_refused"]


def _pdf_text(driver: CaseDriver, prefix: str, folder: Path) -> str:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    [pdf] = [a for a in parent.attachments
             if a.filename.startswith(prefix) and a.filename.endswith(".pdf")]
    path = pdf.download(savepath=str(folder), filename=pdf.filename)
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", path, "-"], check=True,
                          capture_output=True, text=True)
    return re.sub(r"\s+", "", done.stdout)


def test_step_6_tidak_needs_the_findings_and_the_documents_list_exactly_them(
        driver: CaseDriver, tmp_path: Path) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes=NOTE)  # the field left empty
    driver.sync(6)
    refusal = ("Kolom 'Temuan Verifikasi' belum diisi: pilih yang tidak tersedia "
               "(Infrastruktur, SDM, Anggaran) pada subtugas ini, lalu selesaikan kembali "
               "langkah 6 dengan status Rejected.")
    assert driver.case().current_step == 6
    assert driver.remote(6).status.name == "In Progress"  # put back, with the note
    assert _last_note(driver, 6) == refusal
    assert _refusals(driver) == [refusal]

    driver.act(6, status="Rejected", notes=NOTE, findings=("Anggaran",))
    driver.sync(6)
    assert driver.case().current_step == 7
    driver.act(7)
    driver.sync(7)
    assert driver.case().status is CaseStatus.REJECTED
    laporan = _pdf_text(driver, "laporan-ketidaktersediaan-", tmp_path)
    assert "belumdapatdipenuhikarenatidaktersedia:1.anggaran;" in laporan
    assert re.sub(r"\s+", "", NOTE) in laporan
    assert "sumberdayamanusia(SDM);" not in laporan and "infrastruktur;" not in laporan
    surat = _pdf_text(driver, "surat-ketidaktersediaan-", tmp_path)
    assert "karenatidaktersedianyaanggaran." in surat and re.sub(r"\s+", "", NOTE) in surat


def test_step_9_needs_each_output_of_this_round(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8])  # no code host: the Kasi does step 8 by hand
    jadwal, alur, analisis = output_files(9)
    driver.act(9, files=(jadwal,))
    driver.sync(9)
    assert driver.case().current_step == 9
    note = _last_note(driver, 9)
    assert note.startswith("Kelengkapan belum ada: keluaran Alur Bisnis; Dokumen analisis "
                           "belum dilampirkan pada putaran ini."), note
    assert "jadwal-pengembangan-aplikasi.pdf, alur-bisnis.pdf, dokumen-analisis.pdf" in note

    driver.act(9, files=(alur, analisis))  # the first file still counts: the same round
    driver.sync(9)
    assert driver.case().current_step == 10
    driver.walk([10])
    driver.act(11, status="Rejected", notes="Alur bisnis belum sesuai.")  # a re-plan
    driver.sync(11)
    assert driver.case().current_step == 9

    driver.act(9, attach=False)  # only the first round's three files are on the subtask
    driver.sync(9)
    assert driver.case().current_step == 9
    assert _last_note(driver, 9).startswith(
        "Kelengkapan belum ada: keluaran Jadwal Pengembangan Aplikasi; Alur Bisnis; Dokumen "
        "analisis belum dilampirkan pada putaran ini.")
    driver.act(9, files=tuple(f"revisi-{name}" for name in output_files(9)))
    driver.sync(9)
    assert driver.case().current_step == 10
