"""Parse the TOML configuration file into Settings, reporting every problem at once."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.config.credentials import read_credentials
from connector.config.documents import JABATAN, DocumentSettings, Kop, NumberPatterns, Official
from connector.config.reader import Section, email_problem
from connector.config.remote_sections import (
    dashboard_section,
    email_section,
    gitlab_section,
    local_git_section,
    redmine_section,
    signing_section,
    webhooks_section,
)
from connector.config.settings import (
    CalendarSettings,
    DatabaseSettings,
    OpdAgency,
    OpdSettings,
    ServerSettings,
    Settings,
    SlaSettings,
)
from connector.errors import ConfigError, SopError
from connector.sop.loader import load_sop
from connector.sop.model import Role

ENV_VAR = "SOP_CONNECTOR_CONFIG"
SECTIONS = ("server", "database", "redmine", "gitlab", "local_git", "roles", "opd", "calendar",
            "sla", "dashboard", "documents", "webhooks", "sop", "signing", "email")
# Roles whose people come from elsewhere: the team from step 4, the OPD's technical team
# from [opd], and the requesting OPD itself (step 1 is recorded by the service).
OPTIONAL_ROLES = frozenset({Role.TIM_PENGEMBANG, Role.TIM_TEKNIS_OPD, Role.OPD_PEMOHON})


def default_config_path(explicit: str | None = None) -> Path:
    """``--config``, else ``$SOP_CONNECTOR_CONFIG``, else ``./config.toml``."""
    return Path(explicit or os.environ.get(ENV_VAR) or "config.toml")


def load_settings(path: Path, *, resolve_secrets: bool = True) -> Settings:
    """Read and validate ``path``; raise ConfigError with one message per problem.

    ``resolve_secrets=False`` checks where secrets come from without reading them, for
    commands (``workdays``, ``sop show``) that never talk to Redmine or GitLab.
    """
    data = _read_toml(path)
    problems: list[str] = []
    for name in sorted(set(data) - set(SECTIONS)):
        problems.append(f"{path}: [{name}]: unknown section; known: {', '.join(SECTIONS)}")
    sections = {name: _section(path, data, name, problems) for name in SECTIONS}
    settings = _build(path, sections, problems, resolve_secrets)
    if "local_git" in data and settings.local_git is None:  # an empty [local_git] table
        sections["local_git"].text("root")
    for section in sections.values():
        section.finish()
    _check_roles_cover_sop(path, settings, sections["roles"].data, problems)
    if problems:
        raise ConfigError(problems)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError([
            f"{path}: no such configuration file; pass --config PATH or set {ENV_VAR} "
            "(config.example.toml documents every key)"
        ]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc


def _section(path: Path, data: Mapping[str, Any], name: str, problems: list[str]) -> Section:
    raw = data.get(name, {})
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: {name}: expected a [{name}] table")
        raw = {}
    return Section(path, name, raw, problems)


def _build(path: Path, s: Mapping[str, Section], problems: list[str], resolve: bool) -> Settings:
    return Settings(
        source=path,
        server=_server(s["server"]),
        database=DatabaseSettings(_database_url(path, s["database"])),
        redmine=redmine_section(s["redmine"], resolve),
        roles=_roles(s["roles"]),
        role_overrides=s["roles"].texts("override", ()),
        opd=_opd(s["opd"], resolve),
        calendar=_calendar(s["calendar"]),
        webhooks=webhooks_section(s["webhooks"], resolve),
        sla=_sla(s["sla"]),
        dashboard=dashboard_section(s["dashboard"], resolve),
        documents=_documents(s["documents"]) if "documents" in _raw_sections(s) else None,
        gitlab=gitlab_section(s["gitlab"], resolve) if "gitlab" in _raw_sections(s) else None,
        local_git=local_git_section(path, s["local_git"], "gitlab" in _raw_sections(s))
        if "local_git" in _raw_sections(s) else None,
        sop_file=_sop_file(path, s["sop"]),
        standar_tik_url=_standar_tik_url(s["sop"]),
        signing=signing_section(path, s["signing"], resolve)
        if "signing" in _raw_sections(s) else None,
        email=email_section(path, s["email"], resolve) if "email" in _raw_sections(s) else None,
    )


def _raw_sections(s: Mapping[str, Section]) -> set[str]:
    return {name for name, section in s.items() if section.data}


def _server(sec: Section) -> ServerSettings:
    d = ServerSettings()
    return ServerSettings(
        host=sec.text("host", d.host),
        port=sec.integer("port", d.port, minimum=1),
        public_url=sec.text("public_url", d.public_url).rstrip("/"),
        max_body_bytes=sec.integer("max_body_bytes", d.max_body_bytes, minimum=1024),
        max_attachment_bytes=sec.integer("max_attachment_bytes", d.max_attachment_bytes,
                                         minimum=1),
        worker_threads=sec.integer("worker_threads", d.worker_threads),
        threads=sec.integer("threads", d.threads, minimum=1),
        connection_limit=sec.integer("connection_limit", d.connection_limit, minimum=1),
        channel_timeout_seconds=sec.integer("channel_timeout_seconds",
                                            d.channel_timeout_seconds, minimum=1),
        proxy_hops=sec.integer("proxy_hops", d.proxy_hops),
    )


def _database_url(path: Path, sec: Section) -> str:
    """The store's URL; a relative SQLite path is taken from the config file's folder."""
    url: str = sec.text("url", "sqlite:///sop-connector.db")
    prefix = "sqlite:///"
    in_memory = url in (prefix, prefix + ":memory:")
    if url.startswith(prefix) and not url.startswith(prefix + "/") and not in_memory:
        return prefix + str((path.parent / url[len(prefix):]).resolve())
    return url


def _roles(sec: Section) -> dict[Role, tuple[str, ...]]:
    known = {role.value for role in Role}
    roles: dict[Role, tuple[str, ...]] = {}
    for key in sec.data:
        if key == "override":
            continue
        if key not in known:
            sec.seen.add(key)
            sec.problems.append(
                f"{sec.file}: [roles] {key}: unknown role; known roles: {', '.join(sorted(known))}"
            )
            continue
        roles[Role(key)] = sec.texts(key)
    return roles


def _opd(sec: Section, resolve: bool) -> OpdSettings:
    agencies: dict[str, OpdAgency] = {}
    for code, raw in sec.table("agencies").items():
        if not isinstance(raw, Mapping):
            sec.problems.append(f"{sec.file}: [opd.agencies] {code}: expected a table "
                                f"[opd.agencies.{code}] with name and tim_teknis")
            continue
        sub = Section(sec.file, f"opd.agencies.{code}", raw, sec.problems)
        agencies[code] = OpdAgency(code=code, name=sub.text("name"),
                                   tim_teknis=sub.texts("tim_teknis", ()),
                                   credentials=read_credentials(sub, resolve),
                                   email=_agency_email(sub))
        sub.finish()
    return OpdSettings(allow_unknown=sec.flag("allow_unknown", False), agencies=agencies)


def _agency_email(sec: Section) -> str:
    """``[opd.agencies.<KODE>] email``: the OPD's address for receipts and documents."""
    if "email" not in sec.data:
        return ""
    value: str = sec.text("email", "")
    if value and email_problem(value) is not None:
        sec.problems.append(f"{sec.file}: [{sec.name}] email: {email_problem(value)}")
        return ""
    return value.strip()


