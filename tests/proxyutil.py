"""A recording forward HTTP proxy on 127.0.0.1 for the tests (it forwards only to loopback servers)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class RecordingProxy:
    """A forward HTTP proxy on 127.0.0.1: absolute-form requests are recorded and passed on to
    the loopback target with urllib (never anywhere else)."""

    def __init__(self) -> None:
        self.requests: list[str] = []  # "GET http://127.0.0.1:PORT/path?query"
        self.proxy_authorization: list[str | None] = []
        proxy = self

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
        hop_by_hop = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
                      "transfer-encoding", "upgrade", "host", "content-length"}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                self._forward()

            def do_POST(self) -> None:  # noqa: N802
                self._forward()

            def _forward(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                proxy.proxy_authorization.append(self.headers.get("Proxy-Authorization"))
                target = urlsplit(self.path)
                if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost"):
                    self._reply(403, b"this test proxy only forwards to loopback http servers", {})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop_by_hop}
                request = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
                try:
                    answer = opener.open(request, timeout=20)
                except urllib.error.HTTPError as exc:
                    answer = exc
                with answer:
                    payload = answer.read()
                    status = answer.status if hasattr(answer, "status") else answer.code
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in hop_by_hop}
                self._reply(status, payload, kept)

            def _reply(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.address = f"127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
