"""Benchmark: a full daily `statsbot run` that changes files, against git's own commit and push.

N repositories (default 1000) on a fake GitHub API on 127.0.0.1 (latency 0), a homepage
repository with a bare remote on disk. By default the run has a token ($GITHUB_TOKEN, as every
GitHub Actions job has), so statsbot asks GraphQL (50 repositories a request): that is the
path the target is judged on. ``--rest`` runs without a token (one REST request per
repository, as a local run without a token does); the fake then serves 1000 requests, and
the bench also times a plain 16-thread `requests.get` loop against the same fake, to show
how much of the fetch is the fake server itself (werkzeug, threaded, on shared cores). A first run creates the data branch;
then every repository gains a star, and the measured run is the real CLI in a child process,
`statsbot run` (fetch, settle, render, write the output folder, fast-import, push): N badge
files change. The baseline, in the same run: a plain checkout of the data branch as it was
(cloned from a copy of the remote as it was), the same new files copied in, then
`git add -A && git commit && git push`. Target: statsbot <= 2x the baseline.

Beside the wall times, the CPU time (user + system) of each measured command and of every
process it started and waited for (git fast-import and push for statsbot; git add, commit,
push and their helpers for the baseline): on a machine shared with other work it varies far
less than wall time. The target is judged on wall time.

Then the same kind of run once more under cProfile, to show where statsbot's time goes
(start-up and imports, fetch, settle, render, write, publish). ``--no-charts`` turns
``[charts]`` off, to show what the one chart redrawn per run (statsbot.charts' SVG) costs.

    .venv/bin/python bench/fullrun.py
    .venv/bin/python bench/fullrun.py --rest
    .venv/bin/python bench/fullrun.py --no-charts
    .venv/bin/python bench/fullrun.py --repos 3000 --tries 3

It needs the test extra (werkzeug comes with pytest-httpserver) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from fakes import FakeGitHub  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402
from benchenv import GIT_ENV, loopback_only  # noqa: E402

BRANCH = "google-scholar-stats"
loopback_only()
# Where the profile's time is reported: the run's stages (statsbot.runner) and the publish step.
STAGES = (
    ("fetch", "runner.py", "fetch_outputs"),
    ("settle", "runner.py", "settle_outputs"),
    ("render", "runner.py", "render"),
    ("write output folder", "outputs.py", "write_files"),
    ("publish (fast-import, push)", "publish.py", "publish"),
    ("  of which: git fetch of the tip", "publish.py", "snapshot"),
)


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode().strip()


TOKEN = "statsbot-bench-fake-token"  # what the local fake accepts; no real token looks like it
USE_TOKEN = True


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS", "GOOGLE_SCHOLAR_ID")}
    if USE_TOKEN:
        env["GITHUB_TOKEN"] = TOKEN
    return {**env, **GIT_ENV}


def plain_fetch(base_url: str, names: list[str], workers: int = 16) -> float:
    """What the fake alone costs: a plain 16-thread `requests.get` loop over the same REST URLs."""
    import requests

    local = threading.local()

    def get(name: str) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
        return session.get(f"{base_url}/repos/{name}", timeout=30).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(get, names))
    assert set(codes) == {200}, set(codes)
    return time.perf_counter() - started


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far, their children included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {"statsbot": [], "git": []}  # per measured try, beside the wall times


def statsbot_run(site: Path, *prefix: str, cpu: list[float] | None = None) -> float:
    before = children_cpu()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *prefix, "-m", "statsbot", "run"], cwd=site, env=child_env(), capture_output=True)
    wall = time.perf_counter() - started
    if cpu is not None:
        cpu.append(children_cpu() - before)
    if done.returncode != 0:
        raise SystemExit(f"statsbot run exited {done.returncode}: {done.stderr.decode(errors='replace')[-3000:]}")
    return wall


def git_baseline(remote_before: Path, files_tar: bytes, root: Path) -> float:
    """A checkout of the branch as it was, the new files copied in, then add, commit and push."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    bare = root / "remote.git"
    shutil.copytree(remote_before, bare)
    work = root / "work"
    git("clone", "-q", "-b", BRANCH, str(bare), str(work), cwd=root)
    with tarfile.open(fileobj=io.BytesIO(files_tar)) as archive:
        archive.extractall(work, filter="data")
    before = children_cpu()
    started = time.perf_counter()
    subprocess.run(
        "git add -A && git commit -q -m 'update stats' && git push -q origin HEAD",
        shell=True, cwd=work, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
    )
    wall = time.perf_counter() - started
    CPU["git"].append(children_cpu() - before)
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--tries", type=int, default=3, help="measured runs (each after every repository gained a star)")
    parser.add_argument("--rest", action="store_true", help="no token: REST, one request per repository")
    parser.add_argument("--no-charts", action="store_true", help="[charts] enabled = false: no chart drawn (to show what the chart costs)")
    args = parser.parse_args()
    global USE_TOKEN
    USE_TOKEN = not args.rest
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    fake = FakeGitHub(token=TOKEN)
    server = make_server("127.0.0.1", 0, Request.application(fake), threaded=True)
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    names = [f"lab{i % 7}/repo-{i:05d}" for i in range(args.repos)]
    for i, name in enumerate(names):
        fake.add_repo(name, stars=100 + i, forks=i % 50)

    root = Path(tempfile.mkdtemp(prefix="statsbot-fullrun-"))
    remote, site = root / "remote.git", root / "site"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=root)
    git("init", "-q", "-b", "main", str(site), cwd=root)
    repos = ",\n".join(f'  "{name}"' for name in names)
    charts = "[charts]\nenabled = false\n" if args.no_charts else ""
    (site / "statsbot.toml").write_text(f'[github]\napi_url = "{fake.base_url}"\nrepos = [\n{repos}\n]\n{charts}', encoding="utf-8")
    (site / ".gitignore").write_text("output/\n", encoding="utf-8")
    git("add", "-A", cwd=site)
    git("commit", "-qm", "homepage", cwd=site)
    git("remote", "add", "origin", str(remote), cwd=site)
    git("push", "-q", "origin", "main", cwd=site)

    try:
        first = statsbot_run(site)
        ours, theirs, changed = [], [], []
        for _ in range(args.tries):
            before = root / "remote-before.git"
            if before.exists():
                shutil.rmtree(before)
            shutil.copytree(remote, before)
            old_tip = git("rev-parse", BRANCH, cwd=remote)
            for name in names:
                fake.set_stars(name, fake.repos[name.lower()]["stars"] + 1)
            ours.append(statsbot_run(site, cpu=CPU["statsbot"]))
            changed.append(len(git("diff-tree", "-r", "--name-only", "--no-commit-id", old_tip, BRANCH, cwd=remote).splitlines()))
            files_tar = subprocess.run(["git", "archive", "--format=tar", BRANCH], cwd=remote, capture_output=True, check=True).stdout
            theirs.append(git_baseline(before, files_tar, root / "baseline"))
        for name in names:
            fake.set_stars(name, fake.repos[name.lower()]["stars"] + 1)
        profile = root / "run.prof"
        profiled = statsbot_run(site, "-m", "cProfile", "-o", str(profile))
        plain = plain_fetch(fake.base_url, names) if args.rest else None
    finally:
        server.shutdown()

    ours_m, theirs_m = statistics.median(ours), statistics.median(theirs)
    how = ("no token: REST, one request each" if args.rest else "token: GraphQL, 50 a request") + (", charts off" if args.no_charts else "")
    print(f"bench/fullrun.py: N = {args.repos} GitHub repositories (fake API, latency 0; {how}), median of {args.tries}")
    print(f"  first run (creates the branch)                         {first:>6.2f} s")
    print(f"  statsbot run, every repository changed ({statistics.median(changed):.0f} files)   {ours_m:>6.2f} s  "
          f"(tries: {', '.join(f'{x:.2f}' for x in ours)})")
    print(f"  baseline: git add -A && git commit && git push           {theirs_m:>6.2f} s  "
          f"(tries: {', '.join(f'{x:.2f}' for x in theirs)})")
    print(f"  ratio                                                  {ours_m / theirs_m:>6.2f}x  (target <= 2x)")
    ours_c, theirs_c = statistics.median(CPU["statsbot"]), statistics.median(CPU["git"])
    print(f"  CPU (user + system, child processes included): statsbot {ours_c:.2f} s, git {theirs_c:.2f} s, "
          f"ratio {ours_c / theirs_c:.2f}x  (load-independent; the target is on wall time)")
    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    by_name = {}
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, file_end, wanted in STAGES:
            if function == wanted and filename.endswith(file_end) and "statsbot" in filename:
                by_name[label] = max(by_name.get(label, 0.0), cumulative)
    run_total = next((c for (f, _, fn), (_, _, _, c, _) in stats.stats.items() if fn == "cmd_run"), 0.0)  # type: ignore[attr-defined]
    print(f"  where a run's time goes (cProfile of one more such run: {profiled:.2f} s wall, {total:.2f} s profiled):")
    print(f"    start-up before `statsbot run` starts (interpreter, imports)  {total - run_total:>6.2f} s")
    for label, _, _ in STAGES:
        if label in by_name:
            print(f"    {label:<58} {by_name[label]:>6.2f} s")
    if plain is not None:
        print(f"  the fake alone: a plain 16-thread requests.get loop over the same {args.repos} URLs  {plain:>6.2f} s")
    print(f"  the profile: {profile} (python -m pstats)")
    return 0 if ours_m <= 2 * theirs_m else 1


if __name__ == "__main__":
    raise SystemExit(main())
