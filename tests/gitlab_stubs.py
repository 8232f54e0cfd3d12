"""GitLab over ``responses``: documented example payloads and a small stateful fake.

The payload builders copy the example responses of GitLab's REST API documentation (Projects,
Groups, Repository files, Commits, Protected branches, Wikis, Users, Project members,
Milestones, Project webhooks, Repositories tree), changing only ids, names and content.
``FakeGitLab`` keeps state behind those payloads so that tests can run provisioning several
times, crash it, and assert the end state; it answers errors as GitLab documents them (404
for a missing object, 400 for an empty commit or a file that already exists, 409 for a
member or protected branch that already exists).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import responses

from connector.codehost import ProjectRequest
from connector.config.secret import Secret

BASE = "http://gitlab.test"
API = f"{BASE}/api/v4"
GROUP = "diskominfo/aplikasi"
GROUP_ID = 12
CREATED = "2026-03-09T02:15:43.000Z"
HOOK_URL = "https://sop.sumbawakab.go.id/webhooks/gitlab"
# Appended to tests.conftest.write_config: the [webhooks] hook token, then a [gitlab] table.
GITLAB_CONFIG = f"""gitlab_token_env = "SOP_TEST_GITLAB_HOOK"

[gitlab]
url = "{BASE}"
token_env = "SOP_TEST_GITLAB_TOKEN"
group = "diskominfo/aplikasi"
hook_url = "{HOOK_URL}"
"""
Json = dict[str, Any]


def sample_request(**changes: Any) -> ProjectRequest:
    """A step 8 request for the Posyandu application of Dinas Kesehatan."""
    values: dict[str, Any] = dict(
        case_key="DINKES:027/145/DINKES/2026", slug_source="Sistem Informasi Posyandu",
        title="Sistem Informasi Posyandu", description="Pencatatan kegiatan posyandu.",
        opd_name="Dinas Kesehatan", nomor_surat="027/145/DINKES/2026",
        tanggal_surat=date(2026, 3, 2), team_usernames=("dev1",), maintainer_usernames=("kasi",),
        milestone_title="Rilis 1", milestone_due=date(2026, 5, 29), hook_url=HOOK_URL,
        hook_token=Secret("hook-token-0123456789"))
    values.update(changes)
    return ProjectRequest(**values)


def url(path: str) -> str:
    return API + path


def enc(path: str) -> str:
    """A path as GitLab wants it in a URL segment: every ``/`` as ``%2F``."""
    return path.replace("/", "%2F")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def group_json() -> Json:
    """``GET /groups/:id`` example, trimmed of the projects list."""
    return {"id": GROUP_ID, "name": "Aplikasi", "path": "aplikasi", "description": "",
            "visibility": "private", "full_name": "Diskominfo / Aplikasi",
            "full_path": GROUP, "parent_id": 9, "web_url": f"{BASE}/groups/{GROUP}",
            "created_at": CREATED}


def project_json(pid: int, path: str, *, name: str | None = None, description: str = "",
                 topics: Iterable[str] = (), namespace: str = GROUP) -> Json:
    """``GET /projects/:id`` example (the fields we read and their neighbours)."""
    full = f"{namespace}/{path}"
    return {
        "id": pid, "description": description, "name": name or path,
        "name_with_namespace": f"Diskominfo / Aplikasi / {name or path}", "path": path,
        "path_with_namespace": full, "created_at": CREATED, "default_branch": "main",
        "tag_list": list(topics), "topics": list(topics),
        "ssh_url_to_repo": f"git@gitlab.test:{full}.git",
        "http_url_to_repo": f"{BASE}/{full}.git", "web_url": f"{BASE}/{full}",
        "readme_url": f"{BASE}/{full}/-/blob/main/README.md", "avatar_url": None,
        "forks_count": 0, "star_count": 0, "last_activity_at": CREATED,
        "namespace": {"id": GROUP_ID, "name": "Aplikasi", "path": "aplikasi", "kind": "group",
                      "full_path": namespace, "parent_id": 9, "avatar_url": None,
                      "web_url": f"{BASE}/groups/{namespace}"},
        "visibility": "private", "empty_repo": False, "archived": False,
        "wiki_access_level": "enabled", "wiki_enabled": True,
        "repository_access_level": "enabled", "issues_access_level": "enabled",
        "merge_requests_access_level": "enabled", "creator_id": 3, "open_issues_count": 0,
    }


def file_json(path: str, content: str, last_commit_id: str) -> Json:
    """``GET /projects/:id/repository/files/:file_path`` example."""
    raw = content.encode("utf-8")
    return {"file_name": path.rsplit("/", 1)[-1], "file_path": path, "size": len(raw),
            "encoding": "base64", "content": base64.b64encode(raw).decode(),
            "content_sha256": hashlib.sha256(raw).hexdigest(), "ref": "main",
            "blob_id": hashlib.sha1(raw).hexdigest(), "commit_id": last_commit_id,
            "last_commit_id": last_commit_id, "execute_filemode": False}


def commit_json(sha: str, message: str, parent_ids: list[str]) -> Json:
    """``GET /projects/:id/repository/commits/:sha`` and ``POST .../commits`` example."""
    return {"id": sha, "short_id": sha[:8], "title": message.splitlines()[0],
            "message": message, "author_name": "SOP Bot", "author_email": "sop@example.go.id",
            "authored_date": CREATED, "committer_name": "SOP Bot",
            "committer_email": "sop@example.go.id", "committed_date": CREATED,
            "created_at": CREATED, "parent_ids": parent_ids,
            "web_url": f"{BASE}/{GROUP}/-/commit/{sha}",
            "stats": {"additions": 1, "deletions": 0, "total": 1}, "status": None}


def protected_branch_json(name: str, push: int, merge: int) -> Json:
    """``GET /projects/:id/protected_branches/:name`` example."""
    levels = {30: "Developers + Maintainers", 40: "Maintainers"}
    return {"id": 100, "name": name,
            "push_access_levels": [{"id": 1001, "access_level": push,
                                    "access_level_description": levels[push]}],
            "merge_access_levels": [{"id": 2001, "access_level": merge,
                                     "access_level_description": levels[merge]}],
            "allow_force_push": False, "code_owner_approval_required": False}


def wiki_json(title: str, content: str | None) -> Json:
    """``GET /projects/:id/wikis`` item (``content`` only ``with_content``) example."""
    page = {"format": "markdown", "slug": title.replace(" ", "-"), "title": title,
            "encoding": "UTF-8"}
    return page if content is None else {"content": content, **page}


def user_json(uid: int, username: str) -> Json:
    """``GET /users?username=`` item example."""
    return {"id": uid, "username": username, "name": username.title(), "state": "active",
            "locked": False, "avatar_url": None, "web_url": f"{BASE}/{username}"}


def member_json(uid: int, username: str, level: int) -> Json:
    """``GET /projects/:id/members/all/:user_id`` example."""
    return {**user_json(uid, username), "access_level": level, "created_at": CREATED,
            "expires_at": None, "membership_state": "active"}


def milestone_json(mid: int, pid: int, title: str, due: str | None) -> Json:
    """``GET /projects/:id/milestones`` item example."""
    return {"id": mid, "iid": mid, "project_id": pid, "title": title, "description": "",
            "due_date": due, "start_date": None, "state": "active", "updated_at": CREATED,
            "created_at": CREATED, "expired": False, "web_url": f"{BASE}/-/milestones/{mid}"}


HOOK_EVENTS = ("push_events", "tag_push_events", "merge_requests_events", "wiki_page_events",
               "pipeline_events", "releases_events", "issues_events",
               "confidential_issues_events", "note_events", "confidential_note_events",
               "job_events", "deployment_events", "feature_flag_events",
               "repository_update_events", "resource_access_token_events")


def hook_json(hid: int, pid: int, hook_url: str, *, events: Iterable[str] = (),
              alert_status: str = "executable", disabled_until: str | None = None) -> Json:
    """``GET /projects/:id/hooks/:hook_id`` example (GitLab never returns the token)."""
    on = set(events)
    return {"id": hid, "url": hook_url, "name": "", "description": "", "project_id": pid,
            **{event: event in on for event in HOOK_EVENTS},
            "push_events_branch_filter": "", "branch_filter_strategy": "wildcard",
            "enable_ssl_verification": True, "alert_status": alert_status,
            "disabled_until": disabled_until, "url_variables": [], "created_at": CREATED,
            "custom_webhook_template": "", "custom_headers": []}


def not_found(what: str) -> tuple[int, dict[str, str], str]:
    return 404, {"Content-Type": "application/json"}, json.dumps(
        {"message": f"404 {what} Not Found"})


Reply = tuple[int, dict[str, str], str] | Exception
Handler = Callable[["FakeGitLab", requests.PreparedRequest, re.Match[str]], Reply]


JSON_HEADERS = {"Content-Type": "application/json"}


def _ok(body: Any, status: int = 200) -> Reply:
    return status, JSON_HEADERS, json.dumps(body)


def _bad(status: int, message: Any) -> Reply:
    return status, JSON_HEADERS, json.dumps({"message": message})


@dataclass
class Repo:
    """A repository: files on ``main`` (content, last commit) and every commit by sha."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    commits: dict[str, Json] = field(default_factory=dict)
    head: str | None = None


