"""Read an SOP file (TOML) and validate it, reporting every problem with its step."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from connector.errors import SopError
from connector.sop.model import (
    Automation,
    Decision,
    DocumentKind,
    Gate,
    Role,
    Sop,
    SopHeader,
    Step,
    TimeStandard,
    TimeUnit,
)

DEFAULT_SOP = "sumbawa.toml"
E = TypeVar("E", bound=StrEnum)
_FOLLOWERS = ("next", "decision", "terminal")
_STEP_KEYS = frozenset({"number", "title", "text", "role", "inputs", "outputs", "time",
                        "requires_document", "automation", "documents", "gate", "records_team",
                        "findings", "acknowledged_by", *_FOLLOWERS})
_TIME_KEYS = frozenset({"amount", "unit", "cumulative"})
_BRANCHES = ("ya", "tidak")
_HEADER_TEXTS = ("nomor", "nama", "instansi", "disahkan_oleh")
_HEADER_DATES = ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif")
_HEADER_LISTS = ("dasar_hukum", "kualifikasi_pelaksana", "kualifikasi_fungsi",
                 "kualifikasi_status", "keterkaitan", "peralatan", "peringatan", "pencatatan")
_HEADER_KEYS = frozenset({*_HEADER_TEXTS, *_HEADER_DATES, *_HEADER_LISTS})


def load_default_sop() -> Sop:
    """The Sumbawa SOP 555/568/DKIST/2021 shipped with the package."""
    text = resources.files("connector.sop").joinpath(DEFAULT_SOP).read_text("utf-8")
    return parse_sop(text, source=f"<bundled {DEFAULT_SOP}>")


def load_sop(path: Path | None) -> Sop:
    """The SOP at ``path``, or the bundled one when ``path`` is None."""
    if path is None:
        return load_default_sop()
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise SopError([f"{path}: cannot read the SOP file ({exc.strerror})"]) from exc
    except UnicodeDecodeError as exc:
        raise SopError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    return parse_sop(text, source=str(path))


def parse_sop(text: str, *, source: str) -> Sop:
    """Parse and validate SOP TOML text; raise SopError listing every problem.

    The links between steps are only checked when every step has a valid number: with a
    step whose number is unknown, "leads to a missing step" could well be wrong.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SopError([f"{source}: not valid TOML: {exc}"]) from exc
    problems: list[str] = []
    header = data.get("sop", {})
    if not isinstance(header, Mapping):
        problems.append("[sop] must be a table (nomor, nama, instansi)")
        header = {}
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise SopError([f"{source}: {p}" for p in [*problems, "no [[steps]] found"]])
    numbers: list[int] = []
    parsed = (_parse_step(raw, i, problems, numbers) for i, raw in enumerate(raw_steps))
    steps = [s for s in parsed if s]
    if len(numbers) == len(raw_steps):
        problems.extend(_check_graph(steps, numbers))
    parsed_header = _header(header, problems)
    if problems:
        raise SopError([f"{source}: {p}" for p in problems])
    return Sop(
        nomor=str(header.get("nomor", "")),
        nama=str(header.get("nama", "")),
        instansi=str(header.get("instansi", "")),
        steps=tuple(sorted(steps, key=lambda s: s.number)),
        header=parsed_header,
    )


def _header(raw: Mapping[str, Any], problems: list[str]) -> SopHeader:
    """The [sop] table: identity, dates, approver and the header's lists, all checked.

    An unknown key is refused rather than dropped, so a header item typed wrong (or one
    this version does not know) never silently disappears from the documents.
    """
    _unknown_keys(raw, _HEADER_KEYS, "[sop]", "", problems)
    for key in _HEADER_TEXTS:
        if key in raw and not isinstance(raw[key], str):
            problems.append(f"[sop]: '{key}' must be a string")
    dates: dict[str, date | None] = {}
    for key in _HEADER_DATES:
        value = raw.get(key)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            problems.append(f"[sop]: '{key}' must be a date such as 2021-12-02, got {value!r}")
            value = None
        dates[key] = value
    lists = {key: _texts(raw, key, "[sop]", problems) for key in _HEADER_LISTS}
    for key, items in lists.items():
        if any(not item for item in items):
            problems.append(f"[sop]: '{key}' has an empty entry")
    return SopHeader(
        tanggal_pembuatan=dates["tanggal_pembuatan"], tanggal_revisi=dates["tanggal_revisi"],
        tanggal_efektif=dates["tanggal_efektif"],
        disahkan_oleh=str(raw.get("disahkan_oleh", "")).strip(),
        dasar_hukum=lists["dasar_hukum"], kualifikasi_pelaksana=lists["kualifikasi_pelaksana"],
        kualifikasi_fungsi=lists["kualifikasi_fungsi"],
        kualifikasi_status=lists["kualifikasi_status"], keterkaitan=lists["keterkaitan"],
        peralatan=lists["peralatan"], peringatan=lists["peringatan"],
        pencatatan=lists["pencatatan"])


