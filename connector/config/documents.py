"""The ``[documents]`` settings: the letterhead, the signing officials and the number formats.

Parsed once from the configuration file (see ``connector/config``) into frozen dataclasses;
every fault is reported at once through ``ConfigError.problems`` so a wrong NIP or a number
pattern without ``{seq}`` is found at start-up, never in a signed document.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from connector.errors import ConfigError

PLACEHOLDERS = frozenset({"seq", "year", "month_roman"})
REQUIRED_PLACEHOLDERS = frozenset({"seq", "year"})
_NIP = re.compile(r"\d{18}")

JABATAN = {
    "kepala_dinas": "Kepala Dinas Komunikasi Informatika Statistik dan Persandian "
                    "Kabupaten Sumbawa",
    "kepala_bidang_ti": "Kepala Bidang Teknologi Informasi",
    "kepala_seksi_aplikasi": "Kepala Seksi Aplikasi dan E-Government",
}
"""The usual position of each signing official: defaults for ``[documents.<role>] jabatan``."""


@dataclass(frozen=True)
class Official:
    """An official who signs: full name with titles, NIP, position, optional rank."""

    nama: str
    nip: str
    jabatan: str
    pangkat: str = ""

    def problems(self, where: str) -> list[str]:
        """What is wrong with this official, each message prefixed with ``where``."""
        found = [f"{where}.{name}: must not be empty"
                 for name in ("nama", "jabatan") if not getattr(self, name).strip()]
        if not _NIP.fullmatch(self.nip.replace(" ", "")):
            found.append(f"{where}.nip: a NIP has 18 digits (spaces allowed), got {self.nip!r}")
        return found


@dataclass(frozen=True)
class Kop:
    """The letterhead (kop surat) of the Dinas; empty contact fields are left out."""

    alamat: str
    pemerintah: str = "PEMERINTAH KABUPATEN SUMBAWA"
    dinas: str = "DINAS KOMUNIKASI INFORMATIKA STATISTIK DAN PERSANDIAN"
    telepon: str = ""
    email: str = ""
    laman: str = ""
    logo: str = "logo-sumbawa.svg"
    logo_raster: str = "logo-sumbawa.png"


@dataclass(frozen=True)
class NumberPatterns:
    """``str.format`` patterns of each document kind's nomor."""

    berita_acara: str = "000.1.2/{seq:03d}/DKIST/{year}"
    laporan: str = "000.1.5/{seq:03d}/DKIST/{year}"
    surat: str = "000.1.2/{seq:03d}/DKIST/{month_roman}/{year}"

    def for_kind(self, kind: str) -> str:
        """The pattern of ``kind`` ("berita_acara", "laporan" or "surat")."""
        if kind not in ("berita_acara", "laporan", "surat"):
            raise KeyError(kind)
        return str(getattr(self, kind))


@dataclass(frozen=True)
class DocumentSettings:
    """Everything the documents need that is not in the case itself."""

    kop: Kop
    kepala_dinas: Official
    kepala_bidang_ti: Official
    kepala_seksi_aplikasi: Official
    tempat: str = "Sumbawa Besar"
    instansi: str = "Dinas Komunikasi Informatika Statistik dan Persandian Kabupaten Sumbawa"
    nomor: NumberPatterns = field(default_factory=NumberPatterns)
    tembusan: tuple[str, ...] = ("Bupati Sumbawa (sebagai laporan)",)

    def __post_init__(self) -> None:
        """Raise ConfigError listing every problem found."""
        problems = [f"documents.kop.{name}: must not be empty"
                    for name in ("alamat", "pemerintah", "dinas")
                    if not getattr(self.kop, name).strip()]
        problems += _asset_problems("documents.kop.logo", self.kop.logo, required=True)
        problems += _asset_problems("documents.kop.logo_raster", self.kop.logo_raster,
                                    required=False)
        for role in ("kepala_dinas", "kepala_bidang_ti", "kepala_seksi_aplikasi"):
            problems += getattr(self, role).problems(f"documents.{role}")
        problems += [f"documents.{name}: must not be empty"
                     for name in ("tempat", "instansi") if not getattr(self, name).strip()]
        problems += _pattern_problems(self.nomor)
        if problems:
            raise ConfigError(problems)


def _asset_problems(where: str, name: str, *, required: bool) -> list[str]:
    """A logo must be a plain relative path inside ``templates/documents/assets``."""
    if not name:
        return [f"{where}: must not be empty"] if required else []
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        return [f"{where}: must be a path relative to templates/documents/assets, got {name!r}"]
    return []


def pattern_fields(pattern: str) -> frozenset[str]:
    """The placeholder names of a nomor pattern; ValueError when it is malformed."""
    return frozenset(f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None)


def pattern_problems(where: str, pattern: str) -> list[str]:
    """What is wrong with one nomor pattern: unknown or missing placeholders, bad format."""
    try:
        names = pattern_fields(pattern)
    except ValueError as exc:
        return [f"{where}: not a valid pattern ({exc}): {pattern!r}"]
    found = [f"{where}: unknown placeholder {{{n}}}; allowed: seq, year, month_roman"
             for n in sorted(names - PLACEHOLDERS)]
    found += [f"{where}: must contain {{{n}}}" for n in sorted(REQUIRED_PLACEHOLDERS - names)]
    if not found:
        try:
            pattern.format(seq=1, year=2026, month_roman="XII")
        except (ValueError, IndexError, KeyError) as exc:
            found.append(f"{where}: cannot be formatted ({exc}): {pattern!r}")
    return found


def _pattern_problems(patterns: NumberPatterns) -> list[str]:
    """Each pattern is valid, and no two kinds share a pattern (their numbers would clash)."""
    kinds = ("berita_acara", "laporan", "surat")
    problems = [p for kind in kinds
                for p in pattern_problems(f"documents.nomor.{kind}", patterns.for_kind(kind))]
    if not problems and len({patterns.for_kind(k) for k in kinds}) < len(kinds):
        problems.append("documents.nomor: each kind needs its own pattern, or numbers clash")
    return problems
