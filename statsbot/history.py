"""`history.csv` on the data branch: ``date,source,item,metric,value``.

One row per metric per UTC day (the last run of the day wins), so a year of daily
runs stays one small file. Only fresh values are recorded: a stale item's kept
value is not a new observation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
from datetime import date as _date
from typing import Iterable, Mapping

from statsbot.results import ItemResult

log = logging.getLogger("statsbot.history")

HISTORY_FILE = "history.csv"
HEADER = ("date", "source", "item", "metric", "value")
Key = tuple[str, str, str, str]  # date, source, item, metric

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_VALUE = re.compile(r"[0-9]+")
_SHOWN_PROBLEMS = 5  # one warning per malformed row up to this many, then one summary line
_warned_lock = threading.Lock()
_warned: set[str] = set()  # digests of files already warned about (a run parses the same file more than once)


class Rows(dict):  # type: ignore[type-arg]
    """The parsed rows, by key; `unparsed` holds the lines that did not parse, verbatim, in
    file order: `render_csv` writes them back at the end of the file, so a hand edit is never lost."""

    unparsed: list[str]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.unparsed = []


def parse(raw: bytes | None) -> Rows:
    """The rows of a history.csv. A malformed row (a hand edit: another date format, a value
    that is not a whole number, a wrong number of fields) is skipped with a warning naming
    ``history.csv`` and its line, and kept verbatim in `Rows.unparsed`; it never stops a run."""
    rows = Rows()
    if not raw:
        return rows
    problems: list[tuple[int, str, str]] = []
    for number, line in enumerate(raw.decode("utf-8-sig", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        record = next(csv.reader([line]), [])
        if tuple(record) == HEADER:
            continue
        problem = _problem(record)
        if problem:
            problems.append((number, line, problem))
            rows.unparsed.append(line)
            continue
        day, source, item, metric, value = record
        rows[(day, source, item, metric)] = int(value)
    if problems:
        _warn(raw, problems)
    return rows


def _problem(record: list[str]) -> str | None:
    if len(record) != 5:
        return f"{len(record)} fields where 5 (date,source,item,metric,value) were expected"
    day, source, item, metric, value = record
    if not _DATE.fullmatch(day):
        return f"the date {day!r} is not YYYY-MM-DD"
    try:
        _date.fromisoformat(day)
    except ValueError:
        return f"the date {day!r} is not a real day"
    if not (source and item and metric):
        return "an empty source, item or metric"
    if not _VALUE.fullmatch(value):
        return f"the value {value!r} is not a whole number"
    return None


def _warn(raw: bytes, problems: list[tuple[int, str, str]]) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    with _warned_lock:
        if digest in _warned:
            return
        if len(_warned) > 64:
            _warned.clear()
        _warned.add(digest)
    for number, line, problem in problems[:_SHOWN_PROBLEMS]:
        shown = line if len(line) <= 80 else line[:77] + "..."
        log.warning("%s:%d: skipped a malformed row (%s): %s", HISTORY_FILE, number, problem, shown)
    rest = problems[_SHOWN_PROBLEMS:]
    if rest:
        lines = ", ".join(str(n) for n, _, _ in rest[:20]) + (", ..." if len(rest) > 20 else "")
        log.warning("%s: %d more malformed rows skipped (lines %s)", HISTORY_FILE, len(rest), lines)
    log.warning("%s: malformed rows are kept as they are at the end of the file; fix or delete them there", HISTORY_FILE)


def updated(previous: bytes | None, results: Iterable[ItemResult], day: str) -> dict[Key, int]:
    """The previous rows with today's fresh values laid over them.

    Only fresh values become rows: an item (or a total) that is not ``ok`` adds none, and
    neither does a metric kept from an earlier run because the answer left it out.
    """
    rows = parse(previous)
    for result in results:
        for metric, value in result.fresh_metrics().items():
            rows[(day, result.source, result.item, metric)] = value
    return rows


def render_csv(rows: Mapping[Key, int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for key in sorted(rows):
        writer.writerow((*key, rows[key]))
    for line in getattr(rows, "unparsed", ()):  # rows that did not parse, kept verbatim (see `parse`)
        out.write(line + "\n")
    return out.getvalue().encode("utf-8")


def series(rows: Mapping[Key, int], source: str, item: str, metric: str) -> list[tuple[str, int]]:
    return sorted((date, value) for (date, s, i, m), value in rows.items() if (s, i, m) == (source, item, metric))
