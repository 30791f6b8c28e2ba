"""`history.csv` on the data branch: ``date,source,item,metric,value``.

One row per metric per UTC day (the last run of the day wins), so a year of daily
runs stays one small file. Only fresh values are recorded: a stale item's kept
value is not a new observation.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable, Mapping

from statsbot.results import ItemResult

HISTORY_FILE = "history.csv"
HEADER = ("date", "source", "item", "metric", "value")
Key = tuple[str, str, str, str]  # date, source, item, metric


def parse(raw: bytes | None) -> dict[Key, int]:
    rows: dict[Key, int] = {}
    if not raw:
        return rows
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace")))
    for record in reader:
        if len(record) != 5 or tuple(record) == HEADER:
            continue
        date, source, item, metric, value = record
        try:
            rows[(date, source, item, metric)] = int(value)
        except ValueError:
            continue
    return rows


def updated(previous: bytes | None, results: Iterable[ItemResult], day: str, extra: Mapping[tuple[str, str], Mapping[str, int]] = {}) -> dict[Key, int]:
    """The previous rows with today's fresh values laid over them (`extra`: (source, item) -> metrics)."""
    rows = parse(previous)
    for result in results:
        if result.status == "ok":
            for metric, value in result.metrics.items():
                rows[(day, result.source, result.item, metric)] = value
    for (source, item), metrics in extra.items():
        for metric, value in metrics.items():
            rows[(day, source, item, metric)] = value
    return rows


def render_csv(rows: Mapping[Key, int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for key in sorted(rows):
        writer.writerow((*key, rows[key]))
    return out.getvalue().encode("utf-8")


def series(rows: Mapping[Key, int], source: str, item: str, metric: str) -> list[tuple[str, int]]:
    return sorted((date, value) for (date, s, i, m), value in rows.items() if (s, i, m) == (source, item, metric))
