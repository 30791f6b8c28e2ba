"""Golden outputs: the demo, and one scenario over every source, compared file by file with
what statsbot wrote when the manifests were made (timestamps normalised; charts and the ETag
cache left out: the charts once held matplotlib's bytes, the cache holds the fakes' port
numbers). They were first written before the sources moved onto one interface, which left
every output unchanged.

`python tests/golden_scenario.py` rewrites the manifests in tests/golden/ from the
current code: do that only on purpose, when an output is meant to change, and say so in
the commit.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)?|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00")
_LEFT_OUT = (".statsbot/", "charts/")


def manifest(folder: Path) -> dict[str, str]:
    """Path -> sha256 of the file's bytes with every timestamp replaced by <T>, and today's
    UTC date (the day the demo's history rows carry) by <D>; the history file of today's
    month, when its rows carry today's date (the demo's), is named history/<M>.csv."""
    today = datetime.now(timezone.utc).date().isoformat().encode()
    out = {}
    for path in sorted(folder.rglob("*")):
        relpath = str(path.relative_to(folder))
        if path.is_file() and not relpath.startswith(_LEFT_OUT):
            raw = path.read_bytes()
            data = _STAMP.sub(b"<T>", raw).replace(today, b"<D>")
            if relpath == f"history/{today[:7].decode()}.csv" and b"\n" + today + b"," in raw:
                relpath = "history/<M>.csv"
            out[relpath] = hashlib.sha256(data).hexdigest()
    return out


def run_every_source(out: Path) -> None:
    """Two days of runs over Scholar, GitHub, Hugging Face, OpenAlex and Semantic Scholar
    fakes on 127.0.0.1: a moved repository, a user's listing, an author by ORCID, then a
    drop held back, a repository gone from the listing, a Hub answer without
    downloadsAllTime, new OpenAlex counts and a Semantic Scholar that answers 500."""
    sys.path.insert(0, str(HERE))
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request

    from fake_openalex import FakeOpenAlex
    from fake_semanticscholar import FakeSemanticScholar
    from fakes import FakeGitHub, FakeHub, json_response
    from statsbot.config import parse_config
    from statsbot.demo.server import FakeScholar, demo_profile
    from statsbot.runner import run

    servers = []

    def serve(fake) -> str:
        server = make_server("127.0.0.1", 0, Request.application(lambda request: fake(request)), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    github, hub, openalex, s2 = FakeGitHub(), FakeHub(), FakeOpenAlex(), FakeSemanticScholar()
    github_url = github.base_url = serve(github)
    hub_url = serve(hub)
    openalex_url = openalex.base_url = serve(openalex)
    s2_url = serve(s2)
    openalex.add("A5023888391", "Zoë Álvarez-Müller", works=[120, 80, 0, 7], h_index=3, i10_index=2)
    openalex.add("A42", "Zoë Álvarez", works=[9], orcid="0000-0002-1825-0097", h_index=1, i10_index=0)
    s2.add_author("1741101", "Zoë Álvarez-Müller", citations=1500, h_index=14, papers=4)
    for i in range(5):
        github.add_repo(f"alice-lab/r{i}", 100 * i + 7, i)
    github.add_repo("Bob/Tool", 4321, 12)
    github.add_repo("alice-lab/new-name", 50, 1)
    github.move("alice/old-name", "alice-lab/new-name")
    hub.add("models", "lab/m", 5000, 40, 80000)
    hub.add("datasets", "lab/d", 12, 3, 4000)
    try:
        with FakeScholar([demo_profile()]) as scholar:
            document = {
                "scholar": {"id": demo_profile()["scholar_id"], "base_url": scholar.url, "page_delay_seconds": 0.0},
                "github": {"api_url": github_url, "repos": ["bob/tool", "alice/old-name"], "users": ["alice-lab"]},
                "huggingface": {"endpoint": hub_url, "models": ["lab/m"], "datasets": ["lab/d"]},
                "openalex": {"endpoint": openalex_url, "authors": ["A5023888391", "0000-0002-1825-0097"]},
                "semanticscholar": {"endpoint": s2_url, "authors": ["1741101"], "retries": 0},
                "output": {"dir": str(out)},
                "charts": {"repositories": True},
            }
            loaded = parse_config(document, path=None, env={})
            run(loaded, env={}, now=datetime(2026, 11, 20, 3, tzinfo=timezone.utc))
            github.set_stars("alice-lab/r1", 10)  # held back by the drop gate
            del github.repos["alice-lab/r2"]  # gone from the listing
            partial = {"_id": "x", "id": "lab/m", "downloads": 6000, "likes": 41}
            hub.fail(lambda r: "models" in r.path, lambda r: json_response(partial))
            openalex.add("A5023888391", "Zoë Álvarez-Müller", works=[125, 84, 1, 7], h_index=3, i10_index=2)
            s2.fail(lambda r: True, *[lambda r: json_response({"message": "Internal Server Error"}, 500)] * 5)
            run(loaded, env={}, now=datetime(2026, 11, 21, 3, tzinfo=timezone.utc))
    finally:
        for server in servers:
            server.shutdown()


def run_demo(out: Path) -> None:
    from statsbot.demo import run_demo as demo

    demo(out)


if __name__ == "__main__":
    import tempfile

    for name, scenario in (("demo", run_demo), ("every-source", run_every_source)):
        with tempfile.TemporaryDirectory() as folder:
            scenario(Path(folder))
            (GOLDEN / f"{name}.json").write_text(json.dumps(manifest(Path(folder)), indent=1, sort_keys=True) + "\n")
            print(f"wrote {GOLDEN / name}.json")
