"""A stand-in for scholar.google.com on 127.0.0.1, for the demo (standard library only)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from statsbot.demo.pages import PAGE_SIZE, not_found_page, render_profile


def demo_profile() -> dict[str, Any]:
    """The bundled profile: 137 publications, so the demo fetches two pages."""
    return json.loads(resources.files("statsbot.demo").joinpath("profile.json").read_text(encoding="utf-8"))


class FakeScholar:
    """Serves profile pages for the given profiles at /citations, as Scholar does.

    Use as a context manager; `url` is the base URL to configure, `paths` every
    path requested so far.
    """

    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        self.profiles = {p["scholar_id"]: p for p in profiles}
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                fake.paths.append(self.path)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                profile = fake.profiles.get(query.get("user", [""])[0])
                if parts.path != "/citations" or profile is None:
                    self._send(404, not_found_page())
                    return
                cstart = int(query.get("cstart", ["0"])[0])
                pagesize = int(query.get("pagesize", [str(PAGE_SIZE)])[0])
                self._send(200, render_profile(profile, cstart, pagesize))

            def _send(self, status: int, html: str) -> None:
                body = html.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep the demo's output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-scholar", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeScholar":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
