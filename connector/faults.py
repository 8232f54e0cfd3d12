"""Named fault points between side effects, so tests can kill a worker exactly there.

A test starts a worker with ``SOP_CONNECTOR_FAULT=<point>``; when the worker reaches that
point it writes one line naming it to stderr and kills itself with SIGKILL, as a power cut
or an OOM kill would, leaving whatever it had done remotely but not yet committed locally.
The restarted worker must finish the job without duplicating anything. In production the
variable is unset and a fault point costs one dictionary look-up.

``POINTS`` lists every point in the order a complete case reaches them (the refusal branch
and the periodic tasks last); tests/test_fault_case.py kills a worker at each of them.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "SOP_CONNECTOR_FAULT"

#: Every fault point the code reaches, for tests to iterate over.
POINTS = (
    # The letter becomes its case (connector/intake/open_case.py).
    "intake.after_parent_created",
    "intake.after_attachment_uploaded",
    "intake.after_step_created",
    "intake.before_local_commit",
    # A step closed in Redmine moves the case (connector/workflow/sync.py).
    "workflow.after_step_activated",
    "workflow.after_member_added",
    "workflow.after_service_step_closed",
    "workflow.after_loop_step_reopened",
    "workflow.after_completion_refused",
    "workflow.after_acknowledgement_awaited",
    "workflow.after_case_closed",
    "workflow.before_local_commit",
    # Step 8 provisions GitLab, part by part (connector/gitlab/provision.py), then links the
    # project and gives it its Redmine subproject and version (connector/workflow/automation.py).
    "gitlab.after_project",
    "gitlab.after_files",
    "gitlab.after_protection",
    "gitlab.after_wiki",
    "gitlab.after_members",
    "gitlab.after_milestone",
    "gitlab.after_hook",
    "provision.after_project_linked",
    "provision.after_subproject",
    "provision.after_version",
    # Step 12's due date on the GitLab milestone and the Redmine version.
    "automation.after_milestone_due",
    "automation.after_version_due",
    # Step 12's progress notes from GitLab events (connector/workflow/progress.py).
    "progress.after_note",
    # The closing documents (connector/workflow/paperwork.py, connector/redmine/tracker.py).
    "documents.after_render",
    "redmine.after_upload",
    "documents.after_attached",
    "documents.after_wiki_link",
    # The refusal branch: steps that will never run, and step 7 created when it is taken.
    "workflow.after_step_cancelled",
    "workflow.after_step_created",
    # check-deadlines (connector/deadlines/check.py).
    "deadlines.after_alert_note",
    "deadlines.after_watcher_added",
    "deadlines.after_remaining_field",
)


#: Points of the mail sender (connector/mail/send.py), killed by tests/test_mail_kill.py rather
#: than by the whole-case sweep of ``POINTS`` (a case there is configured without [email]).
MAIL_POINTS = (
    "mail.after_attempt_marked",  # before the SMTP DATA command
    "mail.after_data",  # the server took the message; not yet recorded as sent
)


def fault_point(name: str) -> None:
    """Die here, by SIGKILL, when ``$SOP_CONNECTOR_FAULT`` names this point."""
    if name not in POINTS and name not in MAIL_POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if os.environ.get(ENV_VAR) == name:
        os.write(2, f"sop-connector: killed at fault point {name}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