def _parse_step(raw: Any, index: int, problems: list[str], numbers: list[int]) -> Step | None:
    """One step from its TOML table; problems are appended, None when unusable.

    Every valid step number is appended to ``numbers``, also for a step that is otherwise
    unusable, so that other steps pointing at it are not reported as dangling.
    """
    where = f"step #{index + 1} in file order"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a table")
        return None
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append(f"{where}: 'number' must be a positive whole number")
        return None
    numbers.append(number)
    before = len(problems)
    where = f"step {number}"
    _unknown_keys(raw, _STEP_KEYS, where, "", problems)
    title = _text(raw, "title", where, problems)
    text = _text(raw, "text", where, problems)
    role = _role(raw.get("role"), where, problems)
    inputs = _texts(raw, "inputs", where, problems)
    outputs = _texts(raw, "outputs", where, problems)
    time = _time(raw.get("time"), where, problems)
    follow = _follower(raw, where, problems)
    requires_document = raw.get("requires_document", False)
    if not isinstance(requires_document, bool):
        problems.append(f"{where}: 'requires_document' must be true or false")
    records_team = raw.get("records_team", False)
    if not isinstance(records_team, bool):
        problems.append(f"{where}: 'records_team' must be true or false")
    automation = _choice(raw, "automation", Automation, where, problems)
    gate = _choice(raw, "gate", Gate, where, problems)
    documents = tuple(_choice({"documents": kind}, "documents", DocumentKind, where, problems)
                      for kind in _texts(raw, "documents", where, problems))
    findings = _texts(raw, "findings", where, problems)
    if findings and (follow[1] is None or not all(findings) or len(set(findings)) < len(findings)):
        problems.append(f"{where}: 'findings' belongs to a decision step and lists distinct, "
                        "non-empty names")
    acknowledged_by = tuple(_role(value, f"{where}: 'acknowledged_by'", problems)
                            for value in _texts(raw, "acknowledged_by", where, problems))
    if len(set(acknowledged_by)) < len(acknowledged_by):
        problems.append(f"{where}: 'acknowledged_by' names a role more than once")
    if len(problems) > before or role is None:
        return None
    next_step, decision = follow
    return Step(number, title, text, role, inputs, outputs, time,
                bool(requires_document), next_step, decision, automation,
                tuple(d for d in documents if d is not None), gate, records_team, findings,
                tuple(r for r in acknowledged_by if r is not None))


def _choice(raw: Mapping[str, Any], key: str, kind: type[E], where: str,
            problems: list[str]) -> E | None:
    """An optional value of an enumeration, named in the message when unknown."""
    value = raw.get(key)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        problems.append(f"{where}: unknown {key} {value!r}; known: {known}")
        return None


