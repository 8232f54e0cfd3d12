"""``link_on_home``: a link to the case's documents on the wiki's Beranda, written once.

Strict ``responses`` mocks (a stub never called fails the test) over the stateful
``FakeGitLab``; the first test pins the request GitLab's Wikis API documents.
"""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from connector.codehost import ProvisionedProject
from connector.codehost.wiki_links import has_link, with_link
from connector.config.secret import Secret
from connector.errors import RemoteRejected, RemoteUnavailable
from connector.gitlab import GitLabCodeHost
from tests.gitlab_stubs import BASE, GROUP, FakeGitLab, url, wiki_json, writes

TITLE = "Berita Acara Pekerjaan (Redmine #12)"
ISSUE = "http://redmine.test/issues/12"
LINE = f"- [{TITLE}]({ISSUE})"
HOME = """# Beranda — Sistem Informasi Posyandu

Wiki ini milik proyek **Sistem Informasi Posyandu**.

## Perencanaan (langkah 9 SOP)

- [Analisis Kebutuhan](Analisis-Kebutuhan)
"""


@pytest.fixture
def host() -> GitLabCodeHost:
    return GitLabCodeHost(BASE, Secret("glpat-service-token-0123456789"), GROUP, timeout=5)


def project_with_home(fake: FakeGitLab, content: str | None = HOME) -> ProvisionedProject:
    created = fake.add_project("sistem-informasi-posyandu")
    if content is not None:
        fake.wikis[created["id"]]["home"] = wiki_json("home", content)
    return ProvisionedProject(id=created["id"], path_with_namespace=created["path_with_namespace"],
                              web_url=created["web_url"],
                              wiki_url=f"{created['web_url']}/-/wikis/home")


def test_the_link_is_put_back_as_gitlab_documents(host: GitLabCodeHost) -> None:
    project = ProvisionedProject(id=42, path_with_namespace=f"{GROUP}/x",
                                 web_url=f"{BASE}/{GROUP}/x", wiki_url="")
    page = wiki_json("home", HOME)
    expected = f"{HOME}\n## Dokumen\n\n{LINE}\n"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rs:
        rs.get(url("/projects/42/wikis/home"), json=page)
        rs.put(url("/projects/42/wikis/home"), json={**page, "content": expected},
               match=[matchers.json_params_matcher({"content": expected}, strict_match=True)])
        host.link_on_home(project, TITLE, ISSUE)


def test_the_link_is_added_once(host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    project = project_with_home(fake)
    fake.install(rsps, ["wiki.get", "wiki.update"])
    host.link_on_home(project, TITLE, ISSUE)
    first = len(rsps.calls)
    host.link_on_home(project, TITLE, ISSUE)
    assert writes(rsps.calls) == [("PUT", f"/projects/{project.id}/wikis/home")]
    assert len(rsps.calls) == first + 1  # the second call only reads
    assert fake.wikis[project.id]["home"]["content"] == f"{HOME}\n## Dokumen\n\n{LINE}\n"


def test_a_second_document_joins_the_same_section(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    project = project_with_home(fake, f"{HOME}\n## Dokumen\n\n{LINE}\n\n## Catatan\n\nLain.\n")
    fake.install(rsps, ["wiki.get", "wiki.update"])
    host.link_on_home(project, "Surat (Redmine #13)", "http://redmine.test/issues/13")
    assert fake.wikis[project.id]["home"]["content"] == (
        f"{HOME}\n## Dokumen\n\n{LINE}\n- [Surat (Redmine #13)](http://redmine.test/issues/13)"
        "\n\n## Catatan\n\nLain.\n")


def test_a_missing_home_page_is_created(host: GitLabCodeHost,
                                        rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    project = project_with_home(fake, None)
    fake.install(rsps, ["wiki.get", "wiki.create"])
    host.link_on_home(project, TITLE, ISSUE)
    assert fake.wikis[project.id] == {"home": wiki_json("home", f"## Dokumen\n\n{LINE}\n")}


@pytest.mark.parametrize("status, error", [(403, RemoteRejected), (503, RemoteUnavailable)])
def test_gitlab_errors_are_translated(host: GitLabCodeHost, rsps: responses.RequestsMock,
                                      status: int, error: type[Exception]) -> None:
    project = ProvisionedProject(id=42, path_with_namespace=f"{GROUP}/x",
                                 web_url=f"{BASE}/{GROUP}/x", wiki_url="")
    rsps.get(url("/projects/42/wikis/home"), status=status, json={"message": f"{status} Error"})
    with pytest.raises(error, match="GitLab"):
        host.link_on_home(project, TITLE, ISSUE)


def test_only_the_exact_url_counts_as_linked() -> None:
    assert has_link(f"{LINE}\n", ISSUE)
    assert has_link(f'[BA]({ISSUE} "Berita Acara")', ISSUE)
    assert not has_link(f"{LINE}\n", "http://redmine.test/issues/1")
    assert not has_link(f"Lihat {ISSUE}0\n", ISSUE)


def test_text_people_wrote_in_the_section_is_kept() -> None:
    page = "# Beranda\n\n## Dokumen\n\nDitandatangani di Srikandi.\n## Lain\nx"
    assert with_link(page, LINE) == (
        f"# Beranda\n\n## Dokumen\n\nDitandatangani di Srikandi.\n\n{LINE}\n\n## Lain\nx\n")
