"""Google Scholar as a source: one profile, its files (AcadHomepage's and the badges), its charts."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from statsbot.badges import count_badge
from statsbot.deadline import Deadline
from statsbot.results import ItemResult, iso_utc
from statsbot.settings import ChartsConfig
from statsbot.snapshot import Snapshot
from statsbot.sources.base import FetchContext, Files, Series, Source, SourceOutput, item_key, title
from statsbot.sources.scholar.config import SCHOLAR_ID_ENV, ScholarConfig
from statsbot.sources.scholar.profile import ScholarProfile

log = logging.getLogger("statsbot")

GS_DATA_FILE = "gs_data.json"
SHIELDS_FILE = "gs_data_shieldsio.json"
LOGO = "googlescholar"


def scholar_files(profile: ScholarProfile) -> Files:
    """AcadHomepage's two files plus the profile's badges."""
    metrics = profile.metrics
    base = f"badges/scholar/{profile.scholar_id}"
    files: Files = {
        GS_DATA_FILE: {**profile.gs_data, "updated": str(profile.fetched_at)},
        SHIELDS_FILE: {"schemaVersion": 1, "label": "citations", "message": str(metrics.citations)},
        f"{base}/citations.json": count_badge("citations", metrics.citations, logo=LOGO).to_json(),
        f"{base}/h-index.json": count_badge("h-index", metrics.h_index, logo=LOGO).to_json(),
        f"{base}/i10-index.json": count_badge("i10-index", metrics.i10_index, logo=LOGO).to_json(),
    }
    for paper in profile.papers:
        files[f"{base}/papers/{paper.pub_id}.json"] = count_badge("citations", paper.citations, logo=LOGO).to_json()
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
    gated = {"scholar": ("citations", "publications")}
    settings: ScholarConfig

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
        return [
            f"scholar: profile {s.id} from {s.base_url} "
            f"(timeout {s.timeout_seconds:g} s, {s.retries} retries, deadline {s.deadline_seconds:g} s)",
            f"scholar fetchers, in order: {describe_fetchers(s, env)}",
        ]

    @property
    def activity(self) -> str:
        return f"fetching Scholar profile {self.settings.id}"

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        from statsbot.sources.scholar.chain import fetch_profile

        settings = self.settings
        published = published_at(context.published.get(settings.id))
        profile = fetch_profile(settings, deadline, env=context.env, published_at=published)
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
        return SourceOutput(results=[result], files={item_key("scholar", settings.id): scholar_files(profile)})

    def failed(self, message: str) -> SourceOutput:
        log.error("scholar %s: %s", self.settings.id, message)
        return SourceOutput(results=[ItemResult(source="scholar", item=self.settings.id, status="error", error=message)])

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
        uid = self.settings.id
        return [
            Series("scholar", uid, metric, f"charts/scholar/{uid}/{name}.svg", f"{name} ({uid})")
            for metric, name in (("citations", "citations"), ("h_index", "h-index"), ("i10_index", "i10-index"))
        ]

    def charts(self, encoded: Mapping[str, bytes], previous: Snapshot) -> dict[str, bytes]:
        """Citations per year, from gs_data.json; the published chart is kept when the data did not change."""
        uid = self.settings.id
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
