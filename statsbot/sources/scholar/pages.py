"""Scholar's own pages, read with scholarly's parsers, fetched under our control.

scholarly 1.7.11 parses profile pages well but fetches them dangerously (see the
shared notes): it retries a DOS page forever, starts Selenium on a captcha, sleeps
minutes on a 403, and turns a page without the stats table into zeros. So:

* its parsers (`AuthorParser.fill`, `PublicationParser`) run on pages that
  `PageFetcher` fetches: the parsers only need an object with `_get_soup(path)`
  and `logger`, the seam scholarly's own `Navigator` fills;
* requests go through scholarly's own httpx client, built by
  `ProxyGenerator._new_session`, with the `transport=` a fetcher gives (direct:
  rebased to `base_url` through a proxy; ScraperAPI: through its API);
* every page is checked before the parsers see it: a captcha, DOS, "unusual
  traffic", consent or sign-in page ends the fetch at once; a profile page without
  its six stats cells is an error, never a profile of zeros;
* retries are bounded, every request has a timeout, and the whole fetch has a
  deadline that nothing sleeps past.

A profile of P publications costs ceil(P/100) requests (one when P <= 100): the
first page already holds basics, indices, counts and the first 100 rows, so the
usual `search_author_id` + `fill` recipe, which fetches page one twice, is not used.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, one_line
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.profile import ScholarBlocked, ScholarError, ScholarProfile, build_profile

log = logging.getLogger("statsbot.scholar")

SCHOLAR_HOST = "scholar.google.com"
PAGE_SIZE = 100
PROFILE_PATH = "/citations?hl=en&user={id}&pagesize=100"
MAX_PAGE_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CAPTCHA_IDS = ("gs_captcha_ccl", "recaptcha", "captcha-form")
_NUMBER_JUNK = re.compile(r"[,.\s\u00a0\u202f]")

# A transport for one httpx client, given the request counter to add to.
TransportFactory = Callable[[list[int]], httpx.BaseTransport]


class ProviderBusy(ScholarError):
    """A service between us and Scholar (ScraperAPI) failed in a way worth retrying: its 429, its 5xx, no answer.

    A fetcher's transport raises it; `PageFetcher` retries it as it retries Scholar's own
    429/5xx (the same bounded tries, the same deadline) and its message names the service.
    Other failures of the service (a refused key, a spent plan) are plain `ScholarError`s,
    which end the fetch at once.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def classify_block(status: int, url: httpx.URL, text: str) -> str | None:
    """The cause, when Google answered with a page for people instead of data."""
    if is_signin_page(url, text):
        return SIGNIN_MESSAGE
    if re.search(r"""class=["'][^"']*\brc-doscaptcha-body\b""", text):
        return "Google Scholar served its DOS page (too many requests from this IP address)"
    is_profile = re.search(r"""id=["']gsc_prf_in["']""", text) is not None
    if url.path.startswith("/sorry/") or (
        not is_profile and "unusual traffic from your computer network" in text.lower()
    ):
        return "Google's 'unusual traffic' page (google.com/sorry): this IP address is blocked for now"
    if any(re.search(rf"""id=["']{name}["']""", text) for name in _CAPTCHA_IDS):
        return "Google Scholar served a captcha page (it suspects a robot at this IP address)"
    if (url.host or "").startswith("consent.") or (
        not is_profile and ("consent.google.com" in text or "Before you continue to Google" in text)
    ):
        return "Google's cookie-consent page came instead of the profile (no profile data on it)"
    return None


SIGNIN_MESSAGE = "Google Scholar sent the request to Google's sign-in page: the profile is private or the id is wrong"
_SIGNIN_PATH = re.compile(r"/(?:ServiceLogin|ServiceLoginAuth|AccountChooser)\b|/signin(?:/|$)", re.IGNORECASE)
_SIGNIN_TITLE = re.compile(r"<title>\s*Sign in\s*(?:-|&#8211;|\u2013)\s*Google Accounts", re.IGNORECASE)


