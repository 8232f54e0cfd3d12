"""The step 12 gate over GitLab: refuses untouched templates, accepts written documents.

The repository and wiki are held by ``FakeGitLab`` behind strict ``responses`` mocks and
read through GitLab's documented endpoints (Repository tree, Raw blob content, Wikis with
``with_content=1``).
"""

from __future__ import annotations

import pytest
import responses

from connector.codehost import DeliverableStatus, ProvisionedProject
from connector.codehost.seeds import DOCUMENTS, SEED_MARKER, render_seeds
from connector.config.secret import Secret
from connector.gitlab import GitLabCodeHost, checklist_note
from tests.gitlab_stubs import (
    BASE,
    DELIVERABLE_ROUTES,
    GROUP,
    FakeGitLab,
    sample_request,
    url,
    wiki_json,
)

PATH = "sistem-informasi-posyandu"


#: The checklist once the code, the installation guide and the API wiki page are done and
#: the development document deleted (the user guide's wiki page still is the template).
PARTLY_DONE = "\n".join([
    "- [x] Aplikasi (src/app.py)",
    "- [ ] Dokumentasi dan hasil analisis: masih templat",
    "- [ ] Dokumentasi pengembangan: belum ada (docs/dokumentasi-pengembangan.md)",
    "- [ ] Dokumentasi Pengujian: masih templat",
    "- [x] Petunjuk Instalasi (docs/petunjuk-instalasi.md)",
    "- [ ] Petunjuk Penggunaan: masih templat",
    "- [x] Dokumentasi API (wiki: Dokumentasi API)",
])

#: The checklist of a freshly provisioned repository, on either code host.
UNTOUCHED = "\n".join([
    "- [ ] Aplikasi: belum ada kode sumber di cabang main",
    "- [ ] Dokumentasi dan hasil analisis: masih templat",
    "- [ ] Dokumentasi pengembangan: masih templat",
    "- [ ] Dokumentasi Pengujian: masih templat",
    "- [ ] Petunjuk Instalasi: masih templat",
    "- [ ] Petunjuk Penggunaan: masih templat",
    "- [ ] Dokumentasi API: masih templat",
])


@pytest.fixture
def host() -> GitLabCodeHost:
    return GitLabCodeHost(BASE, Secret("glpat-test"), GROUP)


@pytest.fixture
def fake() -> FakeGitLab:
    """A project just after step 8: every seed committed and every wiki page created."""
    fake = FakeGitLab()
    project = fake.add_project(PATH)
    seeds = render_seeds(sample_request(), path_with_namespace=project["path_with_namespace"],
                         web_url=project["web_url"])
    fake.commit(project["id"], "Berkas awal", seeds.files)
    fake.wikis[project["id"]] = {t: wiki_json(t, text) for t, text in seeds.wiki.items()}
    return fake


def provisioned(fake: FakeGitLab) -> ProvisionedProject:
    project = fake.only_project()
    return ProvisionedProject(project["id"], project["path_with_namespace"],
                              project["web_url"], project["web_url"] + "/-/wikis/home")


def test_untouched_templates_are_refused(host: GitLabCodeHost, fake: FakeGitLab,
                                         rsps: responses.RequestsMock) -> None:
    fake.install(rsps, DELIVERABLE_ROUTES)
    statuses = host.deliverables(provisioned(fake))
    assert not any(s.present for s in statuses)
    assert checklist_note(statuses) == UNTOUCHED
    assert all(c.request.method == "GET" for c in rsps.calls)


def without_marker(text: str) -> str:
    return text.replace(SEED_MARKER + "\n", "") + "\nDiisi oleh tim.\n"


