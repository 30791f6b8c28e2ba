"""Benchmark: the day nothing changes, and start-up.

A homepage repository with a bare remote on disk, one Scholar profile (P = 137) on the
local fake Scholar (`statsbot.demo.server.FakeScholar`, 127.0.0.1, no delays), charts on
(the default). Day 1 populates the data branch (a run dated yesterday); day 2 is
``statsbot run`` (the console script, publishing to the bare remote) finding the same
values. Measured in the same run, N times (a fresh repository each time), median:

* day 2's wall time (target: <= 1.0 s, absolute), the modules it imported (matplotlib,
  scholarly's parsers, httpx, requests), the charts it wrote, the files it published;
* baseline: ``git add -A && git commit && git push`` of the same day-2 files in a plain
  checkout of the data branch as day 1 left it;
* ``statsbot --version``, ``statsbot check`` and a config error (``statsbot check`` of a
  file with a bad value) against ``python -c pass`` (target: each under 0.2 s, wall time), each
  also with its CPU time (user + system), which a machine shared with other work changes far
  less than wall time.

    .venv/bin/python bench/nochange.py [N]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from scholar_fixtures import make_profile  # noqa: E402

from statsbot.demo.server import FakeScholar  # noqa: E402
from benchenv import GIT_ENV, PROXY_VARIABLES  # noqa: E402

P = 137
UID = "BenchUser137"
BRANCH = "google-scholar-stats"
DAY_TARGET = 1.0
STARTUP_TARGET = 0.2
ENV = {**{k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}, **GIT_ENV}
for _name in ("GOOGLE_SCHOLAR_ID", "STATSBOT_CONFIG", "GITHUB_ACTIONS"):
    ENV.pop(_name, None)
# Bytecode as an installed package has it (pip compiles at install): cached in a folder of
# its own, so that PYTHONDONTWRITEBYTECODE in the environment does not make every child
# process compile statsbot from source (about 50 ms), and the repository stays untouched.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "statsbot-bench-pycache")

# Day 1, as `statsbot run` would do it, but dated yesterday (the CLI has no date option).
DAY_ONE = """
import argparse
from datetime import datetime, timedelta, timezone
from statsbot import cli, runner
from statsbot.config import load_config
loaded = load_config()
publisher = cli._publisher(argparse.Namespace(branch=None), loaded, push=True)
report = runner.run(loaded, publisher=publisher, now=datetime.now(timezone.utc) - timedelta(days=1))
assert report.published is not None, report.publish_error
"""

# Day 2 as `statsbot run`, then what it imported and wrote (for the figures, not timed).
PROBE = """
import json, sys
from statsbot import cli, runner
reports = []
real = runner.run
runner.run = lambda *a, **k: reports.append(real(*a, **k)) or reports[-1]
code = cli.main(["run", "-q"])
watch = ("matplotlib", "scholarly", "scholarly.author_parser", "bs4", "httpx", "requests", "fake_useragent")
report = reports[0]
print("PROBE " + json.dumps({
    "code": code, "modules": {m: m in sys.modules for m in watch}, "count": len(sys.modules),
    "written": report.written, "published": report.published.describe() if report.published else report.publish_error,
}))
"""


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-1500:]}")
    return done


def git(*args: str, cwd: Path) -> str:
    return run(["git", *args], cwd).stdout.strip()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    run(command, cwd, check=False)
    return time.perf_counter() - started


def statsbot_command() -> list[str]:
    script = Path(sys.executable).parent / "statsbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "statsbot"]


def homepage(root: Path, url: str) -> tuple[Path, Path]:
    remote, site = root / "remote.git", root / "site"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=root)
    git("init", "--quiet", "-b", "main", str(site), cwd=root)
    (site / "index.html").write_text("<h1>homepage</h1>\n", encoding="utf-8")
    (site / ".gitignore").write_text("output/\n", encoding="utf-8")
    git("add", "-A", cwd=site)
    git("commit", "--quiet", "-m", "homepage", cwd=site)
    git("remote", "add", "origin", str(remote), cwd=site)
    git("push", "--quiet", "origin", "main", cwd=site)
    (site / "statsbot.toml").write_text(f'[scholar]\nid = "{UID}"\nbase_url = "{url}"\npage_delay_seconds = 0\n', encoding="utf-8")
    return site, remote


def baseline(root: Path, remote: Path, day_two: Path) -> float:
    """`git add -A && git commit && git push` of day 2's files in a checkout of day 1's data branch."""
    plain = root / "plain"
    git("clone", "--quiet", "--branch", BRANCH, str(remote), str(plain), cwd=root)
    git("push", "--quiet", "--force", "origin", f"HEAD~1:refs/heads/{BRANCH}", cwd=plain)  # back to day 1
    git("reset", "--quiet", "--hard", "HEAD~1", cwd=plain)
    for path in day_two.rglob("*"):
        if path.is_file():
            target = plain / path.relative_to(day_two)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    started = time.perf_counter()
    run(["sh", "-c", "git add -A && git commit --quiet -m 'update stats' && git push --quiet origin HEAD"], plain)
    return time.perf_counter() - started


def main() -> int:
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    statsbot = statsbot_command()
    profile = make_profile(P, UID)
    days: list[float] = []
    plains: list[float] = []
    probe: dict = {}
    with FakeScholar([profile]) as scholar:
        for attempt in range(tries + 1):  # the last one is the probe's, not timed
            root = Path(tempfile.mkdtemp(prefix="statsbot-bench-nochange-"))
            site, remote = homepage(root, scholar.url)
            run([sys.executable, "-c", DAY_ONE], site)
            if attempt == tries:
                done = run([sys.executable, "-c", PROBE], site)
                probe = json.loads(done.stdout.split("PROBE ", 1)[1])
            else:
                days.append(timed([*statsbot, "run", "-q"], site))
                plains.append(baseline(root, remote, site / "output"))
            shutil.rmtree(root, ignore_errors=True)

        startup_root = Path(tempfile.mkdtemp(prefix="statsbot-bench-startup-"))
        (startup_root / "statsbot.toml").write_text(f'[scholar]\nid = "{UID}"\nbase_url = "{scholar.url}"\n', encoding="utf-8")
        (startup_root / "bad.toml").write_text(f'[scholar]\nid = "{UID}"\ntimeout_seconds = -1\n', encoding="utf-8")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "statsbot --version": [*statsbot, "--version"],
            "statsbot check": [*statsbot, "check"],
            "statsbot check (config error)": [*statsbot, "check", "--config", "bad.toml"],
        }
        startup: dict[str, float] = {}
        startup_cpu: dict[str, float] = {}
        for name, cmd in commands.items():
            walls, cpus = [], []
            for _ in range(max(5, 3 * tries)):
                before = children_cpu()
                walls.append(timed(cmd, startup_root))
                cpus.append(children_cpu() - before)
            startup[name], startup_cpu[name] = statistics.median(walls), statistics.median(cpus)
        shutil.rmtree(startup_root, ignore_errors=True)

    day, plain = statistics.median(days), statistics.median(plains)
    modules = probe["modules"]
    charts = [path for path in probe["written"] if path.startswith("charts/")]
    print(f"The day nothing changes: one Scholar profile (P = {P}), charts on, publishing to a bare remote (median of {tries})")
    print(f"  statsbot run, day 2                          {day:7.3f} s   {day / plain:5.2f}x the baseline   (target <= {DAY_TARGET:.1f} s)")
    print(f"  baseline: git add -A && commit && push       {plain:7.3f} s")
    print(f"  files published on day 2: {len(probe['written'])} ({', '.join(probe['written'])}); {probe['published']}")
    print(f"  charts written on day 2: {len(charts)}{' (' + ', '.join(charts) + ')' if charts else ''}")
    print("  imported on day 2: " + ", ".join(f"{name} {'yes' if there else 'no'}" for name, there in modules.items()) + f" ({probe['count']} modules)")
    print("Start-up (median of fresh processes; CPU = user + system, which a busy machine changes far less than wall)")
    base = startup["python -c pass"]
    for name, wall in startup.items():
        print(f"  {name:<34} {wall:7.3f} s   {wall / base:5.2f}x python -c pass   CPU {startup_cpu[name]:.3f} s")
    missed = []
    if day > DAY_TARGET:
        missed.append(f"day 2 took {day:.3f} s (target {DAY_TARGET} s)")
    if modules["matplotlib"] or modules["scholarly"] or modules["scholarly.author_parser"]:
        missed.append("day 2 imported matplotlib or scholarly")
    missed += [f"{name}: {wall:.3f} s (target {STARTUP_TARGET} s)" for name, wall in startup.items() if name != "python -c pass" and wall > STARTUP_TARGET]
    if missed:
        print("targets MISSED: " + "; ".join(missed))
        return 1
    print(f"targets met: day 2 under {DAY_TARGET} s without matplotlib or scholarly; start-up under {STARTUP_TARGET} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
