"""The files a run writes: what each holds, and writing them safely.

Builders return ``{relative path: JSON data}`` so that writing, comparing and (later)
committing share one description of the output. Paths are built only from
validated ids; `safe_relpath` refuses anything else, so nothing a server sends can
choose where a file goes.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from statsbot.badges import count_badge, metric_badge
from statsbot.jsonio import dumps, write_bytes_atomic
from statsbot.snapshot import Snapshot, read_json
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.sources.scholar import ScholarProfile

STATS_FILE = "stats.json"
GS_DATA_FILE = "gs_data.json"
STATS_SCHEMA_VERSION = 1
SCHOLAR_LOGO = "googlescholar"
GITHUB_LOGO = "github"
HF_LOGO = "huggingface"
_PART = re.compile(r"[A-Za-z0-9_.-]+")

Files = dict[str, Any]


def safe_relpath(path: str) -> str:
    """`path` if every part is a plain name (letters, digits, '_', '.', '-'; no '..')."""
    parts = path.split("/")
    if not parts or any(not _PART.fullmatch(part) or part.strip(".") == "" for part in parts):
        raise ValueError(f"refusing to write to an unsafe path: {path!r}")
    return path


def scholar_files(profile: ScholarProfile) -> Files:
    """AcadHomepage's two files plus the profile's badges."""
    metrics = profile.metrics
    base = f"badges/scholar/{profile.scholar_id}"
    files: Files = {
        GS_DATA_FILE: {**profile.gs_data, "updated": str(profile.fetched_at)},
        "gs_data_shieldsio.json": {"schemaVersion": 1, "label": "citations", "message": str(metrics.citations)},
        f"{base}/citations.json": count_badge("citations", metrics.citations, logo=SCHOLAR_LOGO).to_json(),
        f"{base}/h-index.json": count_badge("h-index", metrics.h_index, logo=SCHOLAR_LOGO).to_json(),
        f"{base}/i10-index.json": count_badge("i10-index", metrics.i10_index, logo=SCHOLAR_LOGO).to_json(),
    }
    for paper in profile.papers:
        files[f"{base}/papers/{paper.pub_id}.json"] = count_badge(
            "citations", paper.citations, logo=SCHOLAR_LOGO
        ).to_json()
    return files


def github_repo_files(results: Iterable[ItemResult]) -> Files:
    """Stars and forks badges of every repository fetched this run."""
    files: Files = {}
    for result in results:
        if result.status == "ok":
            base = f"badges/github/{result.item}"
            files[f"{base}/stars.json"] = metric_badge("stars", result.metrics["stars"], logo=GITHUB_LOGO).to_json()
            files[f"{base}/forks.json"] = metric_badge("forks", result.metrics["forks"], logo=GITHUB_LOGO).to_json()
    return files


def github_totals(stats: Mapping[str, Any], repos: Iterable[str], user_repos: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """Sums over the last good value of each repository (so one failed fetch never lowers a total)."""
    entries = stats["sources"].get("github", {})

    def total(names: Iterable[str]) -> dict[str, int]:
        seen: dict[str, Mapping[str, Any]] = {}
        for name in names:
            metrics = (entries.get(name) or {}).get("metrics") or {}
            if "stars" in metrics:
                seen.setdefault(name.lower(), metrics)
        return {
            "stars": sum(m["stars"] for m in seen.values()),
            "forks": sum(m.get("forks", 0) for m in seen.values()),
            "repositories": len(seen),
        }

    every = list(repos) + [name for names in user_repos.values() for name in names]
    return {"all": total(every), "users": {login: total(names) for login, names in user_repos.items()}}


def github_total_files(totals: Mapping[str, Any]) -> Files:
    files: Files = {"badges/github/stars-total.json": metric_badge("stars", totals["all"]["stars"], logo=GITHUB_LOGO).to_json()}
    for login, sums in totals["users"].items():
        files[f"badges/github/{login}/stars-total.json"] = metric_badge("stars", sums["stars"], logo=GITHUB_LOGO).to_json()
    return files


def huggingface_files(results: Iterable[ItemResult]) -> Files:
    """Downloads (30 days and all time) and likes of every model and dataset fetched this run."""
    files: Files = {}
    for result in results:
        if result.status != "ok":
            continue
        base = f"badges/huggingface/{result.item}"
        metrics = result.metrics
        files[f"{base}/downloads.json"] = metric_badge("downloads/month", metrics["downloads"], logo=HF_LOGO).to_json()
        files[f"{base}/likes.json"] = metric_badge("likes", metrics["likes"], logo=HF_LOGO).to_json()
        if "downloads_all_time" in metrics:
            files[f"{base}/downloads-all-time.json"] = metric_badge(
                "downloads", metrics["downloads_all_time"], logo=HF_LOGO
            ).to_json()
    return files


def stats_document(results: Iterable[ItemResult], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """`stats.json`. Nothing published before is dropped: an item that failed keeps its
    previous metrics and fetch time, and items this run did not look at keep their entries."""
    old_sources = (previous or {}).get("sources") if isinstance(previous, Mapping) else None
    old_sources = old_sources if isinstance(old_sources, Mapping) else {}
    sources: dict[str, dict[str, Any]] = {
        name: {item: dict(entry) for item, entry in items.items() if isinstance(entry, Mapping)}
        for name, items in old_sources.items()
        if isinstance(items, Mapping)
    }
    for result in results:
        entry = result.stats_entry()
        if result.status != "ok":
            old = sources.get(result.source, {}).get(result.item)
            if old is not None:
                entry["metrics"] = old.get("metrics") or {}
                entry["fetched_at"] = old.get("fetched_at")
        sources.setdefault(result.source, {})[result.item] = entry
    return {"schema_version": STATS_SCHEMA_VERSION, "generated_at": iso_utc(utc_now()), "sources": sources}


def stabilize(files: Files, previous: Snapshot) -> Files:
    """Keep earlier timestamps where nothing else changed, so an unchanged run changes no byte.

    Per item, `fetched_at` is kept when the entry is otherwise equal; `generated_at`
    (stats.json) and `updated` (gs_data.json) when the rest of the file is equal.
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
                if isinstance(old, dict) and _without(entry, "fetched_at") == _without(old, "fetched_at"):
                    entry["fetched_at"] = old.get("fetched_at")
        if _without(stats, "generated_at") == _without(old_stats, "generated_at"):
            stats["generated_at"] = old_stats.get("generated_at")
        out[STATS_FILE] = stats
    data = files.get(GS_DATA_FILE)
    old_data = read_json(previous, GS_DATA_FILE)
    if isinstance(data, dict) and isinstance(old_data, dict) and _without(data, "updated") == _without(old_data, "updated"):
        out[GS_DATA_FILE] = {**data, "updated": old_data.get("updated")}
    return out


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


def _without(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def encode(files: Files) -> dict[str, bytes]:
    """Every file as the bytes statsbot writes, under a checked path."""
    return {safe_relpath(path): dumps(data).encode("utf-8") for path, data in sorted(files.items())}


def write_files(output_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each file atomically, skipping those already on disk with the same bytes.

    Returns the paths whose bytes changed.
    """
    written = []
    for relpath, data in sorted(files.items()):
        path = output_dir / safe_relpath(relpath)
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        write_bytes_atomic(path, data)
        written.append(relpath)
    return written
