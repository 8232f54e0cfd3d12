"""GitLabCodeHost: the CodeHost port over GitLab's REST API (python-gitlab), SOP step 8.

Provisioning is a list of parts (``PARTS``). Each part first reads what GitLab has and
turns the difference into to-dos, each a short Indonesian line and the call that does it:
``plan`` shows the lines, ``provision`` runs the calls. So a re-run after a crash anywhere,
or after a timeout whose request GitLab did carry out, only completes what is missing
(RELIABILITY promise 4), and a second run only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from gitlab.v4.objects import Project

from connector.codehost import DeliverableStatus, ProjectRequest, ProvisionedProject
from connector.codehost.naming import candidate_paths, slugify
from connector.config.secret import Secret
from connector.errors import RemoteRejected
from connector.faults import fault_point
from connector.gitlab import creation, deliverables, hooks, parts, wiki_links
from connector.gitlab.blobs import BlobTexts
from connector.gitlab.client import connect, found, translated_errors
from connector.gitlab.naming import display_name, is_ours, marker_topic

PARTS = ("project", "files", "protection", "wiki", "members", "milestone", "hook")


class GitLabCodeHost:
    """One repository per case in ``group_path``, found again by the case's marker."""

    def __init__(self, url: str, token: Secret | str, group_path: str, *,
                 timeout: float = 30.0, ssl_verify: bool = True,
                 policy: parts.Policy | None = None) -> None:
        self._gl = connect(url, token, timeout=timeout, ssl_verify=ssl_verify)
        self._policy = policy or parts.Policy()
        self._url = url
        self._group = group_path.strip("/")
        self._texts = BlobTexts()  # documents read by the gate, by blob id

    def __repr__(self) -> str:
        return f"GitLabCodeHost({self._url!r}, group={self._group!r})"

    def plan(self, request: ProjectRequest) -> list[str]:
        """Dry run, reads only: one line per thing ``provision`` would create or change."""
        with translated_errors(f"planning the repository of {request.case_key}"):
            project, path = self._find_project(request)
            if project is None:
                return [f"Buat proyek {self._group}/{path} (privat, cabang {parts.BRANCH}, "
                        "wiki aktif)", *parts.fresh_plan(self._gl, request, self._policy)]
            return [line for name in PARTS[1:]
                    for line, _ in parts.todo(name, self._gl, project, request, self._policy)]

    def provision(self, request: ProjectRequest, *,
                  record_part: Callable[[str], None] | None = None) -> ProvisionedProject:
        """Create whatever is missing, calling ``record_part(name)`` after each part."""
        record = record_part or (lambda name: None)
        with translated_errors(f"finding or creating the project of {request.case_key}"):
            project, created = self._ensure_project(request)
        changed = ["project"] if created else []
        record("project")
        fault_point("gitlab.after_project")
        for name in PARTS[1:]:
            with translated_errors(f"provisioning {name} of {request.case_key}"):
                todos = parts.todo(name, self._gl, project, request, self._policy,
                                   fresh=created)
                for _, call in todos:
                    call()
            if todos:
                changed.append(name)
            record(name)
            fault_point(f"gitlab.after_{name}")
        return _provisioned(project, tuple(changed), request.hook_url)

    def set_milestone_due(self, project: ProvisionedProject, title: str, due: date) -> None:
        """Create the milestone ``title`` with ``due``, or move its due date."""
        with translated_errors(f"setting the due date of milestone {title!r}"):
            for _, call in parts.milestone_todo(self._lazy(project), title, due):
                call()

    def deliverables(self, project: ProvisionedProject) -> list[DeliverableStatus]:
        """The state of each of step 12's seven outputs, read from the repository and wiki."""
        with translated_errors(f"checking the deliverables of {project.path_with_namespace}"):
            return deliverables.check(self._lazy(project), project.web_url, self._texts)

    def hooks_healthy(self, project: ProvisionedProject) -> bool:
        """Our hook exists and GitLab has not auto-disabled it (``alert_status``)."""
        with translated_errors(f"reading the hooks of {project.path_with_namespace}"):
            listed = self._lazy(project).hooks.list(get_all=True)
        ours = [h for h in listed if project.hook_url in (None, h.url)]
        return bool(ours) and all(hooks.hook_enabled(h.attributes) for h in ours)

    def service_username(self) -> str:
        """The username of the token's user (``GET /user``)."""
        with translated_errors("reading the token's own GitLab user"):
            self._gl.auth()
            assert self._gl.user is not None
            return str(self._gl.user.username)

    def repair_hooks(self, project: ProvisionedProject) -> bool:
        """Re-enable our disabled hooks with a test delivery; True when all are enabled now."""
        with translated_errors(f"re-enabling the hooks of {project.path_with_namespace}"):
            lazy = self._lazy(project)
            ours = [h for h in lazy.hooks.list(get_all=True)
                    if project.hook_url in (None, h.url)]
            return bool(ours) and all(hooks.hook_enabled(h.attributes)
                                      or hooks.reenable(lazy, int(h.id)) for h in ours)

    def link_on_home(self, project: ProvisionedProject, title: str, url: str) -> None:
        """Add ``- [title](url)`` under "## Dokumen" on the wiki's home page, unless there."""
        with translated_errors(f"linking {url} on the wiki of {project.path_with_namespace}"):
            wiki_links.link_on_home(self._lazy(project), title, url)

    def _lazy(self, project: ProvisionedProject) -> Project:
        return self._gl.projects.get(project.id, lazy=True)

    def _find_project(self, request: ProjectRequest) -> tuple[Project | None, str]:
        """Our project (by marker topic, then by path), or None and the first free path."""
        topic = marker_topic(request.case_key)
        for listed in self._gl.projects.list(topic=topic, get_all=True):
            in_group = str(listed.namespace["full_path"]).lower() == self._group.lower()
            if in_group and is_ours(listed.attributes, request.case_key):
                return listed, listed.path
        for path in candidate_paths(slugify(request.slug_source)):
            project = found(partial(self._gl.projects.get, f"{self._group}/{path}"))
            if project is None:
                return None, path
            if is_ours(project.attributes, request.case_key):
                return project, path
        raise RemoteRejected(f"every path for {request.slug_source!r} in {self._group} is "
                             "taken by other projects: choose another application name")

    def _ensure_project(self, request: ProjectRequest) -> tuple[Project, bool]:
        project, path = self._find_project(request)
        if project is not None:
            return project, False
        group = self._gl.groups.get(self._group)
        slug = slugify(request.slug_source)
        data: dict[str, Any] = {
            "namespace_id": group.id,
            "description": _description(request),
            "visibility": "private", "initialize_with_readme": True,
            "default_branch": parts.BRANCH, "wiki_access_level": "enabled",
            "topics": [marker_topic(request.case_key)],
        }
        paths = list(candidate_paths(slug))
        created = creation.create(
            self._gl.projects.create, data,
            lambda p: display_name(request.title, p.removeprefix(slug).lstrip("-")),
            paths[paths.index(path):], self._group, request.case_key)
        return created, True


def _description(request: ProjectRequest) -> str:
    """The OPD's description and the marker line; the full name first when GitLab's differs."""
    full = "" if display_name(request.title) == request.title else f"{request.title}\n\n"
    return f"{full}{request.description}\n\nKunci SOP: {request.case_key}"


def _provisioned(project: Project, changed: tuple[str, ...], hook_url: str) -> ProvisionedProject:
    web_url = str(project.web_url)
    return ProvisionedProject(id=int(project.id),
                              path_with_namespace=str(project.path_with_namespace),
                              web_url=web_url, wiki_url=f"{web_url}/-/wikis/home",
                              created_parts=changed, hook_url=hook_url)
