"""The history on the data branch: ``history/YYYY-MM.csv``, rows ``date,source,item,metric,value``.

One row per metric per UTC day (the last run of the day wins), in the file of the
row's UTC month: a run reads and rewrites only the current month's file (at most
31 days of rows), so the bytes written and pushed each day stay bounded however
long the history grows. Only fresh values are recorded: a stale item's kept value
is not a new observation.

A data branch from before the monthly files has one ``history.csv``: it is left as
it is (never rewritten, never deleted) and read as the history before the first
monthly file; for a (date, source, item, metric) found in both, the monthly file wins.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
from datetime import date as _date
from typing import TYPE_CHECKING, Iterable, Mapping

from statsbot.results import ItemResult

if TYPE_CHECKING:
    from statsbot.snapshot import Snapshot

log = logging.getLogger("statsbot.history")

HISTORY_FILE = "history.csv"  # the single file of earlier versions: read, never written
HISTORY_DIR = "history/"
_MONTH_FILE = re.compile(r"history/([0-9]{4}-[0-9]{2})\.csv")
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


def month_file(day: str) -> str:
    """The history file of a UTC day ``YYYY-MM-DD``: ``history/YYYY-MM.csv``."""
    return f"{HISTORY_DIR}{day[:7]}.csv"


def parse(raw: bytes | None, name: str = HISTORY_FILE) -> Rows:
    """The rows of a history.csv. A malformed row (a hand edit: another date format, a value
    that is not a whole number, a wrong number of fields) is skipped with a warning naming
    ``history.csv`` and its line, and kept verbatim in `Rows.unparsed`; it never stops a run."""
    if not raw:
        return Rows()
    return _parse_text(raw, raw.decode("utf-8-sig", errors="replace"), 1, name)


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


def _warn(raw: bytes, problems: list[tuple[int, str, str]], name: str = HISTORY_FILE, rewritten: bool = True) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    with _warned_lock:
        if digest in _warned:
            return
        if len(_warned) > 64:
            _warned.clear()
        _warned.add(digest)
    for number, line, problem in problems[:_SHOWN_PROBLEMS]:
        shown = line if len(line) <= 80 else line[:77] + "..."
        log.warning("%s:%d: skipped a malformed row (%s): %s", name, number, problem, shown)
    rest = problems[_SHOWN_PROBLEMS:]
    if rest:
        lines = ", ".join(str(n) for n, _, _ in rest[:20]) + (", ..." if len(rest) > 20 else "")
        log.warning("%s: %d more malformed rows skipped (lines %s)", name, len(rest), lines)
    if rewritten:
        log.warning("%s: malformed rows are kept as they are at the end of the file; fix or delete them there", name)
    else:  # an earlier month's file or the single history.csv of earlier versions: read, never rewritten
        log.warning("%s: malformed rows are left as they are (this file is only read); fix or delete them there", name)


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


# ------------------------------------------------------------------ streaming update
#
# A year of daily runs is millions of rows. `update` gives the same bytes as
# ``render_csv(updated(...))`` without a Python object per row: the rows before today
# are checked in large chunks by C code (regular expressions, `bytes.split`, `sorted`)
# and copied through as they are; only the tail (today's rows and any malformed or
# unsorted ones) is parsed row by row. A file that is not in the written form (a hand
# edit in the middle, rows out of order, duplicates) is parsed whole once, the old way,
# and written back in order: the next run takes the fast path again.

Charted = tuple[str, str, str]  # source, item, metric
Points = list[tuple[str, int]]

_HEADER_LINE = (",".join(HEADER) + "\n").encode()
_BOM = b"\xef\xbb\xbf"
_CHUNK = 256 * 1024
# A row exactly as `render_csv` writes it, with fields of plain ASCII above ',': such rows need
# no quoting, and comparing the lines' bytes orders them as their (date, source, item, metric) keys.
_FIELD = rb"[\x2d-\x7e]+"
_ROWS = re.compile(rb"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}," + _FIELD + rb"," + _FIELD + rb"," + _FIELD + rb",(?:0|[1-9][0-9]*)\n)*")
_VALUE_AT_END = re.compile(rb",[0-9]+\n")
_MANY_CHARTED = 16  # above this many charted series, one Python step per row instead of a search per series


class Updated:
    """`update`'s answer: history.csv's new bytes and the charted series before and after."""

    def __init__(self, data: bytes, old: dict[Charted, Points], new: dict[Charted, Points]) -> None:
        self.data = data
        self.old = old
        self.new = new


def update(
    previous: bytes | None, results: Iterable[ItemResult], day: str, charted: Iterable[Charted] = (), name: str = HISTORY_FILE
) -> Updated:
    """A history file with today's fresh values laid over it (byte for byte what
    ``render_csv(updated(previous, results, day))`` gives), and the series named in
    `charted` as they were and as they are now (each sorted by date)."""
    wanted = set(charted)
    fresh: dict[Key, int] = {}
    for result in results:
        for metric, value in result.fresh_metrics().items():
            fresh[(day, result.source, result.item, metric)] = value
    raw = previous or b""
    start = len(_BOM) if raw.startswith(_BOM) else 0
    if raw.startswith(_HEADER_LINE, start):
        start += len(_HEADER_LINE)
    end, last_key, old_series = _verified_prefix(raw, start, day.encode(), wanted)
    tail = Rows()
    if end < len(raw):
        first_line = 1 + raw.count(b"\n", 0, end)
        tail = _parse_text(raw, raw[end:].decode("utf-8", errors="replace"), first_line, name)
    if last_key is not None and any(_key_bytes(key) <= last_key for key in tail):
        # Rows after the checked part that sort before it: not the written form. Parse it whole.
        return _update_whole(previous, fresh, wanted, name)
    for key, value in tail.items():
        if key[1:] in wanted:
            old_series.setdefault(key[1:], []).append((key[0], value))
    new_series = {name: list(points) for name, points in old_series.items()}
    rows = Rows(tail)
    rows.unparsed = tail.unparsed
    for key, value in fresh.items():
        rows[key] = value
        if key[1:] in wanted:
            new_series.setdefault(key[1:], []).append((key[0], value))
    for found in (old_series, new_series):
        for name, points in found.items():
            found[name] = _last_per_day(points)
    data = b"".join((_HEADER_LINE, memoryview(raw)[start:end], render_csv(rows)[len(_HEADER_LINE) :]))  # one copy of the old rows
    return Updated(data, old_series, new_series)


def _key_bytes(key: Key) -> bytes:
    return ",".join(key).encode("utf-8", errors="replace")


def _last_per_day(points: Points) -> Points:
    return sorted(dict(points).items())  # a date seen twice: the later point (today's fresh value) wins


def _verified_prefix(raw: bytes, start: int, day: bytes, wanted: set[Charted]) -> tuple[int, bytes | None, dict[Charted, Points]]:
    """How far from `start` the rows are in the written form, strictly in key order and all
    before `day`; the last key there; the charted series found there."""
    series: dict[Charted, Points] = {}
    needles = {b"," + ",".join(name).encode() + b",": name for name in wanted} if len(wanted) <= _MANY_CHARTED else {}
    wanted_bytes = {",".join(name).encode(): name for name in wanted} if len(wanted) > _MANY_CHARTED else {}
    last_key: bytes | None = None
    pos = start
    while pos < len(raw):
        end = raw.rfind(b"\n", pos, pos + _CHUNK) + 1
        if end <= pos:
            end = raw.find(b"\n", pos) + 1  # one line longer than a chunk
            if end <= 0:
                break
        if not _ROWS.fullmatch(raw, pos, end):
            break
        chunk = bytes(raw[pos:end])  # (a bytearray from `read_once`: hashable pieces)
        keys = _VALUE_AT_END.sub(b"\n", chunk).split(b"\n")
        keys.pop()
        if keys[-1][:10] >= day or (last_key is not None and keys[0] <= last_key):
            break
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            break
        if not _real_days(chunk):
            break
        if needles:
            _find_series(chunk, needles, series)
        elif wanted_bytes:
            for line in chunk.split(b"\n")[:-1]:
                head, _, value = line.rpartition(b",")
                name = wanted_bytes.get(head[11:])
                if name is not None:
                    series.setdefault(name, []).append((head[:10].decode(), int(value)))
        last_key = keys[-1]
        pos = end
    return pos, last_key, series


def _find_series(chunk: bytes, needles: Mapping[bytes, Charted], series: dict[Charted, Points]) -> None:
    """The rows of a few charted series in a chunk of rows in the written form: a search for
    ",source,item,metric," right after each row's date (`bytes.find`, no step per row)."""
    for needle, name in needles.items():
        at = chunk.find(needle)
        while at >= 0:
            end = chunk.find(b"\n", at)
            if at == 10 or (at > 10 and chunk[at - 11] == 10):  # right after the date at the start of a row
                series.setdefault(name, []).append((chunk[at - 10 : at].decode(), int(chunk[at + len(needle) : end])))
            at = chunk.find(needle, end)


