"""Keepalive (statsbot.keepalive): the real CLI in GitHub Actions mode against a fake GitHub API on
127.0.0.1 that serves the documented shapes of the repository, its newest commit, the workflow
and the enable call, with or without the `actions: write` permission."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from conftest import GITHUB_TEST_TOKEN, mount, run_statsbot, write_config
from fakes import FakeGitHub, json_response
from werkzeug.wrappers import Request, Response

REPO = "alice/homepage"
WORKFLOW = "statsbot.yml"
ENABLE = f"/repos/{REPO}/actions/workflows/{WORKFLOW}/enable"


class FakeActions(FakeGitHub):
    """FakeGitHub plus GET /repos/{o}/{r}/commits, GET .../actions/workflows/{file} and
    PUT .../actions/workflows/{file}/enable (204, or 403 without actions: write)."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url=base_url, token=token)
        self.state = "active"
        self.last_commit = datetime.now(timezone.utc)
        self.actions_write = True

    def idle(self, days: int) -> None:
        self.last_commit = datetime.now(timezone.utc) - timedelta(days=days, hours=1)

    def _route(self, request: Request, authorized: bool) -> Response:
        owner_repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        if m := re.fullmatch(owner_repo + r"/actions/workflows/(?P<file>[^/]+)(?P<enable>/enable)?", request.path):
            if m["repo"].lower() not in self.repos or m["file"] != WORKFLOW:
                return self._not_found()
            if m["enable"] and request.method == "PUT":
                if not (authorized and self.actions_write):
                    return json_response(
                        {
                            "message": "Resource not accessible by integration",
                            "documentation_url": "https://docs.github.com/rest/actions/workflows#enable-a-workflow",
                            "status": "403",
                        },
                        403,
                    )
                self.state = "active"
                return Response(status=204)
            if request.method == "GET" and not m["enable"]:
                return json_response(self.workflow_json())
            return self._not_found()
        if request.method == "GET" and (m := re.fullmatch(owner_repo + r"/commits", request.path)):
            if m["repo"].lower() not in self.repos or request.args.get("sha") != "main":
                return self._not_found()
            return json_response([self.commit_json()][: int(request.args.get("per_page", "30"))])
        return super()._route(request, authorized)

    def workflow_json(self) -> dict:
        api = f"{self.base_url}/repos/{REPO}"
        return {
            "id": 161335,
            "node_id": "MDg6V29ya2Zsb3cxNjEzMzU=",
            "name": "statsbot",
            "path": f".github/workflows/{WORKFLOW}",
            "state": self.state,
            "created_at": "2026-01-05T10:00:00.000Z",
            "updated_at": "2026-01-05T10:00:00.000Z",
            "url": f"{api}/actions/workflows/161335",
            "html_url": f"https://github.com/{REPO}/blob/main/.github/workflows/{WORKFLOW}",
            "badge_url": f"https://github.com/{REPO}/workflows/statsbot/badge.svg",
        }

    def commit_json(self) -> dict:
        when = self.last_commit.strftime("%Y-%m-%dT%H:%M:%SZ")
        person = {"name": "Alice", "email": "alice@example.org", "date": when}
        sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
        return {
            "sha": sha,
            "node_id": "C_kwDOAAAAAA",
            "commit": {
                "author": person,
                "committer": person,
                "message": "Update the about page",
                "tree": {"sha": "827efc6d56897b048c772eb4087f854f46256132", "url": f"{self.base_url}/repos/{REPO}/git/trees/827efc6"},
                "url": f"{self.base_url}/repos/{REPO}/git/commits/{sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
            },
            "url": f"{self.base_url}/repos/{REPO}/commits/{sha}",
            "html_url": f"https://github.com/{REPO}/commit/{sha}",
            "parents": [{"sha": "7638417db6d59f3c431d3e1f261cc637155684cd", "url": f"{self.base_url}/repos/{REPO}/commits/7638417"}],
        }

    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]


@pytest.fixture
def actions_api(make_server):
    server = make_server()
    fake = FakeActions(base_url=server.url_for("").rstrip("/"), token=GITHUB_TEST_TOKEN)
    mount(server, fake)
    server.expect_request(re.compile("^/"), method="PUT").respond_with_handler(fake)
    fake.add_repo(REPO, 3)
    fake.url = fake.base_url  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def site(tmp_path, hub_api):
    """A homepage folder whose statsbot.toml fetches one Hugging Face model (always fine)."""
    hub_api.add("models", "lab/m", 1500, 3, 20_000)
    write_config(tmp_path, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    return tmp_path


def workflow_env(tmp_path, api_url: str, event: str = "schedule") -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": api_url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_WORKFLOW_REF": f"{REPO}/.github/workflows/{WORKFLOW}@refs/heads/main",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }


