"""Issue 20 finding 3: a letter's text stays text on the case's Redmine page.

A hostile letter goes through the intake and the worker into the real Redmine; the issue's
page, as Redmine renders it to a signed-in user, must show the text literally: no image,
no macro output, no mention, no link and no heading made from the letter. Run for Textile
(Redmine 5.0's default), CommonMark and Markdown (Redcarpet): ``Setting.text_formatting``
switched with ``bin/rails runner``, and ``[redmine] text_formatting`` set to match.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from connector.store import cases
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine

DESKRIPSI = """h1. Judul palsu

!http://evil.example/pixel.png!
![](http://evil.example/md.png)
{{collapse(Klik)
rahasia
}}
{{include(Wiki)}}
Halo @kadis dan @admin, lihat #1 dan "tautan":http://evil.example/t
[tautan md](http://evil.example/m) http://evil.example/bare
<pre>keluar dari pagar</pre> !http://evil.example/after-pre.png!
</code> !http://evil.example/after-code.png!
~~~
# Judul markdown
~~~
<img src="http://evil.example/raw.png">"""
INLINE = "!http://evil.example/cell.png! {{collapse}} @kadis h1. x [a](http://evil.example/c)"


@pytest.fixture(params=["textile", "common_mark", "markdown"])
def formatting(request: pytest.FixtureRequest, redmine: Any) -> Iterator[str]:
    """Redmine's text formatting for this test; put back to textile afterwards."""
    _set_formatting(redmine, request.param)
    yield request.param
    _set_formatting(redmine, "textile")


def _set_formatting(redmine: Any, value: str) -> None:
    done = redmine.run_rails(f"Setting.text_formatting = {value!r}\nputs Setting.text_formatting")
    assert done.returncode == 0 and done.stdout.strip().endswith(value), done.stderr[-2000:]


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any,
             formatting: str) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    path = write_config(tmp_path, redmine_url=redmine.url)
    path.write_text(path.read_text().replace(
        'api_key_env = "SOP_TEST_REDMINE_KEY"',
        f'api_key_env = "SOP_TEST_REDMINE_KEY"\ntext_formatting = "{formatting}"'))
    built = bootstrap(load_settings(path))
    yield built
    built.engine.dispose()


def _signed_in(redmine: Any) -> requests.Session:
    """A browser-like session signed in to Redmine's own login form as the admin."""
    web = requests.Session()
    page = web.get(f"{redmine.url}/login", timeout=30).text
    token = re.search(r'name="authenticity_token" value="([^"]+)"', page)
    assert token is not None
    answer = web.post(f"{redmine.url}/login", timeout=30, allow_redirects=False, data={
        "username": "admin", "password": redmine.passwords["admin"],
        "authenticity_token": token[1]})
    assert answer.status_code == 302, answer.text[:500]
    return web


def _description_html(redmine: Any, issue_id: int) -> str:
    page = _signed_in(redmine).get(f"{redmine.url}/issues/{issue_id}", timeout=30).text
    start = page.index('<div class="description">')
    end = page.index('<div id="issue_tree"', start) if '<div id="issue_tree"' in page[start:] \
        else page.index("</div>\n</div>", start)
    return page[start:end]


def test_a_hostile_letter_stays_literal_on_the_case_page(services: Services, redmine: Any,
                                                         formatting: str) -> None:
    from webhooks import create_app

    driver = CaseDriver(services, redmine, create_app(services).test_client())
    nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
    letter = sample_letter(nomor, deskripsi=DESKRIPSI, perihal=INLINE, nama_aplikasi="SI `x` " +
                           INLINE[:40], kontak={"nama": "@kadis", "jabatan": "{{toc}}",
                                                "email": "siti@dinkes.sumbawakab.go.id",
                                                "telepon": "0371-21234"})
    answer = driver.client.post("/webhooks/intake", json=letter, headers=auth())
    assert answer.status_code == 202, answer.get_json()
    driver.drain()
    case = cases.find_case_by_key(services.engine, f"DINKES:{nomor.upper()}")
    assert case is not None and case.redmine_issue_id is not None
    found = _description_html(redmine, case.redmine_issue_id)
    assert "<img" not in found
    assert "evil.example" in found  # the text is there, as text
    assert 'href="http://evil.example' not in found and "href=\"/issues/1\"" not in found
    assert 'class="user' not in found  # no mention
    assert "collapsed-text" not in found and "Error executing" not in found
    assert 'class="toc' not in found
    assert not re.search(r"<h1|<h2[^>]*>[^<]*Judul", found)
    text = html.unescape(re.sub(r"<[^>]+>", "", found))
    for line in ("h1. Judul palsu", "!http://evil.example/pixel.png!", "{{include(Wiki)}}",
                 "Halo @kadis dan @admin, lihat #1", "# Judul markdown"):
        assert line in text
    assert "{{toc}}" in text and INLINE in text
