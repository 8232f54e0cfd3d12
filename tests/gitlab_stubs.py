"""GitLab over ``responses``: documented example payloads and a small stateful fake.

The payload builders copy the example responses of GitLab's REST API documentation (Projects,
Groups, Repository files, Commits, Protected branches, Wikis, Users, Project members,
Milestones, Project webhooks, Repositories tree), changing only ids, names and content.
``FakeGitLab`` keeps state behind those payloads so that tests can run provisioning several
times, crash it, and assert the end state; it answers errors as GitLab documents them (404
``{"message": "404 Project Not Found"}`` for a missing object, 400 ``{"message": {field:
[...]}}`` for a refused attribute, 400 for an empty commit or a file that already exists, 409
for a member or protected branch that already exists).

What real GitLab does and a naive stub would not, modelled here: project names checked
against ``project_name_regex`` and paths against ``project_path_regex``; a new project's
default branch already protected as ``default_branch_protection`` says (0 to 4); every list
paginated (``per_page`` default 20, max 100, ``x-next-page`` and ``link`` headers); the
repository tree listing directories as ``type: tree``; milestone ``iid`` distinct from
``id``; ``signing_token`` ignored unless signed webhooks are enabled; a disabled hook
re-enabled by a successful test delivery; and a delivery recorded in ``deliveries`` for
each write made while a hook is installed, by the token's user.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

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


def git_blob_id(raw: bytes) -> str:
    """Git's object id of a file (what GitLab returns as a blob's ``id`` and ``blob_id``)."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


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
            "blob_id": git_blob_id(raw), "commit_id": last_commit_id,
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


LEVEL_TEXT = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers",
              60: "Admins"}


def protected_branch_json(name: str, push: int, merge: int, *, force: bool = False,
                          bid: int = 100) -> Json:
    """``GET /projects/:id/protected_branches/:name`` example (Protected branches API,
    "Get a single protected branch or wildcard protected branch")."""
    def levels(level: int, first: int) -> list[Json]:
        return [{"id": first, "access_level": level,
                 "access_level_description": LEVEL_TEXT[level], "user_id": None,
                 "group_id": None, "deploy_key_id": None}]
    return {"id": bid, "name": name, "push_access_levels": levels(push, bid * 10 + 1),
            "merge_access_levels": levels(merge, bid * 10 + 2),
            "unprotect_access_levels": [], "allow_force_push": force,
            "code_owner_approval_required": False, "inherited": False}


#: ``default_branch_protection`` (Settings API; "Default branch protection" of the branches
#: documentation): 0 not protected; 1 partially protected (Developers and Maintainers push,
#: Maintainers merge); 2 fully protected (Maintainers push and merge; GitLab's default);
#: 3 protected against pushes (Maintainers push, Developers merge); 4 fully protected after
#: the initial push (as 2 once the initial push is done). Value: (push, merge) or None.
DEFAULT_PROTECTION: dict[int, tuple[int, int] | None] = {
    0: None, 1: (30, 40), 2: (40, 40), 3: (40, 30), 4: (40, 40)}


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


def milestone_json(mid: int, pid: int, title: str, due: str | None, *, iid: int = 1) -> Json:
    """``GET /projects/:id/milestones`` item example: ``iid`` is the project's own number,
    ``id`` the instance-wide one that ``PUT /projects/:id/milestones/:milestone_id`` takes."""
    return {"id": mid, "iid": iid, "project_id": pid, "title": title, "description": "",
            "due_date": due, "start_date": None, "state": "active", "updated_at": CREATED,
            "created_at": CREATED, "expired": False,
            "web_url": f"{BASE}/{GROUP}/-/milestones/{iid}"}


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


PAYLOADS = __import__("pathlib").Path(__file__).parent / "payloads"


def _payload(name: str) -> Json:
    return dict(json.loads((PAYLOADS / f"gitlab__{name}.json").read_text("utf-8")))


def push_event(project: Json, before: str | None, sha: str, message: str, user: Json) -> Json:
    """The "Push events" payload of the Webhook events documentation, for our commit."""
    body = _payload("push_hook")
    body.update(before=before or "0" * 40, after=sha, checkout_sha=sha, ref="refs/heads/main",
                user_id=user["id"], user_name=user["name"], user_username=user["username"],
                project_id=project["id"], total_commits_count=1)
    body["project"] = {**body["project"], "id": project["id"], "default_branch": "main",
                       "path_with_namespace": project["path_with_namespace"]}
    body["commits"] = [{**body["commits"][0], "id": sha, "message": message,
                        "title": message.splitlines()[0]}]
    return body


