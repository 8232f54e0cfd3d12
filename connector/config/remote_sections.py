"""The configuration sections that connect the service to other systems.

Redmine, the code host (GitLab or local git), the webhooks' secrets and the dashboard's
sign-in: each parser reads one ``Section`` and records its problems there.
"""

from __future__ import annotations

from pathlib import Path

from connector.config.credentials import read_credentials
from connector.config.reader import Section, email_problem
from connector.config.settings import (
    DashboardSettings,
    EmailSettings,
    GitLabSettings,
    LocalGitSettings,
    RedmineSettings,
    SigningSettings,
    WebhookSettings,
)

LEVELS = ("no_one", "developer", "maintainer")  # protected-branch access levels 0, 30, 40


def redmine_section(sec: Section, resolve: bool) -> RedmineSettings:
    d = RedmineSettings(url="", api_key=None)
    return RedmineSettings(
        url=sec.text("url").rstrip("/"),
        api_key=sec.secret("api_key", required=True, resolve=resolve),
        project=sec.text("project", d.project),
        case_tracker=sec.text("case_tracker", d.case_tracker),
        step_tracker=sec.text("step_tracker", d.step_tracker),
        key_field=sec.text("key_field", d.key_field),
        new_status=sec.text("new_status", d.new_status),
        active_status=sec.text("active_status", d.active_status),
        done_statuses=sec.texts("done_statuses", d.done_statuses),
        reject_statuses=sec.texts("reject_statuses", d.reject_statuses),
        text_formatting=sec.choice("text_formatting", d.text_formatting,
                                    ("textile", "markdown", "common_mark")),
        timeout_seconds=sec.integer("timeout_seconds", d.timeout_seconds, minimum=1),
        verify_tls=sec.flag("verify_tls", d.verify_tls),
        poll_interval_seconds=sec.integer("poll_interval_seconds", d.poll_interval_seconds,
                                          minimum=0),
    )


def gitlab_section(sec: Section, resolve: bool) -> GitLabSettings:
    d = GitLabSettings(url="", token=None, group="")
    users: dict[str, str] = {}
    for login, username in sec.table("users").items():
        if isinstance(username, str) and username.strip():
            users[str(login)] = username.strip()
        else:
            sec.problems.append(f"{sec.file}: [gitlab.users] {login}: expected a GitLab "
                                f"username, got {username!r}")
    return GitLabSettings(
        url=sec.text("url").rstrip("/"),
        token=sec.secret("token", required=True, resolve=resolve),
        group=sec.text("group"),
        users=users,
        hook_url=sec.text("hook_url", d.hook_url) if "hook_url" in sec.data else d.hook_url,
        milestone_title=sec.text("milestone_title", d.milestone_title),
        service_username=sec.text("service_username", d.service_username)
        if "service_username" in sec.data else d.service_username,
        push_access_level=sec.choice("push_access_level", d.push_access_level, LEVELS),
        merge_access_level=sec.choice("merge_access_level", d.merge_access_level, LEVELS),
        allow_force_push=sec.flag("allow_force_push", d.allow_force_push),
        signed_webhooks=sec.flag("signed_webhooks", d.signed_webhooks),
        note_interval_minutes=sec.integer("note_interval_minutes", d.note_interval_minutes,
                                          minimum=0),
        timeout_seconds=sec.integer("timeout_seconds", d.timeout_seconds, minimum=1),
        verify_tls=sec.flag("verify_tls", d.verify_tls),
    )


def local_git_section(path: Path, sec: Section, with_gitlab: bool) -> LocalGitSettings:
    """``[local_git]``: step 8 in bare repositories under ``root`` (relative: to this file)."""
    d = LocalGitSettings(root=Path())
    if with_gitlab:
        sec.problems.append(f"{path}: [local_git]: a configuration uses one code host; "
                            "remove either [gitlab] or [local_git]")
    root = Path(sec.text("root")).expanduser()
    base_url: str = sec.text("base_url", d.base_url) if "base_url" in sec.data else d.base_url
    if base_url and not base_url.startswith(("http://", "https://")):
        sec.problems.append(f"{path}: [local_git] base_url: expected an http:// or https:// "
                            f"address, got {base_url!r}")
    ident = {key: sec.text(key, getattr(d, key)) for key in ("author_name", "author_email")}
    for key, value in ident.items():
        if any(c in value for c in "<>\n"):
            sec.problems.append(f"{path}: [local_git] {key}: must not contain <, > or a "
                                f"line break, got {value!r}")
    root = root if root.is_absolute() else (path.parent / root).resolve()
    if root.exists() and not root.is_dir():
        sec.problems.append(f"{path}: [local_git] root: {root} is not a folder")
    return LocalGitSettings(root=root, base_url=base_url.rstrip("/"), **ident)


def dashboard_section(sec: Section, resolve: bool) -> DashboardSettings:
    d = DashboardSettings()
    return DashboardSettings(
        access_token=sec.secret("access_token", required=False, resolve=resolve),
        session_secret=sec.secret("session_secret", required=False, resolve=resolve),
        redmine_login=sec.flag("redmine_login", d.redmine_login),
        session_hours=sec.integer("session_hours", d.session_hours, minimum=1),
    )


