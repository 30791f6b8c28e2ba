"""The direct fetcher: Scholar's pages from this machine, or through a proxy.

Requests for scholar.google.com go to `[scholar] base_url` (a mirror, or a local
server in tests) through the proxy `[scholar] proxy` (or ``$STATSBOT_SCHOLAR_PROXY``)
names, else the one ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` name for
the rebased URL, exactly as httpx would choose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from statsbot.deadline import Deadline
from statsbot.sources.scholar.base import Fetcher, ScholarRun
from statsbot.sources.scholar.config import ScholarConfig

if TYPE_CHECKING:
    from statsbot.sources.scholar.profile import ScholarProfile

PROXY_ENV = "STATSBOT_SCHOLAR_PROXY"


def __getattr__(name: str) -> Any:
    """`RebaseTransport` and `proxy_routes` live in `transport.py` (httpx loads only when a fetch starts)."""
    if name in ("RebaseTransport", "proxy_routes"):
        from statsbot.sources.scholar import transport

        return getattr(transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def scholar_proxy(settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
    """The explicit proxy for Scholar: ``$STATSBOT_SCHOLAR_PROXY`` (may hold credentials), else `[scholar] proxy`."""
    return env.get(PROXY_ENV) or settings.proxy or None


class DirectFetcher(Fetcher):
    name = "direct"
    paid = False

    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        return None

    def fetch(
        self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline, run: ScholarRun | None = None
    ) -> ScholarProfile:
        from statsbot.sources.scholar.pages import fetch_pages
        from statsbot.sources.scholar.transport import RebaseTransport, proxy_routes

        explicit = scholar_proxy(settings, env)
        proxies = {"all://": explicit} if explicit else None
        proxy_routes(proxies)  # a proxy httpx cannot use is this item's error, not a crash in the client
        # One client a run for every profile sent the same way (its user agent chosen once).
        key = (self.name, settings.base_url, explicit)
        return fetch_pages(
            settings, deadline, lambda counter: RebaseTransport(settings.base_url, counter, proxies), self.name, run=run, key=key
        )