class FakeGitLab:
    """GitLab's state behind the documented endpoints, served through ``responses``."""

    def __init__(self, *, users: Iterable[str] = ("dev1", "kasi")) -> None:
        self.projects: dict[int, Json] = {}
        self.repos: dict[int, Repo] = {}
        self.protected: dict[int, dict[str, Json]] = {}
        self.wikis: dict[int, dict[str, Json]] = {}
        self.users = {name: user_json(7 + i, name) for i, name in enumerate(users)}
        self.members: dict[int, dict[int, Json]] = {}  # direct members
        self.inherited: dict[int, Json] = {}  # members of the group, by user id
        self.milestones: dict[int, list[Json]] = {}
        self.hooks: dict[int, list[Json]] = {}
        self.hook_secrets: dict[int, tuple[str, str]] = {}  # hook id -> (field, secret)
        self.lose_response: set[str] = set()  # routes whose next answer is lost after the work
        self._ids = itertools.count(42)

    # -- set-up helpers -------------------------------------------------------------------
    def add_project(self, path: str, *, description: str = "", topics: Iterable[str] = (),
                    readme: str = "# Proyek lain\n") -> Json:
        """A project that exists before the test (someone else's, or ours from before)."""
        pid = next(self._ids)
        self.projects[pid] = project_json(pid, path, description=description, topics=topics)
        self.repos[pid] = Repo()
        self.commit(pid, "Initial commit", {"README.md": readme})
        for store in (self.protected, self.wikis, self.members):
            store[pid] = {}
        self.milestones[pid], self.hooks[pid] = [], []
        return self.projects[pid]

    def commit(self, pid: int, message: str, files: dict[str, str]) -> str:
        """Write ``files`` to ``main`` in one commit, as a push would."""
        repo = self.repos[pid]
        sha = hashlib.sha1(f"{pid}:{len(repo.commits)}:{message}".encode()).hexdigest()
        repo.commits[sha] = commit_json(sha, message, [repo.head] if repo.head else [])
        repo.head = sha
        repo.files.update({path: (text, sha) for path, text in files.items()})
        return sha

    def only_project(self) -> Json:
        assert len(self.projects) == 1, self.projects
        return next(iter(self.projects.values()))

    # -- responses wiring -----------------------------------------------------------------
    def install(self, rsps: responses.RequestsMock, routes: Iterable[str]) -> None:
        """Serve ``routes`` (names of ``ROUTES``); a strict mock fails any never called."""
        for name in routes:
            method, pattern, handler = ROUTES[name]
            rsps.add_callback(method, re.compile(API + pattern),
                              callback=self._dispatch(name, pattern, handler))

    def _dispatch(self, name: str, pattern: str, handler: Handler) -> Callable[..., Reply]:
        def callback(request: requests.PreparedRequest) -> Reply:
            match = re.match(API + pattern, str(request.url))
            assert match is not None
            reply = handler(self, request, match)
            if name in self.lose_response:
                self.lose_response.discard(name)
                return requests.Timeout(f"read timed out ({name})")
            return reply
        return callback


