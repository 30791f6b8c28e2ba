"""`statsbot demo`: the whole job offline (Scholar, GitHub and Hugging Face fakes on 127.0.0.1,
the real pipeline, a real push to a bare repository), with nothing of the user's environment
(tokens, endpoints, proxies, git config) reaching it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import run_statsbot

from statsbot.demo import BRANCH, run_demo
from statsbot.demo.server import demo_profile

TOKEN = "ghp_DemoMustNeverSendThis0123456789abcdef"
HF_TOKEN = "hf_DemoMustNeverSendThisEitherXyz987654"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class Trap:
    """An HTTP server on 127.0.0.1 that records every request line, CONNECT included, and
    answers 403: named as every proxy (and as $HF_ENDPOINT), it sees whatever the demo sends
    anywhere but straight to its own fakes."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                trap.requests.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_CONNECT = _record  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def trap():
    server = Trap()
    yield server
    server.close()


def hostile_env(trap: Trap, tmp_path: Path) -> dict[str, str]:
    """A user's environment at its worst for the demo: tokens, another Hub endpoint, proxies."""
    env = {name: trap.url for name in PROXY_VARS}
    env.update({"GITHUB_TOKEN": TOKEN, "GH_TOKEN": TOKEN, "HF_TOKEN": HF_TOKEN, "HF_ENDPOINT": trap.url, "TMPDIR": str(tmp_path)})
    return env


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], capture_output=True, timeout=30, check=True)


def published_to(stdout: str) -> Path:
    match = re.search(rf"^Published to (.+) branch {BRANCH}:$", stdout, re.MULTILINE)
    assert match, stdout
    return Path(match.group(1))


def test_demo_pushes_the_whole_job_to_a_bare_repository_and_shows_the_commit(trap, tmp_path, monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    result = run_statsbot("demo", cwd=tmp_path, env=hostile_env(trap, tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout

    # Every fake served requests, and nothing went anywhere else (no proxy, no $HF_ENDPOINT).
    served = re.search(r"(\d+)-request Scholar profile from 127\.0\.0\.1, and GitHub \((\d+) requests?\) and Hugging Face \((\d+) requests?\)", out)
    assert served and all(int(n) > 0 for n in served.groups()), out
    assert trap.requests == []

    # The output ends with the commit, as `git show --stat` shows it, kept short.
    bare = published_to(out)
    tail = out[out.index("Published to") :].splitlines()
    commit = git("--git-dir", str(bare), "rev-parse", f"refs/heads/{BRANCH}").stdout.decode().strip()
    assert tail[1] == f"commit {commit}"
    assert "Author: statsbot demo <demo@statsbot.invalid>" in tail
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", BRANCH).stdout.decode().split()
    assert re.fullmatch(rf" {len(files)} files changed, \d+ insertions\(\+\)", tail[-1]), tail[-1]
    assert len(files) > 150 and len(tail) < 20

    # The branch holds every source's entry, fresh.
    stats = json.loads(git("--git-dir", str(bare), "show", f"{BRANCH}:stats.json").stdout)
    sources = stats["sources"]
    assert sources["scholar"][demo_profile()["scholar_id"]]["status"] == "ok"
    assert {e["status"] for e in sources["github"].values()} == {"ok"} and len(sources["github"]) == 2
    assert {e["status"] for e in sources["huggingface"].values()} == {"ok"} and len(sources["huggingface"]) == 2
    assert "badges/huggingface/zoe-example/climate-emulator-small/downloads.json" in files

    # The tokens are nowhere: not in any object or config of either repository, not in the output.
    objects = git("--git-dir", str(bare), "cat-file", "--batch-all-objects", "--batch").stdout
    site = bare.parent / "site" / ".git"
    configs = (bare / "config").read_bytes() + (site / "config").read_bytes()
    for secret in (TOKEN, HF_TOKEN):
        assert secret.encode() not in objects + configs
        assert secret not in out + result.stderr


def test_demo_sends_no_token_and_leaves_the_environment_as_it_was(trap, tmp_path, monkeypatch):
    for name, value in hostile_env(trap, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_PROXY", "intranet.example")
    monkeypatch.delenv("no_proxy", raising=False)
    before = dict(os.environ)
    demo = run_demo(tmp_path / "out", tmp_path / "work")
    assert dict(os.environ) == before
    assert trap.requests == []
    assert all(demo.served[name] > 0 for name in ("Scholar", "GitHub", "Hugging Face")), demo.served
    for requests in demo.received.values():
        for request in requests:
            assert request.client == "127.0.0.1"
            assert "Authorization" not in request.headers
            assert not any(secret in value for value in request.headers.values() for secret in (TOKEN, HF_TOKEN))
            assert TOKEN not in request.path and HF_TOKEN not in request.path
    assert not set(demo.env) & {"GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "HF_ENDPOINT", *PROXY_VARS}
    assert [r.status for r in demo.report.results if r.status != "ok"] == []
    assert demo.report.published.status == "pushed" and demo.remote == tmp_path / "work" / "remote.git"


def test_demo_output_flag_writes_there_what_the_branch_holds(tmp_path):
    out = tmp_path / "here"
    result = run_statsbot("demo", "--output", str(out), cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    bare = published_to(result.stdout)
    on_branch = set(git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", BRANCH).stdout.decode().split())
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert written == on_branch
    for path in ("gs_data.json", "badges/github/zoe-example/stars-total.json", "badges/huggingface/zoe-example/contrastive-vit-base/likes.json"):
        assert (out / path).read_bytes() == git("--git-dir", str(bare), "show", f"{BRANCH}:{path}").stdout


def test_demo_without_git_writes_everything_and_says_publishing_was_skipped(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    result = run_statsbot("demo", "--output", str(out), cwd=tmp_path, env={"PATH": str(empty), "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().splitlines()[-1] == "Publishing skipped: git is not installed (or not on PATH)."
    assert "Published to" not in result.stdout
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert {"scholar", "github", "huggingface"} <= set(stats["sources"])
    assert (out / "badges" / "github" / "zoe-example" / "stars-total.json").is_file()

