"""Benchmark: installing statsbot the plain way (`pip install .`) against the action's way.

Both are built in the same run, each in fresh virtual environments, from the package index:

* before: `python -m venv` + `pip install <repo>` (every dependency pyproject.toml declares,
  and everything they declare: scholarly's Selenium, documentation theme and Sphinx, ...);
* after:  the action's own install scripts, taken from action.yml and run as the action runs
  them: "Install statsbot's dependencies" (a venv + `pip install --no-deps --require-hashes -r
  requirements/action.txt`), then "Install statsbot" (statsbot alone, `--no-deps`).

For each: the environment's size on disk (`du -sk`), the number of installed distributions, the
install time cold (empty pip cache) and warm (a second fresh environment, the pip cache filled by
the cold one). For the action it also times the warm runner's path, where actions/cache restored
the environment and only "Install statsbot" runs. Then the ratios after/before.

The after environment must work: every statsbot module imports, the direct Scholar fetcher reads
a 137-paper profile served on 127.0.0.1 with scholarly's parsers (loaded as statsbot loads them),
and `statsbot --help` runs; the bench fails otherwise.

Run it from the repository root after the quick start (it needs the package index, and pyyaml
from the test extra to read action.yml):

    .venv/bin/python bench/install.py [--python python3.11] [--keep DIR]

It takes a few minutes: four cold or warm installs of about 35 to 70 packages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

CHECK = r"""
import importlib, os, pkgutil, sys, statsbot
names = [m.name for m in pkgutil.walk_packages(statsbot.__path__, "statsbot.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
from scholar_fixtures import make_profile
from statsbot.deadline import Deadline
from statsbot.demo.server import FakeScholar
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.direct import DirectFetcher
profile = make_profile(137, "BenchInstall")
with FakeScholar([profile]) as scholar:
    settings = ScholarConfig(id=profile["scholar_id"], base_url=scholar.url, page_delay_seconds=0, deadline_seconds=30)
    got = DirectFetcher().fetch(settings, {}, Deadline(30))
assert len(got.gs_data["publications"]) == 137 and got.gs_data["citedby"] == profile["stats"]["citations"]
print(len(names), "statsbot modules import; scholarly's parsers read a 137-paper profile from 127.0.0.1")
"""


def action_scripts() -> dict[str, str]:
    steps = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    return {step["name"]: step["run"] for step in steps if "name" in step and "run" in step}


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def run(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def clean_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_NO_CACHE", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["PIP_CACHE_DIR"] = str(cache)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def loopback_env() -> dict[str, str]:
    """The environment without proxies: the check's requests go to 127.0.0.1 only."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}


def plain_install(python: str, venv: Path, cache: Path) -> float:
    """before: a fresh venv and `pip install <repo>` (timed together)."""
    env = clean_env(cache)
    start = time.perf_counter()
    run([python, "-m", "venv", str(venv)], env)
    run([str(bin_dir(venv) / "python"), "-m", "pip", "install", "--quiet", str(REPO)], env)
    return time.perf_counter() - start


def action_env(python: str, venv: Path, cache: Path) -> dict[str, str]:
    return {
        **clean_env(cache),
        "STATSBOT_ACTION_PATH": str(REPO),
        "STATSBOT_PYTHON": shutil.which(python) or python,
        "STATSBOT_VENV": str(venv),
        "STATSBOT_BIN": str(bin_dir(venv)),
    }


def action_install(python: str, venv: Path, cache: Path, *, restored: bool = False) -> float:
    """after: the action's install steps; `restored` = actions/cache had the environment."""
    scripts = action_scripts()
    env = action_env(python, venv, cache)
    start = time.perf_counter()
    if not restored:
        run(["bash", "-c", scripts["Install statsbot's dependencies"]], env)
    run(["bash", "-c", scripts["Install statsbot"]], env)
    return time.perf_counter() - start


def size_mb(venv: Path) -> float:
    if shutil.which("du"):
        out = subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True, check=True).stdout
        return int(out.split()[0]) / 1024
    return sum(p.lstat().st_size for p in venv.rglob("*") if p.is_file()) / 2**20


def distributions(venv: Path) -> list[str]:
    out = subprocess.run(
        [str(bin_dir(venv) / "python"), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [line.split("==")[0].lower() for line in out.splitlines() if "==" in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the Python the environments are made from")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="statsbot-bench-install-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([args.python, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"{version}; building in {root}", flush=True)
    try:
        rows: dict[str, dict[str, float]] = {}
        dists: dict[str, list[str]] = {}
        cold = plain_install(args.python, root / "before-cold", root / "cache-before")
        warm = plain_install(args.python, root / "before-warm", root / "cache-before")
        rows["before"] = {"cold": cold, "warm": warm, "size": size_mb(root / "before-cold")}
        dists["before"] = distributions(root / "before-cold")
        print(f"before: cold {cold:.1f} s, warm {warm:.1f} s", flush=True)

        cold = action_install(args.python, root / "after-cold", root / "cache-after")
        warm = action_install(args.python, root / "after-warm", root / "cache-after")
        restored = action_install(args.python, root / "after-cold", root / "cache-after", restored=True)
        rows["after"] = {"cold": cold, "warm": warm, "restored": restored, "size": size_mb(root / "after-cold")}
        dists["after"] = distributions(root / "after-cold")
        print(f"after:  cold {cold:.1f} s, warm {warm:.1f} s, environment restored {restored:.1f} s", flush=True)

        check = subprocess.run([str(bin_dir(root / "after-cold") / "python"), "-c", CHECK, str(REPO)],
                               capture_output=True, text=True, cwd=root, env=loopback_env())
        if check.returncode != 0:
            sys.exit(f"the action's environment is broken:\n{check.stderr[-3000:]}")
        print("after environment:", check.stdout.strip())
        run([str(bin_dir(root / "after-cold") / "statsbot"), "--help"])

        b, a = rows["before"], rows["after"]
        nb, na = len(dists["before"]), len(dists["after"])
        print()
        print(f"{'':28}{'before':>10}{'after':>10}{'after/before':>14}")
        print(f"{'venv size (MB, du)':28}{b['size']:>10.0f}{a['size']:>10.0f}{a['size'] / b['size']:>14.2f}")
        print(f"{'distributions':28}{nb:>10}{na:>10}{na / nb:>14.2f}")
        print(f"{'install, cold cache (s)':28}{b['cold']:>10.1f}{a['cold']:>10.1f}{a['cold'] / b['cold']:>14.2f}")
        print(f"{'install, warm pip cache (s)':28}{b['warm']:>10.1f}{a['warm']:>10.1f}{a['warm'] / b['warm']:>14.2f}")
        print(f"{'action, venv restored (s)':28}{'':>10}{a['restored']:>10.1f}{a['restored'] / b['warm']:>14.2f}")
        print()
        print("left out by the action:", ", ".join(sorted(set(dists["before"]) - set(dists["after"]))))
        extra = sorted(set(dists["after"]) - set(dists["before"]))
        if extra:
            print("only in the action's environment:", ", ".join(extra))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
