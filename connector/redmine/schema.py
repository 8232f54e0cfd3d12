"""What the connector needs to exist in Redmine: trackers, statuses, fields, role and project.

The REST API cannot create trackers, statuses, custom fields, roles or workflows, so this
description is rendered into a ``rails runner`` script (``setup_script``) for the Redmine host
and checked over REST (``doctor``). Names are Redmine's own labels; ``key`` is our name for a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connector.errors import ConfigError
from connector.tracker import team_function_key

# Redmine 5.0 custom field formats (Redmine::FieldFormat.all.keys) and those allowing multiple.
FIELD_FORMATS = frozenset(
    {"string", "text", "link", "int", "float", "date", "list", "bool", "enumeration", "user",
     "version", "attachment"}
)
MULTIPLE_FORMATS = frozenset({"list", "enumeration", "user", "version"})
_IDENTIFIER = re.compile(r"(?!\d+$)[a-z0-9\-_]{1,100}")
_NAME_MAX = 30  # Tracker, IssueStatus and CustomField names: validates_length_of maximum 30


@dataclass(frozen=True)
class StatusSpec:
    """An issue status; ``is_closed`` statuses end a case or a step."""

    name: str
    is_closed: bool = False


@dataclass(frozen=True)
class CustomFieldSpec:
    """An issue custom field, enabled on every tracker and on the project of the schema."""

    key: str
    name: str
    field_format: str
    is_filter: bool = False
    searchable: bool = False
    multiple: bool = False
    possible_values: tuple[str, ...] = ()  # the choices of a "list" field


@dataclass(frozen=True)
class RoleSpec:
    """The project role of everyone who works a case; permissions are Redmine 5.0 symbols."""

    name: str = "Pelaksana SOP"
    permissions: tuple[str, ...] = (
        "view_issues", "add_issues", "edit_issues", "add_issue_notes", "manage_subtasks",
        "manage_issue_relations", "view_issue_watchers", "add_issue_watchers", "view_files",
        "manage_files", "view_wiki_pages", "view_wiki_edits", "edit_wiki_pages",
        "manage_versions", "view_members", "view_calendar", "view_gantt",
    )


@dataclass(frozen=True)
class ProjectSpec:
    """The Redmine project holding every case."""

    identifier: str = "permohonan-aplikasi"
    name: str = "Permohonan Pembuatan Aplikasi"
    description: str = "Layanan Permohonan Pembuatan Aplikasi (SOP 555/568/DKIST/2021)"
    is_public: bool = False
    modules: tuple[str, ...] = ("issue_tracking", "files", "wiki", "calendar", "gantt")


DEFAULT_STATUSES = (
    StatusSpec("New"), StatusSpec("In Progress"), StatusSpec("Resolved"),
    StatusSpec("Feedback"), StatusSpec("Closed", True), StatusSpec("Rejected", True),
)

TEAM_FUNCTIONS = ("IT Project Manager", "Programmer", "System Analyst", "Multimedia Designer")
"""The functions of a team member in the bundled SOP's Kualifikasi Pelaksana (its header)."""


def team_function_fields(functions: tuple[str, ...]) -> tuple[CustomFieldSpec, ...]:
    """One multi-user field per function, *Tim: Programmer* and so on, filled at step 4."""
    return tuple(CustomFieldSpec(team_function_key(f), f"Tim: {f}", "user", multiple=True)
                 for f in functions)


DEFAULT_CUSTOM_FIELDS = (
    # The deterministic key looked up before creating a case's issues (idempotency).
    CustomFieldSpec("sop_key", "Kunci SOP", "string", is_filter=True, searchable=True),
    CustomFieldSpec("letter_number", "Nomor Surat", "string", is_filter=True),
    CustomFieldSpec("letter_date", "Tanggal Surat", "date"),
    CustomFieldSpec("opd", "OPD", "string", is_filter=True),
    CustomFieldSpec("application_name", "Nama Aplikasi", "string"),
    CustomFieldSpec("step_number", "Nomor Langkah", "int", is_filter=True),
    # Recorded by the Kasi at step 4.
    CustomFieldSpec("dev_team", "Tim Pengembang", "user", multiple=True),
    # ... each member with their function (the team is the union, with Tim Pengembang).
    *team_function_fields(TEAM_FUNCTIONS),
    CustomFieldSpec("remaining_hari_kerja", "Sisa Hari Kerja", "int"),
    # Written by the service on each step subtask, read by the sop_connector Redmine plugin
    # to refuse a wrong closure in the form (connector.workflow.step_rules).
    CustomFieldSpec("step_rules", "Aturan Langkah", "text"),
    # Filled by the Kepala Bidang TI closing step 6 as "tidak": what is not available. The
    # values are the SOP's step 6 ``findings`` (connector/sop/sumbawa.toml).
    CustomFieldSpec("verification_findings", "Temuan Verifikasi", "list", is_filter=True,
                    multiple=True, possible_values=("Infrastruktur", "SDM", "Anggaran")),
)


