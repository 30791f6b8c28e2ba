"""The Hugging Face source against a fake Hub API on 127.0.0.1."""

from __future__ import annotations

import json

from conftest import HF_TEST_TOKEN, html_response
from fakes import json_response
from statsbot.config import parse_config
from statsbot.runner import run


def config(hub, out, env=None, **settings):
    section = {"endpoint": hub.url, "timeout_seconds": 5.0, **settings}
    return parse_config({"huggingface": section, "output": {"dir": str(out)}}, path=None, env=env or {})


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_models_and_datasets(hub_api, tmp_path):
    hub_api.add("models", "lab/tiny-bert", downloads=1234, likes=56, all_time=987_654)
    hub_api.add("datasets", "lab/corpus", downloads=12, likes=3, all_time=4000)
    report = run(config(hub_api, tmp_path, models=["lab/tiny-bert"], datasets=["lab/corpus"]), env={})
    assert [r.status for r in report.results] == ["ok", "ok"]

    entries = read(tmp_path / "stats.json")["sources"]["huggingface"]
    assert entries["lab/tiny-bert"]["metrics"] == {"downloads": 1234, "likes": 56, "downloads_all_time": 987_654}
    assert entries["datasets/lab/corpus"]["metrics"] == {"downloads": 12, "likes": 3, "downloads_all_time": 4000}

    model = tmp_path / "badges" / "huggingface" / "lab" / "tiny-bert"
    assert read(model / "downloads.json") == {
        "schemaVersion": 1, "label": "downloads/month", "message": "1.2k", "color": "blue",
        "namedLogo": "huggingface", "cacheSeconds": 3600,
    }
    assert read(model / "downloads-all-time.json")["message"] == "988k"
    assert read(model / "likes.json")["message"] == "56"
    dataset = tmp_path / "badges" / "huggingface" / "datasets" / "lab" / "corpus"
    assert read(dataset / "downloads-all-time.json")["message"] == "4k"

    expand = "expand%5B%5D=downloads&expand%5B%5D=likes&expand%5B%5D=downloadsAllTime"
    assert sorted((r["path"], r["query"]) for r in hub_api.requests) == [
        ("/api/datasets/lab/corpus", expand),
        ("/api/models/lab/tiny-bert", expand),
    ]
    assert all("Authorization" not in r["headers"] for r in hub_api.requests)


def test_token_is_sent_to_the_hub(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 1, 1, 1)
    run(config(hub_api, tmp_path, models=["lab/m"]), env={"HF_TOKEN": HF_TEST_TOKEN})
    assert hub_api.requests[0]["headers"]["Authorization"] == f"Bearer {HF_TEST_TOKEN}"


def test_the_token_does_not_follow_a_redirect_to_another_origin(hub_api, make_server, tmp_path):
    from conftest import mount
    from fakes import FakeHub

    other_server = make_server()
    elsewhere = FakeHub()
    mount(other_server, elsewhere)
    elsewhere.add("models", "lab/m", 7, 2, 70)
    target = other_server.url_for("/api/models/lab/m")
    hub_api.fail(
        lambda r: True,
        lambda r: json_response({"error": "moved"}, 307, {"Location": f"{target}?{r.query_string.decode()}"}),  # the Hub keeps the query
    )
    report = run(config(hub_api, tmp_path, models=["lab/m"]), env={"HF_TOKEN": HF_TEST_TOKEN})
    assert report.results[0].status == "ok" and report.results[0].metrics["downloads"] == 7
    assert hub_api.requests[0]["headers"]["Authorization"] == f"Bearer {HF_TEST_TOKEN}"
    assert elsewhere.requests and all("Authorization" not in r["headers"] for r in elsewhere.requests)


def test_endpoint_comes_from_hf_endpoint(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 5, 1, 9)
    loaded = parse_config({"huggingface": {"models": ["lab/m"]}, "output": {"dir": str(tmp_path)}}, path=None,
                          env={"HF_ENDPOINT": hub_api.url})
    assert loaded.config.huggingface.endpoint == hub_api.url
    assert run(loaded, env={}).results[0].status == "ok"


def test_a_missing_model_fails_alone(hub_api, tmp_path):
    hub_api.add("models", "lab/there", 5, 1, 9)
    report = run(config(hub_api, tmp_path, models=["lab/there", "lab/gone"]), env={})
    by_item = {r.item: r for r in report.results}
    assert by_item["lab/there"].status == "ok"
    assert "not found (HTTP 404)" in by_item["lab/gone"].error
    assert by_item["lab/gone"].status == "error"
    assert read(tmp_path / "badges" / "huggingface" / "lab" / "gone" / "downloads.json")["isError"] is True


def test_html_instead_of_json_is_an_error_with_the_cause(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 5, 1, 9)
    hub_api.fail(lambda r: True, lambda r: html_response("<html><body>Bad gateway page</body></html>"))
    report = run(config(hub_api, tmp_path, models=["lab/m"]), env={})
    assert "answer is not valid JSON (text/html" in report.results[0].error


def test_unexpected_shape_is_an_error(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 5, 1, 9)
    hub_api.fail(lambda r: True, lambda r: json_response({"id": "lab/m", "downloads": "many"}))
    report = run(config(hub_api, tmp_path, models=["lab/m"]), env={})
    assert "unexpected answer (downloads" in report.results[0].error


def test_429_stops_further_requests(hub_api, tmp_path):
    for i in range(5):
        hub_api.add("models", f"lab/m{i}", i, i, i)
    hub_api.fail(lambda r: True, lambda r: json_response({"error": "Too many requests"}, 429))
    report = run(config(hub_api, tmp_path, models=[f"lab/m{i}" for i in range(5)], max_workers=1), env={})
    assert all(r.status == "error" and "rate limit reached (HTTP 429" in r.error for r in report.results)
    assert len(hub_api.requests) == 1
