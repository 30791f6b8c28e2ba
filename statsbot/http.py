"""HTTP plumbing for the JSON APIs: one `requests.Session`, urllib3's `Retry`, bounded reads,
rate-limit bookkeeping, tokens that only reach their own host, and a bounded worker pool.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, InvalidHeader, MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from statsbot import __version__
from statsbot.deadline import DaemonPool, Deadline
from statsbot.errors import DeadlineExceeded, SourceError
from statsbot.progress import Progress

log = logging.getLogger("statsbot.http")

USER_AGENT = f"statsbot/{__version__} (+https://github.com/statsbot/statsbot)"
MAX_BODY_BYTES = 5 * 1024 * 1024
T = TypeVar("T")
K = TypeVar("K")


class RateLimited(SourceError):
    """The API said to stop asking; the message says until when."""


class BoundedRetry(Retry):
    """urllib3's `Retry`, except that it gives up rather than wait long.

    A spent rate limit (``x-ratelimit-remaining: 0``), a 403/429 without
    ``Retry-After``, or a ``Retry-After`` longer than `max_wait` ends the retries at
    once and hands the response back (``raise_on_status=False``), so the caller can
    read the reset time instead of sleeping past its deadline.
    """

    def __init__(self, *args: Any, max_wait: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kw: Any) -> "BoundedRetry":
        fresh = super().new(**kw)
        fresh.max_wait = self.max_wait
        return fresh

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def, override]
        if response is not None and self._must_stop(response):
            raise MaxRetryError(_pool, url, ResponseError(f"not retrying HTTP {response.status}"))  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _must_stop(self, response: Any) -> bool:
        headers = response.headers
        if headers.get("x-ratelimit-remaining") == "0":
            return True
        value = headers.get("Retry-After")
        if value is None:
            return response.status in (403, 429)
        try:
            return self.parse_retry_after(value) > self.max_wait
        except InvalidHeader:
            return True


def make_session(*, retries: int, pool_size: int, max_wait: float) -> requests.Session:
    """One session for a source: connection pooling, and retries with backoff from urllib3."""
    retry = BoundedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=5,
        backoff_factor=0.5,
        backoff_max=4.0,
        status_forcelist=(403, 429, 500, 502, 503, 504),
        allowed_methods=("GET", "POST"),  # POST: GitHub GraphQL queries, which change nothing
        respect_retry_after_header=True,
        raise_on_status=False,
        max_wait=max_wait,
    )
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class HostScopedAuth(requests.auth.AuthBase):
    """Adds ``Authorization`` (or another `header`, e.g. ``x-api-key``) only to requests for one scheme://host:port."""

    def __init__(self, header_value: str, base_url: str, header: str = "Authorization") -> None:
        self._value = header_value
        self._origin = _origin(base_url)
        self._header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if _origin(request.url or "") == self._origin:
            request.headers[self._header] = self._value
        return request

    def __repr__(self) -> str:  # never show the token
        return f"HostScopedAuth(origin={self._origin!r})"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def request_json(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    timeout: float,
    what: str,
    **kwargs: Any,
) -> tuple[requests.Response, Any]:
    """Send one request and read at most `MAX_BODY_BYTES`; the JSON is parsed when the status is 200.

    Returns the response and the parsed body (None for statuses other than 200).
    Raises `SourceError` for transport failures and bodies that are not the JSON expected.
    """
    deadline.check(f"before fetching {what}")
    limit = min(timeout, deadline.remaining())
    try:
        response = session.request(method, url, timeout=(limit, limit), stream=True, **kwargs)
    except requests.exceptions.RetryError as exc:  # pragma: no cover - raise_on_status=False returns responses
        raise SourceError(f"{what}: gave up after retries ({exc.__class__.__name__})") from None
    except requests.exceptions.Timeout:
        raise SourceError(f"{what}: no answer within {limit:.3g} s") from None
    except requests.exceptions.ConnectionError as exc:
        raise SourceError(f"{what}: connection failed ({_reason(exc)})") from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(f"{what}: request failed ({exc.__class__.__name__})") from None
    with response:
        body = bytearray()
        try:
            while True:
                # read1 returns whatever has arrived (at most 64 KiB) after one socket read, so
                # the deadline is checked between reads even when a server trickles a byte a
                # second; read(amt) and iter_content(amt) wait until amt bytes are there.
                chunk = response.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise SourceError(f"{what}: answer larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
                if deadline.expired():
                    raise DeadlineExceeded(f"{deadline.name} reached reading {what}")
        except ReadTimeoutError:
            raise SourceError(f"{what}: the answer stopped coming for {limit:.3g} s") from None
        except (requests.exceptions.RequestException, HTTPError) as exc:
            raise SourceError(f"{what}: connection broke while reading the answer ({exc.__class__.__name__})") from None
    response._content = bytes(body)  # so .text and .json() work on what was read
    if response.status_code != 200:
        return response, None
    return response, parse_json(response, what)


def parse_json(response: requests.Response, what: str) -> Any:
    content_type = response.headers.get("Content-Type", "")
    if not response.content:
        raise SourceError(f"{what}: empty answer where JSON was expected")
    try:
        return json.loads(response.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        kind = content_type.split(";")[0].strip() or "no content type"
        raise SourceError(f"{what}: answer is not valid JSON ({kind}, {len(response.content)} bytes)") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Connection reset"):
        if marker in text:
            return marker
    return exc.__class__.__name__


def reset_time(headers: Mapping[str, str]) -> str | None:
    """``x-ratelimit-reset`` (epoch seconds) as ISO 8601 UTC."""
    value = headers.get("x-ratelimit-reset")
    if not value or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StopSignal:
    """Shared by a source's workers: once one learns the API wants no more requests, none are sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                log.warning("%s", reason)

    def check(self) -> None:
        if self.reason is not None:
            raise RateLimited(self.reason)


def run_pool(
    work: Callable[[K], T], keys: Iterable[K], *, workers: int, deadline: Deadline, label: str | None = None
) -> dict[K, T | BaseException]:
    """`work(key)` for every key on at most `workers` threads; each key's result or exception,
    in the order of `keys`.

    Keys still running or queued when the deadline passes get a `DeadlineExceeded` (those
    not started are cancelled). With a `label`, progress is shown (items done of total).

    The cost is O(N): at most twice `workers` calls are queued at once, and each finished
    call reports itself on a queue (waiting on every pending future after each completion,
    as `concurrent.futures.wait` does, would be O(N^2) for N keys).
    """
    keys = list(keys)
    results: dict[K, T | BaseException] = {}
    if not keys:
        return results
    progress = Progress(label, len(keys)) if label else None
    threads = max(1, min(workers, len(keys)))
    # Daemon threads: a worker stuck past the deadline is abandoned and cannot keep the process alive.
    pool = DaemonPool(max_workers=threads, thread_name_prefix="statsbot-http")
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()  # indexes of the calls that ended
    in_flight: dict[int, Future[T]] = {}
    outcomes: dict[int, T | BaseException] = {}
    submitted = 0

    def submit_next() -> None:
        nonlocal submitted
        index = submitted
        submitted += 1
        future = pool.submit(work, keys[index])
        in_flight[index] = future
        future.add_done_callback(lambda _future: finished.put(index))

    try:
        while submitted < len(keys) and len(in_flight) < 2 * threads:
            submit_next()
        while in_flight:
            try:
                index = finished.get(timeout=max(0.0, deadline.remaining()))
            except queue.Empty:
                break
            future = in_flight.pop(index, None)
            if future is None:  # cannot happen: each call reports once
                continue
            try:
                outcomes[index] = future.result()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller per key
                outcomes[index] = exc
            if progress is not None:
                progress.step()
            if submitted < len(keys):
                submit_next()
    finally:
        for future in in_flight.values():
            future.cancel()
        pool.shutdown()
    for index, key in enumerate(keys):
        results[key] = outcomes[index] if index in outcomes else DeadlineExceeded(f"{deadline.name} reached")
    return results
