"""A figure next to its baseline, and the plain table (and JSON) they are printed as."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One measured value and the baseline it is judged against, measured in the same run."""

    benchmark: str
    figure: str
    value: float
    baseline: str
    baseline_value: float
    unit: str = ""

    @property
    def ratio(self) -> float:
        """value / baseline value (inf when the baseline is zero and the value is not)."""
        if self.baseline_value == 0:
            return 1.0 if self.value == 0 else math.inf
        return self.value / self.baseline_value


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated between ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) >= 10:
        return f"{int(value)}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


HEADER = ("benchmark", "figure", "value", "baseline", "value", "ratio")


def rows(figures: Iterable[Figure]) -> list[tuple[str, ...]]:
    """The table's rows as text, the unit written after each value."""
    out = []
    for f in figures:
        unit = f" {f.unit}" if f.unit else ""
        out.append((f.benchmark, f.figure, _number(f.value) + unit, f.baseline,
                    _number(f.baseline_value) + unit, f"{f.ratio:.2f}"))
    return out


def render(figures: Iterable[Figure], *, markdown: bool = False) -> str:
    """A plain aligned table, or a Markdown one."""
    body = rows(figures)
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
    right = {2, 4, 5}

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in body])


def write_json(figures: Iterable[Figure], path: Path) -> None:
    """Every figure with its ratio, for machines."""
    data = [asdict(f) | {"ratio": f.ratio} for f in figures]
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
