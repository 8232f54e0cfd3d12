"""Tests for the hari kerja calendar against the real holidays 0.109 data for 2025-2028."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.calendar import LOCAL_HOLIDAY_NAME, WorkCalendar
from connector.errors import CalendarError

STANDARD = WorkCalendar.standard()


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 3, 28), "Cuti Bersama Hari Suci Nyepi"),
        (date(2025, 3, 29), "Hari Suci Nyepi"),
        (date(2025, 3, 31), "Hari Raya Idul Fitri"),
        (date(2025, 4, 1), "Hari kedua dari Hari Raya Idul Fitri"),
        (date(2025, 4, 2), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 4, 7), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 4, 18), "Wafat Yesus Kristus"),
        (date(2025, 5, 29), "Kenaikan Yesus Kristus"),
        (date(2025, 5, 30), "Cuti Bersama Kenaikan Yesus Kristus"),
        (date(2025, 12, 25), "Hari Raya Natal"),
        (date(2025, 12, 26), "Cuti Bersama Hari Raya Natal"),
        (date(2026, 1, 1), "Tahun Baru Masehi"),
        (date(2026, 3, 18), "Cuti Bersama Hari Suci Nyepi"),
        (date(2026, 3, 19), "Hari Suci Nyepi"),
        (date(2026, 3, 20), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 21), "Hari Raya Idul Fitri"),
        (date(2026, 3, 22), "Hari kedua dari Hari Raya Idul Fitri"),
        (date(2026, 3, 23), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 24), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 4, 3), "Wafat Yesus Kristus"),
        (date(2026, 5, 1), "Hari Buruh Internasional"),
        (date(2026, 5, 14), "Kenaikan Yesus Kristus"),
        (date(2026, 5, 15), "Cuti Bersama Kenaikan Yesus Kristus"),
        # The 2026 decree puts the Christmas cuti bersama before Christmas, not on 26 December.
        (date(2026, 12, 24), "Cuti Bersama Hari Raya Natal"),
        (date(2026, 12, 25), "Hari Raya Natal"),
    ],
)
def test_holiday_names_come_from_the_package_in_indonesian(day: date, name: str) -> None:
    assert STANDARD.holiday_name(day) == name
    assert not STANDARD.is_workday(day)


def test_ordinary_days_around_the_holidays_are_workdays() -> None:
    for day in [date(2026, 3, 17), date(2026, 3, 25), date(2026, 4, 2), date(2026, 12, 28)]:
        assert STANDARD.holiday_name(day) is None
        assert STANDARD.is_workday(day)
    assert STANDARD.holiday_name(date(2026, 12, 26)) is None  # a Saturday, not cuti bersama
    assert not STANDARD.is_workday(date(2026, 3, 28))  # plain Saturday


def test_worked_example_35_hari_kerja_from_16_march_2026() -> None:
    # D = Mon 16 Mar 2026 does not count. Day 1 is Tue 17 Mar. Skipped: 18 Mar (cuti Nyepi),
    # 19 Mar (Nyepi), 20 Mar (cuti Idul Fitri), 21-22 Mar (Idul Fitri, weekend), 23-24 Mar
    # (cuti Idul Fitri), 3 Apr (Wafat Yesus Kristus), 1 May (Hari Buruh), and every weekend.
    # Days 2-8: 25 Mar-2 Apr; 9-27: 6-30 Apr; 28-35: 4-13 May, so day 35 is Wed 13 May.
    # Just after it come 14 May (Kenaikan) and 15 May (cuti bersama Kenaikan).
    start = date(2026, 3, 16)
    assert STANDARD.add_workdays(start, 35) == date(2026, 5, 13)
    assert STANDARD.workdays_between(start, date(2026, 5, 13)) == 35
    assert STANDARD.workdays_between(start, date(2026, 5, 17)) == 35
    assert STANDARD.add_workdays(start, 36) == date(2026, 5, 18)


def test_year_end_skips_christmas_its_cuti_bersama_and_new_year() -> None:
    # Wed 24 Dec 2025 is D; 25 (Natal) and 26 (cuti bersama) are off; 29, 30, 31 Dec count;
    # 1 Jan 2026 is off; Fri 2 Jan is the 4th.
    start = date(2025, 12, 24)
    assert STANDARD.add_workdays(start, 3) == date(2025, 12, 31)
    assert STANDARD.add_workdays(start, 4) == date(2026, 1, 2)
    assert STANDARD.workdays_between(start, date(2026, 1, 2)) == 4


def test_idul_fitri_2025_block_is_skipped_in_one_step() -> None:
    # Thu 27 Mar 2025 is D; 28 Mar to 7 Apr holds only holidays and weekends; Tue 8 Apr is day 1.
    assert STANDARD.add_workdays(date(2025, 3, 27), 1) == date(2025, 4, 8)


@pytest.mark.parametrize(
    "start",
    [date(2026, 3, 17), date(2026, 3, 19), date(2026, 3, 21), date(2026, 3, 24)],
    ids=["workday", "nyepi", "saturday-idul-fitri", "cuti-bersama"],
)
def test_start_day_never_counts_whatever_it_is(start: date) -> None:
    assert STANDARD.add_workdays(start, 1) == date(2026, 3, 25)


def test_zero_returns_start_even_on_a_holiday() -> None:
    assert STANDARD.add_workdays(date(2026, 3, 19), 0) == date(2026, 3, 19)
    assert STANDARD.workdays_between(date(2026, 3, 19), date(2026, 3, 19)) == 0
    assert STANDARD.workdays_between(date(2026, 3, 25), date(2026, 3, 17)) == 0


@pytest.mark.parametrize("unit", ["hari_kerja", "hari"])
def test_negative_standard_is_refused(unit: str) -> None:
    with pytest.raises(CalendarError, match=f"cannot be negative: -1 {unit}"):
        STANDARD.due_date(date(2026, 3, 16), -1, unit)


def test_extra_holiday_is_skipped_and_named_as_local() -> None:
    local = date(2026, 3, 25)
    calendar = WorkCalendar(extra_holidays=frozenset({local}))
    assert calendar.holiday_name(local) == LOCAL_HOLIDAY_NAME
    assert calendar.add_workdays(date(2026, 3, 16), 2) == date(2026, 3, 26)
    # A package holiday keeps its own name even when also configured locally.
    both = WorkCalendar(extra_holidays=frozenset({date(2026, 3, 19)}))
    assert both.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"


def test_extra_workday_saturday_counts() -> None:
    saturday = date(2026, 3, 28)
    calendar = WorkCalendar(extra_workdays=frozenset({saturday}))
    assert calendar.add_workdays(date(2026, 3, 27), 1) == saturday
    assert STANDARD.add_workdays(date(2026, 3, 27), 1) == date(2026, 3, 30)


def test_extra_workday_wins_over_package_and_local_holidays() -> None:
    cuti = date(2026, 3, 24)
    calendar = WorkCalendar(extra_holidays=frozenset({cuti}), extra_workdays=frozenset({cuti}))
    assert calendar.is_workday(cuti)
    assert calendar.holiday_name(cuti) is None
    assert calendar.add_workdays(date(2026, 3, 17), 1) == cuti


def test_monday_to_saturday_week_counts_saturdays_but_not_saturday_holidays() -> None:
    calendar = WorkCalendar(work_week=frozenset({1, 2, 3, 4, 5, 6}))
    assert calendar.add_workdays(date(2026, 3, 27), 1) == date(2026, 3, 28)
    assert not calendar.is_workday(date(2026, 3, 21))  # Idul Fitri on a Saturday
    assert calendar.add_workdays(date(2026, 3, 17), 1) == date(2026, 3, 25)


@pytest.mark.parametrize("week", [frozenset(), frozenset({0, 1}), frozenset({5, 8})])
def test_invalid_work_week_is_refused(week: frozenset[int]) -> None:
    with pytest.raises(CalendarError, match="work_week"):
        WorkCalendar(work_week=week)


def test_hari_are_calendar_days_holidays_included() -> None:
    assert STANDARD.add_days(date(2026, 3, 16), 14) == date(2026, 3, 30)
    assert STANDARD.due_date(date(2026, 3, 16), 14, "hari") == date(2026, 3, 30)
    assert STANDARD.due_date(date(2026, 3, 16), 35, "hari_kerja") == date(2026, 5, 13)


@pytest.mark.parametrize("start, due", [
    (date(2026, 11, 20), date(2026, 11, 23)),  # Jumat + 1 hari = Sabtu: Senin
    (date(2026, 6, 15), date(2026, 6, 17)),    # the day before 1 Muharam (Selasa 16 Juni)
    (date(2026, 5, 13), date(2026, 5, 18)),    # Kenaikan, cuti bersama, then the weekend
    (date(2026, 11, 18), date(2026, 11, 19)),  # a working day: calendar days as written
])
def test_a_hari_due_date_on_a_day_off_moves_to_the_next_working_day(start: date,
                                                                     due: date) -> None:
    """Step 13's "1 hari" counts calendar days, but is never due while the office is closed."""
    assert STANDARD.due_date(start, 1, "hari") == due
    assert STANDARD.is_workday(due)


