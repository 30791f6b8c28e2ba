"""After a push: the changed files purged on jsDelivr (never failing the run) and the site's
build started (``[publish] rebuild``), against a fake purge API and a fake GitHub API on
127.0.0.1, with real git pushing to a bare remote on disk.

jsDelivr mirrors github.com only, so the purge tests give the homepage a remote that names
a github.com repository and let git's ``url.<base>.insteadOf`` send it to the bare remote.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import GITHUB_TEST_TOKEN, mount, run_statsbot, write_config
from gitutil import branch_commits, git, isolated_git_env, make_homepage, tree_files
from werkzeug.wrappers import Request, Response

from statsbot import history

BRANCH = "google-scholar-stats"
REPOSITORY = "zoe/zoe.github.io"
CDN_PREFIX = f"/gh/{REPOSITORY}@{BRANCH}/"


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json; charset=utf-8")


class FakeJsDelivr:
    """jsDelivr's purge API: ``POST /`` with ``{"path": [...]}`` answers a pending purge's id;
    ``GET /status/{id}`` answers it finished, with a ``throttled`` flag per path."""

    def __init__(self) -> None:
        self.posts: list[list[str]] = []
        self.authorization: list[str | None] = []
        self.throttle: set[str] = set()  # data-branch paths jsDelivr throttles
        self.fail: Response | None = None  # answer every request with this instead
        self.jobs: dict[str, list[str]] = {}
        self._ids = itertools.count(1)

    @property
    def purged(self) -> list[str]:
        """Every data-branch path asked for, in order."""
        return [path.removeprefix(CDN_PREFIX) for batch in self.posts for path in batch]

    def __call__(self, request: Request) -> Response:
        self.authorization.append(request.headers.get("Authorization"))
        if self.fail is not None:
            return self.fail
        if request.method == "POST" and request.path == "/":
            paths = request.get_json()["path"]
            if len(paths) > 20:
                return json_response({"status": 400, "message": "Too many paths"}, 400)
            self.posts.append(paths)
            purge_id = f"purge-{next(self._ids)}"
            self.jobs[purge_id] = paths
            return json_response({"id": purge_id, "status": "pending", "timestamp": "2026-11-24T03:00:00.000Z"})
        if request.method == "GET" and request.path.startswith("/status/"):
            purge_id = request.path.removeprefix("/status/")
            paths = self.jobs.get(purge_id)
            if paths is None:
                return json_response({"status": 404, "message": "Purge status not found"}, 404)
            listed = {
                path: {"throttled": path.removeprefix(CDN_PREFIX) in self.throttle, "providers": {"CF": True, "FY": True}}
                for path in paths
            }
            return json_response({"id": purge_id, "status": "finished", "timestamp": "2026-11-24T03:00:01.000Z", "paths": listed})
        return json_response({"status": 404, "message": "Not found"}, 404)


class FakeGitHubSite:
    """The GitHub REST endpoints a rebuild uses: the repository (its default branch), a Pages
    build, a workflow dispatch. `deny` answers those two 403 "Resource not accessible by
    integration", as GitHub does for a GITHUB_TOKEN without the permission (reading the
    repository needs none)."""

    def __init__(self, token: str, default_branch: str = "main") -> None:
        self.token = token
        self.default_branch = default_branch
        self.deny = False
        self.requests: list[tuple[str, str, str | None, Any]] = []  # method, path, Authorization, JSON body

    def __call__(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        self.requests.append((request.method, request.path, request.headers.get("Authorization"), body))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401)
        if self.deny and request.method == "POST":
            return json_response(
                {"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"}, 403
            )
        if request.method == "GET" and request.path == f"/repos/{REPOSITORY}":
            return json_response({"full_name": REPOSITORY, "default_branch": self.default_branch, "has_pages": True})
        if request.method == "POST" and request.path == f"/repos/{REPOSITORY}/pages/builds":
            latest = f"https://api.github.com/repos/{REPOSITORY}/pages/builds/latest"
            return json_response({"url": latest, "status": "queued"}, 201)
        if request.method == "POST" and request.path == f"/repos/{REPOSITORY}/actions/workflows/deploy.yml/dispatches":
            if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
                return json_response({"message": "Invalid request.\n\n\"ref\" wasn't supplied."}, 422)
            return Response(status=204)
        return json_response({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)


@pytest.fixture
def jsdelivr(make_server):
    server = make_server()
    fake = FakeJsDelivr()
    mount(server, fake)
    fake.url = server.url_for("").rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def github_site(make_server):
    server = make_server()
    fake = FakeGitHubSite(GITHUB_TEST_TOKEN)
    mount(server, fake)
    fake.url = server.url_for("").rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def home(tmp_path):
    """A homepage checkout with a bare remote, and an environment without the CI's own GitHub variables."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    env.update({"GITHUB_ACTIONS": "false", "GITHUB_REPOSITORY": "", "GITHUB_API_URL": "", "GITHUB_SERVER_URL": ""})
    return site, remote, env


