"""Semantic Scholar: authors' citations, h-index and paper counts, and every paper's citations.

One ``POST {endpoint}/graph/v1/author/batch?fields=name,citationCount,hIndex,paperCount``
with ``{"ids": [...]}`` per 1000 configured authors (the answer is a list aligned with the
ids, ``null`` for an unknown one); then, with ``papers = true``, per author
``GET {endpoint}/graph/v1/author/{id}/papers?fields=title,year,citationCount&limit=1000&offset=N``
following ``next`` (absent on the last page): ceil(P/1000) requests for P papers, none when
the author record says P = 0. So a run costs ceil(A/1000) + sum of ceil(P/1000) requests.

The API key (``$S2_API_KEY``, optional) goes in the ``x-api-key`` header, only to the
configured endpoint's origin; redirects are never followed, so it cannot travel elsewhere.
Without a key every caller shares one pool and 429s are common: each request is retried
(urllib3's `Retry`, counted by ``retries``) after the server's ``Retry-After`` or an
exponential backoff (1, 2, 4, 8 s), and never when the wait would pass the source's
deadline. A 429 that persists stops every further request of the run.

An author's paper listing is all or nothing: a page that fails, is malformed, does not
advance, repeats papers, or a listing that ends short of the author's ``paperCount``,
makes the author's item an error (its published values and badges are kept), never a
partial list published as if complete.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from statsbot import redact
from statsbot.badges import count_badge
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.settings import ChartsConfig, Section, show, unique, validate_base_url
from statsbot.snapshot import Snapshot
from statsbot.sources.base import FetchContext, Files, Series, Source, SourceOutput, item_key

if TYPE_CHECKING:  # requests, urllib3 and statsbot.http load when a fetch starts, not to read the config
    import requests

log = logging.getLogger("statsbot.semanticscholar")

# ------------------------------------------------------------------------- config

KEY_ENV = "S2_API_KEY"
DEFAULT_ENDPOINT = "https://api.semanticscholar.org"

_DIGITS = r"[1-9][0-9]{0,19}"
_TAIL = r"/?(?:[?#][^\s]*)?"  # a trailing slash, a query (?sort=...) or a fragment, as browsers show them
_AUTHOR_FORMS = (
    re.compile(rf"(?P<id>{_DIGITS})"),
    # https://www.semanticscholar.org/author/Andrew-Y.-Ng/1741101 and .../author/1741101
    re.compile(rf"(?:https?://)?(?:www\.)?semanticscholar\.org/author/(?:[^/?#\s]+/)?(?P<id>{_DIGITS}){_TAIL}", re.IGNORECASE),
    # https://api.semanticscholar.org/graph/v1/author/1741101
    re.compile(rf"(?:https?://)?api\.semanticscholar\.org/graph/v1/author/(?P<id>{_DIGITS}){_TAIL}", re.IGNORECASE),
)
AUTHOR_FORMS_HELP = (
    "a Semantic Scholar author id such as 1741101, or its URL: https://www.semanticscholar.org/author/Name/1741101, "
    "https://www.semanticscholar.org/author/1741101 or https://api.semanticscholar.org/graph/v1/author/1741101"
)


def parse_author_id(value: Any) -> str:
    """The author id (digits) in what people paste: the id, or the author's page or API URL.

    A TOML integer is taken as the id. Anything else raises ValueError naming the accepted forms."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        for form in _AUTHOR_FORMS:
            match = form.fullmatch(text)
            if match:
                return match.group("id")
    raise ValueError(f"must be {AUTHOR_FORMS_HELP}, got {show(value)}")


AuthorId = Annotated[str, BeforeValidator(parse_author_id)]


class SemanticScholarConfig(Section):
    """``[semanticscholar]``: authors by Semantic Scholar id. The key comes from ``$S2_API_KEY``."""

    authors: list[AuthorId] = []
    endpoint: str = DEFAULT_ENDPOINT
    papers: bool = True  # every paper's citations (one more request per 1000 papers of an author)
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(3, ge=0, le=10)
    # A key's introductory rate is 1 request a second: more workers mostly earn 429s.
    max_workers: int = Field(2, ge=1, le=16)

    _check_authors = field_validator("authors")(classmethod(lambda cls, v: unique(v, "author")))
    _check_endpoint = field_validator("endpoint")(classmethod(lambda cls, v: validate_base_url(v)))


# ------------------------------------------------------------------------- the API

