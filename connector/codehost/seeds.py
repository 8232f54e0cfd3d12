"""What a new repository and its wiki start with, rendered from ``templates/``.

Markdown for GitLab is rendered with autoescape OFF (HTML entities would show literally in
Markdown source; GitLab sanitizes the HTML it renders) and ``StrictUndefined``, so a missing
field fails instead of leaving a blank. Every seeded deliverable carries ``SEED_MARKER``,
an HTML comment GitLab does not display; the team deletes it once the document is written,
which is how the step 12 gate tells a filled document from the untouched template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from connector.codehost import ProjectRequest
from connector.rendering import templates_dir

BRANCH = "main"
SEED_MARKER = "<!-- templat: belum diisi -->"
HOME_PAGE = "home"  # GitLab opens a wiki on the page titled "home": our "Beranda"
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")


@dataclass(frozen=True)
class Document:
    """A document output of SOP step 12: its file under ``docs/`` and its wiki page, if any."""

    name: str  # exactly as the SOP names the output
    path: str
    wiki_title: str | None


DOCUMENTS = (
    Document("Dokumentasi dan hasil analisis", "docs/dokumentasi-analisis.md",
             "Dokumentasi dan hasil analisis"),
    Document("Dokumentasi pengembangan", "docs/dokumentasi-pengembangan.md", None),
    Document("Dokumentasi Pengujian", "docs/dokumentasi-pengujian.md", "Dokumentasi Pengujian"),
    Document("Petunjuk Instalasi", "docs/petunjuk-instalasi.md", "Petunjuk Instalasi"),
    Document("Petunjuk Penggunaan", "docs/petunjuk-penggunaan.md", "Petunjuk Penggunaan"),
    Document("Dokumentasi API", "docs/dokumentasi-api.md", "Dokumentasi API"),
)
ROOT_FILES = ("README.md", "CONTRIBUTING.md")
#: Wiki page titles and their templates under ``templates/wiki/``. A page for an SOP output is
#: titled exactly as the SOP names it: step 9's three outputs, then step 12's documents.
WIKI_PAGES = (
    (HOME_PAGE, "beranda"),
    ("Jadwal Pengembangan Aplikasi", "jadwal-pengembangan"),
    ("Alur Bisnis", "alur-bisnis"),
    ("Dokumen analisis", "dokumen-analisis"),
    ("Dokumentasi dan hasil analisis", "dokumentasi-dan-hasil-analisis"),
    ("Dokumentasi Pengujian", "dokumentasi-pengujian"),
    ("Petunjuk Instalasi", "petunjuk-instalasi"),
    ("Petunjuk Penggunaan", "petunjuk-penggunaan"),
    ("Dokumentasi API", "dokumentasi-api"),
)


@cache
def markdown_env() -> Environment:
    """Environment for Markdown seeds: autoescape off, strict undefined, ``tanggal`` filter."""
    env = Environment(loader=FileSystemLoader(templates_dir()), undefined=StrictUndefined,
                      autoescape=False, keep_trailing_newline=True)
    env.filters["tanggal"] = tanggal
    return env


def tanggal(day: date) -> str:
    """A date as Indonesian letters write it: "28 November 2026"."""
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Seeds:
    """The rendered seeds of one project: repository files by path, wiki pages by title."""

    files: dict[str, str]
    wiki: dict[str, str]


def render_seeds(request: ProjectRequest, *, path_with_namespace: str, web_url: str,
                 wiki_home_url: str | None = None, code_host: str = "GitLab") -> Seeds:
    """Render every seed for ``request``'s project at ``path_with_namespace``.

    ``wiki_home_url`` defaults to GitLab's address of the wiki's home page; ``code_host``
    names the host where the text mentions it (empty: not named).
    """
    context = _context(request, path_with_namespace, web_url)
    context["wiki_home_url"] = wiki_home_url or f"{web_url}/-/wikis/home"
    context["code_host"] = code_host
    env = markdown_env()
    paths = [*ROOT_FILES, *(doc.path for doc in DOCUMENTS)]
    files = {path: env.get_template(f"repository/{path}.j2").render(context) for path in paths}
    wiki = {title: env.get_template(f"wiki/{name}.md.j2").render(context)
            for title, name in WIKI_PAGES}
    return Seeds(files=files, wiki=wiki)


def wiki_slug(title: str) -> str:
    """The slug GitLab gives a wiki page created with ``title`` (spaces become hyphens)."""
    return title.replace(" ", "-")


def _context(request: ProjectRequest, path: str, web_url: str) -> dict[str, Any]:
    return {
        "case_key": request.case_key, "app_name": request.slug_source, "title": request.title,
        "description": request.description, "opd_name": request.opd_name,
        "nomor_surat": request.nomor_surat, "tanggal_surat": request.tanggal_surat,
        "milestone_title": request.milestone_title, "milestone_due": request.milestone_due,
        "project_path": path, "web_url": web_url, "wiki_url": f"{web_url}/-/wikis",
        "documents": DOCUMENTS, "marker": SEED_MARKER, "branch": BRANCH,
        "wiki_slug": wiki_slug,
    }
