"""Indonesian working-day ("hari kerja") calendar for the SOP's time standards.

Holidays come from the ``holidays`` package: category "public" gives the national holidays and
"government" gives the cuti bersama of the yearly joint decree (SKB). A year's data is built once
and cached, so deadline computations for thousands of cases never rebuild the holiday tables.

The convention for "N hari kerja": a step that becomes active on day D with a standard of
N hari kerja is due at the end of the N-th working day after D. D itself never counts, whether
or not it is a working day. So ``add_workdays(D, N) == due`` exactly when ``due`` is a working day
and ``workdays_between(D, due) == N``.

The convention for "N hari" (calendar days, step 13): due on day D + N, or on the first working
day after it when D + N is a day off (``add_days``).

A date is a working day when it is in ``extra_workdays`` (that wins over everything), or when its
ISO weekday is in ``work_week`` and it is neither a package holiday nor in ``extra_holidays``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from holidays.countries.indonesia import Indonesia
from holidays.version import __version__ as HOLIDAYS_VERSION

from connector.errors import CalendarError

LOCAL_HOLIDAY_NAME = "Libur daerah (konfigurasi)"
UNITS = ("hari_kerja", "hari")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _YearHolidays:
    """What the holidays package says about one year, in Indonesian."""

    names: Mapping[date, str]
    estimated: frozenset[date]
    has_cuti_bersama: bool


@functools.lru_cache(maxsize=256)
def _year_holidays(year: int) -> _YearHolidays:
    """Return the public holidays and cuti bersama of ``year``, built once per year.

    The package appends its own translated estimated label ("%s (perkiraan)" in Indonesian) to
    Islamic, Chinese and Buddhist holidays whose date is not yet fixed; the marker is taken from
    the package rather than hard-coded so a relabelled release still gets detected.
    """
    both = Indonesia(years=year, categories=("public", "government"), language="id")
    government = Indonesia(years=year, categories=("government",), language="id")
    marker = str(both.tr(both.estimated_label)).replace("%s", "").strip()
    names = {day: str(name) for day, name in both.items()}
    estimated = frozenset(day for day, name in names.items() if marker in name)
    return _YearHolidays(MappingProxyType(names), estimated, len(government) > 0)


def _check_not_negative(n: int, unit: str) -> None:
    """Raise CalendarError when a time standard is negative."""
    if n < 0:
        raise CalendarError(f"a time standard cannot be negative: {n} {unit}")


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of one office: its work week, local holidays and make-up working days."""

    work_week: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Reject a work week that is empty or names a day outside ISO 1..7."""
        if not self.work_week or not self.work_week <= frozenset(range(1, 8)):
            got = sorted(self.work_week)
            raise CalendarError(f"work_week must be non-empty ISO weekdays 1..7, got {got}")

    @classmethod
    def standard(cls) -> WorkCalendar:
        """Return the national calendar: Monday to Friday, no local extras."""
        return cls()

    def holiday_name(self, d: date) -> str | None:
        """Return why offices are closed on ``d``, or None when no holiday applies.

        The package's Indonesian name wins over the local label; a date in ``extra_workdays``
        has no holiday name, because it is worked whatever the package says.
        """
        if d in self.extra_workdays:
            return None
        name = _year_holidays(d.year).names.get(d)
        if name is None and d in self.extra_holidays:
            return LOCAL_HOLIDAY_NAME
        return name

    def is_workday(self, d: date) -> bool:
        """Return whether ``d`` is a working day (hari kerja) for this office."""
        if d in self.extra_workdays:
            return True
        return d.isoweekday() in self.work_week and self.holiday_name(d) is None

    def add_workdays(self, start: date, n: int) -> date:
        """Return the due date of a step active on ``start`` with a standard of ``n`` hari kerja.

        The step is due at the end of the n-th working day after ``start``; ``start`` itself
        never counts, even when it is a working day. ``n == 0`` returns ``start``; a negative
        ``n`` raises CalendarError.
        """
        _check_not_negative(n, "hari_kerja")
        day, counted = start, 0
        while counted < n:
            day += _ONE_DAY
            if self.is_workday(day):
                counted += 1
        return day

    def add_days(self, start: date, n: int) -> date:
        """Return the due date for a standard of ``n`` hari (calendar days).

        ``start + n`` days, moved to the next working day when that falls on a day off (a
        weekend, a national holiday or cuti bersama, a local holiday): the SOP counts calendar
        days at step 13 ("1 hari"), but nobody is late on a day the office is closed. A
        negative ``n`` raises CalendarError, as for hari kerja.
        """
        _check_not_negative(n, "hari")
        return self.next_workday(start + timedelta(days=n))

    def next_workday(self, d: date) -> date:
        """Return ``d`` when it is a working day, else the first working day after it."""
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """Return the number of working days d with a < d <= b (0 when b <= a)."""
        days = range(1, (b - a).days + 1)
        return sum(1 for i in days if self.is_workday(a + timedelta(days=i)))

    def due_date(self, start: date, amount: int, unit: str) -> date:
        """Return the due date for ``amount`` of ``unit`` ("hari_kerja" or "hari") after start."""
        if unit == "hari_kerja":
            return self.add_workdays(start, amount)
        if unit == "hari":
            return self.add_days(start, amount)
        raise CalendarError(f"unknown time unit {unit!r}; expected one of {', '.join(UNITS)}")

    def warnings_for(self, start: date, end: date) -> list[str]:
        """Return warnings about holiday data that may be wrong within (start, end].

        Two cases make a computed due date unreliable: a holiday in the range whose date the
        package only estimates (lunar calendars, before the official sighting or decree), and a
        year in the range for which the package lists no cuti bersama at all, which means that
        year's SKB was not yet in this release of ``holidays``.
        """
        if end <= start:
            return []
        found: list[str] = []
        for year in range((start + _ONE_DAY).year, end.year + 1):
            data = _year_holidays(year)
            if not data.has_cuti_bersama:
                found.append(
                    f"holidays {HOLIDAYS_VERSION} lists no cuti bersama for {year}: the "
                    f"joint decree (SKB) for {year} may be missing, so due dates in {year} can be "
                    "too early; add its cuti bersama to extra_holidays or upgrade holidays."
                )
            found.extend(
                f'"{data.names[day]}" on {day.isoformat()} is only an estimated date in '
                f"holidays {HOLIDAYS_VERSION}; the official date may differ and move the due date."
                for day in sorted(data.estimated)
                if start < day <= end
            )
        return found
