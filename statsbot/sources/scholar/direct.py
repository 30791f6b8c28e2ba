"""The direct fetcher: Scholar's pages from this machine, or through a proxy.

Requests for scholar.google.com go to `[scholar] base_url` (a mirror, or a local
server in tests) through the proxy `[scholar] proxy` (or ``$STATSBOT_SCHOLAR_PROXY``)
names, else the one ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` name for
the rebased URL, exactly as httpx would choose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from statsbot.deadline import Deadline
from statsbot.errors import one_line
from statsbot.sources.scholar.base import Fetcher
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.pages import SCHOLAR_HOST, fetch_pages
from statsbot.sources.scholar.profile import ScholarError, ScholarProfile

PROXY_ENV = "STATSBOT_SCHOLAR_PROXY"


def proxy_routes(proxies: dict[str, str | None] | None = None) -> list[tuple[Any, str | None]]:
    """(URL pattern, proxy URL or None for "direct"), most specific first, as httpx orders its mounts.

    `proxies` defaults to the environment's (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``, read the way httpx reads them). A proxy httpx cannot use is a `ScholarError`
    naming its scheme (never the URL, which may hold a password).
    """
    from httpx._utils import URLPattern, get_environment_proxies

    routes = get_environment_proxies() if proxies is None else proxies
    for proxy in filter(None, routes.values()):
        try:
            if httpx.Proxy(proxy).url.scheme.startswith("socks"):
                import socksio  # noqa: F401  (httpx needs it for a SOCKS proxy)
        except (ValueError, ImportError, httpx.InvalidURL) as exc:
            scheme = proxy.partition("://")[0] if "://" in proxy else "?"
            why = one_line(str(exc), 160) if isinstance(exc, ImportError) else "httpx does not accept its URL"
            raise ScholarError(f"the proxy from the environment ({scheme}://...) cannot be used: {why}") from None
    return sorted(((URLPattern(key), proxy) for key, proxy in routes.items()), key=lambda route: route[0])


class RebaseTransport(httpx.BaseTransport):
    """Sends requests for scholar.google.com to `base_url` instead, and counts every request.

    Requests for other hosts (a redirect elsewhere) pass through unchanged. Each request,
    once rebased, goes through the proxy the environment names for its URL, exactly as
    httpx's own client would choose it (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``): a client given ``transport=`` ignores the environment, so this does it.
    `proxies` (mount pattern -> proxy URL or None) replaces the environment's.
    """

    def __init__(self, base_url: str, counter: list[int], proxies: dict[str, str | None] | None = None) -> None:
        self._base = httpx.URL(base_url)
        self._prefix = self._base.raw_path.rstrip(b"/")
        self._routes = proxy_routes(proxies)
        self._inner = httpx.HTTPTransport()
        self._counter = counter
        self._proxied: dict[str, httpx.HTTPTransport] = {}  # one transport per proxy URL
        for _, proxy in self._routes:
            if proxy is not None and proxy not in self._proxied:
                self._proxied[proxy] = httpx.HTTPTransport(proxy=proxy)

    def transport_for(self, url: httpx.URL) -> httpx.HTTPTransport:
        """The proxied transport the environment names for `url`, or the direct one."""
        for pattern, proxy in self._routes:
            if pattern.matches(url):
                return self._inner if proxy is None else self._proxied[proxy]
        return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.host == SCHOLAR_HOST:
            url = url.copy_with(
                scheme=self._base.scheme,
                host=self._base.host,
                port=self._base.port,
                raw_path=self._prefix + url.raw_path,
            )
            headers = httpx.Headers(request.headers)
            headers["Host"] = url.netloc.decode("ascii")
            request = httpx.Request(
                request.method, url, headers=headers, stream=request.stream, extensions=request.extensions
            )
        self._counter[0] += 1
        return self.transport_for(request.url).handle_request(request)

    def close(self) -> None:
        self._inner.close()
        for transport in self._proxied.values():
            transport.close()


def scholar_proxy(settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
    """The explicit proxy for Scholar: ``$STATSBOT_SCHOLAR_PROXY`` (may hold credentials), else `[scholar] proxy`."""
    return env.get(PROXY_ENV) or settings.proxy or None


class DirectFetcher(Fetcher):
    name = "direct"
    paid = False

    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        return None

    def fetch(self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline) -> ScholarProfile:
        explicit = scholar_proxy(settings, env)
        proxies = {"all://": explicit} if explicit else None
        proxy_routes(proxies)  # a proxy httpx cannot use is this item's error, not a crash in scholarly's import
        return fetch_pages(settings, deadline, lambda counter: RebaseTransport(settings.base_url, counter, proxies), self.name)
