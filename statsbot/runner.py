"""One run: fetch every configured source, then write the outputs. The CLI is a thin shell over `run`."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict

from statsbot.cache import CACHE_FILE, cache_document, load_cache, section
from statsbot.config import Config, GitHubConfig, HuggingFaceConfig, LoadedConfig, ScholarConfig
from statsbot.deadline import Deadline, call_with_deadline
from statsbot.errors import SourceError, one_line
from statsbot.outputs import (
    STATS_FILE,
    Files,
    describe_changes,
    encode,
    github_repo_files,
    github_total_files,
    github_totals,
    huggingface_files,
    scholar_files,
    stabilize,
    stats_document,
    write_files,
)
from statsbot.snapshot import FolderSnapshot, Snapshot, read_json
from statsbot.results import ItemResult, iso_utc

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

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status != "ok"]


class _SourceOutput(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    results: list[ItemResult] = []
    files: Files = {}
    user_repos: dict[str, list[str]] = {}
    cache: dict[str, Any] = {}


class Fetched(BaseModel):
    """Everything the sources returned; rendering it needs no network."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: Config
    outputs: dict[str, _SourceOutput]

    @property
    def results(self) -> list[ItemResult]:
        return [result for output in self.outputs.values() for result in output.results]


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
) -> RunReport:
    """Fetch, render, write the output folder and (with a `publish.Publisher`) commit and push.

    Earlier values come from the data branch when publishing, else from the output folder.
    With `dry_run` nothing is written anywhere: the report lists what would change.
    """
    loaded.require_sources()
    env = os.environ if env is None else env
    out = (output_dir or loaded.output_dir).resolve()
    previous: Snapshot = publisher.snapshot() if publisher is not None else FolderSnapshot(out)
    fetched = fetch_sources(loaded.config, previous, env)
    files, stats = render(fetched, previous)
    changes = describe_changes(read_json(previous, STATS_FILE), stats)
    totals = stats.get("totals", {})
    if dry_run:
        return RunReport(output_dir=out, results=fetched.results, written=[], changes=changes, totals=totals, dry_run=True)
    written = write_files(out, files)
    published = None
    publish_error = None
    if publisher is not None:
        from statsbot.publish import PublishError

        try:
            published = publisher.publish(lambda snapshot: render(fetched, snapshot)[0], changes)
        except PublishError as exc:
            publish_error = str(exc)
            log.error("%s", publish_error)
    return RunReport(
        output_dir=out,
        results=fetched.results,
        written=written,
        changes=changes,
        totals=totals,
        published=published,
        publish_error=publish_error,
    )


def fetch_sources(config: Config, previous: Snapshot, env: Mapping[str, str]) -> Fetched:
    """Every configured source at once, each within its own deadline."""
    cache = load_cache(previous)
    secrets = tokens(env)
    jobs: dict[str, Callable[[], _SourceOutput]] = {}
    if config.scholar:
        jobs["scholar"] = lambda: _scholar(config.scholar)  # type: ignore[arg-type]
    if config.github and (config.github.repos or config.github.users):
        jobs["github"] = lambda: _github(config.github, secrets["github"], section(cache, "github"))  # type: ignore[arg-type]
    if config.huggingface and (config.huggingface.models or config.huggingface.datasets):
        jobs["huggingface"] = lambda: _huggingface(config.huggingface, secrets["huggingface"])  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="statsbot-source") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        outputs = {name: future.result() for name, future in futures.items()}
    github = outputs.get("github")
    if github is not None:
        previous_stats = read_json(previous, STATS_FILE)
        github.results = github.results + _carry_forward_user_repos(github, previous_stats if isinstance(previous_stats, dict) else None)
    return Fetched(config=config, outputs=outputs)


def render(fetched: Fetched, previous: Snapshot) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The output files (path -> bytes) and stats.json's content, over what was published before."""
    config = fetched.config
    previous_stats = read_json(previous, STATS_FILE)
    previous_stats = previous_stats if isinstance(previous_stats, dict) else None
    github = fetched.outputs.get("github")
    stats = stats_document(fetched.results, previous_stats)
    files: Files = {}
    for output in fetched.outputs.values():
        files.update(output.files)
    if github is not None and config.github is not None:
        user_repos = {login: _repos_of(login, github, stats) for login in config.github.users}
        totals = github_totals(stats, config.github.repos, user_repos)
        files.update(github_total_files(totals))
        stats["totals"] = {"github": totals["all"]}
        old_cache = section(load_cache(previous), "github")
        files[CACHE_FILE] = cache_document({"github": {**old_cache, **github.cache}})
    elif isinstance(previous_stats, dict) and isinstance(previous_stats.get("totals"), dict):
        stats["totals"] = previous_stats["totals"]
    files[STATS_FILE] = stats
    files = stabilize(files, previous)
    return encode(files), files[STATS_FILE]


