"""Planted tokens never leave the process: not in logs, errors, stats.json, the summary,
output files, the data branch, or anything under .git."""

from __future__ import annotations

import base64

from conftest import GITHUB_TEST_TOKEN, HF_TEST_TOKEN, OPENALEX_TEST_KEY, S2_TEST_KEY, run_statsbot, write_config
from fakes import json_response
from gitutil import GitHttpServer, git, isolated_git_env, make_homepage, tree_files
from scholar_fixtures import make_profile

UID = "TestUser01AJ"
PROXY_PASSWORD = "pr0xy-S3cret-pass"


def test_planted_tokens_appear_in_no_byte_the_run_produced(tmp_path, scholar_site, github_api, hub_api, openalex_api, s2_api):
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
        openalex_api.add("A5023888391", "Zoë", works=[3, 2], h_index=2, i10_index=0)
        s2_api.add_author("1741101", "Zoë", citations=9, h_index=2, papers=2)
        # Careless servers that echo the key they got (in the URL, in a header) into their answers.
        openalex_api.fail(
            lambda r: r.path == "/works",
            *[lambda r: json_response({"error": "boom", "message": f"failed for {r.url}"}, 500)] * 5,
        )
        s2_api.fail(
            lambda r: r.path.endswith("/papers"),
            *[lambda r: json_response({"message": f"bad key {r.headers.get('x-api-key')}"}, 500)] * 5,
        )
        write_config(
            site,
            f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n'
            f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\n'
            f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n'
            f'[openalex]\nendpoint = "{openalex_api.url}"\nauthors = ["A5023888391"]\nretries = 0\n'
            f'[semanticscholar]\nendpoint = "{s2_api.url}"\nauthors = ["1741101"]\nretries = 0\n',
        )
        planted = {
            **env,
            "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
            "HF_TOKEN": HF_TEST_TOKEN,
            "OPENALEX_API_KEY": OPENALEX_TEST_KEY,
            "S2_API_KEY": S2_TEST_KEY,
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
    assert openalex_api.api_keys() and set(openalex_api.api_keys()) == {OPENALEX_TEST_KEY}  # the keys were used
    assert S2_TEST_KEY in s2_api.keys_sent
    for secret in (GITHUB_TEST_TOKEN.encode(), HF_TEST_TOKEN.encode(), header, PROXY_PASSWORD.encode(),
                   OPENALEX_TEST_KEY.encode(), S2_TEST_KEY.encode()):
        assert secret not in everything
    assert len(tree_files(remote, "google-scholar-stats")) > 3  # it did publish, over the token-checking remote
