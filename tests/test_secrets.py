"""Planted tokens never leave the process: not in logs, errors, stats.json, the summary,
output files, the data branch, or anything under .git."""

from __future__ import annotations

import base64

from conftest import GITHUB_TEST_TOKEN, HF_TEST_TOKEN, run_statsbot, write_config
from fakes import json_response
from gitutil import GitHttpServer, git, isolated_git_env, make_homepage, tree_files
from scholar_fixtures import make_profile

UID = "TestUser01AJ"
PROXY_PASSWORD = "pr0xy-S3cret-pass"


def test_planted_tokens_appear_in_no_byte_the_run_produced(tmp_path, scholar_site, github_api, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    git("config", "http.receivepack", "true", cwd=remote)
    server = GitHttpServer(tmp_path, GITHUB_TEST_TOKEN)
    try:
        git("remote", "set-url", "origin", server.url("remote.git"), cwd=site)
        scholar_site.add(make_profile(5, UID))
        github_api.add_repo("alice/tool", 10, 1)
        # A careless server that echoes the credentials it got into its error message.
        github_api.fail(
            lambda r: r.path == "/graphql",
            lambda r: json_response({"data": None, "errors": [{"message": f"Bad credentials: {r.headers.get('Authorization')}"}]}),
        )
        hub_api.add("models", "lab/m", 5, 1, 5)
        write_config(
            site,
            f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n'
            f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\n'
            f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n',
        )
        planted = {
            **env,
            "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
            "HF_TOKEN": HF_TEST_TOKEN,
            "HTTP_PROXY": f"http://someone:{PROXY_PASSWORD}@127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "GITHUB_SERVER_URL": server.url("").rstrip("/"),  # the token goes to the GitHub server only
        }
        result = run_statsbot("run", "-vv", cwd=site, env=planted)
    finally:
        server.close()

    assert result.returncode == 3, result.stderr  # the GitHub item failed (with the echo), the rest published
    assert "Bad credentials: Bearer ***" in result.stdout  # the echo reached the summary, redacted

    produced = [result.stdout.encode(), result.stderr.encode()]
    produced += [p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()]
    produced += [p.read_bytes() for p in (site / ".git").rglob("*") if p.is_file()]
    produced += list(tree_files(remote, "google-scholar-stats").values())
    everything = b"\n".join(produced)
    header = base64.b64encode(f"x-access-token:{GITHUB_TEST_TOKEN}".encode())
    for secret in (GITHUB_TEST_TOKEN.encode(), HF_TEST_TOKEN.encode(), header, PROXY_PASSWORD.encode()):
        assert secret not in everything
    assert len(tree_files(remote, "google-scholar-stats")) > 3  # it did publish, over the token-checking remote
