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

from statsbot.config import HuggingFaceConfig
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.http import HostScopedAuth, RateLimited, StopSignal, make_session, request_json, run_pool
from statsbot.results import ItemResult, iso_utc, utc_now

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
