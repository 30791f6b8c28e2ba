"""badges/citations.json: one citation count for the page, from the first source in
`[run] citations_from` with a fresh value, under the rules every item follows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import html_response, run_statsbot, write_config
from scholar_fixtures import make_profile
from statsbot.config import parse_config
from statsbot.demo import pages
from statsbot.runner import run

UID = "TestUser01AJ"


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def scholar_only(site, out, **run_rules):
    document = {"scholar": {"id": UID, "base_url": site.url, "page_delay_seconds": 0.0, "retries": 0}, "output": {"dir": str(out)}}
    if run_rules:
        document["run"] = run_rules
    return parse_config(document, path=None, env={})


def page_entry(out):
    return read(out / "stats.json")["sources"]["citations"]["all"]


def test_the_page_count_is_scholars_when_scholar_is_fresh(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(25, UID))
    out = tmp_path / "out"
    run(scholar_only(scholar_site, out), env={})
    badge = read(out / "badges" / "citations.json")
    assert badge["label"] == "citations" and badge["namedLogo"] == "googlescholar"
    assert badge["message"] == str(profile["stats"]["citations"])
    entry = page_entry(out)
    assert entry["from"] == "scholar" and entry["status"] == "ok" and entry["metrics"] == {"citations": profile["stats"]["citations"]}
    assert f"citations,all,citations,{profile['stats']['citations']}" in (out / "history.csv").read_text(encoding="utf-8")


def test_a_blocked_scholar_keeps_the_published_count_and_its_source(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(25, UID))
    out = tmp_path / "out"
    run(scholar_only(scholar_site, out), env={})
    published = (out / "badges" / "citations.json").read_bytes()
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    report = run(scholar_only(scholar_site, out), env={})
    assert (out / "badges" / "citations.json").read_bytes() == published
    entry = page_entry(out)
    assert entry["status"] == "stale" and entry["from"] == "scholar"
    assert entry["metrics"] == {"citations": profile["stats"]["citations"]}
    assert "no source has a fresh citation count: scholar:" in entry["error"]
    assert any(r.source == "citations" and r.status == "stale" for r in report.stale)


def test_a_count_kept_past_stale_after_days_turns_grey_with_the_same_number(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(25, UID))
    out = tmp_path / "out"
    run(scholar_only(scholar_site, out), env={})
    stats = read(out / "stats.json")
    then = (datetime.now(timezone.utc) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for items in stats["sources"].values():
        for entry in items.values():
            entry["fetched_at"] = entry["last_success_at"] = then
    (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    run(scholar_only(scholar_site, out, stale_after_days=7.0), env={})
    badge = read(out / "badges" / "citations.json")
    assert badge["color"] == "lightgrey" and badge["message"] == str(profile["stats"]["citations"])


def test_a_first_run_that_fails_gets_an_error_badge_never_a_zero(scholar_site, tmp_path):
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    out = tmp_path / "out"
    run(scholar_only(scholar_site, out), env={})
    badge = read(out / "badges" / "citations.json")
    assert badge["isError"] is True and badge["message"] == "unavailable"
    assert page_entry(out)["status"] == "error" and page_entry(out)["metrics"] == {}


def test_an_empty_citations_from_writes_no_page_count(scholar_site, tmp_path):
    scholar_site.add(make_profile(5, UID))
    out = tmp_path / "out"
    run(scholar_only(scholar_site, out, citations_from=[]), env={})
    assert not (out / "badges" / "citations.json").exists()
    assert "citations" not in read(out / "stats.json")["sources"]


def test_a_config_with_no_citing_source_writes_no_page_count(github_api, tmp_path):
    github_api.add_repo("alice/tool", 5)
    out = tmp_path / "out"
    document = {"github": {"api_url": github_api.url, "repos": ["alice/tool"]}, "output": {"dir": str(out)}}
    run(parse_config(document, path=None, env={}), env={})
    assert (out / "badges" / "github").is_dir() and not (out / "badges" / "citations.json").exists()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('["github"]', "run.citations_from: 'github' is not a source that counts citations (choose from scholar"),
        ('["scolar"]', "run.citations_from: 'scolar' is not a source that counts citations"),
        ('["scholar", "scholar"]', "run.citations_from: lists the source 'scholar' twice"),
        ('"scholar"', "run.citations_from: must be a valid list"),
    ],
)
def test_a_bad_citations_from_is_a_one_line_config_error(tmp_path, value, problem):
    write_config(tmp_path, f'[scholar]\nid = "{UID}"\n\n[run]\ncitations_from = {value}\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"statsbot: statsbot.toml: {problem}"), line
