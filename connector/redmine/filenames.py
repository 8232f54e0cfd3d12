"""The name Redmine stores an attachment under, computed as Redmine does.

Redmine's ``Attachment#sanitize_filename`` (app/models/attachment.rb) keeps the part after
the last ``/`` or ``\\`` and replaces every run of ``/?%*:|"'<>`` and line breaks by ``_``.
A look-up "is this file already attached?" must compare that stored name, or a retry after
a crash uploads a second copy of a file whose name Redmine changed (issue 20, finding 10).
"""

from __future__ import annotations

import re

_DIRECTORY = re.compile(r"\A.*[\\/]", re.DOTALL)  # Ruby: /\A.*(\\|\/)/m
_INVALID = re.compile(r"[/?%*:|\"'<>\n\r]+")


def redmine_filename(name: str) -> str:
    """``name`` as Redmine's ``sanitize_filename`` stores it."""
    return _INVALID.sub("_", _DIRECTORY.sub("", name, count=1))