def body_of(request: requests.PreparedRequest) -> Json:
    raw = request.body or b"{}"
    return dict(json.loads(raw))


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def _projects_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    topic = query_of(request).get("topic")
    return _ok([p for p in fake.projects.values() if topic in p["topics"]])


def _project_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    path = unquote(m.group(1))
    for project in fake.projects.values():
        if project["path_with_namespace"] == path:
            return _ok(project)
    return not_found("Project")


def _group_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    return _ok(group_json()) if unquote(m.group(1)) == GROUP else not_found("Group")


def _project_create(fake: FakeGitLab, request: requests.PreparedRequest,
                    m: re.Match[str]) -> Reply:
    data = body_of(request)
    assert data["namespace_id"] == GROUP_ID
    taken = [p for p in fake.projects.values() if p["namespace"]["id"] == GROUP_ID]
    if any(p["path"] == data["path"] for p in taken):
        return _bad(400, {"path": ["has already been taken"]})
    if any(p["name"] == data["name"] for p in taken):
        return _bad(400, {"name": ["has already been taken"]})
    project = fake.add_project(data["path"], description=data.get("description", ""),
                               topics=data.get("topics", []),
                               readme=f"# {data['name']}\n\n## Getting started\n")
    project["name"] = data["name"]
    return _ok(project, 201)