def on_github(site: Path, remote: Path, env: dict[str, str]) -> None:
    """The remote names https://github.com/zoe/zoe.github.io.git; git fetches and pushes the bare remote."""
    url = f"https://github.com/{REPOSITORY}.git"
    git("remote", "set-url", "origin", url, cwd=site, env=env)
    git("config", f"url.{remote}.insteadOf", url, cwd=site, env=env)


def configure(site: Path, hub, publish: str = "", run: str = "", models: tuple[str, ...] = ("lab/m",)) -> None:
    names = ", ".join(f'"{model}"' for model in models)
    text = f'[huggingface]\nendpoint = "{hub.url}"\nmodels = [{names}]\n'
    if publish:
        text += f"[publish]\n{publish}\n"
    if run:
        text += f"[run]\n{run}\n"
    write_config(site, text)


def statsbot(site: Path, env: dict[str, str], *args: str, command: str = "run"):
    return run_statsbot(command, *args, cwd=site, env=env)


def changed_in_last_commit(remote: Path) -> list[str]:
    commits = branch_commits(remote)
    if len(commits) == 1:
        return sorted(tree_files(remote, BRANCH))
    return git("diff", "--name-only", commits[1], commits[0], cwd=remote).split()


# ------------------------------------------------------------------------ jsDelivr


def test_a_push_purges_exactly_the_changed_paths_and_nothing_when_nothing_changed(home, hub_api, jsdelivr):
    site, remote, env = home
    on_github(site, remote, env)
    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    env = {**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN}

    first = statsbot(site, env)
    assert first.returncode == 0, first.stderr
    published = changed_in_last_commit(remote)
    assert sorted(jsdelivr.purged) == published  # the first push: every file it added
    assert all(len(batch) <= 20 for batch in jsdelivr.posts)
    assert f"CDN: purged {len(published)} of {len(published)} changed paths on jsDelivr" in first.stdout
    assert set(jsdelivr.authorization) == {None}  # the GitHub token never goes to the CDN

    jsdelivr.posts.clear()
    again = statsbot(site, env)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert jsdelivr.posts == []  # no commit, no purge
    assert "CDN:" not in again.stdout

    hub_api.add("models", "lab/m", 1300, 5, 99_066)
    changed = statsbot(site, env)
    assert changed.returncode == 0, changed.stderr
    assert sorted(jsdelivr.purged) == changed_in_last_commit(remote) == [
        "badges/huggingface/lab/m/downloads.json",
        "charts/huggingface/lab/m/downloads-all-time.svg",
        "charts/huggingface/lab/m/downloads.svg",
        history.month_file(datetime.now(timezone.utc).date().isoformat()),  # this month's history file: history/YYYY-MM.csv
        "stats.json",
    ]
    assert jsdelivr.posts[0][0] == CDN_PREFIX + "stats.json"  # top-level files are purged first
    assert "CDN: purged 5 of 5 changed paths on jsDelivr" in changed.stdout
    assert GITHUB_TEST_TOKEN not in first.stdout + first.stderr + changed.stdout + changed.stderr


