"""The interface every Scholar fetcher implements: one profile, within a deadline.

A fetcher is one way to get a profile (`direct.py`: Scholar's pages from here or a
proxy; `scraperapi.py`: the same pages through ScraperAPI; `serpapi.py`: SerpApi's
JSON). Each returns the same `ScholarProfile`, so what a profile renders to does not
depend on which fetcher got it. `statsbot.sources.scholar.fetch_profile` tries the
configured fetchers in order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from statsbot.deadline import Deadline
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.profile import ScholarProfile


class Fetcher(ABC):
    name: str  # as in `[scholar] fetchers`
    paid: bool  # costs money per request: skipped while the published profile is fresh enough

    @abstractmethod
    def unavailable(self, settings: ScholarConfig, env: Mapping[str, str]) -> str | None:
        """Why this fetcher cannot run here (e.g. its key is not set), or None."""

    @abstractmethod
    def fetch(self, settings: ScholarConfig, env: Mapping[str, str], deadline: Deadline) -> ScholarProfile:
        """One profile, by `deadline`. Raises `ScholarError` (`ScholarBlocked` when refused) or
        `DeadlineExceeded`; the message names the cause on one line, with no secret in it."""