def test_written_documents_and_code_are_accepted(host: GitLabCodeHost, fake: FakeGitLab,
                                                 rsps: responses.RequestsMock) -> None:
    pid = fake.only_project()["id"]
    files = fake.repos[pid].files
    fake.commit(pid, "Kode aplikasi dan petunjuk instalasi", {
        "src/app.py": "print('posyandu')\n", ".gitlab-ci.yml": "test: {}\n",
        "docs/petunjuk-instalasi.md": without_marker(files["docs/petunjuk-instalasi.md"][0]),
    })
    page = fake.wikis[pid]["Dokumentasi API"]
    fake.wikis[pid]["Dokumentasi API"] = wiki_json("Dokumentasi API",
                                                   without_marker(page["content"]))
    fake.commit(pid, "Kosongkan", {"docs/petunjuk-penggunaan.md": "\n"})
    del files["docs/dokumentasi-pengembangan.md"]
    fake.install(rsps, DELIVERABLE_ROUTES)
    statuses = host.deliverables(provisioned(fake))
    web = fake.only_project()["web_url"]
    assert statuses[0] == DeliverableStatus("Aplikasi", True, "src/app.py",
                                            "kode sumber sudah ada", web)
    assert [s.url for s in statuses if s.present] == [
        web, f"{web}/-/blob/main/docs/petunjuk-instalasi.md",
        f"{web}/-/wikis/Dokumentasi-API"]  # where the gate found each, the wiki page here
    assert checklist_note(statuses) == with_links(PARTLY_DONE, statuses)


def with_links(checklist: str, statuses: list[DeliverableStatus]) -> str:
    """The shared checklist with GitLab's link after each present output."""
    urls = iter(s.url for s in statuses if s.present)
    return "\n".join(f"{line} {next(urls)}" if line.startswith("- [x]") else line
                     for line in checklist.splitlines())


def test_every_output_written_opens_the_gate(host: GitLabCodeHost, fake: FakeGitLab,
                                             rsps: responses.RequestsMock) -> None:
    pid = fake.only_project()["id"]
    files = fake.repos[pid].files
    fake.commit(pid, "Selesai", {"app/main.go": "package main\n", **{
        doc.path: without_marker(files[doc.path][0]) for doc in DOCUMENTS}})
    fake.install(rsps, DELIVERABLE_ROUTES)
    statuses = host.deliverables(provisioned(fake))
    assert [s.name for s in statuses] == ["Aplikasi", *(doc.name for doc in DOCUMENTS)]
    assert all(s.present for s in statuses)
    assert [s.where for s in statuses[1:]] == [doc.path for doc in DOCUMENTS]


def test_an_empty_repository_has_no_application(host: GitLabCodeHost,
                                                rsps: responses.RequestsMock) -> None:
    rsps.get(url("/projects/42/wikis"), json=[])
    rsps.get(url("/projects/42/repository/tree"), status=404,
             json={"message": "404 Tree Not Found"})  # no file is read: the tree has none
    statuses = host.deliverables(ProvisionedProject(42, f"{GROUP}/{PATH}", "", ""))
    assert statuses[0].reason == "belum ada kode sumber di cabang main"
    assert statuses[4].reason == (
        "belum ada (docs/petunjuk-instalasi.md atau halaman wiki Petunjuk Instalasi)")


def test_a_document_is_read_again_only_once_its_blob_changed(
        host: GitLabCodeHost, fake: FakeGitLab, rsps: responses.RequestsMock) -> None:
    """The tree is listed every time; a blob id already read is not fetched again."""
    pid = fake.only_project()["id"]
    fake.install(rsps, DELIVERABLE_ROUTES)
    assert checklist_note(host.deliverables(provisioned(fake))) == UNTOUCHED
    blobs = [c for c in rsps.calls if "/repository/blobs/" in c.request.url]
    assert len(blobs) == len(DOCUMENTS)
    first = len(rsps.calls)
    assert checklist_note(host.deliverables(provisioned(fake))) == UNTOUCHED
    again = [c.request.url.split("/api/v4")[1].split("?")[0] for c in rsps.calls[first:]]
    assert again == [f"/projects/{pid}/wikis", f"/projects/{pid}/repository/tree"]
    installation = fake.repos[pid].files["docs/petunjuk-instalasi.md"][0]
    fake.commit(pid, "Petunjuk instalasi", {
        "docs/petunjuk-instalasi.md": without_marker(installation)})
    first = len(rsps.calls)
    statuses = host.deliverables(provisioned(fake))
    assert [s.name for s in statuses if s.present] == ["Petunjuk Instalasi"]
    read = [c for c in rsps.calls[first:] if "/repository/blobs/" in c.request.url]
    assert len(read) == 1
