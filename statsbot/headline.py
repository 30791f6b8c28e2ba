"""The person's citation count for the page: ``badges/citations.json``.

Several sources count citations (Google Scholar, OpenAlex, Semantic Scholar: every source
with `counts_citations`), and their numbers differ. `[run] citations_from` orders them
(default ``["scholar", "openalex", "semanticscholar"]``); the badge shows the count of the
first configured one whose items are all fresh in this run, its label naming the source
when it is not Google Scholar (``citations (OpenAlex)``). stats.json records it as the item
``citations all`` with ``"from"`` naming the source. A source with several authors (one
person split in two by OpenAlex, say) counts the sum of their citations.

It follows the rules of any item (see docs/promises.md):
- no fresh value from any source: the published count is kept (stale, its source kept) and
  turns grey after `stale_after_days`; on a first run the first source with kept values is
  used, marked stale; with no value at all the badge is an error badge, never a zero;
- the drop gate needs no second check here: every item summed passed its own gate in this
  run, and a sum of values that each fell less than `max_drop_percent` falls less than that
  too. What can still lower the count is a change of the configured authors or a switch of
  source (Scholar blocked today, OpenAlex fresh); neither is a bad answer: a switch is
  logged, and the label says where the number is from.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Collection, Mapping

from statsbot.badges import STALE_COLOR, count_badge
from statsbot.results import ItemResult
from statsbot.settings import ChartsConfig, RunConfig
from statsbot.snapshot import Snapshot, lookup
from statsbot.sources.base import Files, Rendered, Series, Source, SourceOutput

log = logging.getLogger("statsbot")

RESULT_SOURCE = "citations"
ITEM = "all"
BADGE = "badges/citations.json"
CHART = "charts/citations.svg"
METRIC = "citations"


class PageCitations(Rendered):
    """Renders the settled `citations all` item: one badge and its chart."""

    name = RESULT_SOURCE
    totals = frozenset({RESULT_SOURCE})  # derived from other items: no annotation of its own

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.names = {name: source.display_name for name, source in sources.items()}
        self.logos = {name: getattr(source, "logo", None) for name, source in sources.items()}

    def _label(self, result: ItemResult) -> tuple[str, str | None]:
        origin = result.extra.get("from")
        if origin == "scholar" or origin is None:
            return "citations", "googlescholar" if origin == "scholar" else None
        return f"citations ({self.names.get(origin, origin)})", self.logos.get(origin)

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        if METRIC not in result.metrics:
            return None
        label, logo = self._label(result)
        badge = count_badge(label, result.metrics[METRIC], logo=logo)
        if grey:
            badge = badge.model_copy(update={"color": STALE_COLOR})
        return {BADGE: badge.to_json()}

    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        return {BADGE: self._label(result)}

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        return BADGE if metric == METRIC else None

    def series(self, charts: ChartsConfig) -> list[Series]:
        return [Series(RESULT_SOURCE, ITEM, METRIC, CHART, "citations")]


def derive(
    sources: Mapping[str, Source],
    outputs: Mapping[str, SourceOutput],
    previous_stats: Mapping[str, Any],
    settle: Callable[[ItemResult], ItemResult],
    rules: RunConfig,
    exclude: Collection[tuple[str, str]] = (),
) -> tuple[PageCitations, SourceOutput] | None:
    """The `citations all` item, settled, from the settled items of the counting sources
    (those in `exclude`, a lab's members, left out: they count in group.json); None when
    no configured source in `rules.citations_from` counts citations for the page's owner."""
    mine = {
        name: [r for r in outputs[name].results if r.source == name and (r.source, r.item) not in exclude]
        for name in rules.citations_from
        if name in sources and sources[name].counts_citations
    }
    counting = [name for name, items in mine.items() if items]
    if not counting:
        return None
    page = PageCitations({name: sources[name] for name in counting})
    entry = lookup((previous_stats.get("sources") or {}).get(RESULT_SOURCE), ITEM)
    entry = entry if isinstance(entry, Mapping) else {}
    before_from = entry.get("from")

    problems = []
    for name in counting:
        items = mine[name]
        stale = [r for r in items if METRIC not in r.fresh_metrics()]
        if stale:
            problems.append(f"{name}: {stale[0].error or 'no fresh count'}")
            continue
        value = sum(r.metrics[METRIC] for r in items)
        fetched_at = min(r.fetched_at or "" for r in items) or None
        result = ItemResult(
            source=RESULT_SOURCE, item=ITEM, status="ok", fetched_at=fetched_at, metrics={METRIC: value},
            detail=f"from {page.names[name]}", extra={"from": name},
        )
        if before_from is not None and before_from != name:
            why = f" ({'; '.join(problems)})" if problems else ""
            log.warning("citations for the page now come from %s, not %s%s", page.names[name], before_from, why)
        return page, SourceOutput(results=[settle(result)])

    error = "no source has a fresh citation count: " + ("; ".join(problems) or "no items")
    settled = settle(ItemResult(source=RESULT_SOURCE, item=ITEM, status="error", error=error))
    if settled.status == "error":  # nothing published before: the first source with kept values
        for name in counting:
            items = mine[name]
            if all(METRIC in r.metrics for r in items):
                settled = ItemResult(
                    source=RESULT_SOURCE, item=ITEM, status="stale", error=error, metrics={METRIC: sum(r.metrics[METRIC] for r in items)},
                    fetched_at=min(r.fetched_at or "" for r in items) or None,
                    last_success_at=min(r.last_success_at or "" for r in items) or None,
                    detail=f"from {page.names[name]}", extra={"from": name},
                )
                break
    return page, SourceOutput(results=[settled])
