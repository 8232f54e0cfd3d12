"""Shared fixtures: settings on a temporary store, services with a fake tracker, the app."""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, text

from connector.bootstrap import bootstrap
from connector.config import Settings, load_settings
from connector.services import Services
from connector.store.db import make_engine
from connector.store.migrate import create_all, store_metadata
from tests.fakes import FakeTracker

INTAKE_TOKEN = "intake-token-for-tests-0123456789"
CONFIG = """
[server]
public_url = "http://sop.test"
max_body_bytes = 2000000
max_attachment_bytes = 100000

[database]
url = "sqlite:///{db}"

[redmine]
url = "{redmine_url}"
api_key_env = "SOP_TEST_REDMINE_KEY"

[roles]
kepala_dinas = ["kadis"]
kepala_bidang_ti = ["kabid"]
kepala_seksi_aplikasi = ["kasi"]
bidang_ti = ["bidangti"]
tim_pengembang = ["dev1", "dev2"]
tim_teknis_opd = ["opd1"]

[opd.agencies.DINKES]
name = "Dinas Kesehatan"
tim_teknis = ["opd1"]
intake_token_env = "SOP_TEST_INTAKE_TOKEN"
{dinkes}
[opd.agencies.BAPPEDA]
name = "Badan Perencanaan Pembangunan Daerah"
{bappeda}
[webhooks]
"""


def write_config(
    tmp_path: Path, *, redmine_url: str = "http://redmine.test", extra: str = "",
    dinkes: str = "", bappeda: str = "",
) -> Path:
    """The test configuration; ``extra`` goes in ``[webhooks]``, ``dinkes``/``bappeda`` in
    those OPDs' tables (their intake credentials)."""
    path = tmp_path / "config.toml"
    text = CONFIG.format(db=tmp_path / "store.db", redmine_url=redmine_url, dinkes=dinkes,
                         bappeda=bappeda)
    path.write_text(text + extra)
    return path


def sample_letter(nomor: str = "027/145/DINKES/2026", **changes: Any) -> dict[str, Any]:
    letter: dict[str, Any] = {
        "nomor_surat": nomor,
        "tanggal_surat": "2026-11-20",
        "opd": "DINKES",
        "perihal": "Permohonan Pembuatan Aplikasi Sistem Informasi Puskesmas",
        "nama_aplikasi": "SI Puskesmas",
        "deskripsi": "Aplikasi pencatatan kunjungan pasien di 26 puskesmas.",
        "kontak": {
            "nama": "dr. Siti Aminah",
            "jabatan": "Kepala Seksi Data",
            "email": "siti@dinkes.sumbawakab.go.id",
            "telepon": "0371-21234",
        },
        "lampiran": [
            {
                "nama_file": "surat-permohonan.pdf",
                "content_type": "application/pdf",
                "isi_base64": base64.b64encode(b"%PDF-1.4 surat").decode(),
            }
        ],
    }
    letter.update(changes)
    return letter


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "redmine-key-for-tests")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)


@pytest.fixture
def settings(tmp_path: Path, env: None) -> Settings:
    return load_settings(write_config(tmp_path))


@pytest.fixture
def fake_tracker() -> FakeTracker:
    return FakeTracker()


FROZEN = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # Senin 16 Maret 2026, 09:00 WITA


@pytest.fixture
def services(settings: Settings, fake_tracker: FakeTracker) -> Iterator[Services]:
    built = bootstrap(settings, tracker=fake_tracker, clock=lambda: FROZEN)
    yield built
    built.engine.dispose()


@pytest.fixture
def client(services: Services) -> Any:
    from webhooks import create_app

    return create_app(services).test_client()


def auth(token: str = INTAKE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_ADDRESSES = itertools.count(1)


def another_client() -> dict[str, str]:
    """A WSGI environ of a client address not used before in this run (for ``environ_base``).

    Tests that send many wrong credentials on purpose, to test something else, come from
    fresh addresses so that the throttle (429 after repeated failures) stays out of the way.
    """
    n = next(_ADDRESSES)
    return {"REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


@pytest.fixture(scope="session")
def redmine() -> Iterator[Any]:
    """A real Redmine (Debian packages) with the set-up script applied, for the whole run."""
    from tests.redmine_server import cannot_start_reason, start_redmine_server

    reason = cannot_start_reason()
    if reason is not None:
        pytest.fail(f"the real Redmine is required and cannot start: {reason}")
    server = start_redmine_server()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def plugin_redmine() -> Iterator[Any]:
    """A real Redmine run from a private root with the sop_connector plugin installed."""
    from tests.redmine_server import cannot_start_reason, start_redmine_server

    reason = cannot_start_reason()
    if reason is not None:
        pytest.fail(f"the real Redmine is required and cannot start: {reason}")
    server = start_redmine_server(plugin=True)
    yield server
    server.destroy()


@pytest.fixture
def redmine_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Settings:
    """Settings pointing at the real Redmine with its admin key."""
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    return load_settings(write_config(tmp_path, redmine_url=redmine.url))


POSTGRES_URL = os.environ.get("SOP_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_store_url() -> Iterator[str]:
    """This test process's own database on the test PostgreSQL.

    Under pytest-xdist every worker is a process of its own, so each gets a database of its own
    and the workers never empty each other's tables.
    """
    from tests.postgres_server import fresh_database

    assert POSTGRES_URL is not None
    with fresh_database(POSTGRES_URL, "store") as url:
        yield url


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not POSTGRES_URL, reason="SOP_TEST_POSTGRES_URL not set")),
])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's database: a file SQLite, and the test PostgreSQL when one is given."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_store_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty store on ``db_url`` (the PostgreSQL one is emptied before each test)."""
    built = make_engine(db_url)
    store_metadata().drop_all(built)  # every table the migrations make, and their history,
    with built.begin() as conn:  # so that create_all migrates afresh
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    create_all(built)
    yield built
    built.dispose()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """GitLab (or any HTTP peer) under ``responses``; every registered call must be made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
