"""Hugging Face downloads (last 30 days and all time) and likes of models and datasets.

``GET {endpoint}/api/models/{id}`` (or ``/api/datasets/{id}``) with
``expand[]=downloads``, ``expand[]=likes`` and ``expand[]=downloadsAllTime``, on a
bounded pool with one `requests.Session`; retries from urllib3's `Retry`; a 429
stops further requests to the Hub for this run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
)

from statsbot.badges import count_badge
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.settings import (
    ChartsConfig,
    Section,
    show,
    unique,
    validate_base_url,
    validate_name,
)
from statsbot.sources.base import FetchContext, Series, Source, SourceOutput

log = logging.getLogger("statsbot.huggingface")

# ------------------------------------------------------------------------- config

HF_ENDPOINT_ENV = "HF_ENDPOINT"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


def validate_hf_repo(value: str) -> str:
    """A Hugging Face ``org/name``, or a bare ``name`` for the Hub's older repositories without an
    organisation (``gpt2``, ``bert-base-uncased``): letters, digits, '.', '_' and '-' in each part."""
    if not isinstance(value, str):
        raise ValueError(f"must be 'org/name' or 'name', got {show(value)}")
    org, slash, name = value.partition("/")
    if not slash:
        validate_name(value, "must be 'org/name' or a bare name")
        return value
    validate_name(org, "the organisation must be")
    validate_name(name, "the name must be")
    return value



HuggingFaceRepo = Annotated[str, AfterValidator(validate_hf_repo)]


class HuggingFaceConfig(Section):
    """``[huggingface]``: models and datasets. The token comes from ``$HF_TOKEN``."""

    models: list[HuggingFaceRepo] = []
    datasets: list[HuggingFaceRepo] = []
    endpoint: str | None = None  # default: $HF_ENDPOINT, else https://huggingface.co
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    max_workers: int = Field(8, ge=1, le=64)

    _check_models = field_validator("models")(classmethod(lambda cls, v: unique(v, "model")))
    _check_datasets = field_validator("datasets")(classmethod(lambda cls, v: unique(v, "dataset")))
    _check_endpoint = field_validator("endpoint")(classmethod(lambda cls, v: None if v is None else validate_base_url(v)))




EXPAND = [("expand[]", "downloads"), ("expand[]", "likes"), ("expand[]", "downloadsAllTime")]
DATASET_PREFIX = "datasets/"


class _HubRepo(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # built at the first fetch, not to read the config

    id: str
    downloads: NonNegativeInt
    likes: NonNegativeInt
    downloadsAllTime: NonNegativeInt | None = None


def item_key(kind: str, repo_id: str) -> str:
    """How an item is named in stats.json and under badges/huggingface/: datasets get a prefix."""
    return f"{DATASET_PREFIX}{repo_id}" if kind == "datasets" else repo_id


def fetch_huggingface(settings: HuggingFaceConfig, token: str | None, deadline: Deadline) -> list[ItemResult]:
    # Here, not at the top: reading the config (statsbot check) never loads requests.
    from statsbot.http import HostScopedAuth, RateLimited, StopSignal, make_session, request_json, run_pool

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
    display_name = "Hugging Face"
    config_model = HuggingFaceConfig
    wants = "[huggingface] models or datasets"
    secret_keys = {"token": "$HF_TOKEN"}
    person_key, person_type, people_list = "huggingface", list[HuggingFaceRepo], "models"
    item_keys = ("models", "datasets")
    gated = {"huggingface": ("downloads_all_time",)}  # monthly downloads rise and fall: not gated
    settings: HuggingFaceConfig
    activity = "fetching Hugging Face repositories"

    @classmethod
    def has_items(cls, settings: HuggingFaceConfig) -> bool:
        return bool(settings.models or settings.datasets)

    @classmethod
    def prepare(cls, section: dict[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any] | None:
        """The endpoint, when the file names none: `$HF_ENDPOINT` (as huggingface_hub reads it), else the Hub."""
        if section is not None and "endpoint" not in section:
            return {**section, "endpoint": env.get(HF_ENDPOINT_ENV) or DEFAULT_HF_ENDPOINT}
        return section

    def describe(self, env: Mapping[str, str]) -> list[str]:
        s = self.settings
        auth = "with $HF_TOKEN" if env.get("HF_TOKEN") else "anonymous"
        return [f"huggingface: {len(s.models)} models, {len(s.datasets)} datasets from {s.endpoint} ({auth})"]

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
