"""``sop-connector provision CASE`` and ``deliverables CASE``: step 8 and step 12's gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from
from connector.errors import ConnectorError

if TYPE_CHECKING:
    from connector.bootstrap import Services
    from connector.store.cases import Case


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
        raise ConnectorError("no code host is configured: add a [gitlab] section")
    return services


def register(main: click.Group) -> None:
    """Add ``provision`` and ``deliverables`` to the main command."""

    @main.command()
    @config_option
    @click.argument("case")
    @click.option("--dry-run", is_flag=True, help="Only print what would be created.")
    def provision(config_path: str | None, case: str, dry_run: bool) -> None:
        """Provision (or complete) the GitLab project of CASE, as step 8 does."""
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

    @main.command()
    @config_option
    @click.argument("case")
    def deliverables(config_path: str | None, case: str) -> None:
        """Print step 12's checklist for CASE; exit status 1 while something is missing."""
        from connector.gitlab.deliverables import checklist_note
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
