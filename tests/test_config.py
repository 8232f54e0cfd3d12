"""The configuration file: parsed once into frozen settings, every problem reported clearly."""

from __future__ import annotations

import copy
import dataclasses
import pprint
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli import main
from connector.config import Secret, Settings, default_config_path, load_settings
from connector.errors import ConfigError
from connector.sop.model import Role

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
SENTINEL = "SENTINEL-SECRET-123"
KNOWN_ROLES = ", ".join(sorted(r.value for r in Role))
KNOWN_SECTIONS = ("server, database, redmine, gitlab, local_git, roles, opd, calendar, sla, "
                  "dashboard, documents, webhooks, sop, signing, email")

BASE = """\
[redmine]
url = "http://redmine.test/"
api_key_env = "SOPTEST_REDMINE_KEY"

[roles]
kepala_dinas = ["kadis"]
kepala_bidang_ti = ["kabid"]
kepala_seksi_aplikasi = ["kasi"]
bidang_ti = ["bidangti"]

[webhooks]
shared_gateway = true
intake_token_env = "SOPTEST_INTAKE_TOKEN"
"""

MINI_SOP = """\
[sop]
nomor = "9/LAIN/2026"
nama = "Varian kantor lain"

[[steps]]
number = 1
title = "Surat masuk ke Bidang TI"
text = "Surat masuk"
role = "bidang_ti"
next = 2

[[steps]]
number = 2
title = "Kepala Dinas menyetujui"
text = "Kepala Dinas menyetujui"
role = "kepala_dinas"
time = { amount = 3, unit = "hari_kerja" }
terminal = true
"""


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, with the test's secrets set and no config named from outside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOP_CONNECTOR_CONFIG", raising=False)
    monkeypatch.setenv("SOPTEST_REDMINE_KEY", SENTINEL)
    monkeypatch.setenv("SOPTEST_INTAKE_TOKEN", "intake-" + SENTINEL)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, *, resolve_secrets: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, resolve_secrets=resolve_secrets)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_clean_failure(result: Result, problems: list[str]) -> None:
    """Exit status 2, one ``error:`` line per problem on stderr, nothing else, no traceback."""
    assert result.exit_code == 2, result.output
    assert type(result.exception) is SystemExit
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {p}" for p in problems]


# --- the documented example ------------------------------------------------------------------


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_REDMINE_API_KEY", "redmine-" + SENTINEL)
    monkeypatch.setenv("SOP_INTAKE_TOKEN", "intake-" + SENTINEL)
    s = load_settings(EXAMPLE)
    assert s.source == EXAMPLE
    assert s.server.port == 8080 and s.server.worker_threads == 1
    assert s.database.url == f"sqlite:///{EXAMPLE.parent / 'sop-connector.db'}"
    assert s.redmine.url == "http://127.0.0.1:3000"
    assert s.redmine.api_key is not None
    assert s.redmine.api_key.reveal() == "redmine-" + SENTINEL
    [token] = s.opd.agencies["DINKES"].credentials.tokens
    assert token.reveal() == "intake-" + SENTINEL
    assert not s.webhooks.shared_gateway and not s.webhooks.gateway
    assert not s.opd.agencies["BAPPEDA"].credentials
    assert s.webhooks.redmine_secret is None and s.gitlab is None and s.sop_file is None
    assert s.roles[Role.BIDANG_TI] == ("bidangti", "kabid")
    assert s.logins_for(Role.TIM_TEKNIS_OPD, "DINKES") == ("opd1",)
    assert s.logins_for(Role.TIM_TEKNIS_OPD, "BAPPEDA") == ("opd1",)  # falls back to [roles]
    assert s.opd.agencies["BAPPEDA"].name == "Badan Perencanaan Pembangunan Daerah"
    assert s.calendar.work_week == frozenset({1, 2, 3, 4, 5})
    assert s.calendar.timezone == "Asia/Makassar"


