"""Issued documents and their signatures: what the verification page may show (issue 17).

A document drawn up for signing gets an unguessable token (``secrets.token_urlsafe``), the one
thing its QR code and short URL carry. The row keeps only what the public page shows (kind,
number, date, parties, hash, who signed when), the signature slots where each signer's stamp
goes, and the latest verified PDF, so that signers in turn each sign the version before them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import RowMapping

from connector.store.db import Clock, StoreError, reading, utc_now
from connector.store.jobs import enqueue
from connector.store.kinds import SIGNED_DOCUMENT
from connector.store.schema import document_signatures, issued_documents

TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
TOKEN_MAX = 64  # the column's length


@dataclass(frozen=True)
class Party:
    """Someone named in a document: their role in it (``PIHAK PERTAMA``) and name."""

    peran: str
    nama: str


@dataclass(frozen=True)
class Slot:
    """A signature block: its key (``pihak_pertama``), who signs there, and where it is.

    ``box`` is (x1, y1, x2, y2) in PDF points from the bottom-left of page ``page`` (0-based).
    """

    slot: str
    peran: str
    nama: str
    page: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class SignatureRecord:
    """One verified signature: who signed which slot when, and the file's hash after it."""

    seq: int
    slot: str
    nama: str
    signed_at: datetime
    sha256: str


@dataclass(frozen=True)
class IssuedDocument:
    """A document as issued, with its signatures so far."""

    token: str
    kind: str
    nomor: str
    tanggal: date
    case_key: str
    parties: tuple[Party, ...]
    slots: tuple[Slot, ...]
    sha256: str
    size: int
    pdf: bytes
    issued_at: datetime
    signatures: tuple[SignatureRecord, ...]

    @property
    def unsigned_slots(self) -> tuple[Slot, ...]:
        """The slots nobody has signed yet, in the document's order."""
        done = {s.slot for s in self.signatures}
        return tuple(s for s in self.slots if s.slot not in done)

    def slot(self, key: str) -> Slot:
        """The slot named ``key``; StoreError naming the slots there are otherwise."""
        for candidate in self.slots:
            if candidate.slot == key:
                return candidate
        names = ", ".join(s.slot for s in self.slots)
        raise StoreError(f"dokumen {self.nomor} tidak punya blok tanda tangan {key!r} "
                         f"(yang ada: {names})")

    def known_hashes(self) -> dict[str, str]:
        """sha256 of every version we issued -> what it is, in Indonesian."""
        known = {self.sha256: "dokumen sebelum ditandatangani"}
        for record in self.signatures:
            known[record.sha256] = f"dokumen dengan {record.seq} tanda tangan"
        return known


def new_token() -> str:
    """An unguessable token for a document's verification URL.

    Never starting with ``-``, which a command line would read as an option.
    """
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        continue
    return token


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def record_issued(engine: Engine, *, token: str, kind: str, nomor: str, tanggal: date,
                  case_key: str, parties: Sequence[Party], slots: Sequence[Slot], pdf: bytes,
                  clock: Clock = utc_now) -> IssuedDocument:
    """Store a document as drawn up for signing; StoreError if its kind and number exist."""
    with engine.begin() as conn:
        taken = conn.execute(select(issued_documents.c.token).where(
            issued_documents.c.kind == kind, issued_documents.c.nomor == nomor)).first()
        if taken is not None:
            raise StoreError(f"dokumen {kind} nomor {nomor} sudah diterbitkan")
        conn.execute(insert(issued_documents).values(
            token=token, kind=kind, nomor=nomor, tanggal=tanggal, case_key=case_key,
            parties=[{"peran": p.peran, "nama": p.nama} for p in parties],
            slots=[_slot_json(s) for s in slots], sha256=sha256_hex(pdf), size=len(pdf),
            pdf=pdf, issued_at=clock()))
    found = get_issued(engine, token)
    assert found is not None
    return found


