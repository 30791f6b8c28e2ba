"""The Semantic Scholar source against a fake Graph API on 127.0.0.1 (tests/fake_semanticscholar.py)."""

from __future__ import annotations

import json
import math
import time

import pytest
from conftest import S2_TEST_KEY, mount, run_statsbot, write_config
from fake_semanticscholar import FakeSemanticScholar, paper_id
from fakes import json_response
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.wrappers import Response

from statsbot.config import parse_config
from statsbot.deadline import Deadline
from statsbot.errors import ConfigError
from statsbot.runner import run
from statsbot.settings import show
from statsbot.sources.semanticscholar import SemanticScholarConfig, fetch_semanticscholar, parse_author_id

NG = "1741101"
LOGO = "semanticscholar"


def toml(fake, authors, extra=""):
    listed = ", ".join(json.dumps(a) for a in authors)
    return (
        f'[semanticscholar]\nauthors = [{listed}]\nendpoint = "{fake.url}"\ntimeout_seconds = 5\n{extra}\n'
        '[output]\ndir = "output"\n'
    )


def config(fake, out, authors, *, charts=False, **settings):
    section = {"authors": authors, "endpoint": fake.url, "timeout_seconds": 5.0, **settings}
    return parse_config(
        {"semanticscholar": section, "output": {"dir": str(out)}, "charts": {"enabled": charts}}, path=None, env={}
    )


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def badge(label, count):
    return {
        "schemaVersion": 1, "label": label, "message": str(count), "color": "blue",
        "namedLogo": LOGO, "cacheSeconds": 3600,
    }


def entries(out):
    return read(out / "stats.json")["sources"]["semanticscholar"]


def mine(report):
    """This source's results (the run may add derived ones, such as the page's citation count)."""
    return [r for r in report.results if r.source == "semanticscholar"]


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------- a whole run


def test_a_run_through_the_cli_writes_badges_and_stats(s2_api, tmp_path):
    papers = s2_api.add_author(NG, "Andrew Y. Ng", citations=123_456, h_index=112, papers=1200)
    s2_api.add_author("2", "Zoë Ñúñez", citations=7, h_index=1, papers=0)
    write_config(tmp_path, toml(s2_api, [f"https://www.semanticscholar.org/author/Andrew-Y.-Ng/{NG}", "2"]))

    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    out = tmp_path / "output"
    stats = entries(out)
    assert stats[NG]["status"] == "ok" and stats[NG]["error"] is None
    assert stats[NG]["metrics"] == {"citations": 123_456, "h_index": 112, "papers": 1200}
    assert stats["2"]["metrics"] == {"citations": 7, "h_index": 1, "papers": 0}
    folder = out / "badges" / "semanticscholar" / NG
    assert read(folder / "citations.json") == badge("citations (Semantic Scholar)", 123456)
    assert read(folder / "h-index.json") == badge("h-index (Semantic Scholar)", 112)
    paper_badges = sorted(p.name for p in (folder / "papers").iterdir())
    assert paper_badges == sorted(f"{p['paperId']}.json" for p in papers) and len(paper_badges) == 1200
    assert read(folder / "papers" / f"{papers[5]['paperId']}.json") == badge("citations (Semantic Scholar)", 15)
    assert not (out / "badges" / "semanticscholar" / "2" / "papers").exists()
    assert (out / "charts" / "semanticscholar" / NG / "citations.svg").is_file()
    assert (out / "charts" / "semanticscholar" / NG / "h-index.svg").is_file()
    history = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "history").glob("*.csv")))
    assert f"semanticscholar,{NG},citations,123456" in history
    assert "Andrew Y. Ng" in result.stdout


