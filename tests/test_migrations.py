"""Alembic migrations of the store: the schema they make, adoption, concurrent starts, db copy."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)

from connector.cli import main
from connector.store.db import make_engine
from connector.store.migrate import (
    BASELINE,
    MigrationError,
    alembic_config,
    baseline_schema,
    create_all,
    current_revision,
    head_revision,
    store_metadata,
)
from connector.store.schema import jobs
from tests.conftest import write_config
from tests.postgres_server import fresh_database, postgres_server

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def _diffs(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def _wipe(engine: Engine) -> None:
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)


def test_the_migrations_make_exactly_the_tables_of_the_code(engine: Engine) -> None:
    assert _revision(engine) == head_revision()
    assert _diffs(engine, store_metadata()) == []
    changed = MetaData()
    for table in store_metadata().sorted_tables:
        table.to_metadata(changed)
    changed.tables["jobs"].append_column(Column("priority", String(8)))
    assert [diff[0] for diff in _diffs(engine, changed)] == ["add_column"]  # it can fail


def test_create_all_again_changes_nothing_and_keeps_rows(engine: Engine) -> None:
    _insert_job(engine)
    create_all(engine)
    assert _revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 1


def test_downgrade_to_nothing_then_upgrade_again(engine: Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    create_all(engine)
    assert _diffs(engine, store_metadata()) == []


def test_a_store_made_before_migrations_is_adopted_with_its_rows(engine: Engine) -> None:
    _wipe(engine)
    # a store created before document numbers and GitLab progress existed: revision 0001's
    # tables without those two (the indexes of later revisions did not exist either)
    older = MetaData()
    for table in baseline_schema().sorted_tables:
        if table.name not in ("document_numbers", "gitlab_progress"):
            table.to_metadata(older)
    older.create_all(engine)
    _insert_job(engine)
    create_all(engine)
    assert _revision(engine) == head_revision()
    assert _diffs(engine, store_metadata()) == []
    with engine.connect() as conn:
        assert conn.execute(select(jobs.c.kind)).scalars().all() == ["adopted"]


def test_a_store_that_differs_from_the_first_revision_is_refused(engine: Engine) -> None:
    _wipe(engine)
    odd = MetaData()
    for table in baseline_schema().sorted_tables:
        if table.name != "locks":
            table.to_metadata(odd)
    Table("locks", odd, Column("name", String(255), primary_key=True))  # no owner, no until
    odd.create_all(engine)
    with pytest.raises(MigrationError, match=f"differs from revision {BASELINE}"):
        create_all(engine)
    assert _revision(engine) is None
    assert "alembic_version" not in inspect(engine).get_table_names()


def test_a_store_migrated_by_a_newer_version_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(MigrationError, match="revision 9999, which this sop-connector"):
        create_all(engine)


def _start_store(url: str, barrier: Any) -> None:
    engine = make_engine(url)
    barrier.wait()
    create_all(engine)
    engine.dispose()


def test_processes_starting_together_migrate_once(engine: Engine, db_url: str) -> None:
    _wipe(engine)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_start_store, args=(db_url, barrier)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (head_revision(),)]
    assert _diffs(engine, store_metadata()) == []


def test_the_alembic_command_line_uses_the_same_scripts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    ini = Path(alembic_config().config_file_name or "")
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"url={url}",
                           "upgrade", "head"], capture_output=True, text=True, check=False,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    engine = make_engine(url)
    assert _revision(engine) == head_revision()
    assert _diffs(engine, store_metadata()) == []
    engine.dispose()


def test_db_current_and_db_upgrade(tmp_path: Path, env: None) -> None:
    config = str(write_config(tmp_path))
    runner = CliRunner()
    behind = runner.invoke(main, ["db", "current", "--config", config])
    assert behind.exit_code == 1
    assert "revisi (belum ada)" in behind.output
    upgraded = runner.invoke(main, ["db", "upgrade", "--config", config])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"revisi {head_revision()}" in upgraded.output
    current = runner.invoke(main, ["db", "current", "--config", config])
    assert current.exit_code == 0
    assert f"revisi {head_revision()}, terbaru {head_revision()}" in current.output


# --- db copy: SQLite to a real PostgreSQL ----------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


ROWS: dict[str, list[dict[str, Any]]] = {
    "inbox": [{"id": 7, "source": "intake", "delivery_key": "d-7", "received_at": T0,
               "headers": {"X-Id": "7"}, "body": b"\x00\xffsurat"}],
    "cases": [{"id": n, "case_key": f"DINKES/{n}", "opd": "DINKES", "nomor_surat": f"027/{n}",
               "nama_aplikasi": "SI Puskesmas", "letter": {"perihal": "Permohonan", "n": n},
               "status": "open", "current_step": 3, "redmine_issue_id": 100 + n,
               "created_at": T0, "updated_at": T0} for n in (1, 5)],
    "jobs": [{"id": 40, "kind": "open_case", "payload": {"case_id": 5}, "dedupe_key": "k-40",
              "status": "done", "attempts": 1, "max_attempts": 20, "run_after": T0,
              "lease_owner": None, "lease_until": None, "last_error": None, "created_at": T0,
              "updated_at": T0, "inbox_id": 7}],
    "case_steps": [{"case_id": 5, "step": 3, "redmine_issue_id": 106, "state": "active",
                    "started_on": date(2026, 3, 16), "due_on": date(2026, 3, 18),
                    "completed_on": None}],
    "attachments": [{"id": 3 + n, "case_id": 5, "filename": f"lampiran-{n}.pdf",
                     "content_type": "application/pdf", "content": b"%PDF-1.4 " + bytes([n]),
                     "sha256": "ab" * 32, "redmine_token": None,
                     "redmine_attachment_id": 9 + n} for n in range(12)],  # batches of 10
    "audit": [{"id": 11, "case_id": 5, "at": T0, "actor": "kasi", "action": "step",
               "step_from": 2, "step_to": 3, "journal_id": 55, "detail": None},
              {"id": 12, "case_id": None, "at": T0, "actor": "sop-connector",
               "action": "note", "step_from": None, "step_to": None, "journal_id": None,
               "detail": {"lines": ["satu", "dua"]}}],
    "processed_changes": [{"change_key": "journal:55", "processed_at": T0}],
    "cursors": [{"name": "poll", "value": "2026-03-16T01:00:00Z", "updated_at": T0}],
    "locks": [{"name": "case:5", "owner": "w1", "until": T0}],
    "case_projects": [{"case_id": 5, "project_id": 77, "path": "aplikasi/si-puskesmas",
                       "web_url": "https://git.example/aplikasi/si-puskesmas",
                       "wiki_url": "https://git.example/aplikasi/si-puskesmas/-/wikis"}],
    "document_numbers": [{"id": 2, "kind": "berita_acara", "year": 2026, "seq": 1,
                          "case_id": 5, "number": "000.1/1/DISKOMINFO/2026",
                          "issued_at": T0}],
    "gitlab_progress": [{"id": 4, "case_id": 5, "kind": "push", "pending_lines": ["a", "b"],
                         "pending_count": 2, "pending_since": T0, "last_note_at": None,
                         "note_seq": 1, "outgoing_note": None}],
    "issued_documents": [{"token": "tok-1", "kind": "berita_acara", "nomor": "000.1/1/2026",
                          "tanggal": date(2026, 3, 16), "case_key": "DINKES/5",
                          "parties": [{"peran": "PIHAK PERTAMA", "nama": "A"}],
                          "slots": [{"slot": "pihak_pertama", "peran": "PIHAK PERTAMA",
                                     "nama": "A", "page": 0, "box": [1.0, 2.0, 3.0, 4.0]}],
                          "sha256": "cd" * 32, "size": 9, "pdf": b"%PDF-1.7\x00",
                          "issued_at": T0}],
    "document_signatures": [{"token": "tok-1", "seq": 1, "slot": "pihak_pertama",
                             "nama": "A", "signed_at": T0, "sha256": "ef" * 32}],
    "case_claims": [{"change_key": "journal:77", "case_id": 5, "claimed_at": T0}],
    "mail_outbox": [{"id": 6, "mail_key": "tanda-terima-DINKES/5|siti@dinkes.example",
                     "case_id": 5, "kind": "tanda_terima", "document": "tanda-terima-DINKES/5",
                     "recipient": "siti@dinkes.example", "recipient_name": "Siti",
                     "message_id": "<sop-1@kominfo.example>", "state": "sent", "resends": 0,
                     "last_error": None, "created_at": T0, "attempted_at": T0, "sent_at": T0}],
}


def _table_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    found = {}
    with engine.connect() as conn:
        for table in store_metadata().sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            found[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return found


def test_db_copy_moves_every_row_into_an_empty_postgresql(
    tmp_path: Path, env: None, postgres_url: str
) -> None:
    config = write_config(tmp_path)
    source = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_all(source)
    assert set(ROWS) == set(store_metadata().tables)  # every table has rows to copy
    with source.begin() as conn:
        for table in store_metadata().sorted_tables:
            conn.execute(insert(table), ROWS[table.name])
    runner = CliRunner()
    with fresh_database(postgres_url, "copy") as target_url:
        copied = runner.invoke(main, ["db", "copy", "--config", str(config), "--to", target_url])
        assert copied.exit_code == 0, copied.output
        assert "selesai: 29 baris disalin" in copied.output
        target = make_engine(target_url)
        assert _table_rows(target) == _table_rows(source)
        assert _revision(target) == head_revision()
        _insert_job(target)  # the sequence continues after the copied ids
        with target.connect() as conn:
            assert conn.execute(select(func.max(jobs.c.id))).scalar_one() == 41
        again = runner.invoke(main, ["db", "copy", "--config", str(config), "--to", target_url])
        assert again.exit_code == 2
        assert "not empty (rows in: " in again.output
        with target.connect() as conn:
            assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 2
        target.dispose()
    source.dispose()


def test_db_copy_stores_nothing_when_postgresql_refuses_a_row(
    tmp_path: Path, env: None, postgres_url: str
) -> None:
    config = write_config(tmp_path)
    source = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_all(source)
    with source.begin() as conn:
        for table in store_metadata().sorted_tables:
            conn.execute(insert(table), ROWS[table.name])
    with source.begin() as conn:  # SQLite ignores VARCHAR lengths; PostgreSQL does not
        conn.execute(jobs.update().values(kind="x" * 65))
    with fresh_database(postgres_url, "copy") as target_url:
        failed = CliRunner().invoke(main, ["db", "copy", "--config", str(config),
                                           "--to", target_url])
        assert failed.exit_code == 2
        assert "nothing was copied, the target is unchanged: error in table jobs" in failed.output
        target = make_engine(target_url)
        assert all(rows == [] for rows in _table_rows(target).values())
        target.dispose()
    source.dispose()


def _insert_job(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(jobs).values(
            kind="adopted", payload={}, status="pending", attempts=0, max_attempts=20,
            run_after=T0, created_at=T0, updated_at=T0))
