"""The step 12 gate on GitLab: read the project, then ``connector.codehost.deliverables`` judges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import quote

from gitlab.v4.objects import Project

from connector.codehost import DeliverableStatus
from connector.codehost.deliverables import APPLICATION, WIKI_PREFIX, is_source, judge
from connector.codehost.seeds import BRANCH
from connector.gitlab.client import found


def check(project: Project, web_url: str = "") -> list[DeliverableStatus]:
    """One status per output of step 12, in the SOP's order, linked where each was found.

    With the project's ``web_url`` each present output gets the address of what the gate
    accepted: the repository, the file's page ``-/blob/main/<path>`` or the wiki page
    ``-/wikis/<slug>`` (GitLab's web routes), so a document filled in the wiki is not
    linked to its ``docs/`` file that still holds the template.
    """
    pages = project.wikis.list(with_content=1, get_all=True)
    wiki = {str(page.title): str(getattr(page, "content", "")) for page in pages}
    slugs = {str(page.title): str(page.slug) for page in pages}
    source = found(lambda: _first_source_file(project))
    statuses = judge(source, partial(_file_text, project), wiki)
    return [replace(s, url=_link(web_url, s, slugs)) if web_url and s.present else s
            for s in statuses]


def _link(web_url: str, status: DeliverableStatus, slugs: Mapping[str, str]) -> str:
    where = status.where or ""
    if status.name == APPLICATION:
        return web_url
    if where.startswith(WIKI_PREFIX):
        slug = slugs.get(where.removeprefix(WIKI_PREFIX), where.removeprefix(WIKI_PREFIX))
        return f"{web_url}/-/wikis/{quote(slug, safe='/')}"
    return f"{web_url}/-/blob/{BRANCH}/{quote(where, safe='/')}"


def _first_source_file(project: Project) -> str | None:
    """The first file of the tree that is not a seed; stops reading pages once found."""
    entries: Iterable[Mapping[str, Any]] = project.repository_tree(
        recursive=True, ref=BRANCH, iterator=True)
    for entry in entries:
        path = str(entry["path"])
        if entry["type"] == "blob" and is_source(path):
            return path
    return None


def _file_text(project: Project, path: str) -> str | None:
    current = found(lambda: project.files.get(file_path=path, ref=BRANCH))
    return None if current is None else current.decode().decode("utf-8", "replace")


