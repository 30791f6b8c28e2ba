"""One run: fetch every configured source, settle each item against what was published
before, render the files, write them, and (with a publisher) commit them.

The CLI is a thin shell over `run`. Stages:

1. `fetch_sources`: every source at once, each within its own deadline and the run's.
2. `settle`: per item, against the previous `stats.json`. A failed item with earlier
   values becomes ``stale`` and keeps them; one that never had a value is ``error``;
   a fresh value that fell by more than ``max_drop_percent`` is held back as ``stale``.
   Then totals (`aggregates`): each GitHub user's and the overall sum, built from the
   settled repositories under the same rules.
3. `render`: the files, over a snapshot of earlier outputs (no network), so a push
   race can render again on the new tip.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict

from statsbot.cache import CACHE_FILE, cache_document, load_cache, section
from statsbot.config import Config, GitHubConfig, HuggingFaceConfig, LoadedConfig, RunConfig, ScholarConfig
from statsbot.deadline import DaemonPool, Deadline, call_with_deadline
from statsbot.errors import SourceError, one_line
from statsbot.gate import too_far
from statsbot import history
from statsbot.aggregates import TOTAL_SOURCE, aggregate_github, lookup
from statsbot.outputs import (
    AGGREGATE_SOURCES,
    CASE_INSENSITIVE_SOURCES,
    GS_DATA_FILE,
    STALE_COLOR,
    STATS_FILE,
    Files,
    aggregate_files,
    describe_changes,
    encode,
    error_badges,
    github_repo_files,
    grey_badges,
    huggingface_files,
    mark_gone,
    metric_badge_path,
    safe_relpath,
    scholar_files,
    stabilize,
    stats_document,
    write_files,
)
from statsbot.redact import register_environment
from statsbot.results import ItemResult, iso_utc
from statsbot.snapshot import FolderSnapshot, Snapshot, read_json

log = logging.getLogger("statsbot")

# The hard bound around a source sits just past its own cooperative deadline, so the
# source's own, more precise error normally wins.
_DEADLINE_GRACE_SECONDS = 0.5

# Sources whose item files are drawn from the settled result (Scholar's come from the profile).
_ITEM_FILES: dict[str, Callable[[list[ItemResult]], Files]] = {"github": github_repo_files, "huggingface": huggingface_files}

# Metrics that only grow in normal life: a large fall is more likely a bad page than the truth.
GATED_METRICS = {
    "scholar": ("citations", "publications"),
    "github": ("stars",),
    "huggingface": ("downloads_all_time",),
}


class RunReport(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    output_dir: Path
    results: list[ItemResult]
    written: list[str]  # output files whose bytes changed on disk
    changes: list[str] = []  # "source item metric: old -> new", against what was published before
    totals: dict[str, Any] = {}
    dry_run: bool = False
    published: Any = None  # a publish.PublishResult when the run published
    publish_error: str | None = None  # why publishing failed (the output folder was written)
    before: dict[str, Any] = {}  # stats.json as published before this run

    @property
    def stale(self) -> list[ItemResult]:
        """Items not fresh this run: ``stale`` (earlier values kept) or ``error`` (never had one)."""
        return [r for r in self.results if r.status != "ok"]


class _SourceOutput(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    results: list[ItemResult] = []
    files: dict[str, Files] = {}  # by item key (see `item_key`)
    user_repos: dict[str, list[str]] = {}  # GitHub: each user's fresh listing
    user_errors: dict[str, str] = {}  # GitHub: why a user's listing failed
    gone: dict[str, str] = {}  # GitHub: repositories that left their owner's listing, and why
    cache: dict[str, Any] = {}


class Fetched(BaseModel):
    """Everything the sources returned, settled; rendering it needs no network."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: Config
    outputs: dict[str, _SourceOutput]
    now: datetime  # when the run started: its UTC date names the history rows

    @property
    def results(self) -> list[ItemResult]:
        return [result for output in self.outputs.values() for result in output.results]


def item_key(source: str, item: str) -> str:
    return f"{source}:{item}"


def tokens(env: Mapping[str, str]) -> dict[str, str | None]:
    """Tokens come only from the environment, never from the config file."""
    return {
        "github": env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None,
        "huggingface": env.get("HF_TOKEN") or None,
    }


