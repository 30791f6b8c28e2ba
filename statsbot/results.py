"""What a run produces for each item (a Scholar profile, later a repository or a model)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, e.g. 2026-11-23T02:01:00Z."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


class ItemResult(BaseModel):
    """One item's outcome, as `stats.json` records it under ``sources.<source>.<item>``."""

    model_config = ConfigDict(frozen=True)

    source: str
    item: str
    status: Literal["ok", "stale", "error"]  # stale: earlier values kept; error: no value ever
    fetched_at: str | None = None  # when the metrics were fetched
    last_success_at: str | None = None
    error: str | None = None
    metrics: dict[str, int] = {}
    detail: str = ""  # a short note for the summary, e.g. the profile's name
    extra: dict[str, Any] = {}  # source-specific fields for stats.json, e.g. GitHub's moved_to
    # Metrics an answer left out, kept at their last good value: metric -> when it was last fresh.
    kept: dict[str, str | None] = {}

    def fresh_metrics(self) -> dict[str, int]:
        """The metrics observed by this run (none unless the item is ok; kept ones excluded)."""
        if self.status != "ok":
            return {}
        return {name: value for name, value in self.metrics.items() if name not in self.kept}

    def stats_entry(self) -> dict[str, Any]:
        return {
            **self.extra,
            "status": self.status,
            "fetched_at": self.fetched_at,
            "last_success_at": self.last_success_at,
            "error": self.error,
            "metrics": dict(self.metrics),
            **({"kept_metrics": dict(self.kept)} if self.kept else {}),
        }
