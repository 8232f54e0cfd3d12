"""GitLabCodeHost provisioning (SOP step 8) against GitLab's documented REST API.

python-gitlab talks to ``http://gitlab.test`` through strict ``responses`` mocks: a stub that
is never called fails the test. The first test pins every request of a first provisioning,
in order, to the method, URL-encoded path, query and JSON body of GitLab's documentation;
the others run a stateful fake (``tests.gitlab_stubs.FakeGitLab``) and assert the end state.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from connector.codehost import ProvisionedProject
from connector.codehost.naming import slugify
from connector.codehost.seeds import DOCUMENTS, SEED_MARKER, render_seeds
from connector.config.secret import Secret
from connector.errors import RemoteRejected, RemoteUnavailable, retry_after
from connector.gitlab import PARTS, GitLabCodeHost, UnknownGitLabUser
from connector.gitlab.naming import display_name, marker_topic
from connector.gitlab.parts import Policy
from tests.gitlab_stubs import (
    BASE,
    GROUP,
    HOOK_URL,
    PROVISION_ROUTES,
    READ_ROUTES,
    RERUN_ROUTES,
    FakeGitLab,
    commit_json,
    enc,
    group_json,
    hook_json,
    member_json,
    project_json,
    sample_request,
    url,
    user_json,
    writes,
)

PATH = "sistem-informasi-posyandu"
TOKEN = "glpat-service-token-0123456789"


@pytest.fixture
def host() -> GitLabCodeHost:
    return GitLabCodeHost(BASE, Secret(TOKEN, "$SOP_GITLAB_TOKEN"), GROUP, timeout=5)


def json_body(data: object) -> list[Any]:
    return [matchers.json_params_matcher(data, strict_match=True)]


def test_a_first_provisioning_sends_exactly_the_documented_requests(host: GitLabCodeHost) -> None:
    request = sample_request()
    topic = marker_topic(request.case_key)
    project = project_json(42, PATH, name=request.title, topics=[topic],
                           description=f"{request.description}\n\nKunci SOP: {request.case_key}")
    seeds = render_seeds(request, path_with_namespace=project["path_with_namespace"],
                         web_url=project["web_url"])
    root = "a" * 40
    p = url("/projects/42")
    with responses.RequestsMock(assert_all_requests_are_fired=True,
                                registry=OrderedRegistry) as rs:
        rs.get(url("/projects"), json=[], match=[matchers.query_param_matcher({"topic": topic})])
        rs.get(url(f"/projects/{enc(GROUP)}%2F{PATH}"), status=404,
               json={"message": "404 Project Not Found"})
        rs.get(url(f"/groups/{enc(GROUP)}"), json=group_json())
        rs.post(url("/projects"), status=201, json=project, match=json_body({
            "name": "Sistem Informasi Posyandu", "path": PATH, "namespace_id": 12,
            "description": project["description"], "visibility": "private",
            "initialize_with_readme": True, "default_branch": "main",
            "wiki_access_level": "enabled", "topics": [topic]}))
        # A project this run created holds GitLab's README only: nothing to read back.
        actions = [{"action": "update" if path == "README.md" else "create", "file_path": path,
                    "content": text} for path, text in seeds.files.items()]
        rs.post(f"{p}/repository/commits", status=201,
                json=commit_json("b" * 40, "Berkas awal", [root]), match=json_body({
                    "branch": "main", "actions": actions, "commit_message":
                    f"Berkas awal proyek (SOP langkah 8, kasus {request.case_key})"}))
        rs.get(f"{p}/protected_branches/main", status=404, json={"message": "404 Not Found"})
        rs.post(f"{p}/protected_branches", status=201, json={"id": 1, "name": "main"},
                match=json_body({"name": "main", "push_access_level": 40,
                                 "merge_access_level": 30, "allow_force_push": False}))
        for title, text in seeds.wiki.items():
            rs.post(f"{p}/wikis", status=201, json={"title": title}, match=json_body(
                {"title": title, "content": text, "format": "markdown"}))
        rs.get(f"{p}/members/all", json=[])
        for uid, name in ((7, "dev1"), (8, "kasi")):
            rs.get(url("/users"), json=[user_json(uid, name)],
                   match=[matchers.query_param_matcher({"username": name})])
        for uid, level in ((7, 30), (8, 40)):
            rs.post(f"{p}/members", status=201, json={"id": uid, "access_level": level},
                    match=json_body({"user_id": uid, "access_level": level}))
        rs.post(f"{p}/milestones", status=201, json={"id": 3, "title": "Rilis 1"},
                match=json_body({"title": "Rilis 1", "due_date": "2026-05-29"}))
        rs.post(f"{p}/hooks", status=201, json=hook_json(9, 42, HOOK_URL), match=json_body({
            "url": HOOK_URL, "token": "hook-token-0123456789", "push_events": True,
            "merge_requests_events": True, "wiki_page_events": True, "pipeline_events": True,
            "tag_push_events": True, "releases_events": True,
            "enable_ssl_verification": True}))
        done: list[str] = []
        result = host.provision(request, record_part=done.append)
        assert all(c.request.headers["PRIVATE-TOKEN"] == TOKEN for c in rs.calls)
    assert done == list(PARTS)
    assert result == ProvisionedProject(
        id=42, path_with_namespace=f"{GROUP}/{PATH}", web_url=f"{BASE}/{GROUP}/{PATH}",
        wiki_url=f"{BASE}/{GROUP}/{PATH}/-/wikis/home", created_parts=PARTS, hook_url=HOOK_URL)


def test_every_deliverable_seed_starts_with_the_marker_once() -> None:
    seeds = render_seeds(sample_request(), path_with_namespace=f"{GROUP}/{PATH}",
                         web_url=f"{BASE}/{GROUP}/{PATH}")
    for doc in DOCUMENTS:
        assert seeds.files[doc.path].startswith(SEED_MARKER + "\n")
        assert seeds.files[doc.path].count(SEED_MARKER) == 1
    assert SEED_MARKER not in seeds.files["README.md"] + seeds.wiki["home"]


def provision_fresh(host: GitLabCodeHost, rsps: responses.RequestsMock,
                    fake: FakeGitLab | None = None, *, rerun: tuple[str, ...] = ()) -> FakeGitLab:
    """Provision a new project; ``rerun``: the routes the test's later runs read too."""
    fake = fake or FakeGitLab()
    fake.install(rsps, [*PROVISION_ROUTES, *rerun])
    host.provision(sample_request())
    return fake


