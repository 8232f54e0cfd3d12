"""The local git code host: real bare repositories on disk, read back through real clones.

Each test provisions into a temporary root with the real ``git``, then looks at the result
as a developer would (``git clone``, ``git push``). The last test walks a case through step
8 on the real Redmine with this host.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.codehost import ProvisionedProject
from connector.codehost.seeds import DOCUMENTS, SEED_MARKER, render_seeds
from connector.config import load_settings
from connector.gitlab import checklist_note
from connector.localgit import PARTS, Author, LocalGitCodeHost
from connector.localgit.git import BareRepo, create_bare
from connector.localgit.parts import page_file
from connector.workflow.automation import subproject_identifier
from tests.conftest import INTAKE_TOKEN, write_config
from tests.gitlab_stubs import sample_request
from tests.test_gitlab_deliverables import PARTLY_DONE, UNTOUCHED
from tests.workflow_driver import CaseDriver

SLUG = "sistem-informasi-posyandu"
AUTHOR = Author("sop-connector", "sop-connector@localhost")


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", "-c", "user.name=Dev Satu", "-c", "user.email=dev1@test",
                           *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def clone(url_or_path: str | Path, into: Path) -> Path:
    git("clone", "-q", str(url_or_path), str(into))
    return into


def commits(repo: Path) -> int:
    return int(git("--git-dir", str(repo), "rev-list", "--count", "main").strip())


def listing(root: Path) -> list[str]:
    """Everything under root, hidden leftovers of a crash included."""
    return sorted(p.name for p in root.iterdir())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "git"


@pytest.fixture
def host(root: Path) -> LocalGitCodeHost:
    return LocalGitCodeHost(root, author=AUTHOR)


@pytest.fixture
def project(host: LocalGitCodeHost) -> ProvisionedProject:
    return host.provision(sample_request())


def test_provisioning_creates_both_bare_repositories_seeded_on_main(
        host: LocalGitCodeHost, root: Path, tmp_path: Path) -> None:
    request = sample_request()
    parts_seen: list[str] = []
    project = host.provision(request, record_part=parts_seen.append)
    assert parts_seen == list(PARTS) and project.created_parts == PARTS
    assert listing(root) == [f"{SLUG}.git", f"{SLUG}.wiki.git"]
    main, wiki = root / f"{SLUG}.git", root / f"{SLUG}.wiki.git"
    for repo in (main, wiki):
        assert git("--git-dir", str(repo), "rev-parse", "--is-bare-repository").strip() == "true"
        assert git("--git-dir", str(repo), "log", "-1", "--format=%an <%ae>", "main").strip() \
            == "sop-connector <sop-connector@localhost>"
    assert project.path_with_namespace == SLUG
    assert project.web_url == main.as_uri() and project.wiki_url == wiki.as_uri()
    seeds = render_seeds(request, path_with_namespace=SLUG, web_url=project.web_url,
                         wiki_home_url=project.wiki_url, code_host="")
    work = clone(project.web_url, tmp_path / "work")
    assert git("branch", "--show-current", cwd=work).strip() == "main"
    for path, text in seeds.files.items():
        assert (work / path).read_text(encoding="utf-8") == text
    assert f"[wiki proyek]({project.wiki_url})" in (work / "README.md").read_text()
    pages = clone(project.wiki_url, tmp_path / "wiki")
    for title, text in seeds.wiki.items():
        assert (pages / page_file(title)).read_text(encoding="utf-8") == text
    assert (pages / "home.md").is_file() and (pages / "Dokumen-analisis.md").is_file()
    assert "Milestone proyek: Rilis 1, jatuh tempo 29 Mei 2026." in (
        pages / "Jadwal-Pengembangan-Aplikasi.md").read_text()
    assert git("--git-dir", str(main), "config", "sop.caseKey").strip() == request.case_key
    assert git("--git-dir", str(main), "config", "milestone.Rilis 1.due").strip() == "2026-05-29"


def test_a_second_run_creates_nothing(host: LocalGitCodeHost, root: Path,
                                      project: ProvisionedProject) -> None:
    again = host.provision(sample_request())
    assert again.created_parts == ()
    assert (again.id, again.web_url) == (project.id, project.web_url)
    assert host.plan(sample_request()) == []
    assert listing(root) == [f"{SLUG}.git", f"{SLUG}.wiki.git"]
    assert commits(root / f"{SLUG}.git") == 1 and commits(root / f"{SLUG}.wiki.git") == 1


def test_the_dry_run_only_reads(host: LocalGitCodeHost, root: Path) -> None:
    lines = host.plan(sample_request())
    assert lines[0] == f"Buat repositori git {root / SLUG}.git (bare, cabang main)"
    assert any("docs/petunjuk-instalasi.md" in line for line in lines)
    assert any("Beranda (home)" in line for line in lines)
    assert lines[-1] == "Buat milestone 'Rilis 1' jatuh tempo 29 Mei 2026"
    assert not root.exists()


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", PARTS)
def test_a_crash_after_any_part_is_completed_by_a_rerun_without_duplicates(
        host: LocalGitCodeHost, root: Path, crash_after: str) -> None:
    def record(part: str) -> None:
        if part == crash_after:
            raise Crash(part)

    with pytest.raises(Crash):
        host.provision(sample_request(), record_part=record)
    done = list(PARTS[:PARTS.index(crash_after) + 1])
    assert (host.plan(sample_request()) == []) == (crash_after == PARTS[-1])
    again = host.provision(sample_request())
    assert again.created_parts == tuple(p for p in PARTS if p not in done)
    assert listing(root) == [f"{SLUG}.git", f"{SLUG}.wiki.git"]
    assert commits(root / f"{SLUG}.git") == 1 and commits(root / f"{SLUG}.wiki.git") == 1
    assert host.provision(sample_request()).created_parts == ()


def test_a_half_made_repository_left_by_a_crash_is_not_taken_for_ours(
        host: LocalGitCodeHost, root: Path) -> None:
    """A kill inside ``create_bare`` leaves only its hidden scratch folder, never ``<slug>.git``."""
    partial = BareRepo(root / f".{SLUG}.git.x1y2.partial")
    root.mkdir()
    git("init", "-q", "--bare", str(partial.path))
    git("--git-dir", str(partial.path), "config", "sop.caseKey", sample_request().case_key)
    assert host.provision(sample_request()).created_parts == PARTS
    assert listing(root) == [partial.path.name, f"{SLUG}.git", f"{SLUG}.wiki.git"]


def test_creating_never_replaces_what_is_there(root: Path) -> None:
    repo = BareRepo(root / "ada.git")
    assert create_bare(repo, {"sop.caseKey": "A"}, "A") is True
    assert create_bare(repo, {"sop.caseKey": "B"}, "B") is False
    assert repo.config("sop.caseKey") == "A" and listing(root) == ["ada.git"]


KILLED_RUN = """
import os, signal, sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from connector.localgit import LocalGitCodeHost
from connector.workflow.automation import subproject_identifier
from tests.conftest import INTAKE_TOKEN, write_config
from tests.gitlab_stubs import sample_request
from tests.workflow_driver import CaseDriver