def _real_days(chunk: bytes) -> bool:
    """Whether every row's date in a chunk of rows in key order is a real day: each distinct
    date is checked once (the rows of one date are together)."""
    pos = 0
    while pos < len(chunk):
        day = chunk[pos : pos + 10]
        if not _real_day(day):
            return False
        last = chunk.rfind(b"\n" + day + b",", pos)  # the row before the last row of this date
        pos = chunk.find(b"\n", last + 1 if last >= 0 else pos) + 1
    return True


def _real_day(found: bytes) -> bool:
    try:
        _date.fromisoformat(found.decode())
    except ValueError:
        return False
    return True


def _parse_text(raw: bytes, text: str, first_line: int, name: str = HISTORY_FILE, rewritten: bool = True) -> Rows:
    """Rows of part of the file (lines numbered from `first_line`), warning about malformed ones."""
    rows = Rows()
    problems: list[tuple[int, str, str]] = []
    for number, line in enumerate(text.splitlines(), first_line):
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
        _warn(raw, problems, name, rewritten)
    return rows


def _update_whole(previous: bytes | None, fresh: Mapping[Key, int], wanted: set[Charted], name: str = HISTORY_FILE) -> Updated:
    old_rows = parse(previous, name)
    old = {name: series(old_rows, *name) for name in wanted}
    rows = old_rows
    for key, value in fresh.items():
        rows[key] = value
    new = {name: series(rows, *name) for name in wanted}
    return Updated(render_csv(rows), {k: v for k, v in old.items() if v}, {k: v for k, v in new.items() if v})


