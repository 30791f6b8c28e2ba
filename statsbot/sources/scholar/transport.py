"""The httpx transport the Scholar page fetchers send through: `RebaseTransport` sends requests
for scholar.google.com to `[scholar] base_url`, through the proxy the environment (or the
config) names, and counts them. Imported when a fetch starts (httpx takes a while to load).
"""

from __future__ import annotations

from typing import Any

from statsbot.errors import one_line
from statsbot.sources.scholar.httpclient import httpx
from statsbot.sources.scholar.pages import SCHOLAR_HOST
from statsbot.sources.scholar.profile import ScholarError


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