def record(part):
    if part == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

LocalGitCodeHost(Path(sys.argv[1])).provision(sample_request(), record_part=record)
"""


def test_a_worker_killed_between_parts_is_completed_by_the_next_run(
        host: LocalGitCodeHost, root: Path) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(root), "files"],
                            capture_output=True, check=False, cwd=Path(__file__).parents[1])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert listing(root) == [f"{SLUG}.git"]
    again = host.provision(sample_request())
    assert again.created_parts == ("wiki", "milestone")
    assert commits(root / f"{SLUG}.git") == 1 and commits(root / f"{SLUG}.wiki.git") == 1


def test_names_taken_by_others_give_a_suffix_and_the_repository_is_found_again(
        host: LocalGitCodeHost, root: Path) -> None:
    other = host.provision(sample_request(case_key="BAPPEDA:1/2026"))
    (root / f"{SLUG}-2.git").mkdir(parents=True)  # not a repository at all
    ours = host.provision(sample_request())
    assert (other.path_with_namespace, ours.path_with_namespace) == (SLUG, f"{SLUG}-3")
    assert other.id != ours.id
    subprocess.run(["rm", "-rf", str(root / f"{SLUG}.git"), str(root / f"{SLUG}.wiki.git")],
                   check=True)
    again = host.provision(sample_request())  # the first name is free now, but ours is -3
    assert again.path_with_namespace == f"{SLUG}-3" and again.created_parts == ()


def test_a_configured_base_url_gives_the_web_addresses(root: Path) -> None:
    host = LocalGitCodeHost(root, base_url="https://git.diskominfo.test/", author=AUTHOR)
    project = host.provision(sample_request())
    assert project.web_url == f"https://git.diskominfo.test/{SLUG}.git"
    assert project.wiki_url == f"https://git.diskominfo.test/{SLUG}.wiki.git"


# -- step 12: the deliverables gate --

def without_marker(text: str) -> str:
    return text.replace(SEED_MARKER + "\n", "") + "\nDiisi oleh tim.\n"


def push(repo_url: str, into: Path, files: dict[str, str | None], message: str) -> None:
    """A developer clones, writes (None deletes), commits and pushes to main."""
    work = into if into.exists() else clone(repo_url, into)
    git("pull", "-q", "--ff-only", cwd=work)
    for path, text in files.items():
        target = work / path
        if text is None:
            git("rm", "-q", path, cwd=work)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        git("add", path, cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    git("push", "-q", "origin", "main", cwd=work)


def test_untouched_templates_are_refused(host: LocalGitCodeHost,
                                         project: ProvisionedProject) -> None:
    statuses = host.deliverables(project)
    assert checklist_note(statuses) == UNTOUCHED


def test_pushed_documents_and_code_are_read_from_both_main_branches(
        host: LocalGitCodeHost, project: ProvisionedProject, tmp_path: Path) -> None:
    work, wiki = tmp_path / "work", tmp_path / "wiki"
    seeded = clone(project.web_url, work)
    install = (seeded / "docs/petunjuk-instalasi.md").read_text()
    push(project.web_url, work, {
        "src/app.py": "print('posyandu')\n", ".gitlab-ci.yml": "test: {}\n",
        "docs/petunjuk-instalasi.md": without_marker(install),
        "docs/petunjuk-penggunaan.md": "\n", "docs/dokumentasi-pengembangan.md": None,
    }, "Kode aplikasi dan petunjuk instalasi")
    api_page = (clone(project.wiki_url, wiki) / "Dokumentasi-API.md").read_text()
    push(project.wiki_url, wiki, {"Dokumentasi-API.md": without_marker(api_page)}, "API")
    assert checklist_note(host.deliverables(project)) == PARTLY_DONE


def fill_every_output(project: ProvisionedProject, into: Path) -> None:
    """The team writes the six documents and the code, and pushes them."""
    files: dict[str, str | None] = {d.path: f"# {d.name}\n\nIsi lengkap.\n" for d in DOCUMENTS}
    push(project.web_url, into, {**files, "app/main.go": "package main\n"}, "Selesai")


def test_every_output_pushed_opens_the_gate(host: LocalGitCodeHost,
                                            project: ProvisionedProject, tmp_path: Path) -> None:
    fill_every_output(project, tmp_path / "work")
    statuses = host.deliverables(project)
    assert [s.name for s in statuses] == ["Aplikasi", *(doc.name for doc in DOCUMENTS)]
    assert all(s.present for s in statuses)
    assert [s.where for s in statuses] == ["app/main.go", *(doc.path for doc in DOCUMENTS)]


def test_a_missing_repository_has_nothing(host: LocalGitCodeHost) -> None:
    statuses = host.deliverables(ProvisionedProject(1, "hilang", "", ""))
    assert not any(s.present for s in statuses)
    assert statuses[4].reason == (
        "belum ada (docs/petunjuk-instalasi.md atau halaman wiki Petunjuk Instalasi)")


# -- the milestone, the hooks and the wiki's home page --

def test_the_milestone_due_date_moves(host: LocalGitCodeHost, root: Path,
                                      project: ProvisionedProject) -> None:
    def due(title: str) -> str:
        return git("--git-dir", str(root / f"{SLUG}.git"), "config",
                   f"milestone.{title}.due").strip()

    from datetime import date

    host.set_milestone_due(project, "Rilis 1", date(2026, 6, 30))
    host.set_milestone_due(project, "Pengembangan Aplikasi", date(2026, 7, 1))
    assert (due("Rilis 1"), due("Pengembangan Aplikasi")) == ("2026-06-30", "2026-07-01")
    assert host.plan(sample_request(milestone_due=date(2026, 6, 30))) == []
    assert host.plan(sample_request()) == [
        "Ubah jatuh tempo milestone 'Rilis 1' menjadi 29 Mei 2026"]
    assert host.hooks_healthy(project) is True


def test_a_link_is_added_to_beranda_once_and_the_team_s_text_is_kept(
        host: LocalGitCodeHost, root: Path, project: ProvisionedProject, tmp_path: Path) -> None:
    wiki = clone(project.wiki_url, tmp_path / "wiki")
    home = (wiki / "home.md").read_text()
    push(project.wiki_url, wiki, {"home.md": home + "\nCatatan tim: rapat tiap Senin.\n"},
         "Catatan")
    url = "http://redmine.test/issues/7"
    for _ in range(2):
        host.link_on_home(project, "Berita Acara Pekerjaan (Redmine #7)", url)
    git("pull", "-q", cwd=wiki)
    text = (wiki / "home.md").read_text()
    assert text.count(url) == 1 and "Catatan tim: rapat tiap Senin." in text
    assert f"## Dokumen\n\n- [Berita Acara Pekerjaan (Redmine #7)]({url})" in text
    assert commits(root / f"{SLUG}.wiki.git") == 3
    assert git("log", "-1", "--format=%an", cwd=wiki).strip() == "sop-connector"


# -- the real Redmine: step 8 with the local host --

@pytest.fixture
def local_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               redmine: Any) -> Iterator[CaseDriver]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    services = bootstrap(load_settings(write_config(
        tmp_path, redmine_url=redmine.url, extra='\n[local_git]\nroot = "git"\n')))
    yield CaseDriver(services, redmine, create_app(services).test_client())
    services.engine.dispose()


@pytest.mark.redmine
def test_step_8_on_the_real_redmine_links_the_local_repositories(local_case: CaseDriver,
                                                                tmp_path: Path) -> None:
    driver = local_case
    driver.open()
    driver.walk([2, 3, 4, 5, 6])
    case = driver.case()
    assert case.current_step == 9
    web_url = (tmp_path / "git" / "si-puskesmas.git").as_uri()
    wiki_url = (tmp_path / "git" / "si-puskesmas.wiki.git").as_uri()
    eight = driver.remote(8)
    assert eight.status.name == "Closed"
    assert web_url in list(eight.journals)[-1].notes
    parent_notes = " ".join(j.notes or "" for j in driver.parent().journals)
    assert web_url in parent_notes and wiki_url in parent_notes
    identifier = subproject_identifier(case)
    api = driver.api("admin")
    assert web_url in api.project.get(identifier).description
    [version] = api.version.filter(project_id=identifier)
    assert version.name == "Pengembangan Aplikasi"
    assert (clone(web_url, tmp_path / "work") / "docs" / "dokumentasi-api.md").is_file()
