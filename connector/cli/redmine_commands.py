"""``sop-connector redmine-setup`` and ``doctor``: prepare and check the Redmine side."""

from __future__ import annotations

from dataclasses import replace

import click

from connector.cli.context import config_option, settings_from
from connector.config.settings import Settings
from connector.redmine.doctor import Problem
from connector.redmine.schema import (
    DEFAULT_CUSTOM_FIELDS,
    DEFAULT_STATUSES,
    ProjectSpec,
    RedmineSchema,
    StatusSpec,
)
from connector.redmine.setup_script import render_setup_script
from connector.sop.model import Role


def all_logins(settings: Settings) -> tuple[str, ...]:
    """Every Redmine login the configuration names, in a stable order."""
    logins = [login for role in Role for login in settings.roles.get(role, ())]
    logins += settings.role_overrides
    logins += [login for agency in settings.opd.agencies.values() for login in agency.tim_teknis]
    return tuple(dict.fromkeys(logins))


def schema_for(settings: Settings) -> RedmineSchema:
    """What this configuration needs in Redmine: its names, statuses and members."""
    redmine = settings.redmine
    statuses = list(DEFAULT_STATUSES)
    known = {s.name for s in statuses}
    for name in (redmine.new_status, redmine.active_status):
        if name not in known:
            statuses.append(StatusSpec(name))
    for name in (*redmine.done_statuses, *redmine.reject_statuses):
        if name not in known:
            statuses.append(StatusSpec(name, is_closed=True))
    fields = tuple(replace(f, name=redmine.key_field) if f.key == "sop_key" else f
                   for f in DEFAULT_CUSTOM_FIELDS)
    return RedmineSchema(
        project=replace(ProjectSpec(), identifier=redmine.project),
        case_tracker=redmine.case_tracker, step_tracker=redmine.step_tracker,
        statuses=tuple(statuses), default_status=redmine.new_status, custom_fields=fields,
        member_logins=all_logins(settings),
    )


def _gitlab_problems(settings: Settings) -> list[Problem]:
    """GitLab hooks that GitLab has disabled after failed deliveries (it does so silently)."""
    if settings.gitlab is None:
        return []
    from connector.bootstrap import bootstrap
    from connector.errors import ConnectorError
    from connector.workflow.automation import check_hooks

    repaired: list[str] = []
    try:
        broken = check_hooks(bootstrap(settings), repaired=repaired)
    except ConnectorError as exc:
        return [Problem(f"GitLab {settings.gitlab.url} cannot be checked: {exc}",
                        "check [gitlab] url, token_env and the network to GitLab")]
    for path in repaired:
        click.echo(f"diperbaiki: webhook GitLab {path} yang dinonaktifkan GitLab aktif "
                   "kembali setelah kiriman uji")
    return [Problem(f"the GitLab hook of {path} is disabled and a test delivery did not "
                    "re-enable it",
                    f"make sure GitLab reaches the hook URL and gets 2xx (see {path} > "
                    "Settings > Webhooks > Recent events), then run "
                    "`sop-connector provision CASE` or `sop-connector doctor` again")
            for path in broken]


def register(main: click.Group) -> None:
    """Add ``redmine-setup`` and ``doctor`` to the main command."""

    @main.command("redmine-setup")
    @config_option
    def redmine_setup(config_path: str | None) -> None:
        """Print the idempotent Ruby set-up script for `bin/rails runner` on the Redmine host.

        Redmine's REST API cannot create trackers, statuses, custom fields, roles or
        workflows; run the printed script once on the Redmine host:
        `RAILS_ENV=production bin/rails runner setup.rb` from Redmine's folder.
        """
        settings = settings_from(config_path, resolve_secrets=False)
        click.echo(render_setup_script(schema_for(settings)), nl=False)

    @main.command()
    @config_option
    def doctor(config_path: str | None) -> None:
        """Check Redmine against the configuration; print the exact fix for each problem."""
        from connector.redmine.doctor import check_redmine

        settings = settings_from(config_path)
        assert settings.redmine.api_key is not None
        problems = check_redmine(settings.redmine.url, settings.redmine.api_key.reveal(),
                                 schema_for(settings), all_logins(settings))
        from connector.redmine.plugin_check import check_plugin

        plugin = check_plugin(settings.redmine.url, settings.redmine.api_key.reveal(),
                              project=settings.redmine.project)
        problems += plugin.problems
        problems += _gitlab_problems(settings)
        from connector.cli.codehost_commands import describe_codehost, local_git_problems

        problems += local_git_problems(settings)
        if not problems:
            click.echo(f"ok: Redmine {settings.redmine.url} is ready for sop-connector")
            click.echo(plugin.line)
            click.echo(describe_codehost(settings))
            return
        for problem in problems:
            click.echo(f"MASALAH: {problem.what}\n  perbaikan: {problem.fix}")
        click.echo(plugin.line)
        click.echo(describe_codehost(settings))
        raise SystemExit(1)
