"""Step 8 against GitLab as its documentation says it behaves (issue 14).

Names GitLab refuses, a default branch GitLab already protects at each
``default_branch_protection`` level, hooks whose ``signing_token`` GitLab may ignore, and a
hook GitLab has disabled: each against ``tests.gitlab_stubs.FakeGitLab``, which answers as
GitLab's API documentation and validation rules do.
"""

from __future__ import annotations

import pytest
import responses

from connector.codehost import ProjectRefused, ProvisionedProject
from connector.config.secret import Secret
from connector.gitlab import PARTS, GitLabCodeHost
from connector.gitlab.naming import display_name, marker_topic
from connector.gitlab.parts import Policy
from connector.gitlab.protection import DEVELOPER, MAINTAINER, BranchRules, rules_of
from tests.gitlab_stubs import (
    BASE,
    GROUP,
    PROVISION_ROUTES,
    READ_ROUTES,
    RERUN_ROUTES,
    FakeGitLab,
    hook_json,
    sample_request,
    url,
    valid_project_name,
    writes,
)

TOKEN = "glpat-service-token-0123456789"
NAMES = ["Sistem Informasi Puskesmas (SIMPUS)", "e-Kinerja ASN / 2027", 'Aplikasi "Sijaka"',
         "1000 Hari Pertama Kehidupan (HPK)", "(Baru) Aplikasi Perizinan & Retribusi"]


def host(policy: Policy | None = None) -> GitLabCodeHost:
    return GitLabCodeHost(BASE, Secret(TOKEN), GROUP, timeout=5, policy=policy)


@pytest.mark.parametrize("title", NAMES)
def test_any_application_name_gives_a_project_gitlab_accepts(
        rsps: responses.RequestsMock, title: str) -> None:
    fake = FakeGitLab()
    fake.install(rsps, PROVISION_ROUTES)
    request = sample_request(title=title, slug_source=title)
    result = host().provision(request)
    project = fake.only_project()
    assert result.created_parts == PARTS
    assert valid_project_name(project["name"]) and project["name"] == display_name(title)
    assert project["description"].splitlines()[0] == title  # the full name, readable
    assert writes(rsps.calls).count(("POST", "/projects")) == 1


def test_the_displayed_names_are_what_gitlab_accepts() -> None:
    assert [display_name(t) for t in NAMES] == [
        "Sistem Informasi Puskesmas SIMPUS", "e-Kinerja ASN 2027", "Aplikasi Sijaka",
        "1000 Hari Pertama Kehidupan HPK", "Baru Aplikasi Perizinan Retribusi"]
    assert all(valid_project_name(display_name(t, "3")) for t in NAMES)
    assert not valid_project_name("Sistem Informasi Posyandu (2)")  # the old clash suffix


def test_a_name_that_clashes_twice_falls_back_to_the_path(
        rsps: responses.RequestsMock) -> None:
    """The path is taken by one project, and the suffixed name by another one."""
    fake = FakeGitLab()
    fake.add_project("sistem-informasi-posyandu", description="Proyek lain")
    other = fake.add_project("posyandu-lama", description="Proyek lain juga")
    other["name"] = "Sistem Informasi Posyandu - 2"
    fake.install(rsps, PROVISION_ROUTES)
    result = host().provision(sample_request())
    [ours] = [p for p in fake.projects.values() if marker_topic(
        sample_request().case_key) in p["topics"]]
    assert (ours["path"], ours["name"]) == ("sistem-informasi-posyandu-2",
                                            "sistem-informasi-posyandu-2")
    assert result.created_parts == PARTS
    assert writes(rsps.calls).count(("POST", "/projects")) == 2


def test_when_gitlab_refuses_every_name_it_says_what_gitlab_said(
        rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    fake.install(rsps, ["projects.list", "project.get", "group.get"])
    rsps.post(url("/projects"), status=400,  # Projects API "Create a project", a refusal
              json={"message": {"name": ["is reserved by the administrator"]}})
    request = sample_request()
    with pytest.raises(ProjectRefused) as caught:
        host().provision(request)
    text = str(caught.value)
    assert "GitLab menjawab: name is reserved by the administrator" in text
    assert f"Kunci SOP: {request.case_key}" in text and "sop-connector jobs replay" in text
    assert 1 < writes(rsps.calls).count(("POST", "/projects")) <= 6  # bounded, not forever


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_the_default_branch_gets_the_configured_rules_at_every_protection_level(
        rsps: responses.RequestsMock, level: int) -> None:
    fake = FakeGitLab(default_branch_protection=level)
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES])
    rsps.assert_all_requests_are_fired = False  # level 0 and 3 need no unprotect
    host().provision(sample_request())
    pid = fake.only_project()["id"]
    assert rules_of(fake.protected[pid]["main"]) == BranchRules(
        push=MAINTAINER, merge=DEVELOPER, allow_force_push=False)
    first = len(rsps.calls)
    assert "protection" not in host().provision(sample_request()).created_parts
    assert writes(list(rsps.calls)[first:]) == []


