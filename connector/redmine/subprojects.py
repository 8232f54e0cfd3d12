"""The application's own Redmine subproject and version (SOP step 8), created once.

python-redmine calls on an already-built client; the ``RedmineTracker`` resolves names to ids
and wraps these in its error translation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from redminelib import Redmine, exceptions

MODULES = ("issue_tracking", "wiki", "files", "calendar", "gantt")


def ensure_subproject(redmine: Redmine, *, parent_id: int, identifier: str, name: str,
                      description: str, user_ids: Iterable[int], role_id: int) -> bool:
    """The subproject ``identifier`` under the SOP project, with these users as members.

    True when it was created by this call: then it inherits no members and has none of the
    team yet, so its members are not listed.
    """
    created = False
    try:
        project: Any = redmine.project.get(identifier)
    except exceptions.ResourceNotFoundError:
        project = redmine.project.create(
            name=name[:255], identifier=identifier, description=description,
            parent_id=parent_id, is_public=False, inherit_members=False,
            enabled_module_names=list(MODULES))
        created = True
    members = set() if created else {m.raw()["user"]["id"] for m in
                                     redmine.project_membership.filter(project_id=project.id)
                                     if "user" in m.raw()}
    for user_id in sorted(set(user_ids) - members):
        redmine.project_membership.create(project_id=project.id, user_id=user_id,
                                          role_ids=[role_id])
    return created


def ensure_version(redmine: Redmine, *, project: str, name: str, due: date | None,
                   absent: bool = False) -> None:
    """The version ``name`` of the subproject, with ``due`` as its date when given.

    ``absent``: the caller knows there is no such version (a subproject it has just created).
    """
    found = None if absent else next(
        (v for v in redmine.version.filter(project_id=project) if v.name == name), None)
    if found is None:
        fields: dict[str, Any] = {"project_id": project, "name": name, "status": "open"}
        if due is not None:
            fields["due_date"] = due
        redmine.version.create(**fields)
    elif due is not None and str(getattr(found, "due_date", "")) != due.isoformat():
        redmine.version.update(found.id, due_date=due)