def run(
    loaded: LoadedConfig,
    output_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    publisher: Any = None,
    dry_run: bool = False,
    accept_drops: bool = False,
    now: datetime | None = None,
) -> RunReport:
    """Fetch, settle, render, write the output folder and (with a `publish.Publisher`) commit.

    Earlier values come from the data branch when publishing, else from the output folder.
    With `dry_run` nothing is written anywhere: the report lists what would change.
    """
    loaded.require_sources()
    env = os.environ if env is None else env
    register_environment(env)
    deadline = Deadline(loaded.config.run.deadline_seconds, name=f"the run's deadline of {loaded.config.run.deadline_seconds:g} s")
    if publisher is not None:
        publisher.use_deadline(deadline)
    out = (output_dir or loaded.output_dir).resolve()
    if not dry_run:  # a folder that cannot be written is a config error, found before any request
        from statsbot.jsonio import check_output_dir

        check_output_dir(out, "--output" if output_dir is not None else f"{loaded.path or 'config'}: [output] dir")
    previous: Snapshot = publisher.snapshot() if publisher is not None else FolderSnapshot(out)
    fetched = fetch_sources(loaded.config, previous, env, deadline, accept_drops=accept_drops, now=now)
    files, stats = render(fetched, previous)
    before = read_json(previous, STATS_FILE)
    before = before if isinstance(before, dict) else {}
    changes = describe_changes(before, stats)
    report = dict(output_dir=out, results=fetched.results, changes=changes, totals=stats.get("totals", {}), before=before)
    if dry_run:
        return RunReport(**report, written=[], dry_run=True)
    written = write_files(out, files)
    published = None
    publish_error = None
    if publisher is not None:
        from statsbot.publish import PublishError

        try:
            published = publisher.publish(files, lambda snapshot: render(fetched, snapshot)[0], changes)
        except PublishError as exc:
            publish_error = one_line(str(exc), 600)
            log.error("%s", publish_error)
    return RunReport(**report, written=written, published=published, publish_error=publish_error)


# ----------------------------------------------------------------------- fetching


def fetch_sources(
    config: Config,
    previous: Snapshot,
    env: Mapping[str, str],
    deadline: Deadline,
    *,
    accept_drops: bool = False,
    now: datetime | None = None,
) -> Fetched:
    """Every configured source at once, each within min(its deadline, what is left of the run's)."""
    cache = load_cache(previous)
    secrets = tokens(env)
    jobs: dict[str, tuple[Callable[[Deadline], _SourceOutput], float, Callable[[str], _SourceOutput]]] = {}
    if config.scholar:
        s = config.scholar
        published = _published_at(lookup(_sources(previous).get("scholar"), s.id, case_insensitive=False))
        jobs["scholar"] = (
            lambda limit: _scholar(s, env, published, limit), s.deadline_seconds, lambda m: _failed_scholar(s, m)
        )
    if config.github and (config.github.repos or config.github.users):
        g = config.github
        github_cache = section(cache, "github")
        jobs["github"] = (
            lambda limit: _github(g, secrets["github"], github_cache, limit),
            g.deadline_seconds,
            lambda m: _failed_github(g, m),
        )
    if config.huggingface and (config.huggingface.models or config.huggingface.datasets):
        h = config.huggingface
        jobs["huggingface"] = (
            lambda limit: _huggingface(h, secrets["huggingface"], limit),
            h.deadline_seconds,
            lambda m: _failed_huggingface(h, m),
        )
    outputs: dict[str, _SourceOutput] = {}
    # Daemon threads (not ThreadPoolExecutor's, which are joined at exit): a source still
    # stuck when the run's deadline passes is abandoned and cannot keep the process alive.
    pool = DaemonPool(max_workers=max(1, len(jobs)), thread_name_prefix="statsbot-source")
    try:
        futures = {}
        for name, (job, own, _) in jobs.items():
            # The source's own deadline, or what is left of the run's when that is shorter.
            limit = Deadline(own, name=f"{name}'s deadline of {own:g} s")
            if deadline.remaining() < own:
                limit = Deadline(max(0.01, deadline.remaining()), name=deadline.name)
            futures[name] = pool.submit(job, limit)
        for name, future in futures.items():
            try:
                outputs[name] = future.result(timeout=deadline.remaining() + 2 * _DEADLINE_GRACE_SECONDS)
            except FutureTimeout:
                message = f"the run's deadline of {deadline.seconds:g} s was reached"
                log.error("%s: %s", name, message)
                outputs[name] = jobs[name][2](message)
    finally:
        pool.shutdown()

    previous_stats = read_json(previous, STATS_FILE)
    previous_stats = previous_stats if isinstance(previous_stats, dict) else {}
    when = now or datetime.now(timezone.utc)

    def settle_one(result: ItemResult) -> ItemResult:
        return settle(result, _entry(previous_stats, result), config.run, accept_drops)

    for name, output in outputs.items():
        output.results = [settle_one(r) for r in output.results]
        builder = _ITEM_FILES.get(name)
        for result in output.results:
            key = item_key(result.source, result.item)
            if result.status != "ok":
                output.files.pop(key, None)
            elif builder is not None:  # from the settled values: a metric an answer left out keeps its value
                output.files[key] = builder([result])
    github = outputs.get("github")
    if github is not None and config.github is not None:
        aggregates = aggregate_github(
            config.github,
            github.results,
            github.user_repos,
            github.user_errors,
            previous_stats,
            settle_one,
            max_drop_percent=config.run.max_drop_percent,
            accept_drops=accept_drops,
            now=iso_utc(when.replace(microsecond=0)),
        )
        github.results = aggregates.repos + aggregates.users + [aggregates.total]
        github.gone = aggregates.gone
    return Fetched(config=config, outputs=outputs, now=when)


