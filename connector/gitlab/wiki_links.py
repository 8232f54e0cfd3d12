"""Links to a case's documents on its wiki home page (Beranda), each added once.

The Berita Acara lives in Redmine (SOP step 17); the OPD and the team read the GitLab wiki.
A line ``- [title](url)`` under the heading ``## Dokumen`` joins the two. The page is read
before it is written and a link whose URL is already on it is left alone, so a retried job
writes nothing; text that people wrote on the page is kept as it is.
"""

from __future__ import annotations

from gitlab.v4.objects import Project

from connector.codehost.seeds import HOME_PAGE
from connector.codehost.wiki_links import has_link, link_line, with_link
from connector.gitlab.client import found


def link_on_home(project: Project, title: str, url: str) -> bool:
    """Add ``- [title](url)`` to the home page (creating it if missing); True if written."""
    line = link_line(title, url)
    page = found(lambda: project.wikis.get(HOME_PAGE))
    if page is None:
        project.wikis.create({"title": HOME_PAGE, "content": with_link("", line),
                              "format": "markdown"})
        return True
    content = str(page.content)
    if has_link(content, url):
        return False
    page.content = with_link(content, line)
    page.save()
    return True


