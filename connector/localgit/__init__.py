"""Local git adapter of the CodeHost port: step 8 and the step 12 gate without GitLab."""

from connector.localgit.git import Author, GitFailed
from connector.localgit.host import PARTS, LocalGitCodeHost

__all__ = ["PARTS", "Author", "GitFailed", "LocalGitCodeHost"]
