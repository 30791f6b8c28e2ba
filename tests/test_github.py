"""The GitHub source against a fake GitHub API on 127.0.0.1 (REST, GraphQL, ETags, Link, 301, limits)."""

from __future__ import annotations

import json
import logging
import math
import time

import pytest

from conftest import GITHUB_TEST_TOKEN
from fakes import json_response
from helpers import snapshot
from statsbot.config import parse_config
from statsbot.runner import run

TOKEN_ENV = {"GITHUB_TOKEN": GITHUB_TEST_TOKEN}


def config(api, out, **github):
    settings = {"api_url": api.url, "timeout_seconds": 5.0, "deadline_seconds": 20.0, **github}
    return parse_config({"github": settings, "output": {"dir": str(out)}}, path=None, env={})


def stats(out):
    return json.loads((out / "stats.json").read_text(encoding="utf-8"))


def badge(out, path):
    return json.loads((out / "badges" / "github" / path).read_text(encoding="utf-8"))


def test_rest_without_a_token(github_api, tmp_path):
    github_api.add_repo("alice/sparse-attn", 1234, 56)
    github_api.add_repo("alice/tiny", 7, 0)
    github_api.add_repo("bob-lab/Big.Model_v2", 950_000, 12_345)
    repos = ["alice/sparse-attn", "alice/tiny", "bob-lab/Big.Model_v2"]
    report = run(config(github_api, tmp_path, repos=repos), env={})

    assert [r.status for r in report.results] == ["ok"] * 4  # three repositories and the total
    assert report.results[-1].source == "github_total"
    entries = stats(tmp_path)["sources"]["github"]
    assert entries["alice/sparse-attn"]["metrics"] == {"stars": 1234, "forks": 56}
    assert entries["bob-lab/Big.Model_v2"]["metrics"] == {"stars": 950_000, "forks": 12_345}
    assert badge(tmp_path, "alice/sparse-attn/stars.json") == {
        "schemaVersion": 1, "label": "stars", "message": "1.2k", "color": "blue", "namedLogo": "github", "cacheSeconds": 3600,
    }
    assert badge(tmp_path, "bob-lab/Big.Model_v2/stars.json")["message"] == "950k"
    assert badge(tmp_path, "bob-lab/Big.Model_v2/forks.json")["message"] == "12k"
    assert badge(tmp_path, "alice/tiny/forks.json")["message"] == "0"
    assert badge(tmp_path, "stars-total.json")["message"] == "951k"
    assert stats(tmp_path)["totals"]["github"] == {"stars": 951_241, "forks": 12_401, "repositories": 3}

    assert github_api.count("GET", "/repos/") == 3
    assert all("Authorization" not in r["headers"] for r in github_api.requests)


def test_etags_make_the_second_run_conditional(github_api, tmp_path):
    for i in range(5):
        github_api.add_repo(f"alice/r{i}", 10 * i, i)
    repos = [f"alice/r{i}" for i in range(5)]
    run(config(github_api, tmp_path, repos=repos), env={})
    first = snapshot(tmp_path)
    cache = json.loads((tmp_path / ".statsbot" / "cache.json").read_text(encoding="utf-8"))
    assert set(cache["github"]) == {f"{github_api.url}/repos/alice/r{i}" for i in range(5)}

    github_api.requests.clear()
    github_api.set_stars("alice/r3", 999)
    run(config(github_api, tmp_path, repos=repos), env={})
    sent = {r["path"]: r["headers"].get("If-None-Match") for r in github_api.requests}
    assert len(github_api.requests) == 5 and all(sent.values())  # every request was conditional
    entries = stats(tmp_path)["sources"]["github"]
    assert entries["alice/r3"]["metrics"]["stars"] == 999  # the one that changed came back as 200
    assert entries["alice/r4"]["metrics"] == {"stars": 40, "forks": 4}  # the others answered 304 from the cache
    second = snapshot(tmp_path)
    assert second["badges/github/alice/r4/stars.json"] == first["badges/github/alice/r4/stars.json"]
    assert json.loads(second["badges/github/alice/r3/stars.json"])["message"] == "999"