def test_three_authors_cost_one_batch_and_ceil_p_over_1000_pages_each(s2_api, tmp_path):
    counts = {"11": 0, "22": 1000, "33": 2001}
    for author_id, count in counts.items():
        s2_api.add_author(author_id, f"Author {author_id}", citations=count * 2, h_index=3, papers=count)
    report = run(config(s2_api, tmp_path, list(counts)), env={})

    assert [r.status for r in mine(report)] == ["ok", "ok", "ok"]
    assert s2_api.batch_requests() == 1 and s2_api.batches == [list(counts)]
    for author_id, count in counts.items():
        assert s2_api.paper_requests(author_id) == math.ceil(count / 1000)
        assert len(list((tmp_path / "badges" / "semanticscholar" / author_id).glob("papers/*.json"))) == count
    assert len(s2_api.requests) == 1 + 0 + 1 + 3
    pages = sorted(r["query"] for r in s2_api.requests if r["path"] == "/graph/v1/author/33/papers")
    assert pages == [f"fields=title%2Cyear%2CcitationCount&limit=1000&offset={n}" for n in (0, 1000, 2000)]


def test_papers_false_is_the_batch_request_only(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2, papers=40)
    report = run(config(s2_api, tmp_path, [NG], papers=False), env={})
    assert mine(report)[0].metrics == {"citations": 10, "h_index": 2, "papers": 40}
    assert len(s2_api.requests) == 1
    assert not (tmp_path / "badges" / "semanticscholar" / NG / "papers").exists()


def test_more_than_1000_authors_go_in_batches_of_1000(s2_api):
    ids = [str(100 + n) for n in range(1001)]
    for author_id in ids:
        s2_api.add_author(author_id, "A", 1, 1)
    settings_ = SemanticScholarConfig(authors=ids, endpoint=s2_api.url, papers=False)
    results, _ = fetch_semanticscholar(settings_, None, Deadline(60))
    assert all(r.status == "ok" for r in results) and len(results) == 1001
    assert [len(batch) for batch in s2_api.batches] == [1000, 1] and len(s2_api.requests) == 2


def test_ids_in_every_url_form_name_the_same_item(s2_api, tmp_path):
    for author_id in ("1", "22", "333", "4444", "55555"):
        s2_api.add_author(author_id, "A", 5, 1, papers=1)
    pasted = [
        "1",
        "https://www.semanticscholar.org/author/Andrew-Y.-Ng/22",
        "https://www.semanticscholar.org/author/333",
        "https://api.semanticscholar.org/graph/v1/author/4444",
        "semanticscholar.org/author/J%C3%BCrgen-Schmidhuber/55555/?sort=influence",
    ]
    report = run(config(s2_api, tmp_path, pasted), env={})
    assert [r.item for r in mine(report)] == ["1", "22", "333", "4444", "55555"]
    assert all(r.status == "ok" for r in mine(report))
    assert s2_api.batches == [["1", "22", "333", "4444", "55555"]]
    assert sorted(entries(tmp_path)) == ["1", "22", "333", "4444", "55555"]


def test_a_toml_integer_is_taken_as_the_id(tmp_path):
    loaded = parse_config({"semanticscholar": {"authors": [1741101]}}, path=None, env={})
    assert loaded.config.semanticscholar.authors == [NG]


# -------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    "value",
    ["Andrew Ng", "https://www.semanticscholar.org/paper/649def34f8be52c8b66281af98ae884c09aef38b",
     "https://scholar.google.com/citations?user=DhtAFkwAAAAJ", "0123", "-5", "", "12 34"],
)
def test_anything_else_is_a_one_line_config_error(value, tmp_path):
    with pytest.raises(ConfigError) as caught:
        parse_config({"semanticscholar": {"authors": ["1741101", value]}}, path=tmp_path / "statsbot.toml", env={})
    message = str(caught.value)
    assert "\n" not in message
    assert "semanticscholar.authors.1: must be a Semantic Scholar author id such as 1741101" in message
    assert "https://www.semanticscholar.org/author/Name/1741101" in message
    assert "https://api.semanticscholar.org/graph/v1/author/1741101" in message
    assert f"got {show(value)}" in message


def test_the_same_author_twice_is_a_config_error():
    with pytest.raises(ConfigError, match=r"semanticscholar.authors: lists the author '1741101' twice"):
        parse_config(
            {"semanticscholar": {"authors": ["1741101", "https://www.semanticscholar.org/author/Andrew-Y.-Ng/1741101"]}},
            path=None, env={},
        )


def test_a_bad_endpoint_is_a_config_error():
    with pytest.raises(ConfigError, match=r"semanticscholar.endpoint: must be an http\(s\) URL"):
        parse_config({"semanticscholar": {"authors": [NG], "endpoint": "api.semanticscholar.org"}}, path=None, env={})


