"""Benchmark: a year of daily runs, to show the costs of a run stay flat as history grows.

Fake sources on 127.0.0.1 whose numbers grow a little each day: N repositories on a fake
GitHub REST API (`tests/fakes.FakeGitHub`, no token, latency 0; each day about one in ten
repositories gains a star or a few) and one Google Scholar profile of P papers on a fake
Scholar (the demo's page renderer; each day a few papers gain citations). A homepage
repository with a bare remote on disk; each simulated day is one full `statsbot run`
(fetch, settle, render, write the output folder, fast-import, push) with that day's date
(`statsbot.runner.run(now=...)`), in a fresh child process, so its peak RSS (wait4's
`ru_maxrss`: the largest of statsbot and the git commands it ran; "py MiB" is statsbot's own
process alone) is that day's alone.

Per day it prints: wall time and peak RSS of the run, the size of this month's history file
(history/YYYY-MM.csv: the one a run reads and rewrites) and of all months, the data branch's
size on the remote (`git count-objects -v`: packs + loose objects, as they are, no gc) and
the day's commit (files changed, bytes of the changed files). The summary compares the last
day with the first (ratios).

Running every day of a year at N = 3000 takes hours on a small machine, so `--sample K`
runs days 1..K for real, then jumps: the history on the data branch is carried forward to
day D-K with the rows of the last real day repeated for each day skipped (written in
statsbot's own format, each day in its month's file, one commit), and days D-K+1..D run
for real. The repository then
lacks the skipped days' commits, so the data branch size is only honest without --sample.

    .venv/bin/python bench/daily.py --days 365 --repos 3000 --papers 2000 --sample 2
    .venv/bin/python bench/daily.py --days 365 --repos 100 --papers 200     # every day, a smaller N

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from fakes import FakeGitHub  # noqa: E402
from scholar_fixtures import make_profile  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

from statsbot.demo.pages import PAGE_SIZE, not_found_page, render_profile  # noqa: E402
from statsbot.demo.server import LoopbackServer  # noqa: E402
from benchenv import GIT_ENV, loopback_only  # noqa: E402

BRANCH = "google-scholar-stats"
SCHOLAR_ID = "DailyBench01"
FIRST_DAY = datetime(2026, 1, 1, 6, 0, tzinfo=timezone.utc)
loopback_only()


class Scholar(LoopbackServer):
    """Scholar's profile pages at /citations for one profile; a page is rendered once per day."""

    name = "bench-scholar"

    def __init__(self, profile: dict[str, Any]) -> None:
        super().__init__()
        self.profile = profile
        self._pages: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=UTF-8"}
        if path != "/citations" or query.get("user", [""])[0] != self.profile["scholar_id"]:
            return 404, html, not_found_page().encode()
        key = (int(query.get("cstart", ["0"])[0]), int(query.get("pagesize", [str(PAGE_SIZE)])[0]))
        with self._lock:
            body = self._pages.get(key)
            if body is None:
                body = self._pages[key] = render_profile(self.profile, *key).encode()
        self.received.clear()  # a year of requests need not be kept
        return 200, html, body

    def grow(self, rng: random.Random) -> None:
        with self._lock:
            pubs = self.profile["publications"]
            gained = 0
            for pub in rng.sample(pubs, min(len(pubs), 5)):
                more = rng.randint(1, 4)
                pub["citations"] = (pub["citations"] or 0) + more
                pub["cites"] = pub["cites"] or [str(10**18 + rng.randrange(10**6))]
                gained += more
            self.profile["stats"] = {**self.profile["stats"], "citations": self.profile["stats"]["citations"] + gained}
            self._pages.clear()


def git(*args: str, cwd: Path, input: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, input=input, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode().strip()


def homepage(root: Path, config: str) -> tuple[Path, Path]:
    remote, site = root / "remote.git", root / "site"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=root)
    git("init", "-q", "-b", "main", str(site), cwd=root)
    (site / "statsbot.toml").write_text(config, encoding="utf-8")
    (site / ".gitignore").write_text("output/\n", encoding="utf-8")
    git("add", "-A", cwd=site)
    git("commit", "-qm", "homepage", cwd=site)
    git("remote", "add", "origin", str(remote), cwd=site)
    git("push", "-q", "origin", "main", cwd=site)
    return site, remote


def config_text(names: list[str], github_url: str, scholar_url: str) -> str:
    repos = ",\n".join(f'  "{name}"' for name in names)
    return (
        f'[scholar]\nid = "{SCHOLAR_ID}"\nbase_url = "{scholar_url}"\npage_delay_seconds = 0\nretries = 0\n'
        f"deadline_seconds = 3600\n\n"
        f'[github]\napi_url = "{github_url}"\ndeadline_seconds = 3600\nrepos = [\n{repos}\n]\n\n'
        "[run]\ndeadline_seconds = 7200\n"
    )