def test_next_workday_is_the_day_itself_when_it_is_worked() -> None:
    assert STANDARD.next_workday(date(2026, 11, 23)) == date(2026, 11, 23)
    assert STANDARD.next_workday(date(2026, 12, 24)) == date(2026, 12, 28)  # cuti, Natal, weekend
    local = WorkCalendar(extra_holidays=frozenset({date(2026, 11, 23)}))
    assert local.next_workday(date(2026, 11, 21)) == date(2026, 11, 24)


def test_unknown_unit_is_named_in_the_error() -> None:
    with pytest.raises(CalendarError, match="unknown time unit 'jam'"):
        STANDARD.due_date(date(2026, 3, 16), 3, "jam")


def test_no_warnings_for_2025_and_2026_which_are_decreed_and_fixed() -> None:
    assert STANDARD.warnings_for(date(2024, 12, 31), date(2026, 12, 31)) == []


def test_estimated_islamic_holidays_of_2027_are_warned_about_with_their_dates() -> None:
    assert STANDARD.warnings_for(date(2027, 3, 1), date(2027, 3, 31)) == [
        '"Hari Raya Idul Fitri (perkiraan)" on 2027-03-10 is only an estimated date in '
        "holidays 0.109; the official date may differ and move the due date.",
        '"Hari kedua dari Hari Raya Idul Fitri (perkiraan)" on 2027-03-11 is only an estimated '
        "date in holidays 0.109; the official date may differ and move the due date.",
    ]


