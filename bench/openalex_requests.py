"""Benchmark: requests the OpenAlex source makes for one author, against a local fake API.

For an author with W = 50, 500 and 3000 works it runs the real fetch
(`statsbot.sources.openalex.fetch_openalex`) against tests/fake_openalex.FakeOpenAlex,
served on 127.0.0.1 by werkzeug's threaded server with 50 ms of added latency per
request, and prints per W: the requests made, the minimum (1 author request +
ceil(W/200) works pages: the empty page that ends OpenAlex's cursor is not asked for),
their ratio and the wall time. It exits 1 if a run made more or fewer requests than the
minimum, or if a work's badge is missing or wrong.

Run it from the repository root after the quick start:

    .venv/bin/python bench/openalex_requests.py

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
from fake_openalex import FakeOpenAlex  # noqa: E402

from statsbot.deadline import Deadline  # noqa: E402
from statsbot.sources.openalex import OpenAlexConfig, fetch_openalex  # noqa: E402

LATENCY = 0.050
SIZES = (50, 500, 3000)
KEY = "bench-key-not-a-secret"
AUTHOR = "A5023888391"


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("statsbot").setLevel(logging.ERROR)
    fake = FakeOpenAlex(key=KEY)
    server = make_server("127.0.0.1", 0, Request.application(fake), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    fake.latency = LATENCY

    rows = []
    failures = []
    try:
        for w in SIZES:
            author = fake.add(AUTHOR, "Ada Lovelace", works=[(i * 7) % 101 for i in range(w)], h_index=10, i10_index=12)
            settings = OpenAlexConfig(authors=[AUTHOR], endpoint=fake.base_url, deadline_seconds=600)
            fake.requests.clear()
            started = time.perf_counter()
            results, files = fetch_openalex(settings, KEY, Deadline(600))
            wall = time.perf_counter() - started
            made = len(fake.requests)
            minimum = 1 + math.ceil(w / 200)
            rows.append((w, made, minimum, wall))
            if results[0].status != "ok":
                failures.append(f"W={w}: {results[0].error}")
                continue
            if made != minimum:
                failures.append(f"W={w}: {made} requests, the minimum is {minimum}")
            badges = files[f"openalex:{AUTHOR}"]
            for work_id, _, _, citations in author["works"]:
                got = badges.get(f"badges/openalex/{AUTHOR}/works/{work_id}.json")
                if got is None or got["message"] != str(citations):
                    failures.append(f"W={w}: the badge of {work_id} is {'missing' if got is None else 'wrong'}")
                    break
            if results[0].metrics["works"] != w:
                failures.append(f"W={w}: works metric {results[0].metrics['works']}")
    finally:
        server.shutdown()

    print(f"OpenAlex source, one author, local fake API with {LATENCY * 1000:.0f} ms latency per request")
    print(f"{'W':>5}  {'requests':>8}  {'minimum':>7}  {'ratio':>5}  {'wall s':>6}")
    for w, made, minimum, wall in rows:
        print(f"{w:>5}  {made:>8}  {minimum:>7}  {made / minimum:>5.2f}  {wall:>6.2f}")
    if failures:
        print("TARGETS MISSED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("targets met: exactly 1 + ceil(W/200) requests per author, every work's badge present and right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
