"""Real git for the tests: a homepage repository with a bare remote on disk, and an
authenticated smart-HTTP remote (`git http-backend`) on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
}


def isolated_git_env(home: Path, identity: bool = True) -> dict[str, str]:
    """No global or system git config; an identity only when asked for."""
    env = {"HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    if identity:
        env.update(IDENTITY)
    return env


def git(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def make_homepage(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """A homepage checkout on `main` and its bare remote `origin`."""
    remote = root / "remote.git"
    site = root / "site"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=root, env=env)
    git("init", "--quiet", "-b", "main", str(site), cwd=root, env=env)
    (site / "index.html").write_text("<h1>Zoë's homepage</h1>\n", encoding="utf-8")
    (site / "_config.yml").write_text("repository: zoe/zoe.github.io\n", encoding="utf-8")
    (site / ".gitignore").write_text("output/\n", encoding="utf-8")
    git("add", "-A", cwd=site, env=env)
    git("commit", "--quiet", "-m", "homepage", cwd=site, env=env)
    git("remote", "add", "origin", str(remote), cwd=site, env=env)
    git("push", "--quiet", "origin", "main", cwd=site, env=env)
    return site, remote


def branch_commits(remote: Path, branch: str = "google-scholar-stats") -> list[str]:
    """Commits of the branch, newest first ([] when it does not exist)."""
    done = subprocess.run(["git", "rev-list", f"refs/heads/{branch}"], cwd=remote, capture_output=True, text=True)
    return done.stdout.split() if done.returncode == 0 else []


def tree_files(repo: Path, rev: str) -> dict[str, bytes]:
    listing = git("ls-tree", "-r", "-z", "--name-only", rev, cwd=repo)
    return {
        path: subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"], cwd=repo, capture_output=True, check=True).stdout
        for path in filter(None, listing.split("\0"))
    }


def basic_header(token: str) -> str:
    return "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


class GitHttpServer:
    """Smart HTTP for the repositories under `root`, behind a check of the Authorization header.

    No header: 401 (asking for credentials). A wrong one: 403, as GitHub answers a
    token without write access. The right one: `git http-backend` serves the request.
    """

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.expected = basic_header(token)
        self.seen_authorization: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                self._serve()

            def do_POST(self) -> None:  # noqa: N802
                self._serve()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _serve(self) -> None:
                body = self._body()
                auth = self.headers.get("Authorization")
                server.seen_authorization.append(auth)
                if auth is None:
                    self._send(401, b"Authentication required\n", {"WWW-Authenticate": 'Basic realm="test"'})
                    return
                if auth.lower() != server.expected.lower():
                    self._send(403, b"Permission to zoe/site.git denied to github-actions[bot].\n", {"Content-Type": "text/plain"})
                    return
                path, _, query = self.path.partition("?")
                env = {
                    "PATH": os.environ["PATH"],
                    "GIT_PROJECT_ROOT": str(server.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": "x-access-token",
                    "REMOTE_ADDR": "127.0.0.1",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": os.devnull,
                }
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                if not payload and b"\n\n" in done.stdout:
                    head, _, payload = done.stdout.partition(b"\n\n")
                status, headers = 200, {}
                for line in head.decode("latin-1").splitlines():
                    key, _, value = line.partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers[key.strip()] = value.strip()
                self._send(status, payload, headers)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def homepage(tmp_path: Path, name: str, config: str) -> tuple[Path, Path, dict[str, str]]:
    """A homepage repository of its own under `tmp_path/name`, with this statsbot.toml: (site, remote, env)."""
    root = tmp_path / name
    (root / "home").mkdir(parents=True)
    env = isolated_git_env(root / "home")
    site, remote = make_homepage(root, env)
    (site / "statsbot.toml").write_text(config, encoding="utf-8")
    return site, remote, env


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00")


def normalised(tree: dict[str, bytes]) -> dict[str, bytes]:
    """A branch's files with every timestamp replaced by <T>, to compare two runs byte for byte."""
    return {path: _STAMP.sub(b"<T>", data) for path, data in tree.items()}
