"""Secrets and output stay contained: the GitHub token goes to the GitHub server only, text a
server sent cannot inject GitHub Actions workflow commands, and Scholar requests go through the
proxy the environment names (as GitHub's and Hugging Face's do)."""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import GITHUB_TEST_TOKEN, run_statsbot, write_config
from fakes import json_response
from gitutil import GitHttpServer, basic_header, branch_commits, git, isolated_git_env, make_homepage
from proxyutil import RecordingProxy
from scholar_fixtures import make_profile
from statsbot.publish import github_server_origins
from statsbot.redact import RedactingFormatter

UID = "TestUser01AJ"
OTHER_TOKEN = "glpat-" + "0therH0stCredentialNeverReal42"
PROXY_PASSWORD = "pr0xy-Pa55word-for-tests"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy")


# ------------------------------------------------------------------ the git token's scope


def _everything(site: Path, result: Any) -> str:
    """stdout, stderr and every file under .git and output/, as text."""
    produced = result.stdout + result.stderr
    for folder in (site / ".git", site / "output"):
        for path in folder.rglob("*"):
            if path.is_file():
                produced += path.read_bytes().decode("latin-1")
    return produced


def _assert_no_token(site: Path, result: Any) -> None:
    produced = _everything(site, result)
    assert GITHUB_TEST_TOKEN not in produced
    assert basic_header(GITHUB_TEST_TOKEN).split()[1] not in produced
    assert "extraheader" not in (site / ".git" / "config").read_text()


@pytest.fixture
def other_host(tmp_path, hub_api):
    """A homepage whose origin is a smart-HTTP server on 127.0.0.1 that is not the GitHub server:
    it accepts only its own credential (`OTHER_TOKEN`), as a GitLab or Gitea would."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    git("config", "http.receivepack", "true", cwd=remote)
    server = GitHttpServer(tmp_path, OTHER_TOKEN)
    git("remote", "set-url", "origin", server.url("remote.git"), cwd=site)
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(site, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    yield site, remote, env, server
    server.close()


@pytest.mark.parametrize("server_url", ["https://github.com", "http://127.0.0.1:1", "http://localhost:{port}"],
                         ids=["github.com", "another-port", "another-host-name"])
def test_the_token_is_not_sent_to_an_origin_on_another_host(other_host, server_url):
    site, remote, env, server = other_host
    port = urlsplit(server.url("")).port
    result = run_statsbot("run", cwd=site, env={**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
                                                "GITHUB_SERVER_URL": server_url.format(port=port)})
    assert server.seen_authorization  # git did ask
    assert set(server.seen_authorization) == {None}  # and never with the token
    assert result.returncode == 1  # that server wants its own credentials: none were given
    assert f"not sending $GITHUB_TOKEN to 127.0.0.1:{port}" in result.stderr
    assert f"git could not authenticate to 127.0.0.1:{port}" in result.stderr
    assert "permissions: contents: write" not in result.stderr  # not the advice for a GitHub token
    assert branch_commits(remote) == []
    _assert_no_token(site, result)


def test_another_hosts_own_credentials_push_and_the_token_stays_home(other_host):
    site, remote, env, server = other_host
    host = urlsplit(server.url("")).netloc
    git("remote", "set-url", "origin", f"http://x-access-token:{OTHER_TOKEN}@{host}/remote.git", cwd=site)
    result = run_statsbot("run", cwd=site, env={**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
                                                "GITHUB_SERVER_URL": "https://github.com"})
    assert result.returncode == 0, result.stderr
    assert len(branch_commits(remote)) == 1
    seen = {auth.lower() if auth else auth for auth in server.seen_authorization}
    assert basic_header(OTHER_TOKEN).lower() in seen
    assert seen <= {None, basic_header(OTHER_TOKEN).lower()}
    assert OTHER_TOKEN not in result.stdout + result.stderr  # the URL's credentials are redacted too
    _assert_no_token(site, result)


def test_the_token_reaches_an_enterprise_server_named_by_api_url(tmp_path, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    git("config", "http.receivepack", "true", cwd=remote)
    server = GitHttpServer(tmp_path, GITHUB_TEST_TOKEN)
    try:
        git("remote", "set-url", "origin", server.url("remote.git"), cwd=site)
        hub_api.add("models", "lab/m", 7, 0, 7)
        enterprise = server.url("api/v3")  # the git server's host is the GitHub Enterprise server
        write_config(site, f'[github]\napi_url = "{enterprise}"\n[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
        result = run_statsbot("run", cwd=site, env={**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
                                                    "GITHUB_SERVER_URL": "https://github.com"})
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert len(branch_commits(remote)) == 1
    assert basic_header(GITHUB_TEST_TOKEN) in server.seen_authorization
    _assert_no_token(site, result)


@pytest.mark.parametrize(
    "env, api_url, expected",
    [
        ({}, None, {("https", "github.com", 443)}),
        ({}, "https://api.github.com", {("https", "github.com", 443)}),
        ({"GITHUB_SERVER_URL": "https://ghe.example.test"}, "https://ghe.example.test/api/v3", {("https", "ghe.example.test", 443)}),
        ({"GITHUB_SERVER_URL": "https://github.com"}, "https://ghe.example.test:8443/api/v3",
         {("https", "github.com", 443), ("https", "ghe.example.test", 8443)}),
    ],
    ids=["default", "api.github.com", "enterprise", "enterprise-api-only"],
)
def test_which_origins_count_as_the_github_server(env, api_url, expected):
    assert github_server_origins(env, api_url) == expected


# --------------------------------------------------- fetched text cannot inject workflow commands


EVIL_NAME = "Evil\n::error title=x::pwned\r\n::add-mask::maskme\u2028  ::warning::sep ##[add-mask]old-style\x1b[31m"
EVIL_TITLE = "Paper\n::error::title-injected\r\n##[set-output name=changed;]true"
EVIL_MOVED = "alice/new\n::error title=gh::moved-injected\r\n##[stop-commands]stopped"
EVIL_MESSAGE = "gone\n::error::message-injected\r\n::add-mask::x ##[add-mask]y"
OWN_ANNOTATION = ("::warning title=statsbot::", "::error title=statsbot::")


def _assert_no_injected_line(text: str) -> None:
    """No line starts a workflow command (after leading spaces, as the runner reads it) unless it is one
    of statsbot's own annotations, and the old `##[` syntax appears nowhere."""
    for line in text.splitlines():
        if line.lstrip().startswith("::"):
            assert line.startswith(OWN_ANNOTATION), line
            # an annotation's data is escaped: the injected text is inside it, never a command of its own
            assert line.count("::") == 2 or "%0A" not in line, line
    assert "##[" not in text
    assert "\x1b" not in text


