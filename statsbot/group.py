"""A lab's numbers, for a "members" table on a page: ``group.json`` and ``badges/group/``.

Written only when the config has ``[[people]]``. Every number follows the rules of any item
(see docs/promises.md), per person and for the group:

* A person's citations and h-index come from the first source in ``[run] citations_from``
  on which the person has ids and all of those items are fresh in this run (several ids on
  one source: the citations summed, the largest h-index); else the person's last published
  numbers (``stale``, their source kept); on a first run the first source whose items have
  kept values (``stale``); else none (``error``: no value, never a zero). A person's stars
  are the sum of their GitHub users' stars (``github_users`` items), ``stale`` when one of
  them is not fresh. A number the person has no ids for is ``none``. Each person is settled
  on their own: one blocked profile never changes another person's numbers.
* The group's citations count a paper several members share once. Two Scholar papers are
  the same paper when they share a Scholar cluster id (the ``cites=`` ids of the paper's
  "Cited by" link), or else when their normalised titles (NFKD, case-folded, letters and
  digits only, single spaces) and their years are equal; a matched set counts with its
  largest citation count. The group's h-index is the h-index over that de-duplicated set.
  Members with a Scholar profile (when ``scholar`` is in ``citations_from``) count with
  their papers: this run's, or, when the profile is not fresh, the papers of its last
  good fetch (``data/scholar/<id>/papers.json``). Members without one, or whose papers
  were never fetched, count with their own citations as they are (no matching: an
  OpenAlex or Semantic Scholar paper is never compared with a Scholar paper), and their
  h-index as a lower bound (the group's h-index is at least each member's).
* The group is ``ok`` when every member's input is fresh; else ``stale`` (built from the
  kept inputs; its badges grey after ``stale_after_days`` like any item); with no input
  holding a value, its last published numbers are kept, and with none ever its citation
  badges are error badges. ``people`` (how many entries ``[[people]]`` has) is always known.

stats.json gets the item ``group all`` (citations, h_index, people) and one ``people <slug>``
item per person (citations, h_index, stars, with ``from``), so they get history rows
(fresh values only) and summary lines. They are totals (`Rendered.totals`): no annotation
of their own, since the items they are built from have theirs.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from statsbot.badges import DEFAULT_CACHE_SECONDS, STALE_COLOR, Badge, count_badge
from statsbot.results import ItemResult, iso_utc
from statsbot.snapshot import Snapshot, lookup, read_json
from statsbot.sources.base import Files, Rendered, Source, SourceOutput, item_key

log = logging.getLogger("statsbot")

RESULT_SOURCE = "group"  # the item `group all`
ITEM = "all"
PEOPLE_SOURCE = "people"  # one item a person, by slug (its own source: a person may be named "All")
GROUP_FILE = "group.json"
SCHEMA_VERSION = 1
BADGES = {"citations": "badges/group/citations.json", "h_index": "badges/group/h-index.json", "people": "badges/group/people.json"}
LABELS = {"citations": "citations", "h_index": "h-index", "people": "people"}
SCHOLAR = "scholar"
STARS_SOURCE = "github_users"  # statsbot.aggregates.USERS_SOURCE


@dataclass
class Number:
    """One number of a person or of the group, as group.json shows it."""

    status: str  # ok, stale, error (no value ever), none (no ids to count it from)
    value: int | None = None
    source: str | None = None  # where a citation count is from
    problem: str | None = None

    def document(self, with_from: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.value is not None:
            out["value"] = self.value
        if with_from and self.source is not None:
            out["from"] = self.source
        return out


@dataclass
class Paper:
    citations: int
    cluster_ids: list[str]
    title: str
    year: int | None


class _PaperRecord(BaseModel):
    """One entry of data/scholar/<id>/papers.json, as read back from the snapshot."""

    model_config = ConfigDict(extra="ignore", strict=True)

    pub_id: str
    cluster_ids: list[str] = []
    title: str = ""
    year: int | None = None
    citations: int = Field(ge=0)


_PAPERS = TypeAdapter(list[_PaperRecord])


class GroupNumbers(Rendered):
    """Renders the settled `group all` item: group.json and the group's three badges."""

    name = RESULT_SOURCE
    totals = frozenset({RESULT_SOURCE, PEOPLE_SOURCE})  # derived from other items: no annotation of their own

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        if result.source != RESULT_SOURCE:
            return None  # a person's numbers are in group.json
        files: Files = {GROUP_FILE: output.state["document"]}
        for metric, path in self._badges(output).items():
            label = LABELS[metric]
            if metric in result.metrics:
                badge = count_badge(label, result.metrics[metric])
                if grey and metric != "people":  # the count of people is never stale
                    badge = badge.model_copy(update={"color": STALE_COLOR})
            else:  # never a zero for a failure
                badge = Badge(label=label, message="unavailable", isError=True, cacheSeconds=DEFAULT_CACHE_SECONDS)
            files[path] = badge.to_json()
        return files

    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        if result.source != RESULT_SOURCE:
            return {}
        return {path: (LABELS[metric], None) for metric, path in BADGES.items() if metric != "people"}

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        return BADGES.get(metric) if result.source == RESULT_SOURCE else None

    @staticmethod
    def _badges(output: SourceOutput) -> dict[str, str]:
        counted = output.state.get("counts_citations", True)
        return {metric: path for metric, path in BADGES.items() if counted or metric == "people"}


