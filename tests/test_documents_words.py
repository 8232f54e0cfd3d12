"""Indonesian numbers and dates in words, as the opening of a Berita Acara writes them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from connector.documents.words import (
    BULAN,
    HARI,
    kalimat_tanggal,
    nama_bulan,
    nama_hari,
    romawi,
    tanggal_panjang,
    terbilang,
)

KNOWN = {
    0: "nol", 1: "satu", 10: "sepuluh", 11: "sebelas", 12: "dua belas",
    19: "sembilan belas", 20: "dua puluh", 21: "dua puluh satu", 28: "dua puluh delapan",
    99: "sembilan puluh sembilan", 100: "seratus", 101: "seratus satu", 111: "seratus sebelas",
    199: "seratus sembilan puluh sembilan", 200: "dua ratus", 1000: "seribu", 1001: "seribu satu",
    1100: "seribu seratus", 1999: "seribu sembilan ratus sembilan puluh sembilan",
    2000: "dua ribu", 2021: "dua ribu dua puluh satu", 2026: "dua ribu dua puluh enam",
    9999: "sembilan ribu sembilan ratus sembilan puluh sembilan",
    10_000: "sepuluh ribu", 11_000: "sebelas ribu", 100_000: "seratus ribu",
    1_000_000: "satu juta", 2_500_000: "dua juta lima ratus ribu",
    1_000_000_000: "satu miliar", 3_000_000_000_001: "tiga triliun satu",
}
UNITS = {"nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6,
         "tujuh": 7, "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11}


def parse_words(words: str) -> int:
    """An independent reader of Indonesian number words below one million."""
    total = group = digit = 0
    for token in words.split():
        if token in UNITS:
            digit += UNITS[token]
        elif token == "belas":
            group, digit = group + digit + 10, 0
        elif token == "puluh":
            group, digit = group + digit * 10, 0
        elif token == "ratus":
            group, digit = group + digit * 100, 0
        elif token == "seratus":
            group += 100
        elif token == "ribu":
            total, group, digit = total + (group + digit) * 1000, 0, 0
        elif token == "seribu":
            total += 1000
        else:
            raise AssertionError(f"unexpected word {token!r} in {words!r}")
    return total + group + digit


@pytest.mark.parametrize(("n", "words"), sorted(KNOWN.items()))
def test_known_answers(n: int, words: str) -> None:
    assert terbilang(n) == words


def test_every_number_to_9999_reads_back_and_uses_only_standard_forms() -> None:
    seen = set()
    for n in range(10_000):
        words = terbilang(n)
        assert parse_words(words) == n, words
        assert words not in seen
        seen.add(words)
        assert "  " not in words and words == words.strip()
        assert (n == 0) == ("nol" in words.split())
        for wrong in ("satu ratus", "satu ribu", "satu belas", "sepuluh satu", "puluh nol"):
            assert wrong not in words, (n, words)


@pytest.mark.parametrize("bad", [-1, 10**15])
def test_out_of_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        terbilang(bad)


@pytest.mark.parametrize("bad", [True, 1.0, "1"])
def test_non_integers_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        terbilang(bad)  # type: ignore[arg-type]


def test_day_names_of_a_known_week() -> None:
    monday = date(2026, 3, 16)  # Senin 16 Maret 2026
    names = [nama_hari(monday + timedelta(days=i)) for i in range(7)]
    assert names == ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
    assert tuple(names) == HARI


def test_month_names() -> None:
    assert [nama_bulan(m) for m in range(1, 13)] == [
        "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
        "September", "Oktober", "November", "Desember"]
    assert tuple(nama_bulan(m) for m in range(1, 13)) == BULAN
    for bad in (0, 13):
        with pytest.raises(ValueError):
            nama_bulan(bad)


def test_roman_months() -> None:
    assert [romawi(m) for m in range(1, 13)] == [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    assert romawi(2026) == "MMXXVI"


@pytest.mark.parametrize(("d", "sentence"), [
    # 28 December 2026 is a Monday; 28 November 2026 is a Saturday (checked with Python's
    # calendar); 28 November 2022 was a Monday.
    (date(2026, 12, 28), "Pada hari ini Senin tanggal dua puluh delapan bulan Desember "
                         "tahun dua ribu dua puluh enam"),
    (date(2026, 11, 28), "Pada hari ini Sabtu tanggal dua puluh delapan bulan November "
                         "tahun dua ribu dua puluh enam"),
    (date(2022, 11, 28), "Pada hari ini Senin tanggal dua puluh delapan bulan November "
                         "tahun dua ribu dua puluh dua"),
    (date(2026, 1, 1), "Pada hari ini Kamis tanggal satu bulan Januari "
                       "tahun dua ribu dua puluh enam"),
    (date(2021, 12, 2), "Pada hari ini Kamis tanggal dua bulan Desember "
                        "tahun dua ribu dua puluh satu"),
])
def test_known_sentences(d: date, sentence: str) -> None:
    assert kalimat_tanggal(d) == sentence


SENTENCE = re.compile(r"Pada hari ini (\w+) tanggal ([a-z ]+) bulan (\w+) tahun ([a-z ]+)")


def test_every_date_of_2026() -> None:
    day, sentences = date(2026, 1, 1), set()
    while day.year == 2026:
        sentence = kalimat_tanggal(day)
        match = SENTENCE.fullmatch(sentence)
        assert match, sentence
        hari, tanggal, bulan, tahun = match.groups()
        assert HARI.index(hari) == day.weekday()
        assert parse_words(tanggal) == day.day
        assert BULAN.index(bulan) + 1 == day.month
        assert tahun == "dua ribu dua puluh enam"
        assert tanggal_panjang(day) == f"{day.day} {bulan} 2026"
        sentences.add(sentence)
        day += timedelta(days=1)
    assert len(sentences) == 365


def test_long_date() -> None:
    assert tanggal_panjang(date(2026, 11, 28)) == "28 November 2026"
    assert tanggal_panjang(date(2026, 3, 5)) == "5 Maret 2026"
