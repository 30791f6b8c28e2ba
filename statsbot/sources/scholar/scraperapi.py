"""The scraperapi fetcher: Scholar's own pages, fetched by ScraperAPI from its proxy pools.

Each request scholarly's client makes for ``https://scholar.google.com/citations?...``
becomes one request to ScraperAPI's API endpoint (docs.scraperapi.com, "Using the API
Endpoint")::

    GET {[scholar] scraperapi_url}/?url=<the Scholar URL, percent-encoded>
    x-sapi-api_key: $SCRAPER_API_KEY

The key travels in the header ("Passing API Parameters as Headers"), never in the URL,
so no URL that httpx, a proxy or statsbot logs holds it. The answer is the Scholar page
itself, read by the same parsers and the same page checks as the direct fetcher (a
captcha that ScraperAPI passes on with HTTP 200 is still a block), in the same
ceil(P/100) requests.

ScraperAPI's own answers are translated here, before `PageFetcher` reads them as
Scholar's: a 401 or 403 whose text is about credits ("You have used up all your API
credits.") is a spent plan, any other 401 (and a 403 about the key) a refused key: both
end the fetch at once, with no retry. Its 429 (too many concurrent requests),
its 500 (it failed after retrying for up to 70 s) and no answer at all are `ProviderBusy`,
retried within `[scholar] retries` and the deadline. Scholar's 404 (no such profile) is
passed on as is.

Timeouts: ScraperAPI retries a hard page for up to 70 s before it answers, and asks
clients to wait that long, so each request waits up to max(`timeout_seconds`, 70 s),
never past the fetcher's deadline (its share of `[scholar] deadline_seconds`).
The request to ScraperAPI goes through the proxy ``HTTPS_PROXY``/``NO_PROXY`` name for
it, as httpx would choose; `[scholar] proxy` is for the direct fetcher only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

from statsbot.deadline import Deadline
from statsbot.errors import one_line
from statsbot.redact import register
from statsbot.sources.scholar.base import Fetcher, ScholarRun
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.httpclient import httpx
from statsbot.sources.scholar.pages import ProviderBusy, _retry_after_seconds, fetch_pages
from statsbot.sources.scholar.profile import ScholarError, ScholarProfile
from statsbot.sources.scholar.transport import RebaseTransport

log = logging.getLogger("statsbot.scholar")

KEY_ENV = "SCRAPER_API_KEY"
KEY_HEADER = "x-sapi-api_key"
PROVIDER = "ScraperAPI"
PROVIDER_TIMEOUT_SECONDS = 70.0  # ScraperAPI retries for up to 70 s before it answers 500
PASSED_ON = frozenset({200, 404, 410})  # the target's own answers (ScraperAPI charges for 200 and 404)
MAX_ERROR_BYTES = 64 * 1024
_CREDITS = re.compile(r"credit|quota|exhaust|used up|run out|ran out", re.IGNORECASE)
_KEY = re.compile(r"api[ _-]?key|unauthori[sz]ed|invalid", re.IGNORECASE)
_DROPPED_HEADERS = frozenset({"host", "cookie", "content-length", "transfer-encoding"})


def api_request(api_url: httpx.URL, key: str, request: httpx.Request, timeout: float) -> httpx.Request:
    """The ScraperAPI request that fetches `request`'s URL: the target in `url=`, the key in a header."""
    target = str(request.url)
    prefix = api_url.raw_path.split(b"?")[0].rstrip(b"/")
    url = api_url.copy_with(raw_path=prefix + b"/?" + urlencode({"url": target}).encode("ascii"))
    headers = httpx.Headers({k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_HEADERS})
    headers[KEY_HEADER] = key
    extensions = dict(request.extensions)
    extensions["timeout"] = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    return httpx.Request("GET", url, headers=headers, extensions=extensions)