def test_many_changed_paths_go_in_requests_of_at_most_20(home, hub_api, jsdelivr):
    site, remote, env = home
    on_github(site, remote, env)
    models = tuple(f"lab/m{i}" for i in range(4))
    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"', models=models)
    for i, model in enumerate(models):
        hub_api.add("models", model, 100 + i, i, 1000 + i)

    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr
    published = changed_in_last_commit(remote)
    assert len(published) > 20
    assert [len(batch) for batch in jsdelivr.posts] == [20, len(published) - 20]
    assert sorted(jsdelivr.purged) == published and len(set(jsdelivr.purged)) == len(published)
    assert f"CDN: purged {len(published)} of {len(published)} changed paths on jsDelivr" in result.stdout


def publisher_for(site: Path, purge_url: str, env: dict[str, str]):
    from statsbot.publish import Publisher
    from statsbot.settings import PublishConfig

    return Publisher(PublishConfig(purge_url=purge_url), site, {**os.environ, **env})


def test_at_most_200_paths_are_purged_a_run_the_top_level_ones_first(home, jsdelivr):
    from statsbot.cdn import MAX_PATHS, purge_after_push
    from statsbot.deadline import Deadline
    from statsbot.publish import PublishResult

    site, remote, env = home
    on_github(site, remote, env)
    paths = tuple(sorted([f"badges/scholar/p{i:03}.json" for i in range(250)] + ["stats.json"]))
    pushed = PublishResult("pushed", BRANCH, "0" * 40, len(paths), 1, "origin", paths)

    report = purge_after_push(publisher_for(site, jsdelivr.url, env), pushed, env, Deadline(60))
    assert len(jsdelivr.purged) == MAX_PATHS == 200 and jsdelivr.purged[0] == "stats.json"
    assert [len(batch) for batch in jsdelivr.posts] == [20] * 10
    assert report.purged == jsdelivr.purged and len(report.over_limit) == 51 and report.warning is None
    assert report.describe().startswith("CDN: purged 200 of 251 changed paths on jsDelivr; 51 left to expire")


def test_no_purge_once_the_runs_deadline_has_passed(home, jsdelivr):
    from statsbot.cdn import purge_after_push
    from statsbot.deadline import Deadline
    from statsbot.publish import PublishResult

    site, remote, env = home
    on_github(site, remote, env)
    pushed = PublishResult("pushed", BRANCH, "0" * 40, 1, 1, "origin", ("stats.json",))
    report = purge_after_push(publisher_for(site, jsdelivr.url, env), pushed, env, Deadline(0, name="the run's deadline of 5 s"))
    assert jsdelivr.posts == []
    assert report.not_purged == ["stats.json"] and report.warning == "the run's deadline of 5 s was reached before the purge"


def test_throttled_paths_are_reported_and_the_run_succeeds(home, hub_api, jsdelivr):
    site, remote, env = home
    on_github(site, remote, env)
    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    jsdelivr.throttle = {"stats.json", "badges/huggingface/lab/m/downloads.json"}

    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr
    total = len(changed_in_last_commit(remote))
    assert (
        f"CDN: purged {total - 2} of {total} changed paths on jsDelivr; "
        "2 throttled (stats.json, badges/huggingface/lab/m/downloads.json)"
    ) in result.stdout
    assert "jsDelivr throttled stats.json" in result.stderr
    assert "jsDelivr throttled badges/huggingface/lab/m/downloads.json" in result.stderr
    assert "WARNING" not in result.stderr  # throttling is the CDN's rate limit, not a failure


@pytest.mark.parametrize(
    "fault",
    ["http 500", "garbage", "html 200", "connection refused", "no answer"],
)
def test_a_failing_cdn_never_fails_the_run(home, hub_api, jsdelivr, fault, closed_port_url, silent_server):
    site, remote, env = home
    on_github(site, remote, env)
    purge_url = {"connection refused": closed_port_url, "no answer": silent_server}.get(fault, jsdelivr.url)
    jsdelivr.fail = {
        "http 500": json_response({"status": 500, "message": "Internal error"}, 500),
        "garbage": Response('{"id": "purge-1", "status": ', status=200, content_type="application/json"),
        "html 200": Response("<html>maintenance</html>", status=200, content_type="text/html"),
    }.get(fault)
    # A short run deadline bounds the wait for a server that never answers.
    configure(site, hub_api, publish=f'purge_url = "{purge_url}"', run="deadline_seconds = 12" if fault == "no answer" else "")
    hub_api.add("models", "lab/m", 1234, 5, 99_000)

    started = time.monotonic()
    result = statsbot(site, env)
    assert time.monotonic() - started < 45
    assert result.returncode == 0, result.stderr
    assert len(branch_commits(remote)) == 1  # the data is pushed all the same
    assert f"pushed to origin/{BRANCH}" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "CDN: purging jsDelivr failed" in warnings[0], result.stderr
    assert "not purged" in result.stdout