def test_server_text_cannot_inject_workflow_commands(tmp_path, scholar_site, github_api):
    profile = make_profile(3, UID)
    profile["name"] = EVIL_NAME
    profile["publications"][0]["title"] = EVIL_TITLE
    scholar_site.add(profile)
    github_api.add_repo("alice/tool", 5, 1)
    github_api.add_repo("alice/gone", 1, 0)
    github_api.fail(
        lambda r: r.path == "/graphql",
        lambda r: json_response({
            "data": {"r0": None, "r1": {"nameWithOwner": EVIL_MOVED, "stargazerCount": 5, "forkCount": 1},
                     "rateLimit": {"remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"}},
            "errors": [{"path": ["r0"], "type": "FORBIDDEN", "message": EVIL_MESSAGE}],
        }),
    )
    write_config(
        tmp_path,
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n'
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/gone", "alice/tool"]\n',
    )
    summary, outputs = tmp_path / "summary.md", tmp_path / "github_output.txt"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs),
           "GITHUB_TOKEN": GITHUB_TEST_TOKEN}
    result = run_statsbot("run", cwd=tmp_path, env=env)
    assert result.returncode == 3, result.stderr  # alice/gone: error

    # The evil text did arrive, unchanged, where it belongs (JSON data files) ...
    gs_data = json.loads((tmp_path / "output" / "gs_data.json").read_text(encoding="utf-8"))
    assert gs_data["name"].startswith("Evil\n::error title=x::pwned")
    assert any(pub["bib"]["title"].startswith("Paper\n::error::title-injected") for pub in gs_data["publications"].values())
    stats = json.loads((tmp_path / "output" / "stats.json").read_text(encoding="utf-8"))
    # (a "moved to" name that is not owner/name is not trusted at all: it is ignored, with a warning)
    assert "moved_to" not in stats["sources"]["github"]["alice/tool"]
    # ... and reached the console only as one line each.
    assert "scholar TestUser01AJ (Evil ::error title=x::pwned" in result.stdout
    assert "moved to" not in result.stdout
    assert "the answer names it 'alice/new\\n::error title=gh::moved-injected" in result.stderr  # the log line, repr()
    assert "message-injected" in result.stdout and "message-injected" in result.stderr
    _assert_no_injected_line(result.stdout)
    _assert_no_injected_line(result.stderr)
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert all(line.startswith(OWN_ANNOTATION) for line in annotations)
    gone = [line for line in annotations if line.startswith("::error title=statsbot::github alice/gone failed")]
    assert len(gone) == 1 and "message-injected" in gone[0]

    text = summary.read_text(encoding="utf-8")
    assert "message-injected" in text
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert line.startswith(("## statsbot", "| ", "**")) or line == "", line
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 3 for line in table[2:])  # four cells in every row

    assert outputs.read_text(encoding="utf-8").splitlines() == ["changed=true", "stale=true"]


def test_log_lines_stay_one_line_and_tracebacks_are_prefixed():
    formatter = RedactingFormatter("%(levelname)s: %(message)s")
    try:
        raise ValueError("boom\n::error title=x::from-an-exception")
    except ValueError:
        record = logging.LogRecord("statsbot", logging.ERROR, __file__, 1, "repository %s failed", (EVIL_MOVED,), sys.exc_info())
    lines = formatter.format(record).splitlines()
    assert lines[0] == "ERROR: repository alice/new ::error title=gh::moved-injected  # #[stop-commands]stopped failed"
    assert len(lines) > 2 and all(line.startswith("    | ") for line in lines[1:])
    assert any("from-an-exception" in line for line in lines[1:])
    for line in lines:
        assert not line.lstrip().startswith("::") and "##[" not in line


