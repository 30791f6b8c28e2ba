"""The history split by month (history/YYYY-MM.csv): a run reads and rewrites only the
current month's file; earlier months and the single history.csv of earlier versions are
never rewritten and are read, one file at a time, only for the charts that need them."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from gitutil import git, isolated_git_env, make_homepage, tree_files
from helpers import snapshot

from statsbot import history
from statsbot.config import parse_config
from statsbot.deadline import Deadline
from statsbot.publish import Git, GitSnapshot, Publisher
from statsbot.results import ItemResult
from statsbot.runner import fetch_outputs, render, run, settle_outputs
from statsbot.snapshot import FolderSnapshot

BRANCH = "google-scholar-stats"
SVG = "{http://www.w3.org/2000/svg}"
CHART = "charts/huggingface/lab/m/downloads.svg"


def at(month: int, d: int, hour: int = 6) -> datetime:
    return datetime(2026, month, d, hour, 0, tzinfo=timezone.utc)


def hub_config(hub, out):
    return parse_config({"huggingface": {"endpoint": hub.url, "models": ["lab/m"]}, "output": {"dir": str(out)}}, path=None, env={})


def day_run(hub, out, when, downloads):
    hub.add("models", "lab/m", downloads, 2, 1000)
    run(hub_config(hub, out), env={}, now=when)


def chart_points(svg: bytes) -> int:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "data")
    d = next(group.iter(f"{SVG}path")).get("d")
    return len(re.findall(r"[ML]\s*-?[\d.]+\s+-?[\d.]+", d))


def chart_texts(svg: bytes) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text]


def dates(raw: bytes) -> set[str]:
    return {line.split(",", 1)[0] for line in raw.decode().splitlines()[1:]}


class CountingSnapshot(FolderSnapshot):
    """The real output-folder snapshot, recording which history files a render reads."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.history_reads: list[str] = []

    def read(self, relpath: str) -> bytes | None:
        if relpath.startswith("history"):
            self.history_reads.append(relpath)
        return super().read(relpath)


def render_day(hub, out, when, downloads) -> tuple[dict[str, bytes], CountingSnapshot]:
    """The render of one day over a counting snapshot of the output folder (nothing written)."""
    hub.add("models", "lab/m", downloads, 2, 1000)
    loaded = hub_config(hub, out)
    previous = CountingSnapshot(out)
    outputs = fetch_outputs(loaded.config, previous, {}, Deadline(60, name="test"))
    fetched = settle_outputs(loaded.config, outputs, previous, accept_drops=False, now=when)
    files, _ = render(fetched, previous)
    return files, previous


def test_rows_land_in_the_file_of_their_utc_month(hub_api, tmp_path):
    day_run(hub_api, tmp_path, at(10, 31, 23), 100)
    day_run(hub_api, tmp_path, at(11, 1, 0), 120)  # one hour later, the next UTC month
    assert sorted(p for p in snapshot(tmp_path) if p.startswith("history")) == ["history/2026-10.csv", "history/2026-11.csv"]
    assert dates((tmp_path / "history/2026-10.csv").read_bytes()) == {"2026-10-31"}
    assert dates((tmp_path / "history/2026-11.csv").read_bytes()) == {"2026-11-01"}
    assert (tmp_path / "history/2026-11.csv").read_bytes().startswith(b"date,source,item,metric,value\n")
    assert not (tmp_path / "history.csv").exists()


def test_the_first_of_a_month_starts_a_file_and_leaves_the_last_month_byte_identical(hub_api, tmp_path):
    day_run(hub_api, tmp_path, at(10, 30), 100)
    day_run(hub_api, tmp_path, at(10, 31), 110)
    october = (tmp_path / "history/2026-10.csv").read_bytes()
    day_run(hub_api, tmp_path, at(11, 1), 130)
    day_run(hub_api, tmp_path, at(11, 2), 150)
    assert (tmp_path / "history/2026-10.csv").read_bytes() == october
    assert dates((tmp_path / "history/2026-11.csv").read_bytes()) == {"2026-11-01", "2026-11-02"}
    chart = (tmp_path / CHART).read_bytes()
    assert chart_points(chart) == 4  # the chart still draws the whole series, across both months
    assert "150" in chart_texts(chart)


