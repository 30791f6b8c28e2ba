"""The chain of Scholar fetchers: `FETCHERS` by name, and `fetch_profile`, which tries them in order."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded, one_line
from statsbot.sources.scholar.base import Fetcher, ScholarRun
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.direct import PROXY_ENV

if TYPE_CHECKING:
    from statsbot.sources.scholar.profile import ScholarProfile

log = logging.getLogger("statsbot.scholar")


class _Registry(Mapping[str, Fetcher]):
    """The fetchers by name, each module imported when its fetcher is first asked for (the
    paid ones load requests or httpx; `statsbot check` of a direct-only config needs neither)."""

    _modules = {
        "direct": ("statsbot.sources.scholar.direct", "DirectFetcher"),
        "scraperapi": ("statsbot.sources.scholar.scraperapi", "ScraperApiFetcher"),
        "serpapi": ("statsbot.sources.scholar.serpapi", "SerpApiFetcher"),
    }

    def __init__(self) -> None:
        self._made: dict[str, Fetcher] = {}

    def __getitem__(self, name: str) -> Fetcher:
        if name not in self._made:
            module, cls = self._modules[name]
            self._made[name] = getattr(importlib.import_module(module), cls)()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


FETCHERS: Mapping[str, Fetcher] = _Registry()


def fetch_profile(
    settings: ScholarConfig,
    deadline: Deadline | None = None,
    env: Mapping[str, str] | None = None,
    published_at: datetime | None = None,
    run: ScholarRun | None = None,
) -> ScholarProfile:
    """One profile from the first fetcher in `settings.fetchers` that gets it.

    `published_at`: when the published profile was last fetched (paid fetchers wait for
    `min_interval_hours` after it). Raises `ScholarError` (or `DeadlineExceeded`); with one
    fetcher its own error, with several one line naming each fetcher and its cause. `run`: the
    run's clients and pages cache (`ScholarRun`), shared by every profile of the run.
    """
    from statsbot.sources.scholar.profile import ScholarError

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
            return fetcher.fetch(settings, env, limit, run=run)
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


def describe_fetchers(settings: ScholarConfig, env: Mapping[str, str]) -> str:
    """Which Scholar fetchers a run would try, and whether each has what it needs (never a key's value)."""
    parts = []
    for name in settings.fetchers:
        fetcher = FETCHERS[name]
        why = fetcher.unavailable(settings, env)
        if why:
            parts.append(f"{name} (will be skipped: {why})")
        elif fetcher.paid:
            key = getattr(sys.modules[type(fetcher).__module__], "KEY_ENV", None)
            has = f"${key} is set, " if key else ""
            parts.append(f"{name} (paid: {has}not called while the published profile is under {settings.min_interval_hours:g} h old)")
        elif env.get(PROXY_ENV):
            parts.append(f"{name} (free, through the proxy in ${PROXY_ENV})")
        elif settings.proxy:
            parts.append(f"{name} (free, through [scholar] proxy)")
        else:
            named = next((v for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if env.get(v)), None)
            parts.append(f"{name} (free, " + (f"through the proxy ${named} names)" if named else "from this machine)"))
    return ", then ".join(parts)