def test_graphql_with_a_token_batches_50_repositories_per_request(github_api, tmp_path):
    repos = [f"lab{i % 3}/repo-{i}" for i in range(120)]
    for i, name in enumerate(repos):
        github_api.add_repo(name, 1000 + i, i)
    report = run(config(github_api, tmp_path, repos=repos), env=TOKEN_ENV)
    assert all(r.status == "ok" for r in report.results)
    assert github_api.count("POST", "/graphql") == math.ceil(120 / 50)
    assert github_api.count("GET") == 0
    assert all(r["headers"].get("Authorization") == f"Bearer {GITHUB_TEST_TOKEN}" for r in github_api.requests)
    entries = stats(tmp_path)["sources"]["github"]
    assert entries["lab1/repo-7"]["metrics"] == {"stars": 1007, "forks": 7}
    assert stats(tmp_path)["totals"]["github"]["stars"] == sum(1000 + i for i in range(120))


def test_graphql_not_found_fails_that_repository_only(github_api, tmp_path):
    github_api.add_repo("alice/kept", 5, 1)
    report = run(config(github_api, tmp_path, repos=["alice/kept", "alice/deleted"]), env=TOKEN_ENV)
    by_item = {r.item: r for r in report.results}
    assert by_item["alice/kept"].status == "ok"
    assert by_item["alice/deleted"].status == "error"  # never had a value: error, not stale
    assert "not found" in by_item["alice/deleted"].error
    assert (tmp_path / "badges/github/alice/kept/stars.json").is_file()
    assert badge(tmp_path, "alice/deleted/stars.json")["isError"] is True


@pytest.mark.parametrize("env", [{}, TOKEN_ENV], ids=["rest", "graphql"])
def test_moved_repository_is_followed_and_reported(github_api, tmp_path, env, caplog):
    github_api.add_repo("new-org/renamed", 321, 9)
    github_api.move("alice/old-name", "new-org/renamed")
    with caplog.at_level(logging.WARNING):
        report = run(config(github_api, tmp_path, repos=["alice/old-name"]), env=env)
    assert report.results[0].status == "ok"
    entry = stats(tmp_path)["sources"]["github"]["alice/old-name"]
    assert entry["moved_to"] == "new-org/renamed"
    assert entry["metrics"] == {"stars": 321, "forks": 9}
    assert "alice/old-name has moved to new-org/renamed" in caplog.text
    assert badge(tmp_path, "alice/old-name/stars.json")["message"] == "321"  # the path comes from the config, never the server
    assert not (tmp_path / "badges/github/new-org").exists()


def test_404_fails_one_repository_and_keeps_its_previous_files(github_api, tmp_path):
    github_api.add_repo("alice/a", 10)
    github_api.add_repo("alice/b", 20)
    run(config(github_api, tmp_path, repos=["alice/a", "alice/b"]), env={})
    before = snapshot(tmp_path)
    del github_api.repos["alice/b"]
    github_api.set_stars("alice/a", 11)
    report = run(config(github_api, tmp_path, repos=["alice/a", "alice/b"]), env={})
    by_item = {r.item: r for r in report.results}
    assert by_item["alice/a"].status == "ok" and by_item["alice/b"].status == "stale"
    assert "not found (HTTP 404)" in by_item["alice/b"].error
    after = snapshot(tmp_path)
    assert after["badges/github/alice/b/stars.json"] == before["badges/github/alice/b/stars.json"]
    assert json.loads(after["badges/github/alice/a/stars.json"])["message"] == "11"
    entry = stats(tmp_path)["sources"]["github"]["alice/b"]
    assert entry["status"] == "stale" and entry["metrics"] == {"stars": 20, "forks": 0}
    assert stats(tmp_path)["totals"]["github"]["stars"] == 31  # the failed one counts with its last good value


