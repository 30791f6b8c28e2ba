"""Benchmark: requests the Semantic Scholar source makes, against a local fake Graph API.

For one author with P = 50, 500 and 3000 papers it runs the real fetch
(`statsbot.sources.semanticscholar.fetch_semanticscholar`) against the fake
(tests/fake_semanticscholar.py) on 127.0.0.1, with 50 ms of added latency per request,
and prints per P the requests made, the minimum (1 batch + ceil(P/1000) paper pages),
their ratio and the wall time. It exits nonzero when a run makes more (or fewer) requests
than the minimum, or when a paper's badge is missing or wrong.

Run it from the repository root after the quick start:

    .venv/bin/python bench/semanticscholar_requests.py

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_semanticscholar import FakeSemanticScholar  # noqa: E402

from statsbot.deadline import Deadline  # noqa: E402
from statsbot.sources.base import item_key  # noqa: E402
from statsbot.sources.semanticscholar import SemanticScholarConfig, fetch_semanticscholar  # noqa: E402

LATENCY = 0.050
SIZES = (50, 500, 3000)
AUTHOR = "1741101"


def serve(fake: FakeSemanticScholar):
    server = make_server("127.0.0.1", 0, Request.application(fake), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("statsbot").setLevel(logging.ERROR)
    fake = FakeSemanticScholar()
    server = serve(fake)
    url = f"http://127.0.0.1:{server.server_port}"
    fake.latency = LATENCY
    rows = []
    failures = []
    try:
        for p in SIZES:
            papers = fake.add_author(AUTHOR, "Andrew Y. Ng", citations=10 * p, h_index=p // 10, papers=p)
            settings = SemanticScholarConfig(authors=[AUTHOR], endpoint=url, deadline_seconds=600)
            fake.requests.clear()
            started = time.perf_counter()
            results, files = fetch_semanticscholar(settings, None, Deadline(600))
            wall = time.perf_counter() - started
            made = len(fake.requests)
            minimum = 1 + math.ceil(p / 1000)
            rows.append((p, made, minimum, wall))
            if results[0].status != "ok":
                failures.append(f"P={p}: {results[0].error}")
                continue
            if made != minimum:
                failures.append(f"P={p}: {made} requests, the minimum is {minimum}")
            badges = files[item_key("semanticscholar", AUTHOR)]
            base = f"badges/semanticscholar/{AUTHOR}/papers"
            missing = [x for x in papers if badges.get(f"{base}/{x['paperId']}.json", {}).get("message") != str(x["citationCount"])]
            extra = len([k for k in badges if k.startswith(base)]) - len(papers)
            if missing or extra:
                failures.append(f"P={p}: {len(missing)} papers missing or wrong, {max(extra, 0)} unexpected")
    finally:
        server.shutdown()

    print(f"Semantic Scholar source, one author, local fake API with {LATENCY * 1000:.0f} ms latency per request")
    print(f"{'P':>5}  {'requests':>8}  {'minimum':>7}  {'ratio':>5}  {'wall s':>6}")
    for p, made, minimum, wall in rows:
        print(f"{p:>5}  {made:>8}  {minimum:>7}  {made / minimum:>5.2f}  {wall:>6.2f}")
    if failures:
        print("TARGETS MISSED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("targets met: exactly 1 batch + ceil(P/1000) paper requests, every paper's badge present and right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
