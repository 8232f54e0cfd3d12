"""Notes the service writes in Redmine, each written once even when a job is redone."""

from __future__ import annotations

from connector.tracker import IssueChanges, IssueTracker


def note_once(tracker: IssueTracker, issue_id: int, text: str) -> bool:
    """Add ``text`` as a note unless the service already wrote exactly that note there."""
    text = text.strip()
    bot = tracker.service_login()
    if any(j.author_login == bot and j.notes.strip() == text
           for j in tracker.snapshot(issue_id).journals):
        return False
    tracker.change_issue(issue_id, IssueChanges(notes=text))
    return True
