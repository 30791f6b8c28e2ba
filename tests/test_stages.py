"""The staged pipeline: `statsbot fetch --results FILE`, then `statsbot publish --results PATH`,
publishes what `statsbot run` publishes; a foreign, old or missing results file loses nothing."""

from __future__ import annotations

import json

from conftest import run_statsbot, write_config
from gitutil import homepage, normalised, tree_files
from scholar_fixtures import make_profile

UID = "TestUser01AJ"
BRANCH = "google-scholar-stats"


def config_text(scholar_site, github_api, hub_api, openalex_api) -> str:
    return (
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n'
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\nusers = ["alice-lab"]\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n'
        f'[openalex]\nendpoint = "{openalex_api.url}"\nauthors = ["A5023888391"]\n'
        "[charts]\nenabled = false\n"
    )


def seed(scholar_site, github_api, hub_api, openalex_api):
    profile = scholar_site.add(make_profile(30, UID))
    github_api.add_repo("alice/tool", 1200, 30)
    github_api.add_repo("alice-lab/kit", 300, 4)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    openalex_api.add("A5023888391", "Zoë", works=[5, 9, 0], h_index=2, i10_index=0)
    return profile


def test_fetch_then_publish_publishes_what_run_publishes(tmp_path, scholar_site, github_api, hub_api, openalex_api):
    seed(scholar_site, github_api, hub_api, openalex_api)
    config = config_text(scholar_site, github_api, hub_api, openalex_api)
    one, one_remote, one_env = homepage(tmp_path, "one-process", config)
    two, two_remote, two_env = homepage(tmp_path, "two-stages", config)

    assert run_statsbot("run", cwd=one, env=one_env).returncode == 0
    fetched = run_statsbot("fetch", "--results", str(tmp_path / "results.json"), cwd=two, env=two_env)
    assert fetched.returncode == 0, fetched.stderr
    assert "scholar: 1 of 1 fetched" in fetched.stdout and "github: 2 of 2 fetched" in fetched.stdout
    assert tree_files(two_remote, "main") == tree_files(one_remote, "main")  # fetch published nothing
    published = run_statsbot("publish", "--results", str(tmp_path / "results.json"), cwd=two, env=two_env)
    assert published.returncode == 0, published.stderr

    staged, direct = tree_files(two_remote, BRANCH), tree_files(one_remote, BRANCH)
    assert len(direct) > 40 and sorted(staged) == sorted(direct)
    assert normalised(staged) == normalised(direct)  # byte for byte, timestamps aside


