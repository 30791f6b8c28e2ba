"""The Scholar source against realistic profile pages served on 127.0.0.1."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import textwrap

import pytest

from helpers import scholar_config
from scholar_fixtures import make_profile
from statsbot.runner import run

UID = "TestUser01AJ"

# The keys of a real gs_data.json, as listed in shared/notes/consumers.md.
ACADHOMEPAGE_KEYS = {
    "container_type", "filled", "scholar_id", "source", "name", "url_picture", "affiliation",
    "organization", "interests", "email_domain", "homepage", "citedby", "citedby5y", "hindex",
    "hindex5y", "i10index", "i10index5y", "cites_per_year", "publications", "updated",
}


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("n_pubs", [1, 40, 100, 101, 250])
def test_profile_of_p_publications_costs_ceil_p_over_100_requests(scholar_site, tmp_path, n_pubs):
    scholar_site.add(make_profile(n_pubs, UID))
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert report.results[0].status == "ok", report.results[0].error
    requests = scholar_site.requests()
    assert len(requests) == math.ceil(n_pubs / 100)
    assert requests[0] == f"/citations?hl=en&user={UID}&pagesize=100"
    assert requests[1:] == [f"/citations?hl=en&user={UID}&cstart={c}&pagesize=100" for c in range(100, n_pubs, 100)]
    data = read(tmp_path / "gs_data.json")
    assert len(data["publications"]) == n_pubs
    assert report.results[0].metrics["publications"] == n_pubs


def test_exact_values_from_a_250_publication_profile(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(250, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))

    data = read(tmp_path / "gs_data.json")
    stats = profile["stats"]
    assert (data["citedby"], data["citedby5y"]) == (stats["citations"], stats["citations_5y"])
    assert (data["hindex"], data["hindex5y"]) == (stats["h_index"], stats["h_index_5y"])
    assert (data["i10index"], data["i10index5y"]) == (stats["i10_index"], stats["i10_index_5y"])
    assert data["cites_per_year"] == profile["cites_per_year"]  # year keys are strings in JSON
    assert data["name"] == "Zoë Ñúñez-Øberg"
    assert data["affiliation"] == "Université de Test, Zürich"
    assert data["organization"] == 4242424242
    assert data["email_domain"] == "@test.example"
    assert data["homepage"] == "https://zoe.test.example/"
    assert data["interests"] == ["Machine Learning", "Géométrie"]
    assert data["scholar_id"] == UID
    assert set(data) == ACADHOMEPAGE_KEYS

    for pub in profile["publications"]:
        entry = data["publications"][f"{UID}:{pub['pub_id']}"]
        assert entry["bib"]["title"] == pub["title"]
        assert entry["bib"]["pub_year"] == str(pub["year"])
        assert entry["num_citations"] == (pub["citations"] or 0)
        assert entry["author_pub_id"] == f"{UID}:{pub['pub_id']}"

    written_stats = read(tmp_path / "stats.json")
    entry = written_stats["sources"]["scholar"][UID]
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["metrics"] == {
        "citations": 98765, "citations_5y": 54321, "h_index": 77, "h_index_5y": 55,
        "i10_index": 210, "i10_index_5y": 150, "publications": 250,
    }
    assert entry["fetched_at"].endswith("Z") and written_stats["generated_at"].endswith("Z")
    assert written_stats["schema_version"] == 1

    assert read(tmp_path / "gs_data_shieldsio.json") == {"schemaVersion": 1, "label": "citations", "message": "98765"}
    badges = tmp_path / "badges" / "scholar" / UID
    assert read(badges / "citations.json")["message"] == "98765"
    assert read(badges / "h-index.json")["message"] == "77"
    assert read(badges / "i10-index.json")["message"] == "210"
    paper_files = sorted(p.stem for p in (badges / "papers").glob("*.json"))
    assert paper_files == sorted(p["pub_id"] for p in profile["publications"])
    for pub in profile["publications"]:
        assert read(badges / "papers" / f"{pub['pub_id']}.json")["message"] == str(pub["citations"] or 0)


def test_blank_citation_cells_are_zero_and_merged_ids_are_kept(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(12, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    pubs = read(tmp_path / "gs_data.json")["publications"]

    blank = profile["publications"][4]
    assert blank["citations"] is None
    entry = pubs[f"{UID}:{blank['pub_id']}"]
    assert entry["num_citations"] == 0
    assert "citedby_url" not in entry and "cites_id" not in entry

    merged = profile["publications"][1]
    entry = pubs[f"{UID}:{merged['pub_id']}"]
    assert entry["cites_id"] == merged["cites"] and len(entry["cites_id"]) == 2
    assert entry["citedby_url"].endswith("cites=" + ",".join(merged["cites"]))


def test_outputs_are_utf8_not_escaped(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    raw = (tmp_path / "gs_data.json").read_bytes()
    assert "Zoë Ñúñez-Øberg".encode("utf-8") in raw
    assert b"\\u00eb" not in raw
    assert "数据".encode("utf-8") in raw


def test_comma_grouped_counts_are_read_as_numbers(scholar_site, tmp_path):
    profile = make_profile(3, UID)
    scholar_site.add(profile)
    from statsbot.demo.pages import render_profile

    from conftest import html_response

    page = render_profile(profile).replace(">98765<", ">98,765<").replace(">500<", ">500<")
    scholar_site.override(lambda r: html_response(page))
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert report.results[0].metrics["citations"] == 98765


def test_base_url_with_a_path_prefix_reaches_the_mirror(httpserver, tmp_path):
    from conftest import ScholarSite

    site = ScholarSite(httpserver)
    profile = make_profile(5, UID)
    httpserver.expect_request("/mirror/citations").respond_with_handler(site._handle)
    site.add(profile)
    report = run(scholar_config(site.url + "/mirror/", UID, tmp_path))
    assert report.results[0].status == "ok"
    assert [r.split("?")[0] for r in site.requests()] == ["/mirror/citations"]


def test_homepage_reads_work_on_the_written_file(scholar_site, tmp_path):
    """What AcadHomepage's page script reads: data['citedby'] and publications[id]['num_citations']."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    profile = scholar_site.add(make_profile(130, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    ids = [f"{UID}:{p['pub_id']}" for p in profile["publications"][:6]]
    script = textwrap.dedent(
        """
        const fs = require('fs');
        const data = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
        const ids = JSON.parse(process.argv[2]);
        const shown = {total: String(data['citedby'])};
        for (const id of ids) { shown[id] = '| Citations: ' + data['publications'][id]['num_citations']; }
        process.stdout.write(JSON.stringify(shown));
        """
    )
    out = subprocess.run(
        [node, "-e", script, str(tmp_path / "gs_data.json"), json.dumps(ids)],
        capture_output=True, text=True, check=True, timeout=30,
    )
    shown = json.loads(out.stdout)
    assert shown["total"] == "98765"
    for pub, pub_id in zip(profile["publications"], ids):
        assert shown[pub_id] == f"| Citations: {pub['citations'] or 0}"