def _calendar(sec: Section) -> CalendarSettings:
    week = sec.data.get("work_week", [1, 2, 3, 4, 5])
    sec.seen.add("work_week")
    ok = isinstance(week, list) and week and all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in week)
    if not ok:
        sec.problems.append(f"{sec.file}: [calendar] work_week: expected a list of ISO "
                            f"weekdays 1 (Senin) to 7 (Minggu), got {week!r}")
        week = [1, 2, 3, 4, 5]
    return CalendarSettings(
        work_week=frozenset(week),
        extra_holidays=sec.dates("extra_holidays"),
        extra_workdays=sec.dates("extra_workdays"),
        timezone=_timezone(sec),
    )


def _timezone(sec: Section) -> str:
    """An IANA time zone; the day a case arrives is counted in it (Sumbawa: WITA)."""
    name: str = sec.text("timezone", "Asia/Makassar")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        sec.problems.append(f"{sec.file}: [calendar] timezone: unknown time zone {name!r}; "
                            "expected e.g. Asia/Makassar (WITA) or Asia/Jakarta (WIB)")
        return "Asia/Makassar"
    return name


def _sla(sec: Section) -> SlaSettings:
    d = SlaSettings()
    warn = sec.data.get("warn_hari_kerja", list(d.warn_hari_kerja))
    sec.seen.add("warn_hari_kerja")
    if not isinstance(warn, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in warn):
        sec.problems.append(f"{sec.file}: [sla] warn_hari_kerja: expected a list of whole "
                            f"numbers >= 1, got {warn!r}")
        warn = list(d.warn_hari_kerja)
    return SlaSettings(
        development_clock=sec.choice("development_clock", d.development_clock,
                                     ("continue", "restart")),
        warn_hari_kerja=tuple(sorted(set(warn), reverse=True)),
        check_interval_seconds=sec.integer("check_interval_seconds",
                                           d.check_interval_seconds, minimum=0),
        pengesahan_hari_kerja=sec.integer("pengesahan_hari_kerja", d.pengesahan_hari_kerja,
                                          minimum=1),
    )


