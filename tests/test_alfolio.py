"""al-folio support: `_data/citations.yml` in al-folio's own format from a real Scholar run,
its commit to the site's branch through the publishing plumbing, `[outputs]`, and
`statsbot init --site al-folio` on a realistic al-folio checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import html_response, run_statsbot, write_config
from gitutil import branch_commits, git, isolated_git_env, make_homepage, tree_files
from scholar_fixtures import make_profile

from statsbot.alfolio import DATA_BRANCH_FILE, render_document
from statsbot.config import load_config, parse_config
from statsbot.demo import pages
from statsbot.errors import ConfigError
from statsbot.init import add_deploy_step, deploy_step
from statsbot.runner import run

UID = "TestUser01AJ"
DATA_BRANCH = "google-scholar-stats"

# al-folio's .github/workflows/deploy.yml (alshedivat/al-folio, main), as a site copies it.
ALFOLIO_DEPLOY = """\
name: Deploy site

on:
  push:
    branches:
      - master
      - main
    paths:
      - "assets/**"
      - "**.bib"
      - "**.html"
      - "**.js"
      - "**.liquid"
      - "**/*.md"
      - "**.yml"
      - "Gemfile"
      - "Gemfile.lock"
      - "!.github/workflows/axe.yml"
      - "!README.md"
  pull_request:
    branches:
      - master
      - main
  workflow_dispatch:

permissions:
  contents: write

jobs:
  deploy:
    # available images: https://github.com/actions/runner-images#available-images
    runs-on: ubuntu-latest
    steps:
      - name: Checkout 🛎️
        uses: actions/checkout@v4
      - name: Setup Ruby 💎
        uses: ruby/setup-ruby@v1
        with:
          ruby-version: "3.3.5"
          bundler-cache: true
      - name: Setup Python 🐍
        uses: actions/setup-python@v5
        with:
          python-version: "3.13"
          cache: "pip" # caching pip dependencies
      - name: Update _config.yml ⚙️
        uses: fjogeleit/yaml-update-action@main
        with:
          commitChange: false
          valueFile: "_config.yml"
          propertyPath: "giscus.repo"
          value: ${{ github.repository }}
      - name: Install and Build 🔧
        run: |
          sudo apt-get update && sudo apt-get install -y imagemagick
          pip3 install --upgrade nbconvert
          export JEKYLL_ENV=production
          bundle exec jekyll build
      - name: Purge unused CSS 🧹
        run: |
          npm install -g purgecss
          purgecss -c purgecss.config.js
      - name: Deploy 🚀
        if: github.event_name != 'pull_request'
        uses: JamesIves/github-pages-deploy-action@v4
        with:
          folder: _site
