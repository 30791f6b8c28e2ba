"""`statsbot init --lab`, the lab workflow (plan -> fetch shards -> publish), and its data flow
run step by step without GitHub: each job's own `run:` script, in its own fresh checkout, with
the environment the workflow gives it, artifacts carried between jobs as Actions carries them."""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from conftest import GITHUB_TEST_TOKEN, REPO, run_statsbot
from gitutil import branch_commits, git, isolated_git_env, make_homepage, tree_files
from helpers import snapshot
from scholar_fixtures import make_profile

from statsbot.config import tomllib  # tomli on Python 3.10

TEMPLATE = REPO / "statsbot/templates/lab.yml"
EXAMPLE = REPO / "examples/workflows/lab.yml"
BRANCH = "google-scholar-stats"
SECRETS = ("SERPAPI_API_KEY", "SCRAPER_API_KEY", "OPENALEX_API_KEY", "S2_API_KEY")


def lab_workflow() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))


def uncommented_people(text: str) -> str:
    """The config with its commented [[people]] examples made real, as a user copying them would."""
    out = []
    in_people = False
    for line in text.splitlines():
        if line.startswith("# [[people]]"):
            in_people = True
        if in_people and not line.startswith("#"):
            in_people = False
        if in_people and line != "#":
            line = line[2:]
        out.append(line)
    return "\n".join(out) + "\n"


# --- statsbot init --lab ---------------------------------------------------------------


