"""The default branch's protection, brought to what ``[gitlab]`` asks (SOP step 8).

GitLab protects a new project's default branch itself, as the instance or group setting
``default_branch_protection`` says (0 none, 1 partial, 2 full, 3 protected against pushes,
4 full after initial push; "Default branch" and Settings API docs), so our rules must be
compared with what is there, not only created. Protecting a protected branch again is 409
(Protected branches API, "Protect repository branches"). On every tier the documented way
to change its access levels is "Unprotect repository branches" then "Protect repository
branches" (the ``allowed_to_*`` lists of "Update a protected branch" are Premium); only
``allow_force_push`` alone is changed in place with ``PATCH``. A crash between unprotect and
protect leaves the branch unprotected, which the re-run's read sees and completes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitlab.v4.objects import Project

from connector.gitlab.client import found

NO_ONE, DEVELOPER, MAINTAINER = 0, 30, 40  # Protected branches API, "Valid access levels"
LEVEL_NAMES = {"no_one": NO_ONE, "developer": DEVELOPER, "maintainer": MAINTAINER}
WHO = {NO_ONE: "tidak seorang pun", DEVELOPER: "Developer", MAINTAINER: "Maintainer"}
Todo = tuple[str, Callable[[], object]]


@dataclass(frozen=True)
class BranchRules:
    """Who may push to and merge into the default branch, and whether force push is allowed."""

    push: int = MAINTAINER
    merge: int = DEVELOPER
    allow_force_push: bool = False

    def line(self, branch: str) -> str:
        """The plan's line for these rules."""
        force = ", force push diizinkan" if self.allow_force_push else ""
        return (f"Lindungi cabang {branch}: push oleh {WHO[self.push]}, "
                f"merge oleh {WHO[self.merge]}{force}")


def todo(project: Project, branch: str, rules: BranchRules) -> list[Todo]:
    """What brings ``branch`` to ``rules``: nothing when it already has them."""
    current = found(lambda: project.protectedbranches.get(branch))
    body = {"name": branch, "push_access_level": rules.push,
            "merge_access_level": rules.merge, "allow_force_push": rules.allow_force_push}
    if current is None:
        return [(rules.line(branch), lambda: project.protectedbranches.create(body))]
    have = rules_of(current.attributes)
    if have == rules:
        return []
    if (have.push, have.merge) == (rules.push, rules.merge):
        def force() -> None:
            current.allow_force_push = rules.allow_force_push
            current.save()
        return [(_change_line(branch, have, rules), force)]

    def replace() -> None:
        project.protectedbranches.delete(branch)
        project.protectedbranches.create(body)
    return [(_change_line(branch, have, rules), replace)]


def rules_of(branch: Mapping[str, Any]) -> BranchRules:
    """The role rules of a protected branch as GitLab returns it (users, groups, keys aside)."""
    return BranchRules(push=_role_level(branch.get("push_access_levels") or ()),
                       merge=_role_level(branch.get("merge_access_levels") or ()),
                       allow_force_push=bool(branch.get("allow_force_push")))


def _role_level(levels: Iterable[Mapping[str, Any]]) -> int:
    """The lowest role allowed (entries for a user, group or deploy key are not roles)."""
    roles = [int(x["access_level"]) for x in levels
             if not any(x.get(k) for k in ("user_id", "group_id", "deploy_key_id"))]
    allowed = [r for r in roles if r != NO_ONE]
    return min(allowed) if allowed else NO_ONE


def _change_line(branch: str, have: BranchRules, want: BranchRules) -> str:
    now = (f"sekarang push oleh {WHO.get(have.push, have.push)}, merge oleh "
           f"{WHO.get(have.merge, have.merge)}"
           + (", force push diizinkan" if have.allow_force_push else ""))
    return f"Ubah perlindungan cabang {branch} ({now}): " + want.line(branch).split(": ", 1)[1]
