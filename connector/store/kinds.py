"""The kinds of job the queue carries, named once; ``connector.handlers`` maps each to its work."""

from __future__ import annotations

OPEN_CASE = "open_case"  # create a case's issues in the tracker (intake)
SYNC_ISSUE = "sync_issue"  # re-read one issue and advance its case (poll, hints)
GITLAB_PROGRESS = "gitlab_progress"  # a code-host event for step 12's progress notes
SEND_MAIL = "send_mail"  # mail one outbox row (receipt, letter, Berita Acara) to the OPD
SIGNED_DOCUMENT = "signed_document"  # every block of an issued document signed: attach, complete
