"""The interface every source implements, as httpx's transports do: this module holds it,
each of `scholar`, `github`, `huggingface` implements it, and `statsbot.sources.SOURCES`
lists them.

A source owns what is particular to it: which section of the config turns it on, how its
items are fetched (within a deadline), which of their metrics are under the drop gate,
the files a fresh item renders to, the badge files an item has (for grey and error
badges), the charts it wants and any totals derived from its settled items. The runner
knows no source by name: it fetches every configured source, settles each item against
what was published (last-known-good, drop gate), lets the source derive its totals, and
renders, records history and publishes the same way for all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from statsbot.deadline import Deadline
from statsbot.errors import one_line
from statsbot.results import ItemResult
from statsbot.settings import ChartsConfig, RunConfig, Section
from statsbot.snapshot import Snapshot

if TYPE_CHECKING:
    from statsbot.config import Config

Files = dict[str, Any]  # relative path -> JSON data


def item_key(source: str, item: str) -> str:
    return f"{source}:{item}"


def title(result: ItemResult) -> str:
    """How the summary names an item: ``scholar DhtAFkwAAAAJ (Zoë Álvarez-Müller)``."""
    return f"{result.source} {result.item}" + (f" ({one_line(result.detail, 200)})" if result.detail else "")


def failure_line(result: ItemResult) -> str:
    if result.status == "stale":
        since = f"values from {result.last_success_at}" if result.last_success_at else "earlier values"
        return f"{title(result)}: STALE: {result.error} ({since} kept)"
    return f"{title(result)}: ERROR: {result.error} (no earlier value to keep)"


@dataclass
class FetchContext:
    """What a fetch may read besides its own settings: no network, nothing to write."""

    env: Mapping[str, str]
    cache: dict[str, Any]  # the source's section of .statsbot/cache.json, as published
    published: Mapping[str, Any]  # the source's section of the published stats.json `sources`


@dataclass
class SourceOutput:
    """What one source's fetch returns, and (after settling) what it renders from."""

    results: list[ItemResult] = field(default_factory=list)
    files: dict[str, Files] = field(default_factory=dict)  # files built while fetching, by item key
    cache: dict[str, Any] = field(default_factory=dict)  # the source's new cache section
    state: dict[str, Any] = field(default_factory=dict)  # the source's own data between its steps


@dataclass(frozen=True)
class Series:
    """A chart of one metric of one item over time, drawn from the history (history/YYYY-MM.csv)."""

    source: str
    item: str
    metric: str
    path: str
    title: str


@dataclass
class Totals:
    """What a source's totals step needs: the published stats, the rules, and how to settle an item."""

    previous: Mapping[str, Any]  # the whole published stats.json
    settle: Callable[[ItemResult], ItemResult]
    rules: RunConfig
    accept_drops: bool
    now: datetime


class Rendered(ABC):
    """What the runner renders settled items with: their files, badges, marks and charts.

    Every `Source` is one; so is a value derived across sources (`statsbot.headline`:
    the person's citation count for the page), which is never fetched itself.
    """

    name: ClassVar[str]
    # Result sources (ItemResult.source) -> metrics under the drop gate: they only grow in
    # normal life, so a large fall is more likely a bad answer than the truth.
    gated: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    case_insensitive: ClassVar[frozenset[str]] = frozenset()  # result sources whose item names ignore case
    totals: ClassVar[frozenset[str]] = frozenset()  # result sources that are totals of other items
    uses_cache: ClassVar[bool] = False  # keeps a section of .statsbot/cache.json (ETags)

    @abstractmethod
    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        """The files of a settled item: a fresh one's files, or None to keep the published ones.

        A total is drawn from its settled sum even when stale (`grey` when it is old)."""

    @abstractmethod
    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        """The item's badge files: path -> (label, logo), for grey and error badges."""

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        """The badge file that shows one metric of an item, if there is one."""
        return None

    def mark(self, stats: dict[str, Any], output: SourceOutput, day: str) -> None:
        """Source-specific marks on stats.json (GitHub: repositories gone from a listing)."""

    def series(self, charts: ChartsConfig) -> list[Series]:
        """The metrics over time it wants charted."""
        return []

    def summary(self, result: ItemResult) -> list[str]:
        """The item's lines in the run's summary on stdout (text from servers included as is:
        the CLI keeps each line one line)."""
        if result.status != "ok":
            return [failure_line(result)]
        metrics = ", ".join(f"{name} {value}" for name, value in result.metrics.items())
        moved = f" (moved to {result.extra['moved_to']})" if result.extra.get("moved_to") else ""
        return [f"{title(result)}: ok: {metrics}{moved}"]

    def charts(self, encoded: Mapping[str, bytes], previous: Snapshot) -> dict[str, bytes]:
        """Charts not drawn from the history (Scholar: citations per year)."""
        return {}


