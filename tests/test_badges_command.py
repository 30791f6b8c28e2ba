"""`statsbot badges`: one ready-to-paste line per badge and chart, URLs correctly encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from conftest import run_statsbot, write_config
from gitutil import git, isolated_git_env, make_homepage


def published_site(tmp_path, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, _ = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 1234, 5, 9999)
    write_config(site, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    (site / "output").rename(tmp_path / "moved-away")  # what remains is the data branch
    git("remote", "set-url", "--push", "origin", "https://github.com/zoe/zoe.github.io.git", cwd=site)
    git("remote", "set-url", "origin", "https://github.com/zoe/zoe.github.io.git", cwd=site)
    return site, env


def test_markdown_snippets_from_the_data_branch(tmp_path, hub_api):
    site, env = published_site(tmp_path, hub_api)
    result = run_statsbot("badges", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    badge = next(line for line in lines if line.startswith("![huggingface/lab/m/downloads]") and "shields" in line)
    assert badge.startswith("![huggingface/lab/m/downloads](https://img.shields.io/endpoint?url=")
    shields = badge[badge.index("(") + 1 : -1]
    raw = parse_qs(urlsplit(shields).query)["url"][0]
    assert raw == "https://raw.githubusercontent.com/zoe/zoe.github.io/google-scholar-stats/badges/huggingface/lab/m/downloads.json"
    assert "url=https%3A%2F%2Fraw.githubusercontent.com%2Fzoe%2Fzoe.github.io%2Fgoogle-scholar-stats%2F" in shields
    assert "# Charts (SVG)" in lines
    assert "![huggingface/lab/m/downloads](https://raw.githubusercontent.com/zoe/zoe.github.io/google-scholar-stats/charts/huggingface/lab/m/downloads.svg)" in lines


def test_cdn_and_html_and_url_formats(tmp_path, hub_api):
    site, env = published_site(tmp_path, hub_api)
    cdn = run_statsbot("badges", "--cdn", "--format", "url", cwd=site, env=env).stdout.splitlines()
    assert "https://img.shields.io/endpoint?url=https%3A%2F%2Fcdn.jsdelivr.net%2Fgh%2Fzoe%2Fzoe.github.io%40google-scholar-stats%2Fbadges%2Fhuggingface%2Flab%2Fm%2Flikes.json" in cdn
    html = run_statsbot("badges", "--format", "html", "--repo", "other/site", cwd=site, env=env).stdout
    assert '<img alt="huggingface/lab/m/likes" src="https://img.shields.io/endpoint?url=https%3A%2F%2Fraw.githubusercontent.com%2Fother%2Fsite%2F' in html


def test_without_a_repository_it_asks_for_one(tmp_path):
    write_config(tmp_path, '[huggingface]\nmodels = ["lab/m"]\n')
    result = run_statsbot("badges", cwd=tmp_path)
    assert result.returncode == 2 and "give --repo OWNER/NAME" in result.stderr
