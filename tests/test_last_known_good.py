"""Last known good values: stale items, grey badges, error badges, the drop gate, the run deadline."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import html_response, run_statsbot, write_config
from fakes import json_response
from helpers import scholar_config, snapshot
from scholar_fixtures import make_profile
from statsbot.config import parse_config
from statsbot.demo import pages
from statsbot.runner import run

UID = "TestUser01AJ"


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def hub_config(hub, out, **run_rules):
    document = {"huggingface": {"endpoint": hub.url, "models": ["lab/m", "lab/n"]}, "output": {"dir": str(out)}}
    if run_rules:
        document["run"] = run_rules
    return parse_config(document, path=None, env={})


def age_last_success(out, days):
    """Pretend the published values were last fetched `days` ago."""
    stats_path = out / "stats.json"
    stats = read(stats_path)
    then = (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for items in stats["sources"].values():
        for entry in items.values():
            entry["fetched_at"] = entry["last_success_at"] = then
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    return then


@pytest.mark.parametrize("days_old, grey", [(3, False), (10, True)])
def test_stale_badges_keep_their_number_and_turn_grey_after_stale_after_days(hub_api, tmp_path, days_old, grey):
    hub_api.add("models", "lab/m", 1500, 3, 20_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    run(hub_config(hub_api, tmp_path), env={})
    then = age_last_success(tmp_path, days_old)
    before = snapshot(tmp_path)

    hub_api.fail(lambda r: "lab/m" in r.path, *[lambda r: json_response({"error": "boom"}, 500)] * 10)
    report = run(hub_config(hub_api, tmp_path, stale_after_days=7), env={})
    stale = {r.item: r for r in report.results}["lab/m"]
    assert stale.status == "stale" and stale.last_success_at == then
    after = snapshot(tmp_path)
    for name in ("downloads.json", "downloads-all-time.json", "likes.json"):
        path = f"badges/huggingface/lab/m/{name}"
        old, new = json.loads(before[path]), json.loads(after[path])
        if grey:
            assert new == {**old, "color": "lightgrey"}  # same number, grey
        else:
            assert after[path] == before[path]  # byte for byte
    entry = read(tmp_path / "stats.json")["sources"]["huggingface"]["lab/m"]
    assert entry["status"] == "stale" and entry["last_success_at"] == then and entry["metrics"]["downloads"] == 1500
    assert "HTTP 500" in entry["error"]


def test_a_big_drop_is_held_back_unless_accepted(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(120, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    before = snapshot(tmp_path)

    profile["stats"] = {**profile["stats"], "citations": 12}  # a broken page: 98765 -> 12
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    result = report.results[0]
    assert result.status == "stale"
    assert "citations fell from 98765 to 12 (-100%), more than max_drop_percent 20: held back" in result.error
    after = snapshot(tmp_path)
    assert {p: b for p, b in after.items() if p != "stats.json"} == {p: b for p, b in before.items() if p != "stats.json"}
    assert read(tmp_path / "stats.json")["sources"]["scholar"][UID]["metrics"]["citations"] == 98765

    accepted = run(scholar_config(scholar_site.url, UID, tmp_path), accept_drops=True)
    assert accepted.results[0].status == "ok"
    assert read(tmp_path / "gs_data.json")["citedby"] == 12


def test_publication_count_drop_and_small_drops(scholar_site, tmp_path):
    scholar_site.add(make_profile(120, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    scholar_site.add(make_profile(60, UID))  # half the papers vanished
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert "publications fell from 120 to 60 (-50%)" in report.results[0].error
    scholar_site.add(make_profile(110, UID))  # -8%: within the limit
    assert run(scholar_config(scholar_site.url, UID, tmp_path)).results[0].status == "ok"


def test_drop_gate_for_stars_and_all_time_downloads_not_monthly(github_api, hub_api, tmp_path):
    github_api.add_repo("alice/a", 1000, 5)
    hub_api.add("models", "lab/m", 5000, 3, 90_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    document = {
        "github": {"api_url": github_api.url, "repos": ["alice/a"]},
        "huggingface": {"endpoint": hub_api.url, "models": ["lab/m", "lab/n"]},
        "output": {"dir": str(tmp_path)},
        "run": {"max_drop_percent": 30},
    }
    run(parse_config(document, path=None, env={}), env={})
    github_api.set_stars("alice/a", 600)  # -40%
    hub_api.add("models", "lab/m", 100, 3, 90_500)  # monthly downloads fall 98%: normal, not gated
    hub_api.add("models", "lab/n", 10, 1, 50)  # all-time downloads fall 50%: impossible, gated
    report = run(parse_config(document, path=None, env={}), env={})
    status = {r.item: r.status for r in report.results}
    assert status == {"alice/a": "stale", "lab/m": "ok", "lab/n": "stale", "all": "stale"}
    assert read(tmp_path / "badges/github/alice/a/stars.json")["message"] == "1k"
    assert read(tmp_path / "badges/huggingface/lab/m/downloads.json")["message"] == "100"


def test_the_run_deadline_bounds_a_slow_source_and_the_rest_still_publishes(hub_api, silent_server, tmp_path):
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(
        tmp_path,
        f'[scholar]\nid = "{UID}"\nbase_url = "{silent_server}"\ntimeout_seconds = 60\ndeadline_seconds = 120\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n'
        '[run]\ndeadline_seconds = 3\n',
    )
    started = time.monotonic()
    result = run_statsbot("run", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert elapsed < 3 + 6  # the run deadline, plus interpreter start and imports
    assert f"scholar {UID}: ERROR: the run's deadline of 3 s reached" in result.stdout
    assert read(tmp_path / "output/badges/huggingface/lab/m/downloads.json")["message"] == "7"


def test_exit_codes_for_stale_runs(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n')
    assert run_statsbot("run", cwd=tmp_path).returncode == 0
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    stale = run_statsbot("run", cwd=tmp_path)
    assert stale.returncode == 3
    assert f"scholar {UID}: STALE: Google Scholar served a captcha page" in stale.stdout
    assert run_statsbot("run", "--allow-stale", cwd=tmp_path).returncode == 0