def is_signin_page(url: httpx.URL, text: str) -> bool:
    """Scholar redirects a private profile, and some wrong ids, to accounts.google.com's sign-in page."""
    if (url.host or "").lower() == "accounts.google.com" or _SIGNIN_PATH.search(url.path):
        return True
    return re.search(r"""id=["']gsc_prf_in["']""", text) is None and _SIGNIN_TITLE.search(text) is not None


def _check_page(soup: Any, first: bool, where: str) -> None:
    """Refuse pages the parsers would read as zeros or crash on; tidy numbers they would reject."""
    if soup.find("button", id="gsc_bpf_more") is None:
        raise ScholarError(f"{where} has no publication list ('show more' button missing): not a profile page")
    for cell in soup.find_all("a", class_="gsc_a_ac"):
        text = cell.get_text()
        if text.strip():
            cell.string = _NUMBER_JUNK.sub("", text)
    if not first:
        return
    link = soup.find("link", rel="canonical")
    if link is None or "user=" not in (link.get("href") or ""):
        raise ScholarError(f"{where} has no canonical profile link: not a profile page")
    if soup.find("div", id="gsc_prf_in") is None:
        raise ScholarError(f"{where} has no profile name: not a profile page")
    cells = soup.find_all("td", class_="gsc_rsb_std")
    if len(cells) != 6:
        raise ScholarError(
            f"{where} has {len(cells)} of the 6 stats cells (citations, h-index, i10-index, "
            "each all-time and 5-year): Scholar's layout changed or this is not a profile page"
        )
    for cell in cells:
        digits = _NUMBER_JUNK.sub("", cell.get_text())
        if not digits.isdigit():
            raise ScholarError(f"{where} has a stats cell that is not a count: {cell.get_text()!r}")
        cell.string = digits


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _load_scholarly() -> tuple[Any, Any]:
    """Import scholarly (slow, and only when a profile is configured) without its side effects.

    `import scholarly` calls `load_dotenv(find_dotenv())`, which copies a stray `.env`
    file into the environment; the environment is put back exactly as it was.
    """
    saved = dict(os.environ)
    try:
        from scholarly import ProxyGenerator
        from scholarly.author_parser import AuthorParser
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)
    return ProxyGenerator, AuthorParser


def _scholarly_session(proxy_generator_cls: Any, make_transport: TransportFactory, counter: list[int]) -> Any:
    """A scholarly `ProxyGenerator` whose httpx client (its headers and user agent) uses our transport.

    Every client scholarly builds comes from `ProxyGenerator._new_session(**kwargs)`;
    wrapping it on this instance gives each new client a fresh transport from `make_transport`.
    Keep the generator referenced while its client is in use: its `__del__` closes it.
    """
    generator = proxy_generator_cls()
    original = generator._new_session

    def new_session(**kwargs: Any) -> httpx.Client:
        kwargs.setdefault("transport", make_transport(counter))
        return original(**kwargs)

    generator._new_session = new_session
    generator._new_session()
    return generator