def test_users_list_every_public_non_fork_repository_across_pages(github_api, tmp_path):
    github_api.page_size = 30
    for i in range(70):
        github_api.add_repo(f"Carol/proj-{i:02d}", i, 1, fork=(i % 10 == 9))
    github_api.add_repo("Carol/secret", 1000, private=True)
    github_api.add_repo("dave/other", 5)
    report = run(config(github_api, tmp_path, users=["Carol"], repos=["dave/other", "Carol/proj-01"]), env={})

    listing = [r for r in github_api.requests if r["path"] == "/users/Carol/repos"]
    assert len(listing) == math.ceil(71 / 30) == 3  # followed Link rel="next" to the last page
    entries = stats(tmp_path)["sources"]["github"]
    non_forks = [i for i in range(70) if i % 10 != 9]
    assert {name for name in entries if name.startswith("Carol/")} == {f"Carol/proj-{i:02d}" for i in non_forks}
    assert stats(tmp_path)["sources"]["github_users"]["Carol"]["metrics"] == {
        "repositories": len(non_forks), "stars": sum(non_forks), "forks": len(non_forks),
    }
    assert sum(non_forks) == 2142
    assert badge(tmp_path, "Carol/stars-total.json")["message"] == "2.1k"
    assert stats(tmp_path)["totals"]["github"]["stars"] == sum(non_forks) + 5  # proj-01 counted once
    assert github_api.count("GET", "/repos/") == 1  # only dave/other: the listing already held Carol's counts
    assert all(r.status == "ok" for r in report.results)


def test_primary_rate_limit_stops_asking_and_keeps_what_was_fetched(github_api, tmp_path):
    for i in range(10):
        github_api.add_repo(f"alice/r{i}", i + 1)
    github_api.rate_limit = 4
    repos = [f"alice/r{i}" for i in range(10)]
    report = run(config(github_api, tmp_path, repos=repos, max_workers=1), env={})
    ok = [r for r in report.results if r.status == "ok"]
    failed = [r for r in report.results if r.status != "ok" and r.source == "github"]
    assert len(ok) == 4 and len(failed) == 6
    total = report.results[-1]
    assert total.source == "github_total" and total.status == "stale" and total.metrics["stars"] == 1 + 2 + 3 + 4
    assert len(github_api.requests) == 4  # the fourth answer said remaining 0: nothing more was sent
    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(github_api.reset_at))
    assert all(f"it resets at {reset}" in r.error for r in failed)
    assert {r.item for r in ok} == {f"alice/r{i}" for i in range(4)}


def test_rate_limit_403_with_many_workers_never_spins(github_api, tmp_path):
    for i in range(60):
        github_api.add_repo(f"alice/r{i}", 1)
    github_api.rate_limit = 0
    report = run(config(github_api, tmp_path, repos=[f"alice/r{i}" for i in range(60)], max_workers=8), env={})
    repos, total = report.results[:-1], report.results[-1]
    assert all(r.status == "error" and "rate limit reached" in r.error for r in repos)
    assert total.source == "github_total" and total.status == "error" and total.metrics == {}
    assert "totals" not in stats(tmp_path)  # no total at all rather than a total of 0
    assert badge(tmp_path, "stars-total.json")["isError"] is True
    assert len(github_api.requests) <= 8  # at most the requests already in flight, never one per repository


def test_429_with_a_short_retry_after_is_retried_by_urllib3(github_api, tmp_path):
    github_api.add_repo("alice/a", 3)
    github_api.fail(lambda r: True, lambda r: json_response({"message": "slow down"}, 429, {"Retry-After": "1"}))
    started = time.monotonic()
    report = run(config(github_api, tmp_path, repos=["alice/a"]), env={})
    assert report.results[0].status == "ok"
    assert len(github_api.requests) == 2
    assert time.monotonic() - started >= 1.0  # it waited as asked


def test_429_with_a_long_retry_after_stops_at_once(github_api, tmp_path):
    github_api.add_repo("alice/a", 3)
    github_api.add_repo("alice/b", 4)
    github_api.fail(lambda r: True, *[lambda r: json_response({"message": "slow down"}, 429, {"Retry-After": "120"})] * 5)
    started = time.monotonic()
    report = run(config(github_api, tmp_path, repos=["alice/a", "alice/b"], max_workers=1), env={})
    assert time.monotonic() - started < 5
    assert all(r.status == "error" and "asked to wait 120 s" in r.error for r in report.results[:-1])
    assert len(github_api.requests) == 1


def test_500_then_success(github_api, tmp_path):
    github_api.add_repo("alice/a", 3)
    github_api.fail(lambda r: True, lambda r: json_response({"message": "Server Error"}, 500))
    report = run(config(github_api, tmp_path, repos=["alice/a"]), env={})
    assert report.results[0].status == "ok" and len(github_api.requests) == 2


