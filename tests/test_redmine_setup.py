"""The Redmine schema, its set-up script and the doctor: unit tests, then a real Redmine."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib.resources import files
from typing import Any

import pytest
import requests
import responses

from connector.errors import ConfigError
from connector.redmine.doctor import KEY_FIX, SETUP_FIX, Problem, check_redmine
from connector.redmine.schema import CustomFieldSpec, ProjectSpec, RedmineSchema
from connector.redmine.setup_script import main, render_setup_script
from tests.redmine_server import RedmineServer, cannot_start_reason, start_redmine_server

SOP_LOGINS = ("kadis", "kabid", "kasi", "dev1", "dev2", "opd1", "bidangti")
HOSTILE = "a'\"#{`id`}\\ SOP_SCHEMA_JSON"  # a valid name: printable, 30 characters at most
HOSTILE_LOGIN = "x\nSOP_SCHEMA_JSON\nexit 1\n"
URL, KEY = "http://redmine.test", "0123456789abcdef0123456789abcdef01234567"


def embedded_data(script: str) -> str:
    """The text between the heredoc opener and its terminator."""
    return script.split("<<'SOP_SCHEMA_JSON').freeze\n", 1)[1].split("\nSOP_SCHEMA_JSON\n")[0]


def test_script_embeds_the_schema_as_json() -> None:
    schema = replace(RedmineSchema(), member_logins=("kasi",))
    assert json.loads(embedded_data(render_setup_script(schema))) == schema.to_data()


def test_hostile_names_stay_inside_the_json() -> None:
    schema = replace(
        RedmineSchema(), case_tracker=HOSTILE, project=ProjectSpec(name=HOSTILE),
        custom_fields=(CustomFieldSpec("x", HOSTILE, "string"),), member_logins=(HOSTILE_LOGIN,),
    )
    script = render_setup_script(schema)
    before, after = files("connector.redmine").joinpath("setup.rb").read_text().split(
        "__SOP_SCHEMA_JSON__")
    data = embedded_data(script)
    assert script == before + data + after
    assert data.isascii() and "SOP_SCHEMA_JSON" not in data.splitlines()
    assert json.loads(data) == schema.to_data()


@pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed")
def test_ruby_reads_back_the_same_data() -> None:
    schema = replace(RedmineSchema(), case_tracker=HOSTILE, member_logins=(HOSTILE_LOGIN, "k"))
    data_part = render_setup_script(schema).split("# --- end of data ---")[0]
    done = subprocess.run(["ruby", "-e", "eval(STDIN.read); print JSON.generate(SOP_SCHEMA)"],
                          input=data_part, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == schema.to_data()


def test_main_prints_the_default_script_with_members(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kadis", "kasi"]) == 0
    data = json.loads(embedded_data(capsys.readouterr().out))
    assert data == replace(RedmineSchema(), member_logins=("kadis", "kasi")).to_data()


def test_invalid_schema_lists_every_fault() -> None:
    with pytest.raises(ConfigError) as raised:
        RedmineSchema(project=ProjectSpec(identifier="123"), case_tracker="x" * 31,
                      step_tracker="x" * 31, default_status="Baru",
                      custom_fields=(CustomFieldSpec("n", "Nomor", "int", multiple=True),))
    assert raised.value.problems == [
        "project identifier '123' is not valid in Redmine",
        f"tracker name {'x' * 31!r} must be 1 to 30 printable characters",
        f"tracker name {'x' * 31!r} must be 1 to 30 printable characters",
        f"tracker {'x' * 31!r} appears twice",
        "default status 'Baru' is not among the statuses",
        "custom field 'Nomor': format int is single",
    ]


@responses.activate(assert_all_requests_are_fired=True)
def test_doctor_reports_a_disabled_rest_api() -> None:
    responses.get(f"{URL}/users/current.json", status=403)
    problems = check_redmine(URL, KEY, RedmineSchema(), ["kasi"])
    assert [p.what for p in problems] == ["the Redmine REST API is disabled"]
    assert SETUP_FIX in problems[0].fix and KEY not in repr(problems)


@responses.activate(assert_all_requests_are_fired=True)
def test_doctor_reports_a_rejected_key_without_showing_it() -> None:
    responses.get(f"{URL}/users/current.json", status=401)
    problems = check_redmine(URL + "/", KEY, RedmineSchema(), [])
    assert problems == [Problem("Redmine rejects the API key", KEY_FIX)]


@responses.activate(assert_all_requests_are_fired=True)
def test_doctor_reports_an_unreachable_redmine() -> None:
    responses.get(f"{URL}/users/current.json",
                  body=requests.ConnectionError(f"refused {URL}?key={KEY}"))
    problems = check_redmine(URL, KEY, RedmineSchema(), [])
    assert [p.what for p in problems] == [f"Redmine at {URL} is not reachable (ConnectionError)"]
    assert KEY not in repr(problems)


# --- against a real Redmine, bare: default data, REST API on, SOP users, no set-up yet ---

DRIFT_RB = """
Setting.rest_api_enabled = '0'
Role.find_by!(name: 'Pelaksana SOP').remove_permission!(:manage_subtasks)
IssueCustomField.find_by!(name: 'Kunci SOP').update!(is_filter: false)
field = IssueCustomField.find_by!(name: 'Nomor Langkah')
field.trackers = field.trackers.reject { |t| t.name == 'Langkah SOP' }
findings = IssueCustomField.find_by!(name: 'Temuan Verifikasi')
findings.possible_values = findings.possible_values - ['SDM']
findings.save!
"""


@dataclass(frozen=True)
class SetupStory:
    """What the doctor and the set-up script said at each stage, on one Redmine."""

    server: RedmineServer
    schema: RedmineSchema
    bare: list[Problem]
    first: subprocess.CompletedProcess[str]
    after_first: list[Problem]
    second: subprocess.CompletedProcess[str]
    after_second: list[Problem]
    drifted: list[Problem]  # after an admin undid part of the set-up over REST
    api_off: list[Problem]  # after DRIFT_RB, which also turned the REST API off
    third: subprocess.CompletedProcess[str]
    after_third: list[Problem]


@pytest.fixture(scope="module")
def bare_redmine() -> Iterator[RedmineServer]:
    if reason := cannot_start_reason():
        pytest.skip(reason)
    server = start_redmine_server(bare=True)
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def story(bare_redmine: RedmineServer) -> SetupStory:
    server, schema = bare_redmine, replace(RedmineSchema(), member_logins=SOP_LOGINS)
    script = render_setup_script(replace(schema, member_logins=(*SOP_LOGINS, "nobody")))

    def doctor(*logins: str) -> list[Problem]:
        return check_redmine(server.url, server.admin_key, schema, [*logins, *SOP_LOGINS])

    bare = doctor("nobody")
    first = server.run_rails(script)
    after_first = doctor()
    second = server.run_rails(script)
    after_second = doctor()
    undo_over_rest(server)
    drifted = doctor()
    undone = server.run_rails(DRIFT_RB)
    assert undone.returncode == 0, undone.stderr
    api_off = doctor()
    third = server.run_rails(script)
    return SetupStory(server, schema, bare, first, after_first, second, after_second, drifted,
                      api_off, third, doctor())


def undo_over_rest(server: RedmineServer) -> None:
    """Drop the step tracker, gantt, one field and opd1's membership from the project."""
    project = f"{server.url}/projects/permohonan-aplikasi"
    with requests.Session() as admin:
        admin.headers["X-Redmine-API-Key"] = server.admin_key
        now = admin.get(f"{project}.json", params={
            "include": "trackers,issue_custom_fields"}).json()["project"]
        answer = admin.put(f"{project}.json", json={"project": {
            "tracker_ids": [t["id"] for t in now["trackers"] if t["name"] != "Langkah SOP"],
            "enabled_module_names": ["issue_tracking", "files", "wiki", "calendar"],
            "issue_custom_field_ids": [f["id"] for f in now["issue_custom_fields"]
                                       if f["name"] != "Nama Aplikasi"]}})
        assert answer.status_code == 204, answer.text
        opd1 = admin.get(f"{server.url}/users.json", params={"name": "opd1"}).json()["users"]
        members = admin.get(f"{project}/memberships.json").json()["memberships"]
        member = next(m for m in members if m["user"]["id"] == opd1[0]["id"])
        assert admin.delete(f"{server.url}/memberships/{member['id']}.json").status_code == 204


