"""The engine's rules (``engine.Policy``) from the configuration."""

from __future__ import annotations

from connector.services import Services
from connector.sop.model import Automation
from connector.tracker import CaseField
from connector.workflow.engine import Policy
from connector.workflow.paperwork import SIGNED


def policy_for(services: Services) -> Policy:
    """The engine's rules from the configuration."""
    settings = services.settings
    redmine = settings.redmine
    return Policy(
        done_statuses=frozenset(redmine.done_statuses),
        reject_statuses=frozenset(redmine.reject_statuses),
        active_status=redmine.active_status, new_status=redmine.new_status,
        roles=dict(settings.roles),
        opd_teams={code: a.tim_teknis for code, a in settings.opd.agencies.items()
                   if a.tim_teknis} or {},
        overrides=frozenset(settings.role_overrides),
        continue_cumulative=settings.sla.development_clock == "continue",
        acknowledgement_days=settings.sla.pengesahan_hari_kerja,
        automations=frozenset(
            ({Automation.PROVISION_REPOSITORY} if services.codehost else set())
            | ({Automation.BERITA_ACARA} if settings.documents else set())),
        awaits_signature=awaits_signature(services),
        findings_label=services.tracker.field_label(CaseField.VERIFICATION_FINDINGS))


def awaits_signature(services: Services) -> frozenset[int]:
    """The steps a person's close does not complete: with [documents] and [signing], their
    document is issued for signing and the last signature completes them (issue 17). A step
    that also waits to be known (17) has its own wait."""
    settings = services.settings
    if settings.documents is None or settings.signing is None:
        return frozenset()
    return frozenset(s.number for s in services.sop.steps
                     if any(k in SIGNED for k in s.documents) and not s.acknowledged_by)
