"""Indonesian words for numbers and dates, as an official document writes them.

A Berita Acara opens with the day and the date written out ("Pada hari ini Senin tanggal dua
puluh delapan bulan Desember tahun dua ribu dua puluh enam"), so that a figure cannot be
altered after signing (tata naskah dinas). Spelling follows KBBI: "sebelas", "seratus",
"seribu", "Jumat".
"""

from __future__ import annotations

from datetime import date

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
"""Day names indexed by ``date.weekday()`` (Monday is 0)."""

BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")
"""Month names indexed by ``month - 1``."""

_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
          "sembilan", "sepuluh", "sebelas")
_ROMAN = (("M", 1000), ("CM", 900), ("D", 500), ("CD", 400), ("C", 100), ("XC", 90),
          ("L", 50), ("XL", 40), ("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))
_LARGE = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))
LIMIT = 10**15
"""``terbilang`` accepts 0 <= n < LIMIT (up to "... triliun")."""


def terbilang(n: int) -> str:
    """Return ``n`` in Indonesian words: 0 is "nol", 11 "sebelas", 100 "seratus", 1000 "seribu"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"terbilang needs an int, got {type(n).__name__}")
    if not 0 <= n < LIMIT:
        raise ValueError(f"terbilang handles 0 <= n < {LIMIT}, got {n}")
    return _words(n)


def _words(n: int) -> str:
    """Words for 0 <= n < LIMIT; "nol" only for n == 0 itself."""
    if n < 12:
        return _UNITS[n]
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    if n < 100:
        return _join(f"{_UNITS[n // 10]} puluh", n % 10)
    if n < 1000:
        head = "seratus" if n < 200 else f"{_UNITS[n // 100]} ratus"
        return _join(head, n % 100)
    if n < 10**6:
        head = "seribu" if n < 2000 else f"{_words(n // 1000)} ribu"
        return _join(head, n % 1000)
    for size, name in _LARGE:
        if n >= size:
            return _join(f"{_words(n // size)} {name}", n % size)
    raise AssertionError("unreachable")  # pragma: no cover


def _join(head: str, rest: int) -> str:
    """``head`` followed by the words of ``rest``, which is omitted when zero."""
    return head if rest == 0 else f"{head} {_words(rest)}"


def nama_hari(d: date) -> str:
    """The day name of ``d``: "Senin" .. "Minggu"."""
    return HARI[d.weekday()]


def nama_bulan(month: int) -> str:
    """The month name of ``month`` (1..12): "Januari" .. "Desember"."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return BULAN[month - 1]


def romawi(n: int) -> str:
    """``n`` (1..3999) in Roman numerals, as letter numbers write the month ("XI")."""
    if not 1 <= n <= 3999:
        raise ValueError(f"Roman numerals here cover 1..3999, got {n}")
    out: list[str] = []
    for symbol, value in _ROMAN:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)


def tanggal_panjang(d: date) -> str:
    """The date as a document's place-and-date line writes it: "28 November 2026"."""
    return f"{d.day} {nama_bulan(d.month)} {d.year}"


def kalimat_tanggal(d: date) -> str:
    """The opening of a Berita Acara, with the day and the date in words.

    ``date(2026, 12, 28)`` gives "Pada hari ini Senin tanggal dua puluh delapan bulan Desember
    tahun dua ribu dua puluh enam".
    """
    return (f"Pada hari ini {nama_hari(d)} tanggal {terbilang(d.day)} "
            f"bulan {nama_bulan(d.month)} tahun {terbilang(d.year)}")