def settle(result: ItemResult, previous: Mapping[str, Any] | None, rules: RunConfig, accept_drops: bool) -> ItemResult:
    """The item as it will be published: fresh, stale (earlier values kept) or error (none to keep).

    A metric published before that a fresh answer leaves out (Hugging Face omitting
    ``downloadsAllTime``) keeps its last good value, still under the drop gate, and is
    listed in ``kept``; it is not a fresh observation.
    """
    old_metrics = (previous or {}).get("metrics") or {}
    last_success = (previous or {}).get("last_success_at") or (previous or {}).get("fetched_at")
    if result.status == "ok":
        missing = {m: v for m, v in old_metrics.items() if m not in result.metrics and isinstance(v, int)}
        if missing:
            old_kept = (previous or {}).get("kept_metrics")
            old_kept = old_kept if isinstance(old_kept, Mapping) else {}
            kept = {m: (old_kept.get(m) if m in old_kept else last_success) for m in missing}
            log.warning(
                "%s %s: the answer had no %s; the last good value is kept", result.source, result.item, ", ".join(sorted(missing))
            )
            result = result.model_copy(update={"metrics": {**result.metrics, **missing}, "kept": kept})
        reason = None if accept_drops else drop_reason(result, old_metrics, rules.max_drop_percent)
        if reason is None:
            return result.model_copy(update={"last_success_at": result.fetched_at})
        log.warning("%s %s: %s", result.source, result.item, reason)
        error = reason
    else:
        error = result.error or "failed"
    if old_metrics:
        old_kept = (previous or {}).get("kept_metrics")
        # What the entry said about the values it keeps (e.g. the fetcher that got them: `via`).
        old_extra = {k: v for k, v in (previous or {}).items() if k not in _ENTRY_KEYS}
        return result.model_copy(
            update={
                "extra": {**old_extra, **result.extra},
                "status": "stale",
                "error": error,
                "metrics": dict(old_metrics),
                "kept": dict(old_kept) if isinstance(old_kept, Mapping) else {},
                "fetched_at": (previous or {}).get("fetched_at"),
                "last_success_at": last_success,
            }
        )
    return result.model_copy(update={"status": "error", "error": error, "metrics": {}, "kept": {}, "last_success_at": None})


_ENTRY_KEYS = frozenset({"status", "fetched_at", "last_success_at", "error", "metrics", "kept_metrics", "gone_since"})


def drop_reason(result: ItemResult, old: Mapping[str, Any], max_drop_percent: float) -> str | None:
    for metric in GATED_METRICS.get(result.source, ()):
        reason = too_far(metric, old.get(metric), result.metrics.get(metric), max_drop_percent, "held back")
        if reason:
            return reason
    return None


def _entry(stats: Mapping[str, Any], result: ItemResult) -> Mapping[str, Any] | None:
    items = (stats.get("sources") or {}).get(result.source)
    return lookup(items, result.item, case_insensitive=result.source in CASE_INSENSITIVE_SOURCES)


# ---------------------------------------------------------------------- rendering


