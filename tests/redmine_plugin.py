"""Helpers for the tests of the sop_connector Redmine plugin against a real Redmine."""

from __future__ import annotations

import re
from typing import Any

import requests


def signed_in(redmine: Any, login: str = "admin") -> requests.Session:
    """A browser-like session signed in through Redmine's own login form."""
    web = requests.Session()
    web.trust_env = False
    page = web.get(f"{redmine.url}/login", timeout=30).text
    token = re.search(r'name="authenticity_token" value="([^"]+)"', page)
    assert token is not None
    answer = web.post(f"{redmine.url}/login", timeout=30, allow_redirects=False, data={
        "username": login, "password": redmine.passwords[login],
        "authenticity_token": token[1]})
    assert answer.status_code == 302, answer.text[:500]
    return web


def form_token(page: str) -> str:
    """The CSRF token of a Redmine page (its ``csrf-token`` meta tag)."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert found is not None, page[:300]
    return found[1]


def configure_plugin(redmine: Any, *, service_url: str, secret: str,
                     projects: str = "permohonan-aplikasi", timeout: str = "2") -> None:
    """Write the plugin's settings as the admin page would (rails runner, no restart needed)."""
    done = redmine.run_rails(
        "Setting.plugin_sop_connector = {"
        f"'service_url' => {service_url!r}, 'secret' => {secret!r}, "
        f"'projects' => {projects!r}, 'timeout' => {timeout!r}" "}\n"
        "puts Setting.plugin_sop_connector.inspect\n")
    assert done.returncode == 0, done.stderr[-2000:]
