"""Publishing to the data branch with real git: a homepage repository, a bare remote on
disk, and an authenticated smart-HTTP remote on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import GITHUB_TEST_TOKEN, run_statsbot, write_config
from gitutil import GitHttpServer, basic_header, branch_commits, git, isolated_git_env, make_homepage, tree_files
from helpers import snapshot
from statsbot import history

BRANCH = "google-scholar-stats"


@pytest.fixture
def home(tmp_path):
    """A homepage checkout with a bare remote; statsbot configured to read one Hugging Face model."""
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    return site, remote, env


def configure(site: Path, hub, models=("lab/m",), extra: str = "") -> None:
    names = ", ".join(f'"{m}"' for m in models)
    write_config(site, f'[huggingface]\nendpoint = "{hub.url}"\nmodels = [{names}]\n{extra}')


def statsbot(site: Path, env: dict, *args: str):
    return run_statsbot("run", *args, cwd=site, env=env)


def test_first_run_creates_the_branch_with_exactly_the_output_files(home, hub_api):
    site, remote, env = home
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    configure(site, hub_api)
    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr

    commits = branch_commits(remote)
    assert len(commits) == 1
    published = tree_files(remote, BRANCH)
    assert published == snapshot(site / "output")  # the same paths and bytes, no output/ prefix
    assert {"stats.json", "badges/huggingface/lab/m/downloads.json"} <= set(published)
    assert json.loads(published["badges/huggingface/lab/m/downloads.json"])["message"] == "1.2k"
    assert f"pushed to origin/{BRANCH}" in result.stdout
    assert git("log", "-1", "--format=%an <%ae>%n%B", BRANCH, cwd=remote).startswith("Test Author <author@example.test>\nstatsbot: update stats")


def test_equal_values_make_no_commit_and_a_change_makes_exactly_one(home, hub_api):
    site, remote, env = home
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    configure(site, hub_api, models=("lab/m", "lab/n"))
    assert statsbot(site, env).returncode == 0
    first = branch_commits(remote)

    again = statsbot(site, env)
    assert again.returncode == 0
    assert branch_commits(remote) == first
    assert "nothing changed" in again.stdout

    hub_api.add("models", "lab/m", 1300, 5, 99_066)
    changed = statsbot(site, env)
    assert changed.returncode == 0
    commits = branch_commits(remote)
    assert len(commits) == 2 and commits[1] == first[0]
    assert git("rev-parse", f"{commits[0]}^", cwd=remote) == first[0]
    files = git("diff", "--name-only", first[0], commits[0], cwd=remote).split()
    # 99,000 -> 99,066 is still "99k": that badge's bytes did not change, so it is not in the commit
    assert files == [
        "badges/huggingface/lab/m/downloads.json",
        "charts/huggingface/lab/m/downloads-all-time.svg",
        "charts/huggingface/lab/m/downloads.svg",
        history.month_file(datetime.now(timezone.utc).date().isoformat()),  # this month's history file: history/YYYY-MM.csv
        "stats.json",
    ]
    message = git("log", "-1", "--format=%B", BRANCH, cwd=remote)
    assert "huggingface lab/m downloads: 1234 -> 1300" in message


def test_squash_keeps_exactly_one_commit(home, hub_api):
    site, remote, env = home
    configure(site, hub_api, extra='[publish]\nhistory = "squash"\n')
    for downloads in (1, 2, 3):
        hub_api.add("models", "lab/m", downloads, 0, downloads)
        assert statsbot(site, env).returncode == 0
        commits = branch_commits(remote)
        assert len(commits) == 1
        assert git("log", "-1", "--format=%P", BRANCH, cwd=remote) == ""  # no parent
    assert json.loads(tree_files(remote, BRANCH)["stats.json"])["sources"]["huggingface"]["lab/m"]["metrics"]["downloads"] == 3


def test_the_users_checkout_is_untouched(home, hub_api, tmp_path):
    site, remote, env = home
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api, extra='[output]\ndir = "../outside-output"\n')
    git("add", "statsbot.toml", cwd=site, env=env)
    git("commit", "-qm", "config", cwd=site, env=env)
    git("checkout", "-q", "-b", "feature", cwd=site, env=env)
    (site / "index.html").write_text("<h1>work in progress</h1>\n", encoding="utf-8")
    git("stash", "-q", cwd=site, env=env)
    (site / "index.html").write_text("<h1>dirty</h1>\n", encoding="utf-8")
    (site / "staged.txt").write_text("staged\n", encoding="utf-8")
    git("add", "staged.txt", cwd=site, env=env)
    (site / "untracked.txt").write_text("untracked\n", encoding="utf-8")

    def state() -> dict:
        dot_git = site / ".git"
        return {
            "tree": {p: b for p, b in snapshot(site).items() if not p.startswith(".git/")},
            "index": (dot_git / "index").read_bytes(),
            "HEAD": (dot_git / "HEAD").read_bytes(),
            "head_commit": git("rev-parse", "HEAD", cwd=site),
            "branches": git("for-each-ref", "refs/heads", cwd=site),
            "stash": git("stash", "list", cwd=site) + git("rev-parse", "refs/stash", cwd=site),
            "status": git("status", "--porcelain", cwd=site),
        }

    before = state()
    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr
    assert state() == before
    assert len(branch_commits(remote)) == 1
    assert (tmp_path / "outside-output" / "stats.json").is_file()


def test_no_push_commits_locally_and_no_publish_touches_no_git(home, hub_api):
    site, remote, env = home
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api)
    assert statsbot(site, env, "--no-publish").returncode == 0
    assert git("branch", "--list", BRANCH, cwd=site) == "" and branch_commits(remote) == []
    assert (site / "output" / "stats.json").is_file()

    result = statsbot(site, env, "--no-push")
    assert result.returncode == 0, result.stderr
    assert branch_commits(remote) == []
    local = git("rev-parse", BRANCH, cwd=site)
    assert tree_files(site, local) == snapshot(site / "output")
    assert f"committed to local branch {BRANCH}" in result.stdout


def test_dry_run_prints_changes_and_writes_nothing(home, hub_api):
    site, remote, env = home
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api)
    assert statsbot(site, env).returncode == 0
    git("update-ref", "-d", f"refs/remotes/origin/{BRANCH}", cwd=site)
    before_remote = branch_commits(remote)
    output_before = snapshot(site / "output")
    hub_api.add("models", "lab/m", 9, 1, 9)
    result = statsbot(site, env, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing written; would change:" in result.stdout
    assert "huggingface lab/m downloads: 7 -> 9" in result.stdout
    assert "huggingface lab/m likes: 0 -> 1" in result.stdout
    assert branch_commits(remote) == before_remote
    assert snapshot(site / "output") == output_before


def test_a_failing_source_keeps_its_published_files_even_from_a_fresh_checkout(home, hub_api):
    site, remote, env = home
    hub_api.add("models", "lab/m", 1500, 3, 20_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    configure(site, hub_api, models=("lab/m", "lab/n"))
    assert statsbot(site, env).returncode == 0
    first = tree_files(remote, BRANCH)

    subprocess.run(["rm", "-rf", str(site / "output")], check=True)  # a new CI runner: no output folder
    hub_api.add("models", "lab/n", 11, 1, 101)
    hub_api.fail(lambda r: "lab/m" in r.path, *[lambda r: __import__("fakes").json_response({"error": "boom"}, 500)] * 10)
    result = statsbot(site, env)
    assert result.returncode == 3
    second = tree_files(remote, BRANCH)
    for name in ("downloads.json", "likes.json", "downloads-all-time.json"):
        assert second[f"badges/huggingface/lab/m/{name}"] == first[f"badges/huggingface/lab/m/{name}"]
    assert json.loads(second["badges/huggingface/lab/n/downloads.json"])["message"] == "11"
    entry = json.loads(second["stats.json"])["sources"]["huggingface"]["lab/m"]
    assert entry["status"] == "stale" and entry["metrics"]["downloads"] == 1500


def test_the_etag_cache_comes_back_from_the_branch(home, github_api):
    site, remote, env = home
    github_api.add_repo("zoe/tool", 42, 3)
    write_config(site, f'[github]\napi_url = "{github_api.url}"\nrepos = ["zoe/tool"]\n')
    assert statsbot(site, env).returncode == 0
    assert ".statsbot/cache.json" in tree_files(remote, BRANCH)
    subprocess.run(["rm", "-rf", str(site / "output")], check=True)
    github_api.requests.clear()
    assert statsbot(site, env).returncode == 0
    assert github_api.requests[0]["headers"].get("If-None-Match")


@pytest.mark.parametrize(
    "extra_env, repo_identity, expected",
    [
        ({"GITHUB_ACTIONS": "true"}, False, "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"),
        ({}, True, "Repo Person <repo@example.test>"),
        ({}, False, "statsbot <statsbot@localhost>"),
    ],
    ids=["actions", "repository-identity", "fallback"],
)
def test_commit_identity(tmp_path, hub_api, extra_env, repo_identity, expected):
    (tmp_path / "home").mkdir()
    setup_env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, setup_env)
    if repo_identity:
        git("config", "user.name", "Repo Person", cwd=site)
        git("config", "user.email", "repo@example.test", cwd=site)
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api)
    env = {**isolated_git_env(tmp_path / "home", identity=False), **extra_env}
    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH, cwd=remote) == f"{expected}|{expected}"


def test_five_runs_at_once_keep_every_value_on_a_linear_history(tmp_path, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    hub_api.latency = 0.2  # let the five runs overlap
    clones = []
    for i in range(5):
        hub_api.add("models", f"lab/m{i}", 100 + i, i, 1000 + i)
        clone = tmp_path / f"runner-{i}"
        git("clone", "--quiet", str(remote), str(clone), cwd=tmp_path, env=env)
        configure(clone, hub_api, models=(f"lab/m{i}",))
        clones.append(clone)
    child_env = {**{k: v for k, v in __import__("os").environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")}, **env}
    processes = [
        subprocess.Popen([sys.executable, "-m", "statsbot", "run"], cwd=clone, env=child_env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for clone in clones
    ]
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in processes]
    assert [code for _, _, code in outcomes] == [0] * 5, [err for _, err, _ in outcomes]

    commits = branch_commits(remote)
    assert len(commits) == 5
    parents = git("rev-list", "--parents", BRANCH, cwd=remote).splitlines()
    assert all(len(line.split()) == 2 for line in parents[:-1]) and len(parents[-1].split()) == 1  # linear
    files = tree_files(remote, BRANCH)
    entries = json.loads(files["stats.json"])["sources"]["huggingface"]
    for i in range(5):
        assert entries[f"lab/m{i}"]["metrics"] == {"downloads": 100 + i, "likes": i, "downloads_all_time": 1000 + i}
        assert json.loads(files[f"badges/huggingface/lab/m{i}/downloads.json"])["message"] == str(100 + i)


@pytest.fixture
def http_remote(tmp_path):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    git("config", "http.receivepack", "true", cwd=remote)
    server = GitHttpServer(tmp_path, GITHUB_TEST_TOKEN)
    git("remote", "set-url", "origin", server.url("remote.git"), cwd=site)
    yield site, remote, env, server
    server.close()


def test_token_push_over_smart_http_leaves_no_trace(http_remote, hub_api, tmp_path):
    site, remote, env, server = http_remote
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api)
    result = statsbot(site, {**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN, "GITHUB_SERVER_URL": server.url("").rstrip("/")})
    assert result.returncode == 0, result.stderr
    assert len(branch_commits(remote)) == 1
    assert set(server.seen_authorization) == {basic_header(GITHUB_TEST_TOKEN)}

    header = basic_header(GITHUB_TEST_TOKEN).split()[1]
    produced = result.stdout + result.stderr
    for path in list((site / ".git").rglob("*")) + list((site / "output").rglob("*")):
        if path.is_file():
            produced += path.read_bytes().decode("latin-1")
    assert GITHUB_TEST_TOKEN not in produced
    assert header not in produced
    assert "extraheader" not in (site / ".git" / "config").read_text()


def test_a_token_without_write_access_gets_the_permissions_advice(http_remote, hub_api):
    site, remote, env, server = http_remote
    hub_api.add("models", "lab/m", 7, 0, 7)
    configure(site, hub_api)
    started = time.monotonic()
    result = statsbot(site, {**env, "GITHUB_TOKEN": "ghp_" + "x" * 36, "GITHUB_SERVER_URL": server.url("").rstrip("/")})
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "permissions: contents: write" in result.stderr
    assert "ghp_xxxx" not in result.stdout + result.stderr
    assert branch_commits(remote) == []
