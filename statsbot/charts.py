"""SVG charts for the data branch, drawn with matplotlib (without pyplot, so no GUI backend).

The same data always gives the same bytes (fixed SVG id salt, no date in the
metadata, text kept as text), so an unchanged chart never makes a commit. Each
chart's data line carries the id ``data`` (each bar ``data-YEAR``), and values are written as text.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Sequence

_STYLE = {
    "svg.hashsalt": "statsbot",
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLOR = "#3572a5"


def still_current(old: Sequence[tuple[str, int]] | None, new: Sequence[tuple[str, int]]) -> bool:
    """Whether a chart of `old` (a metric's points before this run) can stand for `new` (after it).

    True when `new` is `old` again, or `old` followed by days that only repeat its last
    value: a day that changed nothing draws nothing (matplotlib is not even imported), and
    the chart is drawn again, with every point up to that day, when a value changes.
    """
    if not old or len(new) < len(old) or list(new[: len(old)]) != list(old):
        return False
    last = old[-1][1]
    return all(value == last for _, value in new[len(old):])


def _render(draw) -> bytes:  # type: ignore[no-untyped-def]
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 2.6))
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        draw(axes)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def citations_per_year(counts: dict[str, int], title: str) -> bytes:
    years = sorted(counts, key=int)
    values = [counts[y] for y in years]

    def draw(axes) -> None:  # type: ignore[no-untyped-def]
        bars = axes.bar(years, values, color=COLOR)
        for year, bar in zip(years, bars, strict=True):
            bar.set_gid(f"data-{year}")
        axes.bar_label(bars, labels=[str(v) for v in values], fontsize=7, padding=1)
        axes.set_title(title, loc="left")
        axes.set_ylabel("citations")
        axes.tick_params(axis="x", labelrotation=45 if len(years) > 12 else 0)

    return _render(draw)


def metric_over_time(points: Sequence[tuple[str, int]], title: str, ylabel: str) -> bytes:
    days = [date.fromisoformat(d) for d, _ in points]
    values = [v for _, v in points]

    def draw(axes) -> None:  # type: ignore[no-untyped-def]
        axes.plot(days, values, color=COLOR, marker="o" if len(points) <= 60 else None, markersize=3, gid="data")
        axes.annotate(str(values[-1]), (days[-1], values[-1]), textcoords="offset points", xytext=(4, 4), fontsize=8)
        axes.set_title(title, loc="left")
        axes.set_ylabel(ylabel)
        axes.figure.autofmt_xdate()

    return _render(draw)
