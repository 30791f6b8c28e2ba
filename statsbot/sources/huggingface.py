"""Hugging Face downloads (last 30 days and all time) and likes of models and datasets.

``GET {endpoint}/api/models/{id}`` (or ``/api/datasets/{id}``) with
``expand[]=downloads``, ``expand[]=likes`` and ``expand[]=downloadsAllTime``, on a
bounded pool with one `requests.Session`; retries from urllib3's `Retry`; a 429
stops further requests to the Hub for this run.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, NonNegativeInt, ValidationError

from statsbot.badges import count_badge
from statsbot.config import ChartsConfig, HuggingFaceConfig
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.http import HostScopedAuth, RateLimited, StopSignal, make_session, request_json, run_pool
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.sources.base import FetchContext, Series, Source, SourceOutput

log = logging.getLogger("statsbot.huggingface")

EXPAND = [("expand[]", "downloads"), ("expand[]", "likes"), ("expand[]", "downloadsAllTime")]
DATASET_PREFIX = "datasets/"


class _HubRepo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    downloads: NonNegativeInt
    likes: NonNegativeInt
    downloadsAllTime: NonNegativeInt | None = None


def item_key(kind: str, repo_id: str) -> str:
    """How an item is named in stats.json and under badges/huggingface/: datasets get a prefix."""
    return f"{DATASET_PREFIX}{repo_id}" if kind == "datasets" else repo_id


def fetch_huggingface(settings: HuggingFaceConfig, token: str | None, deadline: Deadline) -> list[ItemResult]:
    endpoint = settings.endpoint or "https://huggingface.co"
    session = make_session(retries=settings.retries, pool_size=settings.max_workers, max_wait=min(10.0, deadline.remaining()))
    if token:
        session.auth = HostScopedAuth(f"Bearer {token}", endpoint)
    stop = StopSignal()

    def fetch(key: tuple[str, str]) -> ItemResult:
        kind, repo_id = key
        what = f"Hugging Face {kind[:-1]} {repo_id}"
        stop.check()
        response, data = request_json(
            session,
            "GET",
            f"{endpoint}/api/{kind}/{repo_id}",
            deadline=deadline,
            timeout=settings.timeout_seconds,
            what=what,
            params=EXPAND,
        )
        status = response.status_code
        if status == 429:
            stop.set(f"Hugging Face rate limit reached (HTTP 429{_retry_after(response)})")
            stop.check()
        if status in (401, 404):
            raise SourceError(f"{what}: not found (HTTP {status}): deleted, private, gated or misspelt")
        if status != 200:
            raise SourceError(f"{what}: HTTP {status}" + (f" after {settings.retries} retries" if status >= 500 else ""))
        try:
            repo = _HubRepo.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "body"
            raise SourceError(f"{what}: unexpected answer ({where}: {error['msg']})") from None
        metrics = {"downloads": repo.downloads, "likes": repo.likes}
        if repo.downloadsAllTime is not None:
            metrics["downloads_all_time"] = repo.downloadsAllTime
        moved = _moved_to(kind, repo_id, repo.id, response)
        if moved:
            log.warning("%s has moved to %s: update your config", what, moved)
        return ItemResult(
            source="huggingface", item=item_key(kind, repo_id), status="ok", fetched_at=iso_utc(utc_now()), metrics=metrics,
            extra={"moved_to": moved} if moved else {},
        )

    keys = [("models", m) for m in settings.models] + [("datasets", d) for d in settings.datasets]
    try:
        outcomes = run_pool(fetch, keys, workers=settings.max_workers, deadline=deadline, label="Hugging Face repositories")
    finally:
        session.close()
    results = []
    for key in keys:
        outcome = outcomes[key]
        if isinstance(outcome, BaseException):
            message = str(outcome) if isinstance(outcome, (SourceError, RateLimited)) else f"unexpected {type(outcome).__name__}: {outcome}"
            if not isinstance(outcome, (SourceError, RateLimited)):
                log.error("huggingface %s: %s", key[1], message, exc_info=outcome)
            results.append(ItemResult(source="huggingface", item=item_key(*key), status="error", error=one_line(message)))
        else:
            results.append(outcome)
    return results


def _moved_to(kind: str, requested: str, answered: str, response: Any) -> str | None:
    """The repository's new id when the Hub redirected a renamed or transferred one (HTTP 307/301,
    followed), or answered under another id; None when it is where the config says."""
    if answered.lower() != requested.lower():
        return answered
    if response.history:
        path = unquote(urlsplit(response.url).path)
        prefix = f"/api/{kind}/"
        if prefix in path:
            final = path.split(prefix, 1)[1].strip("/")
            if final and final.lower() != requested.lower():
                return final
    return None


def _retry_after(response: Any) -> str:
    value = response.headers.get("Retry-After")
    return f", Retry-After {value} s" if value else ""


# ------------------------------------------------------------------------- source

LOGO = "huggingface"
_METRIC_BADGES = {"downloads": "downloads.json", "downloads_all_time": "downloads-all-time.json", "likes": "likes.json"}


def hub_files(result: ItemResult) -> dict[str, Any]:
    """Downloads (30 days and all time) and likes of a model or dataset."""
    base = f"badges/huggingface/{result.item}"
    metrics = result.metrics
    files = {
        f"{base}/downloads.json": count_badge("downloads/month", metrics["downloads"], logo=LOGO, short=True).to_json(),
        f"{base}/likes.json": count_badge("likes", metrics["likes"], logo=LOGO, short=True).to_json(),
    }
    if "downloads_all_time" in metrics:
        files[f"{base}/downloads-all-time.json"] = count_badge(
            "downloads", metrics["downloads_all_time"], logo=LOGO, short=True
        ).to_json()
    return files


class HuggingFaceSource(Source):
    """Models and datasets on the Hugging Face Hub."""

    name = "huggingface"
    gated = {"huggingface": ("downloads_all_time",)}  # monthly downloads rise and fall: not gated
    settings: HuggingFaceConfig
    activity = "fetching Hugging Face repositories"

    @classmethod
    def has_items(cls, settings: HuggingFaceConfig) -> bool:
        return bool(settings.models or settings.datasets)

    def keys(self) -> list[str]:
        return [item_key("models", m) for m in self.settings.models] + [item_key("datasets", d) for d in self.settings.datasets]

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        results = fetch_huggingface(self.settings, context.env.get("HF_TOKEN") or None, deadline)
        for result in results:
            if result.status != "ok":
                logging.getLogger("statsbot").error("%s %s: %s", result.source, result.item, result.error)
        return SourceOutput(results=results)

    def failed(self, message: str) -> SourceOutput:
        logging.getLogger("statsbot").error("huggingface: %s", message)
        return SourceOutput(results=[ItemResult(source="huggingface", item=k, status="error", error=message) for k in self.keys()])

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> dict[str, Any] | None:
        return hub_files(result) if result.status == "ok" else None

    def badges(self, result: ItemResult, previous: Any) -> dict[str, tuple[str, str | None]]:
        base = f"badges/huggingface/{result.item}"
        return {
            f"{base}/downloads.json": ("downloads/month", LOGO),
            f"{base}/downloads-all-time.json": ("downloads", LOGO),
            f"{base}/likes.json": ("likes", LOGO),
        }

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        name = _METRIC_BADGES.get(metric)
        return f"badges/huggingface/{result.item}/{name}" if name else None

    def series(self, charts: ChartsConfig) -> list[Series]:
        return [
            Series("huggingface", item, metric, f"charts/huggingface/{item}/{name}.svg", f"{name} of {item}")
            for item in self.keys()
            for metric, name in (("downloads", "downloads"), ("downloads_all_time", "downloads-all-time"))
        ]
