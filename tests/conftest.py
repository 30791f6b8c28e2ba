from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

import pytest
from werkzeug.wrappers import Request, Response

from statsbot.demo.pages import PAGE_SIZE, not_found_page, render_profile

REPO = Path(__file__).resolve().parents[1]

# Variables that would change what statsbot does; every test starts without them.
_ISOLATED_VARS = (
    "GOOGLE_SCHOLAR_ID", "STATSBOT_CONFIG", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "HF_ENDPOINT",
    "SCRAPER_API_KEY", "SERPAPI_API_KEY", "STATSBOT_SCHOLAR_PROXY", "OPENALEX_API_KEY", "S2_API_KEY",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)


class ScholarSite:
    """A fake scholar.google.com on pytest-httpserver (127.0.0.1).

    Serves the registered profiles at /citations as Scholar does; `override` makes
    the next requests (or the ones for a given cstart) answer something else.
    """

    def __init__(self, httpserver: Any) -> None:
        self.server = httpserver
        self.profiles: dict[str, dict[str, Any]] = {}
        self.overrides: list[tuple[Callable[[Request], bool], Callable[[Request], Response]]] = []
        httpserver.expect_request("/citations").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add(self, profile: dict[str, Any]) -> dict[str, Any]:
        self.profiles[profile["scholar_id"]] = profile
        return profile

    def override(self, respond: Callable[[Request], Response], when: Callable[[Request], bool] = lambda r: True) -> None:
        self.overrides.append((when, respond))

    def requests(self) -> list[str]:
        """Every request so far, as path?query."""
        return [f"{req.path}?{req.query_string.decode()}" for req, _ in self.server.log]

    def _handle(self, request: Request) -> Response:
        for when, respond in self.overrides:
            if when(request):
                return respond(request)
        query = parse_qs(request.query_string.decode())
        profile = self.profiles.get(query.get("user", [""])[0])
        if profile is None:
            return html_response(not_found_page(), 404)
        cstart = int(query.get("cstart", ["0"])[0])
        pagesize = int(query.get("pagesize", [str(PAGE_SIZE)])[0])
        return html_response(render_profile(profile, cstart, pagesize))


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(html, status=status, headers=headers or {}, content_type="text/html; charset=UTF-8")


def cstart_of(request: Request) -> int:
    return int(parse_qs(request.query_string.decode()).get("cstart", ["0"])[0])


@pytest.fixture
def scholar_site(httpserver: Any) -> ScholarSite:
    return ScholarSite(httpserver)


class RawServer:
    """A TCP server on 127.0.0.1 that hands each connection to `serve` on its own thread."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stop = threading.Event()
        self._serve = serve
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        host, port = self._listener.getsockname()
        self.url = f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn, self.stop), daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=2)
        self._listener.close()


def _never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)
    conn.close()


def _trickler(content_type: str, every: float, byte: bytes) -> Callable[[socket.socket, threading.Event], None]:
    """A raw server's `serve`: a 200 header announcing 100 MB, then one `byte` every `every` s, forever."""

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        try:
            conn.recv(65536)
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: 100000000\r\n\r\n".encode())
            while not stop.wait(every):
                conn.sendall(byte)
        except OSError:
            pass
        finally:
            conn.close()

    return serve


@pytest.fixture
def silent_server():
    """A server on 127.0.0.1 that accepts connections and never answers."""
    server = RawServer(_never_answer)
    yield server.url
    server.close()


@pytest.fixture
def trickle_server():
    """A server on 127.0.0.1 that sends a 200 header, then one byte every 0.2 s, forever."""
    server = RawServer(_trickler("text/html", 0.2, b"<"))
    yield server.url
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


