"""The files a run writes: what each holds, and writing them safely.

Builders return ``{relative path: JSON data}`` so that writing, comparing and (later)
committing share one description of the output. Paths are built only from
validated ids; `safe_relpath` refuses anything else, so nothing a server sends can
choose where a file goes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from statsbot.badges import count_badge, metric_badge
from statsbot.jsonio import read_json, write_json
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.sources.scholar import ScholarProfile

STATS_FILE = "stats.json"
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
        "gs_data.json": {**profile.gs_data, "updated": str(profile.fetched_at)},
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
    """`stats.json`. An item that failed keeps its previous metrics and fetch time."""
    sources: dict[str, dict[str, Any]] = {}
    old_sources = (previous or {}).get("sources") if isinstance(previous, Mapping) else None
    old_sources = old_sources if isinstance(old_sources, Mapping) else {}
    for result in results:
        entry = result.stats_entry()
        if result.status != "ok":
            old = old_sources.get(result.source, {})
            old = old.get(result.item) if isinstance(old, Mapping) else None
            if isinstance(old, Mapping):
                entry["metrics"] = old.get("metrics") or {}
                entry["fetched_at"] = old.get("fetched_at")
        sources.setdefault(result.source, {})[result.item] = entry
    return {"schema_version": STATS_SCHEMA_VERSION, "generated_at": iso_utc(utc_now()), "sources": sources}


def read_previous_stats(output_dir: Path) -> dict[str, Any] | None:
    data = read_json(output_dir / STATS_FILE)
    return data if isinstance(data, dict) else None


def write_files(output_dir: Path, files: Mapping[str, Any]) -> list[str]:
    """Write every file atomically; returns the relative paths written, sorted."""
    written = []
    for relpath in sorted(files):
        write_json(output_dir / safe_relpath(relpath), files[relpath])
        written.append(relpath)
    return written
