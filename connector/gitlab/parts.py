"""The parts of a provisioned project after the project itself, each read before written.

A part function reads GitLab and returns its to-dos: an Indonesian line for ``plan`` and the
call for ``provision``; nothing to do is an empty list. Existing work is never overwritten:
a repository file is replaced only while it is still as GitLab created it (its last commit
is the root commit), a wiki page that exists is left alone, a protected branch keeps the
rules it has, and a member keeps a higher role than ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import gitlab
from gitlab.v4.objects import Project

from connector.codehost import ProjectRequest
from connector.codehost.seeds import (
    BRANCH,
    DOCUMENTS,
    HOME_PAGE,
    ROOT_FILES,
    WIKI_PAGES,
    render_seeds,
    tanggal,
    wiki_slug,
)
from connector.errors import RemoteRejected
from connector.gitlab import hooks, protection
from connector.gitlab.client import found
from connector.gitlab.protection import BranchRules

Todo = tuple[str, Callable[[], object]]
DEVELOPER, MAINTAINER = 30, 40  # GitLab access levels (Members API, Protected branches API)
ROLE = {DEVELOPER: "Developer", MAINTAINER: "Maintainer"}
INITIAL_FILES = ("README.md",)  # what ``initialize_with_readme`` commits to a new project
COMMIT_MESSAGE = "Berkas awal proyek (SOP langkah 8, kasus {case_key})"
__all__ = ["BRANCH", "Policy", "fresh_plan", "milestone_todo", "todo"]


@dataclass(frozen=True)
class Policy:
    """What ``[gitlab]`` asks of every project: branch rules and whether hooks are signed."""

    branch: BranchRules = field(default_factory=BranchRules)
    signed_webhooks: bool = False  # also give GitLab the secret as ``signing_token``


class UnknownGitLabUser(RemoteRejected):
    """A configured GitLab username matches no GitLab user."""

    def __init__(self, username: str) -> None:
        super().__init__(f"GitLab has no user {username!r}: check [gitlab.users]")
        self.username = username


def todo(part: str, gl: gitlab.Gitlab, project: Project, request: ProjectRequest,
         policy: Policy | None = None, *, fresh: bool = False) -> list[Todo]:
    """What ``part`` still needs on ``project``, read from GitLab (``fresh``: just created)."""
    policy = policy or Policy()
    if part == "protection":
        return protection.todo(project, BRANCH, policy.branch)
    if part == "hook":
        return hooks.todo(project, request, policy.signed_webhooks, fresh=fresh)
    if part == "milestone":
        return milestone_todo(project, request.milestone_title, request.milestone_due,
                              fresh=fresh)
    if part == "members":
        return _members(gl, project, request)
    return _BY_PART[part](project, request, fresh)


def fresh_plan(gl: gitlab.Gitlab, request: ProjectRequest,
               policy: Policy | None = None) -> list[str]:
    """The lines of a project not created yet (its users are still looked up).

    GitLab protects the new default branch as its ``default_branch_protection`` says, which
    an API token cannot read for the group in general, so the plan states the end rules.
    """
    lines = [_files_line([*ROOT_FILES, *(doc.path for doc in DOCUMENTS)]),
             (policy or Policy()).branch.line(BRANCH),
             *(_wiki_line(title) for title, _ in WIKI_PAGES)]
    for name, level in _wanted(request).items():
        _user_id(gl, name)  # an unknown user fails the plan as it would fail provisioning
        lines.append(_member_line(name, level))
    return [*lines, _milestone_line(request.milestone_title, request.milestone_due),
            f"Pasang webhook ke {request.hook_url}"]


def _files(project: Project, request: ProjectRequest, fresh: bool) -> list[Todo]:
    seeds = render_seeds(request, path_with_namespace=str(project.path_with_namespace),
                         web_url=str(project.web_url))
    if fresh:  # GitLab's own README is replaced; a file there meanwhile fails the commit
        actions = [{"action": "update" if path in INITIAL_FILES else "create",
                    "file_path": path, "content": text} for path, text in seeds.files.items()]
    else:
        actions = [a for path, text in seeds.files.items()
                   if (a := _file_action(project, path, text))]
    if not actions:
        return []
    body = {"branch": BRANCH, "commit_message": COMMIT_MESSAGE.format(case_key=request.case_key),
            "actions": actions}
    return [(_files_line([a["file_path"] for a in actions]),
             lambda: project.commits.create(body))]


def _file_action(project: Project, path: str, text: str) -> dict[str, str] | None:
    """Create a missing file; update one only while it is as GitLab created it."""
    current = found(lambda: project.files.get(file_path=path, ref=BRANCH))
    if current is None:
        return {"action": "create", "file_path": path, "content": text}
    if current.content_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest():
        return None
    if project.commits.get(current.last_commit_id).parent_ids:
        return None  # changed by people since the project was created: theirs now
    return {"action": "update", "file_path": path, "content": text}


def _wiki(project: Project, request: ProjectRequest, fresh: bool) -> list[Todo]:
    pages = [] if fresh else project.wikis.list(get_all=True)
    have = {p.slug for p in pages} | {p.title for p in pages}
    seeds = render_seeds(request, path_with_namespace=str(project.path_with_namespace),
                         web_url=str(project.web_url))
    return [(_wiki_line(title), partial(project.wikis.create,
                                        {"title": title, "content": text, "format": "markdown"}))
            for title, text in seeds.wiki.items() if not {title, wiki_slug(title)} & have]


def _members(gl: gitlab.Gitlab, project: Project, request: ProjectRequest) -> list[Todo]:
    """Who is missing or below our role, from one listing of the project's members.

    ``GET /projects/:id/members/all`` lists direct and inherited members, each once with
    the highest role it has (Members API, "List all members of a group or project including
    inherited members"); a user who is not listed is looked up by username to be added.
    """
    members = {str(m.username).lower(): m for m in project.members_all.list(get_all=True)}
    todos: list[Todo] = []
    for name, level in _wanted(request).items():
        member = members.get(name.lower())
        if member is None or member.access_level < level:
            user_id = _user_id(gl, name) if member is None else int(member.id)
            todos.append((_member_line(name, level), partial(_add, project, user_id, level,
                                                             member is not None)))
    return todos


def _add(project: Project, user_id: int, level: int, is_member: bool) -> None:
    """Raise a direct member's role, or add the user (also over a lower inherited role)."""
    data = {"access_level": level}
    if not is_member or found(partial(project.members.update, user_id, data)) is None:
        project.members.create({"user_id": user_id, **data})


def _wanted(request: ProjectRequest) -> dict[str, int]:
    wanted = {name: DEVELOPER for name in request.team_usernames}
    wanted.update({name: MAINTAINER for name in request.maintainer_usernames})
    return wanted


def _user_id(gl: gitlab.Gitlab, username: str) -> int:
    """The id of ``username`` (``GET /users?username=`` is case-insensitive, gives a list)."""
    users = gl.users.list(username=username, get_all=True)
    for user in users:
        if str(user.username).lower() == username.lower():
            return int(user.id)
    raise UnknownGitLabUser(username)


def milestone_todo(project: Project, title: str, due: date | None, *,
                   fresh: bool = False) -> list[Todo]:
    """Create milestone ``title`` with ``due``, or move its due date; None keeps it."""
    listed = [] if fresh else project.milestones.list(title=title, get_all=True)
    same = [m for m in listed if m.title == title]
    if not same:
        body = {"title": title, **({"due_date": due.isoformat()} if due else {})}
        return [(_milestone_line(title, due), lambda: project.milestones.create(body))]
    milestone = same[0]
    if due is None or milestone.due_date == due.isoformat():
        return []

    def move() -> None:
        milestone.due_date = due.isoformat()
        milestone.save()

    return [(f"Ubah jatuh tempo milestone {title!r} menjadi {tanggal(due)}", move)]


def _files_line(paths: list[str]) -> str:
    return "Tulis berkas awal dalam satu commit: " + ", ".join(paths)


def _wiki_line(title: str) -> str:
    return f"Buat halaman wiki {'Beranda (home)' if title == HOME_PAGE else title}"


def _member_line(username: str, level: int) -> str:
    return f"Tambahkan {username} sebagai {ROLE[level]}"


def _milestone_line(title: str, due: date | None) -> str:
    return f"Buat milestone {title!r}" + (f" jatuh tempo {tanggal(due)}" if due else "")


_BY_PART: dict[str, Callable[[Project, ProjectRequest, bool], list[Todo]]] = {
    "files": _files, "wiki": _wiki,
}