def run_statsbot(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as a user or a workflow runs it."""
    child_env = {k: v for k, v in os.environ.items() if k not in _ISOLATED_VARS}
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "statsbot", *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(directory: Path, text: str) -> Path:
    path = directory / "statsbot.toml"
    path.write_text(text, encoding="utf-8")
    return path



@pytest.fixture
def make_server():
    """Start extra HTTP servers on 127.0.0.1 (each its own port, so its own origin)."""
    from pytest_httpserver import HTTPServer

    servers = []

    def start() -> HTTPServer:
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.clear()
        if server.is_running():
            server.stop()


def mount(server: Any, handler: Callable[[Request], Response]) -> None:
    """Every path and method on `server` goes to `handler`."""
    import re as _re

    for method in ("GET", "POST"):
        server.expect_request(_re.compile("^/"), method=method).respond_with_handler(handler)


@pytest.fixture
def github_api(make_server):
    from fakes import FakeGitHub

    server = make_server()
    fake = FakeGitHub(base_url=server.url_for("").rstrip("/"), token=GITHUB_TEST_TOKEN)
    mount(server, fake)
    fake.url = fake.base_url  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def hub_api(make_server):
    from fakes import FakeHub

    server = make_server()
    fake = FakeHub(token=HF_TEST_TOKEN)
    mount(server, fake)
    fake.url = server.url_for("").rstrip("/")  # type: ignore[attr-defined]
    return fake


# Token-shaped test values (never real): the run must never print or write them.
GITHUB_TEST_TOKEN = "ghp_" + "T3stT0kenNeverRealAbcdefghijklmnop1234"
HF_TEST_TOKEN = "hf_" + "T3stT0kenNeverRealAbcdefghijklmnopq"


def _reset_mid_body(conn: socket.socket, stop: threading.Event) -> None:
    import struct

    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n" + b'{"full_name": "ali')
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a TCP reset
    except OSError:
        pass
    finally:
        conn.close()


@pytest.fixture
def reset_server():
    """A server on 127.0.0.1 that starts a JSON answer, then resets the connection."""
    server = RawServer(_reset_mid_body)
    yield server.url
    server.close()


@pytest.fixture
def slow_body_server():
    """A server on 127.0.0.1 that sends a 200 JSON header (Content-Length 100 MB), then one byte a second, forever."""
    server = RawServer(_trickler("application/json", 1.0, b" "))  # JSON whitespace: never wrong, never done
    yield server.url
    server.close()


# A key-shaped SerpApi test value (never real, 64 hex digits as SerpApi's are): never printed or written.
SERPAPI_TEST_KEY = "5e" + "7a57c0ffee0d15ea5e" * 3 + "01234567"


@pytest.fixture
def serpapi_api(make_server):
    """A fake SerpApi (tests/fakes.FakeSerpApi) on its own 127.0.0.1 port, key SERPAPI_TEST_KEY;
    `add` the same profile dicts as `scholar_site`; its URL is `.url` (for `[scholar] serpapi_url`)."""
    from fakes import FakeSerpApi

    server = make_server()
    url = server.url_for("").rstrip("/")
    fake = FakeSerpApi(key=SERPAPI_TEST_KEY, base_url=url)
    mount(server, fake)
    fake.url = url  # type: ignore[attr-defined]
    return fake


SCRAPERAPI_TEST_KEY = "sapi_" + "T3stK3yNeverRealAbcdefghij012345"


@pytest.fixture
def scraperapi_api(make_server, scholar_site):
    """A fake ScraperAPI on 127.0.0.1 (tests/fakes.py) that fetches its targets from `scholar_site`;
    its key is SCRAPERAPI_TEST_KEY; `.url` goes in `[scholar] scraperapi_url`."""
    from fakes import FakeScraperApi, keep_raw_headers

    server = make_server()
    keep_raw_headers(server)
    fake = FakeScraperApi(scholar_site, SCRAPERAPI_TEST_KEY)
    mount(server, fake)
    fake.url = server.url_for("").rstrip("/")  # type: ignore[attr-defined]
    return fake


# A key-shaped OpenAlex test value (never real): the run must never print or write it.
OPENALEX_TEST_KEY = "oa_" + "T3stK3yNeverRealAbcdefghijklmn0123"


@pytest.fixture
def openalex_api(make_server):
    """A fake OpenAlex (tests/fake_openalex.FakeOpenAlex) on its own 127.0.0.1 port, key
    OPENALEX_TEST_KEY; `add` authors, `merge` them; its URL is `.url` (for `[openalex] endpoint`)."""
    from fake_openalex import FakeOpenAlex

    server = make_server()
    url = server.url_for("").rstrip("/")
    fake = FakeOpenAlex(base_url=url, key=OPENALEX_TEST_KEY)
    mount(server, fake)
    fake.url = url  # type: ignore[attr-defined]
    return fake


# A key-shaped Semantic Scholar test value (never real): never printed or written.
S2_TEST_KEY = "s2k_" + "T3stK3yNeverRealAbcdefghij0123456789"


@pytest.fixture
def s2_api(make_server, monkeypatch):
    """A fake Semantic Scholar Graph API (tests/fake_semanticscholar.py) on its own 127.0.0.1 port,
    key S2_TEST_KEY (none sent is the shared pool); `.url` goes in `[semanticscholar] endpoint`."""
    from fake_semanticscholar import FakeSemanticScholar

    monkeypatch.delenv("S2_API_KEY", raising=False)
    server = make_server()
    fake = FakeSemanticScholar(key=S2_TEST_KEY)
    mount(server, fake)
    fake.url = server.url_for("").rstrip("/")  # type: ignore[attr-defined]
    return fake


# A workflow's own variables: when the tests themselves run in GitHub Actions, a child statsbot
# must not inherit them, or its keepalive (statsbot.keepalive) would ask the real GitHub API.
_WORKFLOW_VARS = ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW_REF", "GITHUB_EVENT_NAME", "GITHUB_API_URL")


@pytest.fixture(autouse=True)
def _no_workflow_context(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _WORKFLOW_VARS:
        monkeypatch.delenv(name, raising=False)
