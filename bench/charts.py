"""Chart drawing time: statsbot.charts (SVG written by statsbot) against the matplotlib version it replaced.

The baseline is statsbot/charts.py as of the newest commit whose version imports matplotlib
(or ``--old-ref REF``), read with ``git show`` into a temporary folder and imported from there,
so both run in this process on this machine. The baseline needs matplotlib:
``.venv/bin/pip install -e '.[bench]'``.

Figures: the first call of each (it includes the imports: matplotlib's for the baseline), then
the median of 20 calls of ``metric_over_time`` on 365 daily points and of ``citations_per_year``
on 20 years, and the ratio new / old.

    .venv/bin/python bench/charts.py
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRIES = 20
POINTS = [((date(2025, 11, 24) + timedelta(days=i)).isoformat(), 1000 + 7 * i + (i * i) % 13) for i in range(365)]
YEARS = {str(y): 40 + 13 * (y - 2006) + (y % 7) * 5 for y in range(2006, 2026)}


def old_source(ref: str | None) -> tuple[str, str]:
    """(ref, text) of the baseline charts.py: `ref`'s, or the newest committed one that imports matplotlib."""
    refs = [ref] if ref else subprocess.run(
        ["git", "log", "--format=%H", "--", "statsbot/charts.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for candidate in refs:
        text = subprocess.run(
            ["git", "show", f"{candidate}:statsbot/charts.py"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
        if ref or "import matplotlib" in text:
            return candidate, text
    raise SystemExit("no committed statsbot/charts.py imports matplotlib: give --old-ref")


def load(path: Path, name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def timed(call) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(module) -> dict[str, float]:  # type: ignore[no-untyped-def]
    line = lambda: module.metric_over_time(POINTS, "GitHub stars", "stars")  # noqa: E731
    bars = lambda: module.citations_per_year(YEARS, "Citations per year")  # noqa: E731
    first = timed(line)
    return {
        "first call (with imports)": first,
        "metric_over_time, 365 points": statistics.median(timed(line) for _ in range(TRIES)),
        "citations_per_year, 20 years": statistics.median(timed(bars) for _ in range(TRIES)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-ref", help="the commit whose statsbot/charts.py is the baseline (default: newest with matplotlib)")
    args = parser.parse_args()
    if importlib.util.find_spec("matplotlib") is None:
        raise SystemExit("the baseline draws with matplotlib: .venv/bin/pip install -e '.[bench]' first")
    ref, text = old_source(args.old_ref)
    with tempfile.TemporaryDirectory() as tmp:
        old_path = Path(tmp) / "charts_old.py"
        old_path.write_text(text, encoding="utf-8")
        old = load(old_path, "charts_old")
        old_figures = measure(old)
    new = load(REPO / "statsbot" / "charts.py", "charts_new")
    new_figures = measure(new)
    print(f"baseline: statsbot/charts.py at {ref[:12]} (matplotlib); new: the working tree's (SVG by statsbot)")
    print(f"{'':32} {'old (s)':>10} {'new (s)':>10} {'new/old':>8}")
    for key, before in old_figures.items():
        after = new_figures[key]
        print(f"{key:32} {before:10.5f} {after:10.5f} {after / before:8.4f}")
    print(f"median of {TRIES} calls each (the first call is one call, before them)")


if __name__ == "__main__":
    main()
