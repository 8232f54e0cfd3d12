"""The work the service does itself for a step: provisioning (8), the gate (12), the milestone.

Each function is idempotent: provisioning looks every part up before creating it, and the
case's project is linked in the store only once, so a job redone after a crash finishes
what is missing and duplicates nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date

from connector.codehost import ProjectRequest, ProvisionedProject
from connector.codehost.deliverables import checklist_note
from connector.codehost.naming import slugify
from connector.config.secret import Secret
from connector.config.settings import GitLabSettings
from connector.errors import RemoteRejected
from connector.faults import fault_point
from connector.services import Services
from connector.sop.model import Automation, Role
from connector.store import audit, cases
from connector.store.projects import CaseProject, link_project, project_of_case
from connector.workflow.engine import CaseView
from connector.workflow.identity import learn_service_username


def project_request(services: Services, case: cases.Case, view: CaseView) -> ProjectRequest:
    """What step 8 asks of the code host for this case (GitLab's usernames, if GitLab)."""
    gitlab = services.settings.gitlab
    username = gitlab.username_for if gitlab else str
    return ProjectRequest(
        case_key=case.case_key, slug_source=case.nama_aplikasi,
        title=case.nama_aplikasi,
        description=f"Aplikasi {case.nama_aplikasi} untuk {_opd_name(services, case.opd)}",
        opd_name=_opd_name(services, case.opd), nomor_surat=case.nomor_surat,
        tanggal_surat=_letter_date(case), milestone_title=milestone_title(services),
        team_usernames=tuple(username(login) for login in view.team),
        maintainer_usernames=tuple(username(login) for login in
                                   services.settings.roles.get(Role.KEPALA_SEKSI_APLIKASI, ())),
        milestone_due=None, hook_url=_hook_url(services),
        hook_token=_hook_token(services) if gitlab else Secret(""))  # no hook without GitLab


def milestone_title(services: Services) -> str:
    """The development milestone's title (``[gitlab] milestone_title``, or its default)."""
    gitlab = services.settings.gitlab
    return gitlab.milestone_title if gitlab else GitLabSettings.milestone_title


def provision(services: Services, case: cases.Case, view: CaseView) -> ProvisionedProject:
    """Step 8: the case's repository, wiki, members, milestone and hook; then link it."""
    assert services.codehost is not None
    request = project_request(services, case, view)

    def record_part(part: str) -> None:
        """Audit each part once, even when a redone job provisions it again."""
        with services.engine.begin() as conn:
            if audit.mark_change_processed(conn, f"provisioned:{case.id}:{part}"):
                audit.append_audit(conn, case.id, "sop-connector", "provisioned_part",
                                   step_from=services.sop.step_with(
                                       Automation.PROVISION_REPOSITORY),
                                   detail={"part": part})

    learn_service_username(services)
    project = services.codehost.provision(request, record_part=record_part)
    with services.engine.begin() as conn:
        link_project(conn, CaseProject(case.id, project.id, project.path_with_namespace,
                                       project.web_url, project.wiki_url))
    fault_point("provision.after_project_linked")
    identifier = subproject_identifier(case)
    members = tuple(dict.fromkeys(
        (*view.team, *services.settings.roles.get(Role.KEPALA_SEKSI_APLIKASI, ()))))
    services.tracker.ensure_subproject(
        identifier, f"{case.nama_aplikasi} ({case.opd})",
        f"Aplikasi {case.nama_aplikasi}: repositori {project.web_url}, wiki {project.wiki_url}",
        members)
    fault_point("provision.after_subproject")
    services.tracker.ensure_version(identifier, request.milestone_title, None)
    record_part("redmine")
    fault_point("provision.after_version")
    return project


def subproject_identifier(case: cases.Case) -> str:
    """The Redmine identifier of the application's subproject, stable and unique per case."""
    digest = hashlib.sha1(case.case_key.encode("utf-8")).hexdigest()[:6]
    return f"app-{slugify(case.nama_aplikasi)[:80]}-{digest}"


def project_for(services: Services, case_id: int) -> ProvisionedProject | None:
    """The case's provisioned project as the code host port knows it."""
    linked = project_of_case(services.engine, case_id)
    if linked is None:
        return None
    return ProvisionedProject(linked.project_id, linked.path, linked.web_url, linked.wiki_url,
                              hook_url=_hook_url(services))


def missing_deliverables(services: Services, case_id: int) -> tuple[str, ...]:
    """The gate's checklist lines of what is missing; empty when all is there (or no host)."""
    project = project_for(services, case_id)
    if services.codehost is None or project is None:
        return ()
    statuses = services.codehost.deliverables(project)
    if all(status.present for status in statuses):
        return ()
    return tuple(line for line in checklist_note(statuses).splitlines() if line.strip())


def set_development_due(services: Services, case: cases.Case, due: date) -> None:
    """The code host's milestone and the Redmine version carry step 12's due date."""
    project = project_for(services, case.id)
    if services.codehost is not None and project is not None:
        title = milestone_title(services)
        services.codehost.set_milestone_due(project, title, due)
        fault_point("automation.after_milestone_due")
        services.tracker.ensure_version(subproject_identifier(case), title, due)
        fault_point("automation.after_version_due")


UNHEALTHY_HOOKS = "gitlab_hooks_unhealthy"


def check_hooks(services: Services, *, repaired: list[str] | None = None) -> list[str]:
    """Projects of open cases whose hook GitLab has disabled; remembered for /healthz.

    With ``repaired`` (``doctor``), each disabled hook gets a test delivery first, which
    makes GitLab re-enable it; the projects so repaired are appended to ``repaired``.
    """
    from sqlalchemy import select

    from connector.store.cursors import set_cursor
    from connector.store.schema import CaseStatus, case_projects
    from connector.store.schema import cases as case_rows

    if services.codehost is None:
        return []
    learn_service_username(services)  # for projects provisioned before it was learned
    with services.engine.connect() as conn:
        ids = conn.execute(select(case_projects.c.case_id).join(
            case_rows, case_rows.c.id == case_projects.c.case_id).where(
            case_rows.c.status == CaseStatus.OPEN.value)).scalars().all()
    broken = []
    for case_id in ids:
        project = project_for(services, case_id)
        if project is None or services.codehost.hooks_healthy(project):
            continue
        if repaired is not None and services.codehost.repair_hooks(project):
            repaired.append(project.path_with_namespace)
        else:
            broken.append(project.path_with_namespace)
    with services.engine.begin() as conn:
        set_cursor(conn, UNHEALTHY_HOOKS, ",".join(broken))
    return broken


def _opd_name(services: Services, code: str) -> str:
    agency = services.settings.opd.agencies.get(code)
    return agency.name if agency else code


def _letter_date(case: cases.Case) -> date:
    try:
        return date.fromisoformat(str(case.letter.get("tanggal_surat", "")))
    except ValueError:
        return case.created_at.date()


def _hook_url(services: Services) -> str:
    gitlab = services.settings.gitlab
    configured = gitlab.hook_url if gitlab else ""
    return configured or f"{services.settings.server.public_url}/webhooks/gitlab"


def _hook_token(services: Services) -> Secret:
    token = services.settings.webhooks.gitlab_token
    if token is None:
        raise RemoteRejected("[webhooks] gitlab_token_env is required to provision GitLab "
                             "hooks (the token GitLab sends back in X-Gitlab-Token)")
    return token
