"""Check over REST that a Redmine has everything a ``RedmineSchema`` asks for.

Each fault becomes a ``Problem`` with an exact fix; an empty list means all is well. Workflow
rules cannot be read over REST (Redmine 5.0), so only the set-up script guarantees them.
Custom fields and users are listed only to administrators, like the connector's own key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redminelib import Redmine
from redminelib import exceptions as rex

from connector.redmine.schema import RedmineSchema

SETUP_FIX = (
    "run `sop-connector redmine-setup > setup.rb`, then on the Redmine host, in the Redmine "
    "directory (Debian: /usr/share/redmine), `RAILS_ENV=production bin/rails runner setup.rb`"
)
KEY_FIX = "use the API key shown under My account » API access key of an administrator"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with Redmine, and the exact instruction that repairs it."""

    what: str
    fix: str


class _Rest:
    """GET JSON from Redmine with the key in a header, never in the URL."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self._engine = Redmine(self.url, key=api_key).engine

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        # The engine's session carries the key header; python-redmine passes no timeout itself.
        response = self._engine.session.get(self.url + path, params=params, timeout=15)
        result: dict[str, Any] = self._engine.process_response(response)
        return result

    def close(self) -> None:
        self._engine.session.close()

    def all(self, path: str, container: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, limit=100, offset=len(items))
            items += page[container]
            if not page[container] or len(items) >= page.get("total_count", 0):
                return items


def check_redmine(
    url: str, api_key: str, schema: RedmineSchema, logins: Iterable[str]
) -> list[Problem]:
    """Every problem found in the Redmine at ``url``; ``logins`` are users the config names."""
    rest = _Rest(url, api_key)
    try:
        problems = _check_all(rest, schema, logins)
    except OSError as error:  # requests' errors are OSErrors; they name the URL, not the key
        problems = [Problem(f"Redmine at {rest.url} is not reachable ({type(error).__name__})",
                            "start Redmine or correct the Redmine URL in the configuration")]
    except (rex.BaseRedmineError, KeyError, TypeError) as error:
        problems = [Problem(f"Redmine at {rest.url} answered unexpectedly: {error}",
                            "check that the URL is the Redmine root and read its log")]
    finally:
        rest.close()
    return [_scrub(p, api_key) for p in problems]


def _check_all(rest: _Rest, schema: RedmineSchema, logins: Iterable[str]) -> list[Problem]:
    try:
        current = rest.get("/users/current.json")["user"]
    except rex.ForbiddenError:  # an API request denied to an anonymous user: API off
        return [Problem("the Redmine REST API is disabled",
                        "tick Administration » Settings » API » Enable REST web service, or "
                        + SETUP_FIX)]
    except rex.AuthError:
        return [Problem("Redmine rejects the API key", KEY_FIX)]
    except rex.ResourceNotFoundError:
        return [Problem(f"no Redmine REST API at {rest.url}",
                        "set the Redmine URL to the Redmine root (the page with the sign-in link)")]
    problems = _statuses(rest, schema) + _trackers(rest, schema) + _role(rest, schema)
    project = _project(rest, schema)
    problems += _project_problems(project, schema)
    if not current.get("admin"):
        return [*problems, Problem(f"the API key's user {current.get('login')!r} is not an "
                                   "administrator", KEY_FIX)]
    problems += _custom_fields(rest, schema, project)
    return problems + _users(rest, schema, logins, project)


def _statuses(rest: _Rest, schema: RedmineSchema) -> list[Problem]:
    found = {s["name"]: s for s in rest.get("/issue_statuses.json")["issue_statuses"]}
    problems = [Problem(f"issue status {s.name!r} is missing", SETUP_FIX)
                for s in schema.statuses if s.name not in found]
    return problems + [
        Problem(f"issue status {s.name!r} should {'' if s.is_closed else 'not '}be closed",
                f"set 'Issue closed' {'on' if s.is_closed else 'off'} for {s.name!r} in "
                "Administration » Issue statuses")
        for s in schema.statuses if s.name in found and found[s.name]["is_closed"] != s.is_closed
    ]


def _trackers(rest: _Rest, schema: RedmineSchema) -> list[Problem]:
    found = {t["name"] for t in rest.get("/trackers.json")["trackers"]}
    problems = [Problem(f"tracker {name!r} is missing", SETUP_FIX)
                for name in schema.trackers if name not in found]
    if not rest.get("/enumerations/issue_priorities.json")["issue_priorities"]:
        problems.append(Problem("Redmine has no issue priority", SETUP_FIX))
    return problems


def _role(rest: _Rest, schema: RedmineSchema) -> list[Problem]:
    ids = [r["id"] for r in rest.get("/roles.json")["roles"] if r["name"] == schema.role.name]
    if not ids:
        return [Problem(f"role {schema.role.name!r} is missing", SETUP_FIX)]
    granted = set(rest.get(f"/roles/{ids[0]}.json")["role"].get("permissions", []))
    missing = [p for p in schema.role.permissions if p not in granted]
    return [Problem(f"role {schema.role.name!r} lacks permissions: {', '.join(missing)}",
                    SETUP_FIX)] if missing else []


def _project(rest: _Rest, schema: RedmineSchema) -> dict[str, Any] | None:
    path = f"/projects/{schema.project.identifier}.json"
    try:
        project: dict[str, Any] = rest.get(
            path, include="trackers,issue_custom_fields,enabled_modules")["project"]
    except (rex.ResourceNotFoundError, rex.ForbiddenError):
        return None
    return project


def _project_problems(project: dict[str, Any] | None, schema: RedmineSchema) -> list[Problem]:
    ident = schema.project.identifier
    if project is None:
        return [Problem(f"project {ident!r} is missing (or hidden from the key's user)",
                        SETUP_FIX)]
    trackers = {t["name"] for t in project.get("trackers", [])}
    modules = {m["name"] for m in project.get("enabled_modules", [])}
    return [Problem(f"project {ident!r} does not use tracker {name!r}", SETUP_FIX)
            for name in schema.trackers if name not in trackers] + [
        Problem(f"project {ident!r} lacks the module {name!r}", SETUP_FIX)
        for name in schema.project.modules if name not in modules]


def _custom_fields(
    rest: _Rest, schema: RedmineSchema, project: dict[str, Any] | None
) -> list[Problem]:
    found = {f["name"]: f for f in rest.get("/custom_fields.json")["custom_fields"]
             if f.get("customized_type") == "issue"}
    enabled = {f["name"] for f in (project or {}).get("issue_custom_fields", [])}
    problems = []
    for spec in schema.custom_fields:
        field = found.get(spec.name)
        if field is None:
            problems.append(Problem(f"issue custom field {spec.name!r} is missing", SETUP_FIX))
            continue
        faults = [] if field["field_format"] == spec.field_format else [
            f"has format {field['field_format']}, not {spec.field_format}"]
        faults += [f"is not {flag}" for flag in ("is_filter", "searchable", "multiple")
                   if getattr(spec, flag) and not field.get(flag)]
        values = {str(v.get("value")) for v in field.get("possible_values") or ()
                  if isinstance(v, dict)}
        faults += [f"has no value {v!r}" for v in spec.possible_values if v not in values]
        trackers = {t["name"] for t in field.get("trackers", [])}
        faults += [f"is not on tracker {t!r}" for t in schema.trackers if t not in trackers]
        if project is not None and spec.name not in enabled:
            faults.append(f"is not enabled in project {schema.project.identifier!r}")
        problems += [Problem(f"issue custom field {spec.name!r} {fault}", SETUP_FIX)
                     for fault in faults]
    return problems


def _users(
    rest: _Rest, schema: RedmineSchema, logins: Iterable[str], project: dict[str, Any] | None
) -> list[Problem]:
    wanted = dict.fromkeys([*logins, *schema.member_logins])
    problems, ids = [], {}
    for login in wanted:
        user = _find_user(rest, login, status="1")
        if user is not None:
            ids[login] = user["id"]
        elif _find_user(rest, login, status="") is not None:
            problems.append(Problem(f"Redmine user {login!r} is locked or not activated",
                                    f"activate user {login!r} in Administration » Users"))
        else:
            problems.append(Problem(f"Redmine user {login!r} does not exist",
                                    f"create user {login!r} in Redmine (Administration » Users)"))
    if project is None:
        return problems
    members = rest.all(f"/projects/{project['id']}/memberships.json", "memberships")
    roles = {m["user"]["id"]: {r["name"] for r in m.get("roles", [])}
             for m in members if "user" in m}
    return problems + [
        Problem(f"{login!r} is not a member of project {schema.project.identifier!r} with role "
                f"{schema.role.name!r}", SETUP_FIX)
        for login in schema.member_logins
        if login in ids and schema.role.name not in roles.get(ids[login], set())
    ]


def _find_user(rest: _Rest, login: str, status: str) -> dict[str, Any] | None:
    users = rest.get("/users.json", name=login, status=status, limit=100)["users"]
    return next((u for u in users if u["login"].lower() == login.lower()), None)


def _scrub(problem: Problem, api_key: str) -> Problem:
    if not api_key:
        return problem
    hide = "[api key]"
    return Problem(problem.what.replace(api_key, hide), problem.fix.replace(api_key, hide))