def statsbot_run(site, env, *flags):
    result = run_statsbot("run", *flags, cwd=site, env=env)
    assert_token_hidden(result, site)
    return result


def assert_token_hidden(result, folder) -> None:
    """The token is in none of stdout, stderr, the job summary, the step outputs or a written file."""
    texts = [result.stdout, result.stderr] + [p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()]
    assert not any(GITHUB_TEST_TOKEN in text for text in texts)


def annotations(result, level: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(f"::{level} ")]


def summary(site) -> str:
    return (site / "summary.md").read_text(encoding="utf-8")


def test_idle_50_days_with_permission_re_enables_the_schedule_with_the_token(site, actions_api):
    actions_api.idle(50)
    result = statsbot_run(site, workflow_env(site, actions_api.url))
    assert result.returncode == 0, result.stderr
    [enable] = actions_api.calls("PUT", ENABLE)
    assert enable["headers"]["Authorization"] == f"Bearer {GITHUB_TEST_TOKEN}"
    assert enable["headers"]["X-Github-Api-Version"] == "2022-11-28"
    [commits] = actions_api.calls("GET", f"/repos/{REPO}/commits")
    assert commits["query"] == "sha=main&per_page=1"  # the default branch's newest commit, not pushed_at
    assert "INFO: keepalive: re-enabled the schedule of statsbot.yml (no commit on main for 50 days); the 60-day clock starts again" in result.stderr
    assert annotations(result, "warning") == [] and "Schedule" not in summary(site)


def test_idle_50_days_without_actions_write_warns_with_the_days_left(site, actions_api):
    actions_api.idle(50)
    actions_api.actions_write = False
    result = statsbot_run(site, workflow_env(site, actions_api.url), "-v")  # debug lines too: still no token
    assert result.returncode == 0, result.stderr
    assert len(actions_api.calls("PUT", ENABLE)) == 1  # tried, refused with 403
    since = actions_api.last_commit.date().isoformat()
    message = (
        f"GitHub will disable this schedule in 10 days (no commit on main since {since}); "
        "give the job `permissions: actions: write` so statsbot keeps it alive, or push a commit."
    )
    assert annotations(result, "warning") == [f"::warning title=statsbot::{message}"]
    assert "**Schedule:** GitHub will disable this schedule in 10 days (no commit on main since " in summary(site)
    assert "give the job `permissions: actions: write` so statsbot keeps it alive, or push a commit." in summary(site)