SOURCE = "semanticscholar"
AUTHOR_FIELDS = "name,citationCount,hIndex,paperCount"
PAPER_FIELDS = "title,year,citationCount"
BATCH_SIZE = 1000  # the batch endpoint's limit
PAGE_SIZE = 1000  # the papers endpoint's largest `limit`
MAX_PAGES = 20  # 20,000 papers: beyond that the listing is taken as broken, not followed forever
MAX_WAIT = 30.0  # a longer Retry-After is not waited for
BACKOFF_FACTOR = 1.0  # waits of 1, 2, 4, 8 s between attempts when no Retry-After is given
BACKOFF_MAX = 8.0

_Strict = ConfigDict(extra="ignore", strict=True, defer_build=True)  # answers: built at the first fetch, not to read the config


class _Author(BaseModel):
    model_config = _Strict

    authorId: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
    name: str | None = None
    citationCount: NonNegativeInt
    hIndex: NonNegativeInt
    paperCount: NonNegativeInt


_BATCH = TypeAdapter(list[_Author | None], config=ConfigDict(defer_build=True))


class _Paper(BaseModel):
    model_config = _Strict

    paperId: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]  # a sha1: safe as a file name
    title: str | None = None
    year: int | None = None
    citationCount: NonNegativeInt | None = None  # a paper without one gets no badge


class _Page(BaseModel):
    model_config = _Strict

    offset: NonNegativeInt
    next: NonNegativeInt | None = None
    data: list[_Paper]


def make_s2_session(settings: SemanticScholarConfig, api_key: str | None, deadline: Deadline) -> requests.Session:
    """statsbot's session (User-Agent, pooling) with `PatientRetry` on every request, and the key scoped to the endpoint."""
    from requests.adapters import HTTPAdapter

    from statsbot.http import HostScopedAuth, make_session
    from statsbot.sources.semanticscholar_retry import PatientRetry

    session = make_session(retries=settings.retries, pool_size=settings.max_workers, max_wait=MAX_WAIT)
    retry = PatientRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        redirect=0,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET", "POST"),  # POST: the batch lookup, which changes nothing
        respect_retry_after_header=True,
        raise_on_status=False,
        max_wait=MAX_WAIT,
        deadline=deadline,
    )
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=settings.max_workers, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if api_key:
        session.auth = HostScopedAuth(api_key, settings.endpoint, header="x-api-key")
    return session


