"""The code host port: what SOP steps 8 and 12 need from GitLab, in our own words.

Step 8: "Kepala Seksi Aplikasi & E-Government membuat project baru, menyediakan sourcecode
repository, dan menugaskan tenaga ahli sebagai Tim Pengembang". Step 12 ends when its seven
outputs exist. Adapters (``connector.gitlab.GitLabCodeHost``) implement this port and return
these dataclasses, never the client library's objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from connector.codehost.naming import MARKER_LINE
from connector.config.secret import Secret
from connector.errors import RemoteRejected


@dataclass(frozen=True)
class ProjectRequest:
    """Everything needed to provision one case's repository, found again by ``case_key``."""

    case_key: str
    slug_source: str  # the application's name, from which the repository path is made
    title: str
    description: str
    opd_name: str
    nomor_surat: str
    tanggal_surat: date
    team_usernames: tuple[str, ...]  # GitLab usernames, added as Developer
    maintainer_usernames: tuple[str, ...]  # GitLab usernames, added as Maintainer
    milestone_title: str
    milestone_due: date | None
    hook_url: str
    hook_token: Secret = field(repr=False)


@dataclass(frozen=True)
class ProvisionedProject:
    """A provisioned repository; ``created_parts`` names the parts this run created or changed."""

    id: int
    path_with_namespace: str
    web_url: str
    wiki_url: str
    created_parts: tuple[str, ...] = ()
    hook_url: str | None = None  # our hook; None makes hooks_healthy check every hook


@dataclass(frozen=True)
class DeliverableStatus:
    """One output of step 12: present or not, where it was found, and why (in Indonesian)."""

    name: str
    present: bool
    where: str | None
    reason: str
    url: str | None = None  # the web page of ``where`` (wiki page or file), when the host has one


class CodeHost(Protocol):
    """The operations the SOP needs from the source code host."""

    def plan(self, request: ProjectRequest) -> list[str]:
        """Dry run: one short Indonesian line per thing that provisioning would create."""

    def provision(self, request: ProjectRequest, *,
                  record_part: Callable[[str], None] | None = None) -> ProvisionedProject:
        """Create whatever of the case's repository is missing; ``record_part`` after each part."""

    def set_milestone_due(self, project: ProvisionedProject, title: str, due: date) -> None:
        """Create the milestone ``title`` or move its due date to ``due``."""

    def deliverables(self, project: ProvisionedProject) -> list[DeliverableStatus]:
        """The state of each of step 12's seven outputs."""

    def hooks_healthy(self, project: ProvisionedProject) -> bool:
        """False when our hook is missing or the host has disabled it after failures."""

    def repair_hooks(self, project: ProvisionedProject) -> bool:
        """Re-enable a hook the host disabled (GitLab: a test delivery); True when healthy."""

    def service_username(self) -> str:
        """The host's name for the user the service acts as ("" on a host without users)."""

    def link_on_home(self, project: ProvisionedProject, title: str, url: str) -> None:
        """Add a link line to the wiki's home page (Beranda) unless one with that URL is there."""


class ProjectRefused(RemoteRejected):
    """GitLab refused every name and path we tried for a case's project."""

    def __init__(self, group: str, said: str, case_key: str) -> None:
        super().__init__(
            f"Langkah 8 belum dapat membuat proyek GitLab di grup {group}. GitLab menjawab: "
            f"{said}. Yang dapat dilakukan Kasi: buat proyeknya sendiri di grup itu dengan "
            f"baris \"{MARKER_LINE}{case_key}\" di deskripsinya, lalu minta operator "
            "menjalankan ulang tugas yang gagal (`sop-connector jobs`, lalu "
            "`sop-connector jobs replay ID`); proyek itu akan dipakai dan dilengkapi.")
        self.said = said
