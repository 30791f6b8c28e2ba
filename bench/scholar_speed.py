"""Benchmark: statsbot's Scholar fetch end to end against AcadHomepage's crawler recipe.

Both run in their own fresh process against the same local fake Scholar
(`statsbot.demo.server.FakeScholar`, 127.0.0.1) in the same run, start-up included:

* baseline: the recipe AcadHomepage's crawler runs on plain scholarly 1.7.11,
  ``scholarly.search_author_id(id)`` then ``scholarly.fill(author, sections=["basics",
  "indices", "counts", "publications"])``, its requests rebased onto the fake by a
  transport given to scholarly's own httpx clients (written out in the child, so that
  importing statsbot is not counted against it), scholarly's 1-2 s sleeps off;
* statsbot: ``statsbot run --no-publish`` (the console script, as a user runs it) with
  ``page_delay_seconds = 0``, into a fresh output folder each time, so the pages are
  fetched and parsed and every file is written. ``[charts] enabled = false`` for the
  comparison (the recipe draws nothing); charts on, and a second day whose pages did not
  change (parsed nothing: the pages cache), are shown for reference.

Each figure is the median of N tries (default 5). Target: statsbot within 1.2x of the recipe.

    .venv/bin/python bench/scholar_speed.py [N]

Add ``--profile`` to print where statsbot's time goes (cProfile of one in-process run).
"""

from __future__ import annotations

import os
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

P = 137
UID = "BenchUser137"
TARGET = 1.2
ENV = {k: v for k, v in os.environ.items() if k not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")}
ENV.pop("GOOGLE_SCHOLAR_ID", None)
ENV.pop("STATSBOT_CONFIG", None)
# Bytecode as an installed package has it (pip compiles at install): cached in a folder of
# its own, so that PYTHONDONTWRITEBYTECODE in the environment does not make every child
# process compile statsbot from source (about 50 ms), and the repository stays untouched.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "statsbot-bench-pycache")

# AcadHomepage's crawler on plain scholarly (its main.py without the file writing), sent to
# the fake: every client scholarly builds gets a transport that rebases scholar.google.com.
RECIPE = r"""
import sys, time, types
base = sys.argv[1]
import httpx
from scholarly import scholarly, _navigator

class Rebase(httpx.BaseTransport):
    def __init__(self):
        self._base = httpx.URL(base)
        self._inner = httpx.HTTPTransport()
    def handle_request(self, request):
        url = request.url
        if url.host == "scholar.google.com":
            url = url.copy_with(scheme=self._base.scheme, host=self._base.host, port=self._base.port)
            headers = httpx.Headers(request.headers)
            headers["Host"] = url.netloc.decode("ascii")
            request = httpx.Request(request.method, url, headers=headers, stream=request.stream, extensions=request.extensions)
        return self._inner.handle_request(request)

nav = scholarly._Scholarly__nav
for generator in (nav.pm1, nav.pm2):
    original = generator._new_session
    def new_session(original=original, **kwargs):
        kwargs.setdefault("transport", Rebase())
        return original(**kwargs)
    generator._new_session = new_session
nav._session1 = nav.pm1._new_session()
nav._session2 = nav.pm2._new_session()
clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
clock.sleep = lambda seconds: None
_navigator.time = clock  # scholarly sleeps 1-2 s before every request
author = scholarly.search_author_id(sys.argv[2])
scholarly.fill(author, sections=["basics", "indices", "counts", "publications"])
print(len(author["publications"]), author["citedby"])
"""


def statsbot_command() -> list[str]:
    script = Path(sys.executable).parent / "statsbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "statsbot"]


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    return time.perf_counter() - started, done


def config(folder: Path, url: str, charts: bool) -> Path:
    path = folder / "statsbot.toml"
    path.write_text(
        f'[scholar]\nid = "{UID}"\nbase_url = "{url}"\npage_delay_seconds = 0\n'
        f"[charts]\nenabled = {'true' if charts else 'false'}\n[output]\ndir = \"output\"\n",
        encoding="utf-8",
    )
    return path


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tries = int(args[0]) if args else 5
    root = Path(tempfile.mkdtemp(prefix="statsbot-bench-scholar-"))
    profile = make_profile(P, UID)
    rows: dict[str, list[float]] = {}
    failures: list[str] = []
    statsbot = statsbot_command()
    with FakeScholar([profile]) as scholar:
        plain, charted = root / "plain", root / "charted"
        for folder, charts in ((plain, False), (charted, True)):
            folder.mkdir()
            config(folder, scholar.url, charts)

        def check(name: str, done: subprocess.CompletedProcess[str], expect: str) -> None:
            if done.returncode != 0 or expect not in done.stdout:
                failures.append(f"{name}: exit {done.returncode}: {(done.stdout + done.stderr)[-400:]}")

        timed([sys.executable, "-c", RECIPE, scholar.url, UID], root)  # warm-up: bytecode written, caches filled
        timed([*statsbot, "run", "--no-publish"], plain)
        for _ in range(tries):
            wall, done = timed([sys.executable, "-c", RECIPE, scholar.url, UID], root)
            check("recipe", done, f"{P} {profile['stats']['citations']}")
            rows.setdefault("baseline: scholarly search_author_id + fill (own process)", []).append(wall)

            for folder, name in ((plain, "statsbot run --no-publish, [charts] off"), (charted, "statsbot run --no-publish, charts on")):
                shutil.rmtree(folder / "output", ignore_errors=True)  # a fresh folder: pages parsed, every file written
                wall, done = timed([*statsbot, "run", "--no-publish"], folder)
                check(name, done, f"publications  {P}")
                rows.setdefault(name, []).append(wall)
            # The same pages again on the next run: nothing parsed (the pages cache), charts carried over.
            wall, done = timed([*statsbot, "run", "--no-publish"], plain)
            check("unchanged pages", done, f"publications  {P}")
            rows.setdefault("statsbot run --no-publish, [charts] off, pages unchanged", []).append(wall)

    baseline = statistics.median(rows["baseline: scholarly search_author_id + fill (own process)"])
    print(f"Scholar end to end, P = {P}, local fake Scholar on 127.0.0.1, delays off (median of {tries}, fresh processes)")
    print(f"{'run':<62} {'wall s':>7}  {'vs baseline':>11}")
    for name, walls in rows.items():
        median = statistics.median(walls)
        print(f"{name:<62} {median:>7.3f}  {median / baseline:>10.2f}x")
    ratio = statistics.median(rows["statsbot run --no-publish, [charts] off"]) / baseline
    shutil.rmtree(root, ignore_errors=True)
    if failures:
        print("FAILED:")
        for failure in failures[:5]:
            print(f"  {failure}")
        return 1
    met = ratio <= TARGET
    print(f"target {'met' if met else 'MISSED'}: statsbot (charts off, pages parsed) {ratio:.2f}x the recipe (target <= {TARGET}x)")
    if "--profile" in sys.argv:
        profile_once(profile)
    return 0 if met else 1


def profile_once(profile: dict) -> None:
    """Where one run's time goes, in process (start-up imports included, as the CLI pays them)."""
    import cProfile
    import pstats

    folder = Path(tempfile.mkdtemp(prefix="statsbot-bench-scholar-profile-"))
    with FakeScholar([profile]) as scholar:
        config(folder, scholar.url, False)
        os.chdir(folder)
        profiler = cProfile.Profile()
        profiler.enable()
        from statsbot.cli import main as cli_main

        cli_main(["run", "--no-publish", "-q"])
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