"""

ALFOLIO_SOCIALS = """\
# Social media and contact links, see CUSTOMIZE.md
email: you@example.com # your email address
inspirehep_id: 1010907 # Inspire HEP author ID
orcid_id: 0000-0002-1825-0097 # your ORCID ID
scholar_userid: "DhtAFkwAAAAJ" # your Google Scholar ID
# semanticscholar_id: 1741101
"""


def alfolio_config(base_url: str, output: Path, al_folio: object = "data-branch"):
    return parse_config(
        {
            "scholar": {"id": UID, "base_url": base_url, "page_delay_seconds": 0.0},
            "output": {"dir": str(output), "al_folio": al_folio},
        },
        path=None,
        env={},
    )


def al_folio_expected(gs_data: dict, day: str) -> dict:
    """What al-folio's bin/update_scholar_citations.py builds from the same scholarly author dict
    (gs_data.json holds it): papers keyed by author_pub_id, with title, year and citations."""
    papers = {}
    for pub in gs_data["publications"].values():
        pub_id = pub.get("pub_id") or pub.get("author_pub_id")
        papers[pub_id] = {
            "title": pub.get("bib", {}).get("title", "Unknown Title"),
            "year": pub.get("bib", {}).get("pub_year", "Unknown Year"),
            "citations": pub.get("num_citations", 0),
        }
    return {"metadata": {"last_updated": day}, "papers": papers}


def test_the_file_is_al_folios_format_from_a_real_scholar_run(scholar_site, tmp_path):
    profile = make_profile(40, UID)
    profile["publications"][0]["title"] = 'He said "yes": a #1 result \\ back-slash — 😀 null'
    profile["publications"][2]["title"] = "- true: [not, a, list] {nor: a map} & *alias 'quoted'"
    scholar_site.add(profile)
    report = run(alfolio_config(scholar_site.url, tmp_path))
    assert report.results[0].status == "ok", report.results[0].error

    text = (tmp_path / DATA_BRANCH_FILE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    gs_data = json.loads((tmp_path / "gs_data.json").read_text(encoding="utf-8"))
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    day = stats["sources"]["scholar"][UID]["last_success_at"][:10]
    assert document == al_folio_expected(gs_data, day)
    assert len(document["papers"]) == 40
    assert all(key.startswith(f"{UID}:") for key in document["papers"])
    first = document["papers"][f"{UID}:{profile['publications'][0]['pub_id']}"]
    assert first["title"] == profile["publications"][0]["title"]
    assert isinstance(first["year"], str) and isinstance(first["citations"], int)
    assert isinstance(document["metadata"]["last_updated"], str)  # a string, as al-folio's script writes it
    # The key order of yaml.dump(sort_keys=True): metadata before papers, papers by id, fields sorted.
    assert list(document) == ["metadata", "papers"]
    assert list(document["papers"]) == sorted(document["papers"])
    assert all(list(entry) == ["citations", "title", "year"] for entry in document["papers"].values())
    assert DATA_BRANCH_FILE in report.written


def test_strings_yaml_reads_differently_from_json_round_trip():
    titles = [
        "line\nbreak\ttab", "nel\x85 ls\u2028 ps\u2029", "del\x7f c1\x9b bom\ufeff", "'single' \"double\" \\",
        "yes", "null", "~", "1e3", "#hash", ": colon", "", "Zoë Ñúñez 数据 😀", "lone \udc00 surrogate",
    ]
    papers = [{"pub_id": f"p{i:02d}", "title": t, "year": 2020 + i, "citations": i} for i, t in enumerate(titles)]
    papers.append({"pub_id": "noyear", "title": "x", "year": None, "citations": 3})
    data = render_document(UID, papers, "2026-01-02")
    data.decode("utf-8")  # UTF-8, no lone surrogate
    document = yaml.safe_load(data)
    for i, title in enumerate(titles):
        entry = document["papers"][f"{UID}:p{i:02d}"]
        assert entry["title"] == title.replace("\udc00", "\ufffd")
        assert entry == {"citations": i, "title": entry["title"], "year": str(2020 + i)}
    assert document["papers"][f"{UID}:noyear"]["year"] == "Unknown Year"
    assert yaml.safe_load(render_document(UID, [], "2026-01-02")) == {"metadata": {"last_updated": "2026-01-02"}, "papers": {}}


def test_a_failed_fetch_keeps_the_file_and_a_first_failure_writes_none(scholar_site, tmp_path):
    scholar_site.add(make_profile(12, UID))
    good = run(alfolio_config(scholar_site.url, tmp_path))
    assert good.results[0].status == "ok"
    before = (tmp_path / DATA_BRANCH_FILE).read_bytes()

    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    stale = run(alfolio_config(scholar_site.url, tmp_path))
    assert stale.results[0].status == "stale"
    assert (tmp_path / DATA_BRANCH_FILE).read_bytes() == before  # the last good counts, no zeros
    assert DATA_BRANCH_FILE not in stale.written

    fresh = tmp_path / "never"
    first = run(alfolio_config(scholar_site.url, fresh))
    assert first.results[0].status == "error"
    assert not (fresh / DATA_BRANCH_FILE).exists()


def test_a_paper_gone_from_a_fresh_profile_is_gone_from_the_file(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(12, UID))
    run(alfolio_config(scholar_site.url, tmp_path))
    gone = profile["publications"].pop(3)
    run(alfolio_config(scholar_site.url, tmp_path))
    document = yaml.safe_load((tmp_path / DATA_BRANCH_FILE).read_bytes())
    assert f"{UID}:{gone['pub_id']}" not in document["papers"]
    assert len(document["papers"]) == 11


def test_off_by_default(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    run(alfolio_config(scholar_site.url, tmp_path, al_folio=False))
    assert not (tmp_path / DATA_BRANCH_FILE).exists()


# ------------------------------------------------------------------- config


def test_outputs_is_another_name_for_output(tmp_path):
    write_config(tmp_path, f'[scholar]\nid = "{UID}"\n\n[outputs]\nal_folio = true\nal_folio_branch = "source"\n')
    loaded = load_config(tmp_path / "statsbot.toml", env={})
    assert loaded.config.output.al_folio is True and loaded.config.output.al_folio_branch == "source"

    write_config(tmp_path, f'[scholar]\nid = "{UID}"\n\n[output]\ndir = "out"\n\n[outputs]\nal_folio = true\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "statsbot.toml", env={})
    message = str(caught.value)
    assert "\n" not in message and "[output] and [outputs]" in message and "statsbot.toml" in message
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2 and "[output] and [outputs]" in result.stderr


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_a_bad_al_folio_value_is_a_one_line_error(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        parse_config({"scholar": {"id": UID}, "output": {"al_folio": value}}, path=None, env={})
    assert str(caught.value).count("output.al_folio:") == 1 and "data-branch" in str(caught.value)


# -------------------------------------------------------------- site branch


@pytest.fixture
def home(tmp_path):
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    (site / "_data").mkdir()
    (site / "_data" / "socials.yml").write_text(ALFOLIO_SOCIALS, encoding="utf-8")
    git("add", "-A", cwd=site, env=env)
    git("commit", "--quiet", "-m", "socials", cwd=site, env=env)
    git("push", "--quiet", "origin", "main", cwd=site, env=env)
    return site, remote, env


def checkout_state(site: Path, env: dict) -> dict:
    return {
        "status": git("status", "--porcelain", "--untracked-files=all", cwd=site, env=env),
        "head": git("rev-parse", "HEAD", cwd=site, env=env),
        "head_ref": git("symbolic-ref", "HEAD", cwd=site, env=env),
        "main": git("rev-parse", "refs/heads/main", cwd=site, env=env),
        "index": git("ls-files", "--stage", cwd=site, env=env),
        "work_tree": sorted(
            (str(p.relative_to(site)), p.read_bytes()) for p in site.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(site).parts and "output" not in p.relative_to(site).parts
        ),
    }


def test_al_folio_true_commits_exactly_one_file_to_the_site_branch(home, scholar_site):
    site, remote, env = home
    scholar_site.add(make_profile(15, UID))
    write_config(site, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\n\n[output]\nal_folio = true\n')
    (site / "draft.md").write_text("uncommitted work\n", encoding="utf-8")  # a dirty work tree stays dirty
    old_main = branch_commits(remote, "main")
    old_files = tree_files(remote, "main")
    state = checkout_state(site, env)

    result = run_statsbot("run", cwd=site, env=env)
    assert result.returncode == 0, result.stderr

    new_main = branch_commits(remote, "main")
    assert new_main[1:] == old_main  # one commit on top of the tip, history kept
    changed = git("diff-tree", "--no-commit-id", "--name-status", "-r", new_main[0], cwd=remote)
    assert changed == "A\t_data/citations.yml"
    files = tree_files(remote, "main")
    assert {k: v for k, v in files.items() if k != "_data/citations.yml"} == old_files
    assert files["_data/citations.yml"] == tree_files(remote, DATA_BRANCH)[DATA_BRANCH_FILE]
    document = yaml.safe_load(files["_data/citations.yml"])
    assert len(document["papers"]) == 15
    assert git("log", "-1", "--format=%s", "main", cwd=remote) == "statsbot: update _data/citations.yml"
    assert checkout_state(site, env) == state  # work tree, index, HEAD and the local main untouched

    again = run_statsbot("run", cwd=site, env=env)
    assert again.returncode == 0, again.stderr
    assert branch_commits(remote, "main") == new_main  # equal bytes: no commit
    assert checkout_state(site, env) == state


def test_al_folio_branch_names_the_site_branch_and_no_push_commits_nothing_there(home, scholar_site):
    site, remote, env = home
    git("push", "--quiet", "origin", "main:source", cwd=site, env=env)  # the site builds from "source"
    scholar_site.add(make_profile(4, UID))
    config = f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\n\n[output]\nal_folio = true\n'
    write_config(site, config + 'al_folio_branch = "source"\n')
    main, source = branch_commits(remote, "main"), branch_commits(remote, "source")

    local = run_statsbot("run", "--no-push", cwd=site, env=env)
    assert local.returncode == 0, local.stderr
    assert branch_commits(remote, "source") == source and git("branch", "--list", "source", cwd=site, env=env) == ""

    pushed = run_statsbot("run", cwd=site, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert branch_commits(remote, "main") == main
    assert branch_commits(remote, "source")[1:] == source
    assert "_data/citations.yml" in tree_files(remote, "source")

    write_config(site, config + f'al_folio_branch = "{DATA_BRANCH}"\n')
    wrong = run_statsbot("run", cwd=site, env=env)
    assert wrong.returncode == 1 and "al_folio_branch is the data branch" in wrong.stderr


def test_a_stale_run_commits_nothing_to_the_site_branch(home, scholar_site):
    site, remote, env = home
    scholar_site.add(make_profile(5, UID))
    write_config(site, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\nretries = 0\n\n[output]\nal_folio = true\n')
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    main = branch_commits(remote, "main")
    published = tree_files(remote, "main")["_data/citations.yml"]
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    stale = run_statsbot("run", cwd=site, env=env)
    assert stale.returncode == 3, stale.stderr
    assert branch_commits(remote, "main") == main
    assert tree_files(remote, "main")["_data/citations.yml"] == published


def test_data_branch_mode_leaves_the_site_branch_alone(home, scholar_site):
    site, remote, env = home
    scholar_site.add(make_profile(5, UID))
    write_config(site, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\n\n[outputs]\nal_folio = "data-branch"\n')
    main = branch_commits(remote, "main")
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    assert branch_commits(remote, "main") == main
    assert DATA_BRANCH_FILE in tree_files(remote, DATA_BRANCH)


# --------------------------------------------------------------------- init


def alfolio_site(root: Path) -> Path:
    site = root / "site"
    (site / "_data").mkdir(parents=True)
    (site / ".github" / "workflows").mkdir(parents=True)
    (site / "_config.yml").write_text("title: blank\nscholar:\n  style: apa\n", encoding="utf-8")
    (site / "_data" / "socials.yml").write_text(ALFOLIO_SOCIALS, encoding="utf-8")
    (site / "_data" / "citations.yml").write_text("metadata:\n  last_updated: '2025-01-01'\npapers: {}\n", encoding="utf-8")
    (site / ".github" / "workflows" / "deploy.yml").write_text(ALFOLIO_DEPLOY, encoding="utf-8")
    return site


def test_init_site_al_folio_adds_the_step_once_and_takes_the_id_from_socials(tmp_path):
    site = alfolio_site(tmp_path)
    result = run_statsbot("init", "--site", "al-folio", cwd=site)
    assert result.returncode == 0, result.stderr
    assert "DhtAFkwAAAAJ" in result.stdout and "_data/socials.yml" in result.stdout

    config = load_config(site / "statsbot.toml", env={}).config
    assert config.scholar.id == "DhtAFkwAAAAJ" and config.output.al_folio == "data-branch"
    assert config.publish.rebuild == "workflow:deploy.yml"  # the site is built again after new numbers

    deploy = (site / ".github/workflows/deploy.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(deploy)
    names = [step["name"] for step in workflow["jobs"]["deploy"]["steps"]]
    at = names.index("Fetch citations.yml from the statsbot data branch")
    assert names[at + 1] == "Install and Build 🔧"
    assert names[:at] + names[at + 1:] == [s["name"] for s in yaml.safe_load(ALFOLIO_DEPLOY)["jobs"]["deploy"]["steps"]]
    step = workflow["jobs"]["deploy"]["steps"][at]
    assert step["env"] == {"STATSBOT_BRANCH": DATA_BRANCH} and "${{" not in step["run"]
    # Every other byte kept: the file is the original with the step's lines inserted before the build step.
    build = "      - name: Install and Build"
    assert deploy == ALFOLIO_DEPLOY.replace(build, deploy_step("      ", DATA_BRANCH, "\n") + build, 1)

    again = run_statsbot("init", "--site", "al-folio", cwd=site)
    assert again.returncode == 0, again.stderr
    assert (site / ".github/workflows/deploy.yml").read_text(encoding="utf-8") == deploy
    assert deploy.count(names[at]) == 1


def test_init_takes_scholar_id_flag_over_socials(tmp_path):
    site = alfolio_site(tmp_path)
    assert run_statsbot("init", "--site", "al-folio", "--scholar-id", "AbCdEfGhIjKl", cwd=site).returncode == 0
    assert load_config(site / "statsbot.toml", env={}).config.scholar.id == "AbCdEfGhIjKl"


def test_init_refuses_a_deploy_workflow_it_does_not_recognise_and_writes_nothing(tmp_path):
    site = alfolio_site(tmp_path)
    odd = "name: Deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/jekyll-build-pages@v1\n"
    (site / ".github/workflows/deploy.yml").write_text(odd, encoding="utf-8")
    result = run_statsbot("init", "--site", "al-folio", cwd=site)
    assert result.returncode == 2
    assert "deploy.yml" in result.stderr and "jekyll build" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (site / ".github/workflows/deploy.yml").read_text(encoding="utf-8") == odd
    assert not (site / "statsbot.toml").exists() and not (site / ".github/workflows/statsbot.yml").exists()


def test_the_deploy_step_copies_the_file_and_tolerates_a_missing_branch(tmp_path):
    """The inserted step's shell, run for real in a clone: no data branch yet keeps the committed
    file; once the data branch has al-folio/citations.yml, the step puts it in _data/."""
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    (site / "_data").mkdir()
    committed = b"metadata:\n  last_updated: '2025-01-01'\npapers: {}\n"
    (site / "_data" / "citations.yml").write_bytes(committed)
    git("add", "-A", cwd=site, env=env)
    git("commit", "--quiet", "-m", "citations", cwd=site, env=env)
    git("push", "--quiet", "origin", "main", cwd=site, env=env)
    step = next(
        s for s in yaml.safe_load(add_deploy_step(ALFOLIO_DEPLOY, DATA_BRANCH))["jobs"]["deploy"]["steps"]
        if s["name"].startswith("Fetch citations.yml")
    )
    clone = tmp_path / "runner"
    git("clone", "--quiet", "--depth=1", str(remote), str(clone), cwd=tmp_path, env=env)

    def run_step() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=clone, env={**env, "PATH": "/usr/bin:/bin", **step["env"]},
                              capture_output=True, text=True, timeout=60)

    missing = run_step()
    assert missing.returncode == 0, missing.stderr
    assert "keeping the committed" in missing.stdout
    assert (clone / "_data" / "citations.yml").read_bytes() == committed

    fresh = render_document(UID, [{"pub_id": "abc", "title": "T", "year": 2024, "citations": 9}], "2026-02-03")
    data = tmp_path / "data"
    git("init", "--quiet", "-b", DATA_BRANCH, str(data), cwd=tmp_path, env=env)
    (data / "al-folio").mkdir()
    (data / "al-folio" / "citations.yml").write_bytes(fresh)
    git("add", "-A", cwd=data, env=env)
    git("commit", "--quiet", "-m", "stats", cwd=data, env=env)
    git("push", "--quiet", str(remote), DATA_BRANCH, cwd=data, env=env)

    copied = run_step()
    assert copied.returncode == 0, copied.stderr
    assert (clone / "_data" / "citations.yml").read_bytes() == fresh
    assert not (clone / "_data" / "citations.yml.statsbot").exists()


def test_init_asks_for_a_rebuild_only_when_deploy_can_be_dispatched(tmp_path):
    """rebuild = "workflow:deploy.yml" needs `workflow_dispatch:` in deploy.yml (else GitHub answers 422)."""
    site = alfolio_site(tmp_path)
    deploy = site / ".github" / "workflows" / "deploy.yml"
    assert "  workflow_dispatch:\n" in ALFOLIO_DEPLOY
    deploy.write_text(ALFOLIO_DEPLOY.replace("  workflow_dispatch:\n", "", 1), encoding="utf-8")
    result = run_statsbot("init", "--site", "al-folio", cwd=site)
    assert result.returncode == 0, result.stderr
    assert load_config(site / "statsbot.toml", env={}).config.publish.rebuild == ""
    assert '# rebuild = "workflow:deploy.yml"' in (site / "statsbot.toml").read_text(encoding="utf-8")
