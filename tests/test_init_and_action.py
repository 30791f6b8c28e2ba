"""`statsbot init`, the example workflow and action.yml: files that parse and say what they must."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_statsbot
from statsbot.config import tomllib  # tomli on Python 3.10
from gitutil import git, isolated_git_env, make_homepage
from helpers import snapshot

CRAWLER = "name: Get Citation Data\non:\n  schedule:\n    - cron: '0 8 * * *'\n"


def acadhomepage(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, _ = make_homepage(tmp_path, env)
    (site / "_config.yml").write_text('title: Zoë\nrepository: "zoe/zoe.github.io"\ngoogle_scholar_stats_use_cdn: true\n', encoding="utf-8")
    (site / ".github" / "workflows").mkdir(parents=True)
    (site / ".github" / "workflows" / "google_scholar_crawler.yaml").write_text(CRAWLER, encoding="utf-8")
    return site


def workflow_checks(workflow: dict) -> None:
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on:` as True
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {}  # nothing at the workflow level: the job names what it needs
    assert workflow["concurrency"]["group"] and workflow["concurrency"]["cancel-in-progress"] is False
    job = next(iter(workflow["jobs"].values()))
    # push the data branch; keep the schedule alive and start a site rebuild (statsbot.keepalive, statsbot.rebuild)
    assert job["permissions"] == {"contents": "write", "actions": "write"}
    assert job["steps"][0]["with"]["persist-credentials"] is False  # statsbot.publish sends the token itself
    assert 0 < job["timeout-minutes"] <= 60
    step = job["steps"][-1]
    assert step["with"]["scholar-id"] == "${{ secrets.GOOGLE_SCHOLAR_ID }}"


def test_init_in_an_acadhomepage_site(tmp_path):
    site = acadhomepage(tmp_path)
    result = run_statsbot("init", cwd=site)
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((site / "statsbot.toml").read_text(encoding="utf-8"))
    assert config["publish"]["branch"] == "google-scholar-stats"
    workflow_checks(yaml.safe_load((site / ".github/workflows/statsbot.yml").read_text(encoding="utf-8")))
    out = result.stdout
    assert "This replaces .github/workflows/google_scholar_crawler.yaml (AcadHomepage's crawler)" in out
    assert "https://github.com/zoe/zoe.github.io/settings/secrets/actions" in out
    assert "GOOGLE_SCHOLAR_ID" in out and "Run workflow" in out

    # the written config is valid: with the secret's variable it describes a run
    check = run_statsbot("check", cwd=site, env={"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ"})
    assert check.returncode == 0, check.stderr
    assert "scholar: profile DhtAFkwAAAAJ" in check.stdout

    before = snapshot(site)
    again = run_statsbot("init", cwd=site)
    assert again.returncode == 0 and snapshot(site) == before
    assert "unchanged statsbot.toml" in again.stdout


def test_init_never_overwrites_without_force(tmp_path):
    site = acadhomepage(tmp_path)
    (site / "statsbot.toml").write_text("[scholar]\nid = \"DhtAFkwAAAAJ\"\n", encoding="utf-8")
    result = run_statsbot("init", "--scholar-id", "AbCdEfGhIjKl", cwd=site)
    assert result.returncode == 0
    assert (site / "statsbot.toml").read_text(encoding="utf-8") == "[scholar]\nid = \"DhtAFkwAAAAJ\"\n"
    assert "kept your statsbot.toml (run with --force to replace it)" in result.stdout
    forced = run_statsbot("init", "--scholar-id", "AbCdEfGhIjKl", "--force", cwd=site)
    assert forced.returncode == 0
    assert tomllib.loads((site / "statsbot.toml").read_text(encoding="utf-8"))["scholar"]["id"] == "AbCdEfGhIjKl"
    assert "GOOGLE_SCHOLAR_ID (the part after" not in forced.stdout  # the id is in the file: no secret needed


def test_init_rejects_a_bad_id(tmp_path):
    result = run_statsbot("init", "--scholar-id", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "--scholar-id: must be a Google Scholar user id" in result.stderr
    assert not (tmp_path / "statsbot.toml").exists()


def test_the_example_workflow_is_the_one_init_writes():
    example = (REPO / "examples/workflows/statsbot.yml").read_text(encoding="utf-8")
    template = (REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8")
    assert example == template
    workflow_checks(yaml.safe_load(example))


def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_action_yml_is_a_composite_action_with_its_inputs_and_outputs():
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert set(spec["inputs"]) == {
        "config", "scholar-id", "github-token", "branch", "python-version", "allow-stale", "serpapi-api-key", "scraper-api-key",
        "openalex-api-key", "s2-api-key",
    }
    assert spec["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert set(spec["outputs"]) == {"changed", "stale"}
    for step in spec["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step
            assert "${{" not in step["run"]  # inputs reach scripts through env, never spliced into code


def test_the_action_run_step_drives_statsbot(tmp_path, hub_api):
    """The action's own bash script, with the environment Actions would give it."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 7, 0, 7)
    (site / "stats.toml").write_text(f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n', encoding="utf-8")
    script = next(step for step in action()["runs"]["steps"] if step.get("id") == "run")["run"]
    outputs = tmp_path / "github_output"
    summary = tmp_path / "summary.md"
    bin_dir = Path(sys.executable).parent
    child_env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "GOOGLE_SCHOLAR_ID")},
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_TOKEN": "",
        "GOOGLE_SCHOLAR_ID": "",
        "INPUT_CONFIG": "stats.toml",
        "INPUT_BRANCH": "stats-data",
        "INPUT_ALLOW_STALE": "true",
    }
    done = subprocess.run(["bash", "-c", script], cwd=site, env=child_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "changed=true" in outputs.read_text() and "stale=false" in outputs.read_text()
    assert git("rev-parse", "--verify", "refs/heads/stats-data", cwd=remote)
    assert "| metric | before | after | status |" in summary.read_text(encoding="utf-8")
    author = git("log", "-1", "--format=%an", "stats-data", cwd=remote)
    assert author == "github-actions[bot]"


def test_init_keeps_the_output_folder_out_of_the_homepage(tmp_path):
    (tmp_path / ".gitignore").write_text("_site\n", encoding="utf-8")
    first = run_statsbot("init", "--repo", "zoe/site", cwd=tmp_path)
    assert "added output/" in first.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "_site\n# statsbot's local output (published to the data branch)\noutput/\n"
    again = run_statsbot("init", "--repo", "zoe/site", cwd=tmp_path)
    assert "added output/" not in again.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").count("output/") == 1


# --- Scholar fetchers (issue 10): `init --fetcher`, the keys through the workflow and the action ---

PAID = {
    "serpapi": ("SERPAPI_API_KEY", "https://serpapi.com/manage-api-key", "about 100 searches a month"),
    "scraperapi": ("SCRAPER_API_KEY", "https://dashboard.scraperapi.com", "25 credits for a Google page"),
}


@pytest.mark.parametrize("fetcher", sorted(PAID))
def test_init_with_a_fetcher_writes_the_chain_and_names_the_secret(tmp_path, fetcher):
    from statsbot.config import load_config

    secret, where, cost = PAID[fetcher]
    result = run_statsbot("init", "--fetcher", fetcher, "--repo", "zoe/site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "statsbot.toml").read_text(encoding="utf-8")
    assert f'fetchers = ["direct", "{fetcher}"]' in text
    loaded = load_config(str(tmp_path / "statsbot.toml"), env={"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ"})
    assert loaded.config.scholar.fetchers == ["direct", fetcher]
    step = next(line for line in result.stdout.splitlines() if f"Add the secret {secret}" in line)
    assert where in step and cost in step and "https://github.com/zoe/site/settings/secrets/actions" in step
    assert "min_interval_hours" in step

    # `statsbot check` says which fetchers will run and whether the key is there, never the key itself
    key = "k3y_" + "NeverRealAbcdefghijklmnop0123456789"
    with_key = run_statsbot("check", cwd=tmp_path, env={"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ", secret: key})
    assert with_key.returncode == 0, with_key.stderr
    assert f"scholar fetchers, in order: direct (free, from this machine), then {fetcher} (paid: ${secret} is set" in with_key.stdout
    assert key not in with_key.stdout + with_key.stderr
    empty = run_statsbot("check", cwd=tmp_path, env={"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ", secret: ""})  # an unset secret in Actions
    assert f"then {fetcher} (will be skipped: ${secret} is not set)" in empty.stdout


def test_init_takes_several_fetchers_and_refuses_an_unknown_one(tmp_path):
    from statsbot.config import load_config

    both = run_statsbot("init", "--fetcher", "serpapi,scraperapi", "--scholar-id", "DhtAFkwAAAAJ", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert load_config(str(tmp_path / "statsbot.toml"), env={}).config.scholar.fetchers == ["direct", "serpapi", "scraperapi"]
    assert "Add the secret SERPAPI_API_KEY" in both.stdout and "Add the secret SCRAPER_API_KEY" in both.stdout

    (tmp_path / "other").mkdir()
    bad = run_statsbot("init", "--fetcher", "scholarly", cwd=tmp_path / "other")
    assert bad.returncode == 2 and "--fetcher: unknown fetcher 'scholarly'" in bad.stderr
    assert not (tmp_path / "other" / "statsbot.toml").exists()


def test_init_with_a_fetcher_and_a_kept_config_says_what_to_add(tmp_path):
    (tmp_path / "statsbot.toml").write_text('[scholar]\nid = "DhtAFkwAAAAJ"\n', encoding="utf-8")
    result = run_statsbot("init", "--fetcher", "serpapi", "--repo", "zoe/site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "statsbot.toml").read_text(encoding="utf-8") == '[scholar]\nid = "DhtAFkwAAAAJ"\n'
    assert 'Add fetchers = ["direct", "serpapi"] under [scholar] in your statsbot.toml' in result.stdout
    assert "Add the secret SERPAPI_API_KEY" in result.stdout


def test_init_without_a_fetcher_leaves_the_chain_at_direct(tmp_path):
    from statsbot.config import load_config

    result = run_statsbot("init", "--scholar-id", "DhtAFkwAAAAJ", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "statsbot.toml").read_text(encoding="utf-8")
    assert "fetchers" not in text and "min_interval_hours" not in text
    assert load_config(str(tmp_path / "statsbot.toml"), env={}).config.scholar.fetchers == ["direct"]
    assert "API_KEY" not in result.stdout


def _expression(value: str, contexts: dict[str, dict[str, str]]) -> str:
    """A `${{ a.b || c.d }}` value as Actions evaluates it (the forms these files use; anything else fails the test)."""
    value = value.strip()
    if not (value.startswith("${{") and value.endswith("}}")):
        assert "${{" not in value, value
        return value
    result = ""
    for operand in value[3:-2].split("||"):
        context, _, name = operand.strip().partition(".")
        assert context in contexts and name, f"unsupported expression {value!r}"
        result = contexts[context].get(name, "")  # an unset secret or variable is an empty string
        if result:
            break
    return result


def action_step_env(workflow_with: dict[str, str], secrets: dict[str, str], env: dict[str, str], venv_bin: str = "") -> dict[str, str]:
    """The environment the action's "Run statsbot" step gets: the workflow's `with:` -> inputs -> the step's `env:`.
    `venv_bin` is the environment "Install statsbot" installed into (empty: `statsbot` comes from PATH)."""
    spec = action()
    given = {name: _expression(str(value), {"secrets": secrets}) for name, value in workflow_with.items()}
    inputs = {}
    for name, meta in spec["inputs"].items():
        if name in given:
            inputs[name] = given[name]
        else:
            inputs[name] = _expression(str(meta.get("default", "")), {"github": {"token": "gh-token-from-actions"}})
    step = next(step for step in spec["runs"]["steps"] if step.get("id") == "run")
    contexts = {"inputs": inputs, "env": env, "steps": {"venv.outputs.bin": venv_bin}}
    return {name: _expression(str(value), contexts) for name, value in step["env"].items()}


def environment_statsbot_gets(tmp_path: Path, step_env: dict[str, str], job_env: dict[str, str]) -> dict[str, str]:
    """The environment the action's "Run statsbot" script hands to `statsbot`, with the step's `env:`
    over the job's: a `statsbot` first on PATH records it (this checks the action's shell, not statsbot)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    dump = tmp_path / "env.txt"
    recorder = bin_dir / "statsbot"
    recorder.write_text(f'#!/bin/sh\nenv > "{dump}"\n', encoding="utf-8")
    recorder.chmod(0o755)
    script = next(step for step in action()["runs"]["steps"] if step.get("id") == "run")["run"]
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **job_env, **step_env}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in dump.read_text(encoding="utf-8").splitlines() if "=" in line)


def test_the_workflow_and_the_action_pass_the_keys_through_env_only(tmp_path):
    workflow = yaml.safe_load((REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8"))
    step = next(iter(workflow["jobs"].values()))["steps"][-1]
    assert step["with"]["serpapi-api-key"] == "${{ secrets.SERPAPI_API_KEY }}"
    assert step["with"]["scraper-api-key"] == "${{ secrets.SCRAPER_API_KEY }}"
    assert step["with"]["openalex-api-key"] == "${{ secrets.OPENALEX_API_KEY }}"
    assert step["with"]["s2-api-key"] == "${{ secrets.S2_API_KEY }}"
    spec = action()
    for step_spec in spec["runs"]["steps"]:
        assert "${{" not in step_spec.get("run", ""), step_spec  # nothing is ever spliced into a script
    install_env = next(s for s in spec["runs"]["steps"] if s.get("name") == "Install statsbot").get("env", {})
    assert not any("api-key" in str(value) for value in install_env.values())  # only the step that needs them

    secrets = {
        "GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ", "SERPAPI_API_KEY": "serp-key-123456", "SCRAPER_API_KEY": "scraper-key-123456",
        "OPENALEX_API_KEY": "openalex-key-123456", "S2_API_KEY": "s2-key-123456",
    }
    got = environment_statsbot_gets(tmp_path, action_step_env(step["with"], secrets, env={}), job_env={})
    assert got["SERPAPI_API_KEY"] == "serp-key-123456" and got["SCRAPER_API_KEY"] == "scraper-key-123456"
    assert got["OPENALEX_API_KEY"] == "openalex-key-123456" and got["S2_API_KEY"] == "s2-key-123456"
    assert got["GOOGLE_SCHOLAR_ID"] == "DhtAFkwAAAAJ"
    assert not any(name.startswith("INPUT_") and "API_KEY" in name for name in got)  # the key under one name only
    # a secret that was never added is an empty string, and statsbot then sees no key at all
    unset = environment_statsbot_gets(tmp_path, action_step_env(step["with"], {"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ"}, env={}), job_env={})
    assert not {"SERPAPI_API_KEY", "SCRAPER_API_KEY", "OPENALEX_API_KEY", "S2_API_KEY"} & set(unset)
    # a workflow that sets the key in its job's env: (not through the input) still reaches statsbot
    only_id = {"scholar-id": "${{ secrets.GOOGLE_SCHOLAR_ID }}"}
    via_env = environment_statsbot_gets(tmp_path, action_step_env(only_id, secrets, env={}), job_env={"SERPAPI_API_KEY": "from-env-123456"})
    assert via_env["SERPAPI_API_KEY"] == "from-env-123456" and "SCRAPER_API_KEY" not in via_env


def run_action_script(tmp_path: Path, config: str, step_env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The action's "Run statsbot" script in a real homepage clone, with the environment its `env:` gives it."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    (site / "statsbot.toml").write_text(config, encoding="utf-8")
    script = next(step for step in action()["runs"]["steps"] if step.get("id") == "run")["run"]
    outputs = tmp_path / "github_output"
    child_env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "GOOGLE_SCHOLAR_ID")},
        **env,
        **step_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_TOKEN": "",
    }
    done = subprocess.run(["bash", "-c", script], cwd=site, env=child_env, capture_output=True, text=True, timeout=120)
    return done, site, remote


SCHOLAR_UID = "ActionUser1A"
WORKFLOW_STEP = yaml.safe_load((REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8"))["jobs"]["stats"]["steps"][-1]


def test_a_key_from_the_secrets_reaches_statsbot_through_the_action(tmp_path, scholar_site, make_server):
    """Workflow `with:` -> action input -> the step's env -> statsbot: Scholar blocks, SerpApi gets the profile."""
    from conftest import html_response, mount
    from fakes import FakeSerpApi
    from scholar_fixtures import make_profile
    from statsbot.demo import pages

    key = "serp_" + "K3yNeverRealFromSecrets0123456789"
    profile = make_profile(137, SCHOLAR_UID)
    scholar_site.add(profile)
    scholar_site.override(lambda r: html_response(pages.captcha_page()))  # the runner is blocked
    server = make_server()
    serp = FakeSerpApi(key, base_url=server.url_for("").rstrip("/"))
    serp.add(profile)
    mount(server, serp)
    config = (
        f'[scholar]\nid = "{SCHOLAR_UID}"\nbase_url = "{scholar_site.url}"\nretries = 0\n'
        f'fetchers = ["direct", "serpapi"]\nserpapi_url = "{serp.base_url}"\n'
    )
    step_env = action_step_env(WORKFLOW_STEP["with"], {"SERPAPI_API_KEY": key}, env={})
    step_env.update(INPUT_CONFIG="statsbot.toml", INPUT_BRANCH="", INPUT_ALLOW_STALE="true")
    done, site, remote = run_action_script(tmp_path, config, step_env)
    assert done.returncode == 0, done.stderr
    assert [q["api_key"] for q in serp.author_requests()] == [key, key]  # ceil(137/100) searches, with the key
    assert f"scholar {SCHOLAR_UID} (Zoë Ñúñez-Øberg): ok (via serpapi)" in done.stdout
    stats = json.loads(git("show", "google-scholar-stats:stats.json", cwd=remote))
    entry = stats["sources"]["scholar"][SCHOLAR_UID]
    assert entry["via"] == "serpapi" and entry["metrics"]["citations"] == profile["stats"]["citations"]
    assert key not in done.stdout + done.stderr + (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_a_secret_that_was_never_added_skips_the_fetcher_with_one_line(tmp_path, scholar_site):
    from conftest import html_response
    from statsbot.demo import pages

    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    config = f'[scholar]\nid = "{SCHOLAR_UID}"\nbase_url = "{scholar_site.url}"\nretries = 0\nfetchers = ["direct", "serpapi"]\n'
    step_env = action_step_env(WORKFLOW_STEP["with"], {}, env={})  # no secrets at all: every key is ""
    assert step_env["INPUT_SERPAPI_API_KEY"] == ""
    step_env.update(INPUT_CONFIG="statsbot.toml", INPUT_BRANCH="", INPUT_ALLOW_STALE="true")
    done, _, _ = run_action_script(tmp_path, config, step_env)
    assert done.returncode == 3  # never had a value: allow-stale does not excuse it
    skipped = [line for line in done.stderr.splitlines() if "skipping the serpapi fetcher" in line]
    assert skipped == [f"WARNING: scholar {SCHOLAR_UID}: skipping the serpapi fetcher: $SERPAPI_API_KEY is not set"]
    assert "every fetcher failed: direct: Google Scholar served a captcha page" in done.stdout
    assert "serpapi: skipped ($SERPAPI_API_KEY is not set)" in done.stdout


# --- the action's install: requirements/action.txt, its cache and the environment it builds ----------------

LOCK = REPO / "requirements/action.txt"
UNUSED = REPO / "requirements/unused.txt"


def lock_pins() -> list[tuple[str, str, str, list[str]]]:
    """(name, version, marker, hashes) of every entry of requirements/action.txt."""
    from packaging.utils import canonicalize_name

    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, rest = line.partition(" --hash=")
        name_version, _, marker = requirement.partition(";")
        name, _, version = name_version.strip().partition("==")
        hashes = [h.strip() for h in (" --hash=" + rest).split(" --hash=") if h.strip()] if rest else []
        assert version and re.fullmatch(r"[\w.+!-]+", version), line  # an exact pin
        pins.append((canonicalize_name(name), version, marker.strip(), hashes))
    return pins


def unused_names() -> set[str]:
    from packaging.utils import canonicalize_name

    lines = (line.split("#", 1)[0].strip() for line in UNUSED.read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(line) for line in lines if line}


MARKER_ENVIRONMENTS = [
    {"python_version": v, "python_full_version": f"{v}.4", "sys_platform": platform, "platform_system": system,
     "os_name": "nt" if platform == "win32" else "posix", "implementation_name": "cpython", "platform_machine": "x86_64"}
    for v in ("3.10", "3.11", "3.12", "3.13")
    for platform, system in (("linux", "Linux"), ("darwin", "Darwin"), ("win32", "Windows"))
]


def test_the_lock_pins_each_dependency_of_statsbot_once_with_hashes():
    """For every Python statsbot supports, on each runner OS: one exact, hashed version of each
    package pyproject.toml asks for, satisfying its range, and none of the packages left out."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = lock_pins()
    assert all(hashes and all(h.startswith("sha256:") for h in hashes) for _, _, _, hashes in pins)
    assert not {name for name, *_ in pins} & unused_names()
    declared = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]]
    for environment in MARKER_ENVIRONMENTS:
        chosen: dict[str, str] = {}
        for name, version, marker, _ in pins:
            if not marker or Marker(marker).evaluate(environment):
                assert name not in chosen, (name, environment)
                chosen[name] = version
        for requirement in declared:
            if requirement.marker is None or requirement.marker.evaluate(environment):
                name = canonicalize_name(requirement.name)
                assert name in chosen, (requirement, environment)
                assert requirement.specifier.contains(chosen[name], prereleases=True), (requirement, chosen[name])
        assert "setuptools" in chosen  # the action builds statsbot with --no-build-isolation


def test_the_lock_has_everything_scholarly_declares_but_what_is_left_out_on_purpose():
    """scholarly is pinned exactly in pyproject.toml, so its installed metadata is the lock's."""
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {name: v for name, v, *_ in lock_pins()}
    assert pinned["scholarly"] == version("scholarly")
    declared = {canonicalize_name(Requirement(r).name) for r in requires("scholarly") or [] if "extra ==" not in r}
    left_out = declared - set(pinned)
    assert left_out == unused_names()  # each one named, with its reason, in requirements/unused.txt
    assert {"selenium", "sphinx-rtd-theme", "python-dotenv"} <= left_out


def test_statsbot_runs_without_any_package_the_lock_leaves_out(tmp_path):
    """In a Python that cannot import any installed package the lock does not list (selenium,
    python-dotenv, sphinx, pytest, ...), every statsbot module imports, and scholarly's parsers,
    loaded as statsbot loads them (`_load_parser`), read a 137-paper profile from Scholar's pages
    served on 127.0.0.1: the lock is enough for what statsbot runs."""
    from importlib.metadata import packages_distributions

    from packaging.markers import Marker
    from packaging.utils import canonicalize_name

    locked = {name for name, _, marker, _ in lock_pins() if not marker or Marker(marker).evaluate()}
    tops = {top: {canonicalize_name(d) for d in dists} for top, dists in packages_distributions().items() if not top.startswith("_")}
    blocked = sorted(top for top, dists in tops.items() if not dists & (locked | {"statsbot"}))
    left_out = {top for top, dists in tops.items() if dists & unused_names()}
    # the quick start installed the left-out packages and theirs, so they are really hidden below
    assert {"selenium", "dotenv", "fp", "deprecated", "sphinx_rtd_theme"} <= left_out <= set(blocked)
    assert {"trio", "websocket", "lxml", "wrapt", "sphinx"} <= set(blocked)
    script = f"""
import importlib, importlib.abc, json, pkgutil, sys
BLOCKED = set({blocked!r})
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked: {{name}}", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(REPO / "tests")!r})
import statsbot
names = [m.name for m in pkgutil.walk_packages(statsbot.__path__, "statsbot.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from scholar_fixtures import make_profile
from statsbot.deadline import Deadline
from statsbot.demo.server import FakeScholar
from statsbot.sources.scholar.config import ScholarConfig
from statsbot.sources.scholar.direct import DirectFetcher
from statsbot.sources.scholar.pages import _load_parser
assert _load_parser().__module__ == "scholarly.author_parser"
profile = make_profile(137, "LockTest01AJ")
with FakeScholar([profile]) as scholar:
    settings = ScholarConfig(id=profile["scholar_id"], base_url=scholar.url, page_delay_seconds=0, deadline_seconds=30)
    got = DirectFetcher().fetch(settings, {{}}, Deadline(30))
print(json.dumps({{
    "modules": len(names),
    "citations": got.gs_data["citedby"],
    "papers": {{k: v["num_citations"] for k, v in got.gs_data["publications"].items()}},
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("scholarly", "selenium", "dotenv")),
}}))
"""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}  # 127.0.0.1 only
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    from scholar_fixtures import make_profile

    profile = make_profile(137, "LockTest01AJ")
    assert out["modules"] > 40
    assert out["citations"] == profile["stats"]["citations"]
    assert out["papers"] == {f"LockTest01AJ:{p['pub_id']}": p["citations"] or 0 for p in profile["publications"]}
    assert out["loaded"] == ["scholarly.author_parser", "scholarly.data_types", "scholarly.publication_parser"]


def test_the_action_runs_the_statsbot_it_installed(tmp_path):
    """The "Run statsbot" script puts the environment "Install statsbot" filled ahead of PATH."""
    installed, other = tmp_path / "venv-bin", tmp_path / "path-bin"
    for folder in (installed, other):
        folder.mkdir()
        (folder / "statsbot").write_text(f"#!/bin/sh\necho {folder.name}\n", encoding="utf-8")
        (folder / "statsbot").chmod(0o755)
    script = next(step for step in action()["runs"]["steps"] if step.get("id") == "run")["run"]
    step_env = action_step_env({}, {}, env={}, venv_bin=str(installed))
    assert step_env["STATSBOT_BIN"] == str(installed)
    env = {"PATH": f"{other}{os.pathsep}{os.environ['PATH']}", **step_env}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "venv-bin", done.stderr


def test_the_action_caches_its_environment_keyed_on_the_lock_and_python(tmp_path):
    """The key step's own script: the same lock and Python give the same key; a changed lock, another."""
    spec = action()
    step = next(step for step in spec["runs"]["steps"] if step.get("id") == "venv")
    restore = next(step for step in spec["runs"]["steps"] if step.get("id") == "cache")
    assert restore["with"] == {"path": "${{ steps.venv.outputs.path }}", "key": "${{ steps.venv.outputs.key }}"}
    assert "restore-keys" not in restore["with"]  # only an exact match: never a venv built from another lock

    def outputs(action_path: Path) -> dict[str, str]:
        out = tmp_path / "github_output"
        out.write_text("", encoding="utf-8")
        env = {
            "PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path / "temp"), "RUNNER_OS": "Linux",
            "GITHUB_OUTPUT": str(out), "STATSBOT_ACTION_PATH": str(action_path), "STATSBOT_PYTHON": sys.executable,
        }
        done = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return dict(line.split("=", 1) for line in out.read_text(encoding="utf-8").splitlines())

    first = outputs(REPO)
    assert first["path"] == str(tmp_path / "temp" / "statsbot-venv") and first["bin"] == str(tmp_path / "temp" / "statsbot-venv" / "bin")
    assert re.fullmatch(r"statsbot-venv-Linux-[0-9a-f]{32}", first["key"])
    assert outputs(REPO) == first
    changed = tmp_path / "changed" / "requirements"
    changed.mkdir(parents=True)
    (changed / "action.txt").write_text(LOCK.read_text(encoding="utf-8") + "# another lock\n", encoding="utf-8")
    assert outputs(tmp_path / "changed")["key"] != first["key"]
