"""The scraperapi fetcher (issue 10): Scholar's own pages through ScraperAPI's API endpoint.

Everything runs for real on 127.0.0.1: the fake Scholar (`scholar_site`), the fake
ScraperAPI in tests/fakes.py (which fetches its targets from that fake Scholar, never
from the network), statsbot's runner, and once the real CLI in a child process.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from conftest import SCRAPERAPI_TEST_KEY, html_response, run_statsbot, write_config
from fakes import FakeScraperApi
from helpers import scholar_config, snapshot
from proxyutil import RecordingProxy
from scholar_fixtures import make_profile
from statsbot.demo import pages
from statsbot.redact import PROXY_VARIABLES
from statsbot.runner import run

UID = "SapiUser01AJ"
KEY = SCRAPERAPI_TEST_KEY  # planted: must never be printed or written
WRONG_KEY = "sapi_" + "Wr0ngK3yNeverRealAbcdefghij98765"
TARGET = "https://scholar.google.com/citations?hl=en&user={uid}&pagesize=100"


@pytest.fixture
def scraperapi(scraperapi_api):
    """The fake ScraperAPI (conftest.scraperapi_api), fetching from `scholar_site`, with key KEY."""
    assert scraperapi_api.key == KEY
    return scraperapi_api


def sapi_config(fake: FakeScraperApi, output: Path, base_url: str, **scholar):
    """Only the scraperapi fetcher; `base_url` (where the direct fetcher would go) is a closed port."""
    settings = {"fetchers": ["scraperapi"], "scraperapi_url": fake.url, "min_interval_hours": 0, **scholar}
    return scholar_config(base_url, UID, output, **settings)


def read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def every_output_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in directory.rglob("*") if p.is_file())


# ------------------------------------------------------------------ the request shape


@pytest.mark.parametrize("n_pubs", [137, 20])
def test_a_profile_costs_ceil_p_over_100_requests_each_with_the_key_in_a_header(
    n_pubs, scraperapi, scholar_site, closed_port_url, tmp_path
):
    profile = scholar_site.add(make_profile(n_pubs, UID))
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})

    result = report.results[0]
    assert result.status == "ok", result.error
    stats = profile["stats"]
    assert result.metrics["publications"] == n_pubs
    assert (result.metrics["citations"], result.metrics["h_index"]) == (stats["citations"], stats["h_index"])
    assert len(scraperapi.requests) == math.ceil(n_pubs / 100)
    expected = [TARGET.format(uid=UID)] + [
        f"https://scholar.google.com/citations?hl=en&user={UID}&cstart={c}&pagesize=100" for c in range(100, n_pubs, 100)
    ]
    assert scraperapi.targets() == expected
    for request in scraperapi.requests:
        assert (request["method"], request["path"]) == ("GET", "/")
        assert set(parse_qs(request["query"])) == {"url"}  # no api_key= in the URL
        assert KEY not in request["query"]
    assert scraperapi.keys() == [KEY] * len(expected)
    assert len(scholar_site.requests()) == len(expected)  # ScraperAPI fetched each page once

    data = read(tmp_path / "gs_data.json")
    assert len(data["publications"]) == n_pubs
    assert data["citedby"] == stats["citations"]
    entry = read(tmp_path / "stats.json")["sources"]["scholar"][UID]
    assert entry["status"] == "ok" and entry["via"] == "scraperapi"


def test_the_files_are_byte_identical_to_the_direct_fetchers(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(137, UID))
    direct_out, sapi_out = tmp_path / "direct", tmp_path / "scraperapi"
    direct = run(scholar_config(scholar_site.url, UID, direct_out))
    through = run(sapi_config(scraperapi, sapi_out, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert direct.results[0].status == through.results[0].status == "ok"

    direct_badges, sapi_badges = snapshot(direct_out / "badges"), snapshot(sapi_out / "badges")
    assert len(direct_badges) == 3 + 137 + 1  # citations, h-index, i10-index, one per paper, the page's citations
    assert sapi_badges == direct_badges
    direct_pubs = read(direct_out / "gs_data.json")["publications"]
    sapi_pubs = read(sapi_out / "gs_data.json")["publications"]
    assert len(direct_pubs) == 137
    dump = lambda pubs: json.dumps(pubs, sort_keys=True, ensure_ascii=False).encode("utf-8")  # noqa: E731
    assert dump(sapi_pubs) == dump(direct_pubs)
    assert (sapi_out / "gs_data_shieldsio.json").read_bytes() == (direct_out / "gs_data_shieldsio.json").read_bytes()


# --------------------------------------------------------- ScraperAPI's own failures


def _bad_key(fake):
    return {"SCRAPER_API_KEY": WRONG_KEY}


def _no_credits(fake):
    fake.credits = 0
    return {"SCRAPER_API_KEY": KEY}


def _failed_every_time(fake):
    fake.fail(lambda r: True, *[FakeScraperApi.failed] * 10)
    return {"SCRAPER_API_KEY": KEY}


def _too_fast_every_time(fake):
    fake.fail(lambda r: True, *[FakeScraperApi.too_fast] * 10)
    return {"SCRAPER_API_KEY": KEY}


PROVIDER_FAULTS = [
    # name, set-up, the one-line error (exact), requests
    ("bad key (401)", _bad_key, "ScraperAPI: the API key was refused (HTTP 401): check $SCRAPER_API_KEY", 1),
    ("plan's credits used up (403)", _no_credits,
     "ScraperAPI: the plan's credits are used up (HTTP 403): add credits or wait for the plan's renewal", 1),
    ("500 after ScraperAPI's own retries", _failed_every_time,
     "ScraperAPI: could not fetch the page (HTTP 500 after ScraperAPI's own retries) for the profile page, after 2 tries", 2),
    ("429: too many concurrent requests", _too_fast_every_time,
     "ScraperAPI: too many concurrent requests for the plan (HTTP 429) for the profile page, after 2 tries", 2),
]


@pytest.mark.parametrize("name, set_up, error, requests", PROVIDER_FAULTS, ids=[f[0] for f in PROVIDER_FAULTS])
def test_a_provider_failure_is_one_line_naming_scraperapi_and_keeps_the_earlier_values(
    name, set_up, error, requests, scraperapi, scholar_site, closed_port_url, tmp_path
):
    scholar_site.add(make_profile(137, UID))
    config = sapi_config(scraperapi, tmp_path, closed_port_url, retries=1)
    good = run(config, env={"SCRAPER_API_KEY": KEY})
    assert good.results[0].status == "ok"
    before = snapshot(tmp_path)
    good_entry = json.loads(before.pop("stats.json"))["sources"]["scholar"][UID]
    scraperapi.requests.clear()

    env = set_up(scraperapi)
    report = run(config, env=env)

    result = report.results[0]
    assert result.status == "stale"
    assert result.error == error
    assert len(scraperapi.requests) == requests  # a refused key or a spent plan is not retried
    after = snapshot(tmp_path)
    entry = json.loads(after.pop("stats.json"))["sources"]["scholar"][UID]
    assert after == before  # gs_data.json and every badge as the good run left them
    assert entry["metrics"] == good_entry["metrics"] and entry["error"] == error
    for key in (KEY, WRONG_KEY):
        assert key not in every_output_text(tmp_path)


def test_a_bad_key_on_a_first_run_is_an_error_without_data(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(20, UID))
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": WRONG_KEY})
    assert report.results[0].status == "error"
    assert report.results[0].error == "ScraperAPI: the API key was refused (HTTP 401): check $SCRAPER_API_KEY"
    assert not (tmp_path / "gs_data.json").exists()
    assert scholar_site.requests() == []  # ScraperAPI refused before fetching anything


def test_a_403_about_the_key_is_a_refused_key_and_an_unknown_403_quotes_scraperapi(
    scraperapi, scholar_site, closed_port_url, tmp_path
):
    scholar_site.add(make_profile(20, UID))
    scraperapi.fail(lambda r: True, lambda r: html_response("Invalid API key.", 403))
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].error == "ScraperAPI: the API key was refused (HTTP 403): check $SCRAPER_API_KEY"

    scraperapi.fail(lambda r: True, lambda r: html_response(f"Forbidden for {KEY}\nby policy", 403))
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].error == "ScraperAPI: access refused (HTTP 403): ScraperAPI said 'Forbidden for *** by policy'"
    assert len(scraperapi.requests) == 2


def test_a_500_then_a_page_recovers_within_the_retries(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(137, UID))
    scraperapi.fail(lambda r: True, FakeScraperApi.failed)
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url, retries=1), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].status == "ok", report.results[0].error
    assert len(scraperapi.requests) == 3  # page one twice, page two once


def test_scholar_refusing_scraperapi_is_its_500_not_scholars_403(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(20, UID))
    scholar_site.override(lambda r: html_response("Forbidden", 403))  # ScraperAPI retries that, then answers 500
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url, retries=0), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].error == (
        "ScraperAPI: could not fetch the page (HTTP 500 after ScraperAPI's own retries) for the profile page, after 1 try"
    )


def test_scholars_404_through_scraperapi_is_no_such_profile(scraperapi, scholar_site, closed_port_url, tmp_path):
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].error == "no Google Scholar profile with this id (HTTP 404)"
    assert len(scraperapi.requests) == 1


@pytest.mark.parametrize("server, cause", [("silent", "ScraperAPI: no answer within"), ("trickle", "while reading a page")])
def test_a_scraperapi_that_never_finishes_ends_at_the_deadline(
    server, cause, silent_server, trickle_server, scholar_site, tmp_path
):
    scholar_site.add(make_profile(20, UID))
    url = {"silent": silent_server, "trickle": trickle_server}[server]
    config = scholar_config(
        scholar_site.url, UID, tmp_path, fetchers=["scraperapi"], scraperapi_url=url,
        deadline_seconds=2.0, timeout_seconds=30.0,
    )
    started = time.monotonic()
    report = run(config, env={"SCRAPER_API_KEY": KEY})
    elapsed = time.monotonic() - started
    error = report.results[0].error
    assert elapsed < 4.0, f"took {elapsed:.1f} s"  # not ScraperAPI's 70 s, not timeout_seconds
    assert "deadline of 2 s reached" in error and cause in error
    assert scholar_site.requests() == []


# ------------------------------------------------------- Scholar's blocks, delivered


@pytest.mark.parametrize(
    "page, error",
    [
        (pages.captcha_page(), "Google Scholar served a captcha page (it suspects a robot at this IP address)"),
        (pages.dos_page(), "Google Scholar served its DOS page (too many requests from this IP address)"),
    ],
    ids=["captcha", "DOS page"],
)
def test_a_block_page_delivered_by_scraperapi_is_still_a_block(
    page, error, scraperapi, scholar_site, closed_port_url, tmp_path
):
    scholar_site.add(make_profile(137, UID))
    scholar_site.override(lambda r: html_response(page))  # Scholar answers 200 with it; ScraperAPI passes it on
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].status == "error"
    assert report.results[0].error == error
    assert len(scraperapi.requests) == 1  # a block is not retried
    assert not (tmp_path / "gs_data.json").exists()


# --------------------------------------------------------------- not configured


def test_without_a_key_the_fetcher_is_skipped_with_one_line(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(20, UID))
    toml = (
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\nfetchers = ["scraperapi", "direct"]\n'
        f'scraperapi_url = "{scraperapi.url}"\npage_delay_seconds = 0\nmin_interval_hours = 0\n'
    )
    write_config(tmp_path, toml)
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    mentions = [line for line in (result.stdout + result.stderr).splitlines() if "scraperapi" in line.lower()]
    assert mentions == [f"WARNING: scholar {UID}: skipping the scraperapi fetcher: $SCRAPER_API_KEY is not set"]
    assert read(tmp_path / "output" / "stats.json")["sources"]["scholar"][UID]["via"] == "direct"
    assert scraperapi.requests == []

    # alone, it leaves the profile without a value, and says why
    write_config(tmp_path, toml.replace('["scraperapi", "direct"]', '["scraperapi"]').replace(scholar_site.url, closed_port_url))
    (tmp_path / "output").rename(tmp_path / "first-output")
    alone = run_statsbot("run", cwd=tmp_path)
    assert alone.returncode != 0
    assert f"scholar {UID}: ERROR: scraperapi: skipped ($SCRAPER_API_KEY is not set)" in alone.stdout
    assert scraperapi.requests == []


def test_a_working_direct_fetcher_means_scraperapi_is_never_called(scraperapi, scholar_site, tmp_path):
    scholar_site.add(make_profile(137, UID))
    config = scholar_config(
        scholar_site.url, UID, tmp_path, fetchers=["direct", "scraperapi"], scraperapi_url=scraperapi.url,
        min_interval_hours=0,
    )
    report = run(config, env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].status == "ok"
    assert read(tmp_path / "stats.json")["sources"]["scholar"][UID]["via"] == "direct"
    assert scraperapi.requests == []


# --------------------------------------------------------------------- the CLI


def sapi_toml(fake: FakeScraperApi, base_url: str) -> str:
    return (
        f'[scholar]\nid = "{UID}"\nbase_url = "{base_url}"\nfetchers = ["scraperapi"]\n'
        f'scraperapi_url = "{fake.url}"\npage_delay_seconds = 0\nretries = 0\nmin_interval_hours = 0\n'
    )


def test_the_cli_fetches_through_scraperapi_and_never_shows_the_key(scraperapi, scholar_site, closed_port_url, tmp_path):
    scholar_site.add(make_profile(137, UID))
    write_config(tmp_path, sapi_toml(scraperapi, closed_port_url))
    env = {"SCRAPER_API_KEY": KEY}

    good = run_statsbot("run", "-vv", cwd=tmp_path, env=env)
    assert good.returncode == 0, good.stderr
    assert len(scraperapi.requests) == 2 and scraperapi.keys() == [KEY, KEY]
    entry = read(tmp_path / "output" / "stats.json")["sources"]["scholar"][UID]
    assert entry["status"] == "ok" and entry["via"] == "scraperapi" and entry["metrics"]["publications"] == 137
    assert f"scholar {UID}: 137 publications in 2 requests (via scraperapi)" in good.stderr

    scraperapi.fail(lambda r: True, FakeScraperApi.no_credits)
    spent = run_statsbot("run", "-vv", cwd=tmp_path, env=env)
    assert spent.returncode != 0
    lines = [line for line in spent.stdout.splitlines() + spent.stderr.splitlines() if "credits are used up" in line]
    assert lines and all("ScraperAPI: the plan's credits are used up (HTTP 403)" in line for line in lines)

    bad = run_statsbot("run", "-vv", cwd=tmp_path, env={"SCRAPER_API_KEY": WRONG_KEY})
    assert bad.returncode != 0
    assert "ScraperAPI: the API key was refused (HTTP 401): check $SCRAPER_API_KEY" in bad.stdout + bad.stderr

    for result in (good, spent, bad):
        for key in (KEY, WRONG_KEY):
            assert key not in result.stdout + result.stderr
    files = every_output_text(tmp_path)
    assert "SapiUser01AJ" in files  # the check below reads the files it should
    for key in (KEY, WRONG_KEY):
        assert key not in files
    assert read(tmp_path / "output" / "stats.json")["sources"]["scholar"][UID]["metrics"]["publications"] == 137


# ------------------------------------------------------------- the environment's proxy


@pytest.fixture
def env_proxy(monkeypatch):
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = RecordingProxy()
    monkeypatch.setenv("HTTP_PROXY", f"http://{server.address}")
    yield server
    server.close()


def test_the_request_to_scraperapi_goes_through_the_environments_proxy(
    env_proxy, scraperapi, scholar_site, closed_port_url, tmp_path
):
    scholar_site.add(make_profile(20, UID))
    report = run(sapi_config(scraperapi, tmp_path, closed_port_url), env={"SCRAPER_API_KEY": KEY})
    assert report.results[0].status == "ok", report.results[0].error
    assert [line.split("?")[0] for line in env_proxy.requests] == [f"GET {scraperapi.url}/"]
    assert KEY not in env_proxy.requests[0]  # what a proxy logs holds no key
    assert scraperapi.keys() == [KEY]
