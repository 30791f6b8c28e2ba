"""A lab's numbers (`[[people]]`): group.json, badges/group/, and the `group` and `people`
items of stats.json, against a fake Scholar, OpenAlex, Semantic Scholar and GitHub on
127.0.0.1; each person settled on their own, a paper shared by members counted once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import OPENALEX_TEST_KEY, S2_TEST_KEY, SERPAPI_TEST_KEY, html_response, run_statsbot, write_config
from golden_scenario import manifest
from scholar_fixtures import make_profile

from statsbot.config import parse_config
from statsbot.demo import pages
from statsbot.group import Paper, distinct_papers, h_index, normal_title
from statsbot.runner import run

ADA, ZOE, LIN = "AdaLovelac0J", "ZoeNunezOb0J", "LinHuiyin01J"
BOB_OA = "A5000000002"
CY_S2 = "999999"  # no such author on the fake Semantic Scholar
KEYS = {"OPENALEX_API_KEY": OPENALEX_TEST_KEY, "S2_API_KEY": S2_TEST_KEY}


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def pub(pub_id, title, year, citations, cites):
    return {"pub_id": pub_id, "title": title, "authors": "A Lovelace, Z Ñúñez", "venue": "Proc. Examples", "year": year,
            "citations": citations, "cites": cites}


# Ada and Zoë share a paper by Scholar cluster id (111; Zoë's profile merged two versions,
# 111 and 444, under another title); Zoë and Lin share one only by title and year (Lin's
# copy is its own cluster); Lin's same title from another year is another paper.
PAPERS = {
    ADA: [
        pub("adaPaper0001", "On the Analytical Engine", 2019, 50, ["111"]),
        pub("adaPaper0002", "Notes by the Translator", 2018, 30, ["222"]),
        pub("adaPaper0003", "Only Ada's", 2020, 5, ["333"]),
    ],
    ZOE: [
        pub("zoePaper0001", "The Analytical Engine, revisited (preprint)", 2019, 52, ["111", "444"]),
        pub("zoePaper0002", "Über Graphen — eine Studie", 2021, 20, ["555"]),
        pub("zoePaper0003", "Zoë alone", 2022, 3, ["666"]),
    ],
    LIN: [
        pub("linPaper0001", "UBER graphen: Eine Studie!", 2021, 18, ["777"]),
        pub("linPaper0002", "Uber Graphen: eine Studie", 2022, 4, ["888"]),
        pub("linPaper0003", "Lin's own", 2020, 7, ["999"]),
    ],
}
# The distinct papers: {ada 1, zoe 1} 52, ada 2 30, ada 3 5, {zoe 2, lin 1} 20, zoe 3 3, lin 2 4, lin 3 7.
GROUP_CITATIONS = 52 + 30 + 5 + 20 + 3 + 4 + 7  # 121, where the members' totals add up to 189
GROUP_H_INDEX = 5  # 52, 30, 20, 7, 5 are each at least 5; the sixth, 4, is not 6


def add_profile(site, uid, papers):
    profile = make_profile(len(papers), uid)
    profile["publications"] = papers
    counts = [p["citations"] or 0 for p in papers]
    profile["stats"].update(citations=sum(counts), h_index=h_index(counts))
    return site.add(profile)


def lab(site, out, people, **more):
    document = {"scholar": {"base_url": site.url, "page_delay_seconds": 0.0, "retries": 0}, "people": people,
                "output": {"dir": str(out)}, **more}
    return parse_config(document, path=None, env={})


THREE = [
    {"name": "Ada Lovelace", "scholar": ADA, "github": ["ada"]},
    {"name": "Zoë Ñúñez-Øberg", "scholar": ZOE},
    {"name": "Lin Huiyin", "scholar": LIN},
]


def three(site, github, out, **more):
    return lab(site, out, THREE, github={"api_url": github.url}, **more)


def seed(site, github):
    for uid, papers in PAPERS.items():
        add_profile(site, uid, [dict(p) for p in papers])
    github.add_repo("ada/engine", 40)
    github.add_repo("ada/notes", 2)


def badge(label, message, color="blue"):
    return {"schemaVersion": 1, "label": label, "message": message, "color": color, "cacheSeconds": 3600}


def number(value=None, status="ok", source=None):
    return {"status": status, **({"value": value} if value is not None else {}), **({"from": source} if source else {})}


def test_three_members_sharing_papers_count_each_paper_once(scholar_site, github_api, tmp_path):
    seed(scholar_site, github_api)
    out = tmp_path / "out"
    run(three(scholar_site, github_api, out), env={})

    assert read(out / "group.json") == {
        "schema_version": 1,
        "people": [
            {"name": "Ada Lovelace", "slug": "ada-lovelace", "citations": number(85, source="scholar"),
             "h_index": number(3, source="scholar"), "stars": number(42)},
            {"name": "Zoë Ñúñez-Øberg", "slug": "zoe-nunez-oberg", "citations": number(75, source="scholar"),
             "h_index": number(3, source="scholar"), "stars": {"status": "none"}},
            {"name": "Lin Huiyin", "slug": "lin-huiyin", "citations": number(29, source="scholar"),
             "h_index": number(3, source="scholar"), "stars": {"status": "none"}},
        ],
        "group": {"citations": number(GROUP_CITATIONS), "h_index": number(GROUP_H_INDEX), "people": number(3)},
    }
    assert GROUP_CITATIONS == 121 < 85 + 75 + 29
    assert read(out / "badges" / "group" / "citations.json") == badge("citations", "121")
    assert read(out / "badges" / "group" / "h-index.json") == badge("h-index", "5")
    assert read(out / "badges" / "group" / "people.json") == badge("people", "3")

    stats = read(out / "stats.json")["sources"]
    assert stats["group"]["all"]["status"] == "ok" and stats["group"]["all"]["metrics"] == {"citations": 121, "h_index": 5, "people": 3}
    assert stats["people"]["ada-lovelace"]["metrics"] == {"citations": 85, "h_index": 3, "stars": 42}
    assert stats["people"]["ada-lovelace"]["from"] == "scholar"
    history = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "history").glob("*.csv")))
    for row in ("group,all,citations,121", "group,all,h_index,5", "group,all,people,3", "people,ada-lovelace,stars,42",
                "people,lin-huiyin,citations,29"):
        assert row in history

    # the papers each profile's group numbers come from, kept for a day its profile is blocked
    assert read(out / "data" / "scholar" / ZOE / "papers.json") == [
        {"pub_id": "zoePaper0001", "cluster_ids": ["111", "444"], "title": "The Analytical Engine, revisited (preprint)",
         "year": 2019, "citations": 52},
        {"pub_id": "zoePaper0002", "cluster_ids": ["555"], "title": "Über Graphen — eine Studie", "year": 2021, "citations": 20},
        {"pub_id": "zoePaper0003", "cluster_ids": ["666"], "title": "Zoë alone", "year": 2022, "citations": 3},
    ]


def test_a_blocked_profile_keeps_that_persons_numbers_and_papers_and_spares_the_others(scholar_site, github_api, tmp_path):
    seed(scholar_site, github_api)
    out = tmp_path / "out"
    run(three(scholar_site, github_api, out), env={})
    lin_papers = (out / "data" / "scholar" / LIN / "papers.json").read_bytes()
    zoe_before = read(out / "group.json")["people"][1]

    ada = scholar_site.profiles[ADA]
    ada["publications"][0]["citations"] = 60  # the paper Ada shares with Zoë
    ada["stats"]["citations"] = 95
    # Lin is fetched last: blocking Lin leaves the others fetched (a block ends the Scholar fetch)
    scholar_site.override(lambda r: html_response(pages.captcha_page()), lambda r: f"user={LIN}" in r.query_string.decode())
    report = run(three(scholar_site, github_api, out), env={})

    document = read(out / "group.json")
    ada_row, zoe_row, lin_row = document["people"]
    assert ada_row["citations"] == number(95, source="scholar")
    assert zoe_row == zoe_before  # another person's block changes nothing of Zoë's
    assert lin_row["citations"] == number(29, "stale", "scholar") and lin_row["h_index"] == number(3, "stale", "scholar")
    assert (out / "data" / "scholar" / LIN / "papers.json").read_bytes() == lin_papers  # kept, byte for byte
    kept_total = 60 + 30 + 5 + 20 + 3 + 4 + 7  # Lin's papers from the last good fetch, the shared one once
    assert document["group"] == {"citations": number(kept_total, "stale"), "h_index": number(5, "stale"), "people": number(3)}
    assert read(out / "badges" / "group" / "citations.json") == badge("citations", str(kept_total))  # recent: not grey yet
    stats = read(out / "stats.json")["sources"]
    assert stats["people"]["lin-huiyin"]["status"] == "stale" and "captcha" in stats["people"]["lin-huiyin"]["error"]
    assert stats["people"]["zoe-nunez-oberg"]["status"] == "ok"
    assert stats["group"]["all"]["status"] == "stale" and f"scholar {LIN}" in stats["group"]["all"]["error"]
    assert {(r.source, r.item) for r in report.stale} >= {("group", "all"), ("people", "lin-huiyin"), ("scholar", LIN)}
    history = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "history").glob("*.csv")))
    assert f"group,all,citations,{kept_total}" not in history  # a stale total is not an observation

    # past stale_after_days: the same numbers, grey; the count of people is never stale
    stats = read(out / "stats.json")
    then = (datetime.now(timezone.utc) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for items in stats["sources"].values():
        for entry in items.values():
            entry["fetched_at"] = entry["last_success_at"] = then
    (out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    run(three(scholar_site, github_api, out, run={"stale_after_days": 7.0}), env={})
    assert read(out / "badges" / "group" / "citations.json") == badge("citations", str(kept_total), "lightgrey")
    assert read(out / "badges" / "group" / "h-index.json") == badge("h-index", "5", "lightgrey")
    assert read(out / "badges" / "group" / "people.json") == badge("people", "3")


def test_a_member_with_only_openalex_counts_as_is_and_one_with_no_value_is_never_zero(
    scholar_site, openalex_api, s2_api, tmp_path
):
    add_profile(scholar_site, ADA, [dict(p) for p in PAPERS[ADA]])
    openalex_api.add(BOB_OA, "Bob Babbage", works=[300, 90, 10], citations=400, h_index=9, i10_index=3)
    limits = {"timeout_seconds": 2.0, "deadline_seconds": 6.0, "retries": 0}
    people = [
        {"name": "Ada Lovelace", "scholar": ADA},
        {"name": "Bob Babbage", "openalex": [BOB_OA]},
        {"name": "Cy Young", "semanticscholar": [CY_S2]},
    ]
    out = tmp_path / "out"
    config = lab(scholar_site, out, people, openalex={"endpoint": openalex_api.url, **limits},
                 semanticscholar={"endpoint": s2_api.url, **limits})
    run(config, env=KEYS)

    document = read(out / "group.json")
    ada_row, bob_row, cy_row = document["people"]
    assert bob_row["citations"] == number(400, source="openalex") and bob_row["h_index"] == number(9, source="openalex")
    assert cy_row["citations"] == {"status": "error"} and cy_row["h_index"] == {"status": "error"}  # no value, never 0
    # Ada's papers (85) and Bob's OpenAlex count as it is; the h-index at least Bob's
    assert document["group"]["citations"] == number(85 + 400, "stale") and document["group"]["h_index"] == number(9, "stale")
    stats = read(out / "stats.json")["sources"]
    assert stats["people"]["cy-young"]["status"] == "error" and stats["people"]["cy-young"]["metrics"] == {}
    assert "semanticscholar 999999" in stats["people"]["cy-young"]["error"]
    # never complete (Cy never had a value): grey from the start, with the number
    assert read(out / "badges" / "group" / "citations.json") == badge("citations", "485", "lightgrey")


def test_with_no_value_ever_the_group_badges_are_errors_never_zero(scholar_site, tmp_path):
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    out = tmp_path / "out"
    run(lab(scholar_site, out, [{"name": "Ada Lovelace", "scholar": ADA}, {"name": "Lin Huiyin", "scholar": LIN}]), env={})
    unavailable = {"schemaVersion": 1, "isError": True, "message": "unavailable", "cacheSeconds": 3600}
    assert read(out / "badges" / "group" / "citations.json") == {**unavailable, "label": "citations"}
    assert read(out / "badges" / "group" / "h-index.json") == {**unavailable, "label": "h-index"}
    assert read(out / "badges" / "group" / "people.json") == badge("people", "2")
    document = read(out / "group.json")
    assert document["group"]["citations"] == {"status": "error"} and [p["citations"] for p in document["people"]] == [
        {"status": "error"}, {"status": "error"},
    ]
    assert "citations" not in read(out / "stats.json")["sources"]["group"]["all"]["metrics"]


def test_without_people_there_is_no_group_and_the_other_outputs_do_not_change(scholar_site, github_api, tmp_path):
    scholar_site.add(make_profile(6, "OwnerProf01J"))
    github_api.add_repo("alice-lab/tool", 12)
    document = {"scholar": {"id": "OwnerProf01J", "base_url": scholar_site.url, "page_delay_seconds": 0.0, "retries": 0},
                "github": {"api_url": github_api.url, "users": ["alice-lab"]}}
    alone, with_lab = tmp_path / "alone", tmp_path / "lab"
    run(parse_config({**document, "output": {"dir": str(alone)}}, path=None, env={}), env={})
    assert not (alone / "group.json").exists() and not (alone / "badges" / "group").exists()
    assert set(read(alone / "stats.json")["sources"]) == {"scholar", "github", "github_users", "github_total", "citations"}

    # the same config with a lab whose one member brings no new id: only the group's files are added
    people = [{"name": "Alice", "github": ["alice-lab"]}]
    run(parse_config({**document, "people": people, "output": {"dir": str(with_lab)}}, path=None, env={}), env={})
    before, after = manifest(alone), manifest(with_lab)
    assert sorted(set(after) - set(before)) == ["badges/group/people.json", "group.json"]
    assert [p for p in before if p != "stats.json" and not p.startswith("history/") and before[p] != after[p]] == []
    stats_alone, stats_lab = read(alone / "stats.json")["sources"], read(with_lab / "stats.json")["sources"]
    assert set(stats_lab) - set(stats_alone) == {"group", "people"}
    for source, items in stats_alone.items():
        assert {i: {k: v for k, v in e.items() if not k.endswith("_at")} for i, e in items.items()} == {
            i: {k: v for k, v in e.items() if not k.endswith("_at")} for i, e in stats_lab[source].items()
        }
    assert read(with_lab / "group.json")["group"] == {"citations": {"status": "none"}, "h_index": {"status": "none"}, "people": number(1)}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('scholar = "not-an-id"', "people.0.scholar: must be a Google Scholar user id"),
        ('openalex = ["0000-0002-1825-0098"]', "people.0.openalex.0: ORCID '0000-0002-1825-0098': the check digit"),
    ],
)
def test_a_members_bad_id_is_a_one_line_error_naming_it(tmp_path, entry, problem):
    write_config(tmp_path, f'[[people]]\nname = "Ada"\n{entry}\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"statsbot: statsbot.toml: {problem}"), line


def test_the_papers_data_is_the_same_whichever_fetcher_got_the_profile(scholar_site, serpapi_api, tmp_path):
    """Cluster ids and years come from Scholar's page (direct) and from SerpApi's Author API alike."""
    for site in (scholar_site, serpapi_api):
        add_profile(site, ZOE, [dict(p) for p in PAPERS[ZOE]] + [pub("zoePaper0004", "No year, no citations", None, None, [])])
    direct, serp = tmp_path / "direct", tmp_path / "serpapi"
    run(lab(scholar_site, direct, [{"name": "Zoë", "scholar": ZOE}]), env={})
    document = {"scholar": {"fetchers": ["serpapi"], "serpapi_url": serpapi_api.url, "retries": 0},
                "people": [{"name": "Zoë", "scholar": ZOE}], "output": {"dir": str(serp)}}
    run(parse_config(document, path=None, env={}), env={"SERPAPI_API_KEY": SERPAPI_TEST_KEY})
    papers = read(direct / "data" / "scholar" / ZOE / "papers.json")
    assert papers == read(serp / "data" / "scholar" / ZOE / "papers.json")
    assert [(p["pub_id"], p["cluster_ids"], p["year"], p["citations"]) for p in papers] == [
        ("zoePaper0001", ["111", "444"], 2019, 52), ("zoePaper0002", ["555"], 2021, 20), ("zoePaper0003", ["666"], 2022, 3),
        ("zoePaper0004", [], None, 0),
    ]


def test_the_matching_rule():
    assert normal_title("Über Graphen — eine Studie") == normal_title("UBER graphen: Eine  Studie!") == "uber graphen eine studie"
    assert normal_title("数据 Ǆ ﬁ") == "数据 dz fi"  # NFKD: compatibility forms split, accents dropped; other scripts kept
    same_title = [Paper(10, [], "A Title", 2020), Paper(7, [], "a title.", 2020)]
    assert distinct_papers(same_title) == [10]
    assert sorted(distinct_papers([Paper(10, [], "A Title", 2020), Paper(7, [], "A Title", 2021)])) == [7, 10]  # another year
    assert sorted(distinct_papers([Paper(10, [], "A Title", None), Paper(7, [], "A Title", None)])) == [7, 10]  # no year: cluster only
    # cluster ids join versions transitively: 1 ~ 2 by cluster "5", 2 ~ 3 by cluster "6"
    assert distinct_papers([Paper(3, ["5"], "x", 2001), Paper(4, ["5", "6"], "y", 2002), Paper(9, ["6"], "z", 2003)]) == [9]
    assert h_index([52, 30, 20, 7, 5, 4, 3]) == 5 and h_index([]) == 0 and h_index([0, 0]) == 0
