"""The history (history/YYYY-MM.csv, one row per metric per UTC day) and the SVG charts drawn from it."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from helpers import scholar_config, snapshot
from scholar_fixtures import make_profile
from statsbot.config import parse_config
from statsbot.runner import run

UID = "TestUser01AJ"
SVG = "{http://www.w3.org/2000/svg}"


def day(d: int) -> datetime:
    return datetime(2026, 11, d, 6, 0, tzinfo=timezone.utc)


def rows(out):
    """The rows of every monthly history file (history/YYYY-MM.csv), oldest month first."""
    return [
        row for path in sorted((out / "history").glob("*.csv")) for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    ]


def hub_config(hub, out):
    return parse_config({"huggingface": {"endpoint": hub.url, "models": ["lab/m"]}, "output": {"dir": str(out)}}, path=None, env={})


def path_points(svg: bytes) -> int:
    """Vertices of the chart's data line (statsbot.charts writes it as one path inside <g id="data">)."""
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "data")
    d = next(group.iter(f"{SVG}path")).get("d")
    return len(re.findall(r"[ML]\s*-?[\d.]+\s+-?[\d.]+", d))


def test_three_days_three_rows_one_day_one_row(hub_api, tmp_path):
    for d, downloads in ((20, 100), (21, 150), (22, 175)):
        hub_api.add("models", "lab/m", downloads, 2, 1000 + downloads)
        run(hub_config(hub_api, tmp_path), env={}, now=day(d))
    hub_api.add("models", "lab/m", 180, 2, 1180)
    run(hub_config(hub_api, tmp_path), env={}, now=day(22).replace(hour=23))  # same day again: the last run wins

    history = rows(tmp_path)
    downloads = [(r["date"], r["value"]) for r in history if r["metric"] == "downloads"]
    assert downloads == [("2026-11-20", "100"), ("2026-11-21", "150"), ("2026-11-22", "180")]
    for metric in ("downloads", "likes", "downloads_all_time"):
        assert len([r for r in history if r["metric"] == metric]) == 3
    assert list(history[0]) == ["date", "source", "item", "metric", "value"]

    chart = (tmp_path / "charts/huggingface/lab/m/downloads.svg").read_bytes()
    assert path_points(chart) == 3
    texts = [t.text for t in ET.fromstring(chart).iter(f"{SVG}text")]
    assert "180" in texts  # the latest value is written on the chart
    assert path_points((tmp_path / "charts/huggingface/lab/m/downloads-all-time.svg").read_bytes()) == 3


def test_stale_values_are_not_recorded_as_observations(hub_api, tmp_path):
    from fakes import json_response

    hub_api.add("models", "lab/m", 100, 2, 1000)
    run(hub_config(hub_api, tmp_path), env={}, now=day(20))
    hub_api.fail(lambda r: True, *[lambda r: json_response({"error": "x"}, 500)] * 10)
    run(hub_config(hub_api, tmp_path), env={}, now=day(21))
    assert {r["date"] for r in rows(tmp_path)} == {"2026-11-20"}


def test_citations_per_year_chart_and_scholar_history(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(20, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path), now=day(20))
    profile["stats"] = {**profile["stats"], "citations": 99_000}
    run(scholar_config(scholar_site.url, UID, tmp_path), now=day(21))

    per_year = (tmp_path / f"charts/scholar/{UID}/citations-per-year.svg").read_bytes()
    root = ET.fromstring(per_year)
    bars = [g.get("id") for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("data-")]
    assert bars == [f"data-{year}" for year in sorted(profile["cites_per_year"])]
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {str(v) for v in profile["cites_per_year"].values()} <= texts  # every bar is labelled with its count
    assert set(profile["cites_per_year"]) <= texts

    assert path_points((tmp_path / f"charts/scholar/{UID}/citations.svg").read_bytes()) == 2
    citations = [r["value"] for r in rows(tmp_path) if r["metric"] == "citations" and r["source"] == "scholar"]
    assert citations == ["98765", "99000"]


def test_charts_are_byte_stable_so_unchanged_runs_commit_nothing(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 100, 2, 1000)
    run(hub_config(hub_api, tmp_path), env={}, now=day(20))
    first = snapshot(tmp_path)
    (tmp_path / "charts/huggingface/lab/m/downloads.svg").unlink()  # drawn again from the same data
    report = run(hub_config(hub_api, tmp_path), env={}, now=day(20).replace(hour=9))
    assert snapshot(tmp_path) == first
    assert report.written == ["charts/huggingface/lab/m/downloads.svg"]


def test_github_total_history_and_chart(github_api, tmp_path):
    github_api.add_repo("alice/a", 10)
    github_api.add_repo("alice/b", 5)
    loaded = parse_config({"github": {"api_url": github_api.url, "users": ["alice"]}, "output": {"dir": str(tmp_path)}}, path=None, env={})
    run(loaded, env={}, now=day(20))
    github_api.set_stars("alice/a", 12)
    run(loaded, env={}, now=day(21))
    totals = [(r["date"], r["value"]) for r in rows(tmp_path) if (r["source"], r["metric"]) == ("github_total", "stars")]
    assert totals == [("2026-11-20", "15"), ("2026-11-21", "17")]
    assert path_points((tmp_path / "charts/github/stars-total.svg").read_bytes()) == 2
    assert path_points((tmp_path / "charts/github/alice/stars-total.svg").read_bytes()) == 2
    assert not (tmp_path / "charts/github/alice/a").exists()  # per-repository charts are opt-in
    json.loads((tmp_path / "stats.json").read_text())
