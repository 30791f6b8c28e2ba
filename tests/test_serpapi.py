"""The serpapi fetcher against a fake SerpApi Author API on 127.0.0.1 (tests/fakes.FakeSerpApi).

The fake answers from the same profile dicts the fake Scholar pages are rendered from,
so the same profile can be fetched both ways and the files compared byte for byte.
"""

from __future__ import annotations

import json
import logging
import math
import textwrap
from pathlib import Path

import pytest

from conftest import SERPAPI_TEST_KEY, run_statsbot, write_config
from fakes import FakeSerpApi, json_response
from helpers import scholar_config, snapshot
from scholar_fixtures import make_profile
from statsbot.jsonio import dumps
from statsbot.runner import run

UID = "TestUser01AJ"
ENV = {"SERPAPI_API_KEY": SERPAPI_TEST_KEY}
WRONG_KEY = "0badc0de" * 8  # a well-formed key SerpApi does not know


def read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def serp_config(serpapi_api, output: Path, **scholar):
    settings = {"fetchers": ["serpapi"], "serpapi_url": serpapi_api.url, "retries": 1, **scholar}
    return scholar_config(serpapi_api.url, UID, output, **settings)


def everything_written(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def varied_profile(n_pubs: int) -> dict:
    """make_profile plus a year without citations between two with, and a paper without a year."""
    profile = make_profile(n_pubs, UID)
    profile["cites_per_year"] = {"2020": 700, "2021": 0, "2022": 9000, "2023": 11000, "2024": 0, "2025": 13900}
    profile["publications"][2]["year"] = None
    return profile


# ------------------------------------------------------------------ 1. metrics and request count


@pytest.mark.parametrize("n_pubs", [20, 137, 250])
def test_profile_of_p_papers_costs_ceil_p_over_100_searches(serpapi_api, tmp_path, n_pubs):
    profile = serpapi_api.add(make_profile(n_pubs, UID))
    report = run(serp_config(serpapi_api, tmp_path), env=ENV)
    result = report.results[0]
    assert result.status == "ok", result.error

    sent = serpapi_api.author_requests()
    assert len(sent) == math.ceil(n_pubs / 100)
    assert sent == [
        {"engine": "google_scholar_author", "author_id": UID, "hl": "en", "num": "100", "start": str(start),
         "api_key": SERPAPI_TEST_KEY}
        for start in range(0, n_pubs, 100)
    ]
    assert serpapi_api.charged == len(sent)

    entry = read(tmp_path / "stats.json")["sources"]["scholar"][UID]
    assert entry["via"] == "serpapi"
    stats = profile["stats"]
    assert entry["metrics"] == {
        "citations": stats["citations"], "citations_5y": stats["citations_5y"],
        "h_index": stats["h_index"], "h_index_5y": stats["h_index_5y"],
        "i10_index": stats["i10_index"], "i10_index_5y": stats["i10_index_5y"], "publications": n_pubs,
    }
    data = read(tmp_path / "gs_data.json")
    assert len(data["publications"]) == n_pubs
    assert data["cites_per_year"] == profile["cites_per_year"]
    for pub in profile["publications"]:
        assert data["publications"][f"{UID}:{pub['pub_id']}"]["num_citations"] == (pub["citations"] or 0)
    assert SERPAPI_TEST_KEY.encode() not in everything_written(tmp_path)


# ------------------------------------------------------------------ 2. same files as the direct fetcher


@pytest.mark.parametrize("n_pubs", [6, 137])
def test_serpapi_and_direct_write_byte_identical_publications_and_badges(scholar_site, serpapi_api, tmp_path, n_pubs):
    profile = varied_profile(n_pubs)
    scholar_site.add(profile)
    serpapi_api.add(profile)
    direct_dir, serp_dir = tmp_path / "direct", tmp_path / "serpapi"
    direct = run(scholar_config(scholar_site.url, UID, direct_dir), env={})
    serp = run(serp_config(serpapi_api, serp_dir), env=ENV)
    assert direct.results[0].status == serp.results[0].status == "ok"
    assert len(scholar_site.requests()) == len(serpapi_api.author_requests()) == math.ceil(n_pubs / 100)

    a, b = read(direct_dir / "gs_data.json"), read(serp_dir / "gs_data.json")
    assert list(a["publications"]) == list(b["publications"])
    for pub_id, entry in a["publications"].items():
        assert dumps(entry) == dumps(b["publications"][pub_id]), pub_id
    assert dumps(a["publications"]) == dumps(b["publications"])
    # Uncited papers, merged ids and the paper without a year were among them.
    assert any("cites_id" not in e for e in a["publications"].values())
    assert any("pub_year" not in e["bib"] for e in a["publications"].values())
    if n_pubs > 2:
        assert len(a["publications"][f"{UID}:{profile['publications'][1]['pub_id']}"]["cites_id"]) == 2

    assert snapshot(direct_dir / "badges") == snapshot(serp_dir / "badges")
    assert (direct_dir / "gs_data_shieldsio.json").read_bytes() == (serp_dir / "gs_data_shieldsio.json").read_bytes()

    # The metrics, the 5-year ones and citations per year (a year without citations included).
    keys = ("citedby", "citedby5y", "hindex", "hindex5y", "i10index", "i10index5y", "cites_per_year")
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert a["cites_per_year"]["2021"] == 0 and a["cites_per_year"]["2024"] == 0
    stats_a = read(direct_dir / "stats.json")["sources"]["scholar"][UID]
    stats_b = read(serp_dir / "stats.json")["sources"]["scholar"][UID]
    assert stats_a["metrics"] == stats_b["metrics"]
    assert (stats_a["via"], stats_b["via"]) == ("direct", "serpapi")

    # The rest of the author: the same, except what SerpApi does not give (documented in serpapi.py).
    assert set(a) - set(b) == {"organization"} and set(b) <= set(a)
    assert {k: a[k] for k in b if k not in ("publications", "updated")} == {
        k: b[k] for k in b if k not in ("publications", "updated")
    }


# ------------------------------------------------------------------ 3. provider errors


def _invalid_key(fake: FakeSerpApi) -> dict[str, str]:
    return {"SERPAPI_API_KEY": WRONG_KEY}


def _out_of_searches(fake: FakeSerpApi) -> dict[str, str]:
    fake.searches_left = 0
    return ENV


def _server_error(fake: FakeSerpApi) -> dict[str, str]:
    fake.fail(lambda r: True, *[FakeSerpApi.server_error] * 10)
    return ENV


def _no_table(fake: FakeSerpApi) -> dict[str, str]:
    def answer(request):
        page = fake.serve(request)
        data = json.loads(page.get_data())
        del data["cited_by"]["table"]
        return json_response(data)

    fake.fail(lambda r: True, answer)
    return ENV


FAULTS = {
    "invalid key": (_invalid_key, "SerpApi: the API key was refused (HTTP 401: Invalid API key", 1),
    "out of searches": (
        _out_of_searches, "SerpApi: the account has run out of searches (HTTP 429: Your account has run out of searches.)", 1
    ),
    "HTTP 500": (_server_error, "SerpApi: the service failed (HTTP 500: Internal Server Error, after 2 tries)", 2),
    "no stats table": (_no_table, "SerpApi: the answer has no citation table (cited_by.table)", 1),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_provider_error_is_one_line_naming_serpapi_and_keeps_earlier_values(serpapi_api, tmp_path, fault):
    make_fault, message, requests = FAULTS[fault]
    serpapi_api.add(make_profile(137, UID))
    config = serp_config(serpapi_api, tmp_path, min_interval_hours=0)
    assert run(config, env=ENV).results[0].status == "ok"
    before = snapshot(tmp_path)
    before_entry = read(tmp_path / "stats.json")["sources"]["scholar"][UID]
    sent_before = len(serpapi_api.requests)

    env = make_fault(serpapi_api)
    result = run(config, env=env).results[0]

    assert result.status != "ok"
    assert result.error.startswith(message), result.error
    assert "\n" not in result.error and SERPAPI_TEST_KEY not in result.error and WRONG_KEY not in result.error
    assert len(serpapi_api.requests) - sent_before == requests
    after = snapshot(tmp_path)
    for name, content in before.items():
        if name != "stats.json":
            assert after[name] == content, name
    entry = read(tmp_path / "stats.json")["sources"]["scholar"][UID]
    assert entry["metrics"] == before_entry["metrics"] and entry["error"] == result.error
    written = everything_written(tmp_path)
    assert SERPAPI_TEST_KEY.encode() not in written and WRONG_KEY.encode() not in written


def test_an_error_answered_with_status_200_is_an_error(serpapi_api, tmp_path):
    # An author id SerpApi finds nothing for: HTTP 200, search_metadata.status "Error", an `error`.
    result = run(serp_config(serpapi_api, tmp_path), env=ENV).results[0]
    assert result.status == "error"
    assert result.error == (
        "SerpApi: the search failed for the first page (Google hasn't returned any results for this query.)"
    )
    assert not (tmp_path / "gs_data.json").exists()


def test_a_later_page_without_articles_is_an_error_not_a_shorter_profile(serpapi_api, tmp_path):
    serpapi_api.add(make_profile(137, UID))

    def empty(request):
        data = json.loads(serpapi_api.serve(request).get_data())
        data["articles"] = []
        return json_response(data)

    serpapi_api.fail(lambda r: "start=100" in r.query_string.decode(), empty)
    result = run(serp_config(serpapi_api, tmp_path), env=ENV).results[0]
    assert result.error == "SerpApi: the page at start=100 lists no articles although the previous page offered more"


# ------------------------------------------------------------------ 4. no key


def test_without_a_key_the_fetcher_is_skipped_with_one_line(serpapi_api, tmp_path, caplog):
    serpapi_api.add(make_profile(20, UID))
    with caplog.at_level(logging.INFO):
        result = run(serp_config(serpapi_api, tmp_path), env={}).results[0]
    assert result.status == "error"
    assert result.error == "serpapi: skipped ($SERPAPI_API_KEY is not set)"
    # One line says why it was skipped; the item then fails (no other fetcher is configured).
    lines = [r.getMessage() for r in caplog.records if r.name == "statsbot.scholar"]
    assert lines == [f"scholar {UID}: skipping the serpapi fetcher: $SERPAPI_API_KEY is not set"]
    assert serpapi_api.requests == []


def test_without_a_key_the_next_fetcher_gets_the_profile(scholar_site, serpapi_api, tmp_path):
    scholar_site.add(make_profile(20, UID))
    config = scholar_config(scholar_site.url, UID, tmp_path, fetchers=["serpapi", "direct"], serpapi_url=serpapi_api.url)
    result = run(config, env={}).results[0]
    assert result.status == "ok", result.error
    assert read(tmp_path / "stats.json")["sources"]["scholar"][UID]["via"] == "direct"
    assert serpapi_api.requests == []


# ------------------------------------------------------------------ the real CLI


def _cli_config(directory: Path, serpapi_url: str, **extra: str) -> None:
    lines = "".join(f"{key} = {value}\n" for key, value in extra.items())
    write_config(
        directory,
        textwrap.dedent(
            f"""\
            [scholar]
            id = "{UID}"
            fetchers = ["serpapi"]
            serpapi_url = "{serpapi_url}"
            retries = 1
            min_interval_hours = 0
            """
        )
        + lines
        + '\n[output]\ndir = "out"\n',
    )


def test_cli_fetches_through_serpapi_and_never_prints_the_key(serpapi_api, tmp_path):
    serpapi_api.add(make_profile(137, UID))
    _cli_config(tmp_path, serpapi_api.url)
    done = run_statsbot("run", "-vv", cwd=tmp_path, env=ENV)
    assert done.returncode == 0, done.stderr
    entry = read(tmp_path / "out" / "stats.json")["sources"]["scholar"][UID]
    assert entry["via"] == "serpapi" and entry["metrics"]["publications"] == 137
    assert len(serpapi_api.author_requests()) == 2
    # urllib3's -vv request lines carry the query: the key in them is masked.
    assert "api_key=***" in done.stderr
    for text in (done.stdout, done.stderr):
        assert SERPAPI_TEST_KEY not in text
    assert SERPAPI_TEST_KEY.encode() not in everything_written(tmp_path)


@pytest.mark.parametrize("fault", ["invalid key", "out of searches", "HTTP 500"])
def test_cli_provider_errors_are_one_line_and_keep_the_key_out(serpapi_api, tmp_path, fault):
    make_fault, message, _ = FAULTS[fault]
    serpapi_api.add(make_profile(20, UID))
    _cli_config(tmp_path, serpapi_api.url)
    assert run_statsbot("run", cwd=tmp_path, env=ENV).returncode == 0
    before = snapshot(tmp_path / "out")

    env = make_fault(serpapi_api)
    done = run_statsbot("run", "-vv", cwd=tmp_path, env=env)

    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if message in line]
    assert errors, done.stderr
    assert all(line.count("SerpApi:") == 1 for line in errors)
    key = env["SERPAPI_API_KEY"]
    for text in (done.stdout, done.stderr):
        assert key not in text
    assert key.encode() not in everything_written(tmp_path)
    after = snapshot(tmp_path / "out")
    assert {k: v for k, v in after.items() if k != "stats.json"} == {k: v for k, v in before.items() if k != "stats.json"}


def test_a_key_too_short_to_register_is_still_masked_in_retry_lines(serpapi_api, tmp_path):
    serpapi_api.add(make_profile(20, UID))
    serpapi_api.fail(lambda r: True, FakeSerpApi.server_error, FakeSerpApi.server_error)
    _cli_config(tmp_path, serpapi_api.url)
    done = run_statsbot("run", "-v", cwd=tmp_path, env={"SERPAPI_API_KEY": "Qz9x7"})
    assert "Retry: /search.json?" in done.stderr  # urllib3's retry line, with the query, is shown with -v
    assert "api_key=***" in done.stderr
    assert "Qz9x7" not in done.stdout + done.stderr


def test_a_serpapi_that_never_answers_ends_within_the_deadline(silent_server, tmp_path):
    import time

    config = scholar_config(
        silent_server, UID, tmp_path, fetchers=["serpapi"], serpapi_url=silent_server,
        deadline_seconds=3, timeout_seconds=2, retries=1,
    )
    started = time.monotonic()
    result = run(config, env=ENV).results[0]
    assert time.monotonic() - started < 3 + 4
    assert result.status == "error"
    assert result.error.startswith("SerpApi (the first page): "), result.error  # its own cause, not the hard bound
    assert "timed out" in result.error or "no answer" in result.error
