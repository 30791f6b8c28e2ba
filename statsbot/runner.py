"""One run: fetch every configured source, settle each item against what was published
before, render the files, write them, and (with a publisher) commit them.

The CLI is a thin shell over `run`. Stages:

1. `fetch_outputs`: every source at once, each within its own deadline and the run's.
   Its answers can be written to a results file (`statsbot fetch`, `statsbot.stages`)
   and settled later by another process (`statsbot publish`).
2. `settle_outputs`: per item, against the previous `stats.json` (`settle`). A failed
   item with earlier values becomes ``stale`` and keeps them; one that never had a value
   is ``error``; a fresh value that fell by more than ``max_drop_percent`` is held back
   as ``stale``. Then totals (`aggregates`): each GitHub user's and the overall sum,
   built from the settled repositories under the same rules; and the page's citation
   count (`headline`).
3. `render`: the files, over a snapshot of earlier outputs (no network), so a push
   race can render again on the new tip.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from statsbot import alfolio, group, headline, history
from statsbot.badges import STALE_COLOR
from statsbot.cache import CACHE_FILE, cache_document, load_cache, section
from statsbot.config import Config, LoadedConfig
from statsbot.deadline import DaemonPool, Deadline, call_with_deadline
from statsbot.errors import SourceError, one_line
from statsbot.gate import too_far
from statsbot.people import by_person
from statsbot.outputs import (
    STATS_FILE,
    Files,
    describe_changes,
    encode,
    error_badges,
    grey_badges,
    safe_relpath,
    stabilize,
    stats_document,
    write_files,
)
from statsbot.redact import register_environment
from statsbot.results import ItemResult
from statsbot.settings import RunConfig
from statsbot.snapshot import FolderSnapshot, Snapshot, lookup, read_json
from statsbot.sources import CASE_INSENSITIVE, GATED, SOURCES
from statsbot.sources.base import FetchContext, Rendered, Source, SourceOutput, Totals

log = logging.getLogger("statsbot")

# The hard bound around a source sits just past its own cooperative deadline, so the
# source's own, more precise error normally wins.
_DEADLINE_GRACE_SECONDS = 0.5

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
    summary: list[list[str]] = []  # each result's lines for the summary on stdout, from its source
    cdn: Any = None  # a cdn.PurgeReport: the changed files purged on jsDelivr after the push
    rebuild: Any = None  # a rebuild.RebuildResult: the site's build [publish] rebuild started, or why it could not
    staleness: Any = None  # a keepalive.Staleness when nothing new was published for stale_after_days
    keepalive: Any = None  # a keepalive.Keepalive: the schedule checked after publishing (GitHub Actions)

    @property
    def stale(self) -> list[ItemResult]:
        """Items not fresh this run: ``stale`` (earlier values kept) or ``error`` (never had one)."""
        return [r for r in self.results if r.status != "ok"]


class Fetched(BaseModel):
    """Everything the sources returned, settled; rendering it needs no network."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: Config
    sources: dict[str, Rendered]  # the configured sources and the values derived across them, by name
    outputs: dict[str, SourceOutput]  # what each returned, settled, by source name
    now: datetime  # when the run started: its UTC date names the history rows

    @property
    def results(self) -> list[ItemResult]:
        return [result for output in self.outputs.values() for result in output.results]


def configured_sources(config: Config) -> dict[str, Source]:
    """The sources the config gives something to fetch, in the registry's order."""
    found = (cls.from_config(config) for cls in SOURCES)
    return {source.name: source for source in found if source is not None}


