"""What step 6 found missing, as the Kabid chose it, and what the OPD may do next.

The SOP's step 6 ends "tidak" with a note from the Kepala Bidang TI; step 7 turns it into a
laporan and a letter. What is missing is data: the Kabid chooses it in the *Temuan
Verifikasi* field of the step 6 subtask (Infrastruktur, SDM, Anggaran; the engine refuses a
"tidak" without it), and the documents list exactly that, with the note quoted verbatim
beside the list. Nothing is guessed from the note's words: a case whose step 6 was recorded
before the field existed has no findings, and its documents refer to the note alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.documents.model import DocumentError, Kekurangan


def kekurangan_from_findings(chosen: Iterable[str]) -> frozenset[Kekurangan]:
    """The Temuan Verifikasi values as ``Kekurangan`` ("SDM" is ``Kekurangan.SDM``).

    A value that names none of the three raises ``DocumentError``: the engine accepts only
    the SOP's findings, so it means the SOP and the documents disagree.
    """
    found = set()
    for value in chosen:
        try:
            found.add(Kekurangan(value.strip().casefold()))
        except ValueError:
            raise DocumentError(f"unknown step 6 finding {value!r}; known: "
                                f"{', '.join(k.value for k in Kekurangan)}") from None
    return frozenset(found)


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