def test_500_every_time_gives_up_after_the_retries(github_api, tmp_path):
    github_api.add_repo("alice/a", 3)
    github_api.fail(lambda r: True, *[lambda r: json_response({"message": "Server Error"}, 500)] * 10)
    report = run(config(github_api, tmp_path, repos=["alice/a"], retries=2), env={})
    assert "HTTP 500 from GitHub after 2 retries" in report.results[0].error
    assert len(github_api.requests) == 3


def test_a_bad_token_is_reported_once_and_stops(github_api, tmp_path):
    github_api.add_repo("alice/a", 3)
    report = run(config(github_api, tmp_path, repos=["alice/a", "alice/b"]), env={"GITHUB_TOKEN": "ghp_wrong"})
    assert all("rejected the token (HTTP 401" in r.error for r in report.results if r.source == "github")
    assert len(github_api.requests) == 1


def test_token_goes_only_to_the_configured_host(github_api, make_server, tmp_path):
    """A redirect to another origin is followed without the token (GraphQL for repos, REST for users)."""
    from conftest import mount
    from fakes import FakeGitHub

    other_server = make_server()
    elsewhere = FakeGitHub(base_url=other_server.url_for("").rstrip("/"))
    mount(other_server, elsewhere)
    elsewhere.add_repo("alice/moved-away", 77, 1)
    github_api.fail(
        lambda r: r.path == "/users/alice/repos",
        lambda r: json_response({"message": "Moved Permanently"}, 301, {"Location": f"{elsewhere.base_url}/users/alice/repos?per_page=100"}),
    )
    github_api.add_repo("bob/home", 5)
    report = run(config(github_api, tmp_path, repos=["bob/home"], users=["alice"]), env={"GH_TOKEN": GITHUB_TEST_TOKEN})
    assert {r.item: r.status for r in report.results} == {"bob/home": "ok", "alice": "ok", "alice/moved-away": "ok", "all": "ok"}
    assert elsewhere.requests and all("Authorization" not in r["headers"] for r in elsewhere.requests)
    assert len(github_api.requests) == 2
    assert all(r["headers"].get("Authorization") == f"Bearer {GITHUB_TEST_TOKEN}" for r in github_api.requests)


def test_github_enterprise_paths(make_server, tmp_path):
    from conftest import mount
    from fakes import FakeGitHub

    server = make_server()
    base = server.url_for("").rstrip("/")
    ghe = FakeGitHub(base_url=base, prefix="/api/v3", token=GITHUB_TEST_TOKEN)
    mount(server, ghe)
    ghe.add_repo("team/tool", 42, 2)
    ghe.add_repo("team/lib", 8, 0)
    loaded = parse_config(
        {"github": {"api_url": f"{base}/api/v3", "repos": ["team/tool"], "users": ["team"]}, "output": {"dir": str(tmp_path)}},
        path=None, env={},
    )
    for env in ({}, TOKEN_ENV):
        report = run(loaded, env=env)
        assert all(r.status == "ok" for r in report.results)
    paths = {(r["method"], r["path"]) for r in ghe.requests}
    assert ("GET", "/api/v3/users/team/repos") in paths
    assert stats(tmp_path)["totals"]["github"] == {"stars": 50, "forks": 2, "repositories": 2}


def test_a_user_whose_listing_fails_keeps_their_repositories(github_api, tmp_path):
    github_api.add_repo("erin/a", 3)
    github_api.add_repo("erin/b", 4)
    run(config(github_api, tmp_path, users=["erin"]), env={})
    before = snapshot(tmp_path)
    github_api.fail(lambda r: r.path.startswith("/users/"), *[lambda r: json_response({"message": "err"}, 502)] * 5)
    report = run(config(github_api, tmp_path, users=["erin"], retries=1), env={})
    assert {r.item: r.status for r in report.results} == {"erin": "stale", "erin/a": "stale", "erin/b": "stale", "all": "stale"}
    document = stats(tmp_path)
    assert document["sources"]["github"]["erin/b"]["metrics"]["stars"] == 4
    assert document["sources"]["github_users"]["erin"]["metrics"]["stars"] == 7
    after = snapshot(tmp_path)
    for path in ("badges/github/erin/stars-total.json", "badges/github/stars-total.json", "badges/github/erin/a/stars.json"):
        assert after[path] == before[path]
