"""Benchmark: `statsbot.http.run_pool` is O(N).

1. The GitHub source without a token (REST, one request per repository, 16 workers) against
   a local fake API with 50 ms of latency per request, and the baseline measured in the same
   run against the same server: a plain 16-thread loop of ``requests.get`` (a thread pool
   mapping ``requests.get`` over the same URLs). Target: statsbot <= 1.1x the baseline.
2. The pool alone: its CPU time for N calls of 0.2 ms each (a sleep, no network) on one worker, for
   the current `run_pool` and for the earlier loop that waited on every pending future after
   each completion (kept here, verbatim in its algorithm, as the O(N^2) reference).

    .venv/bin/python bench/pool.py                 # N = 3000 for the REST run, 3000 and 6000 for the pool alone
    .venv/bin/python bench/pool.py --earlier       # and the REST run with the earlier loop, for comparison

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes import FakeGitHub  # noqa: E402

from statsbot.deadline import DaemonPool, Deadline  # noqa: E402
from statsbot.http import run_pool  # noqa: E402
from statsbot.sources.github import GitHubConfig, fetch_github  # noqa: E402

LATENCY = 0.050
WORKERS = 16


def serve(fake: FakeGitHub):
    server = make_server("127.0.0.1", 0, Request.application(fake), threaded=True)
    server.request_queue_size = 128  # 16 clients opening connections at once
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def quadratic_pool(work, keys, *, workers: int, deadline: Deadline):  # type: ignore[no-untyped-def]
    """The earlier `run_pool`: every key submitted at once, then `wait` on all pending ones per completion."""
    keys = list(keys)
    results = {}
    pool = DaemonPool(max_workers=max(1, min(workers, len(keys))), thread_name_prefix="bench")
    futures = {pool.submit(work, key): key for key in keys}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=deadline.remaining(), return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    results[futures[future]] = future.result()
                except BaseException as exc:  # noqa: BLE001
                    results[futures[future]] = exc
            if not done and pending:
                break
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown()
    return results


def nap(key: int) -> int:
    time.sleep(0.0002)
    return key


def cpu(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(process CPU seconds, wall seconds) of one call."""
    started_cpu, started = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - started_cpu, time.perf_counter() - started


def rest(n: int, earlier: bool) -> tuple[float, float, int, float | None]:
    fake = FakeGitHub()
    server = serve(fake)
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    names = [f"lab{i % 7}/repo-{i:05d}" for i in range(n)]
    for i, name in enumerate(names):
        fake.add_repo(name, stars=i * 3, forks=i)
    try:
        fake.latency = LATENCY
        urls = [f"{fake.base_url}/repos/{name}" for name in names]

        def get(url: str) -> int:
            response = requests.get(url, timeout=30)
            response.raise_for_status()
            return len(response.content)

        started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as threads:
            list(threads.map(get, urls))
        baseline = time.perf_counter() - started

        settings = GitHubConfig(api_url=fake.base_url, repos=names, deadline_seconds=900, max_workers=WORKERS)
        started = time.perf_counter()
        report = fetch_github(settings, None, {}, Deadline(900))
        ours = time.perf_counter() - started
        ok = sum(1 for r in report.repos if r.status == "ok")
        before = None
        if earlier:  # the same fetch with the earlier O(N^2) loop in place of run_pool
            from statsbot.sources import github

            github.run_pool = quadratic_pool  # type: ignore[assignment]
            try:
                started = time.perf_counter()
                fetch_github(settings, None, {}, Deadline(900))
                before = time.perf_counter() - started
            finally:
                github.run_pool = run_pool
    finally:
        server.shutdown()
    return baseline, ours, ok, before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=3000, help="repositories for the REST run (default 3000)")
    parser.add_argument("--pool", default="3000,6000", help="sizes for the pool alone (default 3000,6000)")
    parser.add_argument("--earlier", action="store_true", help="also time the REST run with the earlier O(N^2) loop")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("statsbot").setLevel(logging.ERROR)
    failures = []

    print("Pool alone: N calls of a 0.2 ms sleep on 1 worker, CPU seconds of the whole process (wall in brackets)")
    print(f"{'N':>6}  {'run_pool (now)':>18}  {'earlier O(N^2) loop':>20}  {'ratio':>7}")
    for n in (int(x) for x in args.pool.split(",")):
        now_cpu, now_wall = cpu(lambda n=n: run_pool(nap, range(n), workers=1, deadline=Deadline(600)))
        old_cpu, old_wall = cpu(lambda n=n: quadratic_pool(nap, range(n), workers=1, deadline=Deadline(600)))
        print(f"{n:>6}  {now_cpu:>8.2f} ({now_wall:>6.2f})  {old_cpu:>9.2f} ({old_wall:>7.2f})  {old_cpu / now_cpu:>6.1f}x")

    print()
    print(f"GitHub REST, N = {args.repos}, {LATENCY * 1000:.0f} ms latency, {WORKERS} workers (same fake server, same run)")
    baseline, ours, ok, before = rest(args.repos, args.earlier)
    print(f"  baseline: {WORKERS}-thread requests.get loop  {baseline:>7.2f} s")
    print(f"  statsbot fetch_github (run_pool)       {ours:>7.2f} s   {ours / baseline:.3f}x the baseline")
    if before is not None:
        print(f"  the same with the earlier O(N^2) loop   {before:>7.2f} s   {before / baseline:.3f}x the baseline")
    if ok != args.repos:
        failures.append(f"only {ok} of {args.repos} repositories fetched")
    if ours > 1.1 * baseline:
        failures.append(f"statsbot {ours:.2f} s > 1.1x the baseline {baseline:.2f} s")
    if failures:
        print("TARGETS MISSED: " + "; ".join(failures))
        return 1
    print("target met: <= 1.1x the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