def test_a_key_in_the_file_is_a_one_line_config_error(s2_api, tmp_path):
    write_config(tmp_path, toml(s2_api, [NG], extra=f'api_key = "{S2_TEST_KEY}"'))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "semanticscholar.api_key: secrets are never read from the config file" in lines[0]
    assert "set $S2_API_KEY instead" in lines[0]
    assert S2_TEST_KEY not in result.stderr + result.stdout
    assert s2_api.requests == []


def test_check_describes_the_source_without_the_key(s2_api, tmp_path):
    write_config(tmp_path, toml(s2_api, [NG, "2"]))
    keyless = run_statsbot("check", cwd=tmp_path)
    assert keyless.returncode == 0, keyless.stderr
    assert f"semanticscholar: 2 authors with their papers from {s2_api.url} (no $S2_API_KEY: the shared pool" in keyless.stdout
    keyed = run_statsbot("check", cwd=tmp_path, env={"S2_API_KEY": S2_TEST_KEY})
    assert "(with $S2_API_KEY;" in keyed.stdout and S2_TEST_KEY not in keyed.stdout + keyed.stderr
    assert s2_api.requests == []


# ---------------------------------------------------------------- id parsing: properties

_SLUG = st.text(
    alphabet=st.characters(blacklist_categories=("Z", "C"), blacklist_characters="/?#"), min_size=1, max_size=40
)
_FORMS = (
    "{id}",
    "https://www.semanticscholar.org/author/{slug}/{id}",
    "https://www.semanticscholar.org/author/{id}",
    "https://api.semanticscholar.org/graph/v1/author/{id}",
    "http://semanticscholar.org/author/{slug}/{id}/",
    "https://www.semanticscholar.org/author/{slug}/{id}?sort=pub-date",
)


@given(number=st.integers(min_value=1, max_value=10**18), slug=_SLUG, form=st.sampled_from(_FORMS))
@settings(max_examples=300, deadline=None)
def test_every_url_form_with_any_slug_names_the_same_author(number, slug, form):
    assert parse_author_id(form.format(id=number, slug=slug)) == str(number)


@given(st.one_of(st.text(), st.text(alphabet="0123456789/:.?#-abhtpsuwr ", max_size=60)))
@settings(max_examples=500, deadline=None)
def test_any_text_is_an_id_of_digits_or_a_value_error(text):
    try:
        author_id = parse_author_id(text)
    except ValueError as exc:
        assert "must be a Semantic Scholar author id" in str(exc)
    else:
        assert author_id.isdigit() and author_id[0] != "0" and author_id in text


# ----------------------------------------------------------------------- failures


def test_an_unknown_id_fails_alone(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2, papers=3)
    report = run(config(s2_api, tmp_path, [NG, "424242"]), env={})
    by_item = {r.item: r for r in mine(report)}
    assert by_item[NG].status == "ok" and by_item[NG].metrics["citations"] == 10
    assert by_item["424242"].status == "error"
    assert by_item["424242"].error == "Semantic Scholar author 424242: not found"
    error_badge = read(tmp_path / "badges" / "semanticscholar" / "424242" / "citations.json")
    assert error_badge["isError"] is True and error_badge["label"] == "citations (Semantic Scholar)"
    assert s2_api.paper_requests("424242") == 0


def test_a_merged_author_is_followed_and_reported(s2_api, tmp_path):
    s2_api.add_author("777", "Merged Person", 50, 4, papers=2)
    s2_api.merge("666", "777")
    write_config(tmp_path, toml(s2_api, ["666"], extra="[charts]\nenabled = false"))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entry = entries(tmp_path / "output")["666"]
    assert entry["moved_to"] == "777" and entry["metrics"] == {"citations": 50, "h_index": 4, "papers": 2}
    assert "Semantic Scholar author 666 is now 777 (merged or changed): update [semanticscholar] authors" in result.stderr
    assert s2_api.paper_requests("777") == 1 and s2_api.paper_requests("666") == 0
    assert len(list((tmp_path / "output" / "badges" / "semanticscholar" / "666" / "papers").iterdir())) == 2