def test_no_push_and_a_remote_off_github_purge_nothing(home, hub_api, jsdelivr):
    site, remote, env = home
    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)

    local_path = statsbot(site, {**env, "GITHUB_REPOSITORY": REPOSITORY})  # the remote is a folder
    assert local_path.returncode == 0, local_path.stderr
    assert len(branch_commits(remote)) == 1
    assert jsdelivr.posts == []
    assert "not a repository on github.com" in local_path.stderr

    on_github(site, remote, env)
    hub_api.add("models", "lab/m", 1300, 5, 99_000)
    no_push = statsbot(site, env, "--no-push")
    assert no_push.returncode == 0, no_push.stderr
    assert "committed to local branch" in no_push.stdout
    assert jsdelivr.posts == []

    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"\npurge_cdn = false')
    off = statsbot(site, env)
    assert off.returncode == 0 and len(branch_commits(remote)) == 2
    assert jsdelivr.posts == []


# ------------------------------------------------------------------------- rebuild


def rebuild_env(env: dict[str, str], github_site, **extra: str) -> dict[str, str]:
    return {**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_site.url, **extra}


def test_rebuild_pages_requests_a_build_with_the_token_once_per_change(home, hub_api, github_site):
    site, remote, env = home
    configure(site, hub_api, publish='rebuild = "pages"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    env = rebuild_env(env, github_site)

    result = statsbot(site, env)
    assert result.returncode == 0, result.stderr
    assert github_site.requests == [("POST", f"/repos/{REPOSITORY}/pages/builds", f"Bearer {GITHUB_TEST_TOKEN}", None)]
    assert f"rebuild: started a GitHub Pages build of {REPOSITORY}" in result.stdout
    assert GITHUB_TEST_TOKEN not in result.stdout + result.stderr

    again = statsbot(site, env)  # nothing changed: nothing pushed, nothing to build
    assert again.returncode == 0 and len(github_site.requests) == 1


@pytest.mark.parametrize(
    ("setting", "expected_ref", "reads_repository"),
    [("workflow:deploy.yml", "main", True), ("workflow:deploy.yml@site", "site", False)],
)
def test_rebuild_workflow_dispatches_on_the_default_branch_or_the_one_named(
    home, hub_api, github_site, setting, expected_ref, reads_repository
):
    site, remote, env = home
    configure(site, hub_api, publish=f'rebuild = "{setting}"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)

    result = statsbot(site, rebuild_env(env, github_site))
    assert result.returncode == 0, result.stderr
    path = f"/repos/{REPOSITORY}/actions/workflows/deploy.yml/dispatches"
    dispatch = ("POST", path, f"Bearer {GITHUB_TEST_TOKEN}", {"ref": expected_ref})
    read = ("GET", f"/repos/{REPOSITORY}", f"Bearer {GITHUB_TEST_TOKEN}", None)
    assert github_site.requests == ([read] if reads_repository else []) + [dispatch]
    assert f"rebuild: started workflow deploy.yml on {expected_ref} in {REPOSITORY}" in result.stdout


@pytest.mark.parametrize(("setting", "permission"), [("pages", "pages: write"), ("workflow:deploy.yml", "actions: write")])
def test_a_token_without_the_permission_fails_the_run_naming_it(home, hub_api, github_site, tmp_path, setting, permission):
    site, remote, env = home
    configure(site, hub_api, publish=f'rebuild = "{setting}"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    github_site.deny = True
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    env = rebuild_env(
        env, github_site, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(outputs)
    )

    result = statsbot(site, env)
    assert result.returncode == 1
    assert len(branch_commits(remote)) == 1  # the push stays done
    assert f"pushed to origin/{BRANCH}" in result.stdout
    assert "Resource not accessible by integration" in result.stderr
    assert f"'{permission}'" in result.stderr and "permissions:" in result.stderr
    assert github_site.requests[-1][0] == "POST"
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1 and permission in annotations[0]
    text = summary.read_text(encoding="utf-8")
    assert "**Rebuild failed:**" in text and permission in text
    produced = result.stdout + result.stderr + text + outputs.read_text(encoding="utf-8")
    assert GITHUB_TEST_TOKEN not in produced


def test_rebuild_without_a_token_names_github_token(home, hub_api, github_site):
    site, remote, env = home
    configure(site, hub_api, publish='rebuild = "pages"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    env = {k: v for k, v in rebuild_env(env, github_site).items() if k != "GITHUB_TOKEN"}

    result = statsbot(site, env)
    assert result.returncode == 1
    assert len(branch_commits(remote)) == 1
    assert "$GITHUB_TOKEN" in result.stderr and "pages: write" in result.stderr
    assert github_site.requests == []


def test_statsbot_publish_purges_and_rebuilds_too(home, hub_api, jsdelivr, github_site, tmp_path):
    site, remote, env = home
    on_github(site, remote, env)
    configure(site, hub_api, publish=f'purge_url = "{jsdelivr.url}"\nrebuild = "pages"')
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    env = rebuild_env(env, github_site, GITHUB_REPOSITORY="")  # the repository comes from the remote's URL
    results = tmp_path / "results.json"
    fetched = statsbot(site, env, "--results", str(results), command="fetch")
    assert fetched.returncode == 0, fetched.stderr

    published = statsbot(site, env, "--results", str(results), command="publish")
    assert published.returncode == 0, published.stderr
    assert sorted(jsdelivr.purged) == changed_in_last_commit(remote)
    assert [request[:2] for request in github_site.requests] == [("POST", f"/repos/{REPOSITORY}/pages/builds")]
    assert "CDN: purged" in published.stdout and "rebuild: started a GitHub Pages build" in published.stdout


# -------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "value",
    ["netlify", "workflow:", "workflow:deploy", "workflow:../x.yml", "workflow:deploy.yml@", "workflow:deploy.yml@-x", "Pages"],
)
def test_a_bad_rebuild_value_is_a_config_error_naming_the_key(tmp_path, value):
    write_config(tmp_path, f'[huggingface]\nmodels = ["lab/m"]\n[publish]\nrebuild = "{value}"\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "publish.rebuild" in result.stderr and repr(value) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["", "pages", "workflow:deploy.yml", "workflow:pages.yaml@main", "workflow:123456"])
def test_good_rebuild_values_are_accepted(value):
    from statsbot.settings import PublishConfig

    assert PublishConfig(rebuild=value).rebuild == value


@pytest.mark.parametrize("value", ["ftp://purge.example", "purge.jsdelivr.net", "https://user:pw@purge.example"])
def test_a_bad_purge_url_is_a_config_error(tmp_path, value):
    write_config(tmp_path, f'[huggingface]\nmodels = ["lab/m"]\n[publish]\npurge_url = "{value}"\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "publish.purge_url" in result.stderr


def test_defaults():
    from statsbot.settings import PublishConfig

    settings = PublishConfig()
    assert (settings.purge_cdn, settings.purge_url, settings.rebuild) == (True, "https://purge.jsdelivr.net", "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/zoe/zoe.github.io.git", (True, "zoe/zoe.github.io")),
        ("https://github.com/zoe/zoe.github.io", (True, "zoe/zoe.github.io")),
        ("https://x-access-token@github.com/zoe/site/", (True, "zoe/site")),
        ("git@github.com:zoe/site.git", (True, "zoe/site")),
        ("ssh://git@github.com/zoe/site.git", (True, "zoe/site")),
        ("https://gitlab.com/zoe/site.git", (False, None)),
        ("/home/zoe/remote.git", (False, None)),
        ("file:///home/zoe/remote.git", (False, None)),
        ("C:/repos/site.git", (False, None)),
        ("https://github.com/zoe", (True, None)),
    ],
)
def test_which_remotes_are_on_github(url, expected):
    from statsbot.cdn import remote_repository

    assert remote_repository(url, {"github.com"}) == expected
