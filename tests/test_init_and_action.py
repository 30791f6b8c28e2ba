"""`statsbot init`, the example workflow and action.yml: files that parse and say what they must."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
    assert workflow["permissions"] == {"contents": "write"}
    assert workflow["concurrency"]["group"] and workflow["concurrency"]["cancel-in-progress"] is False
    job = next(iter(workflow["jobs"].values()))
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
    assert set(spec["inputs"]) == {"config", "scholar-id", "github-token", "branch", "python-version", "allow-stale"}
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
