"""badges/citations.json: one citation count for the page, from the first source in
`[run] citations_from` with a fresh value, under the rules every item follows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import OPENALEX_TEST_KEY, S2_TEST_KEY, html_response, run_statsbot, write_config
from fakes import json_response
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
    assert f"citations,all,citations,{profile['stats']['citations']}" in "".join(p.read_text(encoding="utf-8") for p in sorted((out / "history").glob("*.csv")))


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


# --- several citing sources: OpenAlex and Semantic Scholar beside Scholar ---

OA = "A5023888391"
S2 = "1741101"


def every_source(site, openalex, s2, out, **run_rules):
    limits = {"timeout_seconds": 2.0, "deadline_seconds": 6.0, "retries": 0}
    document = {
        "scholar": {"id": UID, "base_url": site.url, "page_delay_seconds": 0.0, "retries": 0},
        "openalex": {"endpoint": openalex.url, "authors": [OA], **limits},
        "semanticscholar": {"endpoint": s2.url, "authors": [S2], **limits},
        "output": {"dir": str(out)},
    }
    if run_rules:
        document["run"] = run_rules
    return parse_config(document, path=None, env={})


KEYS = {"OPENALEX_API_KEY": OPENALEX_TEST_KEY, "S2_API_KEY": S2_TEST_KEY}


def seed(scholar_site, openalex_api, s2_api, *, scholar=True):
    profile = scholar_site.add(make_profile(5, UID)) if scholar else None
    openalex_api.add(OA, "Zoë", works=[40, 30, 20], citations=4_100, h_index=30, i10_index=50)
    s2_api.add_author(S2, "Zoë", citations=5_200, h_index=33, papers=3)
    return profile


def test_when_scholar_is_blocked_the_page_count_comes_from_openalex_and_says_so(scholar_site, openalex_api, s2_api, tmp_path, caplog):
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "out"
    run(every_source(scholar_site, openalex_api, s2_api, out), env=KEYS)
    assert page_entry(out)["from"] == "scholar"
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    run(every_source(scholar_site, openalex_api, s2_api, out), env=KEYS)
    badge = read(out / "badges" / "citations.json")
    assert (badge["label"], badge["message"]) == ("citations (OpenAlex)", "4100")
    assert "namedLogo" not in badge or badge["namedLogo"] is None  # simple-icons has no OpenAlex logo
    entry = page_entry(out)
    assert (entry["status"], entry["from"], entry["metrics"]) == ("ok", "openalex", {"citations": 4_100})
    assert "citations for the page now come from OpenAlex, not scholar" in caplog.text
    # the switch is not a drop: 98765 -> 4100 is published, not held back


def test_the_order_of_citations_from_decides(scholar_site, openalex_api, s2_api, tmp_path):
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "out"
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=["semanticscholar", "scholar"]), env=KEYS)
    badge = read(out / "badges" / "citations.json")
    assert (badge["label"], badge["message"], badge["namedLogo"]) == ("citations (Semantic Scholar)", "5200", "semanticscholar")
    assert page_entry(out)["from"] == "semanticscholar"


def test_with_no_fresh_source_the_published_count_stays(scholar_site, openalex_api, s2_api, tmp_path):
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "out"
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=["openalex", "semanticscholar"]), env=KEYS)
    published = (out / "badges" / "citations.json").read_bytes()
    openalex_api.fail(lambda r: True, *[lambda r: json_response({"error": "boom"}, 500)] * 10)
    s2_api.fail(lambda r: True, *[lambda r: json_response({"message": "boom"}, 500)] * 10)
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=["openalex", "semanticscholar"]), env=KEYS)
    assert (out / "badges" / "citations.json").read_bytes() == published
    entry = page_entry(out)
    assert (entry["status"], entry["from"], entry["metrics"]) == ("stale", "openalex", {"citations": 4_100})
    assert entry["error"].startswith("no source has a fresh citation count: openalex: ")
    assert "; semanticscholar: " in entry["error"]


def test_a_first_run_with_only_kept_values_uses_them_marked_stale(scholar_site, openalex_api, s2_api, tmp_path):
    """Values published before the page count existed (an older statsbot) still give it a number."""
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "out"
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=["openalex"]), env=KEYS)
    stats = read(out / "stats.json")
    del stats["sources"]["citations"]  # as an older statsbot wrote it
    (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    (out / "badges" / "citations.json").unlink()
    openalex_api.fail(lambda r: True, *[lambda r: json_response({"error": "boom"}, 500)] * 10)
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=["openalex"]), env=KEYS)
    entry = page_entry(out)
    assert (entry["status"], entry["from"], entry["metrics"]) == ("stale", "openalex", {"citations": 4_100})
    assert read(out / "badges" / "citations.json")["message"] == "4100"


def test_a_fall_held_back_by_an_items_gate_passes_the_page_to_the_next_source(scholar_site, openalex_api, s2_api, tmp_path):
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "out"
    order = ["openalex", "semanticscholar"]
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=order), env=KEYS)
    openalex_api.add(OA, "Zoë", works=[40, 30, 20], citations=1_000, h_index=30, i10_index=50)  # -76 %: a bad answer
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=order), env=KEYS)
    assert read(out / "stats.json")["sources"]["openalex"][OA]["status"] == "stale"  # held back by its gate
    entry = page_entry(out)
    assert (entry["status"], entry["from"], entry["metrics"]) == ("ok", "semanticscholar", {"citations": 5_200})
    # with --accept-drops the fall is the truth, and OpenAlex (first in the order) gives the count again
    run(every_source(scholar_site, openalex_api, s2_api, out, citations_from=order), env=KEYS, accept_drops=True)
    assert (page_entry(out)["from"], page_entry(out)["metrics"]) == ("openalex", {"citations": 1_000})


def test_several_authors_of_one_person_are_summed(scholar_site, openalex_api, s2_api, tmp_path):
    """One person split in two by OpenAlex: both ids listed, the page shows the sum."""
    seed(scholar_site, openalex_api, s2_api)
    openalex_api.add("A11", "Zoë (split)", works=[5], citations=900, h_index=3, i10_index=1)
    out = tmp_path / "out"
    document = {
        "openalex": {"endpoint": openalex_api.url, "authors": [OA, "A11"], "retries": 0},
        "output": {"dir": str(out)},
    }
    run(parse_config(document, path=None, env={}), env=KEYS)
    assert page_entry(out)["metrics"] == {"citations": 5_000}
    assert read(out / "badges" / "citations.json")["message"] == "5000"


def test_badges_lists_the_new_sources_and_history_and_charts_carry_their_metrics(scholar_site, openalex_api, s2_api, tmp_path):
    seed(scholar_site, openalex_api, s2_api)
    out = tmp_path / "output"
    write_config(tmp_path, f"""[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\nretries = 0
[openalex]\nendpoint = "{openalex_api.url}"\nauthors = ["{OA}"]
[semanticscholar]\nendpoint = "{s2_api.url}"\nauthors = ["{S2}"]
""")
    result = run_statsbot("run", "--no-publish", cwd=tmp_path, env=KEYS)
    assert result.returncode == 0, result.stderr
    history = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "history").glob("*.csv")))
    for row in (f"openalex,{OA},citations,4100", f"openalex,{OA},works,3", f"semanticscholar,{S2},citations,5200",
                f"semanticscholar,{S2},h_index,33", "citations,all,citations,98765"):
        assert row in history, row
    for chart in (f"openalex/{OA}/citations.svg", f"semanticscholar/{S2}/h-index.svg", "citations.svg"):
        assert (out / "charts" / chart).is_file(), chart
    listed = run_statsbot("badges", "--repo", "zoe/site", "--format", "url", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for path in ("badges%2Fcitations.json", f"badges%2Fopenalex%2F{OA}%2Fcitations.json",
                 f"badges%2Fopenalex%2F{OA}%2Fworks%2FW", f"badges%2Fsemanticscholar%2F{S2}%2Fh-index.json"):
        assert path in listed.stdout, path
