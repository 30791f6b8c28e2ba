"""statsbot.js, the page script (`statsbot badges --format js`), run by Node against a small fake
`document` and a `fetch` that answers with the stats.json of a real statsbot run: it fills the
`data-statsbot` elements it finds numbers for, formats them as the badges do, and whatever goes
wrong (404, a network error, bad JSON, a missing key) leaves the page's text as it was and throws nothing."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import GITHUB_TEST_TOKEN, HF_TEST_TOKEN, run_statsbot, write_config
from scholar_fixtures import make_profile

from statsbot.badges import format_count
from statsbot.snippets import page_script

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (the CI machine has it)")
UID = "TestUser01AJ"
STATS_URL = "http://127.0.0.1:9/stats.json"  # only the fake fetch sees it

# A fake browser: `document` with querySelectorAll and elements (getAttribute, setAttribute,
# textContent), `fetch` answering from a file; prints the elements afterwards, and every error
# the script threw or left unhandled.
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const [scriptPath, mode, bodyPath, elementsJson, statsUrl] = process.argv.slice(2);
const errors = [];
process.on("uncaughtException", (e) => errors.push("uncaught: " + e));
process.on("unhandledRejection", (e) => errors.push("unhandled: " + e));
const elements = JSON.parse(elementsJson).map(([key, text, format]) => ({
  attrs: Object.assign({"data-statsbot": key}, format ? {"data-statsbot-format": format} : {}),
  textContent: text,
  getAttribute(name) { return Object.prototype.hasOwnProperty.call(this.attrs, name) ? this.attrs[name] : null; },
  setAttribute(name, value) { this.attrs[name] = String(value); },
}));
const requested = [];
const document = {
  readyState: "complete",
  currentScript: { getAttribute: (name) => (name === "data-stats" ? (statsUrl || null) : null) },
  querySelector: () => null,
  querySelectorAll: (selector) => (selector === "[data-statsbot]" ? elements : []),
  addEventListener() {},
};
function fetch(url, options) {
  requested.push(url);
  if (mode === "network") return Promise.reject(new TypeError("Failed to fetch"));
  if (mode === "404") return Promise.resolve({ ok: false, status: 404, json: () => Promise.reject(new SyntaxError("404: Not Found")) });
  const body = fs.readFileSync(bodyPath, "utf8");
  return Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve().then(() => JSON.parse(body)) });
}
try {
  vm.runInNewContext(fs.readFileSync(scriptPath, "utf8"), { document, fetch }, { filename: "statsbot.js" });
} catch (e) {
  errors.push("threw: " + e);
}
// Every promise of the script settles in microtasks, all run before the next macrotask.
setImmediate(() => setImmediate(() => {
  process.stdout.write(JSON.stringify({ requested, errors, elements: elements.map((e) => ({ text: e.textContent, attrs: e.attrs })) }));
}));
"""


@pytest.fixture(scope="module")
def real_stats(tmp_path_factory):
    """stats.json of a real `statsbot run` (Scholar, GitHub and Hugging Face fakes on 127.0.0.1)."""
    from conftest import ScholarSite, mount
    from fakes import FakeGitHub, FakeHub
    from pytest_httpserver import HTTPServer

    folder = tmp_path_factory.mktemp("run")
    servers = [HTTPServer(host="127.0.0.1", port=0) for _ in range(3)]
    for server in servers:
        server.start()
    try:
        scholar = ScholarSite(servers[0])
        scholar.add(make_profile(4, UID))
        github = FakeGitHub(base_url=servers[1].url_for("").rstrip("/"), token=GITHUB_TEST_TOKEN)
        mount(servers[1], github)
        github.add_repo("alice/tool", 4321, 12)
        github.add_repo("alice/lib", 1_250_000, 3)
        hub = FakeHub(token=HF_TEST_TOKEN)
        mount(servers[2], hub)
        hub.add("models", "lab/model", 2500, 7, 100_000)
        write_config(
            folder,
            f'[scholar]\nid = "{UID}"\nbase_url = "{scholar.url}"\npage_delay_seconds = 0\nretries = 0\n'
            f'[github]\napi_url = "{github.base_url}"\nrepos = ["alice/tool", "alice/lib"]\n'
            f'[huggingface]\nendpoint = "{servers[2].url_for("").rstrip("/")}"\nmodels = ["lab/model"]\n',
        )
        result = run_statsbot("run", "--no-publish", cwd=folder, env={"GITHUB_TOKEN": GITHUB_TEST_TOKEN, "HF_TOKEN": HF_TEST_TOKEN})
        assert result.returncode == 0, result.stderr
    finally:
        for server in servers:
            server.clear()
            if server.is_running():
                server.stop()
    return folder / "output" / "stats.json"


