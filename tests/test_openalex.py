"""The OpenAlex source against a fake OpenAlex API on 127.0.0.1 (tests/fake_openalex.py)."""

from __future__ import annotations

import json
import math
import re
import time

import pytest
from conftest import OPENALEX_TEST_KEY, run_statsbot, write_config
from fakes import json_response
from helpers import snapshot
from hypothesis import given
from hypothesis import strategies as st

from statsbot.config import parse_config
from statsbot.errors import ConfigError
from statsbot.outputs import safe_relpath
from statsbot.runner import run
from statsbot.sources.openalex import orcid_check_digit, parse_author

ADA = "A5023888391"
ADA_ORCID = "0000-0002-1825-0097"
BOB = "A5000000002"
ENV = {"OPENALEX_API_KEY": OPENALEX_TEST_KEY}


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def badge(label, message):
    return {"schemaVersion": 1, "label": label, "message": message, "color": "blue", "cacheSeconds": 3600}


def site(directory, url, authors, extra=""):
    return write_config(
        directory,
        f'[openalex]\nauthors = {json.dumps(authors)}\nendpoint = "{url}"\ntimeout_seconds = 5\nretries = 1\n{extra}',
    )


def config(api, out, **settings):
    section = {"endpoint": api.url, "timeout_seconds": 5.0, "retries": 1, **settings}
    return parse_config({"openalex": section, "output": {"dir": str(out)}}, path=None, env={})


def mine(report):
    """This source's results (the run adds totals of its own)."""
    return [r for r in report.results if r.source == "openalex"]


def entries(out):
    return read(out / "stats.json")["sources"]["openalex"]


def add_ada(api, works=(120, 45, 3), **kw):
    return api.add(ADA, "Ada Lovelace", works=list(works), orcid=ADA_ORCID, h_index=2, i10_index=2, **kw)


# ----------------------------------------------------------------------- a run