# ------------------------------------------------------------------- per source


def _bounded(seconds: float, what: str, job: Callable[[], _SourceOutput], on_error: Callable[[str], _SourceOutput]) -> _SourceOutput:
    try:
        return call_with_deadline(job, seconds + _DEADLINE_GRACE_SECONDS, what)
    except SourceError as exc:
        return on_error(one_line(str(exc)))


def _scholar(settings: ScholarConfig) -> _SourceOutput:
    from statsbot.sources.scholar import fetch_profile

    def job() -> _SourceOutput:
        profile = fetch_profile(settings)
        log.info("scholar %s: %d publications in %d requests", settings.id, profile.metrics.publications, profile.requests)
        result = ItemResult(
            source="scholar",
            item=settings.id,
            status="ok",
            fetched_at=iso_utc(profile.fetched_at),
            metrics=profile.metrics.model_dump(),
            detail=profile.name,
        )
        return _SourceOutput(results=[result], files=scholar_files(profile))

    def failed(message: str) -> _SourceOutput:
        log.error("scholar %s: %s", settings.id, message)
        return _SourceOutput(results=[ItemResult(source="scholar", item=settings.id, status="error", error=message)])

    return _bounded(settings.deadline_seconds, f"fetching Scholar profile {settings.id}", job, failed)


def _github(settings: GitHubConfig, token: str | None, cache: dict[str, Any]) -> _SourceOutput:
    from statsbot.sources.github import fetch_github

    def job() -> _SourceOutput:
        report = fetch_github(settings, token, cache, Deadline(settings.deadline_seconds))
        _log_failures(report.repos + report.users)
        ok = sum(1 for r in report.repos if r.status == "ok")
        log.info("github: %d of %d repositories fetched (%s)", ok, len(report.repos), "GraphQL, token" if token else "REST, no token")
        return _SourceOutput(
            results=report.repos + report.users,
            files=github_repo_files(report.repos),
            user_repos=report.user_repos,
            cache=report.cache,
        )

    def failed(message: str) -> _SourceOutput:
        log.error("github: %s", message)
        results = [ItemResult(source="github", item=r, status="error", error=message) for r in settings.repos]
        results += [ItemResult(source="github_users", item=u, status="error", error=message) for u in settings.users]
        return _SourceOutput(results=results)

    return _bounded(settings.deadline_seconds, "fetching GitHub repositories", job, failed)


def _huggingface(settings: HuggingFaceConfig, token: str | None) -> _SourceOutput:
    from statsbot.sources.huggingface import fetch_huggingface, item_key

    def job() -> _SourceOutput:
        results = fetch_huggingface(settings, token, Deadline(settings.deadline_seconds))
        _log_failures(results)
        return _SourceOutput(results=results, files=huggingface_files(results))

    def failed(message: str) -> _SourceOutput:
        log.error("huggingface: %s", message)
        keys = [item_key("models", m) for m in settings.models] + [item_key("datasets", d) for d in settings.datasets]
        return _SourceOutput(results=[ItemResult(source="huggingface", item=k, status="error", error=message) for k in keys])

    return _bounded(settings.deadline_seconds, "fetching Hugging Face repositories", job, failed)


def _log_failures(results: list[ItemResult]) -> None:
    for result in results:
        if result.status != "ok":
            log.error("%s %s: %s", result.source, result.item, result.error)


# ------------------------------------------------------------ GitHub bookkeeping


def _carry_forward_user_repos(github: _SourceOutput, previous: Mapping[str, Any] | None) -> list[ItemResult]:
    """A user whose listing failed keeps the repositories it had, as failed items with their old values."""
    failed_users = {r.item.lower(): r.error for r in github.results if r.source == "github_users" and r.status != "ok"}
    if not failed_users or not previous:
        return []
    known = {r.item.lower() for r in github.results if r.source == "github"}
    old = (previous.get("sources") or {}).get("github") or {}
    carried = []
    for name in old if isinstance(old, dict) else ():
        owner = name.partition("/")[0].lower()
        if owner in failed_users and name.lower() not in known:
            carried.append(ItemResult(source="github", item=name, status="error", error=failed_users[owner]))
    return carried


def _repos_of(login: str, github: _SourceOutput, stats: Mapping[str, Any]) -> list[str]:
    if login in github.user_repos:
        return github.user_repos[login]
    return [name for name in stats["sources"].get("github", {}) if name.partition("/")[0].lower() == login.lower()]