def run(
    loaded: LoadedConfig,
    output_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    publisher: Any = None,
    dry_run: bool = False,
    accept_drops: bool = False,
    now: datetime | None = None,
    results: Mapping[str, SourceOutput] | None = None,
) -> RunReport:
    """Fetch, settle, render, write the output folder and (with a `publish.Publisher`) commit.

    Earlier values come from the data branch when publishing, else from the output folder.
    With `dry_run` nothing is written anywhere: the report lists what would change. With
    `results` (what `statsbot fetch` recorded, see `statsbot.stages`) nothing is fetched:
    those answers are settled and published as if this run had fetched them.
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
    if results is None:
        outputs = fetch_outputs(loaded.config, previous, env, deadline)
    else:
        outputs = dict(results)
    fetched = settle_outputs(loaded.config, outputs, previous, accept_drops=accept_drops, now=now)
    files, stats = render(fetched, previous)
    before = read_json(previous, STATS_FILE)
    before = before if isinstance(before, dict) else {}
    changes = describe_changes(before, stats)
    summary = [fetched.sources[name].summary(r) for name, output in fetched.outputs.items() for r in output.results]
    report = dict(
        output_dir=out, results=fetched.results, changes=changes, totals=stats.get("totals", {}), before=before, summary=summary
    )
    if dry_run:
        return RunReport(**report, written=[], dry_run=True)
    published = None
    publish_error = None
    if publisher is None:
        written = write_files(out, files)
    else:
        from concurrent.futures import ThreadPoolExecutor

        from statsbot.publish import PublishError

        # The output folder is written while git builds and pushes the commit (from `files`,
        # never from the folder): the two overlap instead of adding up. A folder that cannot
        # be written was refused before any request (check_output_dir); an error while
        # writing it still ends the run, after the commit, which holds the same bytes.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="statsbot-write") as pool:
            writing = pool.submit(write_files, out, files)
            try:
                published = publisher.publish(files, lambda snapshot: render(fetched, snapshot)[0], changes)
            except PublishError as exc:
                publish_error = one_line(str(exc), 600)
                log.error("%s", publish_error)
            written = writing.result()
        if publish_error is None:  # [output] al_folio = true: _data/citations.yml on the site's branch
            try:
                alfolio.commit_to_site(loaded.config, publisher, files, previous)
            except PublishError as exc:
                publish_error = one_line(f"al-folio: {exc}", 600)
                log.error("%s", publish_error)
    after = after_push(publisher, published, env, deadline) if published is not None else {}  # jsDelivr, rebuild
    return RunReport(**report, written=written, published=published, publish_error=publish_error, **after)


def after_push(publisher: Any, published: Any, env: Mapping[str, str], deadline: Deadline) -> dict[str, Any]:
    """The post-publish step, after a push that changed files: purge them on jsDelivr
    (`statsbot.cdn`; never fails the run) and start the site's build (`statsbot.rebuild`; a
    failure is the run's error, the push stays done). Nothing after a commit not pushed (--no-push)."""
    if published.status != "pushed":
        return {}
    from statsbot.cdn import purge_after_push
    from statsbot.rebuild import rebuild_after_push

    purged = purge_after_push(publisher, published, env, deadline)
    return {"cdn": purged, "rebuild": rebuild_after_push(publisher, published, env, deadline)}


# ----------------------------------------------------------------------- fetching


def fetch_outputs(config: Config, previous: Snapshot, env: Mapping[str, str], deadline: Deadline) -> dict[str, SourceOutput]:
    """The fetch stage: what every configured source answered, not yet settled (`statsbot
    fetch` writes it to a results file; `statsbot publish` settles it)."""
    cache = load_cache(previous)
    published = read_json(previous, STATS_FILE)
    previous_stats = published if isinstance(published, dict) else {}
    published_sources = previous_stats.get("sources") if isinstance(previous_stats.get("sources"), dict) else {}
    sources = configured_sources(config)
    outputs: dict[str, SourceOutput] = {}
    # Daemon threads (not ThreadPoolExecutor's, which are joined at exit): a source still
    # stuck when the run's deadline passes is abandoned and cannot keep the process alive.
    pool = DaemonPool(max_workers=max(1, len(sources)), thread_name_prefix="statsbot-source")
    try:
        futures = {}
        for name, source in sources.items():
            # The source's own deadline, or what is left of the run's when that is shorter.
            own = source.deadline_seconds
            limit = Deadline(own, name=f"{name}'s deadline of {own:g} s")
            if deadline.remaining() < own:
                limit = Deadline(max(0.01, deadline.remaining()), name=deadline.name)
            mine = published_sources.get(name)
            context = FetchContext(env=env, cache=section(cache, name), published=mine if isinstance(mine, dict) else {})
            futures[name] = pool.submit(_bounded, source, context, limit)
        for name, future in futures.items():
            try:
                outputs[name] = future.result(timeout=deadline.remaining() + 2 * _DEADLINE_GRACE_SECONDS)
            except FutureTimeout:
                message = f"the run's deadline of {deadline.seconds:g} s was reached"
                log.error("%s: %s", name, message)
                outputs[name] = sources[name].failed(message)
    finally:
        pool.shutdown()
    return outputs


