"""The interface every Scholar fetcher implements: one profile, within a deadline.

A fetcher is one way to get a profile (`direct.py`: Scholar's pages from here or a
proxy; `scraperapi.py`: the same pages through ScraperAPI; `serpapi.py`: SerpApi's
JSON). Each returns the same `ScholarProfile`, so what a profile renders to does not
depend on which fetcher got it. `statsbot.sources.scholar.fetch_profile` tries the
configured fetchers in order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from statsbot.deadline import Deadline
from statsbot.sources.scholar.config import ScholarConfig

if TYPE_CHECKING:  # the profile model loads pydantic's validators for it: only a fetch needs it
    from statsbot.sources.scholar.profile import ScholarProfile


class ScholarRun:
    """What one run's Scholar fetches share, built once and used for every profile.

    * Clients (`client`): one a way of sending (fetcher, base URL, proxy), built on first
      use with its transport, its request counter and scholarly's headers (a user agent
      chosen once a run), closed by `close` at the end of the run.
    * The pages cache (`pages`, from `.statsbot/cache.json`): for the profiles in
      `remember` (the page owner's), the paths and digests of the pages last parsed and the
      profile they gave. Pages that come back byte for byte the same are not parsed again
      (scholarly's parsers are not even imported); `pages_out` is the section to publish.
    """

    def __init__(self, pages: Mapping[str, Any] | None = None, remember: Collection[str] = ()) -> None:
        self.pages: dict[str, Any] = dict(pages or {})
        self.pages_out: dict[str, Any] = {}
        self.remember = frozenset(remember)
        self._clients: dict[Any, Any] = {}

    def client(self, key: Any, build: Callable[[], Any]) -> Any:
        """The run's client for `key`, built by `build()` the first time."""
        if key not in self._clients:
            self._clients[key] = build()
        return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


class Fetcher(ABC):
    name: str  # as in `[scholar] fetchers`
    paid: bool  # costs money per request: skipped while the published profile is fresh enough

    @abstractmethod
    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        """Why this fetcher cannot run here (e.g. its key is not set), or None."""

    @abstractmethod
    def fetch(
        self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline, run: ScholarRun | None = None
    ) -> ScholarProfile:
        """One profile, by `deadline`. Raises `ScholarError` (`ScholarBlocked` when refused) or
        `DeadlineExceeded`; the message names the cause on one line, with no secret in it.
        `run`: the run's clients and pages cache (None: the fetch builds its own and closes them)."""
