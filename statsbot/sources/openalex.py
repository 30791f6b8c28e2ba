"""OpenAlex: a person's citations, h-index, i10-index and works, and each work's citations.

Per author, ``GET {endpoint}/authors/{A-id}`` (or ``/authors/orcid:{ORCID}``) gives the
totals; with ``works = true`` the works list follows,
``GET {endpoint}/works?filter=author.id:{A-id}&per_page=200&cursor=*&select=...``, paged
with ``meta.next_cursor`` and stopped as soon as ``meta.count`` works are in (OpenAlex's
cursor stays non-null until a page comes back empty; that extra request is not spent).
An author costs 1 + ceil(W/200) requests, W = its works; an author with no works
(``works_count`` 0) costs 1: the list is not asked for.

The key (``$OPENALEX_API_KEY``, required by OpenAlex since 2026-02-13, free) is sent as
the ``api_key`` query parameter, as OpenAlex documents; it is registered with
`statsbot.redact`, and no message built here contains a request URL. Redirects are not
followed blindly: a merged author's redirect (301/302) names the new A-id, which is then
asked for at the configured endpoint, so the key never goes to another host. A 429
stops every further OpenAlex request of the run. A works list that breaks off midway
makes the whole author an error (its published values and files are kept by the
runner): a partial list is never published as complete.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from statsbot.badges import count_badge
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.redact import register
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.settings import ChartsConfig, Section, show, unique, validate_base_url
from statsbot.snapshot import Snapshot
from statsbot.sources.base import FetchContext, Files, Series, Source, SourceOutput, item_key

log = logging.getLogger("statsbot.openalex")

# ------------------------------------------------------------------------- config

API_KEY_ENV = "OPENALEX_API_KEY"
DEFAULT_ENDPOINT = "https://api.openalex.org"
KEY_URL = "https://openalex.org/settings/api"

_FLAGS = re.ASCII | re.IGNORECASE  # ASCII only: no Unicode digits, no Kelvin sign matching 'k'
_AUTHOR_ID = re.compile(r"(?:(?:https?://)?(?:api\.|www\.)?openalex\.org/(?:authors/|people/)?)?A([0-9]{1,15})/?", _FLAGS)
_ORCID = re.compile(r"(?:(?:https?://)?(?:www\.)?orcid\.org/|orcid:)?([0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X])/?", _FLAGS)
_ACCEPTED = (
    "must be an OpenAlex author id (A5023888391, https://openalex.org/A5023888391) "
    "or an ORCID (0000-0002-1825-0097, https://orcid.org/0000-0002-1825-0097, orcid:0000-0002-1825-0097)"
)


def orcid_check_digit(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ORCID's first 15 digits ('0'-'9' or 'X')."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def parse_author(value: Any) -> str:
    """An author as people paste it, normalised: ``A5023888391`` or a bare ORCID
    ``0000-0002-1825-0097`` (check digit checked, X upper case). Either is safe as a path
    segment. Raises ValueError for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"{_ACCEPTED}, got {show(value)}")
    text = value.strip()
    if m := _AUTHOR_ID.fullmatch(text):
        return "A" + m.group(1)
    if m := _ORCID.fullmatch(text):
        orcid = m.group(1).upper()
        digits = orcid.replace("-", "")
        if orcid_check_digit(digits[:15]) != digits[15]:
            raise ValueError(
                f"ORCID {show(value)}: the check digit (its last character) is wrong: copy the ORCID again from orcid.org"
            )
        return orcid
    raise ValueError(f"{_ACCEPTED}, got {show(value)}")


def is_orcid(item: str) -> bool:
    return "-" in item


OpenAlexAuthor = Annotated[str, AfterValidator(parse_author)]


class OpenAlexConfig(Section):
    """``[openalex]``: authors by OpenAlex id or ORCID. The key comes from ``$OPENALEX_API_KEY``."""

    authors: list[OpenAlexAuthor] = []
    works: bool = True  # each work's citations too (1 + ceil(W/200) requests an author); false: 1 request
    endpoint: str = DEFAULT_ENDPOINT
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    max_workers: int = Field(4, ge=1, le=64)

    _check_authors = field_validator("authors")(classmethod(lambda cls, v: unique(v, "author")))
    _check_endpoint = field_validator("endpoint")(classmethod(lambda cls, v: validate_base_url(v)))


# ------------------------------------------------------------------------- fetch

