"""`[[people]]`: each person's ids join their sources, each profile is fetched and settled
on its own, and the first Scholar block leaves the later profiles for the next run."""

from __future__ import annotations

import json

import pytest

from conftest import html_response, run_statsbot, write_config
from scholar_fixtures import make_profile
from statsbot.config import parse_config
from statsbot.demo import pages
from statsbot.errors import ConfigError
from statsbot.people import by_person, slug
from statsbot.runner import run

ADA, ZOE, LIN = "AdaLovelac0J", "ZoeNunezOb0J", "LinHuiyin01J"


def lab(site, out, *, owner=None, **scholar):
    document = {
        "scholar": {"base_url": site.url, "page_delay_seconds": 0.0, "retries": 0, **({"id": owner} if owner else {}), **scholar},
        "people": [
            {"name": "Ada Lovelace", "scholar": ADA, "github": ["ada"]},
            {"name": "Zoë Ñúñez-Øberg", "scholar": ZOE},
            {"name": "Lin Huiyin", "scholar": LIN},
        ],
        "output": {"dir": str(out)},
    }
    return parse_config(document, path=None, env={})


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_peoples_ids_join_their_sources_and_each_person_has_their_items():
    document = {
        "people": [
            {"name": "Ada Lovelace", "scholar": "https://scholar.google.com/citations?user=" + ADA, "github": ["ada", "lab"],
             "openalex": ["https://orcid.org/0000-0002-1825-0097"]},
            {"name": "Zoë Ñúñez-Øberg", "scholar": ZOE, "github": ["Lab"], "semanticscholar": ["https://www.semanticscholar.org/author/Z/1741101"]},
        ],
        "github": {"repos": ["owner/tool"], "users": ["owner"]},
    }
    config = parse_config(document, path=None, env={"GOOGLE_SCHOLAR_ID": "Ignored0000J"}).config
    assert config.scholar.id is None and config.scholar.all_ids == [ADA, ZOE]  # $GOOGLE_SCHOLAR_ID: single-person only
    assert config.github.repos == ["owner/tool"] and config.github.users == ["owner", "ada", "lab"]  # each once
    assert config.openalex.authors == ["0000-0002-1825-0097"] and config.semanticscholar.authors == ["1741101"]
    assert by_person(config) == {
        "ada-lovelace": [("scholar", ADA), ("github_users", "ada"), ("github_users", "lab"), ("openalex", "0000-0002-1825-0097")],
        "zoe-nunez-oberg": [("scholar", ZOE), ("github_users", "Lab"), ("semanticscholar", "1741101")],
    }
    assert slug("Zoë Ñúñez-Øberg") == "zoe-nunez-oberg"


@pytest.mark.parametrize(
    ("people", "problem"),
    [
        ([{"name": "Ada", "scholar": "not-an-id"}], "people.0.scholar: must be a Google Scholar user id"),
        ([{"name": "Ada", "github": ["-ada"]}], "people.0.github.0: must be a GitHub user or organisation name"),
        ([{"name": "Ada", "openalex": ["0000-0002-1825-0098"]}], "people.0.openalex.0: ORCID '0000-0002-1825-0098': the check digit"),
        ([{"name": "Ada", "orcid": "x"}], "people.0.orcid: unknown key (allowed: github, huggingface, name, openalex, scholar, semanticscholar)"),
        ([{"scholar": ADA}], "people.0.name: missing"),
        ([{"name": "Ada B"}, {"name": "ada-b"}], "people: 'ada-b' and 'Ada B' are the same name for statsbot ('ada-b')"),
        ([{"name": "Owner"}], "people.0.name: 'Owner' is reserved for the single-person sections"),
        ({"name": "Ada"}, "people: must be a valid list"),
    ],
)
def test_a_bad_person_is_a_one_line_error_naming_the_entry(people, problem):
    with pytest.raises(ConfigError) as caught:
        parse_config({"people": people}, path=None, env={})
    message = str(caught.value)
    assert message.startswith(f"config: {problem}") and "\n" not in message, message


