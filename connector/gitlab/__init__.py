"""GitLab adapter of the CodeHost port: provisioning (SOP step 8) and the step 12 gate."""

from connector.codehost.deliverables import checklist_note
from connector.gitlab.parts import UnknownGitLabUser
from connector.gitlab.provision import PARTS, GitLabCodeHost

__all__ = ["PARTS", "GitLabCodeHost", "UnknownGitLabUser", "checklist_note"]