def test_every_commented_example_key_is_accepted(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The optional keys shown commented out in the example are real keys."""
    text = EXAMPLE.read_text("utf-8")
    skip = ("# api_key_file", "# file = ", "# ca_file = ")  # alternatives or needing a file
    uncommented = [
        line[2:] if re.match(r"# (\[gitlab(\.users)?\]|\[signing\]|\[email\]|[a-z_]+ = )", line)
        and not line.startswith(skip)
        else line for line in text.splitlines()]
    path = write(tmp_path / "full.toml", "\n".join(uncommented))
    for name in ("SOP_REDMINE_API_KEY", "SOP_INTAKE_TOKEN", "SOP_GITLAB_TOKEN",
                 "SOP_REDMINE_WEBHOOK_SECRET", "SOP_INTAKE_TOKEN_NEXT", "SOP_GATEWAY_TOKEN",
                 "SOP_INTAKE_TOKEN_BAPPEDA",
                 "SOP_GITLAB_WEBHOOK_TOKEN", "SOP_DASHBOARD_TOKEN", "SOP_SESSION_SECRET",
                 "SOP_SMTP_PASSWORD"):
        monkeypatch.setenv(name, f"value-of-{name}")
    for name in ("SOP_INTAKE_SIGNING_SECRET", "SOP_INTAKE_SIGNING_SECRET_NEXT"):
        monkeypatch.setenv(name, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    monkeypatch.setenv("SOP_BSRE_CLIENT_SECRET", "value-of-SOP_BSRE_CLIENT_SECRET")
    (tmp_path / "tte").mkdir()
    (tmp_path / "tte" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = load_settings(path)
    assert s.gitlab is not None and s.gitlab.group == "diskominfo/aplikasi"
    assert s.gitlab.username_for("kasi") == "ahmad.kasi" and s.gitlab.username_for("x") == "x"
    assert s.gitlab.token is not None
    assert s.gitlab.token.reveal() == "value-of-SOP_GITLAB_TOKEN"
    assert s.webhooks.gitlab_token is not None and s.webhooks.shared_gateway
    assert len(s.opd.agencies["DINKES"].credentials.signing_secrets) == 2
    assert s.signing is not None and s.signing.provider == "local"
    assert s.signing.trust_roots == tmp_path / "tte" / "ca.pem"
    assert s.signing.bsre_client_secret is not None
    assert s.email is not None and s.email.password is not None
    assert (s.email.host, s.email.port, s.email.security) == (
        "smtp.kominfo.sumbawakab.go.id", 587, "starttls")
    assert s.opd.agencies["DINKES"].email == "sekretariat@dinkes.sumbawakab.go.id"


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path / "config.toml", BASE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.redmine.url = "http://elsewhere"  # type: ignore[misc]
    assert s.redmine.url == "http://redmine.test"  # trailing slash removed


# --- one clear message per problem ----------------------------------------------------------

CASES = {
    "wrong type": ('[server]\nport = "8080"\n',
                   "[server] port: expected a whole number >= 1, got str '8080'"),
    "unknown role": ("",
                     f"[roles] kepala_desa: unknown role; known roles: {KNOWN_ROLES}"),
    "unknown key": ('[database]\nurll = "sqlite:///x.db"\n', "[database] urll: unknown key"),
    "unknown section": ('[gitlb]\nurl = "https://gitlab.test"\n',
                        f"[gitlb]: unknown section; known: {KNOWN_SECTIONS}"),
    "bad timezone": ('[calendar]\ntimezone = "Asia/Sumbawa"\n',
                     "[calendar] timezone: unknown time zone 'Asia/Sumbawa'; expected e.g. "
                     "Asia/Makassar (WITA) or Asia/Jakarta (WIB)"),
    "bad work_week": ("[calendar]\nwork_week = [0, 1, 8]\n",
                      "[calendar] work_week: expected a list of ISO weekdays 1 (Senin) to "
                      "7 (Minggu), got [0, 1, 8]"),
}


def _with(case: str) -> str:
    """BASE with one problem put in, appended or in its section."""
    extra, _ = CASES[case]
    text = BASE
    if case == "unknown role":
        text = text.replace('bidang_ti = ["bidangti"]\n',
                            'bidang_ti = ["bidangti"]\nkepala_desa = ["desa"]\n')
    return text + "\n" + extra


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_problem_has_its_own_message(tmp_path: Path, case: str) -> None:
    path = write(tmp_path / "config.toml", _with(case))
    assert problems_of(path) == [f"{path}: {CASES[case][1]}"]


def test_missing_secret_environment_variable(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPTEST_REDMINE_KEY")
    monkeypatch.setenv("SOPTEST_INTAKE_TOKEN", "   ")
    path = write(tmp_path / "config.toml", BASE)
    assert problems_of(path) == [
        f"{path}: [redmine] api_key_env: environment variable SOPTEST_REDMINE_KEY is not set "
        "or empty",
        f"{path}: [webhooks] intake_token_env: environment variable SOPTEST_INTAKE_TOKEN is not "
        "set or empty",
    ]
    # Commands that never talk to Redmine do not need the secrets, only where they come from.
    assert load_settings(path, resolve_secrets=False).redmine.api_key is None


def test_inline_secret_is_refused_and_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", BASE.replace(
        'api_key_env = "SOPTEST_REDMINE_KEY"', f'api_key = "{SENTINEL}"'))
    expected = [f"{path}: [redmine] api_key: secrets are never written in the file; use "
                "api_key_env (an environment variable) or api_key_file (a file path)"]
    assert problems_of(path) == expected
    assert problems_of(path, resolve_secrets=False) == expected


@pytest.mark.parametrize(("lines", "problem"), [
    ("", "[redmine] api_key_env: missing; expected api_key_env or api_key_file"),
    ('api_key_env = "SOPTEST_REDMINE_KEY"\napi_key_file = "key.txt"',
     "[redmine] api_key: give only one of api_key_env or api_key_file"),
    ("api_key_env = 42", "[redmine] api_key_env: expected the name of an environment variable "
                         "(a non-empty string), got a int"),
    ('api_key_file = ""', "[redmine] api_key_file: expected the name of a file path "
                          "(a non-empty string), got an empty string"),
])
@pytest.mark.parametrize("resolve", [True, False])
def test_where_a_secret_comes_from_is_checked(tmp_path: Path, lines: str, problem: str,
                                              resolve: bool) -> None:
    path = write(tmp_path / "config.toml",
                 BASE.replace('api_key_env = "SOPTEST_REDMINE_KEY"', lines))
    assert problems_of(path, resolve_secrets=resolve) == [f"{path}: {problem}"]


@pytest.mark.parametrize(("change", "problem"), [
    (('url = "http://redmine.test/"\n', ""), "[redmine] url: missing; expected a string"),
    (('url = "http://redmine.test/"', 'url = ""'),
     "[redmine] url: expected a non-empty string, got str ''"),
    (('url = "http://redmine.test/"', 'url = "http://r.test"\nverify_tls = "ya"'),
     "[redmine] verify_tls: expected true or false, got str 'ya'"),
    (('url = "http://redmine.test/"', 'url = "http://r.test"\ndone_statuses = "Closed"'),
     "[redmine] done_statuses: expected a list of non-empty strings, got str 'Closed'"),
    (('url = "http://redmine.test/"', 'url = "http://r.test"\ntext_formatting = "html"'),
     "[redmine] text_formatting: expected one of textile, markdown, common_mark, got 'html'"),
    (('kepala_dinas = ["kadis"]\n', ""),
     "[roles] kepala_dinas: missing; expected a list of Redmine logins for Kepala Dinas"),
    (('kepala_dinas = ["kadis"]', "kepala_dinas = []"),
     "[roles] kepala_dinas: empty; expected at least one Redmine login for Kepala Dinas"),
    (('kepala_dinas = ["kadis"]', 'kepala_dinas = "kadis"'),
     "[roles] kepala_dinas: expected a list of non-empty strings, got str 'kadis'"),
])
def test_more_problems_with_their_messages(tmp_path: Path, change: tuple[str, str],
                                           problem: str) -> None:
    old, new = change
    assert old in BASE
    path = write(tmp_path / "config.toml", BASE.replace(old, new))
    assert problems_of(path) == [f"{path}: {problem}"]


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    text = "webhooks = 1\n" + BASE.split("[webhooks]")[0]
    path = write(tmp_path / "config.toml", text)
    assert problems_of(path) == [f"{path}: webhooks: expected a [webhooks] table"]


@pytest.mark.parametrize(("extra", "problem"), [
    ("[calendar]\nextra_holidays = [2026-08-18, \"18 Agustus\"]\n",
     "[calendar] extra_holidays: expected a list of dates like 2026-08-17, got str '18 Agustus'"),
    ("[calendar]\nwork_week = []\n",
     "[calendar] work_week: expected a list of ISO weekdays 1 (Senin) to 7 (Minggu), got []"),
    ('[calendar]\nwork_week = ["Senin"]\n',
     "[calendar] work_week: expected a list of ISO weekdays 1 (Senin) to 7 (Minggu), "
     "got ['Senin']"),
    ("[opd.agencies.DINKES]\ntim_teknis = [\"opd1\"]\n",
     "[opd.agencies.DINKES] name: missing; expected a string"),
    ("[opd.agencies]\nDINKES = 1\n",
     "[opd.agencies] DINKES: expected a table [opd.agencies.DINKES] with name and tim_teknis"),
    ("[opd.agencies.DINKES]\nname = \"Dinkes\"\nteam = []\n",
     "[opd.agencies.DINKES] team: unknown key"),
    ('[gitlab]\nurl = "https://gitlab.test"\n',
     "[gitlab] token_env: missing; expected token_env or token_file"),
    ("[server]\nmax_body_bytes = 100\n",
     "[server] max_body_bytes: expected a whole number >= 1024, got int 100"),
    ("[server]\nport = true\n", "[server] port: expected a whole number >= 1, got bool True"),
])
def test_section_problems(tmp_path: Path, extra: str, problem: str) -> None:
    path = write(tmp_path / "config.toml", BASE + "\n" + extra)
    problems = problems_of(path)
    assert f"{path}: {problem}" in problems
    if "gitlab" not in extra:
        assert len(problems) == 1, problems


def test_gitlab_section_needs_url_token_and_group(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", BASE + '\n[gitlab]\ntoken_env = "SOPTEST_NOPE"\n')
    assert problems_of(path) == [
        f"{path}: [gitlab] url: missing; expected a string",
        f"{path}: [gitlab] token_env: environment variable SOPTEST_NOPE is not set or empty",
        f"{path}: [gitlab] group: missing; expected a string",
    ]


def test_several_problems_are_all_reported(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPTEST_REDMINE_KEY")
    text = BASE.replace('bidang_ti = ["bidangti"]\n',
                        'bidang_ti = ["bidangti"]\nkepala_desa = ["desa"]\n')
    text = text.replace('intake_token_env = "SOPTEST_INTAKE_TOKEN"', f'intake_token = "{SENTINEL}"')
    text += "\n" + "\n".join(CASES[c][0] for c in ("wrong type", "unknown key",
                                                     "unknown section", "bad timezone"))
    text += "\nwork_week = [0, 1, 8]\n"  # still in [calendar]
    path = write(tmp_path / "config.toml", text)
    problems = problems_of(path)
    expected = [CASES[c][1] for c in CASES] + [
        "[redmine] api_key_env: environment variable SOPTEST_REDMINE_KEY is not set or empty",
        "[webhooks] intake_token: secrets are never written in the file; use intake_token_env "
        "(an environment variable) or intake_token_file (a file path)",
    ]
    assert sorted(problems) == sorted(f"{path}: {p}" for p in expected)
    assert SENTINEL not in "\n".join(problems)


@pytest.mark.parametrize(("content", "problem"), [
    (b"[redmine\nurl = 1\n", "not valid TOML: "),
    (b"[redmine]\nurl = \"caf\xe9\"\n", "not UTF-8 text ("),
])
def test_unreadable_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    (message,) = problems_of(path)
    assert message.startswith(f"{path}: {problem}")


def test_missing_file_says_how_to_name_one(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.toml") == [
        f"{tmp_path / 'nope.toml'}: no such configuration file; pass --config PATH or set "
        "SOP_CONNECTOR_CONFIG (config.example.toml documents every key)"]


# --- through the command line ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_doctor_with_a_bad_config_exits_2_with_one_error_line_per_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.delenv("SOPTEST_REDMINE_KEY")
    path = write(tmp_path / "bad.toml", _with("bad timezone") + "\n[gitlb]\n")
    args = ["--config", str(path), "doctor"] if where == "before" else [
        "doctor", "--config", str(path)]
    assert_clean_failure(run(*args), [
        f"{path}: [gitlb]: unknown section; known: {KNOWN_SECTIONS}",
        f"{path}: [redmine] api_key_env: environment variable SOPTEST_REDMINE_KEY is not set "
        "or empty",
        f"{path}: {CASES['bad timezone'][1]}",
    ])


@pytest.mark.parametrize("command", [
    ["workdays", "--from", "2026-03-16", "--add", "1"],
    ["sop", "show"],
    ["redmine-setup"],
])
def test_commands_that_need_no_secrets_still_refuse_a_bad_config(
        tmp_path: Path, command: list[str]) -> None:
    path = write(tmp_path / "bad.toml", BASE.replace(
        'api_key_env = "SOPTEST_REDMINE_KEY"', f'api_key = "{SENTINEL}"') + CASES["wrong type"][0])
    result = run(*command, "--config", str(path))
    assert_clean_failure(result, [
        f"{path}: {CASES['wrong type'][1]}",
        f"{path}: [redmine] api_key: secrets are never written in the file; use api_key_env "
        "(an environment variable) or api_key_file (a file path)",
    ])
    assert SENTINEL not in result.output


@pytest.mark.parametrize("command", [
    ["workdays", "--from", "2026-03-16", "--add", "1"],
    ["sop", "show"],
    ["redmine-setup"],
])
def test_commands_that_need_no_secrets_run_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.delenv("SOPTEST_REDMINE_KEY")
    monkeypatch.delenv("SOPTEST_INTAKE_TOKEN")
    result = run(*command, "--config", str(write(tmp_path / "config.toml", BASE)))
    assert result.exit_code == 0, result.output
    assert result.stdout


def test_doctor_without_any_config_says_so(tmp_path: Path) -> None:
    assert_clean_failure(run("doctor"), [
        "config.toml: no such configuration file; pass --config PATH or set "
        "SOP_CONNECTOR_CONFIG (config.example.toml documents every key)"])


# --- secrets never show -----------------------------------------------------------------------


def test_secret_values_never_show_in_repr_or_str(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path / "config.toml", BASE))
    assert s.redmine.api_key is not None
    assert s.redmine.api_key.reveal() == SENTINEL
    for shown in (repr(s), str(s), repr(s.redmine), str(s.webhooks), repr(s.redmine.api_key),
                  str(s.redmine.api_key), f"{s.redmine.api_key}", f"{s.redmine.api_key!r}"):
        assert SENTINEL not in shown
    assert repr(s.redmine.api_key) == "Secret(from $SOPTEST_REDMINE_KEY)"
    assert repr(Secret(SENTINEL)) == "Secret(********)"


def test_secret_values_never_show_through_field_by_field_printers(tmp_path: Path) -> None:
    """Printers that walk dataclass fields (hypothesis's failure reports, ``asdict``, pprint)."""
    from hypothesis.vendor.pretty import pretty

    s = load_settings(write(tmp_path / "config.toml", BASE))
    for shown in (pretty(s), repr(dataclasses.asdict(s)), pprint.pformat(s),
                  pprint.pformat(dataclasses.asdict(s))):
        assert "Secret(from $SOPTEST_REDMINE_KEY)" in shown
        assert SENTINEL not in shown


def test_secret_is_immutable_and_compares_by_value() -> None:
    secret = Secret(SENTINEL, source="$X")
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        secret.source = "$Y"  # type: ignore[misc]
    assert secret == Secret(SENTINEL, source="$X")
    assert secret != Secret("other", source="$X")
    assert hash(secret) == hash(Secret(SENTINEL, source="$X"))
    assert copy.deepcopy(secret) == secret and copy.deepcopy(secret).reveal() == SENTINEL


def test_secret_values_never_show_in_error_messages(tmp_path: Path) -> None:
    """A secret written where it does not belong is reported by key, never echoed."""
    write(tmp_path / "key.txt", SENTINEL + "\n")
    text = (BASE.replace('api_key_env = "SOPTEST_REDMINE_KEY"', 'api_key_file = "key.txt"')
            .replace('intake_token_env = "SOPTEST_INTAKE_TOKEN"', f'intake_token = "{SENTINEL}"')
            + f'redmine_secret_env = ["{SENTINEL}"]\n'
            + f'gitlab_token_file = {{ value = "{SENTINEL}" }}\n'
            + f'apikey = "{SENTINEL}"\n'
            + f'[gitlab]\nurl = "https://gitlab.test"\ntoken = "{SENTINEL}"\ngroup = "g"\n')
    path = write(tmp_path / "config.toml", text)
    problems = problems_of(path)
    assert len(problems) == 5, problems
    assert SENTINEL not in "\n".join(problems)
    result = run("doctor", "--config", str(path))
    assert result.exit_code == 2
    assert SENTINEL not in result.output
    broken = write(tmp_path / "broken.toml", f'[redmine]\napi_key = "{SENTINEL}\n')
    (message,) = problems_of(broken)
    assert SENTINEL not in message


# --- where the file and its secrets are found ------------------------------------------------


def _calendar_config(path: Path, *holidays: str) -> Path:
    return write(path, BASE + f"\n[calendar]\nextra_holidays = [{', '.join(holidays)}]\n")


def test_precedence_option_then_environment_then_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday 2026-03-16 + 1 hari kerja is 03-17; each file adds one more local holiday."""
    args = ["workdays", "--from", "2026-03-16", "--add", "1"]
    assert run(*args).stdout == "2026-03-17\n"  # no file anywhere: built-in calendar
    _calendar_config(tmp_path / "config.toml", "2026-03-17")
    assert run(*args).stdout == "2026-03-25\n"  # ./config.toml (18-24 are national holidays)
    env_file = _calendar_config(tmp_path / "env" / "c.toml", "2026-03-17", "2026-03-25")
    monkeypatch.setenv("SOP_CONNECTOR_CONFIG", str(env_file))
    assert run(*args).stdout == "2026-03-26\n"  # $SOP_CONNECTOR_CONFIG beats ./config.toml
    option = _calendar_config(tmp_path / "opt" / "c.toml", "2026-03-17", "2026-03-25",
                              "2026-03-26")
    assert run(*args, "--config", str(option)).stdout == "2026-03-27\n"  # --config beats both
    assert run("--config", str(option), *args).stdout == "2026-03-27\n"


def test_default_config_path() -> None:
    assert default_config_path("a.toml") == Path("a.toml")
    assert default_config_path(None) == Path("config.toml")


def test_default_config_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_CONNECTOR_CONFIG", "/etc/sop/c.toml")
    assert default_config_path(None) == Path("/etc/sop/c.toml")
    assert default_config_path("a.toml") == Path("a.toml")


def test_environment_naming_a_missing_file_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "config.toml", BASE)  # must not be used instead
    monkeypatch.setenv("SOP_CONNECTOR_CONFIG", str(tmp_path / "gone.toml"))
    result = run("workdays", "--from", "2026-03-16", "--add", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'gone.toml'}: no such configuration file")


def test_secret_files_are_relative_to_the_config_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "etc"
    write(conf / "secrets" / "redmine_key", f"  {SENTINEL}\n")
    path = write(conf / "config.toml", BASE.replace(
        'api_key_env = "SOPTEST_REDMINE_KEY"', 'api_key_file = "secrets/redmine_key"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = load_settings(path)
    assert s.redmine.api_key is not None
    assert s.redmine.api_key.reveal() == SENTINEL
    assert s.redmine.api_key.source == str(conf / "secrets" / "redmine_key")
    assert SENTINEL not in repr(s)


@pytest.mark.parametrize(("content", "problem"), [
    (None, "cannot read secret file {file} (No such file or directory)"),
    ("\n  \n", "secret file {file} is empty"),
])
def test_unusable_secret_files(tmp_path: Path, content: str | None, problem: str) -> None:
    file = tmp_path / "secrets" / "key"
    if content is not None:
        write(file, content)
    path = write(tmp_path / "config.toml", BASE.replace(
        'api_key_env = "SOPTEST_REDMINE_KEY"', 'api_key_file = "secrets/key"'))
    assert problems_of(path) == [
        f"{path}: [redmine] api_key_file: {problem.format(file=file)}"]


# --- a custom SOP and the database URL ----------------------------------------------------------


def test_custom_sop_file_is_used(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    write(conf / "sop.toml", MINI_SOP)
    path = write(conf / "config.toml", BASE + '\n[sop]\nfile = "sop.toml"\n')
    s = load_settings(path)
    assert s.sop_file == conf / "sop.toml"
    result = run("sop", "show", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("SOP 9/LAIN/2026: Varian kantor lain\n")
    assert "Kepala Dinas menyetujui" in result.stdout and "3 hari kerja" in result.stdout


def test_broken_custom_sop_reports_its_step_problem(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    sop = write(conf / "sop.toml", MINI_SOP.replace('role = "kepala_dinas"', 'role = "lurah"'))
    path = write(conf / "config.toml", BASE + '\n[sop]\nfile = "sop.toml"\n')
    problems = problems_of(path)
    assert problems == [f"{sop}: step 2: unknown role 'lurah'; known roles: "
                        + ", ".join(r.value for r in Role)]
    assert_clean_failure(run("workdays", "--config", str(path), "--from", "2026-03-16",
                             "--add", "1"), problems)


def test_missing_custom_sop_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", BASE + '\n[sop]\nfile = "nope.toml"\n')
    assert problems_of(path) == [
        f"{tmp_path / 'nope.toml'}: cannot read the SOP file (No such file or directory)"]


def test_roles_are_checked_against_the_custom_sop(tmp_path: Path) -> None:
    write(tmp_path / "sop.toml", MINI_SOP)
    text = BASE.replace('kepala_dinas = ["kadis"]\n', "") + '\n[sop]\nfile = "sop.toml"\n'
    path = write(tmp_path / "config.toml", text)
    assert problems_of(path) == [
        f"{path}: [roles] kepala_dinas: missing; expected a list of Redmine logins for "
        "Kepala Dinas"]
    # The SOP needs no Kepala Seksi, so a config without one is fine with this SOP.
    text = BASE.replace('kepala_seksi_aplikasi = ["kasi"]\n', "") + '\n[sop]\nfile = "sop.toml"\n'
    assert Role.KEPALA_SEKSI_APLIKASI not in load_settings(
        write(tmp_path / "config.toml", text)).roles


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///data/store.db", "sqlite:///{conf}/data/store.db"),
    ("sqlite:///../store.db", "sqlite:///{parent}/store.db"),
    ("sqlite:////var/lib/sop/store.db", "sqlite:////var/lib/sop/store.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql+psycopg://sop@db.example/sop", "postgresql+psycopg://sop@db.example/sop"),
])
def test_database_url_relative_to_the_config_folder(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    url: str, expected: str) -> None:
    conf = tmp_path / "etc"
    path = write(conf / "config.toml", BASE + f'\n[database]\nurl = "{url}"\n')
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings(path).database.url == expected.format(
        conf=conf.resolve(), parent=tmp_path.resolve())


def test_default_database_sits_next_to_the_config(tmp_path: Path) -> None:
    path = write(tmp_path / "etc" / "config.toml", BASE)
    assert load_settings(path).database.url == (
        f"sqlite:///{(tmp_path / 'etc').resolve()}/sop-connector.db")


def test_calendar_exceptions_are_read_as_dates(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", BASE + '\n[calendar]\nextra_holidays = [2026-08-18, '
                 '"2026-08-19"]\nextra_workdays = [2026-03-21]\nwork_week = [1, 2, 3, 4, 5, 6]\n'
                 'timezone = "Asia/Jakarta"\n')
    cal = load_settings(path).calendar
    assert cal.extra_holidays == frozenset({date(2026, 8, 18), date(2026, 8, 19)})
    assert cal.extra_workdays == frozenset({date(2026, 3, 21)})
    assert cal.work_week == frozenset(range(1, 7))
    assert cal.timezone == "Asia/Jakarta"


def test_settings_type_is_the_public_one(tmp_path: Path) -> None:
    assert isinstance(load_settings(write(tmp_path / "config.toml", BASE)), Settings)


# --- [local_git]: the code host without GitLab -----------------------------------------------


def test_the_example_local_git_section_is_read(tmp_path: Path) -> None:
    """The commented [local_git] block of the example, uncommented alone, is valid."""
    block = EXAMPLE.read_text("utf-8").split("# [local_git]\n", 1)[1].split("\n\n", 1)[0]
    keys = "\n".join(line[2:] for line in block.splitlines() if re.match(r"# [a-z_]+ = ", line))
    assert keys.count(" = ") == 4
    local = load_settings(write(tmp_path / "config.toml",
                                BASE + "\n[local_git]\n" + keys + "\n")).local_git
    assert local is not None and local.root == Path("/var/lib/sop-connector/git")
    assert local.base_url == "https://git.diskominfo.example"  # no trailing slash
    assert (local.author_name, local.author_email) == ("sop-connector", "sop-connector@localhost")


def test_a_relative_local_git_root_is_taken_from_the_config_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "etc" / "config.toml", BASE + '\n[local_git]\nroot = "repos"\n'
                 'author_name = "Bot Diskominfo"\nauthor_email = "bot@sumbawakab.go.id"\n')
    monkeypatch.chdir(tmp_path)
    s = load_settings(path)
    assert s.local_git is not None and s.gitlab is None
    assert s.local_git.root == (tmp_path / "etc" / "repos").resolve()
    assert s.local_git.base_url == ""
    assert s.local_git.author_name == "Bot Diskominfo"
    assert load_settings(write(tmp_path / "plain.toml", BASE)).local_git is None


@pytest.mark.parametrize(("extra", "problem"), [
    ('[local_git]\nbase_url = "https://git.test"\n',
     "[local_git] root: missing; expected a string"),
    ("[local_git]\n", "[local_git] root: missing; expected a string"),
    ("[local_git]\nroot = 7\n", "[local_git] root: expected a non-empty string, got int 7"),
    ('[local_git]\nroot = "git"\nbase_url = "git.diskominfo.test"\n',
     "[local_git] base_url: expected an http:// or https:// address, got 'git.diskominfo.test'"),
    ('[local_git]\nroot = "git"\nauthor_email = "Bot <bot@x>"\n',
     "[local_git] author_email: must not contain <, > or a line break, got 'Bot <bot@x>'"),
    ('[local_git]\nroot = "git"\nauthor_name = ""\n',
     "[local_git] author_name: expected a non-empty string, got str ''"),
    ('[local_git]\nroot = "git"\nrot = "git"\n', "[local_git] rot: unknown key"),
    ('[local_git]\nroot = "config.toml"\n', "[local_git] root: {folder}/config.toml is not a "
                                             "folder"),
])
def test_local_git_problems(tmp_path: Path, extra: str, problem: str) -> None:
    path = write(tmp_path / "config.toml", BASE + "\n" + extra)
    folder = tmp_path.resolve()
    assert problems_of(path) == [f"{path}: {problem.format(folder=folder)}"]


def test_gitlab_and_local_git_together_are_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPTEST_GITLAB", "glpat-x")
    path = write(tmp_path / "config.toml", BASE + '\n[gitlab]\nurl = "https://gitlab.test"\n'
                 'token_env = "SOPTEST_GITLAB"\ngroup = "g"\n\n[local_git]\nroot = "git"\n')
    assert problems_of(path) == [f"{path}: [local_git]: a configuration uses one code host; "
                                 "remove either [gitlab] or [local_git]"]
