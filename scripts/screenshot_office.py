"""The people of scripts/screenshots: the service, Redmine's users, and the camera.

``Office`` sends letters to the service, lets each role's user close their subtask over
Redmine's REST API (followed by the hint the redmine_webhook plugin would send), waits until
the service has moved the case, and photographs pages as a signed-in user would see them.
"""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cdp_pipe import Browser
from redminelib import Redmine

from tests.redmine_server import RedmineServer

PDF = b"%PDF-1.4\n% contoh dokumen\n"


def letter(opd: str, nomor: str, perihal: str, aplikasi: str, deskripsi: str,
           kontak: tuple[str, str, str]) -> dict[str, Any]:
    nama, jabatan, email = kontak
    return {"nomor_surat": nomor, "tanggal_surat": date.today().isoformat(), "opd": opd,
            "perihal": perihal, "nama_aplikasi": aplikasi, "deskripsi": deskripsi,
            "kontak": {"nama": nama, "jabatan": jabatan, "email": email,
                       "telepon": "0371-21234"},
            "lampiran": [{"nama_file": "surat-permohonan.pdf", "content_type": "application/pdf",
                          "isi_base64": base64.b64encode(PDF).decode()}]}


class Office:
    """The service, the Redmine people and the browser that photographs what they see."""

    def __init__(self, redmine: RedmineServer, base_url: str, browser: Browser,
                 env: dict[str, str], out: Path) -> None:
        self.redmine, self.base, self.browser, self.env = redmine, base_url, browser, env
        self.out = out
        admin = Redmine(redmine.url, key=redmine.admin_key)
        self.status = {s.name: s.id for s in admin.issue_status.all()}
        self.field = {f.name: f.id for f in admin.custom_field.all()}
        self.user = {u.login: u.id for u in admin.user.all()}
        for uid in self.user.values():  # Redmine's own Indonesian translation of its UI
            admin.user.update(uid, language="id")

    # --- the service ---------------------------------------------------------------
    def api(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.env['SOP_INTAKE_TOKEN']}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.load(answer))

    def send(self, sent: dict[str, Any]) -> int:
        case_id = int(self.api("/webhooks/intake", sent)["case_id"])
        self.wait(case_id, 2)
        return case_id

    def wait(self, case_id: int, step: int | set[int] | None,
             status: str | None = None) -> dict[str, Any]:
        """Wait until the case is at ``step`` (or has ``status``), as the poller moves it."""
        steps = step if isinstance(step, set) else {step}
        case: dict[str, Any] = {}
        for _ in range(240):
            case = self.api(f"/api/cases/{case_id}")
            if (status is None and case["current_step"] in steps) or case["status"] == status:
                return case
            time.sleep(0.5)
        raise SystemExit(f"screenshots: case {case_id} stuck: step {case.get('current_step')}, "
                         f"status {case.get('status')}; see the service log")

    def issue_of(self, case_id: int, step: int | None = None) -> int:
        case = self.api(f"/api/cases/{case_id}")
        if step is None:
            return int(case["redmine_issue_id"])
        return next(int(s["redmine_issue_id"]) for s in case["steps"] if s["step"] == step)

    # --- the people ----------------------------------------------------------------
    def act(self, case_id: int, step: int, login: str, *, status: str = "Closed",
            notes: str = "", attach: str = "", team: tuple[str, ...] = ()) -> None:
        """``login`` closes (or rejects) their subtask in Redmine, as they would by hand."""
        person = Redmine(self.redmine.url, key=self.redmine.user_keys[login])
        fields: dict[str, Any] = {"status_id": self.status[status], "notes": notes}
        if attach:
            upload = person.upload(io.BytesIO(PDF), filename=attach)
            fields["uploads"] = [{"token": upload["token"], "filename": attach,
                                  "content_type": "application/pdf"}]
        if team:
            fields["custom_fields"] = [{"id": self.field["Tim Pengembang"],
                                        "value": [self.user[m] for m in team]}]
        issue_id = self.issue_of(case_id, step)
        person.issue.update(issue_id, **fields)
        self.hint(issue_id)

    def wait_note(self, issue_id: int, text: str) -> None:
        """Wait until the service has written a note containing ``text`` on the issue."""
        admin = Redmine(self.redmine.url, key=self.redmine.admin_key)
        for _ in range(240):
            issue = admin.issue.get(issue_id, include=["journals"])
            if any(text in (j.notes or "") for j in issue.journals):
                return
            time.sleep(0.5)
        raise SystemExit(f"screenshots: no note {text!r} on issue {issue_id}")

    def hint(self, issue_id: int) -> None:
        """Tell the service, as the redmine_webhook plugin would, that the issue changed."""
        body = {"payload": {"action": "updated", "issue": {
            "id": issue_id, "updated_on": datetime.now(UTC).isoformat()}}}
        secret = self.env["SOP_REDMINE_WEBHOOK_SECRET"]
        request = urllib.request.Request(f"{self.base}/webhooks/redmine/{secret}",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).close()

    def walk(self, case_id: int, steps: list[tuple[int, str, dict[str, Any]]]) -> None:
        for step, login, given in steps:
            options = dict(given)
            after = options.pop("then", step + 1)
            self.act(case_id, step, login, **options)
            if after == "closed":
                self.wait(case_id, None, "closed")
            elif after is not None:
                self.wait(case_id, after)

    # --- the browser ---------------------------------------------------------------
    def sign_in(self, login: str) -> None:
        self.browser.clear_cookies()
        self.browser.goto(f"{self.redmine.url}/login")
        self.browser.run(
            f"document.getElementById('username').value = {json.dumps(login)};"
            f"document.getElementById('password').value = "
            f"{json.dumps(self.redmine.passwords[login])};"
            "document.getElementById('login-submit').click();", navigates=True)

    def shot(self, name: str, login: str, path: str, *, script: str = "",
             max_height: int = 2400) -> None:
        self.sign_in(login)
        self.browser.goto(self.redmine.url + path)
        if script:
            self.browser.run(script)
        self.browser.screenshot(self.out / f"{name}.png", max_height=max_height)
        print(f"  {name}.png", flush=True)

    def dashboard(self, name: str, path: str) -> None:
        self.browser.clear_cookies()
        token = self.env["SOP_DASHBOARD_TOKEN"]
        self.browser.goto(f"{self.base}/dashboard/masuk?next={path}")  # the token: POST only
        self.browser.run("var t = document.querySelector('input[name=token]');"
                         f"t.value = {json.dumps(token)}; t.form.submit();", navigates=True)
        self.browser.screenshot(self.out / f"{name}.png")
        print(f"  {name}.png", flush=True)


def edit_form(status: str, notes: str, highlight: tuple[str, ...] = ()) -> str:
    """JavaScript that fills the edit form for illustration and outlines what matters."""
    outline = "".join(f"document.querySelector({json.dumps(css)}).style.outline = "
                      "'3px solid #d0021b';" for css in highlight)
    return ("var s = document.getElementById('issue_status_id');"
            f"for (var o of s.options) {{ if (o.text === {json.dumps(status)}) "
            "s.value = o.value; }"
            f"document.getElementById('issue_notes').value = {json.dumps(notes)};" + outline)
