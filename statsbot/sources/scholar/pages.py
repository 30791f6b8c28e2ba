"""Scholar's own pages, read with scholarly's parsers, fetched under our control.

scholarly 1.7.11 parses profile pages well but fetches them dangerously (see the
shared notes): it retries a DOS page forever, starts Selenium on a captcha, sleeps
minutes on a 403, and turns a page without the stats table into zeros. So:

* its parsers (`AuthorParser.fill`, `PublicationParser`) run on pages that
  `PageFetcher` fetches: the parsers only need an object with `_get_soup(path)`
  and `logger`, the seam scholarly's own `Navigator` fills;
* requests go through an httpx client built as scholarly builds its own
  (`ProxyGenerator._new_session`: its headers, a random browser user agent,
  redirects followed; `PageClient`), once a run (`ScholarRun`), with the
  `transport=` a fetcher gives (direct: rebased to `base_url` through a proxy;
  ScraperAPI: through its API); scholarly's package itself (Selenium, its
  `Navigator` and two clients, `load_dotenv`) is never imported, only its parsers
  (`_load_parser`), and only when a page must be parsed;
* every page is checked before the parsers see it: a captcha, DOS, "unusual
  traffic", consent or sign-in page ends the fetch at once; a profile page without
  its six stats cells is an error, never a profile of zeros;
* retries are bounded, every request has a timeout, and the whole fetch has a
  deadline that nothing sleeps past.

A profile of P publications costs ceil(P/100) requests (one when P <= 100): the
first page already holds basics, indices, counts and the first 100 rows, so the
usual `search_author_id` + `fill` recipe, which fetches page one twice, is not used.
The page owner's pages that come back byte for byte as last time (their digests in
`.statsbot/cache.json`) are not parsed again: the profile they gave is taken from there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import sys
import types
from collections.abc import Callable, Hashable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from statsbot import __version__
from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, one_line
from statsbot.sources.scholar.base import ScholarRun
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.httpclient import httpx
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


def _load_parser() -> Any:
    """scholarly's `AuthorParser`, without running scholarly's package `__init__`.

    The parsers need only `publication_parser` and `data_types`; the package's `__init__`
    also imports Selenium, builds a `Navigator` with two `ProxyGenerator`s (two httpx
    clients, two user-agent databases loaded) and calls `load_dotenv`: about 0.5 s and a
    changed environment, for nothing statsbot uses. So the submodule is imported under a
    bare stand-in for the package, which is removed again: a later ``import scholarly``
    (AcadHomepage's recipe in the same process) runs the real one, reusing the parsers.
    """
    loaded = sys.modules.get("scholarly.author_parser")
    if loaded is not None:
        return loaded.AuthorParser
    if "scholarly" in sys.modules:  # already imported the usual way
        from scholarly.author_parser import AuthorParser

        return AuthorParser
    spec = importlib.util.find_spec("scholarly")
    if spec is None or not spec.submodule_search_locations:
        raise ScholarError("scholarly is not installed (pip install statsbot brings it)")
    stand_in = types.ModuleType("scholarly")
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__spec__ = spec
    sys.modules["scholarly"] = stand_in
    try:
        from scholarly.author_parser import AuthorParser
    finally:
        if sys.modules.get("scholarly") is stand_in:
            del sys.modules["scholarly"]
    return AuthorParser


# scholarly's fallback user agent (`_proxy_generator.DEFAULT_USER_AGENT`), when fake_useragent is missing.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.149 Safari/537.36"
)


def scholar_headers() -> dict[str, str]:
    """The headers scholarly's own client sends (`ProxyGenerator._new_session`): a random
    browser user agent from fake_useragent, as scholarly picks it, and its accept headers."""
    try:
        from fake_useragent import UserAgent
    except ImportError:
        agent = DEFAULT_USER_AGENT
    else:
        quiet = logging.getLogger("fake_useragent")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # as scholarly does: its fallback warnings are noise here
        try:
            agent = UserAgent().random
        except Exception:  # noqa: BLE001 - its data missing or unreadable: scholarly's fallback
            agent = DEFAULT_USER_AGENT
        finally:
            quiet.setLevel(level)
    return {"accept-language": "en-US,en", "accept": "text/html,application/xhtml+xml,application/xml", "User-Agent": agent}


class PageClient:
    """One httpx client with scholarly's headers and redirects, sent through one transport,
    and the count of the requests that went through it (`requests`)."""

    def __init__(self, make_transport: TransportFactory) -> None:
        self.counter = [0]
        self.transport = make_transport(self.counter)
        self.client = httpx.Client(follow_redirects=True, headers=scholar_headers(), transport=self.transport)

    @property
    def requests(self) -> int:
        return self.counter[0]

    def close(self) -> None:
        self.client.close()


class PageFetcher:
    """Stands in for scholarly's Navigator: the parsers call `_get_soup(path)`."""

    def __init__(self, session: httpx.Client, settings: ScholarConfig, deadline: Deadline) -> None:
        self.logger = logging.getLogger("scholarly")
        self._session = session
        self._settings = settings
        self._deadline = deadline
        self.pages = 0
        self.fetched: dict[str, str] = {}  # path -> page text, every page fetched (each once)
        self.parsed: list[str] = []  # the paths the parsers read, in order

    def text(self, path: str) -> str:
        """A page's text: fetched once (after the pause between pages), then kept."""
        if path not in self.fetched:
            first = "cstart=" not in path
            where = "the profile page" if first else f"the publications page at {_cstart(path)}"
            if self.pages:
                self._deadline.sleep(self._settings.page_delay_seconds)
            self.fetched[path] = self._get_page(path, where)
            self.pages += 1
        return self.fetched[path]

    def _get_soup(self, path: str) -> Any:
        from bs4 import BeautifulSoup

        first = "cstart=" not in path
        where = "the profile page" if first else f"the publications page at {_cstart(path)}"
        text = self.text(path)
        self.parsed.append(path)
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


PAGES_CACHE_FORMAT = f"statsbot {__version__}, scholarly 1.7.11 parsers"  # a new format parses again


def page_digest(text: str) -> str:
    return hashlib.sha256(f"{PAGES_CACHE_FORMAT}\n{text}".encode()).hexdigest()


def fetch_pages(
    settings: ScholarConfig,
    deadline: Deadline,
    make_transport: TransportFactory,
    via: str,
    *,
    run: ScholarRun | None = None,
    key: Hashable | None = None,
    client: Callable[[PageClient], None] | None = None,
) -> ScholarProfile:
    """Fetch and validate one profile from Scholar's pages, sent through `make_transport`'s transports.

    The client comes from the run (`run.client(key, ...)`: one a run for each `key`; without
    a key or a run, one for this fetch alone), `client` is called with it before the first
    request (ScraperAPI gives its transport this fetch's deadline). When the profile's
    pages are those the cache remembers, byte for byte, the profile is rebuilt from the
    cache instead of parsed. Raises `ScholarError` (or `DeadlineExceeded`).
    """
    own = run is None or key is None
    session = PageClient(make_transport) if own else run.client(key, lambda: PageClient(make_transport))  # type: ignore[union-attr]
    if client is not None:
        client(session)
    before = session.requests
    fetcher = PageFetcher(session.client, settings, deadline)
    try:
        remember = run is not None and settings.id in run.remember
        if remember:
            profile = _unchanged(fetcher, run.pages.get(settings.id), settings, lambda: session.requests - before, via)  # type: ignore[union-attr]
            if profile is not None:
                run.pages_out[settings.id] = run.pages[settings.id]  # type: ignore[union-attr]
                return profile
        parser = _load_parser()(fetcher)
        try:
            author = parser.get_author(settings.id)
            author = parser.fill(author, sections=["basics", "indices", "counts", "publications"])
        except (ScholarError, DeadlineExceeded):
            raise
        except Exception as exc:  # a parser tripped on a page it did not expect
            raise ScholarError(f"could not parse the profile page ({type(exc).__name__}: {one_line(str(exc), 120)})") from exc
        profile = build_profile(settings.id, author, session.requests - before, via=via)
        if remember:
            run.pages_out[settings.id] = {  # type: ignore[union-attr]
                "pages": [[path, page_digest(fetcher.fetched[path])] for path in fetcher.parsed],
                "profile": profile.gs_data,
            }
        return profile
    finally:
        if own:
            session.close()


def _unchanged(
    fetcher: PageFetcher, entry: Any, settings: ScholarConfig, requests: Callable[[], int], via: str
) -> ScholarProfile | None:
    """The profile the cache holds, when each page it was parsed from comes back the same;
    else None, the pages fetched so far kept in `fetcher` for the parsers (never fetched twice)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("profile"), dict):
        return None
    pages = entry.get("pages")
    if not isinstance(pages, list) or not pages or not all(isinstance(p, list) and len(p) == 2 for p in pages):
        return None
    for path, digest in pages:
        if not isinstance(path, str) or not path.startswith(f"/citations?hl=en&user={settings.id}&"):
            return None  # not a page of this profile: a cache edited by hand
        if page_digest(fetcher.text(path)) != digest:
            return None
    gs_data = entry["profile"]
    publications = gs_data.get("publications")
    if not isinstance(publications, dict):
        return None
    try:
        profile = build_profile(settings.id, {**gs_data, "publications": list(publications.values())}, requests(), via=via)
    except (ScholarError, ValueError, TypeError, AttributeError):  # a cache edited by hand: parse the pages instead
        return None
    log.info("scholar %s: the profile's %d pages are the ones parsed last time: not parsed again", settings.id, len(pages))
    return profile
