"""The serpapi fetcher: SerpApi's Google Scholar Author API, mapped into scholarly's author dict.

Requests (one per 100 publications, so ceil(P/100) for P papers, one when P <= 100)::

    GET {serpapi_url}/search.json?engine=google_scholar_author&author_id=ID&hl=en&num=100&start=0&api_key=KEY
    GET ...&start=100&api_key=KEY          (while the answer has `serpapi_pagination.next`)

The key: SerpApi documents only the ``api_key`` query parameter (no header), so it is
sent there, over HTTPS to `[scholar] serpapi_url`, and kept out of every line statsbot
prints: the URL is never put in a message (`statsbot.http.request_json` names the cause,
not the URL), the key is registered as a secret (`statsbot.redact` replaces it in every
log line and error, urllib3's ``-v``/``-vv`` request and retry lines included), and
`redact` also masks any ``api_key=`` query value, whatever its length. SerpApi's own error
text is shown with the key replaced too. ``no_cache`` is not sent: SerpApi serves an
identical search from its one-hour cache for free.

The JSON is mapped into the author dict scholarly's parsers fill (`pages.py`), with the
same keys in the same order, so `build_profile` gives the same `gs_data.json` publication
entries, badges and metrics as the direct fetcher:

* `cited_by.table` (``citations``/``h_index``/``i10_index``, each ``all`` and
  ``since_YYYY``) -> ``citedby``, ``citedby5y``, ``hindex``, ``hindex5y``, ``i10index``,
  ``i10index5y``; a first page without the complete table is an error, never zeros;
* `cited_by.graph` (``[{year, citations}]``) -> ``cites_per_year``; a year missing
  between two listed years is 0, as Scholar's histogram (every year labelled, a bar only
  where there are citations) gives it;
* each of `articles` -> ``{container_type: "Publication", source:
  "AUTHOR_PUBLICATION_ENTRY", bib: {title, pub_year (= year, when there is one), citation
  (= publication)}, filled: False, author_pub_id (= citation_id), num_citations (=
  cited_by.value, else 0)}`` plus, when cited, ``citedby_url`` (= cited_by.link, the
  href Scholar's page has) and ``cites_id`` (the ``cites=`` ids of that link, a list);
* `author`: ``name``, ``affiliation`` (= affiliations), ``interests`` (their titles),
  ``url_picture`` (= thumbnail, unless it is Scholar's blank avatar), ``email_domain``
  (``@`` + the domain of "Verified email at ..."), ``homepage`` (= website).

Differences from the direct fetcher's `gs_data.json`: ``organization`` (Scholar's numeric
id of the affiliation's institution) is absent, SerpApi does not give it; ``url_picture``,
``email_domain`` and ``homepage`` are there only when SerpApi gives them. The
publication entries, the metrics, ``cites_per_year`` and every badge are the same.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import requests

from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, SourceError, one_line
from statsbot.http import make_session, request_json
from statsbot.redact import register
from statsbot.sources.scholar.base import Fetcher, ScholarRun
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.profile import ScholarError, ScholarProfile, build_profile

log = logging.getLogger("statsbot.scholar")

KEY_ENV = "SERPAPI_API_KEY"
PROVIDER = "SerpApi"
ENGINE = "google_scholar_author"
PAGE_SIZE = 100  # SerpApi's maximum `num`
MAX_PAGES = 100  # 10,000 publications: no Scholar profile is larger
SCHOLAR_CITES_URL = "https://scholar.google.com/scholar?oi=bibs&hl=en&cites={ids}"
_CITES = re.compile(r"cites=([\d,]*)")  # scholarly's _SCHOLARPUBRE
_TABLE_ROWS = (("citations", "citedby"), ("h_index", "hindex"), ("i10_index", "i10index"))


class SerpApiFetcher(Fetcher):
    name = "serpapi"
    paid = True

    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        return None if env.get(KEY_ENV) else f"${KEY_ENV} is not set"

    def fetch(
        self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline, run: ScholarRun | None = None
    ) -> ScholarProfile:
        key = env.get(KEY_ENV) or ""
        if not key:
            raise ScholarError(f"{PROVIDER}: ${KEY_ENV} is not set")
        register([key])
        client = _Client(settings, key, deadline)
        try:
            pages = client.pages()
        finally:
            client.close()
        author = author_dict(settings.id, pages)
        return build_profile(settings.id, author, client.requests, via=self.name)


class _Client:
    """SerpApi's Author API for one profile: one session, its bounded retries, the deadline."""

    def __init__(self, settings: ScholarConfig, key: str, deadline: Deadline) -> None:
        self.settings = settings
        self.deadline = deadline
        self.requests = 0  # HTTP requests sent, urllib3's retries included
        self._key = key
        self._url = settings.serpapi_url.rstrip("/") + "/search.json"
        self._session = make_session(retries=settings.retries, pool_size=1, max_wait=min(10.0, deadline.remaining()))

    def close(self) -> None:
        self._session.close()

    def pages(self) -> list[dict[str, Any]]:
        """Every page of the profile's articles, the first one holding the author and the table."""
        pages: list[dict[str, Any]] = []
        for number in range(MAX_PAGES):
            start = number * PAGE_SIZE
            data = self.page(start)
            articles = data.get("articles") or []
            if not isinstance(articles, list):
                raise ScholarError(f"{PROVIDER}: the answer's articles are not a list ({_where(start)})")
            if start and not articles:
                raise ScholarError(f"{PROVIDER}: {_where(start)} lists no articles although the previous page offered more")
            if not start:  # the author and the table come on the first page: no more searches without them
                _indices(data)
                _basics(data)
            pages.append({**data, "articles": articles})
            pagination = data.get("serpapi_pagination")
            if not (isinstance(pagination, dict) and pagination.get("next")):
                return pages
        raise ScholarError(
            f"{PROVIDER}: still more articles after {MAX_PAGES} pages of {PAGE_SIZE}: "
            f"not fetching past {MAX_PAGES * PAGE_SIZE}"
        )

    def page(self, start: int) -> dict[str, Any]:
        where = _where(start)
        params = {
            "engine": ENGINE,
            "author_id": self.settings.id,
            "hl": "en",
            "num": str(PAGE_SIZE),
            "start": str(start),
            "api_key": self._key,
        }
        # urllib3 resends a request that timed out with the same timeout: share what is left
        # between the tries, so that they all end within this fetcher's deadline.
        timeout = min(self.settings.timeout_seconds, self.deadline.remaining() / (1 + self.settings.retries))
        try:
            response, data = request_json(
                self._session,
                "GET",
                self._url,
                deadline=self.deadline,
                timeout=max(timeout, 0.001),
                what=f"{PROVIDER} ({where})",
                params=params,
            )
        except DeadlineExceeded:
            raise
        except SourceError as exc:
            raise ScholarError(self._clean(str(exc), 300)) from None
        finally:
            self.requests += 1
        self.requests += _retries(response)
        if response.status_code != 200:
            raise ScholarError(self._status_problem(response, where))
        if not isinstance(data, dict):
            raise ScholarError(f"{PROVIDER}: the answer for {where} is not a search result (JSON {type(data).__name__})")
        metadata = data.get("search_metadata")
        status = metadata.get("status") if isinstance(metadata, dict) else None
        if data.get("error") or status == "Error":
            text = self._clean(str(data.get("error") or "no message"), 200)
            raise ScholarError(f"{PROVIDER}: the search failed for {where} ({text})")
        if status not in (None, "Success", "Cached"):
            raise ScholarError(f"{PROVIDER}: the search for {where} is not done (status {self._clean(str(status), 40)!r})")
        return data

    def _status_problem(self, response: requests.Response, where: str) -> str:
        status = response.status_code
        message = _error_field(response)
        cause = f"HTTP {status}" + (f": {self._clean(message, 200)}" if message else "")
        if status in (401, 403):
            return f"{PROVIDER}: the API key was refused ({cause})"
        if status == 429:
            lowered = message.lower()
            if "run out" in lowered or ("searches" in lowered and "exhaust" in lowered):
                return f"{PROVIDER}: the account has run out of searches ({cause})"
            return f"{PROVIDER}: too many searches for the account's plan right now ({cause})"
        if status >= 500:
            tries = 1 + _retries(response)
            return f"{PROVIDER}: the service failed ({cause}, after {tries} {'try' if tries == 1 else 'tries'})"
        if status == 400:
            return f"{PROVIDER}: the search was refused for {where} ({cause})"
        return f"{PROVIDER}: unexpected answer for {where} ({cause})"

    def _clean(self, text: str, limit: int) -> str:
        """One line, bounded, with the key replaced even if it is too short for `redact` to hide."""
        return one_line(text.replace(self._key, "***"), limit)