# ------------------------------------------------------------------ the months before this one
#
# Charts need more than the current month: whether a chart can be carried over needs a
# series' last value before today, and drawing one needs its whole series. The earlier
# files are read one at a time, newest first, keeping only the charted series' points,
# so no more than one month's bytes are held at once; a snapshot that caches what it
# reads (`publish.GitSnapshot`) is asked through `read_uncached` when it has one.


def earlier_files(previous: Snapshot, day: str) -> list[str]:
    """The history files before `day`'s month, newest first: the monthly files, then the
    single ``history.csv`` of earlier versions (read only if it is there)."""
    month = day[:7]
    months = sorted(
        (found.group(1), path)
        for path in previous.list(HISTORY_DIR)
        if (found := _MONTH_FILE.fullmatch(path)) and found.group(1) < month
    )
    return [path for _, path in reversed(months)] + [HISTORY_FILE]


def last_points(previous: Snapshot, day: str, names: Iterable[Charted]) -> dict[Charted, tuple[str, int]]:
    """Each series' last point in the files before `day`'s month (absent: none there). The
    files are read newest first and only until every series is found."""
    pending = set(names)
    found: dict[Charted, tuple[str, int]] = {}
    for path in earlier_files(previous, day) if pending else ():
        for name, points in _series_in(read_once(previous, path), path, pending).items():
            if points:
                found[name] = max(points.items())
                pending.discard(name)
        if not pending:
            break
    return found


def earlier_series(previous: Snapshot, day: str, names: Iterable[Charted]) -> dict[Charted, Points]:
    """The series' points in every file before `day`'s month, sorted by date; for a date found
    in two files, the newer file (a monthly file over ``history.csv``) wins."""
    wanted = set(names)
    merged: dict[Charted, dict[str, int]] = {}
    for path in earlier_files(previous, day) if wanted else ():
        for name, points in _series_in(read_once(previous, path), path, wanted).items():
            into = merged.setdefault(name, {})
            for date, value in points.items():
                into.setdefault(date, value)  # newest file first: a date already seen keeps its value
    return {name: sorted(points.items()) for name, points in merged.items() if points}


def read_once(previous: Snapshot, path: str) -> bytes | None:
    """A history file, without the snapshot keeping its bytes for the rest of the run."""
    read = getattr(previous, "read_uncached", None) or previous.read
    return read(path)


def _series_in(raw: bytes | None, path: str, wanted: set[Charted]) -> dict[Charted, dict[str, int]]:
    """The points (date -> value) of the `wanted` series in one history file. Chunks in the
    written form are searched (`_find_series`, no step per row); any other chunk is parsed
    row by row, warning once about malformed rows, which are skipped (a later row of the
    same key in the file wins, as in `parse`)."""
    found: dict[Charted, dict[str, int]] = {}
    if not raw or not wanted:
        return found
    start = len(_BOM) if raw.startswith(_BOM) else 0
    if raw.startswith(_HEADER_LINE, start):
        start += len(_HEADER_LINE)
    needles = {b"," + ",".join(name).encode() + b",": name for name in wanted} if len(wanted) <= _MANY_CHARTED else {}
    wanted_bytes = {",".join(name).encode(): name for name in wanted} if not needles else {}
    days_ok: dict[str, bool] = {}
    pos = start
    while pos < len(raw):
        end = raw.rfind(b"\n", pos, pos + _CHUNK) + 1
        if end <= pos:
            end = raw.find(b"\n", pos) + 1 or len(raw)
        if _ROWS.fullmatch(raw, pos, end):
            chunk = bytes(raw[pos:end])  # (a bytearray from `read_once`: hashable pieces)
            points: dict[Charted, Points] = {}
            if needles:
                _find_series(chunk, needles, points)
            else:
                for line in chunk.split(b"\n")[:-1]:
                    head, _, value = line.rpartition(b",")
                    name = wanted_bytes.get(head[11:])
                    if name is not None:
                        points.setdefault(name, []).append((head[:10].decode(), int(value)))
            for name, found_points in points.items():
                into = found.setdefault(name, {})
                for date, value in found_points:
                    real = days_ok.get(date)
                    if real is None:
                        real = days_ok[date] = _real_day(date.encode())
                    if real:
                        into[date] = value
        else:
            first_line = 1 + raw.count(b"\n", 0, pos)
            rows = _parse_text(raw[pos:end], raw[pos:end].decode("utf-8", errors="replace"), first_line, path, rewritten=False)
            for (date, source, item, metric), value in rows.items():
                if (source, item, metric) in wanted:
                    found.setdefault((source, item, metric), {})[date] = value
        pos = end
    return found