def test_a_results_folder_is_read_file_by_file_as_artifacts_unpack(tmp_path, scholar_site, github_api, hub_api, openalex_api):
    seed(scholar_site, github_api, hub_api, openalex_api)
    site, remote, env = homepage(tmp_path, "site", config_text(scholar_site, github_api, hub_api, openalex_api))
    (tmp_path / "artifacts" / "results-1").mkdir(parents=True)
    assert run_statsbot("fetch", "--results", str(tmp_path / "artifacts" / "results-1" / "results.json"), cwd=site, env=env).returncode == 0
    result = run_statsbot("publish", "--results", str(tmp_path / "artifacts"), "--no-push", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(tree_files(site, BRANCH)["stats.json"])["sources"]["scholar"][UID]["status"] == "ok"


def test_a_source_without_results_is_published_stale_never_lost(tmp_path, scholar_site, github_api, hub_api, openalex_api):
    profile = seed(scholar_site, github_api, hub_api, openalex_api)
    site, remote, env = homepage(tmp_path, "site", config_text(scholar_site, github_api, hub_api, openalex_api))
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    before = tree_files(remote, BRANCH)

    profile["stats"] = {**profile["stats"], "citations": 99_000}
    github_api.set_stars("alice/tool", 1500)
    results = tmp_path / "results.json"
    assert run_statsbot("fetch", "--results", str(results), cwd=site, env=env).returncode == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    del document["sources"]["scholar"]  # the Scholar job's results never arrived
    results.write_text(json.dumps(document), encoding="utf-8")
    result = run_statsbot("publish", "--results", str(results), cwd=site, env=env)

    assert result.returncode == 3, result.stderr
    assert f"scholar {UID}: STALE: no results were given for it" in result.stdout
    after = tree_files(remote, BRANCH)
    scholar_files = [p for p in before if p.startswith(f"badges/scholar/{UID}/") or p.startswith("gs_data")]
    assert scholar_files and all(after[p] == before[p] for p in scholar_files)  # byte for byte
    stats = json.loads(after["stats.json"])["sources"]
    assert stats["scholar"][UID]["status"] == "stale"
    assert stats["scholar"][UID]["error"].startswith("no results were given for it")
    assert stats["github"]["alice/tool"]["metrics"]["stars"] == 1500  # the others published


def test_results_from_another_config_are_refused_with_one_line(tmp_path, scholar_site, github_api, hub_api, openalex_api):
    seed(scholar_site, github_api, hub_api, openalex_api)
    config = config_text(scholar_site, github_api, hub_api, openalex_api)
    site, remote, env = homepage(tmp_path, "site", config)
    results = tmp_path / "results.json"
    assert run_statsbot("fetch", "--results", str(results), cwd=site, env=env).returncode == 0
    write_config(site, config.replace('models = ["lab/m"]', 'models = ["lab/m", "lab/n"]'))
    result = run_statsbot("publish", "--results", str(results), cwd=site, env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"statsbot: {results}: results fetched for another config (")
    assert line.endswith("fetch and publish with the same statsbot.toml")
    assert BRANCH not in {ref.rsplit("/", 1)[-1] for ref in _refs(remote)}  # nothing published
    # [publish], [output] and [charts] only shape the publishing: a file fetched before they changed is fine
    write_config(site, config + '[publish]\nmessage = "lab stats"\n')
    assert run_statsbot("publish", "--results", str(results), "--no-push", cwd=site, env=env).returncode == 0


def test_an_old_schema_or_a_damaged_file_is_refused_with_one_line(tmp_path, scholar_site, github_api, hub_api, openalex_api):
    seed(scholar_site, github_api, hub_api, openalex_api)
    site, remote, env = homepage(tmp_path, "site", config_text(scholar_site, github_api, hub_api, openalex_api))
    results = tmp_path / "results.json"
    assert run_statsbot("fetch", "--results", str(results), cwd=site, env=env).returncode == 0
    good = json.loads(results.read_text(encoding="utf-8"))
    cases = {
        "old.json": ({**good, "schema_version": 0}, "results file of schema 0, this statsbot reads schema 1"),
        "other.json": ({"kind": "something-else"}, "not a statsbot results file"),
        "damaged.json": ({**good, "sources": {"scholar": {"results": [{"source": "scholar"}]}}}, "damaged results file (sources.scholar.results.0.item: Field required)"),
    }
    for name, (document, problem) in cases.items():
        (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
        result = run_statsbot("publish", "--results", str(tmp_path / name), cwd=site, env=env)
        assert result.returncode == 2, name
        [line] = result.stderr.strip().splitlines()
        assert line == f"statsbot: {tmp_path / name}: {problem}" or line.startswith(f"statsbot: {tmp_path / name}: {problem}"), line
    (tmp_path / "truncated.json").write_text(results.read_text(encoding="utf-8")[:200], encoding="utf-8")
    result = run_statsbot("publish", "--results", str(tmp_path / "truncated.json"), cwd=site, env=env)
    assert result.returncode == 2 and result.stderr.startswith(f"statsbot: {tmp_path / 'truncated.json'}: not a results file: ")
    both = run_statsbot("publish", "--results", str(results), str(tmp_path / "copy.json"), cwd=site, env=env)
    assert both.returncode == 2 and "copy.json: no such file or folder" in both.stderr
    (tmp_path / "copy.json").write_bytes(results.read_bytes())
    twice = run_statsbot("publish", "--results", str(results), str(tmp_path / "copy.json"), cwd=site, env=env)
    assert twice.returncode == 2 and "give each source's results once" in twice.stderr
    assert BRANCH not in {ref.rsplit("/", 1)[-1] for ref in _refs(remote)}


def _refs(repo):
    from gitutil import git

    return git("for-each-ref", "--format=%(refname)", cwd=repo).split()