def _documents(sec: Section) -> DocumentSettings | None:
    """The ``[documents]`` section: letterhead, officials and number patterns."""
    def table(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
        sub = Section(sec.file, f"documents.{name}", sec.table(name), sec.problems)
        values = {k: sub.text(k, "") for k in keys if k in sub.data}
        sub.finish()
        return values

    officials = {role: Official(**{"jabatan": JABATAN[role], "nama": "", "nip": "",
                                   **table(role, ("nama", "nip", "jabatan", "pangkat"))})
                 for role in JABATAN}
    kop = table("kop", ("alamat", "pemerintah", "dinas", "telepon", "email", "laman", "logo",
                        "logo_raster"))
    values: dict[str, Any] = {"kop": Kop(**{"alamat": "", **kop}), **officials,
                              "nomor": NumberPatterns(**table(
                                  "nomor", ("berita_acara", "laporan", "surat")))}
    for key in ("tempat", "instansi"):
        if key in sec.data:
            values[key] = sec.text(key)
    if "tembusan" in sec.data:
        values["tembusan"] = sec.texts("tembusan")
    try:
        return DocumentSettings(**values)
    except ConfigError as exc:
        sec.problems.extend(f"{sec.file}: [{p.split(':', 1)[0].rsplit('.', 1)[0]}] "
                            f"{p.split(':', 1)[0].rsplit('.', 1)[-1]}:{p.split(':', 1)[1]}"
                            for p in exc.problems)
        return None


def _sop_file(path: Path, sec: Section) -> Path | None:
    name = sec.text("file", None)
    return None if name is None else path.parent / name


def _standar_tik_url(sec: Section) -> str | None:
    """``[sop] standar_tik_url``: where the office publishes its TIK development standard."""
    url = sec.text("standar_tik_url", None)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        sec.problems.append(f"{sec.file}: [sop] standar_tik_url: expected an http(s) URL, "
                            f"got {url!r}")
        return None
    return str(url)


def _check_roles_cover_sop(path: Path, settings: Settings, raw_roles: Mapping[str, Any],
                           problems: list[str]) -> None:
    """Every role the SOP gives a step to needs at least one login (except optional ones).

    A role whose value has the wrong type was already reported; it is not also "missing".
    """
    try:
        sop = load_sop(settings.sop_file)
    except SopError as exc:
        problems.extend(exc.problems)
        return
    for role in sorted({step.role for step in sop.steps} - OPTIONAL_ROLES):
        if settings.roles.get(role):
            continue
        if role.value not in raw_roles:
            problems.append(f"{path}: [roles] {role.value}: missing; expected a list of Redmine "
                            f"logins for {role.label}")
        elif raw_roles[role.value] == []:
            problems.append(f"{path}: [roles] {role.value}: empty; expected at least one "
                            f"Redmine login for {role.label}")
