"""The issued-documents store (issue 17) on SQLite and PostgreSQL: records, signatures in
order, a stale signer refused, and the queue of documents waiting for a signature."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from connector.store.db import StoreError
from connector.store.issued import (
    Party,
    Slot,
    awaiting_signature,
    find_issued,
    get_issued,
    new_token,
    record_issued,
    record_signature,
    sha256_hex,
)

T0 = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
SLOTS = (Slot("pihak_pertama", "PIHAK PERTAMA", "A", 2, (10.0, 20.0, 30.5, 40.25)),
         Slot("mengetahui", "Mengetahui", "B", 2, (50.0, 60.0, 70.0, 80.0)))


def issue(engine: Engine, nomor: str = "000.1.2/001/DKIST/2026") -> str:
    token = new_token()
    record_issued(engine, token=token, kind="berita_acara", nomor=nomor,
                  tanggal=date(2026, 12, 8), case_key="DINKES:027/145/DINKES/2026",
                  parties=[Party("PIHAK PERTAMA", "A"), Party("Mengetahui", "B")],
                  slots=SLOTS, pdf=b"%PDF-drawn-up", clock=lambda: T0)
    return token


def test_an_issued_document_reads_back_whole(engine: Engine) -> None:
    token = issue(engine)
    doc = get_issued(engine, token)
    assert doc is not None and doc.slots == SLOTS and doc.issued_at == T0
    assert doc.sha256 == sha256_hex(b"%PDF-drawn-up") and doc.size == 13
    assert doc.parties == (Party("PIHAK PERTAMA", "A"), Party("Mengetahui", "B"))
    assert find_issued(engine, "berita_acara", doc.nomor) == doc
    assert find_issued(engine, "surat", doc.nomor) is None
    with pytest.raises(StoreError, match="sudah diterbitkan"):
        issue(engine)
    assert get_issued(engine, "") is None and get_issued(engine, "x" * 65) is None


def test_signatures_are_kept_in_order_and_a_stale_signer_is_refused(engine: Engine) -> None:
    token = issue(engine)
    first = record_signature(engine, token, slot="pihak_pertama", nama="A", pdf=b"%PDF-1",
                             previous_sha256=sha256_hex(b"%PDF-drawn-up"), clock=lambda: T0)
    assert [s.slot for s in first.unsigned_slots] == ["mengetahui"]
    assert awaiting_signature(engine) == [first]
    with pytest.raises(StoreError, match="sementara itu"):  # signed the version before
        record_signature(engine, token, slot="mengetahui", nama="B", pdf=b"%PDF-2",
                         previous_sha256=sha256_hex(b"%PDF-drawn-up"))
    done = record_signature(engine, token, slot="mengetahui", nama="B", pdf=b"%PDF-2",
                            previous_sha256=sha256_hex(b"%PDF-1"), clock=lambda: T0)
    assert [(s.seq, s.slot) for s in done.signatures] == [(1, "pihak_pertama"),
                                                          (2, "mengetahui")]
    assert done.pdf == b"%PDF-2" and not done.unsigned_slots
    assert awaiting_signature(engine) == []
    assert set(done.known_hashes()) == {sha256_hex(b) for b in
                                        (b"%PDF-drawn-up", b"%PDF-1", b"%PDF-2")}
