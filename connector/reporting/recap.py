"""The monthly recap per SOP step: completions, how many kept the time standard, the median.

A completion belongs to the month of its completion day (``step_completed``'s ``detail.on``).
Its time taken is counted in hari kerja from the day the round began; for the cumulative
development standard (step 12, "maksimal 35 hari kerja") it is every round so far, because
that is what the standard limits. A standard in hari (step 13) is met by the calendar day.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from sqlalchemy import Engine, select

from connector.calendar import WorkCalendar
from connector.errors import ConnectorError
from connector.reporting.rounds import Round, load_histories
from connector.sop.model import Sop, Step, TimeUnit
from connector.store.db import reading
from connector.store.schema import audit
from connector.workflow.state import COMPLETED

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
CSV_HEADER = ("bulan", "langkah", "judul", "standar_waktu", "selesai", "memenuhi_standar",
              "median_hari_kerja")
COLORS = {"met": "#2e7d32", "missed": "#c62828", "none": "#78909c"}


class ReportError(ConnectorError):
    """A report was asked for something that cannot be reported (a malformed month)."""


@dataclass(frozen=True)
class StepRecap:
    """One step's month: ``met`` is None for a step without a time standard."""

    step: int
    title: str
    standard: str | None
    completed: int
    met: int | None
    median_hari_kerja: float | None


def parse_month(text: str) -> tuple[date, date]:
    """The first and last day of ``YYYY-MM``; ReportError for anything else."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", text or "") or not 1 <= int(text[5:]) <= 12 \
            or not 1 <= int(text[:4]) <= 9998:  # date() has no year 0; 9999-12 has no "next"
        raise ReportError(f"bulan harus berformat YYYY-MM, misalnya 2026-11 (bukan {text!r})")
    first = date(int(text[:4]), int(text[5:]), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def month_label(text: str) -> str:
    """``2026-11`` as ``November 2026``."""
    first, _ = parse_month(text)
    return f"{MONTHS[first.month - 1]} {first.year}"


def monthly_recap(engine: Engine, sop: Sop, calendar: WorkCalendar,
                  month: str) -> list[StepRecap]:
    """Every step of the SOP, in order, with its completions in ``month`` (YYYY-MM)."""
    first, last = parse_month(month)
    with_completions = select(audit.c.case_id).where(audit.c.action == COMPLETED).distinct()
    with reading(engine) as conn:
        histories = load_histories(conn, with_completions)
    taken: dict[int, list[tuple[int, bool]]] = {s.number: [] for s in sop.steps}
    for past in histories.values():
        for number, rounds in past.rounds.items():
            step = sop.step(number)
            for index, done in enumerate(rounds):
                if done.end is not None and first <= done.end <= last:
                    taken[number].append(_taken(calendar, step, rounds[: index + 1]))
    return [_recap(step, taken[step.number]) for step in sop.steps]


def _taken(calendar: WorkCalendar, step: Step, rounds: Sequence[Round]) -> tuple[int, bool]:
    """Hari kerja taken by the last of ``rounds`` (all of them when cumulative), and if met."""
    done = rounds[-1]
    assert done.end is not None
    counted = rounds if step.time is not None and step.time.cumulative else rounds[-1:]
    days = sum(calendar.workdays_between(r.start, r.end or done.end) for r in counted)
    if step.time is None:
        return days, False
    if step.time.unit is TimeUnit.HARI:
        return days, done.end <= calendar.add_days(done.start, step.time.amount)
    return days, days <= step.time.amount


def _recap(step: Step, taken: list[tuple[int, bool]]) -> StepRecap:
    return StepRecap(
        step=step.number, title=step.title, standard=step.time.label if step.time else None,
        completed=len(taken), met=sum(ok for _, ok in taken) if step.time else None,
        median_hari_kerja=statistics.median(d for d, _ in taken) if taken else None)


def decimal(value: float) -> str:
    """A number as Indonesian text: ``2,5``, ``3``."""
    return f"{value:g}".replace(".", ",")


def recap_csv(month: str, recaps: Sequence[StepRecap]) -> str:
    """The recap as CSV (comma-separated, decimal point), one row per step."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in recaps:
        writer.writerow((month, r.step, r.title, r.standard or "", r.completed,
                         "" if r.met is None else r.met,
                         "" if r.median_hari_kerja is None else f"{r.median_hari_kerja:g}"))
    return out.getvalue()


def recap_svg(month: str, recaps: Sequence[StepRecap]) -> str:
    """A bar per step: completions that met the standard in green, the others in red.

    Bars are laid out in percentages of the chart's width and text in pixels, so the chart
    fills a phone or a desktop page and its labels keep a readable size on both.
    """
    top, row = 34, 34
    most = max((r.completed for r in recaps), default=0) or 1
    height = top + row * len(recaps)
    title = f"Rekap penyelesaian langkah SOP, {month_label(month)}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" '
             f'role="img" aria-labelledby="recap-title" class="chart recap-chart" '
             f'font-family="sans-serif" font-size="12">',
             f'<title id="recap-title">{escape(title)}</title>', _legend()]
    parts += [_bar(r, top + i * row, most) for i, r in enumerate(recaps)]
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> str:
    items = (("met", "memenuhi standar", 4), ("missed", "melebihi standar", 124),
             ("none", "tanpa standar", 242))
    return "".join(
        f'<rect x="{x}" y="6" width="12" height="12" fill="{COLORS[key]}"/>'
        f'<text x="{x + 16}" y="16" font-size="11">{label}</text>' for key, label, x in items)


def _bar(r: StepRecap, y: int, most: int) -> str:
    scale = 55 / most  # percent of the width per completion; the rest holds the numbers
    good = r.completed if r.met is None else r.met
    first = COLORS["none"] if r.met is None else COLORS["met"]
    median = "" if r.median_hari_kerja is None else f" · median {decimal(r.median_hari_kerja)} hk"
    label = f"{r.step}. {r.title}"
    label = label if len(label) <= 50 else label[:49] + "…"
    return (f'<g class="recap-row" data-step="{r.step}" data-completed="{r.completed}">'
            f'<text x="4" y="{y + 10}" fill="#263238">{escape(label)}</text>'
            f'<rect x="1%" y="{y + 15}" width="{good * scale:.2f}%" height="11" fill="{first}"/>'
            f'<rect x="{1 + good * scale:.2f}%" y="{y + 15}" '
            f'width="{(r.completed - good) * scale:.2f}%" height="11" '
            f'fill="{COLORS["missed"]}"/>'
            f'<text x="{1 + r.completed * scale:.2f}%" dx="5" y="{y + 25}" fill="#263238">'
            f"{r.completed}{escape(median)}</text></g>")
