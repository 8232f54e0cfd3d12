"""The request letter (Surat Permohonan Pembuatan Aplikasi): parse and validate it.

``parse_letter`` never raises on bad input: it returns every faulty field, named by its
JSON path, with a short Indonesian explanation, so the sender can fix everything at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from connector.store.cases import case_key_for, plain_text

FIELDS = ("nomor_surat", "tanggal_surat", "opd", "perihal", "nama_aplikasi", "deskripsi",
          "kontak", "lampiran")
CONTACT_FIELDS = ("nama", "jabatan", "email", "telepon")
ATTACHMENT_FIELDS = ("nama_file", "content_type", "isi_base64")
MAX_ATTACHMENTS = 5
_LIMITS = {"nomor_surat": 100, "opd": 50, "perihal": 500, "nama_aplikasi": 200,
           "deskripsi": 20_000, "nama": 200, "jabatan": 200, "email": 254, "telepon": 40}
# Every pattern is used with fullmatch: ``$`` also matches before a final newline, which let
# "surat.pdf\n" through (issue 20, finding 10).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()\-]{6,40}")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()\-]{0,150}")
_OPD_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_CONTENT_TYPE = re.compile(r"[a-z0-9.+\-]+/[a-z0-9.+\-]+")
# "|" is "or" in a Redmine filter value and "#" joins a case key to a step number.
_NOT_IN_NUMBER = re.compile(r"[|#\x00-\x1f]")


@dataclass(frozen=True)
class FieldProblem:
    """One faulty field: its JSON path and what is wrong, in Indonesian."""

    field: str
    problem: str


@dataclass(frozen=True)
class Contact:
    """The OPD's contact person for the request."""

    nama: str
    jabatan: str
    email: str
    telepon: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with the letter, such as the scanned letter as PDF."""

    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the content."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Letter:
    """A valid request letter."""

    nomor_surat: str
    tanggal_surat: date
    opd: str
    perihal: str
    nama_aplikasi: str
    deskripsi: str
    kontak: Contact
    lampiran: tuple[Attachment, ...] = ()

    @property
    def case_key(self) -> str:
        """The business key of the case: the same OPD and nomor surat are the same letter."""
        return case_key_for(self.opd, self.nomor_surat)

    def as_record(self) -> dict[str, Any]:
        """The letter's data as JSON-ready values (attachments by name only)."""
        return {
            "nomor_surat": self.nomor_surat, "tanggal_surat": self.tanggal_surat.isoformat(),
            "opd": self.opd, "perihal": self.perihal, "nama_aplikasi": self.nama_aplikasi,
            "deskripsi": self.deskripsi,
            "kontak": {f: getattr(self.kontak, f) for f in CONTACT_FIELDS},
            "lampiran": [a.filename for a in self.lampiran],
        }


def parse_letter(data: Any, *, max_attachment_bytes: int) -> Letter | list[FieldProblem]:
    """A Letter from decoded JSON, or the list of every problem found."""
    if not isinstance(data, Mapping):
        return [FieldProblem("$", "isi permintaan harus berupa objek JSON")]
    problems = [FieldProblem(k, "kolom tidak dikenal") for k in data if k not in FIELDS]
    text = {k: _text(data, k, k, problems) for k in
            ("nomor_surat", "opd", "perihal", "nama_aplikasi", "deskripsi")}
    if text["opd"] and not _OPD_CODE.fullmatch(text["opd"]):
        problems.append(FieldProblem("opd", "kode OPD hanya huruf, angka, titik, garis bawah "
                                     "dan tanda hubung, misalnya DINKES"))
    raw_number, text["nomor_surat"] = text["nomor_surat"], plain_text(text["nomor_surat"])
    if _NOT_IN_NUMBER.search(raw_number) or _NOT_IN_NUMBER.search(text["nomor_surat"]):
        problems.append(FieldProblem("nomor_surat", "tidak boleh memuat tanda | atau # atau "
                                     "karakter kontrol"))
    elif not text["nomor_surat"] and not _has_problem(problems, "nomor_surat"):
        problems.append(FieldProblem("nomor_surat", "tidak boleh kosong"))
    tanggal = _date(data.get("tanggal_surat"), problems)
    kontak = _contact(data.get("kontak"), problems)
    lampiran = _attachments(data.get("lampiran", []), max_attachment_bytes, problems)
    if problems or tanggal is None or kontak is None:
        return problems
    return Letter(kontak=kontak, tanggal_surat=tanggal, lampiran=lampiran, **text)


def _has_problem(problems: list[FieldProblem], field: str) -> bool:
    """True when ``field`` already has a problem."""
    return any(p.field == field for p in problems)


