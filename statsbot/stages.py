"""Results files: what the fetch stage got, so another process can settle and publish it.

`statsbot fetch --results FILE` runs only the fetch stage and writes every configured
source's answers (each item's values or one-line error with its timestamps, the files
built while fetching, the ETag cache, the source's own state) to FILE. `statsbot publish
--results PATH...` reads such files, checks that each one was written for this config
and in this schema, and runs the rest of `statsbot run` on them: settle against the
data branch, render, write, commit. `statsbot run` is the same two stages in one process.

A source no file has results for (its fetch job failed, its file went missing) is not
lost: every one of its items is published stale, with its last good values. A file from
another config or another schema is refused with one line, before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from statsbot.config import Config
from statsbot.errors import ConfigError, one_line
from statsbot.jsonio import dumps, write_bytes_atomic
from statsbot.results import ItemResult, iso_utc
from statsbot.sources.base import Source, SourceOutput

SCHEMA_VERSION = 1
KIND = "statsbot-results"
# What decides what is fetched, and how it is settled. [output], [publish] and [charts]
# only shape how the results are published, so a publish step may set them differently.
_PUBLISH_ONLY = frozenset({"output", "publish", "charts"})


class _SourceResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ItemResult]
    files: dict[str, dict[str, Any]] = {}
    cache: dict[str, Any] = {}
    state: dict[str, Any] = {}


class ResultsFile(BaseModel):
    """The JSON document `statsbot fetch` writes (`kind` and `schema_version` first checked by hand)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    schema_version: int
    config: str  # `fingerprint(config)` of the config it was fetched for
    fetched_at: str
    sources: dict[str, _SourceResults]


def fingerprint(config: Config) -> str:
    """A short hash of the parts of the config that decide what is fetched and how it is settled."""
    data = {k: v for k, v in config.model_dump(mode="json").items() if k not in _PUBLISH_ONLY}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def write_results(path: Path, config: Config, outputs: Mapping[str, SourceOutput]) -> None:
    """FILE, atomically: every source's fetch output, for `read_results`."""
    document = ResultsFile(
        kind=KIND,
        schema_version=SCHEMA_VERSION,
        config=fingerprint(config),
        fetched_at=iso_utc(datetime.now(timezone.utc)),
        sources={
            name: _SourceResults(results=out.results, files=out.files, cache=out.cache, state=out.state)
            for name, out in outputs.items()
        },
    )
    write_bytes_atomic(path, dumps(document.model_dump(mode="json")).encode("utf-8"))


def results_paths(given: Iterable[str]) -> list[Path]:
    """The files named, a folder standing for every ``*.json`` below it (artifacts unpacked
    into one folder each); a name that is neither is an error."""
    paths: list[Path] = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                raise ConfigError(f"--results {name}: no results files (*.json) in this folder")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise ConfigError(f"--results {name}: no such file or folder")
    return paths


def read_results(paths: Iterable[Path], config: Config, sources: Mapping[str, Source]) -> dict[str, SourceOutput]:
    """The fetch outputs recorded in `paths`, checked against `config`, in the order of
    `sources`; a configured source that no file covers fails as a whole (published stale)."""
    expected = fingerprint(config)
    found: dict[str, tuple[Path, _SourceResults]] = {}
    for path in paths:
        document = _load(path)
        if document.config != expected:
            raise ConfigError(
                f"{path}: results fetched for another config ({document.config}, this one is {expected}): "
                "fetch and publish with the same statsbot.toml"
            )
        for name, section in document.sources.items():
            if name not in sources:
                raise ConfigError(f"{path}: results for {name!r}, which this config does not fetch")
            if name in found:
                raise ConfigError(f"{path}: results for {name!r} are also in {found[name][0]}: give each source's results once")
            found[name] = (path, section)
    outputs: dict[str, SourceOutput] = {}
    for name, source in sources.items():
        if name in found:
            section = found[name][1]
            outputs[name] = SourceOutput(
                results=list(section.results), files=dict(section.files), cache=dict(section.cache), state=dict(section.state)
            )
        else:
            outputs[name] = source.failed("no results were given for it (its fetch did not run, or its results file is missing)")
    return outputs


def _load(path: Path) -> ResultsFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a results file: {one_line(str(exc), 200)}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise ConfigError(f"{path}: not a statsbot results file (write one with `statsbot fetch --results FILE`)")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{path}: results file of schema {version!r}, this statsbot reads schema {SCHEMA_VERSION}: "
            "fetch and publish with the same statsbot version"
        )
    try:
        return ResultsFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"{path}: damaged results file ({where}: {error['msg']})") from None
