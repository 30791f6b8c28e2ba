"""How a Scholar fetch fails: each fault ends within the deadline, with the documented
one-line error, a bounded number of requests, and the previous output files untouched.

Read it as a list of faults. Every case first publishes good values into the output
folder from a healthy server, then runs again against the fault.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import pytest

from conftest import cstart_of, html_response
from helpers import scholar_config, snapshot
from scholar_fixtures import make_profile
from statsbot import history
from statsbot.demo import pages
from statsbot.runner import run

UID = "TestUser01AJ"
PROFILE = make_profile(150, UID)  # two pages: a fault can hit page one or page two
FULL_PAGE = pages.render_profile(PROFILE)


def redirect(location: str):
    return lambda request: html_response("", 302, {"Location": location})


def without_stats(page: str, keep: int) -> str:
    cells = list(re.finditer(r'<td class="gsc_rsb_std">\d+</td>', page))
    for match in reversed(cells[keep:]):
        page = page[: match.start()] + page[match.end() :]
    return page


@dataclass
class Fault:
    name: str
    respond: Callable | None = None  # what the fake Scholar answers instead of the page
    when: Callable = lambda request: True  # which requests get that answer
    base: str = "site"  # "site", "silent", "trickle" or "refused"
    error: str = ""  # a part of the one-line error
    requests: int | None = None  # exactly this many requests, when given
    settings: dict = field(default_factory=dict)
    max_seconds: float = 6.0


FAULTS = [
    Fault("captcha page", lambda r: html_response(pages.captcha_page()),
          error="Google Scholar served a captcha page", requests=1),
    Fault("DOS page", lambda r: html_response(pages.dos_page()),
          error="Google Scholar served its DOS page", requests=1),
    Fault("redirect to google's sorry page", redirect("/sorry/index?continue=x"),
          lambda r: r.path == "/citations", error="'unusual traffic' page", requests=2),
    Fault("unusual-traffic text with HTTP 429", lambda r: html_response(pages.unusual_traffic_page(), 429),
          error="'unusual traffic' page", requests=1),
    Fault("cookie-consent page", redirect("/ml?continue=https://scholar.google.com/citations"),
          lambda r: r.path == "/citations", error="cookie-consent page", requests=2),
    Fault("HTTP 429 with Retry-After every time", lambda r: html_response("", 429, {"Retry-After": "0"}),
          error="HTTP 429 for the profile page, after 3 tries", requests=3),
    Fault("HTTP 429 with Retry-After past the deadline", lambda r: html_response("", 429, {"Retry-After": "3600"}),
          error="Retry-After 3600 s is past the deadline", requests=1),
    Fault("HTTP 500 every time", lambda r: html_response("oops", 500),
          error="HTTP 500 for the profile page, after 3 tries", requests=3),
    Fault("HTTP 403", lambda r: html_response("Forbidden", 403),
          error="access denied (HTTP 403)", requests=1),
    Fault("HTTP 404: no such profile", lambda r: html_response(pages.not_found_page(), 404),
          error="no Google Scholar profile with this id (HTTP 404)", requests=1),
    Fault("stats table missing", lambda r: html_response(without_stats(FULL_PAGE, 0)),
          error="has 0 of the 6 stats cells", requests=1),
    Fault("three stats cells", lambda r: html_response(without_stats(FULL_PAGE, 3)),
          error="has 3 of the 6 stats cells", requests=1),
    Fault("a stats cell that is not a number", lambda r: html_response(FULL_PAGE.replace(">98765<", ">n/a<")),
          error="stats cell that is not a count", requests=1),
    Fault("truncated HTML", lambda r: html_response(FULL_PAGE[: len(FULL_PAGE) // 2]),
          error="no publication list", requests=1),
    Fault("an empty 200 answer", lambda r: html_response(""), error="no publication list", requests=1),
    Fault("JSON instead of HTML", lambda r: html_response('{"error": "nope"}'), error="no publication list", requests=1),
    Fault("a body over 5 MiB", lambda r: html_response("<p>" + "x" * (6 * 1024 * 1024)),
          error="page larger than 5 MiB", requests=1),
    Fault("captcha on the second page", lambda r: html_response(pages.captcha_page()),
          lambda r: cstart_of(r) == 100, error="captcha page", requests=2),
    Fault("second page without rows", lambda r: html_response(pages.render_profile({**PROFILE, "publications": []})),
          lambda r: cstart_of(r) == 100, error="lists no publications although the previous page offered more",
          requests=2),
    Fault("server that accepts and never answers", base="silent", error="deadline of 2 s reached",
          settings={"deadline_seconds": 2.0, "timeout_seconds": 30.0}, max_seconds=3.5),
    Fault("server that trickles one byte at a time", base="trickle", error="deadline of 2 s reached",
          settings={"deadline_seconds": 2.0, "timeout_seconds": 30.0}, max_seconds=3.5),
    Fault("connection refused", base="refused", error="connection failed"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(fault: Fault, scholar_site, silent_server, trickle_server, closed_port_url, tmp_path):
    scholar_site.add(PROFILE)
    good = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert good.results[0].status == "ok"
    before = snapshot(tmp_path)
    good_stats = json.loads(before.pop("stats.json"))
    scholar_site.server.clear_log()

    if fault.respond is not None:
        scholar_site.override(fault.respond, fault.when)
    scholar_site.server.expect_request("/sorry/index").respond_with_data(pages.sorry_page(), 429, content_type="text/html")
    scholar_site.server.expect_request("/ml").respond_with_data(pages.consent_page(), 200, content_type="text/html")
    base = {"site": scholar_site.url, "silent": silent_server, "trickle": trickle_server, "refused": closed_port_url}[fault.base]
    settings = {"timeout_seconds": 2.0, "deadline_seconds": 5.0, **fault.settings}

    started = time.monotonic()
    report = run(scholar_config(base, UID, tmp_path, **settings))
    elapsed = time.monotonic() - started

    result = report.results[0]
    assert result.status == "stale"
    assert fault.error in result.error
    assert "\n" not in result.error
    assert elapsed < fault.max_seconds, f"took {elapsed:.1f} s"
    if fault.requests is not None:
        assert len(scholar_site.requests()) == fault.requests

    after = snapshot(tmp_path)
    stats = json.loads(after.pop("stats.json"))
    assert after == before  # gs_data.json and every badge byte for byte as the good run left them
    entry = stats["sources"]["scholar"][UID]
    good_entry = good_stats["sources"]["scholar"][UID]
    assert entry["status"] == "stale" and entry["error"] == result.error
    assert entry["metrics"] == good_entry["metrics"]  # nothing zeroed, nothing erased
    assert entry["fetched_at"] == entry["last_success_at"] == good_entry["fetched_at"]


def test_a_500_then_success_recovers_within_the_retry_budget(scholar_site, tmp_path):
    scholar_site.add(PROFILE)
    failures = iter([True])
    scholar_site.override(lambda r: html_response("busy", 503), lambda r: next(failures, False))
    report = run(scholar_config(scholar_site.url, UID, tmp_path, retries=2))
    assert report.results[0].status == "ok"
    assert len(scholar_site.requests()) == 3  # page one twice, page two once


def test_no_retries_means_one_request(scholar_site, tmp_path):
    scholar_site.add(PROFILE)
    scholar_site.override(lambda r: html_response("oops", 500))
    report = run(scholar_config(scholar_site.url, UID, tmp_path, retries=0))
    assert "HTTP 500 for the profile page, after 1 try" in report.results[0].error
    assert len(scholar_site.requests()) == 1


def test_first_run_failure_writes_error_badges_and_no_profile_data(scholar_site, tmp_path):
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert report.results[0].status == "error"
    badges = [f"badges/scholar/{UID}/{name}.json" for name in ("citations", "h-index", "i10-index")]
    # no gs_data.json, no zeros; the page's citations badge is an error badge too
    month = history.month_file(datetime.now(timezone.utc).date().isoformat())  # the run's UTC month: history/YYYY-MM.csv
    assert sorted(snapshot(tmp_path)) == sorted([*badges, "badges/citations.json", month, "stats.json"])
    for path in [*badges, "badges/citations.json"]:
        badge = json.loads((tmp_path / path).read_text(encoding="utf-8"))
        assert badge["isError"] is True and badge["message"] == "unavailable"
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    assert stats["sources"]["scholar"][UID] == {
        "status": "error", "fetched_at": None, "last_success_at": None, "error": report.results[0].error, "metrics": {},
    }