@pytest.mark.parametrize("retry_after", ["1", None])
def test_429_twice_then_success_succeeds_within_the_deadline(s2_api, tmp_path, retry_after):
    s2_api.add_author(NG, "Ng", 10, 2, papers=3)
    s2_api.throttle(2, retry_after)
    started = time.monotonic()
    report = run(config(s2_api, tmp_path, [NG], deadline_seconds=20.0), env={})
    assert mine(report)[0].status == "ok" and mine(report)[0].metrics["citations"] == 10
    assert time.monotonic() - started < 20
    assert s2_api.batch_requests() == 3 and s2_api.paper_requests() == 1  # two 429s, then the answers


def test_429_forever_ends_within_the_deadline_and_keeps_the_published_values(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2, papers=3)
    write_config(tmp_path, toml(s2_api, [NG], extra="deadline_seconds = 4\nretries = 10\n[charts]\nenabled = false"))
    first = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "output"
    published = snapshot(out / "badges" / "semanticscholar")
    before = entries(out)[NG]

    s2_api.add_author(NG, "Ng", 99, 9, papers=3)  # new numbers that never get through
    s2_api.requests.clear()
    s2_api.throttle(None, "1")
    started = time.monotonic()
    second = run_statsbot("run", "--no-publish", cwd=tmp_path)
    elapsed = time.monotonic() - started

    assert second.returncode == 3
    assert elapsed < 4 + 5  # the source's deadline, plus starting Python twice over
    assert 1 < len(s2_api.requests) <= 5  # the batch, retried each second until the deadline; no paper request
    after = entries(out)[NG]
    assert after["status"] == "stale" and after["metrics"] == before["metrics"] == {"citations": 10, "h_index": 2, "papers": 3}
    assert "HTTP 429" in after["error"] and "without $S2_API_KEY" in after["error"]
    assert snapshot(out / "badges" / "semanticscholar") == published


def test_a_persisting_429_on_papers_stops_every_further_request(s2_api, tmp_path):
    s2_api.add_author("1", "One", 1, 1, papers=5)
    s2_api.add_author("2", "Two", 2, 1, papers=5)
    s2_api.fail(lambda r: r.method == "GET", *[lambda r: json_response({"message": "Too Many Requests"}, 429)] * 5)
    report = run(config(s2_api, tmp_path, ["1", "2"], retries=0, max_workers=1), env={})
    assert all(r.status == "error" and "Semantic Scholar rate limit: HTTP 429" in r.error for r in mine(report))
    assert s2_api.paper_requests() == 1


def _500(r):
    return json_response({"message": "Internal Server Error"}, 500)


def _html(r):
    return Response("<html><body>502 Bad Gateway</body></html>", content_type="text/html")


def _page_2(r):
    return r.method == "GET" and r.args.get("offset") == "1000"


