"""Document numbers: one per (kind, case), never two documents with the same number."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from connector.config.documents import NumberPatterns, pattern_problems
from connector.documents.numbering import (
    NumberingError,
    document_numbers,
    existing_number,
    issue_number,
)
from connector.store.db import make_engine
from connector.store.schema import cases

BA = "000.1.2/{seq:03d}/DKIST/{year}"
SURAT = "000.1.2/{seq:03d}/DKIST/{month_roman}/{year}"
NOW = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
CASES = 40


def add_cases(engine: Engine, count: int) -> list[int]:
    rows = [{"case_key": f"DINKES:{n:03d}/DINKES/2026", "opd": "DINKES",
             "nomor_surat": f"{n:03d}/DINKES/2026", "nama_aplikasi": f"Aplikasi {n}",
             "letter": {}, "status": "open", "created_at": NOW, "updated_at": NOW}
            for n in range(1, count + 1)]
    with engine.begin() as conn:
        conn.execute(insert(cases), rows)
        return list(conn.execute(select(cases.c.id).order_by(cases.c.id)).scalars())


@pytest.fixture
def case_ids(engine: Engine) -> list[int]:
    return add_cases(engine, CASES)


def issued(engine: Engine) -> list[tuple[str, int, int, int, str]]:
    t = document_numbers.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(t.kind, t.year, t.seq, t.case_id, t.number).order_by(t.kind, t.year, t.seq))]


def test_numbers_follow_the_sequence_of_their_kind_and_year(engine: Engine,
                                                            case_ids: list[int]) -> None:
    a, b, c = case_ids[:3]
    assert issue_number(engine, "berita_acara", 2026, a, BA) == "000.1.2/001/DKIST/2026"
    assert issue_number(engine, "berita_acara", 2026, b, BA) == "000.1.2/002/DKIST/2026"
    assert issue_number(engine, "surat", 2026, a, SURAT, month=11) == "000.1.2/001/DKIST/XI/2026"
    assert issue_number(engine, "berita_acara", 2027, c, BA) == "000.1.2/001/DKIST/2027"
    assert [row[:3] for row in issued(engine)] == [
        ("berita_acara", 2026, 1), ("berita_acara", 2026, 2), ("berita_acara", 2027, 1),
        ("surat", 2026, 1)]


def test_asking_again_for_the_same_case_returns_the_same_number(db_url: str, engine: Engine,
                                                                case_ids: list[int]) -> None:
    first = issue_number(engine, "berita_acara", 2026, case_ids[0], BA)
    assert issue_number(engine, "berita_acara", 2026, case_ids[0], BA) == first
    # A retry after a crash: a new process, a new engine, even a new year or month.
    engine.dispose()
    again = make_engine(db_url)
    assert issue_number(again, "berita_acara", 2027, case_ids[0], BA) == first
    with again.connect() as conn:
        assert existing_number(conn, "berita_acara", case_ids[0]) == first
    again.dispose()
    assert len(issued(engine)) == 1


def test_a_pattern_with_a_month_needs_the_month(engine: Engine, case_ids: list[int]) -> None:
    with pytest.raises(NumberingError, match="month"):
        issue_number(engine, "surat", 2026, case_ids[0], SURAT)
    assert issued(engine) == []


@pytest.mark.parametrize("pattern", ["000/{seq}", "{year}/x", "{seq}/{yaer}", "{seq}/{year",
                                     "{}/{seq}/{year}"])
def test_a_bad_pattern_issues_nothing(engine: Engine, case_ids: list[int], pattern: str) -> None:
    with pytest.raises(NumberingError):
        issue_number(engine, "berita_acara", 2026, case_ids[0], pattern)
    assert issued(engine) == []


def test_two_kinds_whose_numbers_would_clash_are_stopped(engine: Engine,
                                                         case_ids: list[int]) -> None:
    issue_number(engine, "laporan", 2026, case_ids[0], BA)
    with pytest.raises(NumberingError, match="already issued"):
        issue_number(engine, "berita_acara", 2026, case_ids[1], BA)
    assert len(issued(engine)) == 1


def test_settings_refuse_bad_and_shared_patterns() -> None:
    assert pattern_problems("x", BA) == []
    assert pattern_problems("x", SURAT) == []
    assert any("{seq}" in p for p in pattern_problems("x", "000/{year}"))
    assert any("{year}" in p for p in pattern_problems("x", "000/{seq}"))
    unknown = pattern_problems("x", "{nomor}{seq}{year}")
    assert any("unknown placeholder {nomor}" in p for p in unknown)
    assert any("not a valid pattern" in p for p in pattern_problems("x", "{seq}/{year"))
    assert any("cannot be formatted" in p for p in pattern_problems("x", "{seq}/{year:s}"))
    NumberPatterns()  # the defaults are valid and distinct (checked in DocumentSettings)


def check_all_distinct_and_gapless(engine: Engine, kind: str, count: int) -> dict[int, str]:
    rows = [r for r in issued(engine) if r[0] == kind]
    assert [r[2] for r in rows] == list(range(1, count + 1))
    assert len({r[4] for r in rows}) == count
    assert len({r[3] for r in rows}) == count
    return {r[3]: r[4] for r in rows}


def test_threads_racing_never_share_a_number(engine: Engine, case_ids: list[int]) -> None:
    race_threads(engine, case_ids)


def race_threads(engine: Engine, case_ids: list[int]) -> None:
    """Eight threads ask for the numbers of every case, each in its own order."""
    results: list[dict[int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        order = case_ids[:]
        random.Random(seed).shuffle(order)
        start.wait()
        try:
            results.append({c: issue_number(engine, "berita_acara", 2026, c, BA) for c in order})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = check_all_distinct_and_gapless(engine, "berita_acara", CASES)
    assert all(result == stored for result in results)


WORKER = """
import json, sys, time
from pathlib import Path
from connector.documents.numbering import issue_number
from connector.store.db import make_engine
url, go, order = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
engine = make_engine(url)
while not go.exists():
    time.sleep(0.005)
print(json.dumps({c: issue_number(engine, "berita_acara", 2026, c, sys.argv[4]) for c in order}))
"""


@pytest.mark.slow
def test_two_processes_racing_never_share_a_number(tmp_path: Path, db_url: str, engine: Engine,
                                                   case_ids: list[int]) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    orders = [case_ids, case_ids[::-1]]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, str(go), json.dumps(o), BA],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for o in orders]
    time.sleep(0.5)  # both processes import and wait for the signal
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    seen = [{int(k): v for k, v in json.loads(out).items()} for out, _ in outputs]
    stored = check_all_distinct_and_gapless(engine, "berita_acara", CASES)
    assert seen[0] == seen[1] == stored