# ------------------------------------------------------------------------- matching


def normal_title(title: str) -> str:
    """A title as papers are matched: NFKD, case-folded, accents dropped, letters and digits
    only, single spaces (``Über Graphen — eine Studie`` -> ``uber graphen eine studie``)."""
    flat = unicodedata.normalize("NFKD", title).casefold()
    kept = "".join(c if c.isalnum() else " " for c in flat if not unicodedata.combining(c))
    return " ".join(kept.split())


def distinct_papers(papers: list[Paper]) -> list[int]:
    """The citation counts of the distinct papers among `papers` (each member's Scholar
    papers together): same cluster id, or else same normalised title and year (a paper
    without a year, or with an empty title, matches by cluster id only); a matched set
    counts once, with its largest count."""
    parent = list(range(len(papers)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[Any, ...], int] = {}
    for index, paper in enumerate(papers):
        keys: list[tuple[Any, ...]] = [("cluster", c) for c in paper.cluster_ids]
        title = normal_title(paper.title)
        if title and paper.year is not None:
            keys.append(("title", title, paper.year))
        for key in keys:
            other = first.setdefault(key, index)
            parent[root(index)] = root(other)
    best: dict[int, int] = {}
    for index, paper in enumerate(papers):
        top = root(index)
        best[top] = max(best.get(top, 0), paper.citations)
    return list(best.values())


def h_index(counts: list[int]) -> int:
    """The largest h such that h of the counts are at least h."""
    ranked = sorted(counts, reverse=True)
    return sum(1 for rank, count in enumerate(ranked, 1) if count >= rank)


# ------------------------------------------------------------------------- settling


@dataclass
class _Person:
    name: str
    slug: str
    citations: Number
    h_index: Number
    stars: Number
    papers: list[Paper] | None = None  # their Scholar papers, when the group counts with them
    papers_problem: str | None = None  # why those are not this run's


def _metrics_entry(stats: Mapping[str, Any], source: str, item: str) -> Mapping[str, Any]:
    entry = lookup((stats.get("sources") or {}).get(source), item, case_insensitive=False)
    return entry if isinstance(entry, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class _Settled:
    """The settled items of every source, by (result source, item)."""

    def __init__(self, outputs: Mapping[str, SourceOutput]) -> None:
        self.by_key: dict[tuple[str, str], ItemResult] = {}
        for output in outputs.values():
            for result in output.results:
                self.by_key.setdefault((result.source, result.item), result)
                self.by_key.setdefault((result.source, result.item.lower()), result)

    def get(self, source: str, item: str, case_insensitive: bool) -> ItemResult | None:
        found = self.by_key.get((source, item))
        if found is None and case_insensitive:
            found = self.by_key.get((source, item.lower()))
        return found


def _citations(
    person: Any, counting: list[str], sources: Mapping[str, Source], settled: _Settled, previous_stats: Mapping[str, Any]
) -> tuple[Number, Number]:
    """The person's citations and h-index: first fresh source, else last published, else kept, else error."""
    tried: list[tuple[str, list[ItemResult | None]]] = []
    problems: list[str] = []
    for name in counting:
        source = sources[name]
        keys = [k for k in source.person_items(person.ids(type(source))) if k[0] == name]
        if not keys:
            continue
        items = [settled.get(s, i, s in source.case_insensitive) for s, i in keys]
        tried.append((name, items))
        stale = [(k, r) for k, r in zip(keys, items, strict=True) if r is None or "citations" not in r.fresh_metrics()]
        if stale:
            (_, item), result = stale[0]
            problems.append(f"{name} {item}: {(result.error if result else None) or 'no fresh count'}")
            continue
        ok = [r for r in items if r is not None]
        hs = [r.metrics["h_index"] for r in ok if "h_index" in r.fresh_metrics()]
        h = Number("ok", max(hs), name) if len(hs) == len(ok) else Number("error", None, name, "no h-index")
        return Number("ok", sum(r.metrics["citations"] for r in ok), name), h
    if not tried:
        return Number("none"), Number("none")
    problem = "; ".join(problems) or "no fresh count"
    old = _metrics_entry(previous_stats, PEOPLE_SOURCE, person.slug)
    old_metrics = old.get("metrics") if isinstance(old.get("metrics"), Mapping) else {}
    old_from = old.get("from") if isinstance(old.get("from"), str) else None
    if _int(old_metrics.get("citations")) is not None:
        h_value = _int(old_metrics.get("h_index"))
        return (
            Number("stale", old_metrics["citations"], old_from, problem),
            Number("stale" if h_value is not None else "error", h_value, old_from, problem),
        )
    for name, items in tried:  # nothing published before: the first source with kept values
        if items and all(r is not None and "citations" in r.metrics for r in items):
            kept = [r for r in items if r is not None]
            hs = [r.metrics["h_index"] for r in kept if "h_index" in r.metrics]
            h_number = Number("stale", max(hs), name, problem) if len(hs) == len(kept) else Number("error", None, name, problem)
            return Number("stale", sum(r.metrics["citations"] for r in kept), name, problem), h_number
    return Number("error", None, None, problem), Number("error", None, None, problem)


def _stars(person: Any, sources: Mapping[str, Source], settled: _Settled) -> Number:
    github = sources.get("github")
    if github is None:
        return Number("none")
    keys = [k for k in github.person_items(person.ids(type(github))) if k[0] == STARS_SOURCE]
    if not keys:
        return Number("none")
    users = [(item, settled.get(s, item, True)) for s, item in keys]
    values = [r.metrics["stars"] for _, r in users if r is not None and "stars" in r.metrics]
    problems = [f"github user {item}: {(r.error if r else None) or 'no result'}" for item, r in users if r is None or r.status != "ok"]
    if not values:
        return Number("error", None, None, "; ".join(problems) or "no value")
    if problems or len(values) < len(users):
        return Number("stale", sum(values), None, "; ".join(problems))
    return Number("ok", sum(values))


def _papers(uid: str, scholar: SourceOutput | None, settled: _Settled, previous: Snapshot) -> tuple[list[Paper] | None, str | None]:
    """The profile's papers, and why they are not this run's: this run's when the profile is
    fresh, else those of its last good fetch (None when there are none)."""
    from statsbot.sources.scholar.source import papers_path

    path = papers_path(uid)
    result = settled.get(SCHOLAR, uid, False)
    if result is not None and result.status == "ok" and scholar is not None:
        data = scholar.files.get(item_key(SCHOLAR, uid), {}).get(path)
        if data is not None:
            papers = _read_papers(data, f"this run's {path}")
            if papers is not None:
                return papers, None
    why = f"scholar {uid}: {(result.error if result else None) or 'not fresh'}; its papers from the last good fetch"
    old = read_json(previous, path)
    return (None if old is None else _read_papers(old, f"the published {path}")), why


def _read_papers(data: Any, where: str) -> list[Paper] | None:
    try:
        records = _PAPERS.validate_python(data)
    except ValidationError as exc:
        log.warning("group: %s is not a list of papers (%d problems); that profile counts with its own total", where, exc.error_count())
        return None
    return [Paper(r.citations, list(r.cluster_ids), r.title, r.year) for r in records]


def _person_result(person: _Person, previous_stats: Mapping[str, Any], now: str) -> ItemResult | None:
    """The person's `people <slug>` item (None when the person has nothing to count)."""
    numbers = {"citations": person.citations, "h_index": person.h_index, "stars": person.stars}
    counted = {metric: n for metric, n in numbers.items() if n.status != "none"}
    if not counted:
        return None
    metrics = {metric: n.value for metric, n in counted.items() if n.value is not None}
    extra = {"from": person.citations.source} if person.citations.source else {}
    problems = list(dict.fromkeys(n.problem for n in counted.values() if n.status != "ok" and n.problem))
    if all(n.status == "ok" for n in counted.values()):
        return ItemResult(
            source=PEOPLE_SOURCE, item=person.slug, status="ok", fetched_at=now, last_success_at=now, metrics=metrics,
            detail=person.name, extra=extra,
        )
    error = "; ".join(problems) or "not every number is fresh"
    if not metrics:
        return ItemResult(source=PEOPLE_SOURCE, item=person.slug, status="error", error=error, detail=person.name, extra=extra)
    old = _metrics_entry(previous_stats, PEOPLE_SOURCE, person.slug).get("last_success_at")
    return ItemResult(
        source=PEOPLE_SOURCE, item=person.slug, status="stale", fetched_at=now, last_success_at=old if isinstance(old, str) else None,
        error=error, metrics=metrics, detail=person.name, extra=extra,
    )


def _group(people: list[_Person], counts: bool, previous_stats: Mapping[str, Any], now: str) -> tuple[ItemResult, dict[str, Number]]:
    """The `group all` item and its numbers for group.json."""
    size = Number("ok", len(people))
    if not counts:
        result = ItemResult(source=RESULT_SOURCE, item=ITEM, status="ok", fetched_at=now, last_success_at=now, metrics={"people": len(people)})
        return result, {"citations": Number("none"), "h_index": Number("none"), "people": size}
    papers: list[Paper] = []
    as_is = 0
    lower_bound = 0
    problems: list[str] = []
    has_value = False
    for person in people:
        if person.papers is not None:
            papers += person.papers
            has_value = True
            if person.papers_problem:
                problems.append(f"{person.slug}: {person.papers_problem}")
            continue
        if person.citations.status == "none":
            continue
        if person.citations.value is not None:
            has_value = True
            as_is += person.citations.value
            lower_bound = max(lower_bound, person.h_index.value or 0)
        if person.citations.status != "ok":
            problems.append(f"{person.slug}: {person.citations.problem or person.citations.status}")
    old = _metrics_entry(previous_stats, RESULT_SOURCE, ITEM)
    old_success = old.get("last_success_at") if isinstance(old.get("last_success_at"), str) else None
    if not has_value:  # nothing to build from: the last published numbers, or none
        old_metrics = old.get("metrics") if isinstance(old.get("metrics"), Mapping) else {}
        kept = {m: old_metrics[m] for m in ("citations", "h_index") if _int(old_metrics.get(m)) is not None}
        error = "no member has a citation count: " + ("; ".join(problems) or "no value yet")
        status = "stale" if kept else "error"
        # The item itself is never `error`: `people` always has a value, so group.json is
        # written; citations without a value get error badges (GroupNumbers.files).
        result = ItemResult(
            source=RESULT_SOURCE, item=ITEM, status="stale", fetched_at=now, last_success_at=old_success, error=error,
            metrics={**kept, "people": len(people)},
        )
        return result, {
            "citations": Number(status, kept.get("citations")), "h_index": Number(status, kept.get("h_index")), "people": size,
        }
    distinct = distinct_papers(papers)
    citations = sum(distinct) + as_is
    h = max(h_index(distinct), lower_bound)
    metrics = {"citations": citations, "h_index": h, "people": len(people)}
    if not problems:
        result = ItemResult(source=RESULT_SOURCE, item=ITEM, status="ok", fetched_at=now, last_success_at=now, metrics=metrics)
        return result, {"citations": Number("ok", citations), "h_index": Number("ok", h), "people": size}
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    result = ItemResult(
        source=RESULT_SOURCE, item=ITEM, status="stale", fetched_at=now, last_success_at=old_success,
        error=f"not every member is fresh: {shown}", metrics=metrics,
    )
    return result, {"citations": Number("stale", citations), "h_index": Number("stale", h), "people": size}


def derive(
    config: Any,
    sources: Mapping[str, Source],
    outputs: Mapping[str, SourceOutput],
    previous: Snapshot,
    previous_stats: Mapping[str, Any],
    now: datetime,
) -> tuple[GroupNumbers, SourceOutput] | None:
    """The `group all` and `people <slug>` items and group.json, from the settled items of
    every source (and, for a profile not fresh today, its papers in `previous`); None
    without `[[people]]`."""
    if not config.people:
        return None
    when = iso_utc(now.replace(microsecond=0))
    counting = [name for name in config.run.citations_from if name in sources and sources[name].counts_citations]
    settled = _Settled(outputs)
    people: list[_Person] = []
    for entry in config.people:
        citations, h = _citations(entry, counting, sources, settled, previous_stats)
        person = _Person(entry.name, entry.slug, citations, h, _stars(entry, sources, settled))
        scholar = sources.get(SCHOLAR)
        ids = entry.ids(type(scholar)) if scholar is not None and SCHOLAR in counting else []
        if ids:
            person.papers, person.papers_problem = _papers(ids[0], outputs.get(SCHOLAR), settled, previous)
        people.append(person)
    results = [r for r in (_person_result(p, previous_stats, when) for p in people) if r is not None]
    counts = any(p.citations.status != "none" for p in people)  # some member has ids on a counting source
    total, numbers = _group(people, counts, previous_stats, when)
    document = {
        "schema_version": SCHEMA_VERSION,
        "people": [
            {
                "name": p.name,
                "slug": p.slug,
                "citations": p.citations.document(),
                "h_index": p.h_index.document(),
                "stars": p.stars.document(with_from=False),
            }
            for p in people
        ],
        "group": {metric: n.document(with_from=False) for metric, n in numbers.items()},
    }
    output = SourceOutput(results=[total, *results], state={"document": document, "counts_citations": counts})
    return GroupNumbers(), output