# ---------------------------------------------------------------- proxies from the environment


@pytest.fixture
def proxy(monkeypatch):
    for name in PROXY_VARIABLES:  # only the variables a test sets reach the child process
        monkeypatch.delenv(name, raising=False)
    server = RecordingProxy()
    yield server
    server.close()


def _proxied_run(tmp_path: Path, scholar_site: Any, hub_api: Any, env: dict[str, str], *args: str) -> tuple[Any, dict[str, Any]]:
    profile = scholar_site.add(make_profile(150, UID))
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    write_config(
        tmp_path,
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\nretries = 0\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n',
    )
    return run_statsbot("run", *args, cwd=tmp_path, env=env), profile


def _scholar_lines(proxy: RecordingProxy, scholar_site: Any) -> list[str]:
    return [line for line in proxy.requests if line.startswith(f"GET {scholar_site.url}/citations")]


@pytest.mark.parametrize(
    "variables",
    [
        {"HTTP_PROXY": "http://{proxy}"},
        {"ALL_PROXY": "http://{proxy}"},
        # NO_PROXY applies to the rebased URL (base_url's host), not to scholar.google.com
        {"HTTP_PROXY": "http://{proxy}", "HTTPS_PROXY": "http://{proxy}", "NO_PROXY": "scholar.google.com,huggingface.co"},
    ],
    ids=["HTTP_PROXY", "ALL_PROXY", "NO_PROXY-names-other-hosts"],
)
def test_scholar_and_the_hub_go_through_the_proxy_from_the_environment(tmp_path, scholar_site, hub_api, proxy, variables):
    env = {name: value.format(proxy=proxy.address) for name, value in variables.items()}
    result, profile = _proxied_run(tmp_path, scholar_site, hub_api, env)
    assert result.returncode == 0, result.stderr
    assert _scholar_lines(proxy, scholar_site) == [
        f"GET {scholar_site.url}/citations?hl=en&user={UID}&pagesize=100",
        f"GET {scholar_site.url}/citations?hl=en&user={UID}&cstart=100&pagesize=100",
    ]
    assert len(scholar_site.requests()) == 2  # each page fetched once, through the proxy
    assert any(line.startswith(f"GET {hub_api.url}/api/models/lab/m") for line in proxy.requests)  # requests, too
    stats = json.loads((tmp_path / "output" / "stats.json").read_text(encoding="utf-8"))
    metrics = stats["sources"]["scholar"][UID]["metrics"]
    assert metrics["citations"] == profile["stats"]["citations"] and metrics["publications"] == 150
    assert stats["sources"]["huggingface"]["lab/m"]["metrics"]["downloads"] == 1234


@pytest.mark.parametrize("no_proxy", ["localhost,127.0.0.1", "*"])  # the Scholar fixture's URL says localhost
def test_no_proxy_bypasses_the_proxy(tmp_path, scholar_site, hub_api, proxy, no_proxy):
    env = {"HTTP_PROXY": f"http://{proxy.address}", "ALL_PROXY": f"http://{proxy.address}", "NO_PROXY": no_proxy}
    result, _ = _proxied_run(tmp_path, scholar_site, hub_api, env)
    assert result.returncode == 0, result.stderr
    assert proxy.requests == []
    assert len(scholar_site.requests()) == 2


def test_proxy_credentials_are_used_and_never_shown(tmp_path, scholar_site, hub_api, proxy):
    env = {"HTTP_PROXY": f"http://tester:{PROXY_PASSWORD}@{proxy.address}"}
    result, _ = _proxied_run(tmp_path, scholar_site, hub_api, env, "-vv")
    assert result.returncode == 0, result.stderr
    assert len(_scholar_lines(proxy, scholar_site)) == 2
    expected = "Basic " + base64.b64encode(f"tester:{PROXY_PASSWORD}".encode()).decode()
    assert set(proxy.proxy_authorization) == {expected}  # Scholar's and the Hub's requests both
    produced = result.stdout + result.stderr
    produced += "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "output").rglob("*") if p.is_file())
    assert PROXY_PASSWORD not in produced
    assert base64.b64encode(f"tester:{PROXY_PASSWORD}".encode()).decode() not in produced


def test_a_proxy_httpx_cannot_use_is_the_scholar_items_error(tmp_path, scholar_site, hub_api, proxy):
    env = {"HTTPS_PROXY": f"ftp://tester:{PROXY_PASSWORD}@127.0.0.1:9", "HTTP_PROXY": f"ftp://tester:{PROXY_PASSWORD}@127.0.0.1:9",
           "NO_PROXY": "localhost"}
    result, _ = _proxied_run(tmp_path, scholar_site, hub_api, env)
    assert result.returncode == 3, result.stderr  # the profile has no earlier value: error; the rest published
    assert "the proxy from the environment (ftp://...) cannot be used" in result.stdout
    assert scholar_site.requests() == []
    assert PROXY_PASSWORD not in result.stdout + result.stderr