def assert_provisioned_once(fake: FakeGitLab, calls: responses.CallList) -> None:
    """One of everything, each created by exactly one request."""
    project = fake.only_project()
    pid = project["id"]
    assert project["path"] == PATH
    assert len(fake.repos[pid].commits) == 2  # GitLab's initial commit and our seed commit
    assert set(fake.repos[pid].files) == {"README.md", "CONTRIBUTING.md",
                                          *(doc.path for doc in DOCUMENTS)}
    assert list(fake.protected[pid]) == ["main"]
    assert len(fake.wikis[pid]) == 9
    assert {m["username"]: m["access_level"] for m in fake.members[pid].values()} == {
        "dev1": 30, "kasi": 40}
    assert [(m["title"], m["due_date"]) for m in fake.milestones[pid]] == [
        ("Rilis 1", "2026-05-29")]
    assert [h["url"] for h in fake.hooks[pid]] == [HOOK_URL]
    made = writes(calls)
    assert len(made) == len(set(made)) + 8 + 1  # 9 wiki pages and 2 members share a path
    assert made.count(("POST", "/projects")) == 1


SIGNING_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize("secret, opt_in, gitlab_signs, used", [
    ("hook-token-0123456789", False, False, "token"),
    ("hook-token-0123456789", True, True, "token"),  # a plain token cannot sign
    (SIGNING_KEY, False, True, "token"),  # signing is an opt-in
    (SIGNING_KEY, True, False, "token"),  # a GitLab that ignores signing_token
    (SIGNING_KEY, True, True, "token+signing_token"),
])
def test_the_hook_always_has_a_token_gitlab_sends_and_signs_only_when_asked(
        rsps: responses.RequestsMock, secret: str, opt_in: bool, gitlab_signs: bool,
        used: str) -> None:
    """Whatever GitLab does with ``signing_token``, it sends the secret in X-Gitlab-Token."""
    host = GitLabCodeHost(BASE, Secret(TOKEN), GROUP, policy=Policy(signed_webhooks=opt_in))
    fake = FakeGitLab(signed_webhooks=gitlab_signs)
    fake.install(rsps, PROVISION_ROUTES)
    host.provision(sample_request(hook_token=Secret(secret)))
    [hook] = fake.hooks[fake.only_project()["id"]]
    assert fake.hook_secrets[hook["id"]] == (used, secret)