def test_every_profile_is_fetched_and_gets_its_badges_but_only_the_owner_gets_gs_data(scholar_site, tmp_path):
    for uid, n in ((ADA, 5), (ZOE, 130), (LIN, 3)):
        scholar_site.add(make_profile(n, uid))
    scholar_site.add(make_profile(4, "OwnerProf01J"))
    out = tmp_path / "out"
    report = run(lab(scholar_site, out, owner="OwnerProf01J"), env={})
    assert [(r.item, r.status) for r in report.results if r.source == "scholar"] == [
        ("OwnerProf01J", "ok"), (ADA, "ok"), (ZOE, "ok"), (LIN, "ok"),
    ]
    stats = read(out / "stats.json")["sources"]["scholar"]
    assert stats[ZOE]["metrics"]["publications"] == 130
    for uid, n in ((ADA, 5), (ZOE, 130), (LIN, 3)):
        assert len(list((out / "badges" / "scholar" / uid / "papers").glob("*.json"))) == n
    assert read(out / "gs_data.json")["scholar_id"] == "OwnerProf01J"  # the page owner's, not a member's
    without_owner = tmp_path / "no-owner"
    run(lab(scholar_site, without_owner), env={})
    assert not (without_owner / "gs_data.json").exists() and (without_owner / "badges" / "scholar" / ZOE).is_dir()


def test_the_first_block_leaves_the_later_profiles_for_the_next_run(scholar_site, tmp_path):
    for uid in (ADA, ZOE, LIN):
        scholar_site.add(make_profile(5, uid))
    out = tmp_path / "out"
    run(lab(scholar_site, out), env={})
    published = {uid: (out / "badges" / "scholar" / uid / "citations.json").read_bytes() for uid in (ADA, ZOE, LIN)}

    for uid in (ADA, ZOE, LIN):
        scholar_site.profiles[uid]["stats"]["citations"] += 1
    scholar_site.override(lambda r: html_response(pages.captcha_page()), lambda r: f"user={ZOE}" in r.query_string.decode())
    asked = len(scholar_site.requests())
    report = run(lab(scholar_site, out), env={})

    results = {r.item: r for r in report.results if r.source == "scholar"}
    assert results[ADA].status == "ok" and results[ADA].metrics["citations"] == 98766
    assert results[ZOE].status == "stale" and "captcha" in results[ZOE].error
    assert results[LIN].status == "stale"
    assert results[LIN].error == f"not fetched: Scholar blocked this runner at profile {ZOE}; left for the next run"
    assert [q for q in scholar_site.requests()[asked:] if f"user={LIN}" in q] == []  # not asked: the IP is spared
    for uid in (ZOE, LIN):  # their published values stay, byte for byte
        assert (out / "badges" / "scholar" / uid / "citations.json").read_bytes() == published[uid]
    assert (out / "badges" / "scholar" / ADA / "citations.json").read_bytes() != published[ADA]


def test_check_describes_the_lab(tmp_path):
    write_config(tmp_path, f'[[people]]\nname = "Ada"\nscholar = "{ADA}"\n\n[[people]]\nname = "Zoë"\nscholar = "{ZOE}"\ngithub = ["zoe"]\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "scholar: 2 profiles (badges only) from https://scholar.google.com" in result.stdout
    assert "github: 0 repositories, 1 users" in result.stdout


def test_members_items_get_charts_only_with_charts_people(scholar_site, tmp_path):
    for uid in (ADA, ZOE, LIN, "OwnerProf01J"):
        scholar_site.add(make_profile(3, uid))
    plain, charted = tmp_path / "plain", tmp_path / "charted"
    run(lab(scholar_site, plain, owner="OwnerProf01J"), env={})
    config = lab(scholar_site, charted, owner="OwnerProf01J").config.model_dump()
    config["charts"]["people"] = True
    document = {k: v for k, v in config.items() if v is not None and k != "people"}
    document["people"] = [{k: v for k, v in p.items() if v is not None} for p in config["people"]]
    run(parse_config(document, path=None, env={}), env={})
    assert (plain / "charts" / "scholar" / "OwnerProf01J" / "citations.svg").is_file()  # the owner's, as ever
    assert not (plain / "charts" / "scholar" / ZOE).exists()
    assert (charted / "charts" / "scholar" / ZOE / "citations.svg").is_file()
