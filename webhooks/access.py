"""Who may see the dashboard, and which OPDs' cases each signed-in login sees.

Three kinds of Redmine login get in (issue 20, finding 2): a holder of an SOP role in
``[roles]`` (or ``[roles] override``) and a member of the SOP project in Redmine see every
case; a member of an OPD's technical team (``[opd.agencies.X] tim_teknis``, or the
``[roles] tim_teknis_opd`` fallback for an agency without its own team) sees only that
OPD's cases. Everyone else Redmine knows is refused. The access token sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.auth import HTTPBasicAuth

from connector.config import Settings
from connector.sop.model import Role

# Roles on the requesting OPD's side: holding one says nothing about other OPDs' cases.
OPD_SIDE = frozenset({Role.TIM_TEKNIS_OPD, Role.OPD_PEMOHON})
REDMINE_TIMEOUT_SECONDS = 10
REFUSED = ("Akun Redmine {login!r} tidak berhak membuka dasbor ini. Dasbor hanya untuk "
           "pemegang peran SOP, anggota proyek SOP di Redmine, dan tim teknis OPD.")


@dataclass(frozen=True)
class Scope:
    """The OPD codes whose cases a login sees; ``opds`` None means every OPD."""

    opds: frozenset[str] | None

    def allows(self, opd: str) -> bool:
        """True when this scope sees ``opd``'s cases."""
        return self.opds is None or opd in self.opds

    def as_session(self) -> list[str] | None:
        return None if self.opds is None else sorted(self.opds)

    @classmethod
    def from_session(cls, value: object) -> Scope | None:
        """The scope stored in a session, or None when the session holds none."""
        if value is None:
            return cls(None)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return cls(frozenset(value))
        return None


EVERYTHING = Scope(None)


def configured_scope(settings: Settings, login: str) -> Scope | None:
    """The scope the configuration alone gives ``login``, or None when it gives none."""
    staff = {lg for role, logins in settings.roles.items() if role not in OPD_SIDE
             for lg in logins}
    if login in staff or login in settings.role_overrides:
        return EVERYTHING
    opds = frozenset(code for code in settings.opd.agencies
                     if login in settings.logins_for(Role.TIM_TEKNIS_OPD, code))
    return Scope(opds) if opds else None


def is_project_member(settings: Settings, login: str, password: bytes) -> bool:
    """True when Redmine lists the SOP project among the login's own memberships.

    Asked with the user's own credentials: ``GET /projects/<identifier>.json`` (a project the
    user cannot see answers 403/404) and ``GET /users/current.json?include=memberships``.
    """
    base, auth = settings.redmine.url, HTTPBasicAuth(login.encode("utf-8"), password)
    project = requests.get(f"{base}/projects/{settings.redmine.project}.json", auth=auth,
                           timeout=REDMINE_TIMEOUT_SECONDS, allow_redirects=False)
    if project.status_code != 200:
        return False
    me = requests.get(f"{base}/users/current.json", params={"include": "memberships"},
                      auth=auth, timeout=REDMINE_TIMEOUT_SECONDS, allow_redirects=False)
    if me.status_code != 200:
        return False
    project_id = project.json()["project"]["id"]
    memberships = me.json()["user"].get("memberships") or []
    return any(m.get("project", {}).get("id") == project_id for m in memberships)