def run_script(tmp_path, elements, *, mode="ok", body=None, stats_url=STATS_URL):
    script = tmp_path / "statsbot.js"
    script.write_text(page_script(), encoding="utf-8")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    done = subprocess.run(
        [NODE, str(harness), str(script), mode, str(body or tmp_path / "none.json"), json.dumps(elements), stats_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_fills_elements_from_a_real_stats_json(tmp_path, real_stats):
    stats = json.loads(real_stats.read_text(encoding="utf-8"))
    scholar = stats["sources"]["scholar"][UID]["metrics"]
    elements = [
        ["citations", "…", None],
        ["scholar/citations", "…", None],
        [f"scholar/{UID}/h-index", "…", None],
        [f"scholar/{UID}/citations", "…", "plain"],
        ["github/stars", "…", "short"],
        ["github/ALICE/LIB/stars", "…", None],
        ["github/alice/tool/forks", "…", None],
        ["huggingface/lab/model/downloads-all-time", "…", "short"],
        ["updated", "…", None],
    ]
    out = run_script(tmp_path, elements, body=real_stats)
    assert out["errors"] == [] and out["requested"] == [STATS_URL]
    texts = [element["text"] for element in out["elements"]]
    headline = stats["sources"]["citations"]["all"]["metrics"]["citations"]
    assert texts == [
        f"{headline:,}",
        f"{scholar['citations']:,}",
        f"{scholar['h_index']:,}",
        str(scholar["citations"]),
        format_count(stats["totals"]["github"]["stars"]),
        "1,250,000",
        "12",
        format_count(100_000),
        stats["generated_at"][:10],
    ]
    assert format_count(stats["totals"]["github"]["stars"]) == "1.3M"
    assert out["elements"][1]["attrs"]["data-statsbot-status"] == "ok"
    assert "data-statsbot-status" not in out["elements"][4]["attrs"]  # a total has no status of its own


def test_a_missing_key_leaves_the_element_as_it_was(tmp_path, real_stats):
    elements = [
        ["scholar/NoSuchUser1AJ/citations", "n/a", None],
        ["github/alice/tool/watchers", "(stars)", None],
        ["github/alice/nothing/stars", "-", None],
        ["openalex/citations", "?", None],
        ["github/citations", "?", None],
        ["github/alice/tool/stars", "4k+", None],
    ]
    out = run_script(tmp_path, elements, body=real_stats)
    assert out["errors"] == []
    assert [e["text"] for e in out["elements"]] == ["n/a", "(stars)", "-", "?", "?", "4,321"]
    assert [("data-statsbot-status" in e["attrs"]) for e in out["elements"]] == [False] * 5 + [True]


@pytest.mark.parametrize("mode, body", [("404", None), ("network", None), ("ok", "{not json"), ("ok", "null"), ("ok", '{"sources": 3}')])
def test_no_file_or_bad_file_leaves_everything_and_throws_nothing(tmp_path, real_stats, mode, body):
    path = None
    if body is not None:
        path = tmp_path / "stats.json"
        path.write_text(body, encoding="utf-8")
    elements = [["citations", "1,000+", None], [f"scholar/{UID}/citations", "many", None], ["updated", "recently", None]]
    out = run_script(tmp_path, elements, mode=mode, body=path)
    assert out["requested"] == [STATS_URL]  # it did try
    assert out["errors"] == []
    assert [e["text"] for e in out["elements"]] == ["1,000+", "many", "recently"]
    assert all(set(e["attrs"]) == {"data-statsbot"} for e in out["elements"])


def test_without_a_stats_url_it_fetches_nothing(tmp_path, real_stats):
    out = run_script(tmp_path, [["citations", "x", None]], body=real_stats, stats_url="")
    assert out == {"requested": [], "errors": [], "elements": [{"text": "x", "attrs": {"data-statsbot": "citations"}}]}


def test_short_numbers_are_the_badges_short_numbers(tmp_path):
    values = [0, 7, 950, 999, 1000, 1049, 1050, 1250, 9949, 9950, 10_499, 99_949, 999_499, 999_500, 1_234_567, 10**12 + 5 * 10**10]
    stats = {"sources": {"numbers": {"all": {"metrics": {f"n{i}": value for i, value in enumerate(values)}}}}}
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats), encoding="utf-8")
    elements = [[f"numbers/n{i}", "", "short"] for i in range(len(values))] + [[f"numbers/n{i}", "", None] for i in range(len(values))]
    out = run_script(tmp_path, elements, body=path)
    texts = [e["text"] for e in out["elements"]]
    assert texts == [format_count(v) for v in values] + [f"{v:,}" for v in values]
