"""Stand-ins for scholar.google.com, api.github.com and huggingface.co on 127.0.0.1, for the
demo (standard library only): `FakeScholar` here, `FakeGitHub` and `FakeHub` in
`statsbot.demo.apis`, all on `LoopbackServer`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from statsbot.demo.pages import PAGE_SIZE, not_found_page, render_profile


def bundled(name: str) -> Any:
    """A JSON file bundled beside this module (package data)."""
    return json.loads(resources.files("statsbot.demo").joinpath(name).read_text(encoding="utf-8"))


def demo_profile() -> dict[str, Any]:
    """The bundled profile: 137 publications, so the demo fetches two pages."""
    return bundled("profile.json")


@dataclass(frozen=True)
class Received:
    """One request a fake answered: what a test checks (where it came from, what it carried)."""

    method: str
    path: str  # with the query
    headers: dict[str, str]
    client: str  # the peer's address


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) that records every request.

    Subclasses implement `answer(method, path, query, headers)` -> (status, headers, body).
    Use as a context manager; `url` is the base URL to configure, `received` every request
    so far.
    """

    name = "fake"

    def __init__(self) -> None:
        self.received: list[Received] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                fake.received.append(Received(self.command, self.path, dict(self.headers.items()), self.client_address[0]))
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                status, headers, body = fake.answer(self.command, parts.path, parse_qs(parts.query), self.headers)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep the demo's output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def paths(self) -> list[str]:
        """Every path (with its query) requested so far."""
        return [r.path for r in self.received]

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FakeScholar(LoopbackServer):
    """Serves profile pages for the given profiles at /citations, as Scholar does."""

    name = "fake-scholar"

    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        self.profiles = {p["scholar_id"]: p for p in profiles}
        super().__init__()

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, str], bytes]:
        profile = self.profiles.get(query.get("user", [""])[0])
        if method != "GET" or path != "/citations" or profile is None:
            return self._html(404, not_found_page())
        cstart = int(query.get("cstart", ["0"])[0])
        pagesize = int(query.get("pagesize", [str(PAGE_SIZE)])[0])
        return self._html(200, render_profile(profile, cstart, pagesize))

    @staticmethod
    def _html(status: int, html: str) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "text/html; charset=UTF-8"}, html.encode("utf-8")
