"""The files a run writes: what each holds, and writing them safely.

Each source builds its own items' files (`statsbot.sources`); here is what every run
writes whatever its sources: stats.json, grey and error badges, stable timestamps, and
writing. Files are ``{relative path: JSON data}`` so that writing, comparing and
committing share one description of the output. Paths are built only from
validated ids; `safe_relpath` refuses anything else, so nothing a server sends can
choose where a file goes.
"""

from __future__ import annotations

import copy
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from statsbot.badges import DEFAULT_CACHE_SECONDS, STALE_COLOR, Badge
from statsbot.jsonio import dumps, write_bytes_atomic
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.snapshot import Snapshot, read_json

STATS_FILE = "stats.json"
GS_DATA_FILE = "gs_data.json"
STATS_SCHEMA_VERSION = 1
_PART = re.compile(r"[A-Za-z0-9_.-]+")

Files = dict[str, Any]


def safe_relpath(path: str) -> str:
    """`path` if every part is a plain name (letters, digits, '_', '.', '-'; no '..')."""
    parts = path.split("/")
    if not parts or any(not _PART.fullmatch(part) or part.strip(".") == "" for part in parts):
        raise ValueError(f"refusing to write to an unsafe path: {path!r}")
    return path


def stats_document(
    results: Iterable[ItemResult],
    previous: Mapping[str, Any] | None,
    generated_at: datetime | None = None,
    case_insensitive: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """`stats.json`: this run's (settled) items over the previous document.

    Nothing published before is dropped: items this run did not look at keep their entries.
    """
    old_sources = (previous or {}).get("sources") if isinstance(previous, Mapping) else None
    old_sources = old_sources if isinstance(old_sources, Mapping) else {}
    sources: dict[str, dict[str, Any]] = {
        name: {item: dict(entry) for item, entry in items.items() if isinstance(entry, Mapping)}
        for name, items in old_sources.items()
        if isinstance(items, Mapping)
    }
    folded: dict[str, dict[str, list[str]]] = {}  # per case-insensitive source: lower-cased name -> its spellings
    for result in results:
        items = sources.setdefault(result.source, {})
        if result.source in case_insensitive:  # one entry per repository or user, however spelt
            index = folded.get(result.source)
            if index is None:  # built once per source: a scan of every entry per result would be O(N^2)
                index = folded[result.source] = {}
                for name in items:
                    index.setdefault(name.lower(), []).append(name)
            for name in index.get(result.item.lower(), ()):
                if name != result.item:
                    items.pop(name, None)
            index[result.item.lower()] = [result.item]
        items[result.item] = result.stats_entry()
    when = iso_utc((generated_at or utc_now()).replace(microsecond=0))
    return {"schema_version": STATS_SCHEMA_VERSION, "generated_at": when, "sources": sources}


def grey_badges(badges: Mapping[str, tuple[str, str | None]], previous: Snapshot) -> Files:
    """A stale item's published badges (`badges`: its paths), same numbers, coloured lightgrey so the owner notices."""
    files: Files = {}
    for path in badges:
        old = read_json(previous, path)
        try:
            badge = Badge.model_validate(old)
        except ValidationError:
            continue
        files[path] = badge.model_copy(update={"color": STALE_COLOR}).to_json()
    return files


def error_badges(badges: Mapping[str, tuple[str, str | None]], previous: Snapshot) -> Files:
    """Badges for an item that never had a good value (`badges`: path -> (label, logo)):
    shields shows them as errors. A badge published before is left as it is."""
    return {
        path: Badge(label=label, message="unavailable", isError=True, namedLogo=logo, cacheSeconds=DEFAULT_CACHE_SECONDS).to_json()
        for path, (label, logo) in badges.items()
        if previous.read(path) is None
    }


def stabilize(files: Files, previous: Snapshot) -> Files:
    """Keep earlier timestamps where nothing else changed on the same UTC day.

    Runs that find the same values on one day change no byte, so they make no
    commit; the first run of a new day refreshes the timestamps once, so
    `last_success_at` stays true to the day and the owner sees the job is alive.
    Per item, `fetched_at` and `last_success_at` are kept when the entry is otherwise
    equal; `generated_at` (stats.json) and `updated` (gs_data.json) when the rest is.
    """
    out = dict(files)
    stats = files.get(STATS_FILE)
    old_stats = read_json(previous, STATS_FILE)
    if isinstance(stats, dict) and isinstance(old_stats, dict):
        stats = copy.deepcopy(stats)
        old_sources = old_stats.get("sources") if isinstance(old_stats.get("sources"), dict) else {}
        for source, items in stats["sources"].items():
            old_items = old_sources.get(source) if isinstance(old_sources.get(source), dict) else {}
            for item, entry in items.items():
                old = old_items.get(item)
                if (
                    isinstance(old, dict)
                    and _without(entry, *_ITEM_TIMES) == _without(old, *_ITEM_TIMES)
                    and _same_day(entry.get("fetched_at"), old.get("fetched_at"))
                ):
                    entry.update({key: old.get(key) for key in _ITEM_TIMES})
        if _without(stats, "generated_at") == _without(old_stats, "generated_at") and _same_day(
            stats.get("generated_at"), old_stats.get("generated_at")
        ):
            stats["generated_at"] = old_stats.get("generated_at")
        out[STATS_FILE] = stats
    data = files.get(GS_DATA_FILE)
    old_data = read_json(previous, GS_DATA_FILE)
    if (
        isinstance(data, dict)
        and isinstance(old_data, dict)
        and _without(data, "updated") == _without(old_data, "updated")
        and _same_day(data.get("updated"), old_data.get("updated"))
    ):
        out[GS_DATA_FILE] = {**data, "updated": old_data.get("updated")}
    return out


def _same_day(new: Any, old: Any) -> bool:
    """Both timestamps fall on one UTC day (they start with YYYY-MM-DD); a missing one counts as equal."""
    if not isinstance(new, str) or not isinstance(old, str):
        return new == old
    return new[:10] == old[:10]


def describe_changes(old: Any, new: Mapping[str, Any]) -> list[str]:
    """One line per metric that differs from what was published: ``github a/b stars: 10 -> 12``."""
    old_sources = old.get("sources") if isinstance(old, Mapping) and isinstance(old.get("sources"), Mapping) else {}
    lines = []
    for source, items in sorted(new["sources"].items()):
        before_items = old_sources.get(source) if isinstance(old_sources.get(source), Mapping) else {}
        for item, entry in sorted(items.items()):
            before = before_items.get(item) if isinstance(before_items.get(item), Mapping) else {}
            before_metrics = before.get("metrics") if isinstance(before.get("metrics"), Mapping) else {}
            for metric, value in sorted((entry.get("metrics") or {}).items()):
                if before_metrics.get(metric) != value:
                    shown = before_metrics.get(metric, "(none)")
                    lines.append(f"{source} {item} {metric}: {shown} -> {value}")
    return lines


_ITEM_TIMES = ("fetched_at", "last_success_at")


def _without(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def encode(files: Files) -> dict[str, bytes]:
    """Every file as the bytes statsbot writes, under a checked path."""
    return {safe_relpath(path): dumps(data).encode("utf-8") for path, data in sorted(files.items())}


def write_files(output_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each file atomically (`jsonio.write_bytes_atomic`), skipping those already on disk with the same bytes.

    Returns the paths whose bytes changed. Each changed file is written to a temporary file
    beside it (created exclusively, mode 0666 under the umask, as `open()` gives) and renamed
    over the old one, so a reader sees the old bytes or the new ones, never a part. Each
    folder is created once, not once per file; nothing is fsynced (as before: the data
    branch, not this folder, is the record).
    """
    written = []
    folders: set[str] = set()
    for relpath, data in sorted(files.items()):
        path = os.path.join(output_dir, safe_relpath(relpath))
        folder = os.path.dirname(path)
        try:
            with open(path, "rb") as handle:
                if handle.read(len(data) + 1) == data:
                    continue
            folders.add(folder)  # the file is there, so is its folder
        except OSError:
            pass
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        write_bytes_atomic(path, data, make_folder=False)
        written.append(relpath)
    return written