def render(fetched: Fetched, previous: Snapshot) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The output files (path -> bytes) and stats.json's content, over what was published before."""
    config = fetched.config
    previous_stats = read_json(previous, STATS_FILE)
    previous_stats = previous_stats if isinstance(previous_stats, dict) else None
    stats = stats_document(fetched.results, previous_stats, generated_at=fetched.now)
    files: Files = {}
    for output in fetched.outputs.values():
        for item_files in output.files.values():
            files.update(item_files)
    now = datetime.now(timezone.utc)
    for result in fetched.results:
        old_enough = _older_than(result.last_success_at, config.run.stale_after_days, now)
        if result.status == "error":
            files.update(error_badges(result, previous))
        elif result.source in AGGREGATE_SOURCES:  # drawn from the settled sum, grey like any stale item
            files.update(aggregate_files(result, grey=result.status == "stale" and old_enough))
        elif result.status == "stale" and old_enough:
            files.update(grey_badges(result, previous))
        for metric, since in result.kept.items() if result.status == "ok" else ():
            path = metric_badge_path(result, metric)
            if path in files and _older_than(since, config.run.stale_after_days, now):
                files[path] = {**files[path], "color": STALE_COLOR}
    github = fetched.outputs.get("github")
    if github is not None and config.github is not None:
        mark_gone(stats, github.gone, fetched.now.date().isoformat())
        total = next((r for r in github.results if r.source == TOTAL_SOURCE), None)
        if total is not None and total.status != "error":
            stats["totals"] = {"github": dict(total.metrics)}
        elif isinstance(previous_stats, dict) and isinstance(previous_stats.get("totals"), dict):
            stats["totals"] = previous_stats["totals"]
        old_cache = section(load_cache(previous), "github")
        files[CACHE_FILE] = cache_document({"github": {**old_cache, **github.cache}})
    elif isinstance(previous_stats, dict) and isinstance(previous_stats.get("totals"), dict):
        stats["totals"] = previous_stats["totals"]
    files[STATS_FILE] = stats
    files = stabilize(files, previous)
    encoded = encode(files)
    old_history = previous.read(history.HISTORY_FILE)
    rows = history.updated(old_history, fetched.results, fetched.now.date().isoformat())
    encoded[history.HISTORY_FILE] = history.render_csv(rows)
    if config.charts.enabled:
        encoded.update(chart_files(fetched, rows, history.parse(old_history), encoded, previous))
    return encoded, files[STATS_FILE]


def chart_files(
    fetched: Fetched, rows: Mapping[Any, int], old_rows: Mapping[Any, int], encoded: Mapping[str, bytes], previous: Snapshot
) -> dict[str, bytes]:
    """Citations per year per Scholar profile, and the main metrics over time (GitHub: the totals,
    and each configured repository with ``[charts] repositories``). A chart whose data did not
    change is carried over from the earlier run instead of being drawn again."""
    from statsbot import charts

    config = fetched.config
    out: dict[str, bytes] = {}
    wanted: list[tuple[str, str, str, str, str]] = []  # source, item, metric, path, title
    if config.scholar:
        uid = config.scholar.id
        data = encoded.get(GS_DATA_FILE)
        per_year = (json.loads(data).get("cites_per_year") if data else None) or {}
        if isinstance(per_year, dict) and per_year:
            path = f"charts/scholar/{uid}/citations-per-year.svg"
            old_data = previous.read(GS_DATA_FILE)
            old_per_year = (json.loads(old_data).get("cites_per_year") if old_data else None) or {}
            old_chart = previous.read(path)
            if old_per_year == per_year and old_chart is not None:
                out[path] = old_chart
            else:
                out[path] = charts.citations_per_year({str(k): int(v) for k, v in per_year.items()}, f"Citations per year ({uid})")
        for metric, name in (("citations", "citations"), ("h_index", "h-index"), ("i10_index", "i10-index")):
            wanted.append(("scholar", uid, metric, f"charts/scholar/{uid}/{name}.svg", f"{name} ({uid})"))
    if config.github and (config.github.repos or config.github.users):
        for repo in config.github.repos if config.charts.repositories else ():
            wanted.append(("github", repo, "stars", f"charts/github/{repo}/stars.svg", f"stars of {repo}"))
        for login in config.github.users:
            wanted.append(("github_users", login, "stars", f"charts/github/{login}/stars-total.svg", f"stars of {login}"))
        wanted.append(("github_total", "all", "stars", "charts/github/stars-total.svg", "stars, all repositories"))
    if config.huggingface:
        from statsbot.sources.huggingface import item_key as hf_key

        items = [hf_key("models", m) for m in config.huggingface.models] + [hf_key("datasets", d) for d in config.huggingface.datasets]
        for item in items:
            for metric, name in (("downloads", "downloads"), ("downloads_all_time", "downloads-all-time")):
                wanted.append(("huggingface", item, metric, f"charts/huggingface/{item}/{name}.svg", f"{name} of {item}"))
    for source, item, metric, path, title in wanted:
        points = history.series(rows, source, item, metric)
        if not points:
            continue
        old_chart = previous.read(path)
        if old_chart is not None and history.series(old_rows, source, item, metric) == points:
            out[path] = old_chart
        else:
            out[safe_relpath(path)] = charts.metric_over_time(points, title, metric.replace("_", " "))
    return out


