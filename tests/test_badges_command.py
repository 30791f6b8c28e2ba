"""`statsbot badges`: one ready-to-paste line per badge and chart, URLs correctly encoded, grouped by
source, papers named by their titles, `--only`, `--cdn` (pinned to the pushed commit) and
`--format js` (the page script and its tag)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

from conftest import GITHUB_TEST_TOKEN, HF_TEST_TOKEN, run_statsbot, write_config
from gitutil import branch_commits, git, isolated_git_env, make_homepage
from scholar_fixtures import make_profile

from statsbot.snippets import page_script

BRANCH = "google-scholar-stats"
UID, ADA = "TestUser01AJ", "AdaLovelac0J"
GITHUB_URL = "https://github.com/zoe/zoe.github.io.git"
RAW = f"https://raw.githubusercontent.com/zoe/zoe.github.io/{BRANCH}/"
JSDELIVR = "https://cdn.jsdelivr.net/gh/zoe/zoe.github.io@"


def published_site(tmp_path, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, _ = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 1234, 5, 9999)
    write_config(site, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    (site / "output").rename(tmp_path / "moved-away")  # what remains is the data branch
    git("remote", "set-url", "--push", "origin", GITHUB_URL, cwd=site)
    git("remote", "set-url", "origin", GITHUB_URL, cwd=site)
    return site, env


def every_source_site(tmp_path, scholar_site, github_api, hub_api, *, keep_output=False, push=True):
    """A homepage whose data branch (pushed to a bare remote) has Scholar, GitHub, Hugging Face and a lab."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home") | {"GITHUB_TOKEN": GITHUB_TEST_TOKEN, "HF_TOKEN": HF_TEST_TOKEN}
    site, remote = make_homepage(tmp_path, env)
    profile = scholar_site.add(make_profile(6, UID))
    scholar_site.add(make_profile(2, ADA, seed=3))
    github_api.add_repo("alice/tool", 4321, 12)
    hub_api.add("models", "lab/model", 2500, 7, 100_000)
    write_config(
        site,
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\nretries = 0\n'
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\nusers = ["alice"]\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/model"]\n'
        f'[[people]]\nname = "Ada Lovelace"\nscholar = "{ADA}"\n',
    )
    result = run_statsbot("run", *(() if push else ("--no-push",)), cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    if not keep_output:
        (site / "output").rename(tmp_path / "moved-away")  # titles and paths must come from the data branch
    return site, remote, env, profile


def sections(stdout):
    """Group heading -> the group's lines: the header comes first, then each group after a blank line."""
    blocks = stdout.split("\n\n")[1:]
    return {block.splitlines()[0].removeprefix("# "): block.splitlines()[1:] for block in blocks}


def headings(stdout):
    return list(sections(stdout))


def badge_path(line):
    """The data-branch path inside a markdown badge line's shields.io URL."""
    shields = line[line.index("](") + 2 : -1]
    return parse_qs(urlsplit(shields).query)["url"][0].split(f"{BRANCH}/", 1)[1]


def test_markdown_snippets_from_the_data_branch(tmp_path, hub_api):
    site, env = published_site(tmp_path, hub_api)
    result = run_statsbot("badges", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    badge = next(line for line in lines if line.startswith("![Hugging Face lab/m downloads]") and "shields" in line)
    assert badge.startswith("![Hugging Face lab/m downloads](https://img.shields.io/endpoint?url=")
    shields = badge[badge.index("(") + 1 : -1]
    raw = parse_qs(urlsplit(shields).query)["url"][0]
    assert raw == "https://raw.githubusercontent.com/zoe/zoe.github.io/google-scholar-stats/badges/huggingface/lab/m/downloads.json"
    assert "url=https%3A%2F%2Fraw.githubusercontent.com%2Fzoe%2Fzoe.github.io%2Fgoogle-scholar-stats%2F" in shields
    assert "## charts (SVG)" in lines
    assert "![Hugging Face lab/m downloads](https://raw.githubusercontent.com/zoe/zoe.github.io/google-scholar-stats/charts/huggingface/lab/m/downloads.svg)" in lines
    assert "#   raw.githubusercontent.com (the URLs below): cached 300 s." in lines


def test_cdn_and_html_and_url_formats(tmp_path, hub_api):
    site, env = published_site(tmp_path, hub_api)
    cdn = run_statsbot("badges", "--cdn", "--format", "url", cwd=site, env=env).stdout.splitlines()
    assert "https://img.shields.io/endpoint?url=https%3A%2F%2Fcdn.jsdelivr.net%2Fgh%2Fzoe%2Fzoe.github.io%40google-scholar-stats%2Fbadges%2Fhuggingface%2Flab%2Fm%2Flikes.json" in cdn
    html = run_statsbot("badges", "--format", "html", "--repo", "other/site", cwd=site, env=env).stdout
    assert '<img alt="Hugging Face lab/m likes" src="https://img.shields.io/endpoint?url=https%3A%2F%2Fraw.githubusercontent.com%2Fother%2Fsite%2F' in html


def test_without_a_repository_it_asks_for_one(tmp_path):
    write_config(tmp_path, '[huggingface]\nmodels = ["lab/m"]\n')
    result = run_statsbot("badges", cwd=tmp_path)
    assert result.returncode == 2 and "give --repo OWNER/NAME" in result.stderr


def test_groups_by_source_in_registry_order_profile_before_items(tmp_path, scholar_site, github_api, hub_api):
    site, _, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api)
    result = run_statsbot("badges", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    assert headings(result.stdout) == ["Google Scholar", "GitHub", "Hugging Face", "Lab (group)", "This page (headline)"]
    blocks = sections(result.stdout)
    charts = blocks["Google Scholar"].index("## charts (SVG)")
    member = blocks["Google Scholar"].index("## Ada Lovelace (lab member)")
    owner = [badge_path(line) for line in blocks["Google Scholar"][:member] if line.startswith("![")]
    assert owner[:3] == [f"badges/scholar/{UID}/{name}.json" for name in ("citations", "h-index", "i10-index")]
    assert owner[3:] and all(path.startswith(f"badges/scholar/{UID}/papers/") for path in owner[3:])
    ada = [badge_path(line) for line in blocks["Google Scholar"][member:charts] if line.startswith("![")]
    assert ada[:3] == [f"badges/scholar/{ADA}/{name}.json" for name in ("citations", "h-index", "i10-index")]
    assert ada[3:] and all(path.startswith(f"badges/scholar/{ADA}/papers/") for path in ada[3:])
    assert all(line.startswith(f"![Google Scholar {UID} ") for line in blocks["Google Scholar"][charts + 1 :])
    github = [badge_path(line) for line in blocks["GitHub"] if line.startswith("![") and "img.shields.io" in line]
    assert github == [
        "badges/github/stars-total.json",
        "badges/github/alice/stars-total.json",
        "badges/github/alice/tool/forks.json",
        "badges/github/alice/tool/stars.json",
    ]
    lab = [badge_path(line) for line in blocks["Lab (group)"] if line.startswith("![")]
    assert lab == ["badges/group/citations.json", "badges/group/h-index.json", "badges/group/people.json"]
    page = [line for line in blocks["This page (headline)"] if line.startswith("![")]
    assert [badge_path(line) for line in page[:2]] == ["badges/citations.json", "gs_data_shieldsio.json"]


def test_paper_badges_are_labelled_with_their_titles_most_cited_first(tmp_path, scholar_site, github_api, hub_api):
    site, _, env, profile = every_source_site(tmp_path, scholar_site, github_api, hub_api)
    result = run_statsbot("badges", "--only", "scholar", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    badges = {badge_path(line): line for line in result.stdout.splitlines() if line.startswith("![") and "img.shields.io" in line}
    papers = {path: line for path, line in badges.items() if path.startswith(f"badges/scholar/{UID}/papers/")}
    assert len(papers) == len(profile["publications"])
    for pub in profile["publications"]:
        line = papers[f"badges/scholar/{UID}/papers/{pub['pub_id']}.json"]
        assert line.startswith(f"![{pub['title']} ({pub['year']}): citations](https://img.shields.io/endpoint?url=")
    order = [path.rsplit("/", 1)[1].removesuffix(".json") for path in papers]
    by_citations = sorted(profile["publications"], key=lambda pub: (-(pub["citations"] or 0), pub["pub_id"]))
    assert order == [pub["pub_id"] for pub in by_citations]

    html = run_statsbot("badges", "--only", "scholar", "--format", "html", cwd=site, env=env).stdout
    first = profile["publications"][0]
    assert f'<img alt="{first["title"]} ({first["year"]}): citations" src=' in html
    url = run_statsbot("badges", "--only", "scholar", "--format", "url", cwd=site, env=env).stdout.splitlines()
    at = url.index(f"# {first['title']} ({first['year']}): citations")
    assert url[at + 1].endswith(quote(f"/papers/{first['pub_id']}.json", safe=""))


def test_titles_come_from_the_output_folder_before_the_branch(tmp_path, scholar_site, github_api, hub_api):
    site, _, env, profile = every_source_site(tmp_path, scholar_site, github_api, hub_api, keep_output=True)
    papers_file = site / "output" / "data" / "scholar" / UID / "papers.json"
    records = json.loads(papers_file.read_text(encoding="utf-8"))
    records[0]["title"] = "A title only the output folder has"
    papers_file.write_text(json.dumps(records), encoding="utf-8")
    result = run_statsbot("badges", "--only", "scholar", cwd=site, env=env)
    assert f"![A title only the output folder has ({records[0]['year']}): citations]" in result.stdout


def test_only_takes_groups_repeated_or_as_a_list_and_names_the_choices(tmp_path, scholar_site, github_api, hub_api):
    site, _, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api)
    listed = run_statsbot("badges", "--only", "github,page", cwd=site, env=env)
    assert listed.returncode == 0, listed.stderr
    assert headings(listed.stdout) == ["GitHub", "This page (headline)"]
    repeated = run_statsbot("badges", "--only", "huggingface", "--only", "group", cwd=site, env=env)
    assert headings(repeated.stdout) == ["Hugging Face", "Lab (group)"]
    nothing = run_statsbot("badges", "--only", "openalex", cwd=site, env=env)
    assert nothing.returncode == 0 and nothing.stdout.startswith("no badges of openalex yet")

    wrong = run_statsbot("badges", "--only", "scholar,gitlab", cwd=site, env=env)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.splitlines() == [
        "statsbot: --only: unknown group 'gitlab'; choose from scholar, github, huggingface, openalex, semanticscholar, group, page"
    ]


def test_cdn_pins_urls_to_the_newest_pushed_commit_and_says_how_long_each_caches(tmp_path, scholar_site, github_api, hub_api):
    site, remote, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api)
    for run in (1, 2):
        if run == 2:  # a new number: a new commit on the data branch, so new pinned URLs
            github_api.add_repo("alice/tool", 5000, 12)
            assert run_statsbot("run", cwd=site, env=env).returncode == 0
        [tip, *_] = branch_commits(remote)
        result = run_statsbot("badges", "--cdn", "--only", "github", cwd=site, env=env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == f"# statsbot badges --cdn for zoe/zoe.github.io, data branch {BRANCH}, newest pushed commit {tip}."
        badges = [i for i, line in enumerate(lines) if line.startswith("![") and "img.shields.io" in line]
        assert len(badges) == 4
        for i in badges:
            path = badge_path(lines[i])
            assert f"{JSDELIVR}{BRANCH}/{path}" in parse_qs(urlsplit(lines[i][lines[i].index("](") + 2 : -1]).query)["url"]
            pinned = lines[i + 1].removeprefix("#   pinned: ")
            assert parse_qs(urlsplit(pinned).query)["url"] == [f"{JSDELIVR}{tip}/{path}"]
        charts = [i for i, line in enumerate(lines) if line.startswith("![") and "img.shields.io" not in line]
        assert charts
        for i in charts:
            path = lines[i][lines[i].index("](") + 2 : -1].removeprefix(f"{JSDELIVR}{BRANCH}/")
            assert path.startswith("charts/github/") and lines[i + 1] == f"#   pinned: {JSDELIVR}{tip}/{path}"
    header = "\n".join(line for line in lines if line.startswith("#   "))
    assert f"jsDelivr by branch (the snippets, cdn.jsdelivr.net/gh/zoe/zoe.github.io@{BRANCH}/...): about 12 h on the CDN and up to 7 days in browsers, unless purged" in header
    assert "jsDelivr pinned to the commit" in header and "immutable" in header
    assert "raw.githubusercontent.com (statsbot badges without --cdn): cached 300 s." in header
    assert "img.shields.io (the badge images): keeps a rendered badge for its cacheSeconds, 3600 s" in header


def test_cdn_pins_nothing_to_a_commit_that_was_not_pushed(tmp_path, scholar_site, github_api, hub_api):
    site, remote, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api, push=False)
    assert branch_commits(remote) == []
    result = run_statsbot("badges", "--cdn", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    local = git("rev-parse", BRANCH, cwd=site)
    assert f"local commit {local} (not pushed: no URL can be pinned to it)" in result.stdout.splitlines()[0]
    assert "#   pinned:" not in result.stdout
    assert f"{JSDELIVR}{local}" not in result.stdout


def test_format_js_prints_the_page_script_and_its_tag(tmp_path, scholar_site, github_api, hub_api):
    site, remote, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api)
    result = run_statsbot("badges", "--format", "js", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f'<script src="/assets/js/statsbot.js" data-stats="{RAW}stats.json" defer></script>'
    begin, end = lines.index("// ---- begin statsbot.js ----"), lines.index("// ---- end statsbot.js ----")
    assert "\n".join(lines[begin + 1 : end]) + "\n" == page_script()
    assert all(line.startswith("#") for line in lines[:begin])
    assert f'#   data-statsbot="scholar/{UID}/h-index"  ->  ' in result.stdout  # read from the data branch's stats.json
    assert '#   data-statsbot="github/alice/tool/stars"  ->  4,321' in lines

    [tip, *_] = branch_commits(remote)
    cdn = run_statsbot("badges", "--format", "js", "--cdn", cwd=site, env=env).stdout.splitlines()
    assert cdn[-1] == f'<script src="/assets/js/statsbot.js" data-stats="{JSDELIVR}{BRANCH}/stats.json" defer></script>'
    assert f"#   pinned: {JSDELIVR}{tip}/stats.json" in cdn
    assert not any("img.shields.io" in line for line in cdn if line.startswith("#"))


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path, scholar_site, github_api, hub_api):
    """`statsbot badges | head -1`: the pipe closes before statsbot writes; it exits 0, silently."""
    import os
    import subprocess
    import sys

    from conftest import _ISOLATED_VARS

    site, _, env, _ = every_source_site(tmp_path, scholar_site, github_api, hub_api, keep_output=True)
    child_env = {k: v for k, v in os.environ.items() if k not in _ISOLATED_VARS} | env
    child = subprocess.Popen(
        [sys.executable, "-m", "statsbot", "badges", "--repo", "zoe/zoe.github.io"],
        cwd=site, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    child.stdout.close()  # the reader is gone before the first line is written: every write gets EPIPE
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 0, stderr
    assert stderr == ""
