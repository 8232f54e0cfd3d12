"""What step 6 found missing, read from the Kabid's note, and what the OPD may do next.

The SOP's step 6 ends "tidak" with a note from the Kepala Bidang TI; step 7 turns it into a
laporan and a letter. The note is free text, so what is missing is found by keywords
(infrastruktur; SDM, sumber daya manusia, staf, tenaga; anggaran, dana, biaya), and the note
itself is always quoted verbatim beside the list.
"""

from __future__ import annotations

import re

from connector.documents.model import Kekurangan

_KEYWORDS = {
    Kekurangan.INFRASTRUKTUR: re.compile(r"\binfra\s*struktur", re.IGNORECASE),
    Kekurangan.SDM: re.compile(r"\bsdm\b|\bsumber\s+daya\s+manusia\b|\bstaf+\b|\btenaga\b",
                               re.IGNORECASE),
    Kekurangan.ANGGARAN: re.compile(r"\banggaran\b|\b(pen)?dana(an)?\b|\b(pem)?biaya(an)?\b",
                                    re.IGNORECASE),
}
_TAHUN_ANGGARAN = re.compile(r"\btahun\s+anggaran\b", re.IGNORECASE)


def kekurangan_from_note(note: str) -> frozenset[Kekurangan]:
    """What the Kabid's step 6 note says is missing, by keyword; empty when none is named.

    "tahun anggaran" names a year, not a budget, so it is ignored. Keywords cannot read
    negation ("anggaran tersedia"): the note itself is always quoted verbatim beside the list.
    """
    text = _TAHUN_ANGGARAN.sub(" ", note)
    return frozenset(k for k, pattern in _KEYWORDS.items() if pattern.search(text))


_TINDAK_LANJUT = {
    Kekurangan.ANGGARAN: "mengusulkan kebutuhan anggaran pembangunan aplikasi dalam "
                         "Rencana Kerja dan Anggaran (RKA) Perangkat Daerah pada tahun "
                         "anggaran berikutnya;",
    Kekurangan.INFRASTRUKTUR: "berkoordinasi dengan Bidang Teknologi Informasi mengenai "
                              "penyediaan infrastruktur yang dibutuhkan aplikasi;",
    Kekurangan.SDM: "menyiapkan tenaga teknis pendamping dari Perangkat Daerah untuk "
                    "pengembangan dan pengelolaan aplikasi;",
}
_ALWAYS = ("memanfaatkan aplikasi yang telah tersedia di lingkungan Pemerintah Kabupaten "
           "Sumbawa yang memiliki fungsi serupa; dan/atau",
           "mengajukan kembali permohonan pembuatan aplikasi pada tahun anggaran berikutnya.")


def standard_next_steps(kekurangan: frozenset[Kekurangan]) -> tuple[str, ...]:
    """What the OPD may do next, for what is missing (all three when nothing was named)."""
    named = kekurangan or frozenset(Kekurangan)
    return tuple(_TINDAK_LANJUT[k] for k in Kekurangan if k in named) + _ALWAYS