def _text(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' must be a non-empty string")
        return ""
    return value.strip()


def _texts(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: '{key}' must be a list of strings")
        return ()
    return tuple(v.strip() for v in value)


def _role(value: Any, where: str, problems: list[str]) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        problems.append(f"{where}: unknown role {value!r}; known roles: {known}")
        return None


def _time(value: Any, where: str, problems: list[str]) -> TimeStandard | None:
    """The step's time standard; both a bad amount and a bad unit are reported."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.append(f"{where}: 'time' must be a table {{ amount = N, unit = \"...\" }}")
        return None
    _unknown_keys(value, _TIME_KEYS, where, "time.", problems)
    amount: Any = value.get("amount")
    unit: Any = value.get("unit")
    units = {u.value for u in TimeUnit}
    amount_ok = isinstance(amount, int) and not isinstance(amount, bool) and amount >= 1
    unit_ok = isinstance(unit, str) and unit in units
    if not amount_ok:
        problems.append(f"{where}: 'time.amount' must be a whole number of at least 1")
    if not unit_ok:
        problems.append(f"{where}: 'time.unit' must be one of {', '.join(sorted(units))}, "
                        f"got {unit!r}")
    cumulative = value.get("cumulative", False)
    if not isinstance(cumulative, bool):
        problems.append(f"{where}: 'time.cumulative' must be true or false")
    elif cumulative and unit != TimeUnit.HARI_KERJA.value:
        problems.append(f"{where}: 'time.cumulative' applies to hari_kerja only")
    if not (amount_ok and unit_ok and isinstance(cumulative, bool)):
        return None
    return TimeStandard(amount, TimeUnit(unit), cumulative=cumulative)


def _unknown_keys(raw: Mapping[str, Any], known: frozenset[str], where: str, prefix: str,
                  problems: list[str]) -> None:
    """Report keys nobody reads, so a typo (``requires_documents``) is not silently ignored."""
    for key in sorted(set(raw) - known):
        problems.append(f"{where}: unknown key '{prefix}{key}'; known: "
                        + ", ".join(prefix + k for k in sorted(known)))


def _follower(
    raw: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[int | None, Decision | None]:
    """What follows the step: exactly one of next, decision or terminal."""
    given = [key for key in _FOLLOWERS if key in raw]
    if len(given) != 1:
        problems.append(
            f"{where}: needs exactly one of 'next', 'decision' or 'terminal = true'"
            + (f", found {', '.join(given)}" if given else "")
        )
        return None, None
    if given == ["terminal"]:
        if raw["terminal"] is not True:
            problems.append(f"{where}: 'terminal' may only be true")
        return None, None
    if given == ["next"]:
        return _step_ref(raw["next"], f"{where}: 'next'", problems), None
    return None, _decision(raw["decision"], where, problems)


def _decision(value: Any, where: str, problems: list[str]) -> Decision | None:
    if not isinstance(value, Mapping):
        problems.append(f"{where}: 'decision' must be a table {{ ya = N, tidak = M }}")
        return None
    _unknown_keys(value, frozenset(_BRANCHES), where, "decision.", problems)
    missing = [branch for branch in _BRANCHES if branch not in value]
    if missing:
        problems.append(
            f"{where}: a decision needs both branches 'ya' and 'tidak'; missing "
            + " and ".join(repr(m) for m in missing)
        )
        return None
    ya = _step_ref(value["ya"], f"{where}: 'decision.ya'", problems)
    tidak = _step_ref(value["tidak"], f"{where}: 'decision.tidak'", problems)
    return Decision(ya, tidak) if ya is not None and tidak is not None else None


def _step_ref(value: Any, what: str, problems: list[str]) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{what} must be a step number")
        return None
    return value


def _check_graph(steps: list[Step], numbers: list[int]) -> list[str]:
    """Duplicates, dangling references, steps unreachable from step 1, and dead ends.

    ``numbers`` holds every step number in the file, also those of steps too broken to use.
    Reachability is only judged when every step could be read, since a broken step's
    successors are unknown and judging without them would report false problems.
    """
    counts = Counter(numbers)
    problems = [f"step {n}: the number is used more than once"
                for n in sorted(n for n, count in counts.items() if count > 1)]
    for step in steps:
        for target in step.successors:
            if target not in counts:
                problems.append(f"step {step.number}: leads to step {target}, which does not exist")
    if numbers and 1 not in counts:
        return [*problems, "step 1: missing; every procedure starts at step 1"]
    by_number = {step.number: step for step in steps}
    if len(by_number) < len(counts):
        return problems
    reachable = _reachable(by_number, start=1)
    for number in sorted(by_number.keys() - reachable):
        problems.append(f"step {number}: unreachable from step 1")
    if not problems:
        problems.extend(_dead_ends(by_number))
    return problems


def _dead_ends(by_number: Mapping[int, Step]) -> list[str]:
    """Steps from which no terminal step can be reached: a case there could never finish."""
    ending = {n for n, step in by_number.items() if step.is_terminal}
    changed = True
    while changed:
        more = {n for n, step in by_number.items()
                if n not in ending and any(t in ending for t in step.successors)}
        ending |= more
        changed = bool(more)
    return [f"step {n}: no terminal step can be reached from here, so a case would never end"
            for n in sorted(by_number.keys() - ending)]


def _reachable(by_number: Mapping[int, Step], *, start: int) -> set[int]:
    seen: set[int] = set()
    todo = [start]
    while todo:
        number = todo.pop()
        if number in seen or number not in by_number:
            continue
        seen.add(number)
        todo.extend(by_number[number].successors)
    return seen
