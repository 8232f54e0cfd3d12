"""Which code-host project belongs to which case (step 8's result), both ways round."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from connector.store.db import insert_ignore, reading
from connector.store.schema import case_projects


@dataclass(frozen=True)
class CaseProject:
    """A case's repository and wiki."""

    case_id: int
    project_id: int
    path: str
    web_url: str
    wiki_url: str


def link_project(conn: Connection, project: CaseProject) -> None:
    """Record the case's project (the first link stays; provisioning is idempotent)."""
    insert_ignore(conn, case_projects, vars(project), ["case_id"])


def project_of_case(bind: Engine | Connection, case_id: int) -> CaseProject | None:
    """The project provisioned for a case, if any."""
    with reading(bind) as conn:
        row = conn.execute(select(case_projects).where(case_projects.c.case_id == case_id)).first()
    return None if row is None else CaseProject(*row)


def case_of_project(bind: Engine | Connection, project_id: int) -> CaseProject | None:
    """The case a code-host project belongs to, if it is one of ours."""
    with reading(bind) as conn:
        row = conn.execute(select(case_projects)
                           .where(case_projects.c.project_id == project_id)).first()
    return None if row is None else CaseProject(*row)