PER_PAGE = 200  # the most OpenAlex serves in one page
MAX_PAGES = 50  # 10,000 works an author; more is a disambiguation accident, not a person
MAX_REDIRECTS = 3
WORKS_SELECT = "id,display_name,publication_year,cited_by_count"
_WORK_ID = re.compile(r"(?:https?://)?(?:api\.)?openalex\.org/(?:works/)?(W[0-9]{1,15})", re.ASCII)
_REDIRECTS = (301, 302, 303, 307, 308)

_Count = Annotated[int, Field(ge=0, strict=True)]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)  # built at the first fetch, not to read the config


class _SummaryStats(_Answer):
    h_index: _Count
    i10_index: _Count


class _Author(_Answer):
    id: str
    display_name: str | None = None
    orcid: str | None = None
    works_count: _Count
    cited_by_count: _Count
    summary_stats: _SummaryStats


class _Work(_Answer):
    id: str
    display_name: str | None = None
    publication_year: int | None = None
    cited_by_count: _Count


class _Meta(_Answer):
    count: _Count
    next_cursor: str | None = Field(None, max_length=4096)


class _WorksPage(_Answer):
    meta: _Meta
    results: list[_Work]


def _validate(model: type[_Answer], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "body"
        raise SourceError(f"{what}: unexpected answer ({where}: {error['msg']})") from None


def _openalex_key(url: str, what: str) -> str:
    """``A5023888391`` from the author's id URL (https://openalex.org/A5023888391)."""
    try:
        key = parse_author(url)
    except ValueError:
        key = ""
    if not key.startswith("A"):
        raise SourceError(f"{what}: unexpected answer (id: not an OpenAlex author id: {show(url)})")
    return key


def _work_key(url: str, what: str) -> str:
    """``W123`` from a work's id URL; checked before it becomes part of a path."""
    m = _WORK_ID.fullmatch(url) if isinstance(url, str) else None
    if m is None:
        raise SourceError(f"{what}: unexpected answer (a work's id is not an OpenAlex work id: {show(url)})")
    return m.group(1)


def _bare_orcid(url: str | None) -> str | None:
    if not url:
        return None
    try:
        value = parse_author(url)
    except ValueError:
        return None
    return value if is_orcid(value) else None


def _author_in_location(location: str | None) -> str | None:
    """The A-id a redirect points to (``/authors/A123``, absolute or relative), if it names one."""
    if not location:
        return None
    last = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    m = re.fullmatch(r"A([0-9]{1,15})", last, _FLAGS)
    return "A" + m.group(1) if m else None


def _retry_after(response: Any) -> str:
    value = response.headers.get("Retry-After")
    return f", Retry-After {value} s" if value else ""


def fetch_openalex(
    settings: OpenAlexConfig, key: str | None, deadline: Deadline
) -> tuple[list[ItemResult], dict[str, Files]]:
    """Every configured author: its result (ok, or error with a one-line message) and, when ok, its files."""
    # Here, not at the top: reading the config (statsbot check) never loads requests.
    from statsbot.http import RateLimited, StopSignal, make_session, request_json, run_pool

    endpoint = settings.endpoint
    if key:
        register([key])
    else:
        log.warning(
            "$%s is not set: OpenAlex has required an API key since 2026-02-13 (free, from %s); "
            "trying without one, within OpenAlex's small keyless allowance",
            API_KEY_ENV, KEY_URL,
        )
    session = make_session(retries=settings.retries, pool_size=settings.max_workers, max_wait=min(10.0, deadline.remaining()))
    stop = StopSignal()
    key_params = {"api_key": key} if key else {}

    def get(path: str, params: dict[str, Any], what: str) -> tuple[Any, Any]:
        stop.check()
        response, data = request_json(
            session, "GET", f"{endpoint}{path}", deadline=deadline, timeout=settings.timeout_seconds, what=what,
            params={**params, **key_params}, allow_redirects=False,
        )
        status = response.status_code
        if status == 429:
            keyless = "" if key else f" (without ${API_KEY_ENV} the allowance is tiny)"
            stop.set(f"OpenAlex: the daily allowance or rate limit was reached (HTTP 429{_retry_after(response)}){keyless}; "
                     "no more OpenAlex requests this run")
            stop.check()
        if status in (401, 403):
            stop.set(f"OpenAlex refused the API key (HTTP {status}): check ${API_KEY_ENV}" if key
                     else f"OpenAlex refused a request without an API key (HTTP {status}): set ${API_KEY_ENV} (free, {KEY_URL})")
            stop.check()
        return response, data

    def fail(what: str, status: int) -> SourceError:
        retried = f" after {settings.retries} retries" if status >= 500 else ""
        return SourceError(f"{what}: HTTP {status}{retried}")

    def fetch_author(item: str) -> tuple[ItemResult, Files]:
        orcid = is_orcid(item)
        what = f"OpenAlex author with ORCID {item}" if orcid else f"OpenAlex author {item}"
        path = f"/authors/orcid:{item}" if orcid else f"/authors/{item}"
        for _ in range(MAX_REDIRECTS + 1):
            response, data = get(path, {}, what)
            status = response.status_code
            if status not in _REDIRECTS:
                break
            # A merged author: the Location names the A-id it now lives under, asked for at our endpoint.
            new = _author_in_location(response.headers.get("Location"))
            if new is None:
                raise SourceError(f"{what}: redirected (HTTP {status}) to an address that names no OpenAlex author")
            path = f"/authors/{new}"
        else:
            raise SourceError(f"{what}: more than {MAX_REDIRECTS} redirects")
        if status == 404:
            if orcid:
                raise SourceError(f"{what}: not in OpenAlex (HTTP 404): no OpenAlex author has this ORCID; use its A-id instead")
            raise SourceError(f"{what}: not found (HTTP 404): no such OpenAlex author (check the id at openalex.org)")
        if status != 200:
            raise fail(what, status)
        author = _validate(_Author, data, what)
        openalex_id = _openalex_key(author.id, what)
        moved = openalex_id if not orcid and openalex_id != item else None
        if moved:
            log.warning("OpenAlex author %s was merged into %s: update [openalex] authors to %s", item, moved, moved)
        works = list_works(openalex_id, what) if settings.works and author.works_count > 0 else {}
        metrics = {
            "citations": author.cited_by_count,
            "h_index": author.summary_stats.h_index,
            "i10_index": author.summary_stats.i10_index,
            "works": author.works_count,
        }
        extra: dict[str, Any] = {"openalex_id": openalex_id}
        known_orcid = _bare_orcid(author.orcid) or (item if orcid else None)
        if known_orcid:
            extra["orcid"] = known_orcid
        if moved:
            extra["moved_to"] = moved
        result = ItemResult(
            source="openalex", item=item, status="ok", fetched_at=iso_utc(utc_now()), metrics=metrics,
            detail=author.display_name or "", extra=extra,
        )
        return result, author_files(item, metrics, works if settings.works else None)

    def list_works(openalex_id: str, what: str) -> dict[str, int]:
        """Each work's citations, W-id -> count: the whole list, or SourceError."""
        works: dict[str, int] = {}
        cursor = "*"
        expected: int | None = None
        for page in range(1, MAX_PAGES + 1):
            where = f"{what}: works page {page}"
            params = {"filter": f"author.id:{openalex_id}", "per_page": PER_PAGE, "cursor": cursor, "select": WORKS_SELECT}
            response, data = get("/works", params, where)
            if response.status_code != 200:
                raise fail(where, response.status_code)
            listing = _validate(_WorksPage, data, where)
            if expected is None:
                expected = listing.meta.count
                if math.ceil(expected / PER_PAGE) > MAX_PAGES:
                    raise SourceError(
                        f"{what}: {expected} works, more than the {MAX_PAGES * PER_PAGE} statsbot lists "
                        "(set [openalex] works = false to fetch only the author's totals)"
                    )
            before = len(works)
            for work in listing.results:
                works[_work_key(work.id, where)] = work.cited_by_count
            if len(works) >= expected:
                return works
            if len(works) == before or listing.meta.next_cursor is None:
                raise SourceError(f"{what}: the works list broke off after {len(works)} of {expected} works")
            cursor = listing.meta.next_cursor
        raise SourceError(f"{what}: the works list did not end within {MAX_PAGES} pages")

    items = list(settings.authors)
    try:
        outcomes = run_pool(fetch_author, items, workers=settings.max_workers, deadline=deadline, label="OpenAlex authors")
    finally:
        session.close()
    results: list[ItemResult] = []
    files: dict[str, Files] = {}
    for item in items:
        outcome = outcomes[item]
        if isinstance(outcome, BaseException):
            expected_error = isinstance(outcome, (SourceError, RateLimited))
            message = str(outcome) if expected_error else f"unexpected {type(outcome).__name__}: {outcome}"
            if not expected_error:
                log.error("openalex %s: %s", item, message, exc_info=outcome)
            results.append(ItemResult(source="openalex", item=item, status="error", error=one_line(message)))
        else:
            result, item_files = outcome
            results.append(result)
            files[item_key("openalex", item)] = item_files
    _warn_same_author(results)
    return results, files


def _warn_same_author(results: list[ItemResult]) -> None:
    """Two configured entries (an A-id and an ORCID, say) that OpenAlex resolves to one author."""
    by_id: dict[str, list[str]] = {}
    for result in results:
        if result.status == "ok":
            by_id.setdefault(str(result.extra.get("openalex_id")), []).append(result.item)
    for openalex_id, items in by_id.items():
        if len(items) > 1:
            log.warning("[openalex] authors %s are one OpenAlex author (%s): list it once", " and ".join(items), openalex_id)


# ------------------------------------------------------------------------- source

LOGO = None  # simple-icons has no OpenAlex logo, so shields has no namedLogo for it
SUFFIX = " (OpenAlex)"
_BADGES = {"citations": "citations", "h_index": "h-index", "i10_index": "i10-index", "works": "works"}


def author_files(item: str, metrics: Mapping[str, int], works: Mapping[str, int] | None) -> Files:
    """The author's badges, and one per work (citations) when the works were listed."""
    base = f"badges/openalex/{item}"
    files: Files = {
        f"{base}/{name}.json": count_badge(name + SUFFIX, metrics[metric], logo=LOGO).to_json()
        for metric, name in _BADGES.items()
    }
    for work_id, citations in sorted((works or {}).items()):
        files[f"{base}/works/{work_id}.json"] = count_badge("citations" + SUFFIX, citations, logo=LOGO).to_json()
    return files


class OpenAlexSource(Source):
    """Authors in OpenAlex, by OpenAlex id or ORCID."""

    name = "openalex"
    display_name = "OpenAlex"
    config_model = OpenAlexConfig
    wants = "[openalex] authors"
    secret_keys = {"api_key": f"${API_KEY_ENV}"}
    person_key, person_type, people_list = "openalex", list[OpenAlexAuthor], "authors"
    item_keys = ("authors",)
    # Citations and works only grow in normal life; a large fall is more likely OpenAlex
    # splitting the author than the truth. The h- and i10-index follow citations.
    gated = {"openalex": ("citations", "works")}
    counts_citations = True
    logo = LOGO
    settings: OpenAlexConfig
    activity = "fetching OpenAlex authors"

    @classmethod
    def has_items(cls, settings: OpenAlexConfig) -> bool:
        return bool(settings.authors)

    def describe(self, env: Mapping[str, str]) -> list[str]:
        s = self.settings
        key = f"with ${API_KEY_ENV}" if env.get(API_KEY_ENV) else f"${API_KEY_ENV} NOT set: OpenAlex requires a key"
        works = "with each work's citations" if s.works else "totals only"
        return [f"openalex: {len(s.authors)} authors from {s.endpoint}, {works} ({key}; deadline {s.deadline_seconds:g} s)"]

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        results, files = fetch_openalex(self.settings, context.env.get(API_KEY_ENV) or None, deadline)
        for result in results:
            if result.status != "ok":
                logging.getLogger("statsbot").error("%s %s: %s", result.source, result.item, result.error)
        return SourceOutput(results=results, files=files)

    def failed(self, message: str) -> SourceOutput:
        logging.getLogger("statsbot").error("openalex: %s", message)
        return SourceOutput(
            results=[ItemResult(source="openalex", item=a, status="error", error=message) for a in self.settings.authors]
        )

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        if result.status != "ok":
            return None
        return output.files.get(item_key(result.source, result.item))

    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        base = f"badges/openalex/{result.item}"
        paths: dict[str, tuple[str, str | None]] = {f"{base}/{name}.json": (name + SUFFIX, LOGO) for name in _BADGES.values()}
        paths.update({path: ("citations" + SUFFIX, LOGO) for path in previous.list(f"{base}/works/")})
        return paths

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        name = _BADGES.get(metric)
        return f"badges/openalex/{result.item}/{name}.json" if name else None

    def series(self, charts: ChartsConfig) -> list[Series]:
        return [
            Series("openalex", item, metric, f"charts/openalex/{item}/{name}.svg", f"{name} of {item} (OpenAlex)")
            for item in self.settings.authors
            for metric, name in (("citations", "citations"), ("h_index", "h-index"))
        ]
