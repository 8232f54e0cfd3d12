"""LocalGitCodeHost: the CodeHost port over bare git repositories on this server's disk.

For a demo or an office without GitLab, SOP step 8 ("menyediakan sourcecode repository")
creates ``<root>/<slug>.git`` and its wiki ``<root>/<slug>.wiki.git`` (bare, as GitLab
stores a wiki), seeded from the same templates as a GitLab project, and step 12's gate reads
the ``main`` branches with the same rules. The case's key, kept as ``sop.caseKey`` in the
repository's git config, is the marker that finds it again, so a re-run completes what a
crash left undone and duplicates nothing. No hook is installed: ``hooks_healthy`` is True.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from connector.codehost import DeliverableStatus, ProjectRequest, ProvisionedProject
from connector.codehost.deliverables import is_source, judge
from connector.codehost.naming import candidate_paths, slugify
from connector.codehost.seeds import DOCUMENTS, HOME_PAGE
from connector.codehost.wiki_links import has_link, link_line, with_link
from connector.errors import RemoteRejected
from connector.localgit import parts
from connector.localgit.git import BRANCH, Author, BareRepo, create_bare

PARTS = ("project", "files", "wiki", "milestone")
DEFAULT_AUTHOR = Author("sop-connector", "sop-connector@localhost")
LINK_MESSAGE = "Tautan {title} di Beranda"


def project_id(case_key: str) -> int:
    """A stable id for the store (positive, 31 bits), derived from the case's key."""
    return int(hashlib.sha256(case_key.encode("utf-8")).hexdigest()[:8], 16) & 0x7FFFFFFF


class LocalGitCodeHost:
    """One bare repository and wiki per case under ``root``, found by the case's marker."""

    def __init__(self, root: Path, *, base_url: str = "",
                 author: Author = DEFAULT_AUTHOR) -> None:
        self._root = root
        self._base_url = base_url.rstrip("/")
        self._author = author

    def __repr__(self) -> str:
        return f"LocalGitCodeHost({str(self._root)!r})"

    def plan(self, request: ProjectRequest) -> list[str]:
        """Dry run, reads only: one line per thing ``provision`` would create or change."""
        project, ours = self._find(request)
        if not ours:
            return [f"Buat repositori git {project.main.path} (bare, cabang {BRANCH})",
                    *parts.fresh_plan(project, request)]
        return [line for name in PARTS[1:] for line, _ in parts.todo(name, project, request)]

    def provision(self, request: ProjectRequest, *,
                  record_part: Callable[[str], None] | None = None) -> ProvisionedProject:
        """Create whatever is missing, calling ``record_part(name)`` after each part."""
        record = record_part or (lambda name: None)
        project, created = self._ensure(request)
        changed = ["project"] if created else []
        record("project")
        for name in PARTS[1:]:
            todos = parts.todo(name, project, request)
            for _, call in todos:
                call()
            if todos:
                changed.append(name)
            record(name)
        return ProvisionedProject(project_id(request.case_key), project.name, project.web_url,
                                  project.wiki_url, created_parts=tuple(changed))

    def set_milestone_due(self, project: ProvisionedProject, title: str, due: date) -> None:
        """Record the milestone ``title`` with ``due``, or move its due date."""
        for _, call in parts.milestone_todo(self._local(project).main, title, due):
            call()

    def deliverables(self, project: ProvisionedProject) -> list[DeliverableStatus]:
        """The state of each of step 12's seven outputs, read from both ``main`` branches."""
        local = self._local(project)
        source = next((path for path in local.main.files() if is_source(path)), None)
        wanted = {doc.wiki_title for doc in DOCUMENTS if doc.wiki_title}
        wiki: dict[str, str] = {}
        for path in local.wiki.files():
            if parts.page_title(path) in wanted:
                wiki[parts.page_title(path)] = local.wiki.read(path) or ""
        return judge(source, local.main.read, wiki)

    def hooks_healthy(self, project: ProvisionedProject) -> bool:
        """Always True: the local host installs no hook that could be disabled."""
        return True

    def repair_hooks(self, project: ProvisionedProject) -> bool:
        """Always True: there is no hook to re-enable."""
        return True

    def service_username(self) -> str:
        """Local git has no users: every commit is the configured author's."""
        return ""

    def link_on_home(self, project: ProvisionedProject, title: str, url: str) -> None:
        """Commit ``- [title](url)`` under "## Dokumen" on the wiki's Beranda, unless there."""
        local = self._local(project)
        parts.ensure_wiki(local)
        home = parts.page_file(HOME_PAGE)
        content = local.wiki.read(home)
        if content is not None and has_link(content, url):
            return
        local.wiki.commit({home: with_link(content or "", link_line(title, url))},
                          LINK_MESSAGE.format(title=title), self._author)

    def _project(self, name: str) -> parts.LocalProject:
        main = BareRepo(self._root / f"{name}.git")
        wiki = BareRepo(self._root / f"{name}.wiki.git")
        return parts.LocalProject(name, main, wiki, self._url(main), self._url(wiki),
                                  self._author)

    def _url(self, repo: BareRepo) -> str:
        if self._base_url:
            return f"{self._base_url}/{repo.path.name}"
        return repo.path.absolute().as_uri()

    def _local(self, project: ProvisionedProject) -> parts.LocalProject:
        return self._project(project.path_with_namespace)

    def _find(self, request: ProjectRequest) -> tuple[parts.LocalProject, bool]:
        """The case's repositories (True) or those at the first free name (False).

        Every name is tried for the marker first: the case's repository may sit at
        ``<slug>-2`` while ``<slug>`` has been freed since.
        """
        projects = [self._project(name) for name in candidate_paths(slugify(request.slug_source))]
        for project in projects:
            if project.main.config(parts.MARKER_KEY) == request.case_key:
                return project, True
        for project in projects:
            if not project.main.path.exists() and not project.wiki.path.exists():
                return project, False
        raise RemoteRejected(f"every repository name for {request.slug_source!r} in "
                             f"{self._root} is taken: choose another application name")

    def _ensure(self, request: ProjectRequest) -> tuple[parts.LocalProject, bool]:
        for _ in range(3):  # another run may take the free name first
            project, ours = self._find(request)
            if ours:
                return project, False
            description = f"{request.title}: {request.description} (Kunci SOP: " \
                          f"{request.case_key})"
            if create_bare(project.main, {parts.MARKER_KEY: request.case_key}, description):
                return project, True
        raise RemoteRejected(f"could not create the repository of {request.case_key} in "
                             f"{self._root}")
