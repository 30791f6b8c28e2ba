"""Totals obey the rules single items do (issue 9), on a real data branch and a fake GitHub on 127.0.0.1.

Each test publishes with real git to a bare remote and reads what the homepage would
read: stats.json, the badges and the history (history/YYYY-MM.csv) on the data branch, which must agree.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from conftest import GITHUB_TEST_TOKEN, run_statsbot, write_config
from fakes import json_response
from gitutil import isolated_git_env, make_homepage, tree_files
from statsbot.config import parse_config
from statsbot.publish import Publisher
from statsbot.runner import run

BRANCH = "google-scholar-stats"
DAY1 = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc)
DAY3 = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def home(tmp_path):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    return site, remote, env


def publish(home, document, *, now, env=None, accept_drops=False):
    """One run of statsbot, in-process, committed and pushed to the data branch; returns (report, branch files)."""
    site, remote, git_env = home
    loaded = parse_config({**document, "output": {"dir": str(site / "output")}}, path=None, env={})
    run_env = {**git_env, **(env or {})}
    report = run(loaded, env=run_env, publisher=Publisher(loaded.config.publish, site, run_env), now=now, accept_drops=accept_drops)
    return report, tree_files(remote, BRANCH)


def stats(files):
    return json.loads(files["stats.json"])


def badge(files, path):
    return json.loads(files[f"badges/github/{path}"])


def history(files, source=None, item=None, metric="stars"):
    rows = [row for path in sorted(files) if path.startswith("history/") for row in csv.DictReader(io.StringIO(files[path].decode()))]
    return [
        (r["date"], int(r["value"]))
        for r in rows
        if (source is None or r["source"] == source) and (item is None or r["item"] == item) and r["metric"] == metric
    ]


def github(api, **settings):
    return {"github": {"api_url": api.url, "timeout_seconds": 5.0, "deadline_seconds": 20.0, "retries": 0, **settings}}


def by_item(report):
    return {(r.source, r.item): r for r in report.results}


@pytest.mark.parametrize("env", [{}, {"GITHUB_TOKEN": GITHUB_TEST_TOKEN}], ids=["rest", "graphql"])
def test_a_moved_repository_that_is_also_in_a_users_listing_counts_once(home, github_api, env):
    github_api.add_repo("alice-lab/new-name", 100, 4)
    github_api.add_repo("alice-lab/other", 10, 1)
    github_api.move("alice/old-name", "alice-lab/new-name")
    report, files = publish(home, github(github_api, repos=["alice/old-name"], users=["alice-lab"]), now=DAY1, env=env)

    items = by_item(report)
    assert items[("github", "alice/old-name")].extra["moved_to"] == "alice-lab/new-name"
    assert stats(files)["totals"]["github"] == {"stars": 110, "forks": 5, "repositories": 2}
    assert stats(files)["sources"]["github_total"]["all"]["metrics"]["stars"] == 110
    assert stats(files)["sources"]["github_users"]["alice-lab"]["metrics"]["stars"] == 110
    assert badge(files, "stars-total.json")["message"] == "110"
    assert history(files, "github_total", "all") == [("2026-11-20", 110)]


def test_repository_names_ignore_case_as_on_github(home, github_api):
    github_api.add_repo("alice-lab/A", 5, 1)
    github_api.add_repo("alice-lab/B", 7, 0)
    # An earlier run published the repository under the listing's spelling.
    report, files = publish(home, github(github_api, users=["alice-lab"]), now=DAY1)
    assert "alice-lab/A" in stats(files)["sources"]["github"]

    report, files = publish(home, github(github_api, repos=["Alice-Lab/A"], users=["alice-lab"]), now=DAY2)
    document = stats(files)
    assert document["sources"]["github_users"]["alice-lab"]["metrics"] == {"repositories": 2, "stars": 12, "forks": 1}
    assert document["totals"]["github"] == {"stars": 12, "forks": 1, "repositories": 2}
    # One entry per repository, under the configured spelling; its earlier values were found despite the case.
    assert [name for name in document["sources"]["github"] if name.lower() == "alice-lab/a"] == ["Alice-Lab/A"]
    assert badge(files, "alice-lab/stars-total.json")["message"] == "12"
    assert all(r.status == "ok" for r in report.results)


def test_a_repository_held_back_by_the_gate_keeps_its_old_value_in_every_total(home, github_api):
    github_api.add_repo("carol/big", 1000, 10)
    github_api.add_repo("carol/small", 40, 2)
    github_api.add_repo("dan/tool", 60, 3)
    document = github(github_api, repos=["dan/tool"], users=["carol"])
    publish(home, document, now=DAY1)

    github_api.set_stars("carol/big", 100)  # -90%: a bad answer, held back
    github_api.set_stars("carol/small", 45)
    github_api.set_stars("dan/tool", 61)
    report, files = publish(home, document, now=DAY2)

    items = by_item(report)
    assert items[("github", "carol/big")].status == "stale" and items[("github", "carol/big")].metrics["stars"] == 1000
    assert items[("github", "carol/small")].status == "ok"
    user, total = items[("github_users", "carol")], items[("github_total", "all")]
    assert user.status == "stale" and user.metrics["stars"] == 1045  # 1000 held back + 45 fresh
    assert total.status == "stale" and total.metrics["stars"] == 1106
    document_ = stats(files)
    # stats.json, the badges and the summary all say the same numbers.
    assert document_["sources"]["github_users"]["carol"]["metrics"]["stars"] == 1045
    assert document_["sources"]["github_users"]["carol"]["status"] == "stale"
    assert document_["totals"]["github"]["stars"] == 1106
    assert badge(files, "carol/stars-total.json")["message"] == "1k"
    assert badge(files, "stars-total.json")["message"] == "1.1k"
    assert badge(files, "carol/big/stars.json")["message"] == "1k"
    # history.csv: fresh values only; the held-back repository and the totals that include it add no row.
    assert history(files, "github", "carol/small") == [("2026-11-20", 40), ("2026-11-21", 45)]
    assert history(files, "github", "carol/big") == [("2026-11-20", 1000)]
    assert history(files, "github_users", "carol") == [("2026-11-20", 1040)]
    assert history(files, "github_total", "all") == [("2026-11-20", 1100)]


def test_a_failed_listing_keeps_the_last_good_membership_and_never_resurrects_a_repository(home, github_api):
    for name, stars in (("erin/a", 50), ("erin/b", 50), ("erin/c", 10)):
        github_api.add_repo(name, stars, 1)
    document = github(github_api, users=["erin"], retries=1)
    _, files = publish(home, document, now=DAY1)
    assert stats(files)["sources"]["github_users"]["erin"]["metrics"]["stars"] == 110

    del github_api.repos["erin/c"]  # deleted by its owner
    report, files = publish(home, document, now=DAY2)
    gone = stats(files)["sources"]["github"]["erin/c"]
    assert gone["status"] == "gone" and gone["gone_since"] == "2026-11-21" and "no longer among erin's" in gone["error"]
    assert gone["metrics"] == {"stars": 10, "forks": 1}  # last values kept, not counted
    assert stats(files)["sources"]["github_users"]["erin"]["listing"] == ["erin/a", "erin/b"]
    assert stats(files)["totals"]["github"]["stars"] == 100
    assert all(r.status == "ok" for r in report.results)

    github_api.fail(lambda r: r.path.startswith("/users/"), *[lambda r: json_response({"message": "Bad gateway"}, 502)] * 2)  # the try and its retry
    report, files = publish(home, document, now=DAY3)
    items = by_item(report)
    assert items[("github_users", "erin")].status == "stale" and "HTTP 502" in items[("github_users", "erin")].error
    assert ("github", "erin/c") not in items, items.get(("github", "erin/c"))
    document_ = stats(files)
    assert document_["sources"]["github_users"]["erin"]["metrics"]["stars"] == 100  # not 110
    assert document_["totals"]["github"]["stars"] == 100
    assert document_["sources"]["github"]["erin/c"]["status"] == "gone"
    assert badge(files, "erin/stars-total.json")["message"] == "100"
    assert history(files, "github_users", "erin") == [("2026-11-20", 110), ("2026-11-21", 100)]

    # It comes back: counted again, and no longer marked gone.
    github_api.add_repo("erin/c", 11, 1)
    report, files = publish(home, document, now=DAY3)
    assert stats(files)["sources"]["github"]["erin/c"]["status"] == "ok"
    assert stats(files)["totals"]["github"]["stars"] == 111


def test_a_listing_whose_total_collapses_is_held_back_by_the_drop_gate(home, github_api):
    github_api.page_size = 2
    for i in range(6):
        github_api.add_repo(f"fay/r{i}", 100, 0)
    document = github(github_api, users=["fay"])
    publish(home, document, now=DAY1)

    # GitHub answers only the first page (no Link header): two of six repositories.
    first_page = [github_api.rest_json(github_api.repos[f"fay/r{i}"]) for i in range(2)]
    github_api.fail(lambda r: r.path == "/users/fay/repos", lambda r: json_response(first_page))
    report, files = publish(home, document, now=DAY2)
    items = by_item(report)
    user = items[("github_users", "fay")]
    assert user.status == "stale" and "fell from 600 to 200" in user.error and user.metrics["stars"] == 600
    assert {items[("github", f"fay/r{i}")].status for i in range(2, 6)} == {"stale"}
    assert all(entry["status"] != "gone" for entry in stats(files)["sources"]["github"].values())
    assert stats(files)["totals"]["github"]["stars"] == 600

    # --accept-drops publishes it: the four repositories are gone and the total is 200.
    github_api.fail(lambda r: r.path == "/users/fay/repos", lambda r: json_response(first_page))
    report, files = publish(home, document, now=DAY3, accept_drops=True)
    assert stats(files)["totals"]["github"]["stars"] == 200
    assert {stats(files)["sources"]["github"][f"fay/r{i}"]["status"] for i in range(2, 6)} == {"gone"}


def test_a_first_run_where_every_github_request_fails_publishes_no_total(home, github_api):
    site, remote, env = home
    github_api.add_repo("gus/a", 5)
    github_api.fail(lambda r: True, *[lambda r: json_response({"message": "Server Error"}, 500)] * 20)
    write_config(
        site,
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["gus/a"]\nusers = ["gus"]\nretries = 0\n'
        "[charts]\nenabled = false\n",
    )
    for flags in ((), ("--allow-stale",)):
        result = run_statsbot("run", *flags, cwd=site, env=env)
        assert result.returncode == 3, (flags, result.stdout, result.stderr)
    files = tree_files(remote, BRANCH)
    document = stats(files)
    assert "totals" not in document
    assert document["sources"]["github_total"]["all"]["status"] == "error"
    assert document["sources"]["github_users"]["gus"]["status"] == "error"
    for path in ("stars-total.json", "gus/stars-total.json"):
        assert badge(files, path) == {
            "schemaVersion": 1, "label": "stars", "message": "unavailable", "isError": True,
            "namedLogo": "github", "cacheSeconds": 3600,
        }
    assert history(files, metric="stars") == []  # no 0 rows, no rows at all
    assert "github total:" not in result.stdout
    assert "github_total all: ERROR: no input has a value" in result.stdout


def test_a_missing_field_keeps_its_last_good_value_and_its_gate(home, hub_api):
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    document = {"huggingface": {"endpoint": hub_api.url, "models": ["lab/m"]}}
    _, before = publish(home, document, now=DAY1)

    # The Hub answers without downloadsAllTime.
    partial = {"_id": "0123456789abcdef01234567", "id": "lab/m", "downloads": 5100, "likes": 41}
    hub_api.fail(lambda r: True, lambda r: json_response(partial))
    report, files = publish(home, document, now=DAY2)
    result = report.results[0]
    assert result.status == "ok" and result.metrics == {"downloads": 5100, "likes": 41, "downloads_all_time": 80_000}
    entry = stats(files)["sources"]["huggingface"]["lab/m"]
    assert entry["metrics"]["downloads_all_time"] == 80_000
    assert entry["kept_metrics"] == {"downloads_all_time": stats(before)["sources"]["huggingface"]["lab/m"]["last_success_at"]}
    path = "badges/huggingface/lab/m/downloads-all-time.json"
    assert files[path] == before[path]
    assert json.loads(files["badges/huggingface/lab/m/downloads.json"])["message"] == "5.1k"
    assert history(files, "huggingface", "lab/m", "downloads_all_time") == [("2026-11-20", 80_000)]
    assert history(files, "huggingface", "lab/m", "downloads") == [("2026-11-20", 5000), ("2026-11-21", 5100)]

    # The gate still holds for it: a fall to 10 is held back against the kept value.
    hub_api.add("models", "lab/m", 5200, 41, 10)
    report, files = publish(home, document, now=DAY3)
    assert report.results[0].status == "stale" and "downloads_all_time fell from 80000 to 10" in report.results[0].error
    assert files[path] == before[path]


def test_a_stale_total_turns_grey_after_stale_after_days_with_its_settled_sum(home, github_api):
    github_api.add_repo("hal/a", 30)
    github_api.add_repo("hal/b", 12)
    document = {**github(github_api, users=["hal"]), "run": {"stale_after_days": 0}}
    _, files = publish(home, document, now=DAY1)
    assert badge(files, "hal/stars-total.json")["color"] == "blue"

    github_api.set_stars("hal/b", 13)
    github_api.fail(lambda r: r.path == "/users/hal/repos", lambda r: json_response({"message": "Bad gateway"}, 502))
    report, files = publish(home, document, now=DAY2)
    assert by_item(report)[("github_users", "hal")].status == "stale"
    for path in ("hal/stars-total.json", "stars-total.json"):
        assert badge(files, path)["color"] == "lightgrey" and badge(files, path)["message"] == "42"
