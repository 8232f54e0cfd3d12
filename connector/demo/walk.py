"""Walk a case through the SOP: each person acts in Redmine, then the service answers.

After each action the walker tells the service the way the redmine_webhook plugin would
(``POST /webhooks/redmine/<secret>``) unless hints are off, and in any case waits on
``GET /api/cases/<id>`` until the case has moved: the service re-reads the issue from Redmine
(hint or poll) and decides, exactly as for a real office. A step the service refuses (wrong
person, missing document, deliverables not there) stops the demo with the service's note.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.demo.git_work import application_files, push_work
from connector.demo.progress import Progress
from connector.demo.roles import RedmineRoles
from connector.demo.scenarios import REJECTED, Action
from connector.demo.service import ServiceClient, ServiceError
from connector.sop.model import Sop

PEOPLE = {
    "kadis": "Kepala Dinas (kadis)", "kabid": "Kepala Bidang TI (kabid)",
    "kasi": "Kepala Seksi Aplikasi & E-Government (kasi)",
    "bidangti": "Bidang TI (bidangti)", "dev1": "Tim Pengembang (dev1)",
    "dev2": "Tim Pengembang (dev2)", "opd1": "Tim Teknis OPD Dinas Kesehatan (opd1)",
}
REFUSED = "completion_refused"
ACKNOWLEDGED = "step_acknowledged"
AWAITING = "acknowledgement_awaited"


@dataclass
class CaseWalker:
    """Plays the people of one case, and reports what the service did in answer."""

    roles: RedmineRoles
    client: ServiceClient
    progress: Progress
    sop: Sop
    repository_of: Callable[[int], str | None]  # case id -> clone address, None: no repo
    workspace: Path
    hints: bool = True
    step_seconds: float = 180

    def walk(self, case_id: int, actions: Sequence[Action]) -> dict[str, Any]:
        """Carry out ``actions`` in order; the case as it ends."""
        case = self.client.case(case_id)
        for action in actions:
            if action.by_hand_only and _state(case, action.step) == "done":
                continue
            if case["current_step"] != action.step:
                raise ServiceError(f"langkah {action.step} diharapkan aktif, tetapi kasus di "
                                   f"langkah {case['current_step']} ({case['status']})")
            case = self._act(case_id, case, action)
        return case

    def _act(self, case_id: int, case: dict[str, Any], action: Action) -> dict[str, Any]:
        title = self.sop.step(action.step).title
        if action.push:
            self._push(case_id, action)
        verb = ("menolak (status Rejected = tidak)" if action.status == REJECTED
                else "menyelesaikan subtugas (status Closed)")
        files = ", ".join(name for name, _ in action.documents)
        extra = (f", melampirkan {files}" if files else "") + \
            (f", mengisi Tim Pengembang: {', '.join(action.team)}" if action.team else "") + \
            (f", mengisi Temuan Verifikasi: {', '.join(action.findings)}"
             if action.findings else "")
        self.progress.action(action.step, title, PEOPLE.get(action.login, action.login),
                             f"{verb}{extra}\n        “{action.notes}”")
        issue_id = _issue_of(case, action.step)
        journal = self.roles.close_step(issue_id, action.login, status=action.status,
                                        notes=action.notes, uploads=action.uploads(),
                                        team=action.team, findings=action.findings)
        if self.hints:
            self.client.redmine_hint(issue_id, journal)
        seen, acted_at = len(case["timeline"]), time.monotonic()
        self.progress.waiting("menunggu sop-connector membaca Redmine")
        after = self.client.wait_for(case_id, lambda c: _moved(c, action.step, seen),
                                     seconds=self.step_seconds, tick=self.progress.tick)
        self.progress.info(f"        sop-connector menanggapi dalam "
                           f"{time.monotonic() - acted_at:.0f} detik")
        if any(e["action"] == REFUSED for e in after["timeline"][seen:]):
            raise ServiceError(f"sop-connector menolak langkah {action.step}: "
                               f"{self.roles.latest_note(issue_id)}")
        self._report(case, after, action.step)
        return after

    def _push(self, case_id: int, action: Action) -> None:
        remote = self.repository_of(case_id)
        if remote is None:
            self.progress.warning("tanpa code host: Tim Pengembang bekerja di luar sop-connector")
            return
        commit = push_work(remote, self.workspace / f"kasus-{case_id}", action.push,
                           application_files(action.push),
                           author=("Pengembang Satu", "dev1@example.test"))
        self.progress.info(f"        ↑ Tim Pengembang mendorong kode aplikasi dan 6 dokumen ke "
                           f"{remote} (commit {commit[:8]})")

    def _report(self, before: dict[str, Any], after: dict[str, Any], acted: int) -> None:
        for step in _newly_done(before, after):
            if step != acted:
                title = self.sop.step(step).title
                self.progress.service(f"langkah {step} dikerjakan sop-connector: {title}")
        new = after["timeline"][len(before["timeline"]):]
        if any(e["action"] == ACKNOWLEDGED for e in new):
            self.progress.service(f"Berita Acara Pekerjaan diketahui oleh {new[0]['actor']}")
        if after["status"] == "closed":
            self.progress.service("kasus selesai: Berita Acara Pekerjaan diketahui OPD dan "
                                  "Kepala Dinas, kasus ditutup")
        elif any(e["action"] == AWAITING for e in new):
            what = ("surat kepada OPD menunggu tanda tangan elektronik"
                    if self.sop.step(after["current_step"]).next is None
                    and not self.sop.step(after["current_step"]).acknowledged_by
                    else "Berita Acara Pekerjaan menunggu diketahui")
            self.progress.service(f"langkah {after['current_step']} menunggu tanda tangan: "
                                  f"{what}")
        elif after["status"] == "rejected":
            self.progress.service("kasus ditutup sebagai ditolak: laporan ketidaktersediaan "
                                  "dan surat kepada OPD dilampirkan")
        else:
            current = after["current_step"]
            back = " (kembali)" if current < acted else ""
            self.progress.service(f"langkah {current} aktif{back}: "
                                  f"{self.sop.step(current).title}")


def _moved(case: dict[str, Any], step: int, seen: int) -> bool:
    answered = any(e["action"] in (REFUSED, ACKNOWLEDGED, AWAITING)  # 7 waits for its letter
                   for e in case["timeline"][seen:])
    return answered or case["status"] != "open" or case["current_step"] != step


def _state(case: dict[str, Any], step: int) -> str | None:
    return next((s["state"] for s in case["steps"] if s["step"] == step), None)


def _issue_of(case: dict[str, Any], step: int) -> int:
    issue = next((s["redmine_issue_id"] for s in case["steps"] if s["step"] == step), None)
    if issue is None:
        raise ServiceError(f"langkah {step} belum punya subtugas di Redmine")
    return int(issue)


def _newly_done(before: dict[str, Any], after: dict[str, Any]) -> list[int]:
    done_before = {s["step"] for s in before["steps"] if s["state"] == "done"}
    return sorted(s["step"] for s in after["steps"]
                  if s["state"] == "done" and s["step"] not in done_before)