def webhooks_section(sec: Section, resolve: bool) -> WebhookSettings:
    d = WebhookSettings()
    shared = sec.flag("shared_gateway", d.shared_gateway)
    gateway = read_credentials(sec, resolve)
    given = [k for k in sec.data if k.startswith(("intake_token", "intake_signing_secret"))]
    if given and not shared:
        sec.problems.append(
            f"{sec.file}: [webhooks] {sorted(given)[0]}: one intake credential for every OPD "
            "lets each OPD send letters in another OPD's name; move it to each OPD "
            "([opd.agencies.<KODE>] intake_token_env or intake_signing_secret_env, one per "
            "OPD), or, only when a single trusted gateway sends for all OPDs, set "
            "[webhooks] shared_gateway = true (docs/keamanan.md)")
    if shared and not given:
        sec.problems.append(f"{sec.file}: [webhooks] shared_gateway: true, but no "
                            "intake_token_env/_file or intake_signing_secret_env/_file is given")
    return WebhookSettings(
        shared_gateway=shared, gateway=gateway,
        redmine_secret=sec.secret("redmine_secret", required=False, resolve=resolve),
        gitlab_token=sec.secret("gitlab_token", required=False, resolve=resolve),
        throttle_failures=sec.integer("throttle_failures", d.throttle_failures, minimum=1),
        throttle_window_seconds=sec.integer("throttle_window_seconds",
                                            d.throttle_window_seconds, minimum=1),
    )


def signing_section(path: Path, sec: Section, resolve: bool) -> SigningSettings:
    """``[signing]``: the trust roots, and BSrE's address and client credentials."""
    d = SigningSettings(trust_roots=Path())
    roots = path.parent / sec.text("trust_roots")
    if not roots.is_file():
        sec.problems.append(f"{path}: [signing] trust_roots: no such file {roots}")
    provider = sec.choice("provider", d.provider, ("local", "bsre"))
    bsre = provider == "bsre"
    url = (sec.text("bsre_url") if bsre else sec.text("bsre_url", "")).rstrip("/")
    if bsre and url and not url.startswith(("http://", "https://")):
        sec.problems.append(f"{path}: [signing] bsre_url: expected an http:// or https:// "
                            f"address, got {url!r}")
    p12 = {str(login): path.parent / name for login, name in _logins(sec, "p12").items()}
    for login, file in p12.items():
        if not file.is_file():
            sec.problems.append(f"{path}: [signing.p12] {login}: no such file {file}")
    return SigningSettings(
        trust_roots=roots, provider=provider, bsre_url=url, p12=p12, nik=_logins(sec, "nik"),
        bsre_client_id=sec.text("bsre_client_id") if bsre
        else sec.text("bsre_client_id", d.bsre_client_id),
        bsre_client_secret=sec.secret("bsre_client_secret", required=bsre, resolve=resolve),
        bsre_totp=sec.flag("bsre_totp", d.bsre_totp),
        bsre_timeout_seconds=sec.integer("bsre_timeout_seconds", d.bsre_timeout_seconds,
                                         minimum=1))


def _logins(sec: Section, key: str) -> dict[str, str]:
    """A ``[section.key]`` table of Redmine login -> non-empty text."""
    found: dict[str, str] = {}
    for login, value in sec.table(key).items():
        if isinstance(value, str) and value.strip():
            found[str(login)] = value.strip()
        else:
            sec.problems.append(f"{sec.file}: [{sec.name}.{key}] {login}: expected a "
                                f"non-empty string, got {value!r}")
    return found


SECURITY = ("starttls", "tls", "none")


def email_section(path: Path, sec: Section, resolve: bool) -> EmailSettings:
    """``[email]``: the SMTP server that mails receipts and documents to the OPD."""
    d = EmailSettings(host="", from_address="")
    security = sec.choice("security", d.security, SECURITY)
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    addresses = {key: sec.text(key, "") for key in ("from_address", "reply_to")
                 if key in sec.data or key == "from_address"}
    if "from_address" not in sec.data:
        sec.problems.append(f"{path}: [email] from_address: missing; expected the address "
                            "mail is sent from")
    for key, value in addresses.items():
        if value and email_problem(value) is not None:
            sec.problems.append(f"{path}: [email] {key}: {email_problem(value)}")
    from_name = sec.text("from_name", d.from_name)
    if any(c in from_name for c in "\r\n"):
        sec.problems.append(f"{path}: [email] from_name: must not contain a line break")
    username = sec.text("username", "") if "username" in sec.data else ""
    password = sec.secret("password", required=bool(username), resolve=resolve)
    if password is not None and not username:
        sec.problems.append(f"{path}: [email] username: missing; a password needs a username")
    if username and security == "none":
        sec.problems.append(f"{path}: [email] security: \"none\" would send the password "
                            "unencrypted; use starttls or tls with a username")
    ca_name = sec.text("ca_file", "") if "ca_file" in sec.data else ""
    ca_file = (path.parent / ca_name) if ca_name else None
    if ca_file is not None and not ca_file.is_file():
        sec.problems.append(f"{path}: [email] ca_file: {ca_file} is not a file")
    return EmailSettings(
        host=sec.text("host"), port=sec.integer("port", default_port, minimum=1),
        security=security, username=username, password=password,
        from_address=addresses.get("from_address", "").strip(), from_name=from_name,
        reply_to=addresses.get("reply_to", "").strip(),
        timeout_seconds=sec.integer("timeout_seconds", d.timeout_seconds, minimum=1),
        verify_tls=sec.flag("verify_tls", d.verify_tls), ca_file=ca_file)