def _text(data: Mapping[str, Any], key: str, path: str, problems: list[FieldProblem],
          *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if value is None:
        problems.append(FieldProblem(path, "wajib diisi"))
    elif not isinstance(value, str):
        problems.append(FieldProblem(path, f"harus berupa teks, bukan {_json_type(value)}"))
    elif not value.strip() and required:
        problems.append(FieldProblem(path, "tidak boleh kosong"))
    elif len(value) > _LIMITS[key]:
        problems.append(FieldProblem(path, f"terlalu panjang (maksimal {_LIMITS[key]} karakter)"))
    else:
        return value.strip()
    return ""


def _date(value: Any, problems: list[FieldProblem]) -> date | None:
    if value is None:
        problems.append(FieldProblem("tanggal_surat", "wajib diisi"))
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    problems.append(FieldProblem("tanggal_surat", "harus tanggal dengan format YYYY-MM-DD"))
    return None


def _contact(value: Any, problems: list[FieldProblem]) -> Contact | None:
    if not isinstance(value, Mapping):
        problems.append(FieldProblem("kontak", "wajib diisi sebagai objek "
                                     "{nama, jabatan, email, telepon}"))
        return None
    before = len(problems)
    problems.extend(FieldProblem(f"kontak.{k}", "kolom tidak dikenal")
                    for k in value if k not in CONTACT_FIELDS)
    nama = _text(value, "nama", "kontak.nama", problems)
    jabatan = _text(value, "jabatan", "kontak.jabatan", problems, required=False)
    email = _text(value, "email", "kontak.email", problems)
    telepon = _text(value, "telepon", "kontak.telepon", problems, required=False)
    if email and not _EMAIL.fullmatch(email):
        problems.append(FieldProblem("kontak.email", "bukan alamat email yang valid"))
    if telepon and not _PHONE.fullmatch(telepon):
        problems.append(FieldProblem("kontak.telepon", "bukan nomor telepon yang valid"))
    return Contact(nama, jabatan, email, telepon) if len(problems) == before else None


def _attachments(value: Any, limit: int, problems: list[FieldProblem]) -> tuple[Attachment, ...]:
    if not isinstance(value, list):
        problems.append(FieldProblem("lampiran", "harus berupa daftar (list)"))
        return ()
    if len(value) > MAX_ATTACHMENTS:
        problems.append(FieldProblem("lampiran", f"maksimal {MAX_ATTACHMENTS} berkas"))
        return ()
    found = [_attachment(item, f"lampiran[{i}]", limit, problems) for i, item in enumerate(value)]
    names = [a.filename for a in found if a]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(FieldProblem("lampiran", f"nama berkas {name!r} dipakai lebih dari sekali"))
    return tuple(a for a in found if a)


def _attachment(item: Any, path: str, limit: int,
                problems: list[FieldProblem]) -> Attachment | None:
    if not isinstance(item, Mapping):
        problems.append(FieldProblem(path, "harus berupa objek {nama_file, content_type, "
                                     "isi_base64}"))
        return None
    before = len(problems)
    problems.extend(FieldProblem(f"{path}.{k}", "kolom tidak dikenal")
                    for k in item if k not in ATTACHMENT_FIELDS)
    name, ctype, encoded = (item.get(k) for k in ATTACHMENT_FIELDS)
    if not isinstance(name, str) or not _FILENAME.fullmatch(name) or ".." in name:
        problems.append(FieldProblem(f"{path}.nama_file", "nama berkas tidak valid (huruf, "
                                     "angka, spasi, titik, garis; tanpa folder)"))
    if not isinstance(ctype, str) or not _CONTENT_TYPE.fullmatch(ctype):
        problems.append(FieldProblem(f"{path}.content_type", "harus berupa tipe MIME, "
                                     "misalnya application/pdf"))
    content = _decode(encoded, f"{path}.isi_base64", limit, problems)
    if len(problems) > before or content is None:
        return None
    return Attachment(str(name), str(ctype), content)


def _decode(encoded: Any, path: str, limit: int, problems: list[FieldProblem]) -> bytes | None:
    if not isinstance(encoded, str) or not encoded:
        problems.append(FieldProblem(path, "wajib diisi dengan isi berkas dalam base64"))
        return None
    if len(encoded) > (limit * 4) // 3 + 8:
        problems.append(FieldProblem(path, f"berkas melebihi batas {limit} byte"))
        return None
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        problems.append(FieldProblem(path, "bukan base64 yang valid"))
        return None
    if len(content) > limit:
        problems.append(FieldProblem(path, f"berkas melebihi batas {limit} byte"))
        return None
    return content


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "angka", float: "angka", list: "daftar", dict: "objek"}
    return names.get(type(value), type(value).__name__)
