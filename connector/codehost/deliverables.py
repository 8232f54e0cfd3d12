"""The step 12 gate, judged from what any code host holds: are the seven outputs there?

SOP step 12 outputs "Aplikasi" and six documents. The application counts as present once
the ``main`` branch holds a file that is not a seed (anything outside ``docs/``,
``README.md``, ``CONTRIBUTING.md`` and top-level dot files such as ``.gitlab-ci.yml``). A
document counts once its file under ``docs/`` or its wiki page exists, is not empty, and no
longer holds ``SEED_MARKER``, the line the seed starts with. Reasons are in Indonesian for the
Redmine note that ``checklist_note`` writes. The adapters read their host
(``connector.gitlab.deliverables``, ``connector.localgit``) and call ``judge``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from connector.codehost import DeliverableStatus
from connector.codehost.seeds import BRANCH, DOCUMENTS, ROOT_FILES, SEED_MARKER, Document

APPLICATION = "Aplikasi"

WIKI_PREFIX = "wiki: "


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


def _filled(text: str | None) -> bool:
    return text is not None and bool(text.strip()) and SEED_MARKER not in text