def _where(start: int) -> str:
    return "the first page" if start == 0 else f"the page at start={start}"


def _retries(response: requests.Response | None) -> int:
    """How many times urllib3 resent this request before this answer."""
    retries = getattr(getattr(response, "raw", None), "retries", None)
    return len(getattr(retries, "history", ()) or ())


def _error_field(response: requests.Response) -> str:
    """SerpApi's ``error`` text from an error answer, if the body is its JSON."""
    try:
        data = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return str(error) if error else ""


# ----------------------------------------------------------------------------- mapping


def author_dict(scholar_id: str, pages: list[dict[str, Any]]) -> dict[str, Any]:
    """scholarly's author dict (as `AuthorParser.fill(sections=[basics, indices, counts,
    publications])` leaves it, keys in the same order) from SerpApi's pages."""
    first = pages[0]
    author: dict[str, Any] = {
        "container_type": "Author",
        "filled": ["publications", "indices", "counts", "basics"],  # fill() sorts the sections in reverse
        "scholar_id": scholar_id,
        "source": "AUTHOR_PROFILE_PAGE",
        "publications": [
            publication(article, index * PAGE_SIZE) for index, page in enumerate(pages) for article in page["articles"]
        ],
    }
    author.update(_indices(first))
    author["cites_per_year"] = _cites_per_year(first)
    author.update(_basics(first))
    return author


