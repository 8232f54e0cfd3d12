"""Named fault points between side effects, so tests can kill a worker exactly there.

A test starts a worker with ``SOP_CONNECTOR_FAULT=<point>``; when the worker reaches that
point it kills itself with SIGKILL, as a power cut or an OOM kill would, leaving whatever
it had done remotely but not yet committed locally. The restarted worker must finish the
job without duplicating anything. In production the variable is unset and a fault point
costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "SOP_CONNECTOR_FAULT"

#: Every fault point the code reaches, for tests to iterate over.
POINTS = (
    "intake.after_parent_created",
    "intake.after_attachment_uploaded",
    "intake.after_step_created",
    "intake.before_local_commit",
    "documents.after_render",
)


def fault_point(name: str) -> None:
    """Die here, by SIGKILL, when ``$SOP_CONNECTOR_FAULT`` names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