def test_a_legacy_history_csv_is_never_rewritten_and_its_series_is_still_charted(hub_api, tmp_path, caplog):
    legacy = (
        "date,source,item,metric,value\n"
        "2026-10-10,huggingface,lab/m,downloads,40\n"
        "10/11/2026,huggingface,lab/m,downloads,45\n"  # a hand edit: kept as it is, warned about
        "2026-10-12,huggingface,lab/m,downloads,50\n"
    ).encode()
    (tmp_path / "history.csv").write_bytes(legacy)
    with caplog.at_level(logging.WARNING, logger="statsbot.history"):
        day_run(hub_api, tmp_path, at(11, 20), 100)
        day_run(hub_api, tmp_path, at(11, 21), 120)
    assert (tmp_path / "history.csv").read_bytes() == legacy  # never rewritten
    assert dates((tmp_path / "history/2026-11.csv").read_bytes()) == {"2026-11-20", "2026-11-21"}
    assert chart_points((tmp_path / CHART).read_bytes()) == 4  # 10-10, 10-12 from history.csv, 11-20, 11-21
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings.count(
        "history.csv:3: skipped a malformed row (the date '10/11/2026' is not YYYY-MM-DD): 10/11/2026,huggingface,lab/m,downloads,45"
    ) == 1  # read by both runs (each draws the chart), warned about once: the same bytes
    assert "history.csv: malformed rows are left as they are (this file is only read); fix or delete them there" in warnings


def test_the_monthly_file_wins_over_history_csv_for_the_same_day(hub_api, tmp_path):
    (tmp_path / "history.csv").write_bytes(
        b"date,source,item,metric,value\n"
        b"2026-11-19,huggingface,lab/m,downloads,50\n"
        b"2026-11-20,huggingface,lab/m,downloads,9999\n"  # the same day as the monthly file's row below
    )
    day_run(hub_api, tmp_path, at(11, 20), 100)
    chart = (tmp_path / CHART).read_bytes()
    assert chart_points(chart) == 2
    assert "100" in chart_texts(chart) and "9999" not in chart_texts(chart)
    previous = FolderSnapshot(tmp_path)
    name = ("huggingface", "lab/m", "downloads")
    (tmp_path / "history").mkdir(exist_ok=True)
    (tmp_path / "history/2026-10.csv").write_bytes(b"date,source,item,metric,value\n2026-10-05,huggingface,lab/m,downloads,7\n")
    (tmp_path / "history.csv").write_bytes(b"date,source,item,metric,value\n2026-10-05,huggingface,lab/m,downloads,8\n")
    assert history.earlier_series(previous, "2026-11-21", {name}) == {name: [("2026-10-05", 7)]}
    assert history.last_points(previous, "2026-11-21", {name}) == {name: ("2026-10-05", 7)}


def test_malformed_rows_in_this_month_are_kept_at_the_end_and_earlier_months_are_left_alone(hub_api, tmp_path, caplog):
    day_run(hub_api, tmp_path, at(10, 30), 100)
    october = (tmp_path / "history/2026-10.csv").read_bytes() + b"2026-10-31,huggingface,lab/m,downloads,lots\n"
    (tmp_path / "history/2026-10.csv").write_bytes(october)
    day_run(hub_api, tmp_path, at(11, 1), 120)
    november = (tmp_path / "history/2026-11.csv").read_bytes() + b"2026-11-01,huggingface,lab/m,downloads,1.5k\n"
    (tmp_path / "history/2026-11.csv").write_bytes(november)
    with caplog.at_level(logging.WARNING, logger="statsbot.history"):
        day_run(hub_api, tmp_path, at(11, 2), 140)
    assert (tmp_path / "history/2026-10.csv").read_bytes() == october
    lines = (tmp_path / "history/2026-11.csv").read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "2026-11-01,huggingface,lab/m,downloads,1.5k"  # kept verbatim, at the end
    assert "2026-11-02,huggingface,lab/m,downloads,140" in lines
    warned = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("history/2026-11.csv:") and "1.5k" in m for m in warned)
    assert any(m.startswith("history/2026-10.csv:") and "lots" in m for m in warned)  # read for the redrawn chart