def _indices(page: dict[str, Any]) -> dict[str, int]:
    cited_by = page.get("cited_by")
    table = cited_by.get("table") if isinstance(cited_by, dict) else None
    if not isinstance(table, list) or not table:
        raise ScholarError(f"{PROVIDER}: the answer has no citation table (cited_by.table): not reading it as zeros")
    rows: dict[str, Any] = {}
    for row in table:
        if isinstance(row, dict):
            rows.update(row)
    values: dict[str, int] = {}
    for name, key in _TABLE_ROWS:
        row = rows.get(name)
        if not isinstance(row, dict):
            raise ScholarError(f"{PROVIDER}: the citation table (cited_by.table) has no {name} row")
        recent = [value for field, value in row.items() if field.startswith("since_")]
        values[key] = _count(row.get("all"), f"cited_by.table {name}.all")
        if len(recent) != 1:
            raise ScholarError(f"{PROVIDER}: the citation table's {name} row has {len(recent)} since_YYYY values, not 1")
        values[f"{key}5y"] = _count(recent[0], f"cited_by.table {name}.since_YYYY")
    return {key: values[key] for key in ("citedby", "citedby5y", "hindex", "hindex5y", "i10index", "i10index5y")}


def _cites_per_year(page: dict[str, Any]) -> dict[int, int]:
    graph = page.get("cited_by", {}).get("graph") or []
    if not isinstance(graph, list):
        raise ScholarError(f"{PROVIDER}: cited_by.graph is not a list")
    counts: dict[int, int] = {}
    for point in graph:
        if not isinstance(point, dict):
            raise ScholarError(f"{PROVIDER}: cited_by.graph has an entry that is not an object")
        counts[_count(point.get("year"), "cited_by.graph year")] = _count(point.get("citations"), "cited_by.graph citations")
    if not counts:
        return {}
    return {year: counts.get(year, 0) for year in range(min(counts), max(counts) + 1)}


def _basics(page: dict[str, Any]) -> dict[str, Any]:
    author = page.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("name"), str) or not author["name"].strip():
        raise ScholarError(f"{PROVIDER}: the answer has no author name: not a profile")
    basics: dict[str, Any] = {"name": _text(author["name"])}
    thumbnail = author.get("thumbnail")
    if isinstance(thumbnail, str) and thumbnail and "avatar_scholar" not in thumbnail:
        basics["url_picture"] = thumbnail
    basics["affiliation"] = _text(author.get("affiliations") or "")
    interests = author.get("interests") or []
    basics["interests"] = [
        _text(item.get("title", "")).strip() if isinstance(item, dict) else _text(str(item)).strip() for item in interests
    ]
    email = author.get("email")
    if isinstance(email, str) and email.startswith("Verified email at "):
        words = _text(email).split(" ")
        if len(words) > 3 and words[3]:
            basics["email_domain"] = "@" + words[3]
    website = author.get("website")
    if isinstance(website, str) and website:
        basics["homepage"] = website
    return basics


def publication(article: Any, start: int = 0) -> dict[str, Any]:
    """scholarly's publication dict (`PublicationParser._citation_pub`) from one SerpApi article."""
    if not isinstance(article, dict):
        raise ScholarError(f"{PROVIDER}: an article after start={start} is not an object")
    citation_id, title = article.get("citation_id"), article.get("title")
    if not isinstance(citation_id, str) or not citation_id or not isinstance(title, str):
        raise ScholarError(f"{PROVIDER}: an article after start={start} has no citation_id or title")
    pub: dict[str, Any] = {"container_type": "Publication", "source": "AUTHOR_PUBLICATION_ENTRY", "bib": {}, "filled": False}
    pub["bib"]["title"] = _text(title)
    pub["author_pub_id"] = citation_id
    pub["num_citations"] = 0
    cited_by = article.get("cited_by")
    cited_by = cited_by if isinstance(cited_by, dict) else {}
    value = cited_by.get("value")
    count = 0 if value in (None, "") else _count(value, f"cited_by.value of {citation_id}")
    if count:
        pub["num_citations"] = count
        link = cited_by.get("link")
        ids = cited_by.get("cites_id")
        if isinstance(link, str) and _CITES.search(link):
            pub["citedby_url"] = link
            pub["cites_id"] = _CITES.findall(link)[0].split(",")
        elif isinstance(ids, str) and ids:
            pub["citedby_url"] = SCHOLAR_CITES_URL.format(ids=ids)
            pub["cites_id"] = ids.split(",")
    year = article.get("year")
    year = "" if year is None else str(year).strip()
    if year:
        pub["bib"]["pub_year"] = year
    citation = article.get("publication")
    pub["bib"]["citation"] = _text(citation) if isinstance(citation, str) else ""
    return pub


def _text(value: str) -> str:
    """As the direct fetcher reads page text: no-break spaces are spaces."""
    return value.replace("\xa0", " ")


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ScholarError(f"{PROVIDER}: {what} is not a count: {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        digits = re.sub(r"[,.\s\u00a0\u202f]", "", value)
        if digits.isdigit():
            return int(digits)
    raise ScholarError(f"{PROVIDER}: {what} is not a count: {one_line(repr(value), 60)}")