def missing(*what: str) -> list[Problem]:
    return [Problem(w, SETUP_FIX) for w in what]


@pytest.mark.redmine
def test_doctor_lists_what_a_bare_redmine_lacks(story: SetupStory) -> None:
    assert story.bare == [
        *missing(
            "tracker 'Permohonan Aplikasi' is missing",
            "tracker 'Langkah SOP' is missing",
            "role 'Pelaksana SOP' is missing",
            "project 'permohonan-aplikasi' is missing (or hidden from the key's user)",
            *(f"issue custom field {f.name!r} is missing" for f in story.schema.custom_fields),
        ),
        Problem("Redmine user 'nobody' does not exist",
                "create user 'nobody' in Redmine (Administration » Users)"),
    ]


@pytest.mark.redmine
def test_first_run_creates_everything(story: SetupStory) -> None:
    fields = [f'created custom_field "{f.name}"' for f in story.schema.custom_fields]
    assert story.first.returncode == 0, story.first.stderr
    assert story.first.stdout.splitlines() == [
        'ok default_data "en"', 'ok setting "rest_api_enabled"', 'ok priority "Normal"',
        *(f'ok status "{s.name}"' for s in story.schema.statuses),
        'created tracker "Permohonan Aplikasi"', 'created tracker "Langkah SOP"',
        'created role "Pelaksana SOP"',
        'created workflow "Permohonan Aplikasi" "30 transitions for Pelaksana SOP"',
        'created workflow "Langkah SOP" "30 transitions for Pelaksana SOP"',
        'created project "permohonan-aplikasi"', *fields,
        *(f'created member "{login}"' for login in SOP_LOGINS),
        'WARN member "nobody" "no such user: create it, then run this again"',
        "SETUP changed=27",  # 13 + one per custom field (14: Aturan Langkah, Tim: <fungsi>,
        #                       Temuan Verifikasi)
    ]
    assert story.after_first == []