def test_init_lab_writes_a_people_config_and_the_lab_workflow(tmp_path):
    from statsbot.config import load_config

    result = run_statsbot("init", "--lab", "--repo", "ada-lab/ada-lab.github.io", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    workflow = (tmp_path / ".github/workflows/statsbot.yml").read_text(encoding="utf-8")
    assert workflow == TEMPLATE.read_text(encoding="utf-8")
    text = (tmp_path / "statsbot.toml").read_text(encoding="utf-8")
    assert text.count("# [[people]]") == 2
    written = tomllib.loads(text)
    assert "scholar" not in written and "people" not in written  # examples only, nothing fetched yet
    assert written["publish"]["branch"] == BRANCH

    # the examples, uncommented, are a valid lab config: two people, their ids on each source
    (tmp_path / "statsbot.toml").write_text(uncommented_people(text), encoding="utf-8")
    config = load_config(str(tmp_path / "statsbot.toml"), env={"GOOGLE_SCHOLAR_ID": "XXXXXXXXXXXX"}).config
    assert [p.name for p in config.people] == ["Ada Lovelace", "Alan Turing"]
    assert config.scholar.id is None  # the secret of the single-person setup is not used
    assert config.scholar.all_ids == ["DhtAFkwAAAAJ", "AbCdEfGhIjKl"]
    assert config.github.users == ["ada"] and config.semanticscholar.authors == ["1741101"]
    check = run_statsbot("check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert re.search(r"^scholar: .*\b2 (more )?profiles", check.stdout, re.MULTILINE), check.stdout

    out = result.stdout
    assert "wrote statsbot.toml" in out and "wrote .github/workflows/statsbot.yml" in out
    assert "Add one [[people]] entry per person to statsbot.toml" in out
    assert "https://github.com/ada-lab/ada-lab.github.io/settings/secrets/actions: OPENALEX_API_KEY" in out
    assert "GOOGLE_SCHOLAR_ID is not used" in out and "Add the secret GOOGLE_SCHOLAR_ID" not in out
    assert "Choose SHARDS" in out and "ceil(P/100) Scholar requests" in out
    assert "https://github.com/ada-lab/ada-lab.github.io/actions/workflows/statsbot.yml (Run workflow)" in out


def test_init_lab_keeps_files_and_leaves_plain_init_as_it_was(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "single").mkdir()
    assert run_statsbot("init", "--lab", "--repo", "ada-lab/site", cwd=tmp_path / "lab").returncode == 0
    before = snapshot(tmp_path / "lab")
    again = run_statsbot("init", "--lab", "--repo", "ada-lab/site", cwd=tmp_path / "lab")
    assert again.returncode == 0 and snapshot(tmp_path / "lab") == before
    assert "unchanged statsbot.toml" in again.stdout and "unchanged .github/workflows/statsbot.yml" in again.stdout
    # a single-person setup is never replaced by the lab's without --force
    plain = run_statsbot("init", "--scholar-id", "DhtAFkwAAAAJ", cwd=tmp_path / "single")
    assert plain.returncode == 0, plain.stderr
    single = tmp_path / "single" / ".github/workflows/statsbot.yml"
    assert single.read_text(encoding="utf-8") == (REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8")
    assert tomllib.loads((tmp_path / "single" / "statsbot.toml").read_text(encoding="utf-8"))["scholar"]["id"] == "DhtAFkwAAAAJ"
    kept = run_statsbot("init", "--lab", cwd=tmp_path / "single")
    assert "kept your .github/workflows/statsbot.yml (run with --force to replace it)" in kept.stdout
    assert single.read_text(encoding="utf-8") == (REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8")
    forced = run_statsbot("init", "--lab", "--force", cwd=tmp_path / "single")
    assert forced.returncode == 0 and single.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")


def test_init_lab_with_a_fetcher_sets_it_for_every_person(tmp_path):
    from statsbot.config import load_config

    result = run_statsbot("init", "--lab", "--fetcher", "serpapi", "--repo", "ada-lab/site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "statsbot.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text)["scholar"] == {"fetchers": ["direct", "serpapi"]}
    (tmp_path / "statsbot.toml").write_text(uncommented_people(text), encoding="utf-8")
    config = load_config(str(tmp_path / "statsbot.toml"), env={}).config
    assert config.scholar.fetchers == ["direct", "serpapi"] and len(config.scholar.all_ids) == 2
    step = next(line for line in result.stdout.splitlines() if "Add the secret SERPAPI_API_KEY" in line)
    assert "https://serpapi.com/manage-api-key" in step and "for each person" in step


def test_init_lab_refuses_a_scholar_id(tmp_path):
    result = run_statsbot("init", "--lab", "--scholar-id", "DhtAFkwAAAAJ", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "statsbot: --scholar-id: not with --lab (each person's Scholar id goes in their [[people]] entry)"
    assert not (tmp_path / "statsbot.toml").exists()


# --- the workflow's shape ------------------------------------------------------------------


def test_the_example_lab_workflow_is_the_one_init_writes():
    assert EXAMPLE.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")


def _steps(job: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == uses]


def _script(job: dict[str, Any], command: str) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if command in s.get("run", "")]
    return step


def _strings(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string in the workflow, with where it is."""
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in _strings(value, f"{where}.{key}")]
    if isinstance(node, list):
        return [pair for i, value in enumerate(node) for pair in _strings(value, f"{where}[{i}]")]
    return [(where, node)] if isinstance(node, str) else []


def test_the_lab_workflow_plans_fetches_every_shard_at_once_and_publishes_once():
    workflow = lab_workflow()
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on:` as True
    assert triggers["schedule"][0]["cron"].count(" ") == 4 and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["group"] and workflow["concurrency"]["cancel-in-progress"] is False
    assert re.fullmatch(r"[1-9][0-9]*", workflow["env"]["SHARDS"])
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "fetch", "publish"}
    plan, fetch, publish = jobs["plan"], jobs["fetch"], jobs["publish"]
    for job in jobs.values():
        assert 0 < job["timeout-minutes"] <= 60
        assert job["runs-on"] == "ubuntu-latest"
        install = _script(job, "pip install")
        assert install["run"].split()[-1] == '"$STATSBOT_PACKAGE"'

    # plan: one line of JSON, the job's output
    step = _script(plan, "statsbot plan")
    assert 'statsbot plan --shards "$SHARDS"' in step["run"] and '"$GITHUB_OUTPUT"' in step["run"]
    assert plan["outputs"]["matrix"] == "${{ steps.%s.outputs.matrix }}" % step["id"]

    # fetch: the matrix from the plan, every shard at once, none stopping the others
    assert fetch["needs"] == "plan"
    assert fetch["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert fetch["strategy"]["fail-fast"] is False and "max-parallel" not in fetch["strategy"]
    step = _script(fetch, "statsbot fetch")
    assert step["run"].strip() == 'statsbot fetch --shard "$SHARD" --results results.json'
    assert step["env"]["SHARD"] == "${{ matrix.shard }}"
    [upload] = _steps(fetch, "actions/upload-artifact")
    assert upload["with"]["path"] == "results.json" and upload["with"]["retention-days"] == 1
    assert "${{ strategy.job-index }}" in upload["with"]["name"]  # one name per shard ("1/3" holds a slash)

    # publish: after every shard, even a failed one; all the artifacts, one folder each
    assert set(publish["needs"]) >= {"fetch"}
    assert "!cancelled()" in publish["if"] and "always()" not in publish["if"]
    [download] = _steps(publish, "actions/download-artifact")
    assert fnmatch.fnmatchcase(upload["with"]["name"].replace("${{ strategy.job-index }}", "3"), download["with"]["pattern"])
    assert download["with"]["merge-multiple"] is False and "name" not in download["with"]
    step = _script(publish, "statsbot publish")
    assert step["run"].strip() == 'statsbot publish --results "$RUNNER_TEMP/statsbot-results" --allow-stale'
    assert download["with"]["path"] == "${{ runner.temp }}/statsbot-results"


def test_the_lab_workflow_gives_each_job_only_what_it_needs():
    workflow = lab_workflow()
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"] == {"contents": "read"}
    assert jobs["fetch"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"contents": "write", "actions": "write"}  # push; keepalive and rebuild
    for name, job in jobs.items():
        checkouts = _steps(job, "actions/checkout")
        assert len(checkouts) == 1 and checkouts[0]["with"]["persist-credentials"] is False, name
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), (name, step)  # nothing is ever spliced into a script
    # the keys reach only the fetch step, through its env:, each under its own name
    fetch_step = _script(jobs["fetch"], "statsbot fetch")
    for secret in SECRETS:
        assert fetch_step["env"][secret] == "${{ secrets.%s }}" % secret
    fetching = f".jobs.fetch.steps[{jobs['fetch']['steps'].index(fetch_step)}]"
    publishing = f".jobs.publish.steps[{jobs['publish']['steps'].index(_script(jobs['publish'], 'statsbot publish'))}]"
    used = {where for where, value in _strings(workflow) if "secrets." in value}
    assert used == {f"{fetching}.env.{secret}" for secret in SECRETS}
    assert not any("GOOGLE_SCHOLAR_ID" in value for _, value in _strings(workflow))
    tokens = {where for where, value in _strings(workflow) if "github.token" in value}
    assert tokens == {f"{fetching}.env.GITHUB_TOKEN", f"{publishing}.env.GITHUB_TOKEN"}  # not the plan's
    # the same versions of the actions as the single-person workflow and the action
    single = (REPO / "statsbot/templates/workflow.yml").read_text(encoding="utf-8") + (REPO / "action.yml").read_text(encoding="utf-8")
    for _, value in _strings(workflow):
        if value.startswith(("actions/checkout@", "actions/setup-python@")):
            assert f"uses: {value}" in single, value


# --- the data flow, simulated -------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z_]+)\.([A-Za-z0-9_-]+)\s*\}\}")


def evaluate(value: Any, contexts: dict[str, dict[str, str]]) -> str:
    """`${{ context.name }}` parts of a value as Actions fills them (an unset secret is ""); any
    other expression fails the test."""
    def one(match: re.Match[str]) -> str:
        context, name = match.groups()
        assert context in contexts, f"unsupported expression {match.group(0)!r}"
        return str(contexts[context].get(name, ""))

    text = str(value)
    filled = _EXPRESSION.sub(one, text)
    assert "${{" not in filled, f"unsupported expression in {text!r}"
    return filled


def matrix_combinations(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The jobs a `strategy.matrix` stands for: the product of its lists, or its `include`
    list alone (the forms `statsbot plan` may print; any other fails the test)."""
    axes = {k: v for k, v in matrix.items() if k != "include"}
    if not axes:
        return [dict(entry) for entry in matrix["include"]]
    assert "include" not in matrix and "exclude" not in matrix, matrix
    combos: list[dict[str, Any]] = [{}]
    for key, values in axes.items():
        assert isinstance(values, list) and values, (key, values)
        combos = [{**combo, key: value} for combo in combos for value in values]
    return combos


class Runner:
    """One job on a fresh runner: its own checkout of the homepage, the workflow's environment."""

    def __init__(self, root: Path, remote: Path, git_env: dict[str, str], name: str) -> None:
        self.workspace = root / name / "workspace"
        self.temp = root / name / "temp"
        self.temp.mkdir(parents=True)
        git("clone", "--quiet", str(remote), str(self.workspace), cwd=root, env=git_env)  # actions/checkout
        self.output = root / name / "github_output"
        self.summary = root / name / "summary.md"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "GOOGLE_SCHOLAR_ID", *SECRETS)},
            **git_env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # the installed statsbot
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
        }

    def contexts(self, **more: dict[str, str]) -> dict[str, dict[str, str]]:
        return {"github": {"token": GITHUB_TEST_TOKEN}, "secrets": {}, "runner": {"temp": str(self.temp)}, **more}

    def start(self, workflow: dict[str, Any], step: dict[str, Any], contexts: dict[str, dict[str, str]]) -> subprocess.Popen[str]:
        env = dict(self.env)
        env.update({k: evaluate(v, contexts) for k, v in workflow.get("env", {}).items()})
        env.update({k: evaluate(v, contexts) for k, v in step.get("env", {}).items()})
        return subprocess.Popen(
            ["bash", "-e", "-c", step["run"]], cwd=self.workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def outputs(self) -> dict[str, str]:
        text = self.output.read_text(encoding="utf-8") if self.output.exists() else ""
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _shard_option_exists() -> bool:
    done = subprocess.run([sys.executable, "-m", "statsbot", "fetch", "--help"], capture_output=True, text=True, timeout=60)
    return "--shard" in done.stdout


PEOPLE = [  # (name, Scholar papers, GitHub user or None)
    ("Ada Lovelace", 30, "ada"),
    ("Alan Turing", 120, None),
    ("Grace Hopper", 250, None),
    ("Zoë Ñúñez-Øberg", 7, None),
    ("Edsger Dijkstra", 101, None),
    ("Barbara Liskov", 60, "liskov-lab"),
]


def lab_config(scholar_url: str, github_url: str) -> str:
    people = []
    for i, (name, _, login) in enumerate(PEOPLE):
        people.append(f'[[people]]\nname = "{name}"\nscholar = "LabPerson{i:03d}"\n' + (f'github = ["{login}"]\n' if login else ""))
    return (
        "\n".join(people)
        + f'\n[scholar]\nbase_url = "{scholar_url}"\npage_delay_seconds = 0\nretries = 0\n'
        + f'[github]\napi_url = "{github_url}"\n'
        + "[charts]\nenabled = false\n"
    )


def run_workflow(
    tmp_path: Path, day: str, remote: Path, git_env: dict[str, str], *, lose: Callable[[dict[int, str]], set[int]] = lambda r: set()
) -> tuple[dict[int, str], set[int], tuple[int, str, str]]:
    """plan, then every shard's fetch at once (separate processes, separate checkouts), each
    "uploading" its results as an artifact; then publish on the downloaded artifacts. The
    artifacts of the shards `lose` picks (job indexes, from each shard's results) never
    arrive, as when those jobs fail. Returns each shard's results text, the lost shards and
    the publish step's exit code, stdout and stderr."""
    workflow = lab_workflow()
    jobs = workflow["jobs"]
    root = tmp_path / day

    planner = Runner(root, remote, git_env, "plan")
    code, out, err = finish(planner.start(workflow, _script(jobs["plan"], "statsbot plan"), planner.contexts()))
    assert code == 0, err
    matrix = json.loads(planner.outputs()["matrix"])  # the job's output (steps.plan.outputs.matrix)
    combos = matrix_combinations(matrix)
    assert 1 <= len(combos) <= int(workflow["env"]["SHARDS"])

    fetch_step = _script(jobs["fetch"], "statsbot fetch")
    [upload] = _steps(jobs["fetch"], "actions/upload-artifact")
    started = []
    for index, combo in enumerate(combos):
        runner = Runner(root, remote, git_env, f"fetch-{index}")
        contexts = runner.contexts(matrix={k: str(v) for k, v in combo.items()}, strategy={"job-index": str(index)})
        started.append((index, runner, contexts, runner.start(workflow, fetch_step, contexts)))
    uploads: dict[int, tuple[str, Path]] = {}
    for index, runner, contexts, process in started:
        code, out, err = finish(process)
        assert code == 0, err
        uploads[index] = (evaluate(upload["with"]["name"], contexts), runner.workspace / evaluate(upload["with"]["path"], contexts))
    results = {index: path.read_text(encoding="utf-8") for index, (_, path) in uploads.items()}
    lost = lose(results)
    artifacts: dict[str, Path] = {}
    for index, (name, path) in uploads.items():
        assert name not in artifacts and "/" not in name  # artifact names are unique and hold no slash
        if index not in lost:
            artifacts[name] = path

    publisher = Runner(root, remote, git_env, "publish")
    [download] = _steps(jobs["publish"], "actions/download-artifact")
    target = Path(evaluate(download["with"]["path"], publisher.contexts()))
    for name, path in artifacts.items():
        if fnmatch.fnmatchcase(name, download["with"]["pattern"]):
            (target / name).mkdir(parents=True)
            shutil.copy2(path, target / name / path.name)
    result = finish(publisher.start(workflow, _script(jobs["publish"], "statsbot publish"), publisher.contexts()))
    return results, lost, result


@pytest.mark.skipif(not _shard_option_exists(), reason="statsbot fetch --shard does not exist yet (the shards work)")
def test_the_lab_workflow_publishes_every_persons_badges_from_separate_shards(tmp_path, scholar_site, github_api):
    (tmp_path / "home").mkdir()
    git_env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, git_env)
    profiles = {}
    for i, (_, papers, login) in enumerate(PEOPLE):
        profile = make_profile(papers, f"LabPerson{i:03d}", seed=i)
        profile["stats"] = {**profile["stats"], "citations": 1000 + i}
        profiles[profile["scholar_id"]] = scholar_site.add(profile)
        if login:
            github_api.add_repo(f"{login}/tool", 10 * (i + 1))
            github_api.add_repo(f"{login}/kit", 3)
    (site / "statsbot.toml").write_text(lab_config(scholar_site.url, github_api.url), encoding="utf-8")
    git("add", "statsbot.toml", cwd=site, env=git_env)
    git("commit", "--quiet", "-m", "statsbot for the lab", cwd=site, env=git_env)
    git("push", "--quiet", "origin", "main", cwd=site, env=git_env)

    results, _, (code, out, err) = run_workflow(tmp_path, "day1", remote, git_env)
    assert code == 0, err
    holders = {uid: [i for i, text in results.items() if f'"{uid}"' in text] for uid in profiles}
    assert all(len(shards) == 1 for shards in holders.values()), holders  # each person in one shard's results
    assert len(branch_commits(remote)) == 1  # one commit, from the one job that may write

    # every profile fetched once, by exactly one shard: ceil(P/100) pages each, no more
    pages: dict[str, int] = {}
    for request in scholar_site.requests():
        user = re.search(r"user=([^&]+)", request).group(1)
        pages[user] = pages.get(user, 0) + 1
    assert pages == {uid: max(1, math.ceil(len(p["publications"]) / 100)) for uid, p in profiles.items()}

    tree = tree_files(remote, BRANCH)
    stats = json.loads(tree["stats.json"])["sources"]
    for uid, profile in profiles.items():
        assert stats["scholar"][uid]["status"] == "ok", stats["scholar"][uid]
        badge = json.loads(tree[f"badges/scholar/{uid}/citations.json"])
        assert badge["message"] == str(profile["stats"]["citations"])
        papers = [p for p in tree if p.startswith(f"badges/scholar/{uid}/papers/")]
        assert len(papers) == len(profile["publications"])
    for i, (_, _, login) in enumerate(PEOPLE):
        if login:
            total = json.loads(tree[f"badges/github/{login}/stars-total.json"])
            assert total["message"] == str(10 * (i + 1) + 3)

    # day 2: one shard's job fails (its artifact never arrives); the others are published,
    # its people keep their last good badges byte for byte, and the run stays green (--allow-stale)
    for profile in profiles.values():
        profile["stats"] = {**profile["stats"], "citations": profile["stats"]["citations"] + 500}
    def first_with_people(results: dict[int, str]) -> set[int]:
        return {min(i for i, text in results.items() if any(f'"{uid}"' in text for uid in profiles))}

    results, lost, (code, out, err) = run_workflow(tmp_path, "day2", remote, git_env, lose=first_with_people)
    assert code == 0, err
    after_tree = tree_files(remote, BRANCH)
    after = json.loads(after_tree["stats.json"])["sources"]["scholar"]
    [gone] = lost
    stale = {uid for uid, entry in after.items() if entry["status"] == "stale"}
    fresh = {uid for uid, entry in after.items() if entry["status"] == "ok"}
    assert stale == {uid for uid in profiles if f'"{uid}"' in results[gone]} and fresh == set(profiles) - stale
    for uid in stale:
        assert after_tree[f"badges/scholar/{uid}/citations.json"] == tree[f"badges/scholar/{uid}/citations.json"]
    for uid in fresh:
        assert json.loads(after_tree[f"badges/scholar/{uid}/citations.json"])["message"] == str(profiles[uid]["stats"]["citations"])
    assert len(branch_commits(remote)) == 2

