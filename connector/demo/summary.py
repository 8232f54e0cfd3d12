"""The demo's last words: where the documents are, and how to look at Redmine and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.demo.progress import Progress
from connector.demo.roles import RedmineRoles

#: Attachment name prefixes of the documents a finished case carries, by its end status.
DOCUMENTS = {
    "closed": (("berita-acara-", "Berita Acara Pekerjaan"),),
    "rejected": (("laporan-ketidaktersediaan-", "Laporan ketidaktersediaan"),
                 ("surat-ketidaktersediaan-", "Surat kepada OPD")),
}
ROLE_LOGINS = ("kadis", "kabid", "kasi", "bidangti", "dev1", "dev2", "opd1")


@dataclass(frozen=True)
class Summary:
    """What the demo produced and where to look."""

    documents: dict[str, Path]  # label -> the PDF, downloaded from the case in Redmine
    case: dict[str, Any]
    redmine_url: str
    passwords: dict[str, str]
    dashboard_url: str
    dashboard_token: str
    config: Path
    local_git: Path | None
    seconds: float

    @property
    def case_url(self) -> str:
        return f"{self.redmine_url}/issues/{self.case['redmine_issue_id']}"


def fetch_documents(roles: RedmineRoles, case: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Download the finished case's documents (PDF and DOCX) from Redmine; the PDFs by label."""
    found: dict[str, Path] = {}
    for prefix, label in DOCUMENTS.get(case["status"], ()):
        files = roles.download(int(case["redmine_issue_id"]), prefix, folder)
        pdfs = [f for f in files if f.suffix == ".pdf"]
        if pdfs:
            found[label] = pdfs[-1]
    return found


def print_summary(summary: Summary, progress: Progress, *, waiting: bool) -> None:
    """The closing lines: documents, Redmine with its logins, the dashboard."""
    status = {"closed": "selesai", "rejected": "ditolak"}.get(summary.case["status"],
                                                             summary.case["status"])
    progress.heading(f"Kasus {summary.case['nomor_surat']} {status} "
                     f"({summary.seconds:.0f} detik).")
    for label, path in summary.documents.items():
        progress.info(f"{label} (PDF): {path}")
    progress.info(f"Redmine: {summary.case_url}")
    if summary.passwords:
        admin = summary.passwords.get("admin", "")
        progress.info(f"  masuk sebagai admin / {admin}")
        people = ", ".join(f"{login} / {summary.passwords[login]}"
                           for login in ROLE_LOGINS if login in summary.passwords)
        progress.info(f"  pelaksana: {people}")
    progress.info(f"Dasbor: {summary.dashboard_url}")
    progress.info("  masuk dengan akun Redmine di atas, atau dengan token akses "
                  f"{summary.dashboard_token} di {summary.dashboard_url}/masuk")
    progress.info(f"Konfigurasi: {summary.config}")
    if summary.local_git is not None:
        progress.info(f"Repositori git lokal (langkah 8): {summary.local_git}")
    if waiting:
        progress.info("Redmine dan layanan tetap berjalan; tekan Ctrl-C untuk berhenti.")