class ScraperApiTransport(RebaseTransport):
    """Sends every request through ScraperAPI's endpoint, counts it, and translates ScraperAPI's failures.

    Built on `RebaseTransport` for its proxy routing (the environment's proxy for the
    ScraperAPI URL) and its counter; nothing is rebased: every request is rewritten here.
    """

    def __init__(self, settings: ScholarConfig, key: str, counter: list[int], deadline: Deadline) -> None:
        super().__init__(settings.scraperapi_url, counter)
        self._api = httpx.URL(settings.scraperapi_url)
        self._key = key
        self._deadline = deadline
        self._timeout = max(settings.timeout_seconds, PROVIDER_TIMEOUT_SECONDS)

    def use_deadline(self, deadline: Deadline) -> None:
        """The deadline of the fetch now using the run's client (one profile's)."""
        self._deadline = deadline

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        budget = max(0.001, min(self._timeout, self._deadline.remaining()))
        outgoing = api_request(self._api, self._key, request, budget)
        self._counter[0] += 1
        log.debug("through %s: GET %s (key in the %s header, waiting up to %.3g s)", PROVIDER, outgoing.url, KEY_HEADER, budget)
        try:
            response = self.transport_for(outgoing.url).handle_request(outgoing)
        except httpx.TimeoutException:
            raise ProviderBusy(f"{PROVIDER}: no answer within {budget:.3g} s") from None
        except httpx.TransportError as exc:
            raise ProviderBusy(f"{PROVIDER}: connection failed ({type(exc).__name__}: {self._clean(str(exc), 120)})") from None
        if response.status_code in PASSED_ON:
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_GuardedStream(response.stream, budget),
                extensions=response.extensions,
            )
        try:
            body = self._error_body(response)
        finally:
            response.close()
        raise self._failure(response.status_code, body, response.headers.get("retry-after"))

    def _error_body(self, response: httpx.Response) -> str:
        """The start of an error answer (decoded), read within the deadline."""
        data = bytearray()
        try:
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) >= MAX_ERROR_BYTES:
                    break
                self._deadline.check(f"while reading {PROVIDER}'s error answer (HTTP {response.status_code})")
        except httpx.HTTPError:
            pass  # the status says enough
        return bytes(data[:MAX_ERROR_BYTES]).decode(response.encoding or "utf-8", errors="replace")

    def _failure(self, status: int, body: str, retry_after: str | None) -> ScholarError:
        """ScraperAPI's own failure, as one line naming it and the cause (never the key)."""
        if status in (401, 403) and _CREDITS.search(body):
            return ScholarError(
                f"{PROVIDER}: the plan's credits are used up (HTTP {status}): add credits or wait for the plan's renewal"
            )
        if status == 401 or (status == 403 and _KEY.search(body)):
            return ScholarError(f"{PROVIDER}: the API key was refused (HTTP {status}): check ${KEY_ENV}")
        if status == 429:
            return ProviderBusy(
                f"{PROVIDER}: too many concurrent requests for the plan (HTTP 429)", _retry_after_seconds(retry_after)
            )
        if status == 500:
            return ProviderBusy(f"{PROVIDER}: could not fetch the page (HTTP 500 after {PROVIDER}'s own retries)")
        if status > 500:
            return ProviderBusy(f"{PROVIDER}: HTTP {status} from the API")
        said = self._clean(body, 160)
        said = f": {PROVIDER} said {said!r}" if said else ""
        if status == 403:
            return ScholarError(f"{PROVIDER}: access refused (HTTP 403){said}")
        if status == 400:
            return ScholarError(f"{PROVIDER}: the request was refused as malformed (HTTP 400){said}")
        return ScholarError(f"{PROVIDER}: unexpected HTTP {status}{said}")

    def _clean(self, text: str, limit: int) -> str:
        """One line of a server's text, the key hidden even if the redaction registry never saw it."""
        return one_line(text.replace(self._key, "***"), limit)


class _GuardedStream(httpx.SyncByteStream):
    """The page's body; a stall or a dropped connection while it arrives is ScraperAPI's, and retried."""

    def __init__(self, inner: httpx.SyncByteStream, budget: float) -> None:
        self._inner = inner
        self._budget = budget

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx.TimeoutException:
            raise ProviderBusy(f"{PROVIDER}: the page stopped arriving (nothing for {self._budget:.3g} s)") from None
        except httpx.TransportError as exc:
            raise ProviderBusy(f"{PROVIDER}: the connection broke while the page arrived ({type(exc).__name__})") from None

    def close(self) -> None:
        self._inner.close()


class ScraperApiFetcher(Fetcher):
    name = "scraperapi"
    paid = True

    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        return None if env.get(KEY_ENV) else f"${KEY_ENV} is not set"

    def fetch(
        self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline, run: ScholarRun | None = None
    ) -> ScholarProfile:
        key = env.get(KEY_ENV, "")
        if not key:
            raise ScholarError(f"{PROVIDER}: ${KEY_ENV} is not set")
        register([key])  # hidden in every message and log line, whoever passed the environment
        return fetch_pages(
            settings,
            deadline,
            lambda counter: ScraperApiTransport(settings, key, counter, deadline),
            self.name,
            run=run,
            key=(self.name, settings.scraperapi_url, settings.timeout_seconds, key),
            client=lambda session: session.transport.use_deadline(deadline),
        )