def settle_outputs(
    config: Config,
    outputs: dict[str, SourceOutput],
    previous: Snapshot,
    *,
    accept_drops: bool = False,
    now: datetime | None = None,
) -> Fetched:
    """The settle stage: each item against what was published (last-known-good, drop gate),
    then each source's totals and the page's citation count from the settled items."""
    published = read_json(previous, STATS_FILE)
    previous_stats = published if isinstance(published, dict) else {}
    sources = configured_sources(config)
    when = now or datetime.now(timezone.utc)

    def settle_one(result: ItemResult) -> ItemResult:
        return settle(result, _entry(previous_stats, result), config.run, accept_drops)

    totals = Totals(previous=previous_stats, settle=settle_one, rules=config.run, accept_drops=accept_drops, now=when)
    for name, output in outputs.items():
        output.results = [settle_one(r) for r in output.results]
        sources[name].derive(output, totals)
    rendered: dict[str, Rendered] = dict(sources)
    theirs = {item for items in by_person(config).values() for item in items}  # a lab's members count in group.json
    page = headline.derive(sources, outputs, previous_stats, settle_one, config.run, exclude=theirs)
    if page is not None:
        rendered[page[0].name], outputs[page[0].name] = page
    lab = group.derive(config, sources, outputs, previous, previous_stats, when)  # group.json, with [[people]]
    if lab is not None:
        rendered[lab[0].name], outputs[lab[0].name] = lab
    return Fetched(config=config, sources=rendered, outputs=outputs, now=when)


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
    for metric in GATED.get(result.source, ()):
        reason = too_far(metric, old.get(metric), result.metrics.get(metric), max_drop_percent, "held back")
        if reason:
            return reason
    return None


def _entry(stats: Mapping[str, Any], result: ItemResult) -> Mapping[str, Any] | None:
    items = (stats.get("sources") or {}).get(result.source)
    return lookup(items, result.item, case_insensitive=result.source in CASE_INSENSITIVE)


# ---------------------------------------------------------------------- rendering


def render(fetched: Fetched, previous: Snapshot) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The output files (path -> bytes) and stats.json's content, over what was published before."""
    config = fetched.config
    previous_stats = read_json(previous, STATS_FILE)
    previous_stats = previous_stats if isinstance(previous_stats, dict) else None
    stats = stats_document(fetched.results, previous_stats, generated_at=fetched.now, case_insensitive=CASE_INSENSITIVE)
    if isinstance(previous_stats, dict) and isinstance(previous_stats.get("totals"), dict):
        stats["totals"] = previous_stats["totals"]
    files: Files = {}
    now = datetime.now(timezone.utc)
    day = fetched.now.date().isoformat()
    caches: dict[str, Any] = {}
    old_cache = load_cache(previous)
    for name, output in fetched.outputs.items():
        source = fetched.sources[name]
        for result in output.results:
            files.update(_item_files(source, result, output, previous, config.run.stale_after_days, now))
        source.mark(stats, output, day)
        if source.uses_cache:
            caches[name] = {**section(old_cache, name), **output.cache}
    if caches:
        files[CACHE_FILE] = cache_document(caches)
    files[STATS_FILE] = stats
    files = stabilize(files, previous)
    encoded = encode(files)
    # history/YYYY-MM.csv: only this month's file is read and rewritten (streamed: old rows copied
    # through, today's laid over them); only the charted series are read back, earlier months only for charts.
    charted = charted_series(fetched) if config.charts.enabled else []
    wanted = {(series.source, series.item, series.metric) for series in charted}
    month = history.month_file(day)
    updated = history.update(history.read_once(previous, month), fetched.results, day, wanted, month)
    encoded[month] = updated.data
    encoded.update(alfolio.render_files(config, encoded, previous))  # [output] al_folio: al-folio's citations.yml
    if config.charts.enabled:
        encoded.update(chart_files(fetched, charted, updated, encoded, previous, day))
    return encoded, files[STATS_FILE]


