"""Google Scholar as a source: the page owner's profile (AcadHomepage's files, badges,
charts) and, for a lab, more profiles (badges and stats), fetched one after another."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from statsbot.badges import count_badge
from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, one_line
from statsbot.results import ItemResult, iso_utc
from statsbot.settings import ChartsConfig
from statsbot.snapshot import Snapshot
from statsbot.sources.base import FetchContext, Files, Series, Source, SourceOutput, Totals, item_key, title
from statsbot.sources.scholar.config import SCHOLAR_ID_ENV, ScholarConfig, ScholarId

if TYPE_CHECKING:  # the fetching half (profile model, fetchers, httpx) loads when a fetch starts
    from statsbot.sources.scholar.base import ScholarRun
    from statsbot.sources.scholar.profile import ScholarProfile

log = logging.getLogger("statsbot")

GS_DATA_FILE = "gs_data.json"
SHIELDS_FILE = "gs_data_shieldsio.json"
LOGO = "googlescholar"
PAPER_FIELDS = ("pub_id", "cluster_ids", "title", "year", "citations")


def papers_path(scholar_id: str) -> str:
    """The profile's papers as data (cluster ids, title, year, citations), kept with its badges
    so that a later run that cannot fetch the profile still has them (statsbot.group)."""
    return f"data/scholar/{scholar_id}/papers.json"


def scholar_files(profile: ScholarProfile, *, owner: bool = True) -> Files:
    """The profile's badges and papers data, and for the page's owner AcadHomepage's two files."""
    metrics = profile.metrics
    base = f"badges/scholar/{profile.scholar_id}"
    files: Files = {}
    if owner:
        files[GS_DATA_FILE] = {**profile.gs_data, "updated": str(profile.fetched_at)}
        files[SHIELDS_FILE] = {"schemaVersion": 1, "label": "citations", "message": str(metrics.citations)}
    files |= {
        f"{base}/citations.json": count_badge("citations", metrics.citations, logo=LOGO).to_json(),
        f"{base}/h-index.json": count_badge("h-index", metrics.h_index, logo=LOGO).to_json(),
        f"{base}/i10-index.json": count_badge("i10-index", metrics.i10_index, logo=LOGO).to_json(),
    }
    for paper in profile.papers:
        files[f"{base}/papers/{paper.pub_id}.json"] = count_badge("citations", paper.citations, logo=LOGO).to_json()
    papers = sorted(profile.papers, key=lambda paper: paper.pub_id)
    files[papers_path(profile.scholar_id)] = [paper.model_dump(include=set(PAPER_FIELDS)) for paper in papers]
    return files


def published_at(entry: Any) -> datetime | None:
    """When the published values of an item were fetched (its last success), if known."""
    moment = entry.get("last_success_at") if isinstance(entry, Mapping) else None
    if not isinstance(moment, str):
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


