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
from connector.codehost.seeds import BRANCH, DOCUMENTS
from connector.gitlab.blobs import BlobTexts
from connector.gitlab.client import found


def check(project: Project, web_url: str = "",
          texts: BlobTexts | None = None) -> list[DeliverableStatus]:
    """One status per output of step 12, in the SOP's order, linked where each was found.

    With the project's ``web_url`` each present output gets the address of what the gate
    accepted: the repository, the file's page ``-/blob/main/<path>`` or the wiki page
    ``-/wikis/<slug>`` (GitLab's web routes), so a document filled in the wiki is not
    linked to its ``docs/`` file that still holds the template. One listing of the tree
    gives the first source file and each document's blob id; a document is read by that
    id unless ``texts`` holds it already (``connector.gitlab.blobs``).
    """
    pages = project.wikis.list(with_content=1, get_all=True)
    wiki = {str(page.title): str(getattr(page, "content", "")) for page in pages}
    slugs = {str(page.title): str(page.slug) for page in pages}
    listed = found(lambda: _tree(project))
    source, blobs = listed if listed is not None else (None, {})
    statuses = judge(source, partial(_file_text, project, blobs, texts or BlobTexts()), wiki)
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


def _tree(project: Project) -> tuple[str | None, dict[str, str]]:
    """The first file of ``main`` that is not a seed, and the blob id of each document.

    Pages are read until both are known (or the tree ends): a document not listed is
    missing. Since GitLab 17.7 the tree of a missing branch is 404 (``found`` gives None).
    """
    wanted = {doc.path for doc in DOCUMENTS}
    source: str | None = None
    blobs: dict[str, str] = {}
    entries: Iterable[Mapping[str, Any]] = project.repository_tree(
        recursive=True, ref=BRANCH, iterator=True)
    for entry in entries:
        if entry["type"] != "blob":
            continue
        path = str(entry["path"])
        if path in wanted:
            blobs[path] = str(entry["id"])
        elif source is None and is_source(path):
            source = path
        if source is not None and len(blobs) == len(wanted):
            break
    return source, blobs


def _file_text(project: Project, blobs: Mapping[str, str], texts: BlobTexts,
               path: str) -> str | None:
    """The text of ``path`` as the tree listed it (None: not in the tree)."""
    blob_id = blobs.get(path)
    if blob_id is None:
        return None
    text = texts.get(blob_id)
    if text is None:
        raw = found(lambda: project.repository_raw_blob(blob_id))
        if not isinstance(raw, bytes):
            return None  # gone since the listing (a force push): missing for now
        text = raw.decode("utf-8", "replace")
        texts.put(blob_id, text)
    return text
