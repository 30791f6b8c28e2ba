"""The fault-injection suite: one fault per row, against local servers and a real data branch.

Every row starts from a published data branch (Scholar profile, GitHub repository
and a GitHub user's listing, Hugging Face model, OpenAlex author, Semantic Scholar
author), changes the true values of all five, injects one fault into one source, and
runs `statsbot run`. Then: the run ends within its deadline; the failed item's files on
the data branch are byte-identical to before; the other items are updated; the exit
code is 3 and the one-line error is the documented one. The GitHub totals (the user's
and the overall one) obey the same rule: a GitHub fault leaves them, their badges and
their numbers exactly as published. The page's citation count (badges/citations.json)
comes from Scholar, or from OpenAlex when Scholar is the source that fails.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

import pytest
from werkzeug.wrappers import Response

from conftest import OPENALEX_TEST_KEY, S2_TEST_KEY, cstart_of, html_response, run_statsbot, write_config
from fakes import json_response
from gitutil import isolated_git_env, make_homepage, tree_files
from scholar_fixtures import make_profile
from statsbot.config import load_config
from statsbot.demo import pages
from statsbot.publish import Publisher
from statsbot.runner import run

UID = "TestUser01AJ"
PROFILE = make_profile(130, UID)
PAGE = pages.render_profile(PROFILE)
BRANCH = "google-scholar-stats"
OA = "A5023888391"
S2 = "1741101"
FIELDS = {
    "scholar": f"badges/scholar/{UID}/", "github": "badges/github/", "huggingface": "badges/huggingface/lab/m/",
    "openalex": f"badges/openalex/{OA}/", "semanticscholar": f"badges/semanticscholar/{S2}/",
}
AGGREGATES = ("github_users ", "github_total ")
# The items a fault in a source may leave stale: a GitHub fault also hits the user's listing.
FAILED_ITEMS = {"scholar": [UID], "github": ["alice/tool", "alice-lab/kit"], "huggingface": ["lab/m"], "openalex": [OA], "semanticscholar": [S2]}


def without_stats(page: str) -> str:
    return page.replace('class="gsc_rsb_std"', 'class="gsc_rsb_gone"')


@dataclass
class Fault:
    name: str
    source: str  # "scholar", "github", "huggingface", "openalex" or "semanticscholar": the one that fails
    error: str  # a part of the documented one-line error
    inject: Callable | None = None  # (fakes: a Fakes) -> None
    base: str | None = None  # "silent", "reset", "trickle" or "slow": the source's URL points at that raw server instead
    max_seconds: float = 15.0  # deadlines are 4 s per source; plus interpreter start, imports and git
    long_lists: bool = False  # the OpenAlex author has two pages of works, the Semantic Scholar one two of papers


@dataclass
class Fakes:
    site: object  # conftest.ScholarSite
    github: object  # fakes.FakeGitHub
    hub: object  # fakes.FakeHub
    openalex: object  # fake_openalex.FakeOpenAlex
    s2: object  # fake_semanticscholar.FakeSemanticScholar


def scholar(respond, when=lambda r: True):
    return lambda fakes: fakes.site.override(respond, when)


def github(*responses):
    return lambda fakes: fakes.github.fail(lambda r: True, *responses)


def hub(*responses):
    return lambda fakes: fakes.hub.fail(lambda r: True, *responses)


def openalex(*responses, when=lambda r: True):
    return lambda fakes: fakes.openalex.fail(when, *responses)


def s2(*responses, when=lambda r: True):
    return lambda fakes: fakes.s2.fail(when, *responses)


def always(response, times=10):
    return [response] * times


def rate_limit_spent(fakes):
    fakes.github.rate_limit = 0


def delete_repository(fakes):
    del fakes.github.repos["alice/tool"]


def delete_openalex_author(fakes):
    del fakes.openalex.authors[OA]


def s2_throttled_forever(fakes):
    fakes.s2.throttle(None)


def works_page_two(request):
    return request.path == "/works" and request.args.get("cursor", "*") != "*"


def papers_page_two(request):
    return request.path.endswith("/papers") and request.args.get("offset", "0") != "0"


FAULTS = [
    Fault("Scholar: captcha page", "scholar", "Google Scholar served a captcha page",
          scholar(lambda r: html_response(pages.captcha_page()))),
    Fault("Scholar: DOS page", "scholar", "Google Scholar served its DOS page",
          scholar(lambda r: html_response(pages.dos_page()))),
    Fault("Scholar: Google's sorry page", "scholar", "Google's 'unusual traffic' page",
          scholar(lambda r: html_response(pages.sorry_page(), 429))),
    Fault("Scholar: consent page", "scholar", "Google's cookie-consent page came instead of the profile",
          scholar(lambda r: html_response(pages.consent_page()))),
    Fault("Scholar: truncated HTML", "scholar", "has no publication list",
          scholar(lambda r: html_response(PAGE[: len(PAGE) // 3]))),
    Fault("Scholar: profile without the stats table", "scholar", "has 0 of the 6 stats cells",
          scholar(lambda r: html_response(without_stats(PAGE)))),
    Fault("Scholar: captcha on the second page", "scholar", "Google Scholar served a captcha page",
          scholar(lambda r: html_response(pages.captcha_page()), lambda r: cstart_of(r) == 100)),
    Fault("Scholar: HTTP 403", "scholar", "access denied (HTTP 403)", scholar(lambda r: html_response("Forbidden", 403))),
    Fault("Scholar: HTTP 429 with Retry-After", "scholar", "HTTP 429 for the profile page, after 2 tries",
          scholar(lambda r: html_response("", 429, {"Retry-After": "1"}))),
    Fault("Scholar: a server that never answers", "scholar", "scholar's deadline of 4 s reached", base="silent"),
    Fault("Scholar: redirect to Google's sign-in page", "scholar", "Google's sign-in page: the profile is private or the id is wrong",
          scholar(lambda r: Response("", status=302, headers={"Location": "/v3/signin/identifier?service=citations"}),
                  lambda r: r.path == "/citations")),
    Fault("Scholar: HTTP 404 on the second page", "scholar", "the publications page at cstart=100 answered HTTP 404",
          scholar(lambda r: html_response(pages.not_found_page(), 404), lambda r: cstart_of(r) == 100)),
    Fault("Scholar: a body sent one byte at a time", "scholar", "scholar's deadline of 4 s reached", base="trickle"),
    Fault("GitHub: HTTP 429 with Retry-After", "github", "GitHub asked to wait 1 s (HTTP 429, Retry-After)",
          github(*always(lambda r: json_response({"message": "slow down"}, 429, {"Retry-After": "1"})))),
    Fault("GitHub: HTTP 500", "github", "HTTP 500 from GitHub after 1 retries",
          github(*always(lambda r: json_response({"message": "Server Error"}, 500)))),
    Fault("GitHub: HTTP 403, rate limit spent", "github", "GitHub rate limit reached (HTTP 403, x-ratelimit-remaining 0)",
          rate_limit_spent),
    Fault("GitHub: deleted repository", "github", "not found (HTTP 404): deleted, private or misspelt", delete_repository),
    Fault("GitHub: HTML instead of JSON", "github", "answer is not valid JSON (text/html",
          github(*always(lambda r: html_response("<html><body>Unicorn! Something went wrong</body></html>")))),
    Fault("GitHub: truncated JSON", "github", "answer is not valid JSON (application/json",
          github(*always(lambda r: Response('{"full_name": "alice/tool", "stargazers_co', content_type="application/json")))),
    Fault("GitHub: a 10 MB body", "github", "answer larger than 5 MiB",
          github(*always(lambda r: json_response({"full_name": "alice/tool", "padding": "x" * 10_000_000})))),
    Fault("GitHub: connection reset mid-body", "github", "connection broke while reading the answer", base="reset"),
    Fault("GitHub: a server that never answers", "github", "github's deadline of 4 s reached", base="silent"),
    Fault("GitHub: a body sent one byte a second", "github", "github's deadline of 4 s reached", base="slow"),
    Fault("Hugging Face: a body sent one byte a second", "huggingface", "huggingface's deadline of 4 s reached", base="slow"),
    Fault("Hugging Face: HTTP 429 with a long Retry-After", "huggingface",
          "Hugging Face rate limit reached (HTTP 429, Retry-After 3600 s)",
          hub(*always(lambda r: json_response({"error": "rate limited"}, 429, {"Retry-After": "3600"})))),
    Fault("Hugging Face: HTTP 500", "huggingface", "HTTP 500 after 1 retries",
          hub(*always(lambda r: json_response({"error": "boom"}, 500)))),
    Fault("Hugging Face: HTML instead of JSON", "huggingface", "answer is not valid JSON (text/html",
          hub(*always(lambda r: html_response("<html>maintenance</html>")))),
    Fault("OpenAlex: HTTP 429", "openalex", "daily allowance or rate limit was reached",
          openalex(*always(lambda r: json_response({"error": "Too Many Requests"}, 429)))),
    Fault("OpenAlex: HTTP 500", "openalex", "HTTP 500 after 1 retries",
          openalex(*always(lambda r: json_response({"error": "Internal Server Error"}, 500)))),
    Fault("OpenAlex: HTML instead of JSON", "openalex", "answer is not valid JSON (text/html",
          openalex(*always(lambda r: html_response("<html>maintenance</html>")))),
    Fault("OpenAlex: the author is gone", "openalex", "not found (HTTP 404)", delete_openalex_author),
    Fault("OpenAlex: the works list fails on its second page", "openalex", "HTTP 500",
          openalex(*always(lambda r: json_response({"error": "Internal Server Error"}, 500)), when=works_page_two),
          long_lists=True),
    Fault("OpenAlex: a server that never answers", "openalex", "openalex's deadline of 4 s reached", base="silent"),
    Fault("OpenAlex: a body sent one byte a second", "openalex", "openalex's deadline of 4 s reached", base="slow"),
    Fault("Semantic Scholar: HTTP 429 on every request", "semanticscholar", "HTTP 429", s2_throttled_forever),
    Fault("Semantic Scholar: HTTP 500", "semanticscholar", "HTTP 500 after up to 1 retries",
          s2(*always(lambda r: json_response({"message": "Internal Server Error"}, 500)))),
    Fault("Semantic Scholar: HTML instead of JSON", "semanticscholar", "answer is not valid JSON (text/html",
          s2(*always(lambda r: html_response("<html>maintenance</html>")))),
    Fault("Semantic Scholar: the author is unknown", "semanticscholar", "not found",
          s2(lambda r: json_response([None]), when=lambda r: r.path.endswith("/batch"))),
    Fault("Semantic Scholar: the paper list fails on its second page", "semanticscholar", "HTTP 500",
          s2(*always(lambda r: json_response({"message": "Internal Server Error"}, 500)), when=papers_page_two),
          long_lists=True),
    Fault("Semantic Scholar: a server that never answers", "semanticscholar", "semanticscholar's deadline of 4 s reached",
          base="silent"),
]


def config_text(urls: dict[str, str]) -> str:
    limits = "timeout_seconds = 2\ndeadline_seconds = 4\nretries = 1\n"
    return (
        f'[scholar]\nid = "{UID}"\nbase_url = "{urls["scholar"]}"\npage_delay_seconds = 0\n{limits}'
        f'[github]\napi_url = "{urls["github"]}"\nrepos = ["alice/tool"]\nusers = ["alice-lab"]\n{limits}'
        f'[huggingface]\nendpoint = "{urls["huggingface"]}"\nmodels = ["lab/m"]\n{limits}'
        f'[openalex]\nendpoint = "{urls["openalex"]}"\nauthors = ["{OA}"]\n{limits}'
        f'[semanticscholar]\nendpoint = "{urls["semanticscholar"]}"\nauthors = ["{S2}"]\n{limits}'
        "[charts]\nenabled = false\n"  # charts have their own tests; drawing them would double each row's time
    )


def files_of(tree: dict[str, bytes], source: str) -> dict[str, bytes]:
    prefix = FIELDS[source]
    extra = ("gs_data.json", "gs_data_shieldsio.json") if source == "scholar" else ()
    return {path: data for path, data in tree.items() if path.startswith(prefix) or path in extra}


# Short lists keep each row quick; `long_lists` rows get two pages of each (200 works, 1000 papers a page).
SHORT, LONG = (12, 5), (210, 1005)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(
    fault, tmp_path, scholar_site, github_api, hub_api, openalex_api, s2_api,
    silent_server, reset_server, trickle_server, slow_body_server,
):
    (tmp_path / "home").mkdir()
    env = {**isolated_git_env(tmp_path / "home"), "OPENALEX_API_KEY": OPENALEX_TEST_KEY, "S2_API_KEY": S2_TEST_KEY}
    site, remote = make_homepage(tmp_path, env)
    profile = scholar_site.add(json.loads(json.dumps(PROFILE)))
    github_api.add_repo("alice/tool", 1200, 30)
    github_api.add_repo("alice-lab/kit", 300, 4)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    n_works, n_papers = LONG if fault.long_lists else SHORT
    works = [7 + i % 13 for i in range(n_works)]
    openalex_api.add(OA, "Zoë Ñúñez-Øberg", works=works, citations=41_000, h_index=60, i10_index=180)
    s2_api.add_author(S2, "Zoë Ñúñez-Øberg", citations=52_000, h_index=65, papers=n_papers)
    urls = {
        "scholar": scholar_site.url, "github": github_api.url, "huggingface": hub_api.url,
        "openalex": openalex_api.url, "semanticscholar": s2_api.url,
    }
    write_config(site, config_text(urls))

    loaded = load_config(site / "statsbot.toml", env={})
    good = run(loaded, env=env, publisher=Publisher(loaded.config.publish, site, env))
    assert {r.status for r in good.results} == {"ok"} and good.published.status == "pushed"
    before = tree_files(remote, BRANCH)
    assert json.loads(before["badges/citations.json"])["message"] == str(PROFILE["stats"]["citations"])

    # The truth moves on for every source; then one source breaks.
    profile["stats"] = {**profile["stats"], "citations": 99_000}
    github_api.set_stars("alice/tool", 1500)
    hub_api.add("models", "lab/m", 6100, 41, 81_234)
    openalex_api.add(OA, "Zoë Ñúñez-Øberg", works=works, citations=42_500, h_index=61, i10_index=181)
    s2_api.add_author(S2, "Zoë Ñúñez-Øberg", citations=53_300, h_index=66, papers=n_papers)
    if fault.inject:
        fault.inject(Fakes(scholar_site, github_api, hub_api, openalex_api, s2_api))
    if fault.base:
        raw = {"silent": silent_server, "reset": reset_server, "trickle": trickle_server, "slow": slow_body_server}[fault.base]
        write_config(site, config_text({**urls, fault.source: raw}))

    started = time.monotonic()
    result = run_statsbot("run", cwd=site, env=env)
    elapsed = time.monotonic() - started

    assert result.returncode == 3, result.stderr
    assert elapsed < fault.max_seconds, f"took {elapsed:.1f} s"
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert any(fault.error in line for line in errors), errors
    stale = [line for line in result.stdout.splitlines() if ": STALE: " in line]
    items = [line for line in stale if not line.startswith(AGGREGATES)]
    assert items and all(fault.error in line for line in items), result.stdout
    assert {line.split(":")[0] for line in items} <= {f"{fault.source} {name}" for name in FAILED_ITEMS[fault.source]}
    # Totals are stale exactly when one of their inputs is: only for a GitHub fault.
    assert (len(stale) > 1) == (fault.source == "github"), result.stdout
    for key in (OPENALEX_TEST_KEY, S2_TEST_KEY):
        assert key not in result.stdout + result.stderr

    after = tree_files(remote, BRANCH)
    assert files_of(after, fault.source) == files_of(before, fault.source)  # byte for byte
    document = json.loads(after["stats.json"])
    stats = document["sources"]
    fresh = {
        "scholar": stats["scholar"][UID], "github": stats["github"]["alice/tool"], "huggingface": stats["huggingface"]["lab/m"],
        "openalex": stats["openalex"][OA], "semanticscholar": stats["semanticscholar"][S2],
    }
    assert fresh.pop(fault.source)["status"] == "stale"
    totals = {"stars": 1500, "forks": 34, "repositories": 2} if fault.source == "github" else {"stars": 1800, "forks": 34, "repositories": 2}
    assert document["totals"]["github"] == totals
    assert json.loads(after["badges/github/stars-total.json"])["message"] == ("1.5k" if fault.source == "github" else "1.8k")
    assert json.loads(after["badges/github/alice-lab/stars-total.json"])["message"] == "300"
    expected = {
        "scholar": ("citations", 99_000), "github": ("stars", 1500), "huggingface": ("downloads", 6100),
        "openalex": ("citations", 42_500), "semanticscholar": ("citations", 53_300),
    }
    for source, entry in fresh.items():
        metric, value = expected[source]
        assert entry["status"] == "ok" and entry["metrics"][metric] == value
        assert files_of(after, source) != files_of(before, source)
    # The page's count: Scholar's, or OpenAlex's (the next in citations_from) when Scholar fails.
    page = json.loads(after["badges/citations.json"])
    if fault.source == "scholar":
        assert (page["label"], page["message"], stats["citations"]["all"]["from"]) == ("citations (OpenAlex)", "42500", "openalex")
    else:
        assert (page["label"], page["message"], stats["citations"]["all"]["from"]) == ("citations", "99000", "scholar")
