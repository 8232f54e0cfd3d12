"""The Konfigurasi page documents every key that config.example.toml mentions.

The example is read line by line rather than with tomllib, so that optional keys and sections
that are only shown commented out (``# key = value``, ``# [gitlab]``) count too. A key is
documented when docs/konfigurasi.md names it in backticks as ``section.key``. Tables whose
names are chosen by the office (an OPD's code, a Redmine login) are documented once under a
placeholder: ``opd.agencies.<KODE>.name``, ``gitlab.users.<login_redmine>``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
PAGE = ROOT / "docs" / "konfigurasi.md"

_SECTION = re.compile(r"^#?\s*\[([A-Za-z0-9_.\-]+)\]\s*$")
_KEY = re.compile(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\S")
# Tables named by the office: (prefix of the section, how the page writes the whole key).
_PLACEHOLDERS = (
    (re.compile(r"^opd\.agencies\.[^.]+$"), "opd.agencies.<KODE>.{key}"),
    (re.compile(r"^gitlab\.users$"), "gitlab.users.<login_redmine>"),
)


def mentioned_keys(text: str) -> list[str]:
    """Every ``section.key`` the example mentions, set or commented out, in file order.

    Comment lines before the first section are prose about the format, not keys.
    """
    section, found = "", []
    for line in text.splitlines():
        stripped = line.strip()
        header = _SECTION.match(stripped)
        if header:
            section = header.group(1)
            continue
        key = _KEY.match(stripped)
        if key and section:
            name = documented_name(section, key.group(1))
            if name not in found:
                found.append(name)
    return found


def documented_name(section: str, key: str) -> str:
    """The name under which the page documents ``key`` of ``section``."""
    for pattern, template in _PLACEHOLDERS:
        if pattern.match(section):
            return template.format(key=key)
    return f"{section}.{key}"


def missing_from(page: str, keys: list[str]) -> list[str]:
    """The keys that the page does not name in backticks."""
    named = set(re.findall(r"`([^`\s]+)`", page))
    return [key for key in keys if key not in named]


def test_every_example_key_is_on_the_konfigurasi_page() -> None:
    keys = mentioned_keys(EXAMPLE.read_text("utf-8"))
    missing = missing_from(PAGE.read_text("utf-8"), keys)
    assert not missing, (
        "docs/konfigurasi.md does not document these keys of config.example.toml (add a row "
        "naming each as `section.key`): " + ", ".join(missing))


def documented_section(section: str) -> str:
    """The heading name of ``section``: an OPD's table is documented once for all OPDs."""
    return "opd.agencies.<KODE>" if re.match(r"^opd\.agencies\.[^.]+$", section) else section


def test_every_example_section_has_a_heading() -> None:
    sections = {documented_section(m.group(1))
                for line in EXAMPLE.read_text("utf-8").splitlines()
                if (m := _SECTION.match(line.strip()))}
    headings = re.findall(r"^#+ .*$", PAGE.read_text("utf-8"), flags=re.MULTILINE)
    missing = [s for s in sorted(sections) if not any(f"`[{s}]`" in h for h in headings)]
    assert not missing, f"docs/konfigurasi.md has no heading for these sections: {missing}"


def test_commented_out_keys_and_sections_are_read() -> None:
    keys = mentioned_keys(EXAMPLE.read_text("utf-8"))
    for key in ("server.host", "redmine.api_key_file", "gitlab.url", "gitlab.verify_tls",
                "gitlab.users.<login_redmine>", "opd.agencies.<KODE>.tim_teknis",
                "dashboard.access_token_env", "webhooks.gitlab_token_env", "sop.file"):
        assert key in keys, key
    assert not [k for k in keys if k.startswith("redmine.api_key_env.")]


def test_a_missing_key_is_named() -> None:
    example = ('[server]\nhost = "x"\n# Redmine login = GitLab username\n'
               '# [gitlab]\n# token_env = "T"\n[opd.agencies.X]\nname = 1\n')
    keys = mentioned_keys(example)
    assert keys == ["server.host", "gitlab.token_env", "opd.agencies.<KODE>.name"]
    page = "| `server.host` | ... |\n| `opd.agencies.<KODE>.name` |"
    assert missing_from(page, keys) == ["gitlab.token_env"]


def test_every_local_link_and_picture_of_the_docs_exists() -> None:
    broken = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text("utf-8")):
            path = target.split("#", 1)[0]
            if path and "://" not in path and not (page.parent / path).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, f"links to missing files in docs/: {broken}"