class PageFetcher:
    """Stands in for scholarly's Navigator: the parsers call `_get_soup(path)`."""

    def __init__(self, session: httpx.Client, settings: ScholarConfig, deadline: Deadline) -> None:
        self.logger = logging.getLogger("scholarly")
        self._session = session
        self._settings = settings
        self._deadline = deadline
        self.pages = 0

    def _get_soup(self, path: str) -> Any:
        from bs4 import BeautifulSoup

        first = "cstart=" not in path
        where = "the profile page" if first else f"the publications page at {_cstart(path)}"
        if self.pages:
            self._deadline.sleep(self._settings.page_delay_seconds)
        text = self._get_page(path, where)
        self.pages += 1
        soup = BeautifulSoup(text.replace("\xa0", " "), "html.parser")
        _check_page(soup, first, where)
        if not first and not soup.find_all("tr", class_="gsc_a_tr"):
            raise ScholarError(f"{where} lists no publications although the previous page offered more")
        return soup

    def _get_page(self, path: str, where: str) -> str:
        url = f"https://{SCHOLAR_HOST}{path}"
        tries = 1 + self._settings.retries
        problem = ""
        retry_after: float | None = None  # from the last answer, when it asked for a pause
        for attempt in range(tries):
            if attempt:
                wait = min(0.5 * 2 ** (attempt - 1), 8.0)
                if retry_after is not None:
                    if retry_after >= self._deadline.remaining():
                        raise ScholarError(
                            f"{problem} for {where}; Retry-After {retry_after:g} s is past the deadline"
                        )
                    wait = max(wait, retry_after)
                if wait >= self._deadline.remaining():
                    break
                log.info("%s for %s; retrying in %.1f s (try %d of %d)", problem, where, wait, attempt + 1, tries)
                self._deadline.sleep(wait)
            retry_after = None
            self._deadline.check(f"before fetching {where}" + (f" (last problem: {problem})" if problem else ""))
            timeout = min(self._settings.timeout_seconds, self._deadline.remaining())
            try:
                status, final_url, text, headers = self._request(url, timeout)
            except ProviderBusy as exc:
                problem, retry_after = str(exc), exc.retry_after
                continue
            except httpx.TimeoutException:
                problem = f"no answer within {timeout:.3g} s"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {one_line(str(exc), 120)})"
                continue
            blocked = classify_block(status, final_url, text)
            if blocked:
                raise ScholarBlocked(blocked)
            if status == 200:
                return text
            if status in RETRY_STATUSES:
                problem = f"HTTP {status}"
                retry_after = _retry_after_seconds(headers.get("retry-after"))
                continue
            if status == 404:
                if "cstart=" in path:  # the profile exists (its first page came): not a wrong id
                    raise ScholarError(f"{where} answered HTTP 404")
                raise ScholarError("no Google Scholar profile with this id (HTTP 404)")
            if status == 403:
                raise ScholarBlocked("access denied (HTTP 403): Google Scholar refuses this IP address")
            raise ScholarError(f"unexpected HTTP {status} for {where}")
        if self._deadline.expired():
            raise DeadlineExceeded(f"{self._deadline.name} reached fetching {where} ({problem})")
        raise ScholarError(f"{problem} for {where}, after {tries} {'try' if tries == 1 else 'tries'}")

    def _request(self, url: str, timeout: float) -> tuple[int, httpx.URL, str, httpx.Headers]:
        with self._session.stream("GET", url, timeout=timeout) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise ScholarError(f"page larger than {MAX_PAGE_BYTES // (1024 * 1024)} MiB: not a profile page")
                self._deadline.check("while reading a page")
            text = bytes(body).decode(response.encoding or "utf-8", errors="replace")
            return response.status_code, response.url, text, response.headers


def _cstart(path: str) -> str:
    match = re.search(r"cstart=(\d+)", path)
    return f"cstart={match.group(1)}" if match else path


def fetch_pages(settings: ScholarConfig, deadline: Deadline, make_transport: TransportFactory, via: str) -> ScholarProfile:
    """Fetch and validate one profile from Scholar's pages, sent through `make_transport`'s transports.

    Raises `ScholarError` (or `DeadlineExceeded`).
    """
    proxy_generator_cls, author_parser_cls = _load_scholarly()
    counter = [0]
    generator = _scholarly_session(proxy_generator_cls, make_transport, counter)
    fetcher = PageFetcher(generator.get_session(), settings, deadline)
    parser = author_parser_cls(fetcher)
    try:
        author = parser.get_author(settings.id)
        author = parser.fill(author, sections=["basics", "indices", "counts", "publications"])
    except (ScholarError, DeadlineExceeded):
        raise
    except Exception as exc:  # a parser tripped on a page it did not expect
        raise ScholarError(f"could not parse the profile page ({type(exc).__name__}: {one_line(str(exc), 120)})") from exc
    finally:
        generator._close_session()
    return build_profile(settings.id, author, counter[0], via=via)