class ScholarSource(Source):
    name = "scholar"
    display_name = "Google Scholar"
    counts_citations = True
    config_model = ScholarConfig
    wants = f"[scholar] id (or ${SCHOLAR_ID_ENV})"
    env_keys = {"id": f"${SCHOLAR_ID_ENV}"}
    person_key, person_type, people_list = "scholar", ScholarId, "profiles"  # one profile a person
    item_keys = ("id", "profiles")
    gated = {"scholar": ("citations", "publications")}
    settings: ScholarConfig
    _remembers = False

    @property  # type: ignore[override]
    def uses_cache(self) -> bool:
        """Its section of .statsbot/cache.json, ``{"pages": {owner's id: the pages last parsed
        and the profile they gave}}``, so that a day whose pages did not change parses nothing
        (see `ScholarRun`). Kept only once there is something to remember (`derive` sees the
        fetch's output): a config without an owner, or a first fetch that failed, writes no cache."""
        return self._remembers

    def derive(self, output: SourceOutput, totals: Totals) -> None:
        """The pages cache remembers only pages whose profile is published: an answer held
        back (a big drop) or failed keeps the entry of the pages before it."""
        pages = output.cache.get("pages")
        pages = dict(pages) if isinstance(pages, dict) else {}
        before = output.state.get("pages_before")
        before = before if isinstance(before, dict) else {}
        for result in output.results:
            if result.source == self.name and result.status != "ok" and result.item in pages:
                if result.item in before:
                    pages[result.item] = before[result.item]
                else:
                    del pages[result.item]
        if "pages" in output.cache:
            output.cache["pages"] = pages
        self._remembers = bool(pages)

    @classmethod
    def prepare(cls, section: dict[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any] | None:
        """`$GOOGLE_SCHOLAR_ID` fills the id when the file has none (AcadHomepage's secret)."""
        env_id = env.get(SCHOLAR_ID_ENV, "").strip()
        if env_id and (section is None or "id" not in section):
            return {**(section or {}), "id": env_id}
        return section

    def describe(self, env: Mapping[str, str]) -> list[str]:
        from statsbot.sources.scholar.chain import describe_fetchers

        s = self.settings
        others = [p for p in s.all_ids if p != s.id]
        what = f"profile {s.id}" if s.id else ""
        if others:
            count = f"{len(others)} {'more ' if s.id else ''}profile{'s' if len(others) > 1 else ''}"
            what += (" and " if what else "") + f"{count} (badges only)"
        return [
            f"scholar: {what} from {s.base_url} "
            f"(timeout {s.timeout_seconds:g} s, {s.retries} retries, deadline {s.deadline_seconds:g} s)",
            f"scholar fetchers, in order: {describe_fetchers(s, env)}",
        ]

    @property
    def activity(self) -> str:
        ids = self.settings.all_ids
        return f"fetching Scholar profile {ids[0]}" if len(ids) == 1 else f"fetching {len(ids)} Scholar profiles"

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        """Each profile in turn, a pause (`page_delay_seconds`, jittered) between two. The
        first block ends the fetch: the profiles after it are left for the next run (their
        published values kept) rather than burning this IP address further."""
        from statsbot.sources.scholar.base import ScholarRun

        settings = self.settings
        output = SourceOutput()
        pages = context.cache.get("pages")
        run = ScholarRun(pages if isinstance(pages, dict) else {}, remember=[settings.id] if settings.id else [])
        try:
            self._fetch_each(context, deadline, run, output)
        finally:
            run.close()  # the run's clients: built once, for every profile
        # The owner's pages: this run's, else (not fetched) the last ones remembered.
        kept = {uid: entry for uid, entry in run.pages.items() if uid in run.remember}
        output.cache = {"pages": {**kept, **run.pages_out}}
        output.state["pages_before"] = kept  # for `derive`, once the answers are settled
        return output

    def _fetch_each(self, context: FetchContext, deadline: Deadline, run: ScholarRun, output: SourceOutput) -> None:
        from statsbot.sources.scholar.chain import fetch_profile
        from statsbot.sources.scholar.profile import ScholarBlocked, ScholarError

        settings = self.settings
        ids = settings.all_ids
        blocked: str | None = None
        for index, uid in enumerate(ids):
            if blocked is not None:
                output.results.append(self._error(uid, f"not fetched: {blocked}; left for the next run"))
                continue
            if index:
                pause = min(settings.page_delay_seconds * random.uniform(0.5, 1.5), max(0.0, deadline.remaining() - 1.0))
                if pause > 0:
                    time.sleep(pause)
            try:
                one = settings.model_copy(update={"id": uid})
                profile = fetch_profile(
                    one, deadline, env=context.env, published_at=published_at(context.published.get(uid)), run=run
                )
            except ScholarBlocked as exc:
                message = one_line(str(exc))
                output.results.append(self._error(uid, message))
                if len(ids) > 1:
                    blocked = f"Scholar blocked this runner at profile {uid}"
                continue
            except (ScholarError, DeadlineExceeded) as exc:
                output.results.append(self._error(uid, one_line(str(exc))))
                if isinstance(exc, DeadlineExceeded) or deadline.expired():
                    blocked = f"the Scholar deadline was reached at profile {uid}"
                continue
            log.info(
                "scholar %s: %d publications in %d requests (via %s)", uid, profile.metrics.publications, profile.requests, profile.via,
            )
            output.results.append(ItemResult(
                source="scholar", item=uid, status="ok", fetched_at=iso_utc(profile.fetched_at),
                metrics=profile.metrics.model_dump(), detail=profile.name, extra={"via": profile.via},
            ))
            output.files[item_key("scholar", uid)] = scholar_files(profile, owner=uid == settings.id)

    def _error(self, uid: str, message: str) -> ItemResult:
        log.error("scholar %s: %s", uid, message)
        return ItemResult(source="scholar", item=uid, status="error", error=message)

    def failed(self, message: str) -> SourceOutput:
        return SourceOutput(results=[self._error(uid, message) for uid in self.settings.all_ids])

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        if result.status != "ok":
            return None
        return output.files.get(item_key(result.source, result.item))

    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        base = f"badges/scholar/{result.item}"
        paths: dict[str, tuple[str, str | None]] = {f"{base}/{name}.json": (name, LOGO) for name in ("citations", "h-index", "i10-index")}
        paths.update({path: ("citations", LOGO) for path in previous.list(f"{base}/papers/")})
        return paths

    def summary(self, result: ItemResult) -> list[str]:
        """A profile's metrics one a line, and the fetcher that got them."""
        if result.status != "ok":
            return super().summary(result)
        via = f" (via {result.extra['via']})" if result.extra.get("via") else ""
        width = max((len(name) for name in result.metrics), default=0)
        return [f"{title(result)}: ok{via}", *(f"  {name:<{width}}  {value}" for name, value in result.metrics.items())]

    def series(self, charts: ChartsConfig) -> list[Series]:
        return [
            Series("scholar", uid, metric, f"charts/scholar/{uid}/{name}.svg", f"{name} ({uid})")
            for uid in self.settings.all_ids
            for metric, name in (("citations", "citations"), ("h_index", "h-index"), ("i10_index", "i10-index"))
        ]

    def charts(self, encoded: Mapping[str, bytes], previous: Snapshot) -> dict[str, bytes]:
        """The owner's citations per year, from gs_data.json; the published chart is kept when the data did not change."""
        uid = self.settings.id
        if uid is None:
            return {}
        data = encoded.get(GS_DATA_FILE)
        per_year = (json.loads(data).get("cites_per_year") if data else None) or {}
        if not isinstance(per_year, dict) or not per_year:
            return {}
        path = f"charts/scholar/{uid}/citations-per-year.svg"
        old_data = previous.read(GS_DATA_FILE)
        old_per_year = (json.loads(old_data).get("cites_per_year") if old_data else None) or {}
        old_chart = previous.read(path)
        if old_per_year == per_year and old_chart is not None:
            return {path: old_chart}
        from statsbot import charts

        return {path: charts.citations_per_year({str(k): int(v) for k, v in per_year.items()}, f"Citations per year ({uid})")}