@pytest.mark.parametrize("idle, keepalive_days", [(10, None), (44, None), (31, 0)])
def test_before_keepalive_days_no_enable_call_and_no_warning(site, actions_api, idle, keepalive_days):
    actions_api.idle(idle)
    actions_api.actions_write = False
    if keepalive_days is not None:
        config = site / "statsbot.toml"
        config.write_text(f"[run]\nkeepalive_days = {keepalive_days}\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    result = statsbot_run(site, workflow_env(site, actions_api.url))
    assert result.returncode == 0, result.stderr
    assert actions_api.calls("PUT", ENABLE) == []
    assert annotations(result, "warning") == [] and "Schedule" not in summary(site)
    if keepalive_days == 0:
        assert actions_api.requests == []  # turned off: not even the state is asked for
    else:
        assert len(actions_api.calls("GET", f"/repos/{REPO}/actions/workflows/{WORKFLOW}")) == 1


def test_a_private_repository_is_left_alone(site, actions_api):
    """GitHub's 60-day rule is for public repositories."""
    actions_api.idle(50)
    actions_api.repos[REPO]["private"] = True
    result = statsbot_run(site, workflow_env(site, actions_api.url))
    assert result.returncode == 0, result.stderr
    assert actions_api.calls("PUT", ENABLE) == [] and annotations(result, "warning") == []
    assert len(actions_api.calls("GET", f"/repos/{REPO}")) == 1  # it did look


def test_a_rate_limited_enable_call_is_not_mistaken_for_a_missing_permission(site, actions_api):
    actions_api.idle(50)
    actions_api.fail(
        lambda r: r.method == "PUT",
        lambda r: json_response(
            {"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest"},
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"},
        ),
    )
    result = statsbot_run(site, workflow_env(site, actions_api.url))
    assert result.returncode == 0, result.stderr
    assert annotations(result, "warning") == []  # no advice about actions: write
    [line] = [line for line in result.stderr.splitlines() if "keepalive" in line]
    assert line.startswith("WARNING: keepalive: could not check the schedule of statsbot.yml: enabling statsbot.yml: rate limited")


def test_keepalive_days_must_stay_under_githubs_60(site):
    config = site / "statsbot.toml"
    config.write_text("[run]\nkeepalive_days = 60\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_statsbot("run", cwd=site)
    assert result.returncode == 2
    assert "run.keepalive_days: must be less than or equal to 59" in result.stderr


@pytest.mark.parametrize("can_enable", [False, True])
def test_a_fork_on_a_manual_run_gets_a_notice(site, actions_api, can_enable):
    actions_api.repos[REPO]["fork"] = True
    actions_api.state = "disabled_fork"
    actions_api.actions_write = can_enable
    result = statsbot_run(site, workflow_env(site, actions_api.url, event="workflow_dispatch"))
    assert result.returncode == 0, result.stderr
    assert len(actions_api.calls("PUT", ENABLE)) == 1
    [notice] = annotations(result, "notice")
    assert notice.startswith("::notice title=statsbot::This repository is a fork: GitHub does not run ")
    if can_enable:
        assert actions_api.state == "active"
        assert "statsbot enabled statsbot.yml's schedule" in notice
    else:
        assert actions_api.state == "disabled_fork"
        assert "until they are enabled: open the fork's Actions tab and enable workflows" in notice
        assert "`permissions: actions: write`" in summary(site)
    assert "This repository is a fork" in summary(site)
    assert annotations(result, "warning") == []


def test_a_schedule_disabled_by_hand_is_never_re_enabled(site, actions_api):
    actions_api.idle(50)
    actions_api.state = "disabled_manually"
    result = statsbot_run(site, workflow_env(site, actions_api.url, event="workflow_dispatch"))
    assert result.returncode == 0, result.stderr
    assert actions_api.calls("PUT", ENABLE) == [] and actions_api.state == "disabled_manually"
    [warning] = annotations(result, "warning")
    assert "was turned off by hand (disabled_manually); statsbot leaves it off" in warning


@pytest.mark.parametrize("can_enable", [True, False])
def test_a_schedule_github_disabled_is_re_enabled_on_a_manual_run_when_permitted(site, actions_api, can_enable):
    actions_api.idle(75)
    actions_api.state = "disabled_inactivity"
    actions_api.actions_write = can_enable
    result = statsbot_run(site, workflow_env(site, actions_api.url, event="workflow_dispatch"))
    assert result.returncode == 0, result.stderr
    assert len(actions_api.calls("PUT", ENABLE)) == 1
    if can_enable:
        assert actions_api.state == "active"
        assert "re-enabled the schedule of statsbot.yml (GitHub had disabled it" in result.stderr
        assert annotations(result, "warning") == []
    else:
        [warning] = annotations(result, "warning")
        assert "GitHub disabled the schedule of statsbot.yml (no commit on main since " in warning
        assert "`permissions: actions: write` so statsbot re-enables it" in warning


def test_an_api_that_is_down_or_failing_leaves_the_run_alone(site, actions_api, closed_port_url):
    baseline = statsbot_run(site, {k: v for k, v in workflow_env(site, actions_api.url).items() if k != "GITHUB_WORKFLOW_REF"})
    assert baseline.returncode == 0 and actions_api.requests == []  # no workflow named: no request

    down = statsbot_run(site, workflow_env(site, closed_port_url))
    assert down.returncode == baseline.returncode
    lines = [line for line in down.stderr.splitlines() if "keepalive" in line]
    assert len(lines) == 1 and lines[0].startswith("WARNING: keepalive: could not check the schedule of statsbot.yml: ")
    assert "connection failed" in lines[0]
    assert annotations(down, "warning") == []

    actions_api.fail(lambda r: r.path == f"/repos/{REPO}", *[lambda r: json_response({"message": "Server Error"}, 500)] * 5)
    failing = statsbot_run(site, workflow_env(site, actions_api.url))
    assert failing.returncode == baseline.returncode
    lines = [line for line in failing.stderr.splitlines() if "keepalive" in line]
    assert len(lines) == 1 and "HTTP 500" in lines[0]


def test_outside_github_actions_no_request_is_made(site, actions_api):
    actions_api.idle(59)
    env = {k: v for k, v in workflow_env(site, actions_api.url).items() if k != "GITHUB_ACTIONS"}
    result = statsbot_run(site, env)
    assert result.returncode == 0, result.stderr
    assert actions_api.requests == []
    assert "keepalive" not in result.stderr and not (site / "summary.md").exists()
