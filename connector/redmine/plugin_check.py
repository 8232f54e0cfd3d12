"""``doctor``'s look at the sop_connector Redmine plugin: installed, its version, its ping.

The plugin answers ``GET /sop_connector/status.json`` to an administrator's key and, in the same
request, sends the service one signed test delivery with its own settings; a 404 means the
plugin is not installed (it is optional: without it the service polls and puts back wrong
closures). Only the reachability of the service from Redmine, and the shared secret, are
judged here; the service's own address is what the plugin was configured with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from connector.redmine.doctor import Problem

STATUS_PATH = "/sop_connector/status.json"
TIMEOUT = 15.0  # seconds: the plugin's ping has its own, shorter timeout inside
SETTINGS = "Administration » Plugins » SOP Connector » Configure"


@dataclass(frozen=True)
class PluginReport:
    """What the plugin said; ``line`` is printed by doctor, ``problems`` count as failures."""

    line: str
    problems: tuple[Problem, ...] = ()


def check_plugin(url: str, api_key: str, *, project: str) -> PluginReport:
    """Ask the plugin of the Redmine at ``url`` for its status and a signed test ping."""
    try:
        answer = requests.get(url.rstrip("/") + STATUS_PATH, timeout=TIMEOUT,
                              headers={"X-Redmine-API-Key": api_key})
    except requests.RequestException as exc:
        return PluginReport(f"plugin sop_connector: not checked ({type(exc).__name__})")
    if answer.status_code == 404:
        return PluginReport("plugin sop_connector: not installed (optional; see "
                            "docs/plugin-redmine.md)")
    if answer.status_code != 200:
        return PluginReport(f"plugin sop_connector: status answered {answer.status_code}", (
            Problem(f"the sop_connector plugin's status page answered {answer.status_code}",
                    "use an administrator's API key and read Redmine's log"),))
    try:
        status: dict[str, Any] = answer.json()
        return _judge(status, project)
    except (ValueError, AttributeError, TypeError):
        return PluginReport("plugin sop_connector: unreadable status", (
            Problem("the sop_connector plugin's status is not the expected JSON",
                    "reinstall it with `sop-connector redmine-plugin install`"),))


def _judge(status: dict[str, Any], project: str) -> PluginReport:
    version = str(status.get("version"))
    ping = status.get("ping") or {}
    line = f"plugin sop_connector {version} on Redmine {status.get('redmine')}"
    problems: list[Problem] = []
    if project not in (status.get("projects") or []):
        problems.append(Problem(
            f"the sop_connector plugin does not send hints for project {project!r}",
            f"add {project} to SOP projects under {SETTINGS}"))
    code = ping.get("status")
    if code == 200:
        return PluginReport(f"{line}: its signed test ping reached the service", tuple(problems))
    if code == 401:
        problems.append(Problem(
            "the service refused the plugin's signed test ping (401): the secrets differ",
            f"set Webhook secret under {SETTINGS} to the value of [webhooks] "
            "redmine_secret_env"))
    else:
        reason = ping.get("error") or f"HTTP {code}"
        problems.append(Problem(
            f"the plugin's signed test ping did not reach the service ({str(reason)[:200]})",
            f"set Service URL under {SETTINGS} to this service's address as seen from the "
            "Redmine host, and make sure it is running"))
    return PluginReport(f"{line}: test ping failed", tuple(problems))