def _item_files(
    source: Rendered, result: ItemResult, output: SourceOutput, previous: Snapshot, stale_after_days: float, now: datetime
) -> Files:
    """One settled item's files: fresh ones; for a stale item none (the published ones stay),
    grey copies once it is old; error badges for an item that never had a value."""
    if result.status == "error":
        return error_badges(source.badges(result, previous), previous)
    old = result.status == "stale" and _older_than(result.last_success_at, stale_after_days, now)
    drawn = source.files(result, output, grey=old)
    if drawn is None:
        return grey_badges(source.badges(result, previous), previous) if old else {}
    files = dict(drawn)
    for metric, since in result.kept.items() if result.status == "ok" else ():  # a kept metric greys on its own
        path = source.metric_badge(result, metric)
        if path in files and _older_than(since, stale_after_days, now):
            files[path] = {**files[path], "color": STALE_COLOR}
    return files


def charted_series(fetched: Fetched) -> list[Any]:
    """The series the sources want charted (`sources.base.Series`), without a lab's members'
    items unless ``[charts] people``: the only rows of the history a run reads back."""
    skip: set[tuple[str, str]] = set()
    if not fetched.config.charts.people:  # a lab's members' items: no chart unless [charts] people
        skip = {(src, item.lower()) for items in by_person(fetched.config).values() for src, item in items}
    return [
        series
        for source in fetched.sources.values()
        for series in source.series(fetched.config.charts)
        if (series.source, series.item.lower()) not in skip
    ]


def chart_files(
    fetched: Fetched, charted: list[Any], updated: history.Updated, encoded: Mapping[str, bytes], previous: Snapshot, day: str
) -> dict[str, bytes]:
    """Each source's charts: its metrics over time from the history (`charted`, their points
    this month before and after this run in `updated`), and Scholar's citations per year. A
    chart whose data did not change is carried over from the earlier run instead of being
    drawn again. Earlier months are read only when needed: a series' last value before this
    month when it has no row this month before today, its whole series when it is drawn."""
    from statsbot import charts  # SVG written by statsbot itself (standard library only)

    out: dict[str, bytes] = {}
    for source in fetched.sources.values():
        out.update(source.charts(encoded, previous))
    carry: dict[str, bytes] = {}  # chart path -> the chart, carried over
    check_last: dict[str, tuple[history.Charted, bytes]] = {}  # a chart whose series has no row this month before today
    draw: dict[str, history.Charted] = {}
    for series in charted:
        name = (series.source, series.item, series.metric)
        old, new = updated.old.get(name), updated.new.get(name) or []
        old_chart = previous.read(series.path)
        if old_chart is None:
            draw[series.path] = name
        elif not old:
            check_last[series.path] = (name, old_chart)
        elif charts.still_current(old, new):  # this month's rows decide: the months before are the same before and after
            carry[series.path] = old_chart
        else:
            draw[series.path] = name
    last = history.last_points(previous, day, {name for name, _ in check_last.values()})
    for path, (name, old_chart) in check_last.items():
        if name in last and charts.still_current([last[name]], [last[name], *updated.new.get(name, [])]):
            carry[path] = old_chart
        else:
            draw[path] = name
    earlier = history.earlier_series(previous, day, set(draw.values()))
    for series in charted:
        name = (series.source, series.item, series.metric)
        if series.path in carry:
            out[series.path] = carry[series.path]
        elif series.path in draw:
            points = sorted({**dict(earlier.get(name, [])), **dict(updated.new.get(name, []))}.items())  # this month wins
            if points:  # no point at all: no chart (an earlier one stays as it is)
                out[safe_relpath(series.path)] = charts.metric_over_time(points, series.title, series.metric.replace("_", " "))
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


def _bounded(source: Source, context: FetchContext, limit: Deadline) -> SourceOutput:
    """The source's fetch, ended at its deadline even where its own checks cannot reach."""
    try:
        return call_with_deadline(
            lambda: source.fetch(context, limit), limit.remaining() + _DEADLINE_GRACE_SECONDS, source.activity, limit.name
        )
    except SourceError as exc:
        return source.failed(one_line(str(exc)))
