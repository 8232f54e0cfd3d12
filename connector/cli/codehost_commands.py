"""``sop-connector provision CASE`` and ``deliverables CASE``: step 8 and step 12's gate.

Both work with either code host (GitLab or local git); ``describe_codehost`` and
``local_git_problems`` tell ``doctor`` which one a configuration uses and whether it can.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from
from connector.config.settings import Settings
from connector.errors import ConnectorError
from connector.redmine.doctor import Problem

if TYPE_CHECKING:
    from connector.services import Services
    from connector.store.cases import Case


def describe_codehost(settings: Settings) -> str:
    """One line naming the code host that does step 8 under this configuration."""
    if settings.gitlab is not None:
        return f"Code host: GitLab {settings.gitlab.url} (grup {settings.gitlab.group})"
    if settings.local_git is not None:
        return f"Code host: git lokal {settings.local_git.root}"
    return "Code host: tidak ada (langkah 8 dikerjakan manual)"


def local_git_problems(settings: Settings) -> list[Problem]:
    """What would stop the local code host: no ``git``, or a root this user cannot write."""
    local = settings.local_git
    if local is None:
        return []
    problems = []
    if shutil.which("git") is None:
        problems.append(Problem("git is not installed, [local_git] needs it",
                                "install it: `apt-get install git`"))
    folder = local.root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the repositories' root is created on first use
    if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
        problems.append(Problem(f"[local_git] root {local.root} cannot be written by this user",
                                f"create it for the service's user: `install -d -o USER "
                                f"-g GROUP -m 2775 {local.root}`"))
    return problems


def _case(services: Services, ref: str) -> Case:
    """A case by its number in the store or by its key (``DINKES:027/145/DINKES/2026``)."""
    from connector.store import cases

    found = cases.get_case(services.engine, int(ref)) if ref.isdigit() else \
        cases.find_case_by_key(services.engine, ref)
    if found is None:
        raise ConnectorError(f"no case {ref!r} in the store")
    return found


def _services(config_path: str | None) -> Services:
    from connector.bootstrap import bootstrap

    services = bootstrap(settings_from(config_path))
    if services.codehost is None:
        raise ConnectorError("no code host is configured: add a [gitlab] or a [local_git] "
                             "section")
    return services


def register(main: click.Group) -> None:
    """Add ``provision`` and ``deliverables`` to the main command."""

    @main.command()
    @config_option
    @click.argument("case")
    @click.option("--dry-run", is_flag=True, help="Only print what would be created.")
    def provision(config_path: str | None, case: str, dry_run: bool) -> None:
        """Provision (or complete) the repository of CASE, as step 8 does."""
        from connector.workflow import automation
        from connector.workflow.state import case_view

        services = _services(config_path)
        found = _case(services, case)
        with services.engine.connect() as conn:
            view = case_view(conn, found, services.calendar)
        if dry_run:
            assert services.codehost is not None
            plan = services.codehost.plan(automation.project_request(services, found, view))
            click.echo("\n".join(plan) if plan else "Tidak ada yang perlu dibuat.")
            return
        project = automation.provision(services, found, view)
        click.echo(f"{project.web_url}\n{project.wiki_url}\n"
                   f"dibuat: {', '.join(project.created_parts) or '-'}")
        assert services.codehost is not None
        if services.codehost.hooks_healthy(project):
            click.echo("webhook: aktif")
        else:
            click.echo("webhook: MASIH NONAKTIF; kiriman uji GitLab ke "
                       f"{project.hook_url} gagal (lihat Settings > Webhooks > Recent events)")
            raise SystemExit(1)

    @main.command()
    @config_option
    @click.argument("case")
    def deliverables(config_path: str | None, case: str) -> None:
        """Print step 12's checklist for CASE; exit status 1 while something is missing."""
        from connector.codehost.deliverables import checklist_note
        from connector.workflow.automation import project_for

        services = _services(config_path)
        project = project_for(services, _case(services, case).id)
        if project is None:
            raise ConnectorError(f"case {case!r} has no provisioned project yet (step 8)")
        assert services.codehost is not None
        statuses = services.codehost.deliverables(project)
        click.echo(checklist_note(statuses))
        if not all(status.present for status in statuses):
            raise SystemExit(1)
