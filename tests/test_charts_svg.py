"""statsbot.charts writes its SVG itself (standard library only): valid XML, the `data` / `data-YEAR`
ids and values as text, escaped titles, the same bytes for the same data, sensible axes."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from statsbot import charts

SVG = "{http://www.w3.org/2000/svg}"
TITLE = 'Tom & Jerry <lab> "stars" \'x\''


def series(n: int, start: str = "2026-01-01", step: int = 1, value=lambda i: 100 + 3 * i) -> list[tuple[str, int]]:
    first = date.fromisoformat(start)
    return [((first + timedelta(days=i * step)).isoformat(), value(i)) for i in range(n)]


def texts(svg: bytes) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text]


def data_group(svg: bytes) -> ET.Element:
    return next(g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("id") == "data")


def line_points(svg: bytes) -> list[tuple[float, float]]:
    d = next(data_group(svg).iter(f"{SVG}path")).get("d")
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)", d)]


def markers(svg: bytes) -> int:
    return len(list(data_group(svg).iter(f"{SVG}circle")))


def y_ticks(svg: bytes) -> list[str]:
    """A line chart's value-axis labels: its end-anchored texts."""
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("text-anchor") == "end"]


def test_line_chart_is_valid_svg_with_its_data_line_and_last_value():
    svg = charts.metric_over_time(series(30), "GitHub stars", "stars")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 640 260"
    assert (root.get("width"), root.get("height")) == ("640", "260")
    assert svg.startswith(b"<?xml")
    assert len(line_points(svg)) == 30
    assert markers(svg) == 30
    assert "187" in texts(svg)  # the last value, 100 + 3 * 29
    assert {"GitHub stars", "stars"} <= set(texts(svg))
    assert charts.COLOR in svg.decode() and "Segoe UI" in root.get("font-family")


def test_bar_chart_has_a_bar_per_year_with_its_count():
    counts = {"2019": 4, "2021": 17, "2020": 9}
    svg = charts.citations_per_year(counts, "Citations per year")
    root = ET.fromstring(svg)
    bars = [g.get("id") for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("data-")]
    assert bars == ["data-2019", "data-2020", "data-2021"]  # in year order
    assert {"4", "9", "17", "2019", "2020", "2021", "citations", "Citations per year"} <= set(texts(svg))
    heights = {g.get("id"): float(next(g.iter(f"{SVG}rect")).get("height")) for g in root.iter(f"{SVG}g") if g.get("id") in bars}
    assert heights["data-2019"] < heights["data-2020"] < heights["data-2021"]
    rotated = [t for t in root.iter(f"{SVG}text") if t.text == "2019" and t.get("transform")]
    assert rotated == []  # 3 years: upright labels


def test_many_years_rotate_their_labels():
    svg = charts.citations_per_year({str(y): y - 1990 for y in range(2000, 2020)}, "Citations per year")
    labels = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text == "2005"]
    assert labels and all("rotate(-45" in (t.get("transform") or "") for t in labels)


def test_titles_from_data_are_escaped():
    for svg in (charts.metric_over_time(series(3), TITLE, 'a<b>&"c"'), charts.citations_per_year({"2020": 1}, TITLE)):
        raw = svg.decode()
        assert "Tom & Jerry" not in raw and "<lab>" not in raw
        assert "Tom &amp; Jerry &lt;lab&gt; &quot;stars&quot;" in raw
        assert TITLE in texts(svg)  # and it parses back to the title as given
        assert ET.fromstring(svg).find(f"{SVG}title").text == TITLE


def test_same_data_same_bytes():
    assert charts.metric_over_time(series(90), TITLE, "stars") == charts.metric_over_time(series(90), TITLE, "stars")
    counts = {str(y): y for y in range(2010, 2026)}
    assert charts.citations_per_year(counts, "c") == charts.citations_per_year(dict(reversed(counts.items())), "c")
    assert charts.metric_over_time(series(90), TITLE, "stars") != charts.metric_over_time(series(90, value=lambda i: i), TITLE, "stars")


def test_a_flat_series_gets_a_small_range_around_its_value():
    svg = charts.metric_over_time(series(10, value=lambda i: 42), "Flat", "h index")
    ticks = [int(t.replace(",", "")) for t in y_ticks(svg)]
    assert min(ticks) < 42 < max(ticks) and max(ticks) - min(ticks) <= 20
    assert len({y for _, y in line_points(svg)}) == 1


def test_a_single_point_renders_in_the_middle():
    svg = charts.metric_over_time([("2026-11-20", 0)], "One", "likes")
    [(x, _)] = line_points(svg)
    assert 250 < x < 390
    assert "Nov 20" in texts(svg) and "0" in texts(svg)
    assert all(int(t) >= 0 for t in y_ticks(svg))  # a count of 0: no negative ticks


def test_a_two_year_span_gets_month_ticks_with_years():
    svg = charts.metric_over_time(series(730, start="2025-01-01"), "Two years", "stars")
    labels = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("text-anchor") == "middle" and t.text != "stars"]
    assert 3 <= len(labels) <= 8, labels
    assert "Jan 2025" in labels and "Jan 2026" in labels


def test_count_ticks_are_nice_and_never_negative():
    for values in ((0, 1, 1, 2), (3, 5, 8, 13), (1000, 1010, 1200), (98_000, 99_000)):
        svg = charts.metric_over_time(series(len(values), value=lambda i, v=values: v[i]), "t", "c")
        ticks = [int(t.replace(",", "")) for t in y_ticks(svg)]
        assert len(ticks) >= 2 and min(ticks) >= 0, (values, ticks)
        assert min(ticks) <= min(values) and max(ticks) >= max(values)
        step = ticks[1] - ticks[0]
        assert all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False)), ticks
        assert re.fullmatch(r"[125]0*", str(step)), step  # a 1-2-5 step
    near_zero = charts.metric_over_time(series(3, value=lambda i: [5, 40, 60][i]), "t", "c")
    assert "0" in y_ticks(near_zero)  # data close to 0: the axis starts at 0
    far = charts.metric_over_time(series(3, value=lambda i: [1000, 1100, 1200][i]), "t", "c")
    assert "0" not in y_ticks(far)  # far from it: it does not


def test_many_points_have_no_markers():
    svg = charts.metric_over_time(series(400), "Daily", "downloads")
    assert len(line_points(svg)) == 400
    assert markers(svg) == 0
    assert markers(charts.metric_over_time(series(60), "Daily", "downloads")) == 60


def test_charts_draw_with_matplotlib_unimportable():
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from statsbot import charts\n"
        "a = charts.metric_over_time([('2026-11-20', 1), ('2026-11-21', 2)], 't', 'stars')\n"
        "b = charts.citations_per_year({'2025': 3, '2026': 4}, 't')\n"
        "try:\n"
        "    import matplotlib\n"
        "except ImportError:\n"
        "    print('BLOCKED', b'id=\"data\"' in a, b'id=\"data-2026\"' in b)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "BLOCKED True True"