class Source(Rendered):
    """One kind of source. An instance holds its validated settings from the config."""

    name: ClassVar[str]  # its config section, its name in stats.json and in the ETag cache
    display_name: ClassVar[str]  # how people name it: in labels, the summary, `statsbot check`
    config_model: ClassVar[type[Section]]  # validates its section of statsbot.toml
    wants: ClassVar[str]  # what its section must name to fetch anything, for "nothing to fetch"
    # Keys that must never be in the file (it gets committed) -> the variable to set instead.
    secret_keys: ClassVar[Mapping[str, str]] = {}
    # Config keys the environment can fill -> the variable (named in that key's errors).
    env_keys: ClassVar[Mapping[str, str]] = {}
    # `[[people]]`: the key a person's ids for this source go under (None: people have none
    # here), its type (validated as the source's own ids are), and the list in this source's
    # section that a person's ids join (`add_people`).
    person_key: ClassVar[str | None] = None
    # The keys of its section that name items (the rest are settings): a shard that does not
    # fetch the single-person sections drops these and keeps the settings for its people.
    item_keys: ClassVar[tuple[str, ...]] = ()
    person_type: ClassVar[Any] = None
    people_list: ClassVar[str] = ""
    # A person's citation count lives in the `citations` metric of its items (result source
    # `name`), for `badges/citations.json` and `[run] citations_from`.
    counts_citations: ClassVar[bool] = False

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @classmethod
    def from_config(cls, config: Config) -> Source | None:
        """The source, when the config gives it something to fetch."""
        settings = getattr(config, cls.name, None)
        return cls(settings) if settings is not None and cls.has_items(settings) else None

    @classmethod
    def has_items(cls, settings: Any) -> bool:
        return True

    @classmethod
    def prepare(cls, section: dict[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any] | None:
        """Its raw section before validation, with what the environment fills in (None: no section)."""
        return section

    @classmethod
    def add_people(cls, section: dict[str, Any] | None, ids: list[str]) -> dict[str, Any] | None:
        """Its raw section with the people's ids (already validated) added to `people_list`,
        each once; no section and no ids: still none."""
        if not ids:
            return section
        section = dict(section or {})
        listed = [str(v) for v in section.get(cls.people_list, []) if isinstance(v, str)]
        seen = {v.lower() for v in listed}
        added = []
        for i in ids:
            if i.lower() not in seen:
                seen.add(i.lower())
                added.append(i)
        section[cls.people_list] = [*section.get(cls.people_list, []), *added]
        return section

    @classmethod
    def person_items(cls, ids: list[str]) -> list[tuple[str, str]]:
        """The items (result source, item) a person's ids for this source stand for."""
        return [(cls.name, i) for i in ids]

    def describe(self, env: Mapping[str, str]) -> list[str]:
        """Lines for `statsbot check`: what it will fetch, from where, how (never a secret's value)."""
        return [f"{self.name}: {self.deadline_seconds:g} s deadline"]

    @property
    def activity(self) -> str:
        """What its fetch is doing, for a deadline's message: "... reached while <activity>"."""
        return f"fetching {self.name}"

    @property
    def deadline_seconds(self) -> float:
        return float(self.settings.deadline_seconds)

    @abstractmethod
    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        """Every item, by `deadline`: each gets a result (ok, or error with a one-line message)."""

    @abstractmethod
    def failed(self, message: str) -> SourceOutput:
        """Every item failed with `message` (the source as a whole did not finish)."""

    def merge(self, outputs: Sequence[SourceOutput], expected: SourceOutput) -> SourceOutput:
        """One output from the fetches of parts of its items (`statsbot fetch --shard`), given
        in shard order; `expected` is `failed(message)` of the whole config, so every item
        no fetch answered comes from it (failed, published stale), in the whole config's
        order, followed by the items only the fetches name (a GitHub user's repositories).

        An item answered twice (two people sharing an id, in two shards) keeps one answer,
        whatever the order of the files: ok before failed, then the later ``fetched_at``,
        then the earlier shard; the files built for it come with that answer. Other files,
        the caches and the state (dicts merged key by key) are taken earlier shard first.
        """
        def key(result: ItemResult) -> tuple[str, str]:
            return (result.source, result.item.lower() if result.source in self.case_insensitive else result.item)

        chosen: dict[tuple[str, str], tuple[int, ItemResult]] = {}
        for index, output in enumerate(outputs):
            for result in output.results:
                k = key(result)
                if k not in chosen or _rank(result) > _rank(chosen[k][1]):
                    chosen[k] = (index, result)
        wanted = {key(result): result for result in expected.results}
        merged = SourceOutput()
        tied = {item_key(r.source, r.item) for output in outputs for r in output.results}
        done: set[tuple[str, str]] = set()
        for k in [*wanted, *(key(r) for output in outputs for r in output.results)]:
            if k in done:
                continue
            done.add(k)
            if k not in chosen:
                merged.results.append(wanted[k])
                continue
            index, result = chosen[k]
            files = outputs[index].files.get(item_key(result.source, result.item))
            if k in wanted and wanted[k].item != result.item:  # spelt as the whole config spells it
                result = result.model_copy(update={"item": wanted[k].item})
            merged.results.append(result)
            if files is not None:
                merged.files[item_key(result.source, result.item)] = files
        for output in (*outputs, expected):
            for name, files in output.files.items():
                if name not in tied:
                    merged.files.setdefault(name, files)
        for output in outputs:
            _merge_into(merged.cache, output.cache)  # e.g. Scholar's pages: the owner's entry from the owner's shard
            _merge_into(merged.state, output.state)
        return merged

    def derive(self, output: SourceOutput, totals: Totals) -> None:
        """Add results derived from the settled ones (totals); none by default."""


def _rank(result: ItemResult) -> tuple[bool, str]:
    return (result.status == "ok", result.fetched_at or "")


def _merge_into(merged: dict[str, Any], part: Mapping[str, Any]) -> None:
    """`part`'s keys into `merged`, an earlier part winning; two dicts under one key are
    merged the same way one level down (a shard without the entry gives an empty dict)."""
    for name, value in part.items():
        if name not in merged:
            merged[name] = dict(value) if isinstance(value, dict) else value
        elif isinstance(value, dict) and isinstance(merged[name], dict):
            for inner, piece in value.items():
                merged[name].setdefault(inner, piece)
