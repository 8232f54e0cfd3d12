"""The typed, frozen settings that the configuration file is parsed into once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from connector.config.credentials import IntakeCredentials
from connector.config.documents import DocumentSettings
from connector.config.secret import Secret
from connector.sop.model import Role


@dataclass(frozen=True)
class ServerSettings:
    """Where the webhook service listens and how much it accepts."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = 16 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    worker_threads: int = 1
    # waitress, in front of the app (issue 20, findings 4 and 5): waitress refuses a body
    # over max_body_bytes from its declared length, before reading it. A thread whose letter
    # waits for its group commit is idle, and the more letters are in hand, the more share
    # one fsync (issue 18: 32 threads carried a third more letters a second than 8).
    threads: int = 32
    connection_limit: int = 500
    channel_timeout_seconds: int = 30
    proxy_hops: int = 0  # reverse proxies whose X-Forwarded-For is trusted

    def waitress_options(self) -> dict[str, int]:
        """The keyword arguments for ``waitress.serve`` that these settings fix."""
        return {"threads": self.threads, "connection_limit": self.connection_limit,
                "channel_timeout": self.channel_timeout_seconds,
                "cleanup_interval": max(1, min(30, self.channel_timeout_seconds // 2)),
                "max_request_body_size": self.max_body_bytes + 1,  # waitress: >= refused
                "max_request_header_size": 65536}


@dataclass(frozen=True)
class DatabaseSettings:
    """The store: an SQLAlchemy URL (SQLite by default, PostgreSQL for larger offices)."""

    url: str


@dataclass(frozen=True)
class RedmineSettings:
    """The Redmine instance and the names of what the set-up script creates there."""

    url: str
    api_key: Secret | None
    project: str = "permohonan-aplikasi"
    case_tracker: str = "Permohonan Aplikasi"
    step_tracker: str = "Langkah SOP"
    key_field: str = "Kunci SOP"
    new_status: str = "New"
    active_status: str = "In Progress"
    done_statuses: tuple[str, ...] = ("Closed",)
    reject_statuses: tuple[str, ...] = ("Rejected",)
    text_formatting: str = "textile"
    timeout_seconds: int = 30
    verify_tls: bool = True
    poll_interval_seconds: int = 60


@dataclass(frozen=True)
class GitLabSettings:
    """The GitLab instance and group where step 8 creates repositories."""

    url: str
    token: Secret | None
    group: str
    users: Mapping[str, str] = field(default_factory=dict)  # Redmine login -> GitLab username
    hook_url: str = ""  # default: <server.public_url>/webhooks/gitlab
    milestone_title: str = "Pengembangan Aplikasi"
    service_username: str = ""  # events caused by this GitLab user are ignored
    push_access_level: str = "maintainer"  # the default branch's rules, see protection.py
    merge_access_level: str = "developer"
    allow_force_push: bool = False
    signed_webhooks: bool = False  # also set the hook's signing_token (GitLab 19+, opt-in)
    note_interval_minutes: int = 60
    timeout_seconds: int = 30
    verify_tls: bool = True

    def username_for(self, login: str) -> str:
        """The GitLab username of a Redmine login (the same name unless mapped)."""
        return self.users.get(login, login)


@dataclass(frozen=True)
class LocalGitSettings:
    """Step 8 without GitLab: bare repositories (and their wikis) on this server's disk."""

    root: Path  # where <slug>.git and <slug>.wiki.git are created
    base_url: str = ""  # web address of root (cgit, gitweb); default: file:// URLs
    author_name: str = "sop-connector"
    author_email: str = "sop-connector@localhost"


@dataclass(frozen=True)
class OpdAgency:
    """A regional agency (OPD) that may send requests, with its technical team's logins.

    ``credentials`` are the OPD's own intake token(s) or signing key(s): a letter they
    authenticate is accepted only for this OPD (issue 20).
    """

    code: str
    name: str
    tim_teknis: tuple[str, ...] = ()
    credentials: IntakeCredentials = field(default_factory=IntakeCredentials)
    email: str = ""  # the OPD's own address: receipts and documents also go there (issue 17)


@dataclass(frozen=True)
class OpdSettings:
    """The known OPDs; a request from another one is refused unless allowed."""

    allow_unknown: bool = False
    agencies: Mapping[str, OpdAgency] = field(default_factory=dict)


@dataclass(frozen=True)
class CalendarSettings:
    """The working week and the office's own holiday and working-day exceptions."""

    work_week: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    timezone: str = "Asia/Makassar"


@dataclass(frozen=True)
class SlaSettings:
    """How time standards are watched: the development clock and the warnings."""

    development_clock: str = "continue"  # or "restart": a rework starts 35 hari kerja again
    warn_hari_kerja: tuple[int, ...] = (10, 5, 1)
    check_interval_seconds: int = 3600
    # Hari kerja for the OPD and the Kepala Dinas to know (acknowledge) the Berita Acara.
    pengesahan_hari_kerja: int = 5


@dataclass(frozen=True)
class WebhookSettings:
    """Secrets of the inbound endpoints, and how failed credentials are throttled.

    ``gateway`` is one intake credential for every OPD, allowed only with
    ``shared_gateway = true`` (a single trusted gateway that sends on the OPDs' behalf).
    """

    shared_gateway: bool = False
    gateway: IntakeCredentials = field(default_factory=IntakeCredentials)
    redmine_secret: Secret | None = None
    gitlab_token: Secret | None = None
    throttle_failures: int = 10
    throttle_window_seconds: int = 300


@dataclass(frozen=True)
class DashboardSettings:
    """Who may see the dashboard: Redmine accounts, or holders of a configured token."""

    access_token: Secret | None = None
    session_secret: Secret | None = None
    redmine_login: bool = True
    session_hours: int = 8


@dataclass(frozen=True)
class SigningSettings:
    """``[signing]``: electronic signatures on the documents (issue 17).

    ``trust_roots`` is the PEM file of the CA certificates every signature must chain to (for
    a local certificate its own CA, for BSrE the BSrE root); ``provider`` is ``local``
    (PKCS#12 files) or ``bsre`` (eSign API v2 at ``bsre_url`` with the application's client
    credentials).
    """

    trust_roots: Path
    provider: str = "local"
    bsre_url: str = ""
    bsre_client_id: str = ""
    bsre_client_secret: Secret | None = None
    bsre_totp: bool = False
    bsre_timeout_seconds: int = 60
    # Who signs with what on the signing page: a Redmine login's PKCS#12 file (local) or
    # NIK at BSrE ([signing.p12] and [signing.nik]).
    p12: Mapping[str, Path] = field(default_factory=dict)
    nik: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EmailSettings:
    """The SMTP server that mails receipts and documents to the OPD (issue 17).

    ``security``: ``starttls`` (upgrade a plain connection, port 587), ``tls`` (TLS from the
    first byte, port 465) or ``none`` (a relay on this host or a trusted network only).
    """

    host: str
    from_address: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: Secret | None = None
    from_name: str = "Dinas Kominfo"
    reply_to: str = ""
    timeout_seconds: int = 30
    verify_tls: bool = True
    ca_file: Path | None = None  # a private CA (or a test's self-signed certificate)


@dataclass(frozen=True)
class Settings:
    """Everything the service needs, read once from one TOML file."""

    source: Path
    server: ServerSettings
    database: DatabaseSettings
    redmine: RedmineSettings
    roles: Mapping[Role, tuple[str, ...]]
    role_overrides: tuple[str, ...]
    opd: OpdSettings
    calendar: CalendarSettings
    webhooks: WebhookSettings
    sla: SlaSettings = SlaSettings()
    dashboard: DashboardSettings = DashboardSettings()
    documents: DocumentSettings | None = None
    gitlab: GitLabSettings | None = None
    local_git: LocalGitSettings | None = None
    sop_file: Path | None = None
    standar_tik_url: str | None = None  # [sop]: step 9's "Standarisasi ... TIK" kelengkapan
    signing: SigningSettings | None = None
    email: EmailSettings | None = None  # None: nothing is mailed

    def logins_for(self, role: Role, opd: str | None = None) -> tuple[str, ...]:
        """The Redmine logins that may act as ``role`` (per OPD for its technical team)."""
        if role is Role.TIM_TEKNIS_OPD and opd is not None and opd in self.opd.agencies:
            team = self.opd.agencies[opd].tim_teknis
            if team:
                return team
        return self.roles.get(role, ())
