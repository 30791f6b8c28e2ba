"""SVG charts for the data branch, written by statsbot itself (standard library only, no plotting library).

The same data always gives the same bytes (no counters, random ids or dates of rendering;
coordinates rounded to two decimals; month names spelled out here, not taken from the
locale), so an unchanged chart never makes a commit. Each chart's data line is the ``<path>``
in ``<g id="data">`` (each bar a ``<g id="data-YEAR">``), and values are written as ``<text>``.
Text is grey and the background transparent, so a chart reads on light and dark pages.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Sequence

COLOR = "#3572a5"
WIDTH, HEIGHT = 640, 260
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
_GRID = "#8c959f"
# Mid-grey text reads on white and on dark pages alike; a page that says which it is gets more contrast.
_STYLE = (
    ".statsbot-chart text{fill:#6e7781}"
    "@media (prefers-color-scheme:light){.statsbot-chart text{fill:#57606a}.statsbot-chart .title{fill:#24292f}}"
    "@media (prefers-color-scheme:dark){.statsbot-chart text{fill:#9198a1}.statsbot-chart .title{fill:#d1d9e0}}"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_X_TICKS = 8
_CHAR = 6.0  # estimated width of one character of 10 px text, for margins
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def still_current(old: Sequence[tuple[str, int]] | None, new: Sequence[tuple[str, int]]) -> bool:
    """Whether a chart of `old` (a metric's points before this run) can stand for `new` (after it).

    True when `new` is `old` again, or `old` followed by days that only repeat its last
    value: a day that changed nothing draws nothing, and the chart is drawn again, with
    every point up to that day, when a value changes.
    """
    if not old or len(new) < len(old) or list(new[: len(old)]) != list(old):
        return False
    last = old[-1][1]
    return all(value == last for _, value in new[len(old):])


# ------------------------------------------------------------------ SVG text


def _esc(text: object) -> str:
    """`text` as XML character data or an attribute value (either quote), minus characters XML 1.0 forbids."""
    s = _NOT_XML.sub("", str(text))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&apos;")


def _n(x: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, never "-0"."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _text(x: float, y: float, content: object, *, anchor: str = "start", size: int = 10, extra: str = "") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>{_esc(content)}</text>'


def _document(title: str, body: list[str]) -> bytes:
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" class="statsbot-chart" font-family="{_esc(FONT)}">',
        f"<title>{_esc(title)}</title>",
        f'<style type="text/css">{_STYLE}</style>',
    ]
    return ("\n".join([*head, *body, "</svg>"]) + "\n").encode("utf-8")


# ------------------------------------------------------------------ scales


def _nice_step(raw: float, integer: bool) -> float:
    """The smallest 1-2-5 step (1, 2, 5, 10, 20, ...) not below `raw`; at least 1 for whole-number data."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        step = m * power
        if step >= raw * (1 - 1e-9):
            break
    return max(step, 1.0) if integer else step


def _y_scale(values: Sequence[float], *, zero: bool) -> tuple[float, float, list[float]]:
    """(low, high, ticks) of a value axis: 1-2-5 ticks, 0 included when the data are near it
    (or always with `zero`), a flat series given a small range around its value, no negative
    tick for data that are all >= 0."""
    integer = all(float(v).is_integer() for v in values)
    lo, hi = float(min(values)), float(max(values))
    if zero or (lo >= 0 and lo <= hi - lo) or (hi <= 0 and -hi <= hi - lo):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if lo == hi:  # a flat series (or all zero): a small range around it
        pad = max(abs(lo) * 0.1, 1.0 if integer else 0.5)
        lo, hi = (lo - pad, lo + pad) if not (lo >= 0 and lo - pad < 0) else (0.0, max(lo + pad, 2 * pad))
    step = _nice_step((hi - lo) / 4, integer)
    low = math.floor(lo / step + 1e-9) * step
    high = math.ceil(hi / step - 1e-9) * step
    if min(values) >= 0:
        low = max(low, 0.0)
    count = int(round((high - low) / step))
    ticks = [low + i * step for i in range(count + 1)]
    return low, high, ticks


def _tick_label(value: float, step: float) -> str:
    if step >= 1 or float(value).is_integer():
        return f"{int(round(value)):,}"
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{value:,.{decimals}f}"


def _month_ticks(first: date, last: date, every: int) -> list[date]:
    ticks, y, m = [], first.year, first.month
    if first.day != 1:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    while date(y, m, 1) <= last:
        if (m - 1) % every == 0:
            ticks.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return ticks


def _x_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Date ticks for [first, last]: days, weeks, months or years, whichever gives at most ~8."""
    span = (last - first).days
    for every in (1, 2, 3, 7, 14):
        if span // every + 1 <= _MAX_X_TICKS:
            days = [first + timedelta(days=i * every) for i in range(span // every + 1)]
            return [(d, f"{_MONTHS[d.month - 1]} {d.day}") for d in days]
    for every in (1, 2, 3, 6):
        months = _month_ticks(first, last, every)
        if len(months) <= _MAX_X_TICKS:  # the year on the first tick and on each January
            return [(d, f"{_MONTHS[d.month - 1]} {d.year}" if i == 0 or d.month == 1 else _MONTHS[d.month - 1]) for i, d in enumerate(months)]
    every = 1
    while (last.year - first.year) // every + 1 > _MAX_X_TICKS:
        every *= 5 if str(every).startswith("2") else 2  # 1, 2, 10, 20, 100, ...
    start = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    return [(date(y, 1, 1), str(y)) for y in range(start, last.year + 1) if y % every == 0]


# ------------------------------------------------------------------ frame


class _Frame:
    """The plot area inside the margins, with its value axis drawn (grid lines, tick labels, label)."""

    def __init__(self, low: float, high: float, ticks: list[float], ylabel: str, *, bottom: float, right: float) -> None:
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        self.labels = [_tick_label(t, step) for t in ticks]
        self.left = 30 + _CHAR * max(len(s) for s in self.labels)
        self.top, self.right, self.bottom = 34.0, WIDTH - right, HEIGHT - bottom
        self.low, self.high, self.ticks, self.ylabel = low, high, ticks, ylabel

    def y(self, value: float) -> float:
        if self.high == self.low:
            return self.bottom
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def axis(self, title: str) -> list[str]:
        out = [_text(8, 18, title, size=13, extra=' font-weight="600" class="title"')]
        lines = "".join(
            f'<line x1="{_n(self.left)}" y1="{_n(self.y(t))}" x2="{_n(self.right)}" y2="{_n(self.y(t))}"/>' for t in self.ticks
        )
        out.append(f'<g stroke="{_GRID}" stroke-opacity="0.35" stroke-width="1" shape-rendering="crispEdges">{lines}</g>')
        out.append(
            f'<line x1="{_n(self.left)}" y1="{_n(self.bottom)}" x2="{_n(self.right)}" y2="{_n(self.bottom)}" '
            f'stroke="{_GRID}" stroke-width="1" shape-rendering="crispEdges"/>'
        )
        out.extend(_text(self.left - 6, self.y(t) + 3.5, label, anchor="end") for t, label in zip(self.ticks, self.labels, strict=True))
        middle = (self.top + self.bottom) / 2
        out.append(_text(14, middle, self.ylabel, anchor="middle", size=11, extra=f' transform="rotate(-90 14 {_n(middle)})"'))
        return out


# ------------------------------------------------------------------ charts


def citations_per_year(counts: dict[str, int], title: str) -> bytes:
    """A bar per year (``<g id="data-YEAR">``), its count written above it; years rotated when more than 12."""
    years = sorted(counts, key=int)
    values = [counts[y] for y in years]
    rotate = len(years) > 12
    low, high, ticks = _y_scale(values or [0], zero=True)
    frame = _Frame(low, high, ticks, "citations", bottom=44 if rotate else 26, right=12)
    body = frame.axis(title)
    band = (frame.right - frame.left) / max(len(years), 1)
    width = band * 0.8
    size = 9 if len(years) <= 20 else 7
    for i, (year, value) in enumerate(zip(years, values, strict=True)):
        x = frame.left + band * i + (band - width) / 2
        top = frame.y(value)
        body.append(
            f'<g id="data-{_esc(year)}"><rect x="{_n(x)}" y="{_n(top)}" width="{_n(width)}" '
            f'height="{_n(frame.bottom - top)}" fill="{COLOR}"/></g>'
        )
        body.append(_text(x + width / 2, top - 3, value, anchor="middle", size=size))
        below = frame.bottom + 14
        if rotate:
            cx = x + width / 2 + 3
            body.append(_text(cx, below, year, anchor="end", extra=f' transform="rotate(-45 {_n(cx)} {_n(below)})"'))
        else:
            body.append(_text(x + width / 2, below, year, anchor="middle"))
    return _document(title, body)


def metric_over_time(points: Sequence[tuple[str, int]], title: str, ylabel: str) -> bytes:
    """A line over dates (the ``<path>`` in ``<g id="data">``), markers up to 60 points, the last value written by the last point."""
    if not points:
        raise ValueError("metric_over_time needs at least one point")
    days = [date.fromisoformat(d) for d, _ in points]
    values = [v for _, v in points]
    low, high, ticks = _y_scale(values, zero=False)
    last_label = str(values[-1])
    frame = _Frame(low, high, ticks, ylabel, bottom=26, right=max(16.0, 10 + _CHAR * len(last_label)))
    body = frame.axis(title)
    first, last = min(days), max(days)
    inner_left, inner_right = frame.left + 20, frame.right - 12

    def x(d: date) -> float:
        if first == last:
            return (inner_left + inner_right) / 2
        return inner_left + (d - first).days / (last - first).days * (inner_right - inner_left)

    for d, label in _x_ticks(first, last):
        tx = x(d)
        body.append(
            f'<line x1="{_n(tx)}" y1="{_n(frame.bottom)}" x2="{_n(tx)}" y2="{_n(frame.bottom + 4)}" stroke="{_GRID}" stroke-width="1"/>'
        )
        body.append(_text(tx, frame.bottom + 15, label, anchor="middle"))
    xy = [(x(d), frame.y(v)) for d, v in zip(days, values, strict=True)]
    d_attr = " ".join(f"{'M' if i == 0 else 'L'}{_n(px)} {_n(py)}" for i, (px, py) in enumerate(xy))
    group = [f'<g id="data"><path d="{d_attr}" fill="none" stroke="{COLOR}" stroke-width="1.5" stroke-linejoin="round"/>']
    if len(points) <= 60:
        group.extend(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="2.5" fill="{COLOR}"/>' for px, py in xy)
    body.append("".join(group) + "</g>")
    lx, ly = xy[-1]
    body.append(_text(lx + 5, max(ly - 5, frame.top - 4), last_label, size=10, extra=' font-weight="600"'))
    return _document(title, body)
