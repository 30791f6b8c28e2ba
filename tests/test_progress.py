"""Progress of long steps: a live counter on a terminal, plain log lines otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from conftest import run_statsbot, write_config


def config_with_repos(tmp_path, github_api, n):
    for i in range(n):
        github_api.add_repo(f"alice/r{i:02d}", i)
    names = ", ".join(f'"alice/r{i:02d}"' for i in range(n))
    write_config(tmp_path, f'[github]\napi_url = "{github_api.url}"\nrepos = [{names}]\n')


def test_plain_log_lines_when_not_on_a_terminal(tmp_path, github_api):
    config_with_repos(tmp_path, github_api, 40)
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if "GitHub repositories:" in line]
    assert lines[-1] == "INFO: GitHub repositories: 40 of 40"
    assert 2 <= len(lines) <= 5 and "\r" not in result.stderr


def test_a_live_counter_on_a_terminal(tmp_path, github_api):
    config_with_repos(tmp_path, github_api, 12)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")}
    process = subprocess.Popen([sys.executable, "-m", "statsbot", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert process.wait(timeout=60) == 0
    os.close(leader)
    screen = b"".join(chunks).decode()
    assert "\rGitHub repositories: 1 of 12" in screen
    assert "\rGitHub repositories: 12 of 12\r\n" in screen or "\rGitHub repositories: 12 of 12\n" in screen
