"""The step 12 gate: are the seven outputs of "Proses pengembangan aplikasi" there?

SOP step 12 outputs "Aplikasi" and six documents. The application counts as present once
the ``main`` branch holds a file that is not a seed (anything outside ``docs/``,
``README.md``, ``CONTRIBUTING.md`` and top-level dot files such as ``.gitlab-ci.yml``). A
document counts once its file under ``docs/`` or its wiki page exists, is not empty, and no
longer holds ``SEED_MARKER``, the line the seed starts with. Reasons are in Indonesian for the
Redmine note that ``checklist_note`` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import quote

from gitlab.v4.objects import Project

from connector.codehost import DeliverableStatus
from connector.gitlab.client import found
from connector.gitlab.seeds import BRANCH, DOCUMENTS, ROOT_FILES, SEED_MARKER, Document

APPLICATION = "Aplikasi"
WIKI_PREFIX = "wiki: "


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


def judge(source: str | None, file_text: Callable[[str], str | None],
          wiki: Mapping[str, str]) -> list[DeliverableStatus]:
    """The statuses from what any code host holds, whoever read it.

    ``source`` is the first non-seed file of the branch (None: none), ``file_text`` reads a
    file of the branch (None: missing), ``wiki`` maps page titles to their text.
    """
    return [_application(source), *(_document(doc, file_text(doc.path), wiki)
                                     for doc in DOCUMENTS)]


def checklist_note(statuses: Iterable[DeliverableStatus]) -> str:
    """A Markdown-style checklist, one line per output, for a Redmine note."""
    lines = []
    for status in statuses:
        if status.present:
            where = f" ({status.where})" if status.where else ""
            where += f" {status.url}" if status.url else ""
            lines.append(f"- [x] {status.name}{where}")
        else:
            lines.append(f"- [ ] {status.name}: {status.reason}")
    return "\n".join(lines)


def _application(source: str | None) -> DeliverableStatus:
    if source is None:
        return DeliverableStatus(APPLICATION, False, None,
                                 f"belum ada kode sumber di cabang {BRANCH}")
    return DeliverableStatus(APPLICATION, True, source, "kode sumber sudah ada")


def _first_source_file(project: Project) -> str | None:
    """The first file of the tree that is not a seed; stops reading pages once found."""
    entries: Iterable[Mapping[str, Any]] = project.repository_tree(
        recursive=True, ref=BRANCH, iterator=True)
    for entry in entries:
        path = str(entry["path"])
        if entry["type"] == "blob" and is_source(path):
            return path
    return None


def is_source(path: str) -> bool:
    """True for a file of the application itself, not a seed or a top-level dot file."""
    return not (path.startswith(("docs/", ".")) or path in ROOT_FILES)


def _document(doc: Document, file_text: str | None,
              wiki: Mapping[str, str]) -> DeliverableStatus:
    page_text = wiki.get(doc.wiki_title) if doc.wiki_title else None
    if _filled(file_text):
        return DeliverableStatus(doc.name, True, doc.path, "sudah diisi")
    if _filled(page_text):
        return DeliverableStatus(doc.name, True, f"{WIKI_PREFIX}{doc.wiki_title}", "sudah diisi")
    texts = [t for t in (file_text, page_text) if t is not None]
    if any(SEED_MARKER in t for t in texts):
        reason = "masih templat"
    elif texts:
        reason = "masih kosong"
    else:
        wiki_part = f" atau halaman wiki {doc.wiki_title}" if doc.wiki_title else ""
        reason = f"belum ada ({doc.path}{wiki_part})"
    return DeliverableStatus(doc.name, False, None, reason)


def _file_text(project: Project, path: str) -> str | None:
    current = found(lambda: project.files.get(file_path=path, ref=BRANCH))
    return None if current is None else current.decode().decode("utf-8", "replace")


def _filled(text: str | None) -> bool:
    return text is not None and bool(text.strip()) and SEED_MARKER not in text