def find_issued(engine: Engine, kind: str, nomor: str) -> IssuedDocument | None:
    """The document of this kind and number issued before, or None."""
    with reading(engine) as conn:
        token = conn.execute(select(issued_documents.c.token).where(
            issued_documents.c.kind == kind, issued_documents.c.nomor == nomor)).scalar()
    return None if token is None else get_issued(engine, token)


def get_issued(engine: Engine, token: str) -> IssuedDocument | None:
    """The issued document with this token, or None (also for a malformed token)."""
    if not token or len(token) > TOKEN_MAX:
        return None
    with reading(engine) as conn:
        row = conn.execute(select(issued_documents).where(
            issued_documents.c.token == token)).mappings().first()
        if row is None:
            return None
        signed = conn.execute(select(document_signatures).where(
            document_signatures.c.token == token).order_by(document_signatures.c.seq)
        ).mappings().all()
    return _issued(row, signed)


def awaiting_signature(engine: Engine) -> list[IssuedDocument]:
    """Every issued document with a block not signed yet, oldest first (a few dozen a year)."""
    with reading(engine) as conn:
        tokens = list(conn.execute(select(issued_documents.c.token)
                                   .order_by(issued_documents.c.issued_at)).scalars())
    found = (get_issued(engine, token) for token in tokens)
    return [doc for doc in found if doc is not None and doc.unsigned_slots]


def record_signature(engine: Engine, token: str, *, slot: str, nama: str, pdf: bytes,
                     previous_sha256: str, clock: Clock = utc_now) -> IssuedDocument:
    """Keep ``pdf`` as the document's latest version, signed at ``slot`` by ``nama``.

    ``previous_sha256`` is the version the signer signed: if another signature was recorded
    meanwhile, nothing is written and StoreError says so (two signers never overwrite each
    other's signature). The last signature enqueues, in the same transaction, the job that
    attaches the signed document to its case and completes the step (``SIGNED_DOCUMENT``),
    so a crash right after signing still gets it done.
    """
    with engine.begin() as conn:
        row = conn.execute(select(issued_documents.c.pdf, issued_documents.c.slots).where(
            issued_documents.c.token == token).with_for_update()).first()
        if row is None:
            raise StoreError("dokumen tidak ditemukan")
        current = row.pdf
        if sha256_hex(current) != previous_sha256:
            raise StoreError("dokumen sudah ditandatangani pihak lain sementara itu; "
                             "ulangi dari versi terbaru")
        seq = conn.execute(select(func.count()).select_from(document_signatures).where(
            document_signatures.c.token == token)).scalar_one() + 1
        conn.execute(insert(document_signatures).values(
            token=token, seq=seq, slot=slot, nama=nama, signed_at=clock(),
            sha256=sha256_hex(pdf)))
        conn.execute(update(issued_documents).where(issued_documents.c.token == token)
                     .values(pdf=pdf))
        if seq >= len(row.slots):
            enqueue(conn, SIGNED_DOCUMENT, {"token": token},
                    dedupe_key=f"{SIGNED_DOCUMENT}:{token}", clock=clock)
    found = get_issued(engine, token)
    assert found is not None
    return found


def _slot_json(slot: Slot) -> dict[str, Any]:
    return {"slot": slot.slot, "peran": slot.peran, "nama": slot.nama, "page": slot.page,
            "box": list(slot.box)}


def _issued(row: RowMapping, signed: Sequence[RowMapping]) -> IssuedDocument:
    return IssuedDocument(
        token=row["token"], kind=row["kind"], nomor=row["nomor"], tanggal=row["tanggal"],
        case_key=row["case_key"],
        parties=tuple(Party(p["peran"], p["nama"]) for p in row["parties"]),
        slots=tuple(Slot(s["slot"], s["peran"], s["nama"], int(s["page"]),
                         (float(s["box"][0]), float(s["box"][1]), float(s["box"][2]),
                          float(s["box"][3])))
                    for s in row["slots"]),
        sha256=row["sha256"], size=row["size"], pdf=bytes(row["pdf"]),
        issued_at=row["issued_at"],
        signatures=tuple(SignatureRecord(s["seq"], s["slot"], s["nama"], s["signed_at"],
                                         s["sha256"]) for s in signed))