@dataclass(frozen=True)
class RedmineSchema:
    """Everything the connector expects in Redmine; invalid values raise ``ConfigError``."""

    project: ProjectSpec = ProjectSpec()
    case_tracker: str = "Permohonan Aplikasi"
    step_tracker: str = "Langkah SOP"
    statuses: tuple[StatusSpec, ...] = DEFAULT_STATUSES
    default_status: str = "New"
    custom_fields: tuple[CustomFieldSpec, ...] = DEFAULT_CUSTOM_FIELDS
    role: RoleSpec = RoleSpec()
    member_logins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if problems := _problems(self):
            raise ConfigError(problems)

    @property
    def trackers(self) -> tuple[str, str]:
        """The case tracker (parent issue) and the step tracker (its subtasks)."""
        return (self.case_tracker, self.step_tracker)

    def custom_field(self, key: str) -> CustomFieldSpec:
        """The custom field whose ``key`` is given; ``KeyError`` names the unknown key."""
        for spec in self.custom_fields:
            if spec.key == key:
                return spec
        raise KeyError(f"no custom field with key {key!r} in the Redmine schema")

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-ready data, the form embedded in the set-up script."""
        return {
            "project": _plain(self.project),
            "trackers": list(self.trackers),
            "statuses": [_plain(s) for s in self.statuses],
            "default_status": self.default_status,
            "custom_fields": [_plain(f) for f in self.custom_fields],
            "role": _plain(self.role),
            "member_logins": list(self.member_logins),
        }


def _plain(spec: StatusSpec | CustomFieldSpec | RoleSpec | ProjectSpec) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(spec).items()}


def _problems(schema: RedmineSchema) -> list[str]:
    problems = []
    if not _IDENTIFIER.fullmatch(schema.project.identifier) or schema.project.identifier == "new":
        problems.append(f"project identifier {schema.project.identifier!r} is not valid in Redmine")
    named = [("tracker", t) for t in schema.trackers]
    named += [("status", s.name) for s in schema.statuses]
    named += [("custom field", f.name) for f in schema.custom_fields]
    problems += [f"{kind} name {n!r} must be 1 to {_NAME_MAX} printable characters"
                 for kind, n in named
                 if not 0 < len(n) <= _NAME_MAX or n != n.strip() or not n.isprintable()]
    for kind, names in (("tracker", schema.trackers),
                        ("status", [s.name for s in schema.statuses]),
                        ("custom field", [f.name for f in schema.custom_fields]),
                        ("custom field key", [f.key for f in schema.custom_fields])):
        problems += [f"{kind} {n!r} appears twice" for n in sorted(set(names))
                     if list(names).count(n) > 1]
    if schema.default_status not in {s.name for s in schema.statuses}:
        problems.append(f"default status {schema.default_status!r} is not among the statuses")
    for spec in schema.custom_fields:
        if spec.field_format not in FIELD_FORMATS:
            problems.append(f"custom field {spec.name!r}: unknown format {spec.field_format!r}")
        elif spec.multiple and spec.field_format not in MULTIPLE_FORMATS:
            problems.append(f"custom field {spec.name!r}: format {spec.field_format} is single")
        if (spec.field_format == "list") != bool(spec.possible_values):
            problems.append(f"custom field {spec.name!r}: a list field, and only a list field, "
                            "names its possible values")
    if not schema.role.name.strip():
        problems.append("role name is empty")
    return problems
