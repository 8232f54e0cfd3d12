"""Issue 13: the plugin refuses a wrong closure at save, from the rules the service wrote.

Each refusal is a 422 over REST with the Indonesian message (and the same message in the web
form's error box); the subtask keeps its status, the case does not move, and the service never
has to put the status back with a note.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.redmine.schema import DEFAULT_CUSTOM_FIELDS
from connector.services import Services
from connector.store import audit
from tests.conftest import INTAKE_TOKEN
from tests.plugin_service import SECRET, plugin_config
from tests.redmine_plugin import form_token, signed_in
from tests.workflow_driver import CaseDriver, output_files

RULES = next(f.name for f in DEFAULT_CUSTOM_FIELDS if f.key == "step_rules")  # in Redmine

pytestmark = pytest.mark.redmine
PUT_BACK_NOTES = ("dibatalkan", "Status dikembalikan", "lalu selesaikan kembali")


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             plugin_redmine: Any) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", plugin_redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_PLUGIN_SECRET", SECRET)
    built = bootstrap(load_settings(plugin_config(tmp_path, plugin_redmine)))
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(services: Services, plugin_redmine: Any) -> CaseDriver:
    from webhooks import create_app

    return CaseDriver(services, plugin_redmine, create_app(services).test_client())


def _rest_update(driver: CaseDriver, step: int, login: str, **issue: Any) -> requests.Response:
    return requests.put(
        f"{driver.server.url}/issues/{driver.step_issue(step)}.json", json={"issue": issue},
        headers={"X-Redmine-API-Key": driver.server.user_keys[login]}, timeout=30)


def _close_over_rest(driver: CaseDriver, step: int, login: str,
                     **issue: Any) -> requests.Response:
    return _rest_update(driver, step, login, status_id=driver.status_id("Closed"), **issue)


def _assert_refused_and_nothing_moved(driver: CaseDriver, step: int, answer: requests.Response,
                                      message: str) -> None:
    assert answer.status_code == 422, answer.text[:500]
    assert answer.json() == {"errors": [message]}
    assert driver.remote(step).status.name == "In Progress"
    driver.sync(step)  # what a hint or the poll would do: the service finds nothing to undo
    assert driver.case().current_step == step
    journals = driver.remote(step).journals
    assert not [j for j in journals if any(n in (j.notes or "") for n in PUT_BACK_NOTES)]
    with driver.services.engine.connect() as conn:
        trail = audit.list_audit(conn, driver.case().id)
    assert not [e for e in trail if e.action == "completion_refused"]


def test_the_service_writes_the_rules_on_the_active_step(driver: CaseDriver) -> None:
    driver.open()
    fields = {f.name: f.value for f in driver.remote(2).custom_fields}
    assert fields[RULES].splitlines() == [
        "langkah: 2", "peran: Kepala Dinas", "boleh: kadis"]


def test_a_user_of_the_wrong_role_is_refused_at_save(driver: CaseDriver) -> None:
    driver.open()
    answer = _close_over_rest(driver, 2, "kabid", notes="Saya tutup saja.")
    _assert_refused_and_nothing_moved(
        driver, 2, answer,
        "Langkah 2 hanya dapat diselesaikan oleh Kepala Dinas: kadis. "
        "Perubahan oleh kabid ditolak.")


def test_step_4_with_tim_pengembang_empty_is_refused_at_save(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3])
    answer = _close_over_rest(driver, 4, "kasi")
    _assert_refused_and_nothing_moved(
        driver, 4, answer,
        "Tim Pengembang belum diisi: pilih anggota tim pada kolom 'Tim Pengembang' subtugas "
        "ini, lalu selesaikan kembali.")
    driver.act(4, team=("dev1", "dev2"))  # filled: the same closing goes through
    driver.sync(4)
    assert driver.case().current_step == 5


def test_step_4_with_only_a_function_field_filled_passes_at_save(driver: CaseDriver) -> None:
    """The team may be recorded per function ("Tim: Programmer" ...) instead of Tim Pengembang."""
    driver.open()
    driver.walk([2, 3])
    rules = {f.name: f.value for f in driver.remote(4).custom_fields}[RULES]
    assert ("tim_fungsi: Tim: IT Project Manager; Tim: Programmer; Tim: System Analyst; "
            "Tim: Multimedia Designer") in rules.splitlines()
    answer = _close_over_rest(driver, 4, "kasi", custom_fields=[
        {"id": driver.field_id("Tim: Programmer"), "value": [driver.user_id("dev2")]}])
    assert answer.status_code == 204, answer.text[:500]
    driver.sync(4)
    assert driver.case().current_step == 5


def test_step_5_with_no_attachment_is_refused_at_save(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4])
    answer = _close_over_rest(driver, 5, "kasi", notes="Sudah.")
    rules = {f.name: f.value for f in driver.remote(5).custom_fields}[RULES]
    documents = re.search(r"^dokumen: (.+)$", rules, re.MULTILINE)
    assert documents is not None
    _assert_refused_and_nothing_moved(
        driver, 5, answer,
        f"Kelengkapan belum ada: lampirkan dokumen ({documents[1]}) pada subtugas ini, "
        "lalu selesaikan kembali.")
    driver.act(5)  # with the document attached in the same save
    driver.sync(5)
    assert driver.case().current_step == 6


def test_the_rules_cannot_be_rewritten_by_the_people_they_bind(driver: CaseDriver) -> None:
    driver.open()
    field_id = driver.field_id(RULES)
    answer = _rest_update(driver, 2, "kabid", custom_fields=[
        {"id": field_id, "value": "langkah: 2\nboleh: kabid"}])
    assert answer.status_code == 422
    assert answer.json() == {"errors": [
        "Kolom 'Aturan Langkah' diisi oleh layanan sop-connector dan tidak dapat diubah."]}
    assert "boleh: kadis" in {f.name: f.value for f in driver.remote(2).custom_fields}[RULES]


def test_the_web_form_shows_the_refusal_in_redmines_error_box(driver: CaseDriver) -> None:
    driver.open()
    redmine, issue_id = driver.server, driver.step_issue(2)
    web = signed_in(redmine, "kabid")
    page = web.get(f"{redmine.url}/issues/{issue_id}", timeout=30)
    answer = web.post(f"{redmine.url}/issues/{issue_id}", timeout=30, allow_redirects=False,
                      data={"_method": "patch", "authenticity_token": form_token(page.text),
                            "issue[status_id]": driver.status_id("Closed"),
                            "issue[notes]": "Ditutup dari formulir."})
    assert answer.status_code == 200  # the form again, not a redirect to the saved issue
    box = re.search(r"<div id=.errorExplanation.>(.*?)</div>", answer.text, re.DOTALL)
    assert box is not None, answer.text[:1000]
    assert ("Langkah 2 hanya dapat diselesaikan oleh Kepala Dinas: kadis. "
            "Perubahan oleh kabid ditolak.") in html.unescape(box[1])
    assert driver.remote(2).status.name == "In Progress"


def test_the_holder_still_closes_normally(driver: CaseDriver) -> None:
    driver.open()
    assert _close_over_rest(driver, 2, "kadis").status_code == 204
    driver.sync(2)
    assert driver.case().current_step == 3


SHOT = "11-plugin-menolak-penutupan.png"


def test_headless_chromium_sees_the_refusal_in_the_web_form(
        driver: CaseDriver, tmp_path: Path) -> None:
    """A real browser session closes step 2 as the wrong role; the form keeps the change.

    ``SOP_SCREENSHOT_DIR=docs/gambar`` keeps the capture for docs/plugin-redmine.md.
    """
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from cdp_pipe import Browser

    driver.open()
    redmine, issue_id = driver.server, driver.step_issue(2)
    assert redmine.run_rails("User.find_by_login('kabid').update!(language: 'id')\n"
                             ).returncode == 0
    browser = Browser()
    try:
        browser.goto(f"{redmine.url}/login")
        browser.run(f"document.getElementById('username').value = 'kabid';"
                    f"document.getElementById('password').value = "
                    f"'{redmine.passwords['kabid']}';"
                    "document.getElementById('login-submit').click();", navigates=True)
        browser.goto(f"{redmine.url}/issues/{issue_id}/edit")
        closed = driver.status_id("Closed")
        browser.run(f"document.getElementById('issue_status_id').value = '{closed}';"
                    "document.getElementById('issue_notes').value = "
                    "'Sudah saya periksa, saya tutup.';"
                    "document.getElementById('issue-form').submit();", navigates=True)
        shown = browser.run("(document.getElementById('errorExplanation') || {}).innerText")
        target = Path(os.environ.get("SOP_SCREENSHOT_DIR") or tmp_path) / SHOT
        browser.screenshot(target, max_height=1400)
    finally:
        browser.close()
        redmine.run_rails("User.find_by_login('kabid').update!(language: 'en')\n")
    assert shown is not None and ("Langkah 2 hanya dapat diselesaikan oleh Kepala Dinas: "
                                  "kadis. Perubahan oleh kabid ditolak.") in shown
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert driver.remote(2).status.name == "In Progress"


FINDINGS_REFUSAL = (
    "Kolom 'Temuan Verifikasi' belum diisi: pilih yang tidak tersedia (Infrastruktur, SDM, "
    "Anggaran) pada subtugas ini, lalu selesaikan kembali langkah 6 dengan status Rejected.")


def test_step_6_tidak_without_findings_is_refused_at_save(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    rules = {f.name: f.value for f in driver.remote(6).custom_fields}[RULES]
    assert "temuan: wajib_jika_tidak\nstatus_tidak: Rejected" in rules
    answer = _rest_update(driver, 6, "kabid", status_id=driver.status_id("Rejected"),
                          notes="infrastruktur dan SDM tersedia, anggaran belum")
    _assert_refused_and_nothing_moved(driver, 6, answer, FINDINGS_REFUSAL)
    # The same message as the engine's put-back note on a Redmine without the plugin.
    driver.act(6, status="Rejected", notes="Anggaran belum.", findings=("Anggaran",))
    driver.sync(6)
    assert driver.case().current_step == 7


def _outputs_refusal(missing: str) -> str:
    return (f"Kelengkapan belum ada: keluaran {missing} belum dilampirkan pada putaran ini. "
            "Lampirkan satu berkas untuk setiap keluaran; nama berkas memuat nama keluaran "
            "(huruf kecil, spasi dan tanda baca menjadi \"-\"), misalnya "
            "jadwal-pengembangan-aplikasi.pdf, alur-bisnis.pdf, dokumen-analisis.pdf. Hanya "
            "berkas yang dilampirkan pada putaran ini yang dihitung. Lampirkan, lalu "
            "selesaikan kembali.")


def _upload(driver: CaseDriver, login: str, *names: str) -> list[dict[str, str]]:
    import io

    api = driver.api(login)
    return [{"token": api.upload(io.BytesIO(b"%PDF-1.4 x"), filename=n)["token"], "filename": n}
            for n in names]


def test_step_9_needs_each_output_of_this_round_at_save(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8])
    rules = {f.name: f.value for f in driver.remote(9).custom_fields}[RULES]
    assert "keluaran: jadwal-pengembangan-aplikasi; alur-bisnis; dokumen-analisis" in rules
    assert "berkas_sejak" not in rules  # the first round counts every file
    jadwal, alur, analisis = output_files(9)
    answer = _close_over_rest(driver, 9, "dev1", uploads=_upload(driver, "dev1", jadwal))
    _assert_refused_and_nothing_moved(
        driver, 9, answer, _outputs_refusal("Alur Bisnis; Dokumen analisis"))
    driver.act(9)  # one file per output
    driver.sync(9)
    driver.walk([10])
    driver.act(11, status="Rejected", notes="Alur bisnis belum sesuai.")  # a re-plan
    driver.sync(11)
    assert driver.case().current_step == 9
    rules = {f.name: f.value for f in driver.remote(9).custom_fields}[RULES]
    assert re.search(r"^berkas_sejak: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", rules,
                     re.MULTILINE), rules
    answer = _close_over_rest(driver, 9, "dev1", notes="Rencana yang sama.")
    _assert_refused_and_nothing_moved(
        driver, 9, answer,
        _outputs_refusal("Jadwal Pengembangan Aplikasi; Alur Bisnis; Dokumen analisis"))
    driver.act(9, files=tuple(f"revisi-{n}" for n in (jadwal, alur, analisis)))
    driver.sync(9)
    assert driver.case().current_step == 10


def test_step_17_waiting_to_be_known_refuses_another_account_at_save(
        driver: CaseDriver) -> None:
    """Issue 16: while the Berita Acara waits, only the parties still to know it may close
    [17], each with their own account; the rules follow each acknowledgement."""
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16])
    driver.act(17)  # the Tim Pengembang attaches the Berita Acara (no [documents])
    driver.sync(17)
    rules = {f.name: f.value for f in driver.remote(17).custom_fields}[RULES]
    assert rules.splitlines() == ["langkah: 17",
                                  "peran: pihak yang mengetahui (OPD/pemohon; Kepala Dinas)",
                                  "boleh: opd1, kadis"]
    answer = _close_over_rest(driver, 17, "dev1", notes="Saya tutup saja.")
    _assert_refused_and_nothing_moved(
        driver, 17, answer,
        "Langkah 17 hanya dapat diselesaikan oleh pihak yang mengetahui (OPD/pemohon; Kepala "
        "Dinas): opd1, kadis. Perubahan oleh dev1 ditolak.")
    driver.act(17, "opd1", attach=False)
    driver.sync(17)
    rules = {f.name: f.value for f in driver.remote(17).custom_fields}[RULES]
    assert rules.splitlines()[-1] == "boleh: kadis"
    answer = _close_over_rest(driver, 17, "opd1")
    assert answer.status_code == 422, answer.text[:500]
    driver.act(17, "kadis", attach=False)
    driver.sync(17)
    assert driver.case().status.value == "closed"
