"""The stale summary (statsbot.keepalive.staleness): a run that has published nothing new for
stale_after_days says so, on stdout and in the job summary, with each stale item's cause; a
run whose values simply did not change says that instead."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import run_statsbot, write_config
from fakes import json_response


def actions_env(tmp_path):
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output.txt")}


def age_last_success(out, days):
    """Pretend the published values were last fetched `days` ago (stats.json as a previous run left it)."""
    stats_path = out / "stats.json"
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    then = (datetime.now(timezone.utc) - timedelta(days=days, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for items in stats["sources"].values():
        for entry in items.values():
            entry["fetched_at"] = entry["last_success_at"] = then
    stats["generated_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # a run yesterday: young, not news
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    return then[:10]


@pytest.fixture
def two_models(tmp_path, hub_api):
    hub_api.add("models", "lab/m", 1500, 3, 20_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    write_config(tmp_path, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m", "lab/n"]\n')
    first = run_statsbot("run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    return hub_api


def break_both(hub_api):
    hub_api.fail(lambda r: "lab/m" in r.path, *[lambda r: json_response({"error": "boom"}, 500)] * 10)
    del hub_api.items[("models", "lab/n")]  # 404 from now on


def test_nothing_new_for_longer_than_stale_after_days_names_each_cause(tmp_path, two_models):
    since = age_last_success(tmp_path / "output", 30)
    break_both(two_models)
    result = run_statsbot("run", cwd=tmp_path, env=actions_env(tmp_path))
    assert result.returncode == 3  # stale items, as before: the block changes no exit code

    lines = result.stdout.splitlines()
    start = lines.index(f"Nothing new published for 30 days (since {since}). Stale items:")
    block = lines[start + 1 : start + 3]
    assert block[0].startswith("  huggingface lab/m: ") and "HTTP 500" in block[0] and block[0].endswith(f"(last good {since})")
    assert block[1].startswith("  huggingface lab/n: ") and "not found (HTTP 404)" in block[1]
    assert block[1].endswith(f"(last good {since})")

    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f"**Nothing new published for 30 days (since {since}).** Stale items:" in text
    items = [line for line in text.splitlines() if line.startswith("- huggingface ")]
    assert len(items) == 2 and "HTTP 500" in items[0] and "not found (HTTP 404)" in items[1]
    warning = [line for line in lines if line.startswith("::warning title=statsbot::Nothing new published")]
    assert warning == [f"::warning title=statsbot::Nothing new published for 30 days (since {since}). 2 stale items; the job summary names each cause."]
    assert "values unchanged" not in result.stdout


def test_stale_for_less_than_stale_after_days_gets_no_block(tmp_path, two_models):
    age_last_success(tmp_path / "output", 3)
    break_both(two_models)
    result = run_statsbot("run", cwd=tmp_path, env=actions_env(tmp_path))
    assert result.returncode == 3
    assert "Nothing new published" not in result.stdout
    assert "Nothing new published" not in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert len([line for line in result.stdout.splitlines() if line.startswith("::warning")]) == 2  # each item's own


def test_one_fresh_item_means_something_new_was_published(tmp_path, two_models):
    age_last_success(tmp_path / "output", 30)
    del two_models.items[("models", "lab/n")]
    result = run_statsbot("run", cwd=tmp_path, env=actions_env(tmp_path))
    assert result.returncode == 3
    assert "Nothing new published" not in result.stdout and "values unchanged" not in result.stdout
    [warning] = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert warning.startswith("::warning title=statsbot::huggingface lab/n is stale")


def test_a_fresh_run_with_unchanged_values_says_so_and_is_no_problem(tmp_path, two_models):
    result = run_statsbot("run", cwd=tmp_path, env=actions_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "values unchanged; every item fetched fine" in result.stdout.splitlines()
    assert "Nothing new published" not in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("::")]
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "Values unchanged; every item fetched fine." in text and "Nothing new published" not in text

    two_models.items[("models", "lab/m")]["likes"] = 4  # a value changed: no such line
    changed = run_statsbot("run", cwd=tmp_path)
    assert changed.returncode == 0 and "values unchanged" not in changed.stdout


def test_on_a_data_branch_a_young_tip_does_not_hide_old_values(tmp_path, hub_api):
    from gitutil import branch_commits, git, homepage

    hub_api.add("models", "lab/m", 1500, 3, 20_000)
    hub_api.add("models", "lab/n", 10, 1, 100)
    site, remote, env = homepage(tmp_path, "h", f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m", "lab/n"]\n')
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    # The data branch as a run 30 days ago left it, with a commit from yesterday on top.
    work = tmp_path / "edit"
    git("clone", "--quiet", "--branch", "google-scholar-stats", str(remote), str(work), cwd=tmp_path, env=env)
    since = age_last_success(work, 30)
    git("commit", "--quiet", "-am", "statsbot: update stats", cwd=work, env=env)
    git("push", "--quiet", "origin", "google-scholar-stats", cwd=work, env=env)
    commits = len(branch_commits(remote))

    break_both(hub_api)
    result = run_statsbot("run", cwd=site, env={**env, **actions_env(tmp_path)})
    assert result.returncode == 3
    assert len(branch_commits(remote)) == commits + 1  # this run committed too (the errors changed): the tip is today
    assert f"Nothing new published for 30 days (since {since}). Stale items:" in result.stdout.splitlines()
    assert f"**Nothing new published for 30 days (since {since}).** Stale items:" in (tmp_path / "summary.md").read_text(encoding="utf-8")