def test_a_dry_run_shows_the_protection_it_would_change(rsps: responses.RequestsMock) -> None:
    request = sample_request()
    fake = FakeGitLab(default_branch_protection=2)
    fake.add_project("sistem-informasi-posyandu", topics=[marker_topic(request.case_key)])
    fake.install(rsps, [*READ_ROUTES, "commit.get", "users.list"])
    plan = host().plan(request)
    assert ("Ubah perlindungan cabang main (sekarang push oleh Maintainer, merge oleh "
            "Maintainer): push oleh Maintainer, merge oleh Developer") in plan
    assert writes(rsps.calls) == []


def test_force_push_alone_is_changed_in_place(rsps: responses.RequestsMock) -> None:
    """Level 3 already has push: Maintainer, merge: Developer; only force push differs."""
    fake = FakeGitLab(default_branch_protection=3)
    fake.install(rsps, [*PROVISION_ROUTES, "protected.update"])
    rsps.assert_all_requests_are_fired = False
    rules = BranchRules(allow_force_push=True)
    host(Policy(branch=rules)).provision(sample_request())
    pid = fake.only_project()["id"]
    assert rules_of(fake.protected[pid]["main"]) == rules
    assert ("PATCH", f"/projects/{pid}/protected_branches/main") in writes(rsps.calls)
    assert ("DELETE", f"/projects/{pid}/protected_branches/main") not in writes(rsps.calls)


@pytest.mark.parametrize("answer, enabled", [(200, True), (500, False)])
def test_a_hook_gitlab_disabled_is_re_enabled_by_a_test_delivery(
        rsps: responses.RequestsMock, answer: int, enabled: bool) -> None:
    fake = FakeGitLab()
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES, "hook.test", "hook.get"])
    result = host().provision(sample_request())
    [hook] = fake.hooks[result.id]
    hook.update(alert_status="temporarily_disabled", disabled_until="2999-01-01T00:00:00Z")
    fake.receiver_status = answer
    again = host().provision(sample_request())
    assert again.created_parts == ("hook",)
    assert ("POST", f"/projects/{result.id}/hooks/{hook['id']}/test/push_events") in writes(
        rsps.calls)
    assert (hook["alert_status"] == "executable") is enabled
    assert host().hooks_healthy(again) is enabled


def test_lists_are_read_past_their_first_page(rsps: responses.RequestsMock) -> None:
    """Our hook after 30 others (page 2 of ``per_page`` 20) is found: nothing is redone."""
    fake = FakeGitLab()
    fake.install(rsps, [*PROVISION_ROUTES, *RERUN_ROUTES])
    result = host().provision(sample_request())
    ours = fake.hooks[result.id].pop()
    fake.hooks[result.id] += [hook_json(900 + n, result.id, f"https://lain.example/{n}",
                                        events=["push_events"]) for n in range(30)]
    fake.hooks[result.id].append(ours)
    first = len(rsps.calls)
    assert host().provision(sample_request()).created_parts == ()
    assert writes(list(rsps.calls)[first:]) == []
    pages = [c.request.url for c in list(rsps.calls)[first:] if "/hooks" in c.request.url]
    assert len(pages) == 2 and "page=2" in pages[1]


def test_the_tree_lists_directories_and_pages_and_the_gate_reads_past_them(
        rsps: responses.RequestsMock) -> None:
    fake = FakeGitLab()
    project = fake.add_project("sistem-informasi-posyandu")
    fake.commit(project["id"], "banyak berkas", {
        **{f"docs/catatan/{n:02}.md": "x\n" for n in range(40)}, "web/index.php": "<?php\n"})
    fake.install(rsps, ["wikis.list", "tree"])  # no document in the tree: none is read
    provisioned = ProvisionedProject(project["id"], project["path_with_namespace"],
                                     project["web_url"], project["web_url"] + "/-/wikis/home")
    [application, *_] = host().deliverables(provisioned)
    assert application.present and application.where == "web/index.php"
    trees = [c.request.url for c in rsps.calls if "/repository/tree" in c.request.url]
    assert len(trees) == 3  # 40 files, 2 directories, web/ and its file: three pages