def test_a_run_through_the_cli_writes_the_badges_and_stats(openalex_api, tmp_path):
    add_ada(openalex_api)
    openalex_api.add(BOB, "Bob Ñúñez", works=[7], h_index=1, i10_index=0, citations=9)
    site(tmp_path, openalex_api.url, [f"https://openalex.org/{ADA}", BOB.lower()])
    result = run_statsbot("run", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert f"openalex {ADA} (Ada Lovelace): ok: citations 168, h_index 2, i10_index 2, works 3" in result.stdout
    assert f"openalex {BOB} (Bob Ñúñez): ok: citations 9, h_index 1, i10_index 0, works 1" in result.stdout

    out = tmp_path / "output"
    stats = entries(out)
    assert stats[ADA]["status"] == "ok" and stats[ADA]["error"] is None
    assert stats[ADA]["metrics"] == {"citations": 168, "h_index": 2, "i10_index": 2, "works": 3}
    assert stats[ADA]["openalex_id"] == ADA and stats[ADA]["orcid"] == ADA_ORCID
    assert stats[BOB]["metrics"] == {"citations": 9, "h_index": 1, "i10_index": 0, "works": 1}
    assert "orcid" not in stats[BOB] and "moved_to" not in stats[BOB]

    base = out / "badges" / "openalex" / ADA
    assert read(base / "citations.json") == badge("citations (OpenAlex)", "168")
    assert read(base / "h-index.json") == badge("h-index (OpenAlex)", "2")
    assert read(base / "i10-index.json") == badge("i10-index (OpenAlex)", "2")
    assert read(base / "works.json") == badge("works (OpenAlex)", "3")
    works = {p.name: read(p) for p in (base / "works").iterdir()}
    assert works == {
        "W502388839100001.json": badge("citations (OpenAlex)", "120"),
        "W502388839100002.json": badge("citations (OpenAlex)", "45"),
        "W502388839100003.json": badge("citations (OpenAlex)", "3"),
    }
    assert (out / "charts" / "openalex" / ADA / "citations.svg").is_file()
    assert (out / "charts" / "openalex" / ADA / "h-index.svg").is_file()
    # 2 authors, then one works page each
    assert sorted(r["path"] for r in openalex_api.requests) == sorted([f"/authors/{ADA}", f"/authors/{BOB}", "/works", "/works"])


@pytest.mark.parametrize("w", [0, 1, 200, 201, 450])
def test_requests_are_one_plus_one_per_200_works(openalex_api, tmp_path, w):
    add_ada(openalex_api, works=[i % 17 for i in range(w)])
    report = run(config(openalex_api, tmp_path, authors=[ADA]), env=ENV)
    assert mine(report)[0].status == "ok", mine(report)[0].error
    assert len(openalex_api.requests) == 1 + math.ceil(w / 200)
    folder = tmp_path / "badges" / "openalex" / ADA / "works"
    published = sorted(p.name for p in folder.iterdir()) if w else []
    assert published == sorted(f"W5023888391{i:05d}.json" for i in range(1, w + 1))
    assert entries(tmp_path)[ADA]["metrics"]["works"] == w
    cursors = [re.search(r"cursor=([^&]*)", r["query"]).group(1) for r in openalex_api.requests if r["path"] == "/works"]
    assert cursors[:1] == (["%2A"] if w else [])  # cursor=*, then the cursors the API handed out
    assert all("per_page=200" in r["query"] for r in openalex_api.requests if r["path"] == "/works")


def test_works_false_fetches_only_the_author(openalex_api, tmp_path):
    add_ada(openalex_api, works=[5] * 450)
    report = run(config(openalex_api, tmp_path, authors=[ADA], works=False), env=ENV)
    assert mine(report)[0].metrics == {"citations": 2250, "h_index": 2, "i10_index": 2, "works": 450}
    assert [r["path"] for r in openalex_api.requests] == [f"/authors/{ADA}"]
    assert not (tmp_path / "badges" / "openalex" / ADA / "works").exists()


def test_an_orcid_is_looked_up_in_openalex(openalex_api, tmp_path):
    add_ada(openalex_api)
    report = run(config(openalex_api, tmp_path, authors=[f"https://orcid.org/{ADA_ORCID}"]), env=ENV)
    result = mine(report)[0]
    assert (result.item, result.status, result.detail) == (ADA_ORCID, "ok", "Ada Lovelace")
    assert result.extra == {"openalex_id": ADA, "orcid": ADA_ORCID}
    assert [r["path"] for r in openalex_api.requests] == [f"/authors/orcid:{ADA_ORCID}", "/works"]
    assert f"filter=author.id%3A{ADA}" in openalex_api.requests[1]["query"]  # the works of the A-id it answered
    assert read(tmp_path / "badges" / "openalex" / ADA_ORCID / "citations.json")["message"] == "168"


def test_an_orcid_openalex_does_not_know_is_said_so(openalex_api, tmp_path):
    report = run(config(openalex_api, tmp_path, authors=["0000-0002-1694-233X"]), env=ENV)
    assert mine(report)[0].status == "error"
    assert mine(report)[0].error == (
        "OpenAlex author with ORCID 0000-0002-1694-233X: not in OpenAlex (HTTP 404): no OpenAlex author has this ORCID; "
        "use its A-id instead"
    )


@pytest.mark.parametrize("status", [301, 302])
def test_a_merged_author_is_followed_and_reported(openalex_api, tmp_path, status):
    add_ada(openalex_api)
    openalex_api.merge("A5011111111", ADA, status)
    site(tmp_path, openalex_api.url, ["A5011111111"])
    result = run_statsbot("run", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    entry = entries(tmp_path / "output")["A5011111111"]
    assert entry["moved_to"] == ADA and entry["openalex_id"] == ADA
    assert entry["metrics"] == {"citations": 168, "h_index": 2, "i10_index": 2, "works": 3}
    assert f"(moved to {ADA})" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "merged into" in line]
    assert warnings == [f"WARNING: OpenAlex author A5011111111 was merged into {ADA}: update [openalex] authors to {ADA}"]
    # the redirect is followed at the configured endpoint, with the key
    assert [r["path"] for r in openalex_api.requests] == ["/authors/A5011111111", f"/authors/{ADA}", "/works"]
    assert openalex_api.api_keys() == [OPENALEX_TEST_KEY] * 3


def test_an_answer_under_another_id_is_a_move_too(openalex_api, tmp_path):
    author = add_ada(openalex_api)
    openalex_api.fail(lambda r: r.path == "/authors/A5011111111", lambda r: json_response(openalex_api.author_json(author)))
    report = run(config(openalex_api, tmp_path, authors=["A5011111111"]), env=ENV)
    assert mine(report)[0].extra["moved_to"] == ADA


def test_two_entries_for_one_author_are_warned_about(openalex_api, tmp_path):
    add_ada(openalex_api)
    site(tmp_path, openalex_api.url, [ADA, ADA_ORCID])
    result = run_statsbot("run", cwd=tmp_path, env=ENV)
    assert f"[openalex] authors {ADA} and {ADA_ORCID} are one OpenAlex author ({ADA}): list it once" in result.stderr


# ------------------------------------------------------- failures keep values


def _server_error(r):
    return json_response({"error": "Internal Server Error"}, 500)


def _second_page(r):
    return r.path == "/works" and "cursor=%2A" not in r.query_string.decode() and "A5023888391" in r.query_string.decode()


FAULTS = {
    "404": (None, "not found (HTTP 404): no such OpenAlex author"),
    "500": ((lambda r: r.path == f"/authors/{ADA}", _server_error), "HTTP 500 after 1 retries"),
    "malformed": (
        (
            lambda r: r.path == f"/authors/{ADA}",
            lambda r: json_response({"id": f"https://openalex.org/{ADA}", "cited_by_count": "many"}),
        ),
        "unexpected answer (works_count: Field required)",
    ),
    "works page 2 fails": ((_second_page, _server_error), "works page 2: HTTP 500 after 1 retries"),
    "works list ends early": (
        (_second_page, lambda r: json_response({"meta": {"count": 250, "per_page": 200, "next_cursor": None}, "results": []})),
        "the works list broke off after 200 of 250 works",
    ),
    "a work id that is no W-id": (
        (
            lambda r: r.path == "/works" and ADA in r.query_string.decode(),
            lambda r: json_response({
                "meta": {"count": 1, "per_page": 200, "next_cursor": "x"},
                "results": [{"id": "https://openalex.org/W1/../../../../etc", "cited_by_count": 1}],
            }),
        ),
        "a work's id is not an OpenAlex work id",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_author_keeps_its_published_values_and_files(openalex_api, tmp_path, fault):
    add_ada(openalex_api, works=[3] * 250)
    openalex_api.add(BOB, "Bob", works=[7], h_index=1, citations=9)
    loaded = config(openalex_api, tmp_path, authors=[ADA, BOB])
    assert [r.status for r in mine(run(loaded, env=ENV))] == ["ok", "ok"]
    before = snapshot(tmp_path / "badges" / "openalex" / ADA)
    assert len(before) == 4 + 250

    add_ada(openalex_api, works=[4] * 250)  # new values that must not be published half-way
    openalex_api.add(BOB, "Bob", works=[8], h_index=1, citations=10)
    how, message = FAULTS[fault]
    if how is None:
        del openalex_api.authors[ADA]
    else:
        openalex_api.fail(how[0], *[how[1]] * 4)
    report = run(loaded, env=ENV)

    ada, bob = mine(report)
    assert ada.status == "stale" and message in ada.error, ada.error
    assert "api_key" not in ada.error and OPENALEX_TEST_KEY not in ada.error
    assert entries(tmp_path)[ADA]["metrics"] == {"citations": 750, "h_index": 2, "i10_index": 2, "works": 250}
    assert entries(tmp_path)[ADA]["status"] == "stale"
    assert snapshot(tmp_path / "badges" / "openalex" / ADA) == before
    assert (bob.status, bob.metrics["citations"]) == ("ok", 10)  # the other author is not affected
    assert not list(tmp_path.rglob("etc"))


def test_a_429_stops_every_further_request_and_keeps_the_values(openalex_api, tmp_path):
    for n in range(3):
        openalex_api.add(f"A500000000{n}", f"Author {n}", works=[1, 2])
    authors = [f"A500000000{n}" for n in range(3)]
    site(tmp_path, openalex_api.url, authors, "max_workers = 1\n")
    assert run_statsbot("run", cwd=tmp_path, env=ENV).returncode == 0
    before = snapshot(tmp_path / "output" / "badges")
    openalex_api.requests.clear()

    openalex_api.fail(lambda r: True, lambda r: json_response({"error": "Rate limit exceeded"}, 429))
    result = run_statsbot("run", cwd=tmp_path, env=ENV)
    assert result.returncode == 3
    assert len(openalex_api.requests) == 1
    stats = entries(tmp_path / "output")
    assert all(stats[a]["status"] == "stale" and stats[a]["metrics"]["citations"] == 3 for a in authors)
    assert all("daily allowance or rate limit was reached (HTTP 429)" in stats[a]["error"] for a in authors)
    assert snapshot(tmp_path / "output" / "badges") == before


def test_the_deadline_bounds_a_long_works_list(openalex_api, tmp_path):
    add_ada(openalex_api, works=[1] * 3000)  # 16 requests
    openalex_api.latency = 0.25
    started = time.monotonic()
    result = mine(run(config(openalex_api, tmp_path, authors=[ADA], deadline_seconds=1.0), env=ENV))[0]
    assert time.monotonic() - started < 10  # generous: the point is that it does not take 16 x 0.25 s and more
    assert result.status == "error" and "deadline of 1 s reached" in result.error, result.error
    assert len(openalex_api.requests) < 16
    assert not (tmp_path / "badges" / "openalex" / ADA / "works").exists()


def test_more_works_than_statsbot_lists_says_how_to_skip_them(openalex_api, tmp_path):
    add_ada(openalex_api, works_count=10_001)
    openalex_api.fail(
        lambda r: r.path == "/works",
        lambda r: json_response({"meta": {"count": 10_001, "per_page": 200, "next_cursor": "abc"}, "results": []}),
    )
    result = mine(run(config(openalex_api, tmp_path, authors=[ADA]), env=ENV))[0]
    assert result.error == (
        f"OpenAlex author {ADA}: 10001 works, more than the 10000 statsbot lists "
        "(set [openalex] works = false to fetch only the author's totals)"
    )
    assert len(openalex_api.requests) == 2


def test_an_author_that_never_worked_gets_error_badges(openalex_api, tmp_path):
    report = run(config(openalex_api, tmp_path, authors=[BOB]), env=ENV)
    assert mine(report)[0].status == "error"
    assert read(tmp_path / "badges" / "openalex" / BOB / "citations.json") == {
        "schemaVersion": 1, "label": "citations (OpenAlex)", "message": "unavailable", "isError": True, "cacheSeconds": 3600,
    }


def test_old_stale_values_grey_every_badge_work_badges_included(openalex_api, tmp_path):
    add_ada(openalex_api)
    run(config(openalex_api, tmp_path, authors=[ADA]), env=ENV)
    openalex_api.fail(lambda r: True, *[_server_error] * 4)
    loaded = parse_config(
        {"openalex": {"authors": [ADA], "endpoint": openalex_api.url, "retries": 1}, "output": {"dir": str(tmp_path)},
         "run": {"stale_after_days": 0}},
        path=None, env={},
    )
    assert mine(run(loaded, env=ENV))[0].status == "stale"
    base = tmp_path / "badges" / "openalex" / ADA
    assert read(base / "citations.json")["color"] == "lightgrey"
    assert read(base / "works" / "W502388839100001.json") == {**badge("citations (OpenAlex)", "120"), "color": "lightgrey"}


def test_a_split_author_is_held_back_by_the_drop_gate(openalex_api, tmp_path):
    add_ada(openalex_api, works=[10] * 10)
    loaded = config(openalex_api, tmp_path, authors=[ADA])
    run(loaded, env=ENV)
    add_ada(openalex_api, works=[10] * 4)  # OpenAlex split the person: 6 of 10 works went elsewhere
    result = mine(run(loaded, env=ENV))[0]
    assert result.status == "stale" and "held back" in result.error
    assert entries(tmp_path)[ADA]["metrics"]["works"] == 10


# -------------------------------------------------------------- the API key


def test_a_key_in_the_file_is_a_one_line_config_error(openalex_api, tmp_path):
    site(tmp_path, openalex_api.url, [ADA], f'api_key = "{OPENALEX_TEST_KEY}"\n')
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "openalex.api_key: secrets are never read from the config file" in lines[0]
    assert "set $OPENALEX_API_KEY instead" in lines[0]
    assert OPENALEX_TEST_KEY not in result.stderr + result.stdout
    assert openalex_api.requests == []


def test_the_key_reaches_openalex_and_nowhere_else(openalex_api, tmp_path):
    add_ada(openalex_api, works=[1] * 201)
    openalex_api.add(BOB, "Bob", works=[2])
    openalex_api.fail(lambda r: r.path == f"/authors/{BOB}", *[_server_error] * 2)
    site(tmp_path, openalex_api.url, [ADA, BOB, "A5099999999", "0000-0002-1694-233X"])
    result = run_statsbot("run", "-vv", cwd=tmp_path, env=ENV)
    assert result.returncode == 3  # Bob fails, the unknown two never worked
    assert openalex_api.api_keys() == [OPENALEX_TEST_KEY] * len(openalex_api.requests)
    assert len(openalex_api.requests) == 3 + 2 + 2  # Ada and her 2 pages, Bob twice (500, retry), 2 unknown
    assert OPENALEX_TEST_KEY not in result.stdout + result.stderr
    assert "api_key=***" in result.stderr  # urllib3's retry line names the URL: it is there, redacted
    assert "api_key=" not in result.stdout
    for path, data in snapshot(tmp_path / "output").items():
        assert OPENALEX_TEST_KEY.encode() not in data, path


def test_a_refused_key_stops_every_further_request(openalex_api, tmp_path):
    for n in range(3):
        openalex_api.add(f"A500000000{n}", f"Author {n}", works=[1])
    loaded = config(openalex_api, tmp_path, authors=[f"A500000000{n}" for n in range(3)], max_workers=1)
    results = mine(run(loaded, env={"OPENALEX_API_KEY": "oa_wrongKeyNeverReal0123456789"}))
    assert [r.error for r in results] == ["OpenAlex refused the API key (HTTP 401): check $OPENALEX_API_KEY"] * 3
    assert len(openalex_api.requests) == 1


def test_without_a_key_one_warning_for_three_authors(openalex_api, tmp_path):
    authors = [f"A500000000{n}" for n in range(3)]
    for author in authors:
        openalex_api.add(author, author, works=[1])
    site(tmp_path, openalex_api.url, authors)
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "OPENALEX_API_KEY" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("WARNING: $OPENALEX_API_KEY is not set: OpenAlex has required an API key since 2026-02-13")
    assert openalex_api.api_keys() == [None] * 6


def test_check_says_whether_the_key_is_set_never_its_value(openalex_api, tmp_path):
    site(tmp_path, openalex_api.url, [ADA, ADA_ORCID])
    with_key = run_statsbot("check", cwd=tmp_path, env=ENV)
    assert with_key.returncode == 0, with_key.stderr
    assert f"openalex: 2 authors from {openalex_api.url}, with each work's citations (with $OPENALEX_API_KEY" in with_key.stdout
    assert OPENALEX_TEST_KEY not in with_key.stdout + with_key.stderr
    without = run_statsbot("check", cwd=tmp_path)
    assert "$OPENALEX_API_KEY NOT set: OpenAlex requires a key" in without.stdout
    assert openalex_api.requests == []


# ------------------------------------------------------------------ config


def _config_error(authors):
    with pytest.raises(ConfigError) as caught:
        parse_config({"openalex": {"authors": authors}}, path=None, env={})
    return str(caught.value)


def test_a_wrong_orcid_check_digit_is_a_one_line_error():
    message = _config_error([ADA, "https://orcid.org/0000-0002-1825-0098"])
    assert message == (
        "config: openalex.authors.1: ORCID 'https://orcid.org/0000-0002-1825-0098': "
        "the check digit (its last character) is wrong: copy the ORCID again from orcid.org"
    )


def test_an_unknown_form_says_which_forms_are_accepted():
    message = _config_error(["https://scholar.google.com/citations?user=X"])
    assert message.startswith("config: openalex.authors.0: must be an OpenAlex author id (A5023888391, ")
    assert "or an ORCID (0000-0002-1825-0097, https://orcid.org/0000-0002-1825-0097" in message
    assert "\n" not in message


def test_one_author_twice_in_two_forms_is_an_error():
    message = _config_error([f"https://api.openalex.org/authors/{ADA}", ADA.lower()])
    assert message == f"config: openalex.authors: lists the author '{ADA}' twice"
    assert "lists the author '0000-0002-1694-233X' twice" in _config_error(["0000-0002-1694-233x", "orcid:0000-0002-1694-233X"])


def test_the_endpoint_must_be_a_base_url():
    with pytest.raises(ConfigError, match="openalex.endpoint: must be a plain base URL"):
        parse_config({"openalex": {"authors": [ADA], "endpoint": "https://api.openalex.org/?api_key=x"}}, path=None, env={})


# -------------------------------------------------------- property tests

fifteen_digits = st.text(alphabet="0123456789", min_size=15, max_size=15)


def hyphenate(sixteen: str) -> str:
    return "-".join(sixteen[i : i + 4] for i in range(0, 16, 4))


def orcid_forms(orcid: str) -> list[str]:
    return [
        orcid, orcid.lower(), f"https://orcid.org/{orcid}", f"http://orcid.org/{orcid}", f"orcid.org/{orcid}",
        f"https://www.orcid.org/{orcid}/", f"orcid:{orcid}", f"ORCID:{orcid.lower()}", f"  {orcid}\n",
    ]


@given(fifteen_digits)
def test_every_valid_orcid_is_accepted_in_every_form(digits):
    orcid = hyphenate(digits + orcid_check_digit(digits))
    assert {parse_author(form) for form in orcid_forms(orcid)} == {orcid}


@given(fifteen_digits, st.integers(0, 15), st.sampled_from("0123456789X"))
def test_changing_any_one_character_of_an_orcid_is_rejected(digits, position, new):
    sixteen = digits + orcid_check_digit(digits)
    if new == sixteen[position] or (new == "X" and position < 15):
        new = "0" if sixteen[position] != "0" else "1"
    changed = hyphenate(sixteen[:position] + new + sixteen[position + 1 :])
    with pytest.raises(ValueError, match="check digit"):
        parse_author(changed)


@given(st.text(alphabet="0123456789", min_size=1, max_size=15))
def test_openalex_ids_in_every_url_form_normalise_to_a_digits(digits):
    forms = [
        f"A{digits}", f"a{digits}", f"https://openalex.org/A{digits}", f"https://openalex.org/a{digits}",
        f"http://openalex.org/A{digits}", f"openalex.org/A{digits}", f"https://api.openalex.org/authors/A{digits}",
        f"https://api.openalex.org/authors/a{digits}/", f"https://openalex.org/authors/A{digits}", f" A{digits} ",
    ]
    assert {parse_author(form) for form in forms} == {f"A{digits}"}


_NORMAL = re.compile(r"A[0-9]{1,15}|[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]")
near_misses = st.one_of(
    st.text(),
    st.from_regex(r"(https?://|orcid:|openalex\.org/|api\.openalex\.org/authors/)?[aAwW0-9X/.:\-٣ ]{0,24}", fullmatch=True),
    st.builds(lambda d, s: f"A{d}{s}", st.text(alphabet="0123456789٣", min_size=1, max_size=20), st.text(max_size=3)),
)


@given(near_misses)
def test_any_text_is_a_safe_path_segment_or_a_value_error(text):
    try:
        value = parse_author(text)
    except ValueError:
        return
    assert _NORMAL.fullmatch(value)
    assert safe_relpath(f"badges/openalex/{value}/citations.json")


@given(st.one_of(st.integers(), st.none(), st.lists(st.text()), st.binary()))
def test_values_that_are_not_text_are_a_value_error(value):
    with pytest.raises(ValueError):
        parse_author(value)


def test_the_fake_pages_like_openalex(openalex_api):
    """The fake's cursor stays non-null until an empty page, as the real API's does."""
    import requests

    openalex_api.add(ADA, "Ada", works=[1] * 3)
    params = {"filter": f"author.id:{ADA}", "per_page": 2, "cursor": "*"}
    pages = []
    while True:
        page = requests.get(f"{openalex_api.url}/works", params=params, timeout=5).json()
        pages.append((len(page["results"]), page["meta"]["next_cursor"] is not None))
        if page["meta"]["next_cursor"] is None:
            break
        params["cursor"] = page["meta"]["next_cursor"]
    assert pages == [(2, True), (1, True), (0, False)]