def wiki_event(project: Json, page: Json, action: str, user: Json) -> Json:
    """The "Wiki page events" payload of the Webhook events documentation."""
    body = _payload("wiki_page_hook")
    body["user"] = {**body["user"], "id": user["id"], "username": user["username"],
                    "name": user["name"]}
    body["project"] = {**body["project"], "id": project["id"]}
    body["object_attributes"] = {**body["object_attributes"], "title": page["title"],
                                 "slug": page["slug"], "action": action,
                                 "content": page.get("content", "")}
    return body


NAME_RULE = ("can contain only letters, digits, emoji, '_', '.', '+', dashes, or spaces. "
             "It must start with a letter, digit, emoji, or '_'.")
PATH_RULE = ("can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', "
             "end in '.git' or end in '.atom'")


def valid_project_name(name: str) -> bool:
    """``Gitlab::Regex.project_name_regex``: ``\\A[\\p{Alnum}\\u{00A9}-\\u{1f9ff}_]
    [\\p{Alnum}\\p{Pd}\\u{002B}\\u{00A9}-\\u{1f9ff}_\\. ]*\\z`` (Projects API "name")."""
    def first(ch: str) -> bool:
        return ch.isalnum() or ch == "_" or 0xA9 <= ord(ch) <= 0x1F9FF
    return bool(name) and first(name[0]) and all(
        first(ch) or ch in "+. " or unicodedata.category(ch) == "Pd" for ch in name[1:])


def valid_project_path(path: str) -> bool:
    """``Gitlab::PathRegex.project_path_format_regex`` (Projects API "path")."""
    return bool(re.fullmatch(r"[a-zA-Z0-9_.][a-zA-Z0-9_.-]*", path)) and not path.endswith(
        (".git", ".atom"))


