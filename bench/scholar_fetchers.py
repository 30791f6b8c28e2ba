"""Benchmark: requests per Scholar profile for each fetcher, against local fakes.

For profiles of 20, 137 and 500 papers it fetches the same profile three ways, all on
127.0.0.1 and in the same run:

* ``direct``: Scholar's pages from the page fake (`statsbot.demo.server.FakeScholar`);
* ``scraperapi``: the same pages through the ScraperAPI fake (`tests/fakes.FakeScraperApi`),
  which fetches each target URL from the page fake;
* ``serpapi``: SerpApi's Author API fake (`tests/fakes.FakeSerpApi`), JSON built from the
  same profile;

and, as the baseline, the recipe AcadHomepage's crawler runs on plain scholarly 1.7.11,
``search_author_id(id)`` then ``fill(author, sections=["basics", "indices", "counts",
"publications"])``, sent to the same page fake by giving scholarly's own httpx clients a
transport that rebases scholar.google.com onto it (statsbot's `RebaseTransport`), with
scholarly's 1-2 s sleep before each request disabled.

Requests are counted by the servers (what a provider would bill); each fetcher's own
count (`ScholarProfile.requests`) must agree. `page_delay_seconds` is 0 and scholarly's
sleeps are off, so wall times compare the work, not the politeness pauses; they are
local-loopback times, not what a provider's latency would give. Targets checked:

* every fetcher makes ceil(P/100) requests, the minimum (one page or search per 100 papers);
* every fetcher gets all P papers and the same citation counts;
* the scholarly recipe makes 1 + ceil(P/100) (it fetches the first page twice).

Run it from the repository root after the quick start:

    .venv/bin/python bench/scholar_fetchers.py

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes import FakeScraperApi, FakeSerpApi, KeepRawHeaders  # noqa: E402
from scholar_fixtures import make_profile  # noqa: E402

from statsbot.deadline import Deadline  # noqa: E402
from statsbot.demo.server import FakeScholar  # noqa: E402
from statsbot.sources.scholar.chain import FETCHERS  # noqa: E402
from statsbot.sources.scholar.config import ScholarConfig  # noqa: E402
from statsbot.sources.scholar.direct import RebaseTransport  # noqa: E402

SIZES = (20, 137, 500)
SCRAPER_KEY = "bench-scraperapi-key-not-a-secret"
SERP_KEY = "bench-serpapi-key-not-a-secret"
DEADLINE_SECONDS = 120.0
# Only loopback: a proxy from the environment must not carry these requests anywhere.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)


def serve(app: Callable[[Request], Any]):
    # KeepRawHeaders: werkzeug would drop ScraperAPI's `x-sapi-api_key` header (its name has an underscore).
    server = make_server("127.0.0.1", 0, Request.application(app), threaded=True, request_handler=KeepRawHeaders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def import_scholarly() -> None:
    """`import scholarly`, the real package (the test extra has all it imports: Selenium, ...),
    with the environment put back: its `load_dotenv` copies a stray `.env` file into it."""
    saved = dict(os.environ)
    try:
        import scholarly  # noqa: F401
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)


def scholarly_recipe(base_url: str, scholar_id: str) -> dict[str, Any]:
    """AcadHomepage's crawler on plain scholarly, sent to `base_url`, without its sleeps."""
    import_scholarly()  # without its load_dotenv side effect
    from scholarly import _navigator
    from scholarly import scholarly as client

    nav = client._Scholarly__nav  # the singleton Navigator that holds scholarly's two httpx clients
    counter = [0]
    for generator in (nav.pm1, nav.pm2):
        original = getattr(generator, "_bench_original", generator._new_session)
        generator._bench_original = original

        def new_session(original=original, **kwargs: Any):
            kwargs.setdefault("transport", RebaseTransport(base_url, counter, proxies={}))
            return original(**kwargs)

        generator._new_session = new_session  # every client scholarly builds, rebuilt ones included
    nav._session1 = nav.pm1._new_session()
    nav._session2 = nav.pm2._new_session()
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    clock.sleep = lambda seconds: None
    _navigator.time = clock  # scholarly sleeps 1-2 s before every request
    author = client.search_author_id(scholar_id)
    client.fill(author, sections=["basics", "indices", "counts", "publications"])
    author["_requests"] = counter[0]
    return author


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("statsbot").setLevel(logging.ERROR)
    logging.getLogger("scholarly").setLevel(logging.ERROR)
    profiles = {p: make_profile(p, f"BenchUser{p:03d}") for p in SIZES}
    import_scholarly()  # its import (about half a second) is not part of any fetch's time

    rows = []
    failures = []
    with FakeScholar(list(profiles.values())) as scholar:
        scraper = FakeScraperApi(scholar, SCRAPER_KEY)
        scraper_server = serve(scraper)
        serp = FakeSerpApi(SERP_KEY)
        for profile in profiles.values():
            serp.add(profile)
        serp_server = serve(serp)
        serp.base_url = f"http://127.0.0.1:{serp_server.server_port}"
        env = {"SCRAPER_API_KEY": SCRAPER_KEY, "SERPAPI_API_KEY": SERP_KEY}
        counts: dict[str, Callable[[], int]] = {
            "direct": lambda: len(scholar.paths),
            "scraperapi": lambda: len(scraper.requests),
            "serpapi": lambda: len(serp.author_requests()),
        }
        try:
            for p, profile in profiles.items():
                minimum = math.ceil(p / 100)
                settings = ScholarConfig(
                    id=profile["scholar_id"],
                    base_url=scholar.url,
                    scraperapi_url=f"http://127.0.0.1:{scraper_server.server_port}",
                    serpapi_url=serp.base_url,
                    page_delay_seconds=0,
                    deadline_seconds=DEADLINE_SECONDS,
                )
                expected = {f"{profile['scholar_id']}:{pub['pub_id']}": pub["citations"] or 0 for pub in profile["publications"]}
                for name in ("direct", "scraperapi", "serpapi"):
                    before = counts[name]()
                    started = time.perf_counter()
                    got = FETCHERS[name].fetch(settings.model_copy(update={"fetchers": [name]}), env, Deadline(DEADLINE_SECONDS))
                    wall = time.perf_counter() - started
                    made = counts[name]() - before
                    rows.append((p, name, made, minimum, wall))
                    citations = {k: v["num_citations"] for k, v in got.gs_data["publications"].items()}
                    if made != minimum:
                        failures.append(f"P={p} {name}: {made} requests, not ceil(P/100) = {minimum}")
                    if got.requests != made:
                        failures.append(f"P={p} {name}: counted {got.requests} requests, the server saw {made}")
                    if got.metrics.publications != p or citations != expected or got.via != name:
                        failures.append(f"P={p} {name}: the profile differs from the one served")
                    if got.metrics.citations != profile["stats"]["citations"]:
                        failures.append(f"P={p} {name}: citations {got.metrics.citations} != {profile['stats']['citations']}")

                before = len(scholar.paths)
                started = time.perf_counter()
                author = scholarly_recipe(scholar.url, profile["scholar_id"])
                wall = time.perf_counter() - started
                made = len(scholar.paths) - before
                rows.append((p, "baseline: scholarly search_author_id + fill", made, minimum, wall))
                if made != 1 + minimum or author["_requests"] != made:
                    failures.append(f"P={p} scholarly recipe: {made} requests, expected 1 + ceil(P/100) = {1 + minimum}")
                if len(author.get("publications", [])) != p:
                    failures.append(f"P={p} scholarly recipe: {len(author.get('publications', []))} papers, not {p}")
        finally:
            scraper_server.shutdown()
            serp_server.shutdown()

    print("Scholar requests per profile, local fakes on 127.0.0.1 (page_delay_seconds 0, scholarly's sleeps off)")
    print(f"{'P':>4}  {'fetcher':<44} {'requests':>8}  {'ceil(P/100)':>11}  {'wall s':>7}")
    for p, name, made, minimum, wall in rows:
        print(f"{p:>4}  {name:<44} {made:>8}  {minimum:>11}  {wall:>7.3f}")
    print(f"billed by the fakes: ScraperAPI {scraper.charged} successful requests, SerpApi {serp.charged} searches")
    if failures:
        print("TARGETS MISSED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("targets met: each fetcher ceil(P/100) requests and every paper; scholarly's recipe 1 + ceil(P/100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