def test_a_second_run_only_reads(host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = provision_fresh(host, rsps, rerun=RERUN_ROUTES)
    first = len(rsps.calls)
    again = host.provision(sample_request())
    assert writes(list(rsps.calls)[first:]) == []
    assert again.created_parts == ()
    assert_provisioned_once(fake, rsps.calls)


class Crash(Exception):
    """The worker dying after a part is done but before it is recorded."""


@pytest.mark.parametrize("part", PARTS)
def test_a_crash_after_any_part_is_completed_by_a_rerun_without_duplicates(
        host: GitLabCodeHost, rsps: responses.RequestsMock, part: str) -> None:
    fake = FakeGitLab()  # the re-run reads every part; GitLab's README only if still there
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES, *(["commit.get"] * (part == "project"))])

    def crash_after(name: str) -> None:
        if name == part:
            raise Crash(name)

    with pytest.raises(Crash):
        host.provision(sample_request(), record_part=crash_after)
    before = len(rsps.calls)
    recorded: list[str] = []
    result = host.provision(sample_request(), record_part=recorded.append)
    assert recorded == list(PARTS)
    assert result.created_parts == PARTS[PARTS.index(part) + 1:]
    redone = {path.split("/")[3] if path.count("/") > 2 else "project"
              for _, path in writes(list(rsps.calls)[before:])}
    assert "project" not in redone
    assert_provisioned_once(fake, rsps.calls)


def test_a_timeout_after_gitlab_created_the_project_is_adopted_on_retry(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES, "commit.get"])
    fake.lose_response.add("project.create")
    with pytest.raises(RemoteUnavailable, match="Timeout"):
        host.provision(sample_request())
    assert len(fake.projects) == 1  # GitLab did create it
    host.provision(sample_request())
    assert_provisioned_once(fake, rsps.calls)


