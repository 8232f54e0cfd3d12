"""The dashboard in a real browser: Debian's headless Chromium against a real WSGI server.

Chromium is signed in by the test's own ``/test-sign-in?next=...`` (the real sign-in form,
POSTed with its CSRF token, whose session cookie it hands to Chromium with the redirect:
the token is never accepted in a URL), at a phone's width (412 x 915 CSS pixels). Its DOM
must show the cases, the development bars and the timeline chart; the screenshots are kept
under pytest's tmp dir and copied to /tmp/sop-dashboard-preview/ for a person to look at.
Chromium is required (``apt-get install chromium``, in scripts/install): no skip.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
from flask import Flask
from werkzeug.serving import make_server

from connector.services import Services
from tests.dashboard_forms import sign_in_with_token
from tests.test_dashboard import TOKEN, dashboard_services, make_app
from tests.test_reporting import build_bappeda, build_puskesmas, build_refused

PREVIEW = Path("/tmp/sop-dashboard-preview")
PHONE = "412,915"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
         "--lang=id")
pytestmark = pytest.mark.slow


@pytest.fixture
def base_url(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app with three cases, served by werkzeug on 127.0.0.1 from a thread."""
    services: Services = dashboard_services(tmp_path, monkeypatch)
    for build in (build_puskesmas, build_bappeda, build_refused):
        build(services.engine)
    server = make_server("127.0.0.1", 0, _with_test_sign_in(make_app(services)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        services.engine.dispose()


def _with_test_sign_in(app: Flask) -> Any:
    """``app`` plus ``GET /test-sign-in?next=``: the token sign-in form, done for Chromium."""
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/test-sign-in":
            return app(environ, start_response)
        target = parse_qs(environ.get("QUERY_STRING", "")).get("next", ["/dashboard"])[0]
        client = app.test_client()
        assert sign_in_with_token(client, TOKEN).status_code == 302
        cookie = client.get_cookie("sop_dashboard")
        assert cookie is not None
        start_response("302 Found", [("Location", target), (
            "Set-Cookie", f"sop_dashboard={cookie.value}; HttpOnly; Path=/; SameSite=Lax")])
        return [b""]
    return wsgi


def chromium(tmp_path: Path, url: str, *args: str, size: str = PHONE) -> str:
    """Run headless Chromium on ``url`` (signing in first); return what it printed."""
    binary = shutil.which("chromium")
    assert binary is not None, "Chromium is required: apt-get install chromium"
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", *args, url],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def signed_in(base_url: str, path: str) -> str:
    return f"{base_url}/test-sign-in?next={quote(path)}"


def screenshot(tmp_path: Path, base_url: str, path: str, name: str,
               size: str = PHONE) -> Path:
    png = tmp_path / name
    chromium(tmp_path, signed_in(base_url, path), f"--screenshot={png}", size=size)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert (width, height) == tuple(int(n) for n in size.split(","))
    PREVIEW.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, PREVIEW / name)
    return png


def test_the_list_renders_on_a_phone(tmp_path: Path, base_url: str) -> None:
    dom = chromium(tmp_path, signed_in(base_url, "/dashboard"), "--dump-dom")
    assert "<h1>Kasus berjalan</h1>" in dom
    assert re.findall(r'data-case-id="(\d+)"', dom) == ["2", "1"]
    assert '<li class="case overdue" data-case-id="2">' in dom
    assert "terlambat 19 hari kerja" in dom and "SI Puskesmas" in dom
    assert dom.count('<svg class="bar"') == 2
    assert re.search(r'class="bar-used" x="0" y="0" width="80.0"', dom)
    assert "masuk sebagai <strong>token akses</strong>" in dom
    screenshot(tmp_path, base_url, "/dashboard", "dashboard.png")
    screenshot(tmp_path, base_url, "/dashboard", "dashboard-full.png", size="412,1400")
    screenshot(tmp_path, base_url, "/dashboard?status=semua", "dashboard-desktop.png",
               size="1280,900")


def test_the_case_page_draws_its_timeline(tmp_path: Path, base_url: str) -> None:
    dom = chromium(tmp_path, signed_in(base_url, "/dashboard/cases/1"), "--dump-dom")
    assert "<h1>SI Puskesmas</h1>" in dom
    assert '<svg class="chart gantt"' in dom and dom.count('class="gantt-row"') == 16
    assert re.search(r'<g class="gantt-row" data-step="12" data-rounds="2">', dom)
    assert dom.count('<svg class="bar"') == 1
    screenshot(tmp_path, base_url, "/dashboard/cases/1", "case.png")
    screenshot(tmp_path, base_url, "/dashboard/cases/1", "case-full.png", size="412,2600")
    screenshot(tmp_path, base_url, "/dashboard/cases/1", "case-desktop.png", size="1280,1400")


def test_the_recap_and_the_sign_in_page(tmp_path: Path, base_url: str) -> None:
    dom = chromium(tmp_path, signed_in(base_url, "/dashboard/recap?month=2026-10"),
                   "--dump-dom")
    assert "<h1>Rekap Oktober 2026</h1>" in dom and dom.count('class="recap-row"') == 17
    screenshot(tmp_path, base_url, "/dashboard/recap?month=2026-10", "recap.png",
               size="412,1800")
    anonymous = chromium(tmp_path, f"{base_url}/dashboard", "--dump-dom")
    assert "<h1>Masuk ke dasbor</h1>" in anonymous and "SI Puskesmas" not in anonymous
    png = tmp_path / "sign-in.png"
    chromium(tmp_path, f"{base_url}/dashboard", f"--screenshot={png}")
    shutil.copy(png, PREVIEW / "sign-in.png")