def worker(argv: list[str]) -> int:
    """One full `statsbot run` dated `--now` (as `statsbot run` runs it), in this child process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", required=True)
    args = parser.parse_args(argv)
    from statsbot.cli import setup_logging
    from statsbot.config import load_config
    from statsbot.publish import Publisher, find_repository
    from statsbot.runner import run

    setup_logging(0, True)
    loaded = load_config(None)
    repo = find_repository(loaded.config.publish, loaded.base_dir, Path.cwd())
    assert repo is not None
    publisher = Publisher(loaded.config.publish, repo, os.environ)
    report = run(loaded, None, publisher=publisher, now=datetime.fromisoformat(args.now))
    if report.publish_error:
        print(report.publish_error, file=sys.stderr)
        return 1
    changed = report.published.files_changed if report.published else 0
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # statsbot's process alone, without git's
    print(json.dumps({"files_changed": changed, "stale": len(report.stale), "python_rss_mib": own}))
    return 0


def run_day(site: Path, now: datetime, logs: Path, profile: bool = False) -> dict[str, Any]:
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS", "GOOGLE_SCHOLAR_ID")}
    env.update(GIT_ENV)
    started = time.perf_counter()
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, *(["-m", "cProfile", "-o", str(logs / "run.prof")] if profile else []),
             str(Path(__file__).resolve()), "--worker", "--now", now.isoformat()],
            cwd=site, env=env, stdout=out, stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"day {now.date()}: the run exited {process.returncode}:\n{(logs / 'stderr').read_text()[-3000:]}")
    answer = json.loads((logs / "stdout").read_text().strip().splitlines()[-1])
    return {"wall": wall, "rss_mib": usage.ru_maxrss / 1024, **answer}


def month_file(day: datetime) -> str:
    return f"history/{day.date().isoformat()[:7]}.csv"


def branch_figures(remote: Path, now: datetime) -> dict[str, int]:
    counts = dict(line.split(": ", 1) for line in git("count-objects", "-v", cwd=remote).splitlines())
    listing = git("ls-tree", "-r", "-l", BRANCH, "history/", cwd=remote).splitlines()
    sizes = {line.split("\t", 1)[1]: int(line.split()[3]) for line in listing}
    changed = git("diff-tree", "-r", "--no-commit-id", "--root", BRANCH, cwd=remote).splitlines()
    new_blobs = [line.split()[3] for line in changed if line.split()[3] != "0" * 40]
    commit_bytes = 0
    if new_blobs:
        listing = git("cat-file", "--batch-check=%(objectsize)", cwd=remote, input=("\n".join(new_blobs) + "\n").encode())
        commit_bytes = sum(int(x) for x in listing.split())
    return {
        "branch_kib": int(counts["size-pack"]) + int(counts["size"]),
        "packs": int(counts["packs"]),
        "history_bytes": sizes.get(month_file(now), 0),  # this month's file: the one a run reads and rewrites
        "history_total_bytes": sum(sizes.values()),
        "commit_files": len(changed),
        "commit_bytes": commit_bytes,
    }


def carry_history_forward(remote: Path, last_real: datetime, until: datetime, root: Path) -> int:
    """The history on the data branch with the last real day's rows repeated for each day after
    it up to `until` (exclusive), in statsbot's format and in the file of each day's month
    (history/YYYY-MM.csv), committed with git fast-import. Bytes written."""
    last_day = last_real.date().isoformat().encode()
    current = subprocess.run(["git", "cat-file", "blob", f"{BRANCH}:{month_file(last_real)}"], cwd=remote,
                             capture_output=True, check=True).stdout
    tail = [line[len(last_day):] for line in current.splitlines(keepends=True) if line.startswith(last_day)]
    files: dict[str, Path] = {}
    outs: dict[str, Any] = {}
    written = 0
    try:
        day = last_real + timedelta(days=1)
        while day < until:
            path = month_file(day)
            if path not in outs:
                files[path] = root / f"carried-{len(files)}.csv"
                outs[path] = files[path].open("wb")
                outs[path].write(current if path == month_file(last_real) else b"date,source,item,metric,value\n")
            stamp = day.date().isoformat().encode()
            outs[path].write(b"".join(stamp + rest for rest in tail))
            day += timedelta(days=1)
    finally:
        for out in outs.values():
            out.close()
    tip = git("rev-parse", BRANCH, cwd=remote)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=remote, stdin=subprocess.PIPE, env={**os.environ, **GIT_ENV})
    assert importer.stdin is not None
    importer.stdin.write(
        f"commit refs/heads/{BRANCH}\ncommitter bench <bench@example.test> {int(time.time())} +0000\n"
        f"data 24\nbench: history carried\n\nfrom {tip}\n".encode()
    )
    for path, local in files.items():
        size = local.stat().st_size
        written += size
        importer.stdin.write(f"M 100644 inline {path}\ndata {size}\n".encode())
        with local.open("rb") as source:
            while chunk := source.read(1 << 20):
                importer.stdin.write(chunk)
        importer.stdin.write(b"\n")
        local.unlink()
    importer.stdin.write(b"done\n")
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed while carrying the history forward")
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repos", type=int, default=3000)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=0, help="run days 1..K and D-K+1..D, carrying the history across the gap")
    parser.add_argument("--keep", type=Path, help="keep the repositories here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--profile", action="store_true", help="run each day under cProfile (logs/day-NNN/run.prof; slower)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    rng = random.Random(args.seed)

    fake = FakeGitHub()
    server = make_server("127.0.0.1", 0, Request.application(fake), threaded=True)
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    names = [f"lab{i % 7}/repo-{i:05d}" for i in range(args.repos)]
    for name in names:
        fake.add_repo(name, stars=rng.randint(0, 5000), forks=rng.randint(0, 300))
    profile = make_profile(args.papers, SCHOLAR_ID, seed=args.seed)
    scholar = Scholar(profile).__enter__()  # serves until the bench ends (a daemon thread)

    days = list(range(1, args.days + 1))
    if args.sample and 2 * args.sample < args.days:
        days = list(range(1, args.sample + 1)) + list(range(args.days - args.sample + 1, args.days + 1))
    root = args.keep or Path(tempfile.mkdtemp(prefix="statsbot-daily-"))
    root.mkdir(parents=True, exist_ok=True)
    site, remote = homepage(root, config_text(names, fake.base_url, scholar.url))
    print(f"bench/daily.py: N = {args.repos} repositories, one profile of P = {args.papers} papers, "
          f"{args.days} days" + (f", sampled: days {days[0]}..{args.sample} and {args.days - args.sample + 1}..{args.days}"
                                  if len(days) < args.days else ", every day") + f"; in {root}")
    print(f"{'day':>4} {'date':>10} {'wall s':>7} {'RSS MiB':>8} {'py MiB':>7} {'month KiB':>10} {'history KiB':>12} {'branch KiB':>11} {'packs':>5} "
          f"{'files':>6} {'commit KiB':>11}")
    rows = []
    previous_day = 0
    try:
        for day in days:
            now = FIRST_DAY + timedelta(days=day - 1)
            if previous_day and day != previous_day + 1:
                size = carry_history_forward(remote, FIRST_DAY + timedelta(days=previous_day - 1), now, root)
                print(f"     (history carried forward over days {previous_day + 1}..{day - 1}: {size / 1024:.0f} KiB written)")
            for name in names:
                if rng.random() < 0.1:
                    fake.set_stars(name, fake.repos[name.lower()]["stars"] + rng.randint(1, 3))
            scholar.grow(rng)
            figures = run_day(site, now, root / "logs" / f"day-{day:03d}", args.profile)
            figures.update(branch_figures(remote, now))
            figures["day"] = day
            rows.append(figures)
            print(f"{day:>4} {now.date().isoformat():>10} {figures['wall']:>7.2f} {figures['rss_mib']:>8.1f} "
                  f"{figures['python_rss_mib']:>7.1f} "
                  f"{figures['history_bytes'] / 1024:>10.0f} {figures['history_total_bytes'] / 1024:>12.0f} {figures['branch_kib']:>11} {figures['packs']:>5} "
                  f"{figures['commit_files']:>6} {figures['commit_bytes'] / 1024:>11.1f}", flush=True)
            previous_day = day
    finally:
        server.shutdown()
    first, last = rows[0], rows[-1]
    print(f"summary: day {last['day']} against day {first['day']}: wall {last['wall']:.2f} s / {first['wall']:.2f} s = "
          f"{last['wall'] / first['wall']:.2f}x; peak RSS {last['rss_mib']:.0f} / {first['rss_mib']:.0f} MiB = "
          f"{last['rss_mib'] / first['rss_mib']:.2f}x (statsbot's process alone {last['python_rss_mib']:.0f} / "
          f"{first['python_rss_mib']:.0f} MiB = {last['python_rss_mib'] / first['python_rss_mib']:.2f}x); this month's history file {last['history_bytes'] / 1024:.0f} KiB, all months "
          f"{last['history_total_bytes'] / 1024:.0f} KiB; "
          f"data branch {last['branch_kib']} KiB")
    if len(rows) > 2:  # day 1 publishes every file: the steady state is day 2 on
        second = rows[1]
        print(f"         day {last['day']} against day {second['day']} (the first day that only updates): "
              f"wall {last['wall'] / second['wall']:.2f}x; peak RSS {last['rss_mib'] / second['rss_mib']:.2f}x, "
              f"statsbot's process alone {last['python_rss_mib'] / second['python_rss_mib']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
