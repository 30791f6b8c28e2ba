"""Shards: `statsbot plan`, `statsbot fetch --shard i/N`, and `statsbot publish` merging the
shards' results files into what `statsbot run` publishes; a shard that never finishes leaves
exactly its people stale, and the merge does not depend on the order of the files."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import threading

import pytest
from conftest import html_response, run_statsbot, write_config
from fakes import json_response
from gitutil import git, homepage, normalised, tree_files
from hypothesis import given, settings
from hypothesis import strategies as st
from scholar_fixtures import make_profile

from statsbot.config import parse_config
from statsbot.demo import pages
from statsbot.people import OWNER, by_person
from statsbot.shards import MAX_SHARDS, assign, units_of

BRANCH = "google-scholar-stats"
OWNER_UID = "TestUser01AJ"
AUTHOR = "A5023888391"
# Six people; the last is the lab's head, whose profile is also the page owner's ([scholar] id).
PEOPLE = [
    {"name": "Ada Lovelace", "scholar": "AdaLovelac0J", "github": ["ada"]},
    {"name": "Zoë Ñúñez-Øberg", "scholar": "ZoeNunezOb0J"},
    {"name": "Lin Huiyin", "scholar": "LinHuiyin01J", "openalex": [AUTHOR]},
    {"name": "Grace Hopper", "scholar": "GraceHoppe0J", "github": ["grace"]},
    {"name": "Emmy Noether", "scholar": "EmmyNoethe0J"},
    {"name": "Mary Somerville", "scholar": OWNER_UID},
]


def toml_people(people) -> str:
    lines = []
    for person in people:
        lines.append("[[people]]")
        for key, value in person.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def lab_config(scholar_site, github_api, openalex_api, people=PEOPLE) -> str:
    return (
        f'[scholar]\nid = "{OWNER_UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\nretries = 0\n'
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["owner/tool"]\nretries = 0\n'
        f'[openalex]\nendpoint = "{openalex_api.url}"\n'
        "[charts]\nenabled = false\n" + toml_people(people)
    )


def seed(scholar_site, github_api, openalex_api, people=PEOPLE):
    profiles = {}
    for n, uid in enumerate(sorted({p["scholar"] for p in people} | {OWNER_UID}), start=3):
        profiles[uid] = scholar_site.add(make_profile(n * 2, uid, seed=n))
    github_api.add_repo("owner/tool", 1200, 30)
    for login in sorted({login for p in people for login in p.get("github", [])}):
        github_api.add_repo(f"{login}/engine", 40 + len(login), 3)
        github_api.add_repo(f"{login}/notes", 7, 1)
    openalex_api.add(AUTHOR, "Lin Huiyin", works=[5, 9, 0], h_index=2, i10_index=0)
    return profiles


def plan_of(config_text: str, count: int) -> dict[str, int]:
    import tomllib

    raw = tomllib.loads(config_text)
    return assign(units_of(parse_config(raw, path=None, env={}).config, raw), count)


def fetch_shards(site, env, folder, count=3, skip=()):
    for index in range(1, count + 1):
        if index in skip:
            continue
        done = run_statsbot("fetch", "--shard", f"{index}/{count}", "--results", str(folder / f"shard-{index}" / "results.json"), cwd=site, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"shard {index}/{count}: ")


def branches(remote) -> set[str]:
    return {ref.rsplit("/", 1)[-1] for ref in git("for-each-ref", "--format=%(refname)", cwd=remote).split()}


# ------------------------------------------------------------------ same as run


def test_three_shards_publish_what_one_run_publishes(tmp_path, scholar_site, github_api, openalex_api):
    seed(scholar_site, github_api, openalex_api)
    config = lab_config(scholar_site, github_api, openalex_api)
    plan = plan_of(config, 3)
    assert sorted(set(plan.values())) == [1, 2, 3] and OWNER in plan  # every shard has work here
    one, one_remote, one_env = homepage(tmp_path, "one-process", config)
    three, three_remote, three_env = homepage(tmp_path, "three-shards", config)

    assert run_statsbot("run", cwd=one, env=one_env).returncode == 0
    fetch_shards(three, three_env, tmp_path / "artifacts")
    documents = [json.loads((tmp_path / "artifacts" / f"shard-{i}" / "results.json").read_text(encoding="utf-8")) for i in (1, 2, 3)]
    assert [d["shard"] for d in documents] == ["1/3", "2/3", "3/3"]
    assert sorted(u for d in documents for u in d["units"]) == sorted(plan)  # each unit in exactly one shard
    assert len({d["config"] for d in documents}) == 1  # the whole config's fingerprint, in every shard
    # Only the owner's shard fetches the head's profile, as the owner's (with gs_data.json).
    owner_shard = documents[plan[OWNER] - 1]
    assert [r["item"] for d in documents for r in d["sources"]["scholar"]["results"]].count(OWNER_UID) == 1
    assert "gs_data.json" in owner_shard["sources"]["scholar"]["files"][f"scholar:{OWNER_UID}"]

    published = run_statsbot("publish", "--results", str(tmp_path / "artifacts"), cwd=three, env=three_env)
    assert published.returncode == 0, published.stderr
    sharded, direct = tree_files(three_remote, BRANCH), tree_files(one_remote, BRANCH)
    assert len(direct) > 40 and sorted(sharded) == sorted(direct)
    assert normalised(sharded) == normalised(direct)  # byte for byte, timestamps aside


# ------------------------------------------------------------ a shard that fails


@pytest.mark.parametrize("how", ["file missing", "process killed"])
def test_a_shard_that_never_finishes_leaves_exactly_its_people_stale(how, tmp_path, scholar_site, github_api, openalex_api):
    profiles = seed(scholar_site, github_api, openalex_api)
    config = lab_config(scholar_site, github_api, openalex_api)
    plan = plan_of(config, 3)
    lost = plan["ada-lovelace"]  # the shard that fails holds Ada (Scholar and a GitHub user)
    site, remote, env = homepage(tmp_path, "site", config)
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    before = tree_files(remote, BRANCH)

    for profile in profiles.values():
        profile["stats"] = {**profile["stats"], "citations": profile["stats"]["citations"] + 1000}
    for name in list(github_api.repos):
        github_api.set_stars(name, github_api.repos[name]["stars"] + 100)
    folder = tmp_path / "artifacts"
    fetch_shards(site, env, folder, skip=(lost,))
    if how == "process killed":
        victim = next(p["scholar"] for p in PEOPLE if plan[_slug(p["name"])] == lost)
        arrived, release = threading.Event(), threading.Event()

        def hold(request):
            arrived.set()
            release.wait(30)
            return html_response(pages.captcha_page())

        scholar_site.override(hold, when=lambda r: f"user={victim}" in r.query_string.decode())
        target = folder / f"shard-{lost}" / "results.json"
        child = subprocess.Popen(
            [sys.executable, "-m", "statsbot", "fetch", "--shard", f"{lost}/3", "--results", str(target)],
            cwd=site, env=_child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            assert arrived.wait(30), "the shard's fetch never reached Scholar"
            child.kill()
            assert child.wait(30) != 0
        finally:
            release.set()
            scholar_site.overrides.clear()
        assert not target.exists()
        assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["results.json", "results.json"]  # the two good ones

    result = run_statsbot("publish", "--results", str(folder), cwd=site, env=env)
    assert result.returncode == 3, result.stderr
    assert f"(shard {lost}/3 did not finish)" in result.stdout
    assert f"shard {lost}/3: no results file was given; published stale, with their last good values: " in result.stderr
    after = tree_files(remote, BRANCH)
    stats = json.loads(after["stats.json"])["sources"]

    import tomllib

    whole = parse_config(tomllib.loads(config), path=None, env={}).config
    items = {slug: items for slug, items in by_person(whole).items()}
    items[OWNER] = [("scholar", OWNER_UID), ("github", "owner/tool")]
    for unit, shard in plan.items():
        for source, item in items[unit]:
            if source == "scholar" and item == OWNER_UID and unit != OWNER:
                continue  # the head's profile is the owner's item: it goes with the owner's shard
            prefix = {"scholar": "badges/scholar/", "github_users": "badges/github/", "github": "badges/github/", "openalex": "badges/openalex/"}[source]
            paths = [p for p in before if p.startswith(f"{prefix}{item}/")]
            assert paths, (unit, item)
            entry = stats[source][item]
            if shard == lost:  # exactly its people: unchanged, byte for byte, and stale naming the shard
                assert all(after[p] == before[p] for p in paths), (unit, item)
                assert entry["status"] == "stale" and f"shard {lost}/3 did not finish" in entry["error"], (unit, item)
            else:
                assert entry["status"] == "ok", (unit, item, entry)
                if source in ("scholar", "github_users", "github"):
                    assert any(after[p] != before[p] for p in paths), (unit, item)  # the new numbers
    owner_files = ["gs_data.json", "gs_data_shieldsio.json"]
    assert all((after[p] == before[p]) == (plan[OWNER] == lost) for p in owner_files)


def _slug(name):
    from statsbot.people import slug

    return slug(name)


def _child_env(env):
    import os

    from conftest import _ISOLATED_VARS

    child = {k: v for k, v in os.environ.items() if k not in _ISOLATED_VARS}
    child.update(env)
    return child


# --------------------------------------------------------------- merge order


def test_the_merge_does_not_depend_on_the_order_of_the_files(tmp_path, scholar_site, github_api, openalex_api):
    """Two people in two shards share a Scholar profile and a GitHub organisation; between
    their shards' fetches the numbers change and the organisation's listing fails once."""
    people = [dict(p) for p in PEOPLE]
    probe = lab_config(scholar_site, github_api, openalex_api, people)
    plan = plan_of(probe, 3)
    slugs = [_slug(p["name"]) for p in people]
    first, second = next((a, b) for a, b in itertools.combinations(range(len(people)), 2) if plan[slugs[a]] != plan[slugs[b]])
    for index in (first, second):
        people[index] = {"name": people[index]["name"], "scholar": "SharedProf0J", "github": ["lab-org"]}
    config = lab_config(scholar_site, github_api, openalex_api, people)
    assert plan_of(config, 3) == plan  # the plan follows the names, not the ids
    profiles = seed(scholar_site, github_api, openalex_api, people)
    root = tmp_path / "pristine"
    site, remote, env = homepage(root, "lab", config)

    folder = tmp_path / "artifacts"
    shard_a, shard_b = sorted((plan[slugs[first]], plan[slugs[second]]))
    fetch_shards(site, env, folder, skip=(shard_b,))
    shared = profiles["SharedProf0J"]
    shared["stats"] = {**shared["stats"], "citations": shared["stats"]["citations"] + 777}
    github_api.set_stars("lab-org/engine", 4242)
    github_api.fail(lambda r: r.path.startswith("/users/lab-org/repos"), *[lambda r: json_response({"message": "boom"}, 500)] * 5)
    fetch_shards(site, env, folder, skip=tuple(i for i in (1, 2, 3) if i != shard_b))
    github_api.faults.clear()
    files = [folder / f"shard-{i}" / "results.json" for i in (1, 2, 3)]
    documents = {i: json.loads(files[i - 1].read_text(encoding="utf-8")) for i in (1, 2, 3)}
    answers = {i: next(r for r in documents[i]["sources"]["scholar"]["results"] if r["item"] == "SharedProf0J") for i in (shard_a, shard_b)}
    assert answers[shard_a]["metrics"] != answers[shard_b]["metrics"]  # the two shards disagree
    assert "lab-org" in documents[shard_b]["sources"]["github"]["state"]["user_errors"]
    # Both fetched in the same second (as two runners may): the rule's last step decides, the earlier shard.
    answers[shard_b]["fetched_at"] = answers[shard_a]["fetched_at"]
    files[shard_b - 1].write_text(json.dumps(documents[shard_b]), encoding="utf-8")

    trees = []
    orders = [[str(files[i]) for i in order] for order in itertools.permutations(range(3))] + [[str(folder)]]
    for n, paths in enumerate(orders):
        copy = tmp_path / f"copy-{n}"
        shutil.copytree(root, copy, symlinks=True)
        result = run_statsbot("publish", "--results", *paths, "--no-push", cwd=copy / "lab" / "site", env=env)
        assert result.returncode == 0, (paths, result.stderr)
        trees.append(normalised(tree_files(copy / "lab" / "site", BRANCH)))
    assert all(tree == trees[0] for tree in trees[1:])
    stats = json.loads(trees[0]["stats.json"])["sources"]
    assert stats["scholar"]["SharedProf0J"]["metrics"] == answers[shard_a]["metrics"]
    assert stats["github_users"]["lab-org"]["status"] == "ok"  # the listing that worked, whichever file came first
    assert stats["github"]["lab-org/engine"]["metrics"]["stars"] == 40 + len("lab-org")  # from that listing


# ------------------------------------------------------------------- the plan


def test_plan_prints_a_matrix_and_adding_a_person_moves_no_one_else(tmp_path, scholar_site, github_api, openalex_api):
    site = tmp_path / "site"
    site.mkdir()
    config = lab_config(scholar_site, github_api, openalex_api)
    write_config(site, config)
    result = run_statsbot("plan", "--shards", "3", cwd=site)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert json.loads(line) == {"shard": ["1/3", "2/3", "3/3"]}
    before = _shards_on_stderr(result.stderr)
    assert before == plan_of(config, 3) and len(before) == 7

    write_config(site, config + toml_people([{"name": "Sofia Kovalevskaya", "scholar": "SofiaKoval0J"}]))
    result = run_statsbot("plan", "--shards", "3", cwd=site)
    after = _shards_on_stderr(result.stderr)
    assert set(after) == set(before) | {"sofia-kovalevskaya"}
    assert all(after[unit] == shard for unit, shard in before.items())


def _shards_on_stderr(stderr: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, units in re.findall(r"shard (\d+)/\d+: (.*)", stderr):
        if units != "nothing to fetch":
            found.update({unit: int(index) for unit in units.split(", ")})
    return found


unit_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(units=st.lists(unit_names, unique=True, max_size=40), new=unit_names, count=st.integers(1, MAX_SHARDS))
def test_adding_a_unit_never_moves_another_and_every_unit_has_one_shard(units, new, count):
    if new in units:
        units.remove(new)
    before = assign(units, count)
    after = assign([*units, new], count)
    assert set(before) == set(units) and all(1 <= shard <= count for shard in after.values())
    assert {unit: after[unit] for unit in units} == before


def test_changing_n_moves_about_one_unit_in_n():
    units = [f"person-{i}" for i in range(2000)]
    three, four = assign(units, 3), assign(units, 4)
    moved = [u for u in units if three[u] != four[u]]
    assert all(four[u] == 4 for u in moved)  # a unit only moves to the new shard
    assert 0.15 < len(moved) / len(units) < 0.35  # about 1/4


def test_an_empty_shard_writes_a_file_that_covers_nothing(tmp_path, scholar_site):
    """A config of the owner alone ($GOOGLE_SCHOLAR_ID): one shard fetches it, the others nothing."""
    scholar_site.add(make_profile(5, OWNER_UID))
    site, remote, env = homepage(tmp_path, "site", f'[scholar]\nbase_url = "{scholar_site.url}"\n[charts]\nenabled = false\n')
    env = {**env, "GOOGLE_SCHOLAR_ID": OWNER_UID}
    busy = assign([OWNER], 3)[OWNER]
    for index in (1, 2, 3):
        target = tmp_path / "artifacts" / f"{index}.json"
        done = run_statsbot("fetch", "--shard", f"{index}/3", "--results", str(target), cwd=site, env=env)
        assert done.returncode == 0, done.stderr
        document = json.loads(target.read_text(encoding="utf-8"))
        if index == busy:
            assert document["units"] == [OWNER] and list(document["sources"]) == ["scholar"]
        else:
            assert document["units"] == [] and document["sources"] == {}
            assert "nothing to fetch" in done.stdout
    assert len([r for r in scholar_site.requests() if OWNER_UID in r]) == 1  # the owner's profile, once
    result = run_statsbot("publish", "--results", str(tmp_path / "artifacts"), cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(tree_files(remote, BRANCH)["stats.json"])["sources"]["scholar"][OWNER_UID]["status"] == "ok"


# ------------------------------------------------------------------- refusals


@pytest.mark.parametrize("value", ["0/3", "4/3", "x", "1/0", "1/257", "2/3/4", ""])
def test_a_bad_shard_is_a_one_line_usage_error(value, tmp_path, scholar_site, github_api, openalex_api):
    site = tmp_path / "site"
    site.mkdir()
    write_config(site, lab_config(scholar_site, github_api, openalex_api))
    result = run_statsbot("fetch", "--shard", value, "--results", str(tmp_path / "r.json"), cwd=site)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("statsbot: --shard: "), line
    assert not (tmp_path / "r.json").exists() and scholar_site.requests() == []


@pytest.mark.parametrize("value", ["0", "257", "x", "-1"])
def test_a_bad_number_of_shards_is_a_one_line_usage_error(value, tmp_path, scholar_site, github_api, openalex_api):
    site = tmp_path / "site"
    site.mkdir()
    write_config(site, lab_config(scholar_site, github_api, openalex_api))
    result = run_statsbot("plan", "--shards", value, cwd=site)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("statsbot: --shards: "), line


def test_publish_refuses_a_shard_twice_shards_of_another_n_and_another_config(tmp_path, scholar_site, github_api, openalex_api):
    seed(scholar_site, github_api, openalex_api)
    config = lab_config(scholar_site, github_api, openalex_api)
    site, remote, env = homepage(tmp_path, "site", config)
    folder = tmp_path / "artifacts"
    fetch_shards(site, env, folder)
    other = tmp_path / "other"
    assert run_statsbot("fetch", "--shard", "1/2", "--results", str(other / "1-of-2.json"), cwd=site, env=env).returncode == 0
    (other / "again").mkdir()
    shutil.copy(folder / "shard-2" / "results.json", other / "again" / "shard-2.json")
    write_config(site, config.replace('repos = ["owner/tool"]', 'repos = ["owner/tool", "owner/more"]'))
    assert run_statsbot("fetch", "--shard", "3/3", "--results", str(other / "changed.json"), cwd=site, env=env).returncode == 0
    write_config(site, config)

    cases = {
        "the same shard twice": ([folder, other / "again"], "shard 2/3 is also ", "give each shard's results once"),
        "shards of another N": ([folder, other / "1-of-2.json"], "shard 1/2, but ", "publish the shards of one plan (one N)"),
        "another config": ([folder / "shard-1", folder / "shard-2", other / "changed.json"], "results fetched for another config (",
                           "fetch and publish with the same statsbot.toml"),
    }
    for case, (paths, middle, end) in cases.items():
        result = run_statsbot("publish", "--results", *map(str, paths), cwd=site, env=env)
        assert result.returncode == 2, (case, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("statsbot: ") and middle in line and line.endswith(end), (case, line)
    assert BRANCH not in branches(remote)  # nothing published
    assert not (site / "output").exists()