def _older_than(moment: str | None, days: float, now: datetime) -> bool:
    if not moment:
        return True
    try:
        when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return True
    return (now - when).total_seconds() > days * 86400


# --------------------------------------------------------------------- per source


def _bounded(limit: Deadline, what: str, job: Callable[[], _SourceOutput], on_error: Callable[[str], _SourceOutput]) -> _SourceOutput:
    try:
        return call_with_deadline(job, limit.remaining() + _DEADLINE_GRACE_SECONDS, what, limit.name)
    except SourceError as exc:
        return on_error(one_line(str(exc)))


def _sources(snapshot: Snapshot) -> Mapping[str, Any]:
    stats = read_json(snapshot, STATS_FILE)
    sources = stats.get("sources") if isinstance(stats, dict) else None
    return sources if isinstance(sources, dict) else {}


def _published_at(entry: Mapping[str, Any] | None) -> datetime | None:
    """When the published values of an item were fetched (its last success), if known."""
    moment = (entry or {}).get("last_success_at")
    if not isinstance(moment, str):
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


def _scholar(settings: ScholarConfig, env: Mapping[str, str], published: datetime | None, limit: Deadline) -> _SourceOutput:
    from statsbot.sources.scholar import fetch_profile

    def job() -> _SourceOutput:
        profile = fetch_profile(settings, limit, env=env, published_at=published)
        log.info(
            "scholar %s: %d publications in %d requests (via %s)",
            settings.id, profile.metrics.publications, profile.requests, profile.via,
        )
        result = ItemResult(
            source="scholar",
            item=settings.id,
            status="ok",
            fetched_at=iso_utc(profile.fetched_at),
            metrics=profile.metrics.model_dump(),
            detail=profile.name,
            extra={"via": profile.via},
        )
        return _SourceOutput(results=[result], files={item_key("scholar", settings.id): scholar_files(profile)})

    return _bounded(limit, f"fetching Scholar profile {settings.id}", job, lambda m: _failed_scholar(settings, m))


def _failed_scholar(settings: ScholarConfig, message: str) -> _SourceOutput:
    log.error("scholar %s: %s", settings.id, message)
    return _SourceOutput(results=[ItemResult(source="scholar", item=settings.id, status="error", error=message)])


def _github(settings: GitHubConfig, token: str | None, cache: dict[str, Any], limit: Deadline) -> _SourceOutput:
    from statsbot.sources.github import fetch_github

    def job() -> _SourceOutput:
        report = fetch_github(settings, token, cache, limit)
        _log_failures(report.repos + report.users)
        ok = sum(1 for r in report.repos if r.status == "ok")
        log.info("github: %d of %d repositories fetched (%s)", ok, len(report.repos), "GraphQL, token" if token else "REST, no token")
        return _SourceOutput(
            results=report.repos,
            files={item_key("github", r.item): github_repo_files([r]) for r in report.repos},
            user_repos=report.user_repos,
            user_errors={r.item: r.error or "failed" for r in report.users if r.status != "ok"},
            cache=report.cache,
        )

    return _bounded(limit, "fetching GitHub repositories", job, lambda m: _failed_github(settings, m))


def _failed_github(settings: GitHubConfig, message: str) -> _SourceOutput:
    log.error("github: %s", message)
    results = [ItemResult(source="github", item=r, status="error", error=message) for r in settings.repos]
    return _SourceOutput(results=results, user_errors={u: message for u in settings.users})


def _huggingface(settings: HuggingFaceConfig, token: str | None, limit: Deadline) -> _SourceOutput:
    from statsbot.sources.huggingface import fetch_huggingface

    def job() -> _SourceOutput:
        results = fetch_huggingface(settings, token, limit)
        _log_failures(results)
        return _SourceOutput(
            results=results, files={item_key("huggingface", r.item): huggingface_files([r]) for r in results}
        )

    return _bounded(limit, "fetching Hugging Face repositories", job, lambda m: _failed_huggingface(settings, m))


def _failed_huggingface(settings: HuggingFaceConfig, message: str) -> _SourceOutput:
    from statsbot.sources.huggingface import item_key as hf_key

    log.error("huggingface: %s", message)
    keys = [hf_key("models", m) for m in settings.models] + [hf_key("datasets", d) for d in settings.datasets]
    return _SourceOutput(results=[ItemResult(source="huggingface", item=k, status="error", error=message) for k in keys])


def _log_failures(results: list[ItemResult]) -> None:
    for result in results:
        if result.status != "ok":
            log.error("%s %s: %s", result.source, result.item, result.error)