@pytest.mark.redmine
def test_second_run_changes_nothing(story: SetupStory) -> None:
    lines = story.second.stdout.splitlines()
    assert story.second.returncode == 0, story.second.stderr
    assert [line for line in lines if not line.startswith(("ok ", "WARN member"))] == [
        "SETUP changed=0"]
    assert len(lines) == len(story.first.stdout.splitlines())
    assert story.after_second == []


@pytest.mark.redmine
def test_doctor_sees_a_project_undone_over_rest(story: SetupStory) -> None:
    assert story.drifted == missing(
        "project 'permohonan-aplikasi' does not use tracker 'Langkah SOP'",
        "project 'permohonan-aplikasi' lacks the module 'gantt'",
        "issue custom field 'Nama Aplikasi' is not enabled in project 'permohonan-aplikasi'",
        "'opd1' is not a member of project 'permohonan-aplikasi' with role 'Pelaksana SOP'",
    )


@pytest.mark.redmine
def test_doctor_notices_the_rest_api_is_off(story: SetupStory) -> None:
    assert [p.what for p in story.api_off] == ["the Redmine REST API is disabled"]


@pytest.mark.redmine
def test_third_run_repairs_only_what_was_undone(story: SetupStory) -> None:
    lines = story.third.stdout.splitlines()
    assert story.third.returncode == 0, story.third.stderr
    assert [line for line in lines if not line.startswith(("ok ", "WARN member"))] == [
        'updated setting "rest_api_enabled"',
        'updated role "Pelaksana SOP" "added manage_subtasks"',
        'updated project "permohonan-aplikasi" "enabled Langkah SOP, gantt"',
        'updated custom_field "Kunci SOP" "set is_filter"',
        'updated custom_field "Nama Aplikasi" "set permohonan-aplikasi"',
        'updated custom_field "Nomor Langkah" "set Langkah SOP"',
        'updated custom_field "Temuan Verifikasi" "set possible values SDM"',
        'created member "opd1"',
        "SETUP changed=8",
    ]
    assert story.after_third == []


@pytest.mark.redmine
def test_a_member_can_work_a_case(story: SetupStory) -> None:
    """Kasi (role Pelaksana SOP only) opens a case with a step, records the team, closes both."""
    server = story.server
    with requests.Session() as admin, requests.Session() as kasi:
        admin.headers["X-Redmine-API-Key"] = server.admin_key
        kasi.headers["X-Redmine-API-Key"] = server.user_keys["kasi"]
        ids = {x["name"]: x["id"] for x in
               [*admin.get(f"{server.url}/custom_fields.json").json()["custom_fields"],
                *admin.get(f"{server.url}/trackers.json").json()["trackers"],
                *admin.get(f"{server.url}/issue_statuses.json").json()["issue_statuses"]]}
        devs = [admin.get(f"{server.url}/users.json", params={"name": login}).json()["users"][0]
                ["id"] for login in ("dev1", "dev2")]

        def create(**issue: Any) -> int:
            answer = kasi.post(f"{server.url}/issues.json", json={"issue": {
                "project_id": "permohonan-aplikasi", **issue}})
            assert answer.status_code == 201, answer.text
            return int(answer.json()["issue"]["id"])

        def update(issue_id: int, **issue: Any) -> None:
            answer = kasi.put(f"{server.url}/issues/{issue_id}.json", json={"issue": issue})
            assert answer.status_code == 204, answer.text

        case = create(tracker_id=ids["Permohonan Aplikasi"], subject="Aplikasi Uji",
                      custom_fields=[{"id": ids["Kunci SOP"], "value": "case-1"}])
        step = create(tracker_id=ids["Langkah SOP"], subject="Langkah 4", parent_issue_id=case,
                      custom_fields=[{"id": ids["Nomor Langkah"], "value": "4"}])
        update(case, custom_fields=[{"id": ids["Tim Pengembang"], "value": [str(d) for d in devs]}])
        for status in ("In Progress", "Closed"):
            update(step, status_id=ids[status])
        update(case, status_id=ids["Closed"])
        found = kasi.get(f"{server.url}/issues.json", params={
            "project_id": "permohonan-aplikasi", "status_id": "*",
            f"cf_{ids['Kunci SOP']}": "case-1"}).json()["issues"]
    assert [(i["id"], i["status"]["name"]) for i in found] == [(case, "Closed")]
    team = next(f for f in found[0]["custom_fields"] if f["name"] == "Tim Pengembang")
    assert sorted(team["value"]) == sorted(str(d) for d in devs)


@pytest.mark.redmine
def test_server_comes_back_on_the_same_port_with_the_same_data(story: SetupStory) -> None:
    server, url = story.server, story.server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/users/current.json", timeout=5)
    server.start_again()
    assert server.url == url
    assert check_redmine(server.url, server.admin_key, story.schema, SOP_LOGINS) == []