def _file_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    assert query_of(request) == {"ref": "main"}
    found = fake.repos[int(m.group(1))].files.get(unquote(m.group(2)))
    return _ok(file_json(unquote(m.group(2)), *found)) if found else not_found("File")


def _commit_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    commit = fake.repos[int(m.group(1))].commits.get(m.group(2))
    return _ok(commit) if commit else not_found("Commit")


def _commit_create(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    assert set(data) == {"branch", "commit_message", "actions"} and data["branch"] == "main"
    files, changed = fake.repos[pid].files, {}
    for action in data["actions"]:
        assert set(action) == {"action", "file_path", "content"}, action
        path, exists = action["file_path"], action["file_path"] in files
        if action["action"] == "create" and exists:
            return _bad(400, "A file with this name already exists")
        if action["action"] == "update" and not exists:
            return _bad(400, "A file with this name doesn't exist")
        if not exists or files[path][0] != action["content"]:
            changed[path] = action["content"]
    if not changed:
        return _bad(400, "Empty commit: nothing changed")  # as GitLab answers identical content
    sha = fake.commit(pid, data["commit_message"], dict(changed))
    return _ok(fake.repos[pid].commits[sha], 201)


def _protected_get(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    found = fake.protected[int(m.group(1))].get(unquote(m.group(2)))
    return _ok(found) if found else not_found("Protected branch")


def _protected_create(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    if data["name"] in fake.protected[pid]:
        return _bad(409, f"Protected branch '{data['name']}' already exists")
    branch = protected_branch_json(data["name"], data["push_access_level"],
                                   data["merge_access_level"])
    fake.protected[pid][data["name"]] = branch
    return _ok(branch, 201)


def _wikis_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    with_content = query_of(request).get("with_content") == "1"
    return _ok([wiki_json(p["title"], p["content"] if with_content else None)
                for p in fake.wikis[int(m.group(1))].values()])


def _wiki_create(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    assert set(data) == {"title", "content", "format"} and data["format"] == "markdown"
    if data["title"] in fake.wikis[pid]:
        return _bad(400, "Duplicate page: A page with that title already exists")
    fake.wikis[pid][data["title"]] = wiki_json(data["title"], data["content"])
    return _ok(fake.wikis[pid][data["title"]], 201)


def _wiki_page(fake: FakeGitLab, m: re.Match[str]) -> Json | None:
    """The page whose slug is the URL's ``:slug`` (URL-encoded, ``dir%2Fpage``)."""
    slug = unquote(m.group(2))
    return next((p for p in fake.wikis[int(m.group(1))].values() if p["slug"] == slug), None)


def _wiki_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/wikis/:slug``: the page with its content."""
    assert set(query_of(request)) <= {"render_html", "version"}
    page = _wiki_page(fake, m)
    return _ok(page) if page else not_found("Wiki Page")


def _wiki_update(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``PUT /projects/:id/wikis/:slug``: at least one of title, content and format."""
    pid, data = int(m.group(1)), body_of(request)
    assert data and set(data) <= {"title", "content", "format"}, data
    page = _wiki_page(fake, m)
    if page is None:
        return not_found("Wiki Page")
    title = data.get("title", page["title"])
    if title != page["title"] and title in fake.wikis[pid]:
        return _bad(400, "Duplicate page: A page with that title already exists")
    del fake.wikis[pid][page["title"]]
    fake.wikis[pid][title] = {**wiki_json(title, data.get("content", page["content"])),
                              "format": data.get("format", page["format"])}
    return _ok(fake.wikis[pid][title])


def _users_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    name = query_of(request)["username"].lower()
    return _ok([u for u in fake.users.values() if u["username"].lower() == name])


def _member_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    uid = int(m.group(2))
    member = fake.members[int(m.group(1))].get(uid) or fake.inherited.get(uid)
    return _ok(member) if member else not_found("Member")


def _member_create(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    assert set(data) == {"user_id", "access_level"}
    if data["user_id"] in fake.members[pid]:
        return _bad(409, "Member already exists")
    user = next(u for u in fake.users.values() if u["id"] == data["user_id"])
    fake.members[pid][user["id"]] = member_json(user["id"], user["username"],
                                                data["access_level"])
    return _ok(fake.members[pid][user["id"]], 201)


def _member_update(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    member = fake.members[int(m.group(1))].get(int(m.group(2)))
    if member is None:  # only direct members can be edited
        return not_found("Member")
    member.update(body_of(request))
    return _ok(member)


def _milestones_list(fake: FakeGitLab, request: requests.PreparedRequest,
                     m: re.Match[str]) -> Reply:
    title = query_of(request).get("title")
    return _ok([x for x in fake.milestones[int(m.group(1))] if title in (None, x["title"])])


def _milestone_create(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    if any(x["title"] == data["title"] for x in fake.milestones[pid]):
        return _bad(400, "Milestone title has already been taken")
    milestone = milestone_json(next(fake._ids), pid, data["title"], data.get("due_date"))
    fake.milestones[pid].append(milestone)
    return _ok(milestone, 201)


def _milestone_update(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    pid, mid = int(m.group(1)), int(m.group(2))
    milestone = next(x for x in fake.milestones[pid] if x["id"] == mid)
    milestone.update(body_of(request))
    return _ok(milestone)


def _hooks_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    return _ok(fake.hooks[int(m.group(1))])


def _hook_create(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    assert data.get("token") or data.get("signing_token"), "the hook must carry our secret"
    events = [k for k, v in data.items() if k.endswith("_events") and v]
    hook = hook_json(next(fake._ids), pid, data["url"], events=events)
    fake.hooks[pid].append(hook)
    fake.hook_secrets[hook["id"]] = ("signing_token" if "signing_token" in data else "token",
                                     data.get("signing_token") or data["token"])
    return _ok(hook, 201)


def _hook_update(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    hook = next(h for h in fake.hooks[int(m.group(1))] if h["id"] == int(m.group(2)))
    data = body_of(request)
    assert data["url"] == hook["url"] and (data.get("token") or data.get("signing_token")), \
        "same URL and our secret"
    hook.update({k: v for k, v in data.items() if k.endswith("_events")})
    return _ok(hook)


def _tree(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    assert query_of(request) == {"recursive": "True", "ref": "main"}
    paths = sorted(fake.repos[int(m.group(1))].files)
    return _ok([{"id": hashlib.sha1(p.encode()).hexdigest(), "name": p.rsplit("/", 1)[-1],
                 "type": "blob", "path": p, "mode": "100644"} for p in paths])


_PID = r"/projects/(\d+)"
ROUTES: dict[str, tuple[str, str, Handler]] = {
    "projects.list": ("GET", r"/projects\?(.*)$", _projects_list),
    "project.get": ("GET", r"/projects/([^/?]*%2F[^/?]*)$", _project_get),
    "group.get": ("GET", r"/groups/([^/?]+)$", _group_get),
    "project.create": ("POST", r"/projects$", _project_create),
    "file.get": ("GET", _PID + r"/repository/files/([^/?]+)\?(.*)$", _file_get),
    "commit.get": ("GET", _PID + r"/repository/commits/([0-9a-f]+)$", _commit_get),
    "commit.create": ("POST", _PID + r"/repository/commits$", _commit_create),
    "protected.get": ("GET", _PID + r"/protected_branches/([^/?]+)$", _protected_get),
    "protected.create": ("POST", _PID + r"/protected_branches$", _protected_create),
    "wikis.list": ("GET", _PID + r"/wikis(\?.*)?$", _wikis_list),
    "wiki.create": ("POST", _PID + r"/wikis$", _wiki_create),
    "wiki.get": ("GET", _PID + r"/wikis/([^/?]+)(\?.*)?$", _wiki_get),
    "wiki.update": ("PUT", _PID + r"/wikis/([^/?]+)$", _wiki_update),
    "users.list": ("GET", r"/users\?(.*)$", _users_list),
    "member.get": ("GET", _PID + r"/members/all/(\d+)$", _member_get),
    "member.create": ("POST", _PID + r"/members$", _member_create),
    "member.update": ("PUT", _PID + r"/members/(\d+)$", _member_update),
    "milestones.list": ("GET", _PID + r"/milestones(\?.*)?$", _milestones_list),
    "milestone.create": ("POST", _PID + r"/milestones$", _milestone_create),
    "milestone.update": ("PUT", _PID + r"/milestones/(\d+)$", _milestone_update),
    "hooks.list": ("GET", _PID + r"/hooks$", _hooks_list),
    "hook.create": ("POST", _PID + r"/hooks$", _hook_create),
    "hook.update": ("PUT", _PID + r"/hooks/(\d+)$", _hook_update),
    "tree": ("GET", _PID + r"/repository/tree\?(.*)$", _tree),
}
#: Every route a first provisioning of a new project calls.
PROVISION_ROUTES = ("projects.list", "project.get", "group.get", "project.create", "file.get",
                    "commit.get", "commit.create", "protected.get", "protected.create",
                    "wikis.list", "wiki.create", "users.list", "member.get", "member.create",
                    "milestones.list", "milestone.create", "hooks.list", "hook.create")
#: The routes of a run that finds everything in place: reads only.
READ_ROUTES = ("projects.list", "file.get", "protected.get", "wikis.list", "users.list",
               "member.get", "milestones.list", "hooks.list")
DELIVERABLE_ROUTES = ("wikis.list", "file.get", "tree")


def writes(calls: Iterable[Any]) -> list[tuple[str, str]]:
    """The non-GET calls as (method, path without ``/api/v4``), in order."""
    return [(c.request.method, urlsplit(c.request.url).path.removeprefix("/api/v4"))
            for c in calls if c.request.method != "GET"]