def test_estimated_warning_range_excludes_start_and_includes_end() -> None:
    assert STANDARD.warnings_for(date(2027, 3, 11), date(2027, 3, 20)) == []
    warnings = STANDARD.warnings_for(date(2027, 5, 1), date(2027, 5, 17))
    assert len(warnings) == 1
    assert "2027-05-17" in warnings[0]


def test_year_without_cuti_bersama_is_warned_about() -> None:
    # holidays 0.109 has the cuti bersama decrees up to 2027 and none for 2028.
    assert STANDARD.warnings_for(date(2027, 12, 31), date(2028, 1, 2)) == [
        "holidays 0.109 lists no cuti bersama for 2028: the joint decree (SKB) for 2028 may be "
        "missing, so due dates in 2028 can be too early; add its cuti bersama to "
        "extra_holidays or upgrade holidays."
    ]
    assert STANDARD.warnings_for(date(2026, 12, 31), date(2027, 1, 4)) == []


def test_empty_range_has_no_warnings() -> None:
    assert STANDARD.warnings_for(date(2028, 6, 1), date(2028, 6, 1)) == []
    assert STANDARD.warnings_for(date(2028, 6, 2), date(2028, 6, 1)) == []


# Property tests over real data, 2024-2028, with random offices.

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
CALENDARS = st.builds(
    WorkCalendar,
    work_week=st.frozensets(st.integers(1, 7), min_size=1),
    extra_holidays=st.frozensets(DAYS, max_size=5),
    extra_workdays=st.frozensets(DAYS, max_size=5),
)
AMOUNTS = st.integers(min_value=0, max_value=80)


@settings(deadline=None)
@given(calendar=CALENDARS, start=DAYS, n=AMOUNTS)
def test_workdays_between_inverts_add_workdays(calendar: WorkCalendar, start: date, n: int) -> None:
    assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


@settings(deadline=None)
@given(calendar=CALENDARS, start=DAYS, n=st.integers(min_value=1, max_value=80))
def test_due_date_is_a_workday_after_start(calendar: WorkCalendar, start: date, n: int) -> None:
    due = calendar.add_workdays(start, n)
    assert due > start
    assert calendar.is_workday(due)
    assert calendar.workdays_between(start, due - timedelta(days=1)) == n - 1


@settings(deadline=None)
@given(calendar=CALENDARS, start=DAYS, n=AMOUNTS, more=st.integers(min_value=1, max_value=20))
def test_add_workdays_is_strictly_monotonic(
    calendar: WorkCalendar, start: date, n: int, more: int
) -> None:
    assert calendar.add_workdays(start, n) < calendar.add_workdays(start, n + more)


@settings(deadline=None)
@given(calendar=CALENDARS, start=DAYS, end=DAYS)
def test_counted_days_fit_in_the_range(calendar: WorkCalendar, start: date, end: date) -> None:
    count = calendar.workdays_between(start, end)
    assert calendar.add_workdays(start, count) <= max(start, end)
    assert calendar.add_workdays(start, count + 1) > end
