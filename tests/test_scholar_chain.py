"""The Scholar fetcher chain (issue 10): order, skipping, the paid-fetcher guard, the explicit proxy.

Every fetcher runs for real against servers on 127.0.0.1: the Scholar page fake, a
recording forward proxy, and the provider fakes in tests/fakes.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import html_response, mount, run_statsbot, write_config
from fakes import json_response
from proxyutil import RecordingProxy
from scholar_fixtures import make_profile
from statsbot.demo import pages
from statsbot.redact import PROXY_VARIABLES

UID = "ChainUser01A"
KEY = "serp_" + "K3yNeverRealAbcdefghij0123456789"


@pytest.fixture
def proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    server = RecordingProxy()
    yield server
    server.close()


def scholar_toml(site_url: str, **keys: str) -> str:
    extra = "".join(f"{key} = {value}\n" for key, value in keys.items())
    return f'[scholar]\nid = "{UID}"\nbase_url = "{site_url}"\npage_delay_seconds = 0\nretries = 0\n{extra}'


def stats(directory: Path) -> dict:
    return json.loads((directory / "output" / "stats.json").read_text(encoding="utf-8"))


def everything(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (directory / "output").rglob("*") if p.is_file())


def test_an_explicit_proxy_in_the_config_carries_the_scholar_requests(tmp_path, scholar_site, proxy):
    scholar_site.add(make_profile(150, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, proxy=f'"http://{proxy.address}"'))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split("?")[0] for line in proxy.requests] == [f"GET {scholar_site.url}/citations"] * 2
    assert len(scholar_site.requests()) == 2  # both came through the proxy
    assert stats(tmp_path)["sources"]["scholar"][UID]["via"] == "direct"


def test_a_proxy_with_credentials_comes_from_the_environment_and_is_never_shown(tmp_path, scholar_site, proxy):
    scholar_site.add(make_profile(20, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    password = "pr0xyPassw0rdNeverShown"
    env = {"STATSBOT_SCHOLAR_PROXY": f"http://statsbot-user:{password}@{proxy.address}"}
    result = run_statsbot("run", "-vv", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert len(proxy.requests) == 1 and proxy.proxy_authorization[0].startswith("Basic ")
    assert password not in result.stdout + result.stderr + everything(tmp_path)


def test_credentials_in_the_configs_proxy_are_refused_before_any_request(tmp_path, scholar_site):
    scholar_site.add(make_profile(20, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, proxy='"http://me:secret@127.0.0.1:3128"'))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "statsbot: statsbot.toml: scholar.proxy: must not hold credentials (this file gets committed): "
        "put the whole URL in $STATSBOT_SCHOLAR_PROXY instead"
    ]
    assert "secret" not in result.stderr
    assert scholar_site.requests() == []


def test_a_fetcher_without_its_key_is_skipped_with_one_line(tmp_path, scholar_site):
    scholar_site.add(make_profile(20, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, fetchers='["serpapi", "direct"]'))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    mentions = [line for line in result.stderr.splitlines() if "serpapi" in line.lower()]
    assert mentions == [f"WARNING: scholar {UID}: skipping the serpapi fetcher: $SERPAPI_API_KEY is not set"]
    assert stats(tmp_path)["sources"]["scholar"][UID]["via"] == "direct"
    assert f"scholar {UID} (" in result.stdout and "): ok (via direct)" in result.stdout


def test_only_unconfigured_fetchers_leave_the_profile_failed_with_the_reason(tmp_path, scholar_site):
    scholar_site.add(make_profile(20, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, fetchers='["serpapi"]'))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 3
    assert f"scholar {UID}: ERROR: serpapi: skipped ($SERPAPI_API_KEY is not set)" in result.stdout
    assert scholar_site.requests() == []


def age_published_profile(directory: Path, hours: float) -> None:
    path = directory / "output" / "stats.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    then = (datetime.now(timezone.utc) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = document["sources"]["scholar"][UID]
    entry["fetched_at"] = entry["last_success_at"] = then
    path.write_text(json.dumps(document), encoding="utf-8")


def test_paid_fetchers_are_not_called_while_the_published_profile_is_young(tmp_path, scholar_site, make_server):
    scholar_site.add(make_profile(20, UID))
    serp = make_server()
    calls = []

    def serp_answer(request):
        calls.append(request.path)
        return json_response({"error": "Internal error."}, 500)

    mount(serp, serp_answer)
    write_config(
        tmp_path,
        scholar_toml(scholar_site.url, fetchers='["direct", "serpapi"]', serpapi_url=f'"{serp.url_for("").rstrip("/")}"'),
    )
    env = {"SERPAPI_API_KEY": KEY}
    assert run_statsbot("run", cwd=tmp_path, env=env).returncode == 0
    assert calls == []  # direct worked: the paid one is never asked

    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    age_published_profile(tmp_path, 3)
    result = run_statsbot("run", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert calls == []  # published 3 h ago, under min_interval_hours = 20: no paid request
    assert "not calling serpapi (paid): the published profile is 3.0 h old, under min_interval_hours 20" in result.stderr
    assert stats(tmp_path)["sources"]["scholar"][UID]["status"] == "stale"

    age_published_profile(tmp_path, 21)
    result = run_statsbot("run", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert calls  # 21 h: now it is asked (and fails here), after direct was blocked
    line = next(line for line in result.stdout.splitlines() if ": STALE: " in line)
    assert "every fetcher failed: direct: Google Scholar served a captcha page" in line and "; serpapi: " in line
    assert KEY not in result.stdout + result.stderr + everything(tmp_path)


def test_a_stale_profile_keeps_the_via_of_its_values(tmp_path, scholar_site):
    scholar_site.add(make_profile(20, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    assert run_statsbot("run", cwd=tmp_path).returncode == 0
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    assert run_statsbot("run", cwd=tmp_path).returncode == 3
    entry = stats(tmp_path)["sources"]["scholar"][UID]
    assert entry["status"] == "stale" and entry["via"] == "direct"


def files_under(directory: Path, *prefixes: str) -> dict[str, bytes]:
    root = directory / "output"
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and str(p.relative_to(root)).startswith(prefixes)
    }


def test_direct_blocked_scraperapi_failing_serpapi_gets_it_and_nothing_else_changes(
    tmp_path, scholar_site, scraperapi_api, serpapi_api, hub_api
):
    from conftest import SCRAPERAPI_TEST_KEY, SERPAPI_TEST_KEY
    from fakes import FakeScraperApi

    profile = make_profile(137, UID)
    scholar_site.add(profile)
    serpapi_api.add(profile)
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    chain = '["direct", "scraperapi", "serpapi"]'
    sections = (
        scholar_toml(
            scholar_site.url, fetchers=chain, scraperapi_url=f'"{scraperapi_api.url}"', serpapi_url=f'"{serpapi_api.url}"'
        )
        + f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n'
    )
    keys = {"SCRAPER_API_KEY": SCRAPERAPI_TEST_KEY, "SERPAPI_API_KEY": SERPAPI_TEST_KEY}

    # The same profile fetched directly, as the reference.
    reference = tmp_path / "reference"
    reference.mkdir()
    write_config(reference, sections.replace(f"fetchers = {chain}", 'fetchers = ["direct"]'))
    assert run_statsbot("run", cwd=reference, env=keys).returncode == 0
    direct_requests = len(scholar_site.requests())

    # Now Scholar blocks this machine, ScraperAPI cannot get the page, SerpApi answers.
    chained = tmp_path / "chained"
    chained.mkdir()
    write_config(chained, sections)
    scholar_site.override(lambda r: html_response(pages.captcha_page()))
    scraperapi_api.fail(lambda r: True, FakeScraperApi.failed)
    result = run_statsbot("run", cwd=chained, env=keys)
    assert result.returncode == 0, result.stdout + result.stderr

    entry = stats(chained)["sources"]["scholar"][UID]
    assert entry["status"] == "ok" and entry["via"] == "serpapi"
    assert entry["metrics"] == stats(reference)["sources"]["scholar"][UID]["metrics"]
    assert entry["metrics"]["citations"] == profile["stats"]["citations"]
    assert f"scholar {UID} (" in result.stdout and "): ok (via serpapi)" in result.stdout
    # Each fetcher was tried once, in order: direct's captcha, ScraperAPI's 500, two SerpApi searches.
    assert len(scholar_site.requests()) == direct_requests + 1
    assert len(scraperapi_api.requests) == 1  # retries = 0 in this config
    assert len(serpapi_api.requests) == 2
    warnings = [line for line in result.stderr.splitlines() if "fetcher failed" in line]
    assert len(warnings) == 2 and "the direct fetcher failed (Google Scholar served a captcha page" in warnings[0]
    assert "the scraperapi fetcher failed (ScraperAPI: could not fetch the page (HTTP 500" in warnings[1]

    # Nothing else changes: the same badges, the same gs_data publications, the same Hugging Face files.
    assert files_under(chained, "badges/", "gs_data_shieldsio.json") == files_under(reference, "badges/", "gs_data_shieldsio.json")
    publications = [json.loads((d / "output" / "gs_data.json").read_text(encoding="utf-8"))["publications"] for d in (chained, reference)]
    assert publications[0] == publications[1]
    both = stats(chained)["sources"], stats(reference)["sources"]
    assert {k: v for k, v in both[0]["huggingface"]["lab/m"].items() if "_at" not in k} == {
        k: v for k, v in both[1]["huggingface"]["lab/m"].items() if "_at" not in k
    }
    assert SCRAPERAPI_TEST_KEY not in result.stdout + result.stderr + everything(chained)
    assert SERPAPI_TEST_KEY not in result.stdout + result.stderr + everything(chained)
