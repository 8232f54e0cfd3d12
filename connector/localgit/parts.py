"""The parts of a case's local repositories after the repository itself, read before written.

As in the GitLab adapter, a part reads what is on disk and returns its to-dos: an Indonesian
line for ``plan`` and the call for ``provision``; nothing to do is an empty list. Seeds are
only ever added (a file or wiki page that exists is the team's and is left alone), in one
commit per repository. There are no members, branch protection or hooks here: who may push
is a matter of the server's accounts and the repositories' group (they are created
group-shared), and nothing reports pushes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

from connector.codehost import ProjectRequest
from connector.codehost.seeds import (
    DOCUMENTS,
    HOME_PAGE,
    ROOT_FILES,
    WIKI_PAGES,
    Seeds,
    render_seeds,
    tanggal,
    wiki_slug,
)
from connector.localgit.git import BRANCH, Author, BareRepo, create_bare

Todo = tuple[str, Callable[[], object]]
COMMIT_MESSAGE = "Berkas awal proyek (SOP langkah 8, kasus {case_key})"
WIKI_MESSAGE = "Halaman awal wiki (SOP langkah 8, kasus {case_key})"
MARKER_KEY = "sop.caseKey"  # git config of the main repository: the case it belongs to


@dataclass(frozen=True)
class LocalProject:
    """A case's repository and its wiki, side by side under the configured root."""

    name: str  # "<slug>", the repositories being <root>/<slug>.git and <slug>.wiki.git
    main: BareRepo
    wiki: BareRepo
    web_url: str
    wiki_url: str
    author: Author


def page_file(title: str) -> str:
    """The file of a wiki page, named as GitLab names it in a ``.wiki.git``: ``<slug>.md``."""
    return f"{wiki_slug(title)}.md"


def page_title(path: str) -> str:
    """The title of a wiki page file: its name without extension, hyphens as spaces."""
    return path.rsplit(".", 1)[0].replace("-", " ") if "." in path else path


def todo(part: str, project: LocalProject, request: ProjectRequest) -> list[Todo]:
    """What ``part`` still needs, read from disk."""
    if part == "files":
        return _files(project, request)
    if part == "wiki":
        return _wiki(project, request)
    return milestone_todo(project.main, request.milestone_title, request.milestone_due)


def fresh_plan(project: LocalProject, request: ProjectRequest) -> list[str]:
    """The lines of a repository not created yet."""
    return [_files_line([*ROOT_FILES, *(doc.path for doc in DOCUMENTS)]),
            _wiki_repo_line(project), _pages_line([title for title, _ in WIKI_PAGES]),
            _milestone_line(request.milestone_title, request.milestone_due)]


def seeds_for(project: LocalProject, request: ProjectRequest) -> Seeds:
    return render_seeds(request, path_with_namespace=project.name, web_url=project.web_url,
                        wiki_home_url=project.wiki_url, code_host="")


def _files(project: LocalProject, request: ProjectRequest) -> list[Todo]:
    have = set(project.main.files())
    missing = {path: text for path, text in seeds_for(project, request).files.items()
               if path not in have}
    if not missing:
        return []
    message = COMMIT_MESSAGE.format(case_key=request.case_key)
    return [(_files_line(list(missing)),
             partial(project.main.commit, missing, message, project.author))]


def _wiki(project: LocalProject, request: ProjectRequest) -> list[Todo]:
    todos: list[Todo] = []
    if not project.wiki.exists():
        todos.append((_wiki_repo_line(project), partial(ensure_wiki, project)))
    have = set(project.wiki.files())
    pages = {page_file(title): (title, text)
             for title, text in seeds_for(project, request).wiki.items()}
    missing = {path: text for path, (_, text) in pages.items() if path not in have}
    if missing:
        message = WIKI_MESSAGE.format(case_key=request.case_key)
        todos.append((_pages_line([pages[path][0] for path in missing]),
                      partial(project.wiki.commit, missing, message, project.author)))
    return todos


def ensure_wiki(project: LocalProject) -> None:
    """Create the wiki's bare repository unless it is there."""
    if not project.wiki.exists():
        create_bare(project.wiki, {}, f"Wiki {project.name}")


def milestone_todo(repo: BareRepo, title: str, due: date | None) -> list[Todo]:
    """Record milestone ``title`` (git config ``milestone.<title>.*``), or move its due date."""
    if repo.config(f"milestone.{title}.title") is None:
        def create() -> None:
            repo.set_config(f"milestone.{title}.title", title)
            if due is not None:
                repo.set_config(f"milestone.{title}.due", due.isoformat())

        return [(_milestone_line(title, due), create)]
    if due is None or repo.config(f"milestone.{title}.due") == due.isoformat():
        return []
    return [(f"Ubah jatuh tempo milestone {title!r} menjadi {tanggal(due)}",
             partial(repo.set_config, f"milestone.{title}.due", due.isoformat()))]


def _files_line(paths: list[str]) -> str:
    return f"Tulis berkas awal di cabang {BRANCH} dalam satu commit: " + ", ".join(paths)


def _wiki_repo_line(project: LocalProject) -> str:
    return f"Buat repositori wiki {project.wiki.path} (bare, cabang {BRANCH})"


def _pages_line(titles: list[str]) -> str:
    names = ("Beranda (home)" if title == HOME_PAGE else title for title in titles)
    return "Buat halaman wiki dalam satu commit: " + ", ".join(names)


def _milestone_line(title: str, due: date | None) -> str:
    return f"Buat milestone {title!r}" + (f" jatuh tempo {tanggal(due)}" if due else "")