def test_a_foreign_project_on_the_path_gives_the_next_free_path(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    fake.add_project(PATH, description="Aplikasi lain, bukan kasus ini")
    provision_fresh(host, rsps, fake, rerun=RERUN_ROUTES)
    ours = [p for p in fake.projects.values() if p["path"] != PATH]
    assert [(p["path"], p["name"]) for p in ours] == [
        (f"{PATH}-2", "Sistem Informasi Posyandu - 2")]
    first = len(rsps.calls)
    assert host.provision(sample_request()).path_with_namespace == f"{GROUP}/{PATH}-2"
    assert writes(list(rsps.calls)[first:]) == []


def test_the_description_marker_finds_our_project_when_its_topic_was_removed(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    request = sample_request()
    fake = FakeGitLab()
    fake.add_project(PATH, description="Aplikasi lain")
    fake.add_project(f"{PATH}-2", description=f"Diubah orang.\nKunci SOP: {request.case_key}")
    fake.install(rsps, [*READ_ROUTES, "project.get", "commit.get", "users.list"])
    plan = host.plan(request)
    assert plan[0].startswith("Tulis berkas awal dalam satu commit: README.md, CONTRIBUTING.md")
    assert writes(rsps.calls) == [] and len(fake.projects) == 2


def test_plan_lists_a_new_project_and_nothing_once_provisioned(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES])
    plan = host.plan(sample_request())
    assert plan[:3] == [
        f"Buat proyek {GROUP}/{PATH} (privat, cabang main, wiki aktif)",
        "Tulis berkas awal dalam satu commit: README.md, CONTRIBUTING.md, "
        + ", ".join(doc.path for doc in DOCUMENTS),
        "Lindungi cabang main: push oleh Maintainer, merge oleh Developer"]
    assert plan[3:] == [
        "Buat halaman wiki Beranda (home)", "Buat halaman wiki Jadwal Pengembangan Aplikasi",
        "Buat halaman wiki Alur Bisnis", "Buat halaman wiki Dokumen analisis",
        "Buat halaman wiki Dokumentasi dan hasil analisis",
        "Buat halaman wiki Dokumentasi Pengujian", "Buat halaman wiki Petunjuk Instalasi",
        "Buat halaman wiki Petunjuk Penggunaan", "Buat halaman wiki Dokumentasi API",
        "Tambahkan dev1 sebagai Developer", "Tambahkan kasi sebagai Maintainer",
        "Buat milestone 'Rilis 1' jatuh tempo 29 Mei 2026", f"Pasang webhook ke {HOOK_URL}"]
    assert writes(rsps.calls) == [] and fake.projects == {}
    host.provision(sample_request())
    assert host.plan(sample_request()) == []


def test_files_people_changed_are_never_overwritten(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    fake = provision_fresh(host, rsps, rerun=(*RERUN_ROUTES, "commit.get"))
    pid = fake.only_project()["id"]
    fake.commit(pid, "Tulis README sendiri", {"README.md": "# Milik tim\n"})
    del fake.repos[pid].files["CONTRIBUTING.md"]
    first = len(rsps.calls)
    assert host.provision(sample_request()).created_parts == ("files",)
    assert writes(list(rsps.calls)[first:]) == [("POST", f"/projects/{pid}/repository/commits")]
    assert fake.repos[pid].files["README.md"][0] == "# Milik tim\n"
    assert "CONTRIBUTING.md" in fake.repos[pid].files


def test_lower_roles_are_raised_and_a_hook_missing_events_is_completed(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    request = sample_request()
    fake = provision_fresh(host, rsps, rerun=RERUN_ROUTES)
    pid = fake.only_project()["id"]
    del fake.members[pid][7]
    fake.inherited[7] = member_json(7, "dev1", 20)  # Reporter through the group
    fake.members[pid][8]["access_level"] = 30  # kasi was made Developer by hand
    fake.members[pid][9] = member_json(9, "owner", 50)
    hook = fake.hooks[pid][0]
    hook.update(merge_requests_events=False, releases_events=False)
    fake.install(rsps, ["member.update", "hook.update"])
    first = len(rsps.calls)
    assert host.provision(request).created_parts == ("members", "hook")
    assert writes(list(rsps.calls)[first:]) == [
        ("PUT", f"/projects/{pid}/members/7"), ("POST", f"/projects/{pid}/members"),
        ("PUT", f"/projects/{pid}/members/8"), ("PUT", f"/projects/{pid}/hooks/{hook['id']}")]
    levels = {uid: m["access_level"] for uid, m in fake.members[pid].items()}
    assert levels == {7: 30, 8: 40, 9: 50}
    assert hook["merge_requests_events"] and hook["releases_events"]


def test_an_unknown_gitlab_user_is_named(host: GitLabCodeHost,
                                         rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab(users=["kasi"])
    fake.install(rsps, ["projects.list", "project.get", "users.list"])
    with pytest.raises(UnknownGitLabUser, match="dev1") as caught:
        host.plan(sample_request())
    assert caught.value.username == "dev1"
    assert isinstance(caught.value, RemoteRejected)


def test_a_429_raises_remote_unavailable_with_retry_after_and_no_sleep(
        host: GitLabCodeHost, rsps: responses.RequestsMock) -> None:
    rsps.get(url("/projects"), status=429, headers={"Retry-After": "7"},
             json={"message": "429 Too Many Requests"})
    with pytest.raises(RemoteUnavailable) as caught:
        host.provision(sample_request())
    assert caught.value.retry_after == 7
    assert len(rsps.calls) == 1  # python-gitlab did not retry (nor sleep 7 s)


def test_a_500_on_create_raises_remote_unavailable(host: GitLabCodeHost,
                                                  rsps: responses.RequestsMock) -> None:
    rsps.get(url("/projects"), json=[])
    rsps.get(url(f"/projects/{enc(GROUP)}%2F{PATH}"), status=404, json={"message": "404"})
    rsps.get(url(f"/groups/{enc(GROUP)}"), json=group_json())
    rsps.post(url("/projects"), status=500, json={"message": "500 Internal Server Error"})
    with pytest.raises(RemoteUnavailable, match="500") as caught:
        host.provision(sample_request())
    assert caught.value.retry_after is None
    assert len(rsps.calls) == 4


def test_a_timeout_or_refusal_is_translated(host: GitLabCodeHost,
                                           rsps: responses.RequestsMock) -> None:
    rsps.get(url("/projects"), body=requests.ConnectTimeout("connect timed out"))
    rsps.get(url("/projects"), status=403, json={"message": "403 Forbidden"})
    with pytest.raises(RemoteUnavailable, match="ConnectTimeout"):
        host.plan(sample_request())
    with pytest.raises(RemoteRejected, match="403"):
        host.plan(sample_request())


def test_set_milestone_due_moves_the_due_date(host: GitLabCodeHost,
                                              rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    project = fake.add_project(PATH)
    fake.install(rsps, ["milestones.list", "milestone.create", "milestone.update"])
    provisioned = ProvisionedProject(project["id"], project["path_with_namespace"],
                                     project["web_url"], project["web_url"] + "/-/wikis/home")
    host.set_milestone_due(provisioned, "Rilis 1", date(2026, 5, 29))
    host.set_milestone_due(provisioned, "Rilis 1", date(2026, 6, 30))
    host.set_milestone_due(provisioned, "Rilis 1", date(2026, 6, 30))
    assert [m["due_date"] for m in fake.milestones[project["id"]]] == ["2026-06-30"]
    assert [c.request.body for c in rsps.calls if c.request.method == "PUT"] == [
        b'{"due_date": "2026-06-30"}']


@pytest.mark.parametrize(("hooks", "healthy"), [
    ([hook_json(9, 42, HOOK_URL)], True),
    ([hook_json(9, 42, HOOK_URL, alert_status="temporarily_disabled",
                disabled_until="2026-03-10T08:00:00.000Z")], False),
    ([hook_json(9, 42, HOOK_URL, alert_status="disabled")], False),
    ([hook_json(9, 42, "https://lain.example/hook")], False),
    ([], False),
])
def test_hooks_healthy_reads_gitlabs_auto_disabling(
        host: GitLabCodeHost, rsps: responses.RequestsMock, hooks: list[object],
        healthy: bool) -> None:
    rsps.get(url("/projects/42/hooks"), json=hooks)
    project = ProvisionedProject(42, f"{GROUP}/{PATH}", "", "", hook_url=HOOK_URL)
    assert host.hooks_healthy(project) is healthy


def test_secrets_stay_out_of_reprs(host: GitLabCodeHost) -> None:
    assert TOKEN not in repr(host)
    assert "hook-token" not in repr(sample_request())


@pytest.mark.parametrize(("name", "slug"), [
    ("Sistem Informasi Posyandu", "sistem-informasi-posyandu"),
    ("  Aplikasi E-Kinerja & Absensi (v2)! ", "aplikasi-e-kinerja-absensi-v2"),
    ("Pelayanan Terpadu Satu Pintu — Kecamatan Moyo Hilir, Kabupaten Sumbawa, NTB",
     "pelayanan-terpadu-satu-pintu-kecamatan-moyo-hilir"),
    ("Ꭰ ∑ 漢字", "aplikasi"),
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_display_name_is_acceptable_to_gitlab_and_unique_per_suffix() -> None:
    assert display_name("Aplikasi E-Kinerja & Absensi: Tahap 2/3") == (
        "Aplikasi E-Kinerja Absensi Tahap 2 3")
    assert display_name("Sistem Informasi Posyandu", "2") == "Sistem Informasi Posyandu - 2"
    assert display_name("Sistem Informasi Puskesmas (SIMPUS)") == (
        "Sistem Informasi Puskesmas SIMPUS")
    assert display_name('Aplikasi "Sijaka"') == "Aplikasi Sijaka"
    assert display_name("(2027) Data") == "2027 Data"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 9, 8, 0, 0, tzinfo=UTC)
    assert retry_after("7") == 7
    assert retry_after("Mon, 09 Mar 2026 08:00:30 GMT", now=now) == 30
    assert retry_after("soon") is None and retry_after(None) is None