def paginated(request: requests.PreparedRequest, items: list[Any]) -> Reply:
    """One page of ``items`` with GitLab's pagination headers (REST API, "Pagination").

    ``per_page`` defaults to 20 and is at most 100; ``x-next-page`` is empty on the last
    page, and ``link`` carries ``rel="next"`` (python-gitlab follows it) and ``first/last``.
    """
    query = query_of(request)
    per_page = min(max(int(query.get("per_page", 20)), 1), 100)
    page = max(int(query.get("page", 1)), 1)
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    parts = urlsplit(str(request.url))

    def link(n: int) -> str:
        q = {k: v for k, v in parse_qs(parts.query).items()} | {"page": [str(n)],
                                                               "per_page": [str(per_page)]}
        return urlunsplit(parts._replace(query=urlencode(q, doseq=True)))

    links = [f'<{link(page + 1)}>; rel="next"'] if page < pages else []
    links += [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
    headers = {**JSON_HEADERS, "x-page": str(page), "x-per-page": str(per_page),
               "x-next-page": str(page + 1) if page < pages else "",
               "x-prev-page": str(page - 1) if page > 1 else "", "x-total": str(len(items)),
               "x-total-pages": str(pages), "link": ", ".join(links)}
    return 200, headers, json.dumps(chunk)


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

    def __init__(self, *, users: Iterable[str] = ("dev1", "kasi"),
                 default_branch_protection: int = 2, signed_webhooks: bool = False,
                 service_user: str = "sop-bot") -> None:
        assert default_branch_protection in DEFAULT_PROTECTION
        self.default_branch_protection = default_branch_protection
        self.signed_webhooks = signed_webhooks  # does this GitLab know ``signing_token``?
        self.service_user = user_json(3, service_user)  # the token's user (``GET /user``)
        #: What a test delivery to a hook's URL answers (HTTP status); 200 re-enables it.
        self.receiver_status = 200
        self.deliveries: list[tuple[int, str, Json]] = []  # (hook id, X-Gitlab-Event, body)
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
        for store in (self.protected, self.wikis, self.members):
            store[pid] = {}
        self.milestones[pid], self.hooks[pid] = [], []
        self.commit(pid, "Initial commit", {"README.md": readme})
        rules = DEFAULT_PROTECTION[self.default_branch_protection]
        if rules is not None:  # GitLab protects the default branch of a new project itself
            self.protected[pid]["main"] = protected_branch_json("main", *rules, bid=pid)
        return self.projects[pid]

    def deliver(self, pid: int, event: str, body: Json) -> None:
        """Record what GitLab would send each enabled hook of ``pid`` listening to it."""
        flag = {"Push Hook": "push_events", "Wiki Page Hook": "wiki_page_events"}[event]
        for hook in self.hooks.get(pid, []):
            if hook.get(flag) and hook["alert_status"] == "executable":
                self.deliveries.append((hook["id"], event, body))

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
    """``GET /projects?topic=`` (Projects API, "List all projects"), paginated."""
    topic = query_of(request).get("topic")
    return paginated(request, [p for p in fake.projects.values() if topic in p["topics"]])


def _project_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id`` with the URL-encoded path (Projects API, "Get a single project")."""
    path = unquote(m.group(1))
    for project in fake.projects.values():
        if project["path_with_namespace"] == path:
            return _ok(project)
    return not_found("Project")


def _group_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /groups/:id`` (Groups API, "Get a single group"); 404 ``Group Not Found``."""
    return _ok(group_json()) if unquote(m.group(1)) == GROUP else not_found("Group")


def _project_create(fake: FakeGitLab, request: requests.PreparedRequest,
                    m: re.Match[str]) -> Reply:
    """``POST /projects`` (Projects API, "Create a project"): every refused attribute is
    named in ``{"message": {field: [...]}}`` with status 400, as GitLab's validation does."""
    data = body_of(request)
    assert data["namespace_id"] == GROUP_ID
    assert data.get("initialize_with_readme") is True  # else default_branch has no effect
    taken = [p for p in fake.projects.values() if p["namespace"]["id"] == GROUP_ID]
    errors: dict[str, list[str]] = {}
    if not valid_project_name(data["name"]):
        errors.setdefault("name", []).append(NAME_RULE)
    elif any(p["name"] == data["name"] for p in taken):
        errors.setdefault("name", []).append("has already been taken")
    if not valid_project_path(data["path"]):
        errors.setdefault("path", []).append(PATH_RULE)
    elif any(p["path"] == data["path"] for p in taken):
        errors.setdefault("path", []).append("has already been taken")
    if errors:
        return _bad(400, errors)
    project = fake.add_project(data["path"], description=data.get("description", ""),
                               topics=data.get("topics", []),
                               readme=f"# {data['name']}\n\n## Getting started\n")
    project["name"] = data["name"]
    return _ok(project, 201)


def _file_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/repository/files/:file_path?ref=`` (Repository files API)."""
    assert query_of(request) == {"ref": "main"}
    found = fake.repos[int(m.group(1))].files.get(unquote(m.group(2)))
    return _ok(file_json(unquote(m.group(2)), *found)) if found else not_found("File")


def _commit_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/repository/commits/:sha`` (Commits API, "Get a single commit")."""
    commit = fake.repos[int(m.group(1))].commits.get(m.group(2))
    return _ok(commit) if commit else not_found("Commit")


def _commit_create(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    """``POST /projects/:id/repository/commits`` (Commits API, "Create a commit with
    multiple files and actions")."""
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
    before = fake.repos[pid].head
    sha = fake.commit(pid, data["commit_message"], dict(changed))
    fake.deliver(pid, "Push Hook", push_event(fake.projects[pid], before, sha,
                                              data["commit_message"], fake.service_user))
    return _ok(fake.repos[pid].commits[sha], 201)


def _protected_get(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    """``GET /projects/:id/protected_branches/:name`` (Protected branches API)."""
    found = fake.protected[int(m.group(1))].get(unquote(m.group(2)))
    return _ok(found) if found else not_found("Protected branch")


def _protected_create(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    """``POST /projects/:id/protected_branches`` ("Protect repository branches"): 409 when
    the branch is protected already; levels default to Maintainer (40)."""
    pid, data = int(m.group(1)), body_of(request)
    assert set(data) <= {"name", "push_access_level", "merge_access_level",
                         "allow_force_push"}, data  # allowed_to_* lists are Premium
    if data["name"] in fake.protected[pid]:
        return _bad(409, f"Protected branch '{data['name']}' already exists")
    branch = protected_branch_json(data["name"], data.get("push_access_level", 40),
                                   data.get("merge_access_level", 40),
                                   force=bool(data.get("allow_force_push", False)),
                                   bid=next(fake._ids))
    fake.protected[pid][data["name"]] = branch
    return _ok(branch, 201)


def _protected_delete(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    """``DELETE /projects/:id/protected_branches/:name`` ("Unprotect repository branches")."""
    if fake.protected[int(m.group(1))].pop(unquote(m.group(2)), None) is None:
        return not_found("Protected branch")
    return 204, {}, ""


def _protected_update(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    """``PATCH /projects/:id/protected_branches/:name`` ("Update a protected branch"): on
    the Free tier only ``allow_force_push`` and ``code_owner_approval_required`` apply."""
    branch = fake.protected[int(m.group(1))].get(unquote(m.group(2)))
    if branch is None:
        return not_found("Protected branch")
    data = body_of(request)
    assert set(data) <= {"allow_force_push", "name"}, data
    branch["allow_force_push"] = bool(data.get("allow_force_push", branch["allow_force_push"]))
    return _ok(branch)


def _wikis_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/wikis`` (Project wikis API, "List wiki pages"): not paginated."""
    with_content = query_of(request).get("with_content") == "1"
    return _ok([wiki_json(p["title"], p["content"] if with_content else None)
                for p in fake.wikis[int(m.group(1))].values()])


def _wiki_create(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``POST /projects/:id/wikis`` (Project wikis API, "Create a new wiki page")."""
    pid, data = int(m.group(1)), body_of(request)
    assert set(data) == {"title", "content", "format"} and data["format"] == "markdown"
    if data["title"] in fake.wikis[pid]:
        return _bad(400, "Duplicate page: A page with that title already exists")
    fake.wikis[pid][data["title"]] = wiki_json(data["title"], data["content"])
    fake.deliver(pid, "Wiki Page Hook", wiki_event(fake.projects[pid],
                                                   fake.wikis[pid][data["title"]], "create",
                                                   fake.service_user))
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
    fake.deliver(pid, "Wiki Page Hook", wiki_event(fake.projects[pid], fake.wikis[pid][title],
                                                   "update", fake.service_user))
    return _ok(fake.wikis[pid][title])


def _users_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /users?username=`` (Users API, "List users"): case-insensitive, paginated."""
    name = query_of(request)["username"].lower()
    return paginated(request, [u for u in fake.users.values() if u["username"].lower() == name])


def _current_user(fake: FakeGitLab, request: requests.PreparedRequest,
                  m: re.Match[str]) -> Reply:
    """``GET /user`` (Users API, "Get the current user"): the token's own user."""
    return _ok({**fake.service_user, "email": "sop@example.go.id", "bot": False,
                "is_admin": False, "can_create_project": True})


def _members_all(fake: FakeGitLab, request: requests.PreparedRequest,
                 m: re.Match[str]) -> Reply:
    """``GET /projects/:id/members/all`` (Members API, "List all members of a group or
    project including inherited members"): direct and inherited, each user once with the
    highest ``access_level``, paginated."""
    pid = int(m.group(1))
    merged = dict(fake.inherited)
    for uid, member in fake.members[pid].items():
        if uid not in merged or member["access_level"] >= merged[uid]["access_level"]:
            merged[uid] = member
    return paginated(request, [merged[uid] for uid in sorted(merged)])


def _member_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/members/all/:user_id`` (Members API): direct or inherited."""
    uid = int(m.group(2))
    member = fake.members[int(m.group(1))].get(uid) or fake.inherited.get(uid)
    return _ok(member) if member else not_found("Member")


def _member_create(fake: FakeGitLab, request: requests.PreparedRequest,
                   m: re.Match[str]) -> Reply:
    """``POST /projects/:id/members`` (Members API, "Add a member"); 409 if a member."""
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
    """``PUT /projects/:id/members/:user_id`` (Members API): direct members only, else 404."""
    member = fake.members[int(m.group(1))].get(int(m.group(2)))
    if member is None:  # only direct members can be edited
        return not_found("Member")
    member.update(body_of(request))
    return _ok(member)


def _milestones_list(fake: FakeGitLab, request: requests.PreparedRequest,
                     m: re.Match[str]) -> Reply:
    """``GET /projects/:id/milestones`` (Milestones API, "List project milestones"), paginated."""
    title = query_of(request).get("title")
    return paginated(request, [x for x in fake.milestones[int(m.group(1))]
                               if title in (None, x["title"])])


def _milestone_create(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    """``POST /projects/:id/milestones`` (Milestones API, "Create new milestone")."""
    pid, data = int(m.group(1)), body_of(request)
    if any(x["title"] == data["title"] for x in fake.milestones[pid]):
        return _bad(400, "Milestone title has already been taken")
    milestone = milestone_json(next(fake._ids), pid, data["title"], data.get("due_date"),
                               iid=len(fake.milestones[pid]) + 1)
    fake.milestones[pid].append(milestone)
    return _ok(milestone, 201)


def _milestone_update(fake: FakeGitLab, request: requests.PreparedRequest,
                      m: re.Match[str]) -> Reply:
    """``PUT /projects/:id/milestones/:milestone_id`` (Milestones API): the ``id``."""
    pid, mid = int(m.group(1)), int(m.group(2))
    milestone = next((x for x in fake.milestones[pid] if x["id"] == mid), None)
    if milestone is None:  # the URL takes the milestone's id, not its iid
        return not_found("Milestone")
    milestone.update(body_of(request))
    return _ok(milestone)


def _hooks_list(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/hooks`` (Project webhooks API, "List webhooks"), paginated."""
    return paginated(request, fake.hooks[int(m.group(1))])


def _hook_get(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/hooks/:hook_id`` ("Get a project webhook")."""
    hook = next((h for h in fake.hooks[int(m.group(1))] if h["id"] == int(m.group(2))), None)
    return _ok(hook) if hook else not_found("Hook")


def _hook_test(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``POST /projects/:id/hooks/:hook_id/test/:trigger`` ("Trigger a test project
    webhook"): 201 when the receiver answered 2xx, which re-enables a disabled hook
    (GitLab 16.11+, "Auto-disabled webhooks"); 422 with the failure otherwise."""
    hook = next((h for h in fake.hooks[int(m.group(1))] if h["id"] == int(m.group(2))), None)
    if hook is None:
        return not_found("Hook")
    assert m.group(3) in ("push_events", "tag_push_events", "wiki_page_events",
                          "merge_requests_events", "pipeline_events", "releases_events")
    if not 200 <= fake.receiver_status < 300:
        return _bad(422, f"Hook execution failed: {fake.receiver_status}")
    hook.update(alert_status="executable", disabled_until=None)
    return _ok({"message": "201 Created"}, 201)


def _hook_create(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    pid, data = int(m.group(1)), body_of(request)
    """``POST /projects/:id/hooks`` ("Add a webhook"). ``token`` is sent back in
    ``X-Gitlab-Token``; ``signing_token`` exists only where signed webhooks are enabled and
    is ignored elsewhere. ``hook_secrets`` keeps what this GitLab will send."""
    pid, data = int(m.group(1)), body_of(request)
    events = [k for k, v in data.items() if k.endswith("_events") and v]
    hook = hook_json(next(fake._ids), pid, data["url"], events=events)
    fake.hooks[pid].append(hook)
    fake.hook_secrets[hook["id"]] = _secrets(fake, data)
    return _ok(hook, 201)


def _secrets(fake: FakeGitLab, data: Json) -> tuple[str, str]:
    """("token"/"signing_token"/"token+signing_token"/"none", secret) the hook will use."""
    token = data.get("token") or ""
    signing = data.get("signing_token") if fake.signed_webhooks else None
    if token and signing:
        assert token == signing, "one secret"
        return "token+signing_token", token
    if signing:
        return "signing_token", signing
    return ("token", token) if token else ("none", "")


def _hook_update(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``PUT /projects/:id/hooks/:hook_id`` ("Edit a project webhook")."""
    hook = next(h for h in fake.hooks[int(m.group(1))] if h["id"] == int(m.group(2)))
    data = body_of(request)
    assert data["url"] == hook["url"], "same URL (a new URL resets the token)"
    hook.update({k: v for k, v in data.items() if k.endswith("_events")})
    if "token" in data or "signing_token" in data:
        fake.hook_secrets[hook["id"]] = _secrets(fake, data)
    return _ok(hook)


def _tree(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/repository/tree?recursive=true`` (Repositories API, "List
    repository tree"): directories as ``type: tree`` (mode 040000) before their files,
    paginated (the ``pagination=keyset`` variant is not used by us)."""
    query = query_of(request)
    assert {"recursive": "True", "ref": "main"}.items() <= query.items(), query
    files = fake.repos[int(m.group(1))].files
    dirs = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
    entries = [{"id": hashlib.sha1(p.encode()).hexdigest() if p in dirs
                else git_blob_id(files[p][0].encode("utf-8")), "name": p.rsplit("/", 1)[-1],
                "type": "tree" if p in dirs else "blob", "path": p,
                "mode": "040000" if p in dirs else "100644"} for p in sorted({*files, *dirs})]
    return paginated(request, entries)


def _blob_raw(fake: FakeGitLab, request: requests.PreparedRequest, m: re.Match[str]) -> Reply:
    """``GET /projects/:id/repository/blobs/:sha/raw`` (Repositories API, "Raw blob
    content"): the bytes of the blob with git object id ``:sha``; 404 for an unknown one."""
    for text, _ in fake.repos[int(m.group(1))].files.values():
        if git_blob_id(text.encode("utf-8")) == m.group(2):
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, text
    return not_found("Blob")


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
    "protected.delete": ("DELETE", _PID + r"/protected_branches/([^/?]+)$", _protected_delete),
    "protected.update": ("PATCH", _PID + r"/protected_branches/([^/?]+)$", _protected_update),
    "wikis.list": ("GET", _PID + r"/wikis(\?.*)?$", _wikis_list),
    "wiki.create": ("POST", _PID + r"/wikis$", _wiki_create),
    "wiki.get": ("GET", _PID + r"/wikis/([^/?]+)(\?.*)?$", _wiki_get),
    "wiki.update": ("PUT", _PID + r"/wikis/([^/?]+)$", _wiki_update),
    "users.list": ("GET", r"/users\?(.*)$", _users_list),
    "user.get": ("GET", r"/user$", _current_user),
    "members.list": ("GET", _PID + r"/members/all(\?.*)?$", _members_all),
    "member.get": ("GET", _PID + r"/members/all/(\d+)$", _member_get),
    "member.create": ("POST", _PID + r"/members$", _member_create),
    "member.update": ("PUT", _PID + r"/members/(\d+)$", _member_update),
    "milestones.list": ("GET", _PID + r"/milestones(\?.*)?$", _milestones_list),
    "milestone.create": ("POST", _PID + r"/milestones$", _milestone_create),
    "milestone.update": ("PUT", _PID + r"/milestones/(\d+)$", _milestone_update),
    "hooks.list": ("GET", _PID + r"/hooks(\?.*)?$", _hooks_list),
    "hook.get": ("GET", _PID + r"/hooks/(\d+)$", _hook_get),
    "hook.test": ("POST", _PID + r"/hooks/(\d+)/test/([a-z_]+)$", _hook_test),
    "hook.create": ("POST", _PID + r"/hooks$", _hook_create),
    "hook.update": ("PUT", _PID + r"/hooks/(\d+)$", _hook_update),
    "tree": ("GET", _PID + r"/repository/tree\?(.*)$", _tree),
    "blob.raw": ("GET", _PID + r"/repository/blobs/([0-9a-f]{40})/raw$", _blob_raw),
}
#: Every route a first provisioning of a new project calls (a project it has just created
#: is not read back for files, wiki pages, milestones or hooks).
PROVISION_ROUTES = ("projects.list", "project.get", "group.get", "project.create",
                    "commit.create", "protected.get", "protected.delete", "protected.create",
                    "wiki.create", "users.list", "members.list", "member.create",
                    "milestone.create", "hook.create")
#: The routes of a run that finds everything in place: reads only.
READ_ROUTES = ("projects.list", "file.get", "protected.get", "wikis.list", "members.list",
               "milestones.list", "hooks.list")
#: What a run on a project that exists reads besides PROVISION_ROUTES (``commit.get`` too
#: when a file is not as our seed: to tell GitLab's README from one people wrote).
RERUN_ROUTES = ("file.get", "wikis.list", "milestones.list", "hooks.list")
DELIVERABLE_ROUTES = ("wikis.list", "blob.raw", "tree")


def writes(calls: Iterable[Any]) -> list[tuple[str, str]]:
    """The non-GET calls as (method, path without ``/api/v4``), in order."""
    return [(c.request.method, urlsplit(c.request.url).path.removeprefix("/api/v4"))
            for c in calls if c.request.method != "GET"]