def test_requests_carry_scholarly_headers_and_go_only_to_base_url(scholar_site, tmp_path):
    scholar_site.add(make_profile(2, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path))
    (request, _), = scholar_site.server.log
    assert request.headers["Accept-Language"].startswith("en")
    assert request.headers["User-Agent"].startswith("Mozilla/")
    assert request.headers["Host"] == scholar_site.url.split("//")[1]


def test_ids_from_the_server_never_choose_a_path(scholar_site, tmp_path):
    """scholarly's id pattern admits any Unicode letter; such a paper gets no badge file, the rest do."""
    profile = make_profile(4, UID)
    odd = profile["publications"][0]
    odd["pub_id"] = "Ünïcödé_ïd"
    scholar_site.add(profile)
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert report.results[0].status == "ok"
    papers = tmp_path / "badges" / "scholar" / UID / "papers"
    assert sorted(p.name for p in papers.iterdir()) == sorted(f"{p['pub_id']}.json" for p in profile["publications"][1:])
    data = read(tmp_path / "gs_data.json")
    assert f"{UID}:Ünïcödé_ïd" in data["publications"]  # still in the data file, just not a file name
    assert all(path.resolve().is_relative_to(tmp_path.resolve()) for path in tmp_path.rglob("*"))


@pytest.mark.parametrize("path", ["../x.json", "badges/../../x.json", "/etc/passwd", "a//b", "a/./b", "a/ü.json", ""])
def test_unsafe_output_paths_are_refused(path):
    from statsbot.outputs import safe_relpath

    with pytest.raises(ValueError):
        safe_relpath(path)