class _Fetch:
    """One run's requests: the shared session, the stop signal, and how each answer is read."""

    def __init__(self, settings: SemanticScholarConfig, api_key: str | None, deadline: Deadline) -> None:
        self.settings = settings
        self.keyed = bool(api_key)
        self.deadline = deadline
        from statsbot.http import StopSignal

        self.session = make_s2_session(settings, api_key, deadline)
        self.stop = StopSignal()
        self.requests = 0  # sent by this source (urllib3's retries inside one are not counted)
        self._lock = threading.Lock()

    def get(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """One request (urllib3 retries inside it); the parsed JSON of a 200, else a one-line SourceError."""
        from statsbot.http import request_json

        self.stop.check()
        with self._lock:
            self.requests += 1
        response, data = request_json(
            self.session,
            method,
            f"{self.settings.endpoint}{path}",
            deadline=self.deadline,
            timeout=self.settings.timeout_seconds,
            what=what,
            allow_redirects=False,  # the key stays with the endpoint
            **kwargs,
        )
        status = response.status_code
        if status == 200:
            return data
        retried = f" after up to {self.settings.retries} retries" if status == 429 or status >= 500 else ""
        if status == 429:
            hint = "" if self.keyed else f"; without ${KEY_ENV} every caller shares one pool: set a key"
            self.stop.set(f"Semantic Scholar rate limit: HTTP 429{retried}{_retry_after(response)}; no more requests this run{hint}")
            self.stop.check()
        if status in (401, 403):
            cause = f"the key in ${KEY_ENV} was refused" if self.keyed else "refused"
            raise SourceError(f"{what}: HTTP {status}: {cause}")
        if 300 <= status < 400:
            raise SourceError(f"{what}: HTTP {status} redirect to {response.headers.get('Location', '?')!r}, not followed")
        raise SourceError(f"{what}: HTTP {status}{retried}")

    def authors(self, ids: list[str]) -> dict[str, _Author | BaseException]:
        """Every id's author record (or why it has none), one batch request per 1000 ids."""
        out: dict[str, _Author | BaseException] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            what = "Semantic Scholar author batch" + (f" {start // BATCH_SIZE + 1}" if len(ids) > BATCH_SIZE else "")
            try:
                data = self.get("POST", "/graph/v1/author/batch", what, params={"fields": AUTHOR_FIELDS}, json={"ids": chunk})
                answers = _validated(_BATCH, data, what)
                if len(answers) != len(chunk):
                    raise SourceError(f"{what}: unexpected answer ({len(answers)} records for {len(chunk)} ids)")
            except SourceError as exc:
                out.update({author_id: exc for author_id in chunk})
                continue
            for author_id, author in zip(chunk, answers, strict=True):
                out[author_id] = author if author is not None else SourceError(f"Semantic Scholar author {author_id}: not found")
        return out

    def papers(self, author_id: str, expected: int) -> list[_Paper]:
        """Every paper of an author, following `next`; a SourceError unless the listing is whole."""
        what = f"Semantic Scholar papers of author {author_id}"
        if expected == 0:
            return []  # the record says none: no request
        papers: list[_Paper] = []
        seen: set[str] = set()
        offset = 0
        for page_number in range(1, MAX_PAGES + 1):
            page_what = f"{what} (page {page_number}, offset {offset})"
            data = self.get(
                "GET",
                f"/graph/v1/author/{author_id}/papers",
                page_what,
                params={"fields": PAPER_FIELDS, "limit": PAGE_SIZE, "offset": offset},
            )
            page = _validated(_Page, data, page_what)
            if page.offset != offset:
                raise SourceError(f"{page_what}: the answer is for offset {page.offset}")
            for paper in page.data:
                if paper.paperId in seen:
                    raise SourceError(f"{page_what}: paper {paper.paperId} listed twice (the listing changed while paging)")
                seen.add(paper.paperId)
            papers.extend(page.data)
            if page.next is None:
                if len(papers) < expected:
                    raise SourceError(f"{what}: the listing ended after {len(papers)} of the {expected} papers the author record counts")
                return papers
            if not page.data or not offset < page.next <= offset + PAGE_SIZE:
                raise SourceError(f"{page_what}: broken paging (next {page.next} after {len(page.data)} papers)")
            offset = page.next
        raise SourceError(f"{what}: more than {MAX_PAGES} pages of {PAGE_SIZE} papers; not followed further")

    def close(self) -> None:
        self.session.close()


def _validated(model: Any, data: Any, what: str) -> Any:
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "body"
        raise SourceError(f"{what}: unexpected answer ({where}: {error['msg']})") from None


def _retry_after(response: Any) -> str:
    value = response.headers.get("Retry-After")
    return f", Retry-After {value} s" if value else ""


def fetch_semanticscholar(
    settings: SemanticScholarConfig, api_key: str | None, deadline: Deadline
) -> tuple[list[ItemResult], dict[str, Files]]:
    """Every configured author's result (ok, or error with one line) and a fresh author's files, by item key."""
    from statsbot.http import run_pool

    fetch = _Fetch(settings, api_key, deadline)
    ids = list(settings.authors)
    try:
        records = fetch.authors(ids)
        found = {author_id: record for author_id, record in records.items() if isinstance(record, _Author)}
        listings: dict[str, list[_Paper] | BaseException] = {}
        if settings.papers and found:

            def list_papers(author_id: str) -> list[_Paper]:
                record = found[author_id]
                return fetch.papers(record.authorId, record.paperCount)  # a merged author's papers are under its new id

            listings = run_pool(list_papers, list(found), workers=settings.max_workers, deadline=deadline, label="Semantic Scholar authors")
    finally:
        fetch.close()

    results: list[ItemResult] = []
    files: dict[str, Files] = {}
    for author_id in ids:
        record = records[author_id]
        outcome: Any = listings.get(author_id, []) if isinstance(record, _Author) else record
        if isinstance(outcome, BaseException):
            results.append(_failure(author_id, outcome))
            continue
        assert isinstance(record, _Author)
        moved = record.authorId if record.authorId != author_id else None
        if moved:
            log.warning("Semantic Scholar author %s is now %s (merged or changed): update [semanticscholar] authors", author_id, moved)
        result = ItemResult(
            source=SOURCE,
            item=author_id,
            status="ok",
            fetched_at=iso_utc(utc_now()),
            metrics={"citations": record.citationCount, "h_index": record.hIndex, "papers": record.paperCount},
            detail=record.name or "",
            extra={"moved_to": moved} if moved else {},
        )
        results.append(result)
        files[item_key(SOURCE, author_id)] = author_files(author_id, record, outcome)
    log.info(
        "semanticscholar: %d of %d authors, %d papers in %d requests",
        len(files), len(ids), sum(len(v) for v in listings.values() if isinstance(v, list)), fetch.requests,
    )
    return results, files


def _failure(author_id: str, error: BaseException) -> ItemResult:
    if isinstance(error, SourceError):
        message = str(error)
    else:
        message = f"unexpected {type(error).__name__}: {error}"
        log.error("semanticscholar %s: %s", author_id, message, exc_info=error)
    return ItemResult(source=SOURCE, item=author_id, status="error", error=one_line(message))


# ------------------------------------------------------------------------- source

LOGO = "semanticscholar"  # simple-icons' slug
CITATIONS_LABEL = "citations (Semantic Scholar)"
H_INDEX_LABEL = "h-index (Semantic Scholar)"
_METRIC_BADGES = {"citations": "citations.json", "h_index": "h-index.json"}


def badge_folder(author_id: str) -> str:
    return f"badges/{SOURCE}/{author_id}"


def author_files(author_id: str, record: _Author, papers: list[_Paper]) -> Files:
    """The author's citations and h-index badges and one citations badge per paper."""
    base = badge_folder(author_id)
    files: Files = {
        f"{base}/citations.json": count_badge(CITATIONS_LABEL, record.citationCount, logo=LOGO).to_json(),
        f"{base}/h-index.json": count_badge(H_INDEX_LABEL, record.hIndex, logo=LOGO).to_json(),
    }
    for paper in papers:
        if paper.citationCount is not None:
            files[f"{base}/papers/{paper.paperId}.json"] = count_badge(CITATIONS_LABEL, paper.citationCount, logo=LOGO).to_json()
    return files


class SemanticScholarSource(Source):
    """Authors on Semantic Scholar: citations, h-index, paper count, and every paper's citations."""

    name = SOURCE
    display_name = "Semantic Scholar"
    logo = LOGO  # for badges/citations.json when its count comes from here (statsbot.headline)
    config_model = SemanticScholarConfig
    wants = "[semanticscholar] authors"
    secret_keys = {"api_key": f"${KEY_ENV}"}
    person_key, person_type, people_list = "semanticscholar", list[AuthorId], "authors"
    item_keys = ("authors",)
    gated = {SOURCE: ("citations", "papers")}
    counts_citations = True
    activity = "fetching Semantic Scholar authors"
    settings: SemanticScholarConfig

    @classmethod
    def has_items(cls, settings: SemanticScholarConfig) -> bool:
        return bool(settings.authors)

    @classmethod
    def prepare(cls, section: dict[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any] | None:
        redact.register([env.get(KEY_ENV)])  # from the first moment the environment is read
        return section

    def describe(self, env: Mapping[str, str]) -> list[str]:
        s = self.settings
        auth = f"with ${KEY_ENV}" if _key(env) else f"no ${KEY_ENV}: the shared pool, where 429s are common"
        papers = "with" if s.papers else "without"
        count = f"{len(s.authors)} author{'' if len(s.authors) == 1 else 's'}"
        return [
            f"semanticscholar: {count} {papers} their papers from {s.endpoint} "
            f"({auth}; {s.retries} retries, deadline {s.deadline_seconds:g} s)"
        ]

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        api_key = _key(context.env)
        redact.register([api_key])
        if not api_key:
            log.info("semanticscholar: no $%s, so the requests go to the pool all keyless callers share (429s are common)", KEY_ENV)
        results, files = fetch_semanticscholar(self.settings, api_key, deadline)
        for result in results:
            if result.status != "ok":
                logging.getLogger("statsbot").error("%s %s: %s", result.source, result.item, result.error)
        return SourceOutput(results=results, files=files)

    def failed(self, message: str) -> SourceOutput:
        logging.getLogger("statsbot").error("semanticscholar: %s", message)
        return SourceOutput(
            results=[ItemResult(source=SOURCE, item=a, status="error", error=message) for a in self.settings.authors]
        )

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> Files | None:
        if result.status != "ok":
            return None
        return output.files.get(item_key(result.source, result.item))

    def badges(self, result: ItemResult, previous: Snapshot) -> dict[str, tuple[str, str | None]]:
        base = badge_folder(result.item)
        paths: dict[str, tuple[str, str | None]] = {
            f"{base}/citations.json": (CITATIONS_LABEL, LOGO),
            f"{base}/h-index.json": (H_INDEX_LABEL, LOGO),
        }
        paths.update({path: (CITATIONS_LABEL, LOGO) for path in previous.list(f"{base}/papers/")})
        return paths

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        name = _METRIC_BADGES.get(metric)
        return f"{badge_folder(result.item)}/{name}" if name else None

    def series(self, charts: ChartsConfig) -> list[Series]:
        return [
            Series(SOURCE, author, metric, f"charts/{SOURCE}/{author}/{name}.svg", f"{name} (Semantic Scholar {author})")
            for author in self.settings.authors
            for metric, name in (("citations", "citations"), ("h_index", "h-index"))
        ]


def _key(env: Mapping[str, str]) -> str | None:
    return (env.get(KEY_ENV) or "").strip() or None
