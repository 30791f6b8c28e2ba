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

A lab fetches in shards (`statsbot fetch --shard i/N`, `statsbot.shards`): each file records
its shard and units, with the fingerprint of the whole config; `statsbot publish` merges the
shards' files source by source (`Source.merge`), fills each item no file answered from the
whole config (stale, naming the shards that did not finish), and refuses two files of the
same shard or shards of different N.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from statsbot.config import Config
from statsbot.errors import ConfigError, one_line
from statsbot.jsonio import dumps, write_bytes_atomic
from statsbot.results import ItemResult, iso_utc
from statsbot.shards import Shard, assign, parse_shard
from statsbot.sources.base import Source, SourceOutput

log = logging.getLogger("statsbot")

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
    config: str  # `fingerprint(config)` of the whole config it was fetched for (a shard's too)
    fetched_at: str
    sources: dict[str, _SourceResults]
    shard: str | None = None  # "i/N" for `statsbot fetch --shard i/N`; None: every unit
    units: list[str] | None = None  # the units (people's slugs, "owner") it fetched


def fingerprint(config: Config) -> str:
    """A short hash of the parts of the config that decide what is fetched and how it is settled."""
    data = {k: v for k, v in config.model_dump(mode="json").items() if k not in _PUBLISH_ONLY}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def write_results(
    path: Path,
    config: Config,
    outputs: Mapping[str, SourceOutput],
    *,
    shard: str | None = None,
    units: Sequence[str] | None = None,
) -> None:
    """FILE, atomically: every source's fetch output, for `read_results`. `config` is the
    whole config (a shard's file too); `shard` ("i/N") and `units` say what part it fetched."""
    document = ResultsFile(
        kind=KIND,
        schema_version=SCHEMA_VERSION,
        config=fingerprint(config),
        fetched_at=iso_utc(datetime.now(timezone.utc)),
        sources={
            name: _SourceResults(results=out.results, files=out.files, cache=out.cache, state=out.state)
            for name, out in outputs.items()
        },
        shard=shard,
        units=None if units is None else list(units),
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


def read_results(
    paths: Iterable[Path], config: Config, sources: Mapping[str, Source], *, units: Sequence[str] = ()
) -> dict[str, SourceOutput]:
    """The fetch outputs recorded in `paths`, checked against `config`, in the order of `sources`.

    Files of a whole fetch each give a source's results once. Files of shards (one plan of
    N) are merged source by source (`Source.merge`), whatever order they come in; an item
    no file answered (its shard's job failed, its file went missing) fails with a message
    naming the missing shards, and a source no file covers fails as a whole: either way it
    is published stale. `units` (every unit of `config`) names a missing shard's people.
    """
    expected = fingerprint(config)
    documents = [(path, _load(path)) for path in paths]
    for path, document in documents:
        if document.config != expected:
            raise ConfigError(
                f"{path}: results fetched for another config ({document.config}, this one is {expected}): "
                "fetch and publish with the same statsbot.toml"
            )
        for name in document.sources:
            if name not in sources:
                raise ConfigError(f"{path}: results for {name!r}, which this config does not fetch")
    shards = _check_shards(documents)
    if not shards:
        found: dict[str, Path] = {}
        for path, document in documents:
            for name in document.sources:
                if name in found:
                    raise ConfigError(f"{path}: results for {name!r} are also in {found[name]}: give each source's results once")
                found[name] = path
    ordered = sorted(documents, key=lambda pair: shards[pair[0]].index) if shards else documents
    message = NO_RESULTS
    if shards:
        count = next(iter(shards.values())).count
        present = {shard.index for shard in shards.values()}
        missing = [Shard(i, count) for i in range(1, count + 1) if i not in present]
        plan = assign(units, count) if units else {}
        held = {shard: [unit for unit, index in plan.items() if index == shard.index] for shard in missing}
        if units:  # a shard that had nothing to fetch misses nothing
            missing = [shard for shard in missing if held[shard]]
        if missing:
            message = f"no results were given for it ({_shards_phrase(missing)} did not finish)"
        for shard in missing:
            who = ", ".join(held[shard]) if held[shard] else "its units"
            log.warning("shard %s: no results file was given; published stale, with their last good values: %s", shard, who)
    outputs: dict[str, SourceOutput] = {}
    for name, source in sources.items():
        covering = [
            SourceOutput(results=list(s.results), files=dict(s.files), cache=dict(s.cache), state=dict(s.state))
            for _, document in ordered
            if (s := document.sources.get(name)) is not None
        ]
        if not covering and not shards:
            outputs[name] = source.failed(NO_RESULTS)
            continue
        outputs[name] = source.merge(covering, _quietly(lambda source=source: source.failed(message)))
    return outputs


NO_RESULTS = "no results were given for it (its fetch did not run, or its results file is missing)"


def _check_shards(documents: Sequence[tuple[Path, ResultsFile]]) -> dict[Path, Shard]:
    """Each file's shard, when they are shards of one plan (none: files of whole fetches)."""
    shards: dict[Path, Shard] = {}
    whole: Path | None = None
    for path, document in documents:
        if document.shard is None:
            whole = whole or path
            continue
        try:
            shards[path] = parse_shard(document.shard)
        except ValueError as exc:
            raise ConfigError(f"{path}: damaged results file (shard: {exc})") from None
    if not shards:
        return {}
    if whole is not None:
        first = next(iter(shards))
        raise ConfigError(
            f"{whole}: results of a whole fetch, but {first} is shard {shards[first]}: publish the shards of one plan, or one whole fetch"
        )
    seen: dict[int, Path] = {}
    first = next(iter(shards))
    for path, shard in shards.items():
        if shard.count != shards[first].count:
            raise ConfigError(
                f"{path}: shard {shard}, but {first} is shard {shards[first]}: publish the shards of one plan (one N)"
            )
        if shard.index in seen:
            raise ConfigError(f"{path}: shard {shard} is also {seen[shard.index]}: give each shard's results once")
        seen[shard.index] = path
    return shards


def _shards_phrase(shards: Sequence[Shard]) -> str:
    names = [str(shard) for shard in shards]
    if len(names) == 1:
        return f"shard {names[0]}"
    shown = names if len(names) <= 6 else [*names[:5], f"{len(names) - 5} more"]
    return "shards " + ", ".join(shown[:-1]) + " and " + shown[-1]


def _quietly(make: Callable[[], SourceOutput]) -> SourceOutput:
    """`Source.failed` without its error lines: only the items no file answered fail, and
    the warning above says why."""
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        return make()
    finally:
        logging.disable(before)


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
