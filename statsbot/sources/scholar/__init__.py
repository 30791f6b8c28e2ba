"""Google Scholar profiles, through an ordered chain of fetchers.

`[scholar] fetchers` (default ``["direct"]``) names the ways to get a profile, tried in
turn until one succeeds: ``direct`` (Scholar's pages from this machine or a proxy),
``scraperapi`` (the same pages through ScraperAPI), ``serpapi`` (SerpApi's Author API).
A fetcher that is not configured (no key) is skipped with one line; a paid one is not
called while the published profile is younger than `min_interval_hours`; each one gets
a share of the Scholar deadline (what is left, split over the fetchers still to try).
The profile records which fetcher produced it (`via`).

Layout, one module a job (as httpx's transports): `base.py` the `Fetcher` interface;
`direct.py`, `scraperapi.py`, `serpapi.py` its implementations; `pages.py` Scholar's
pages read with scholarly's parsers (shared by direct and ScraperAPI); `profile.py`
the profile model every fetcher returns.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from typing import Mapping

from statsbot.config import ScholarConfig
from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, one_line
from statsbot.sources.scholar.base import Fetcher
from statsbot.sources.scholar.direct import DirectFetcher, RebaseTransport, proxy_routes
from statsbot.sources.scholar.pages import SCHOLAR_HOST, _load_scholarly, classify_block, is_signin_page
from statsbot.sources.scholar.profile import ScholarBlocked, ScholarError, ScholarMetrics, ScholarPaper, ScholarProfile

__all__ = [
    "FETCHERS", "Fetcher", "RebaseTransport", "SCHOLAR_HOST", "ScholarBlocked", "ScholarError", "ScholarMetrics",
    "ScholarPaper", "ScholarProfile", "_load_scholarly", "classify_block", "fetch_profile", "is_signin_page", "proxy_routes",
]

log = logging.getLogger("statsbot.scholar")


def _registry() -> dict[str, Fetcher]:
    from statsbot.sources.scholar.scraperapi import ScraperApiFetcher
    from statsbot.sources.scholar.serpapi import SerpApiFetcher

    return {fetcher.name: fetcher for fetcher in (DirectFetcher(), ScraperApiFetcher(), SerpApiFetcher())}


FETCHERS: dict[str, Fetcher] = _registry()


def fetch_profile(
    settings: ScholarConfig,
    deadline: Deadline | None = None,
    env: Mapping[str, str] | None = None,
    published_at: datetime | None = None,
) -> ScholarProfile:
    """One profile from the first fetcher in `settings.fetchers` that gets it.

    `published_at`: when the published profile was last fetched (paid fetchers wait for
    `min_interval_hours` after it). Raises `ScholarError` (or `DeadlineExceeded`); with one
    fetcher its own error, with several one line naming each fetcher and its cause.
    """
    deadline = deadline or Deadline(settings.deadline_seconds)
    env = os.environ if env is None else env
    names = list(settings.fetchers)
    problems: list[str] = []
    age_hours = None
    if published_at is not None:
        age_hours = (datetime.now(timezone.utc) - published_at).total_seconds() / 3600
    for index, name in enumerate(names):
        fetcher = FETCHERS[name]
        why = fetcher.unavailable(settings, env)
        if why:
            log.warning("scholar %s: skipping the %s fetcher: %s", settings.id, name, why)
            problems.append(f"{name}: skipped ({why})")
            continue
        if fetcher.paid and age_hours is not None and age_hours < settings.min_interval_hours:
            log.info(
                "scholar %s: not calling %s (paid): the published profile is %.1f h old, under min_interval_hours %g",
                settings.id, name, age_hours, settings.min_interval_hours,
            )
            problems.append(f"{name}: not called (the published profile is {age_hours:.1f} h old, under min_interval_hours)")
            continue
        last = index == len(names) - 1
        if last:
            limit = deadline
        else:
            share = deadline.remaining() / (len(names) - index)
            limit = Deadline(share, name=f"the {name} fetcher's share ({share:.3g} s) of {deadline.name}")
        try:
            return fetcher.fetch(settings, env, limit)
        except (ScholarError, DeadlineExceeded) as exc:
            if len(names) == 1:
                raise
            problems.append(f"{name}: {one_line(str(exc), 200)}")
            if deadline.expired():
                break
            if not last:
                log.warning("scholar %s: the %s fetcher failed (%s); trying the next one", settings.id, name, one_line(str(exc), 200))
    if len(names) == 1:
        raise ScholarError(problems[0] if problems else "no fetcher configured")
    tried = "; ".join(problems)
    if deadline.expired() and len(problems) < len(names):
        raise DeadlineExceeded(f"{deadline.name} reached; {tried}")
    raise ScholarError(f"every fetcher failed: {tried}")
