"""One run: fetch every configured source, then write the outputs. The CLI is a thin shell over `run`."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from statsbot.config import LoadedConfig, ScholarConfig
from statsbot.deadline import call_with_deadline
from statsbot.errors import ConfigError, SourceError, one_line
from statsbot.outputs import Files, read_previous_stats, scholar_files, stats_document, write_files, STATS_FILE
from statsbot.results import ItemResult, iso_utc

log = logging.getLogger("statsbot")

# The hard bound around a source sits just past its own cooperative deadline, so the
# source's own, more precise error normally wins.
_DEADLINE_GRACE_SECONDS = 0.5


class RunReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    output_dir: Path
    results: list[ItemResult]
    written: list[str]

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status != "ok"]


def run(loaded: LoadedConfig, output_dir: Path | None = None) -> RunReport:
    config = loaded.config
    out = (output_dir or loaded.output_dir).resolve()
    if config.scholar is None:
        raise ConfigError(
            f"{loaded.describe()}: nothing to fetch: set [scholar] id in statsbot.toml or $GOOGLE_SCHOLAR_ID"
        )
    previous = read_previous_stats(out)
    results: list[ItemResult] = []
    files: Files = {}
    result, produced = fetch_scholar(config.scholar)
    results.append(result)
    files.update(produced)
    files[STATS_FILE] = stats_document(results, previous)
    written = write_files(out, files)
    return RunReport(output_dir=out, results=results, written=written)


def fetch_scholar(settings: ScholarConfig) -> tuple[ItemResult, Files]:
    """The profile's result and files; on failure an error result and no files (the old ones stay)."""
    from statsbot.sources.scholar import fetch_profile

    try:
        profile = call_with_deadline(
            lambda: fetch_profile(settings),
            settings.deadline_seconds + _DEADLINE_GRACE_SECONDS,
            f"fetching Scholar profile {settings.id}",
        )
    except SourceError as exc:
        message = one_line(str(exc))
        log.error("scholar %s: %s", settings.id, message)
        return ItemResult(source="scholar", item=settings.id, status="error", error=message), {}
    log.info("scholar %s: %d publications in %d requests", settings.id, profile.metrics.publications, profile.requests)
    result = ItemResult(
        source="scholar",
        item=settings.id,
        status="ok",
        fetched_at=iso_utc(profile.fetched_at),
        metrics=profile.metrics.model_dump(),
        detail=profile.name,
    )
    return result, scholar_files(profile)