def test_charts_are_carried_over_without_reading_earlier_months_when_nothing_changed(hub_api, tmp_path):
    (tmp_path / "history").mkdir(parents=True)
    (tmp_path / "history.csv").write_bytes(b"date,source,item,metric,value\n2026-09-01,huggingface,lab/m,downloads,10\n")
    day_run(hub_api, tmp_path, at(10, 30), 100)
    day_run(hub_api, tmp_path, at(10, 31), 110)
    chart = (tmp_path / CHART).read_bytes()

    # The 1st, same values: no row this month yet, so the last value before it is read (October
    # only: history.csv is older and not needed); the chart is carried over, not drawn.
    files, previous = render_day(hub_api, tmp_path, at(11, 1), 110)
    assert previous.history_reads == ["history/2026-11.csv", "history/2026-10.csv"]
    assert files[CHART] == chart
    run(hub_config(hub_api, tmp_path), env={}, now=at(11, 1))

    # The 2nd, same values: this month's rows decide; no earlier file is read.
    files, previous = render_day(hub_api, tmp_path, at(11, 2), 110)
    assert previous.history_reads == ["history/2026-11.csv"]
    assert files[CHART] == chart

    # A value changes: the chart is drawn from every month, history.csv included.
    files, previous = render_day(hub_api, tmp_path, at(11, 2), 111)
    assert previous.history_reads == ["history/2026-11.csv", "history/2026-10.csv", "history.csv"]
    assert files[CHART] != chart and chart_points(files[CHART]) == 5  # 09-01, 10-30, 10-31, 11-01, 11-02


def test_on_the_data_branch_history_csv_stays_and_earlier_months_are_not_kept_in_memory(hub_api, tmp_path):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)

    def publish(when, downloads):
        hub_api.add("models", "lab/m", downloads, 2, 1000)
        loaded = hub_config(hub_api, site / "output")
        report = run(loaded, env=env, publisher=Publisher(loaded.config.publish, site, env), now=when)
        assert report.publish_error is None

    publish(at(10, 31), 100)
    # A data branch from before the monthly files: someone adds its history.csv.
    editor = tmp_path / "editor"
    git("clone", "--quiet", "--branch", BRANCH, str(remote), str(editor), cwd=tmp_path, env=env)
    legacy = b"date,source,item,metric,value\n2026-10-01,huggingface,lab/m,downloads,60\n"
    (editor / "history.csv").write_bytes(legacy)
    git("add", "history.csv", cwd=editor, env=env)
    git("commit", "--quiet", "-m", "history of an earlier version", cwd=editor, env=env)
    git("push", "--quiet", "origin", BRANCH, cwd=editor, env=env)

    publish(at(11, 1), 130)
    changed = git("diff-tree", "-r", "--no-commit-id", "--name-only", BRANCH, cwd=remote).split()
    assert "history/2026-11.csv" in changed
    assert "history.csv" not in changed and "history/2026-10.csv" not in changed  # never rewritten, never pushed again
    files = tree_files(remote, BRANCH)
    assert files["history.csv"] == legacy
    assert chart_points(files[CHART]) == 3  # 10-01 from history.csv, 10-31, 11-01

    tip = git("rev-parse", BRANCH, cwd=remote)
    branch = GitSnapshot(Git(remote, env), tip)
    name = ("huggingface", "lab/m", "downloads")
    assert history.earlier_series(branch, "2026-12-01", {name}) == {
        name: [("2026-10-01", 60), ("2026-10-31", 100), ("2026-11-01", 130)]
    }
    assert branch._files == {}  # each month read, filtered and let go: no month's bytes kept for the run


@pytest.mark.parametrize("day", ["2026-11-01", "2026-11-30"])
def test_month_file_names_the_utc_month(day):
    assert history.month_file(day) == "history/2026-11.csv"


def test_a_month_read_into_a_bytearray_gives_the_same_answers_as_bytes():
    """`GitSnapshot.read_uncached` fills a bytearray in place: `update` and the readers take it as bytes."""
    raw = b"date,source,item,metric,value\n" + b"".join(
        f"2026-11-{d:02d},github,lab/r{i},stars,{d * 10 + i}\n".encode() for d in range(1, 29) for i in range(400)
    ) + b"2026-11-29,github,lab/r1,stars,lots\n"
    results = [ItemResult(source="github", item="lab/r1", status="ok", metrics={"stars": 999})]
    names = {("github", "lab/r1", "stars"), ("github", "lab/r7", "stars")}
    as_bytes, as_bytearray = (history.update(x, results, "2026-11-30", names) for x in (raw, bytearray(raw)))
    assert (as_bytearray.data, as_bytearray.old, as_bytearray.new) == (as_bytes.data, as_bytes.old, as_bytes.new)
    many = {("github", f"lab/r{i}", "stars") for i in range(20)}  # more than a few series: the other reading path
    for wanted in (names, many):
        assert history._series_in(bytearray(raw), "history/2026-11.csv", wanted) == history._series_in(raw, "x", wanted)