FAULTS = {
    "batch 500 after retries": (lambda r: r.method == "POST", [_500] * 5, "Semantic Scholar author batch: HTTP 500 after up to 1 retries"),
    "batch not a list": (lambda r: r.method == "POST", [lambda r: json_response({"data": []})], "unexpected answer (body"),
    "batch of the wrong length": (lambda r: r.method == "POST", [lambda r: json_response([])], "(0 records for 1 ids)"),
    "batch missing a field": (
        lambda r: r.method == "POST", [lambda r: json_response([{"authorId": NG, "name": "Ng", "hIndex": 3, "paperCount": 1500}])],
        "unexpected answer (0.citationCount: Field required)",
    ),
    "html instead of json": (
        lambda r: r.method == "POST",
        [_html],
        "answer is not valid JSON (text/html",
    ),
    "page 2 500 after retries": (_page_2, [_500] * 5, "(page 2, offset 1000): HTTP 500 after up to 1 retries"),
    "page 2 with a paperId that is no sha1": (
        _page_2,
        [lambda r: json_response({"offset": 1000, "data": [{"paperId": "../../../etc/passwd", "citationCount": 3}]})],
        "unexpected answer (data.0.paperId",
    ),
    "the listing ends early": (
        _page_2, [lambda r: json_response({"offset": 1000, "data": []})],
        "the listing ended after 1000 of the 1500 papers the author record counts",
    ),
    "next does not advance": (
        lambda r: r.method == "GET",
        [lambda r: json_response({"offset": 0, "next": 0, "data": [{"paperId": paper_id(NG, 0), "citationCount": 1}]})],
        "broken paging (next 0 after 1 papers)",
    ),
    "a page for another offset": (
        _page_2, [lambda r: json_response({"offset": 0, "data": []})], "(page 2, offset 1000): the answer is for offset 0",
    ),
    "a paper listed twice": (
        _page_2,
        [lambda r: json_response({"offset": 1000, "data": [{"paperId": paper_id(NG, 3), "citationCount": 1}]})],
        f"paper {paper_id(NG, 3)} listed twice",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failure_keeps_the_published_values_and_badges(s2_api, tmp_path, fault):
    when, answers, message = FAULTS[fault]
    s2_api.add_author(NG, "Ng", 1000, 20, papers=1500)
    assert mine(run(config(s2_api, tmp_path, [NG], retries=1), env={}))[0].status == "ok"
    published = snapshot(tmp_path / "badges" / "semanticscholar")
    assert len(published) == 2 + 1500

    s2_api.add_author(NG, "Ng", 1100, 21, papers=1500)  # new numbers that must not get through
    s2_api.fail(when, *answers)
    result = mine(run(config(s2_api, tmp_path, [NG], retries=1), env={}))[0]

    assert result.status == "stale" and message in result.error and "\n" not in result.error
    entry = entries(tmp_path)[NG]
    assert entry["status"] == "stale" and entry["metrics"] == {"citations": 1000, "h_index": 20, "papers": 1500}
    assert snapshot(tmp_path / "badges" / "semanticscholar") == published


# ------------------------------------------------------------------------ the key


def test_the_key_reaches_the_api_only_in_its_header(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2, papers=1001)
    write_config(tmp_path, toml(s2_api, [NG]))
    result = run_statsbot("run", "--no-publish", "-v", cwd=tmp_path, env={"S2_API_KEY": S2_TEST_KEY})
    assert result.returncode == 0, result.stderr
    assert len(s2_api.requests) == 3
    assert s2_api.keys_sent == [S2_TEST_KEY] * 3
    assert all(S2_TEST_KEY not in r["path"] + r["query"] for r in s2_api.requests)
    assert S2_TEST_KEY not in result.stdout + result.stderr
    assert "shared pool" not in result.stderr
    for path in (tmp_path / "output").rglob("*"):
        if path.is_file():
            assert S2_TEST_KEY.encode() not in path.read_bytes(), path


def test_without_a_key_the_shared_pool_is_noted_once(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2, papers=1)
    write_config(tmp_path, toml(s2_api, [NG], extra="[charts]\nenabled = false"))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("no $S2_API_KEY, so the requests go to the pool all keyless callers share") == 1
    assert s2_api.keys_sent == [None, None]


def test_a_refused_key_is_an_error_that_names_the_variable(s2_api, tmp_path):
    s2_api.add_author(NG, "Ng", 10, 2)
    s2_api.key = "another-key-entirely"
    report = run(config(s2_api, tmp_path, [NG]), env={"S2_API_KEY": S2_TEST_KEY})
    assert mine(report)[0].status == "error"
    assert mine(report)[0].error == "Semantic Scholar author batch: HTTP 403: the key in $S2_API_KEY was refused"


def test_the_key_never_follows_a_redirect(s2_api, make_server, tmp_path):
    elsewhere_server = make_server()
    elsewhere = FakeSemanticScholar()
    mount(elsewhere_server, elsewhere)
    elsewhere.add_author(NG, "Ng", 10, 2)
    target = elsewhere_server.url_for("/graph/v1/author/batch")
    s2_api.fail(lambda r: True, lambda r: json_response({}, 307, {"Location": f"{target}?{r.query_string.decode()}"}))
    report = run(config(s2_api, tmp_path, [NG]), env={"S2_API_KEY": S2_TEST_KEY})
    assert mine(report)[0].status == "error"
    assert f"HTTP 307 redirect to '{target}?fields=" in mine(report)[0].error and "not followed" in mine(report)[0].error
    assert s2_api.keys_sent == [S2_TEST_KEY]
    assert elsewhere.requests == []
