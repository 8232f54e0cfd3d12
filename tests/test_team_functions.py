"""Step 4 records each team member's function (the SOP's Kualifikasi Pelaksana): the team is
the union of *Tim Pengembang* and the per-function fields, and the functions travel from the
closing event to the audit trail and into the Berita Acara's facts."""

from __future__ import annotations

from datetime import date

from connector.redmine.schema import DEFAULT_CUSTOM_FIELDS, TEAM_FUNCTIONS
from connector.sop.loader import load_default_sop
from connector.store.audit import AuditEntry
from connector.tracker import CaseField, team_and_functions, team_function_key
from connector.workflow.engine import CaseView, RecordTeam, StepClosed, decide
from connector.workflow.record_reader import case_facts
from connector.workflow.step_rules import rules_text
from tests.test_engine import CAL, POLICY

SOP = load_default_sop()
PM, PROG, SA = (team_function_key(f) for f in TEAM_FUNCTIONS[:3])


def test_the_redmine_fields_are_the_sops_functions() -> None:
    assert SOP.header.kualifikasi_fungsi == TEAM_FUNCTIONS
    named = {spec.key: spec for spec in DEFAULT_CUSTOM_FIELDS}
    for fungsi in SOP.header.kualifikasi_fungsi:
        spec = named[team_function_key(fungsi)]
        assert (spec.name, spec.field_format, spec.multiple) == (f"Tim: {fungsi}", "user", True)


def test_the_team_is_the_union_and_each_member_keeps_every_function() -> None:
    fields = {PM: ("kasi2",), PROG: ("dev1", "dev2"), SA: ("dev2",)}
    team, functions = team_and_functions(fields, SOP.header.kualifikasi_fungsi)
    assert team == ("kasi2", "dev1", "dev2")
    assert functions == {"kasi2": ("IT Project Manager",), "dev1": ("Programmer",),
                         "dev2": ("Programmer", "System Analyst")}


def test_the_old_tim_pengembang_field_still_makes_a_team() -> None:
    fields = {CaseField.DEV_TEAM.value: ("dev1", "dev2"), PROG: ("dev2", "dev3")}
    team, functions = team_and_functions(fields, SOP.header.kualifikasi_fungsi)
    assert team == ("dev1", "dev2", "dev3")
    assert functions == {"dev2": ("Programmer",), "dev3": ("Programmer",)}
    assert team_and_functions({CaseField.DEV_TEAM.value: ("dev1",)},
                              SOP.header.kualifikasi_fungsi) == (("dev1",), {})


def test_step_4_records_the_team_with_its_functions() -> None:
    event = StepClosed(step=4, status="Closed", previous_status="In Progress", actor="kasi",
                       note="", on=date(2026, 3, 16), team=("dev1", "dev2"),
                       team_functions={"dev1": ("IT Project Manager",),
                                       "dev2": ("Programmer",)})
    decision = decide(SOP, CaseView(opd="DINKES", current_step=4), event, POLICY, CAL)
    [recorded] = [c for c in decision.commands if isinstance(c, RecordTeam)]
    assert recorded.logins == ("dev1", "dev2")
    assert dict(recorded.functions) == {"dev1": ("IT Project Manager",), "dev2": ("Programmer",)}


def test_the_facts_carry_the_functions_of_the_latest_recording() -> None:
    def recorded(detail: dict[str, object]) -> AuditEntry:
        return AuditEntry(id=1, case_id=1, at=None, actor="kasi",  # type: ignore[arg-type]
                          action="team_recorded", step_from=4, step_to=None,
                          journal_id=None, detail=detail)

    old = recorded({"logins": ["dev1"], "names": ["Pengembang Satu"]})  # before functions
    assert case_facts([old]).functions == {}
    new = recorded({"logins": ["dev1", "dev2"], "names": ["Satu", "Dua"],
                    "functions": {"dev1": ["Programmer", "System Analyst"]}})
    facts = case_facts([old, new])
    assert facts.functions == {"dev1": ("Programmer", "System Analyst")}
    assert facts.names == {"dev1": "Satu", "dev2": "Dua"}


def test_the_rules_name_the_function_fields_the_plugin_accepts() -> None:
    four = SOP.step(4)
    text = rules_text(four, ("kasi",),
                      team_fields=("Tim: IT Project Manager", "Tim: Programmer"))
    assert text.splitlines()[-2:] == ["tim_pengembang: wajib",
                                      "tim_fungsi: Tim: IT Project Manager; Tim: Programmer"]
    assert "tim_fungsi" not in rules_text(SOP.step(5), ("kasi",), team_fields=("Tim: Programmer",))
