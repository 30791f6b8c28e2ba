"""Benchmark: the GitHub source against a local fake API with 50 ms of added latency.

For 10, 100 and 500 repositories it runs the source without a token (REST,
concurrent, conditional), with one (GraphQL, 50 per query), and the baseline, one
plain sequential ``requests.get`` per repository, all in the same run against the
same server. It prints requests made and wall time, and checks the targets:

* with a token, at most ceil(N/50) requests;
* without one, at most N requests on a first run, and at N=100 a wall time at most
  1/5 of the baseline.

Run it from the repository root after the quick start:

    .venv/bin/python bench/github_sources.py

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes import FakeGitHub  # noqa: E402

from statsbot.deadline import Deadline  # noqa: E402
from statsbot.sources.github import GitHubConfig, fetch_github  # noqa: E402

LATENCY = 0.050
SIZES = (10, 100, 500)
TOKEN = "bench-token-not-a-secret"


def serve(fake: FakeGitHub):
    app = Request.application(fake)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("statsbot").setLevel(logging.ERROR)
    fake = FakeGitHub(token=TOKEN)
    server = serve(fake)
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    fake.latency = LATENCY
    names = [f"lab{i % 7}/repo-{i:03d}" for i in range(max(SIZES))]
    for i, name in enumerate(names):
        fake.add_repo(name, stars=i * 3, forks=i)

    rows = []
    failures = []
    try:
        for n in SIZES:
            repos = names[:n]
            settings = GitHubConfig(api_url=fake.base_url, repos=repos, deadline_seconds=600)

            fake.requests.clear()
            started = time.perf_counter()
            for name in repos:
                requests.get(f"{fake.base_url}/repos/{name}", timeout=30).raise_for_status()
            baseline = time.perf_counter() - started
            rows.append((n, "baseline: sequential requests.get", len(fake.requests), baseline, baseline))

            def measure(label: str, token: str | None, cache: dict) -> dict:
                fake.requests.clear()
                started = time.perf_counter()
                report = fetch_github(settings, token, cache, Deadline(600))
                wall = time.perf_counter() - started
                made = len(fake.requests)
                rows.append((n, label, made, wall, baseline))
                ok = sum(1 for r in report.repos if r.status == "ok")
                if ok != n:
                    failures.append(f"N={n} {label}: only {ok} of {n} repositories fetched")
                return {"requests": made, "wall": wall, "cache": report.cache}

            first = measure("no token, first run", None, {})
            measure("no token, second run (ETags)", None, first["cache"])
            graphql = measure("token (GraphQL)", TOKEN, {})
            if graphql["requests"] > math.ceil(n / 50):
                failures.append(f"N={n}: {graphql['requests']} GraphQL requests > ceil(N/50) = {math.ceil(n / 50)}")
            if first["requests"] > n:
                failures.append(f"N={n}: {first['requests']} REST requests > N")
            if n == 100 and first["wall"] > baseline / 5:
                failures.append(f"N=100: REST wall {first['wall']:.2f} s > baseline/5 = {baseline / 5:.2f} s")
    finally:
        server.shutdown()

    print(f"GitHub source, local fake API with {LATENCY * 1000:.0f} ms latency per request")
    print(f"{'N':>4}  {'mode':<34} {'requests':>8}  {'wall s':>7}  {'vs baseline':>11}")
    for n, label, made, wall, baseline in rows:
        print(f"{n:>4}  {label:<34} {made:>8}  {wall:>7.2f}  {wall / baseline:>10.3f}x")
    if failures:
        print("TARGETS MISSED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("targets met: token <= ceil(N/50) requests; no token <= N requests, and <= 1/5 of baseline wall time at N=100")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
