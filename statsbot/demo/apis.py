"""Stand-ins for the GitHub REST API and the Hugging Face Hub API on 127.0.0.1, for the demo.

They answer what statsbot asks, in the documented shapes, from bundled JSON
(`github.json`, `huggingface.json` beside this module):

* GitHub: ``GET /users/{login}/repos`` (minimal-repository objects, ``per_page``/``page``
  with a ``Link`` header, an ``ETag`` honoured by ``If-None-Match``) and
  ``GET /repos/{owner}/{repo}``, with the ``x-ratelimit-*`` headers of an anonymous
  client (60 an hour). Anything else, GraphQL included (statsbot uses it only with a
  token, and the demo has none), is a 404 or a 401 as GitHub answers it.
* Hugging Face: ``GET /api/models/{id}`` and ``/api/datasets/{id}``; with ``expand[]``
  only ``_id``, ``id`` and the expanded fields, as the Hub answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any
from urllib.parse import urlencode

from statsbot.demo.server import LoopbackServer, bundled

GITHUB_API = "https://api.github.com"  # in the bundled answers; each is served with the fake's own address instead
_JSON = "application/json; charset=utf-8"
_DOCS = "https://docs.github.com/rest"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class FakeGitHub(LoopbackServer):
    """The public repositories of the users in `github.json`, answered as api.github.com does."""

    name = "fake-github"
    LIMIT = 60  # an anonymous client's requests per hour

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = bundled("github.json") if data is None else data
        self.remaining = self.LIMIT
        self.reset = int(time.time()) + 3600
        super().__init__()

    def repos_of(self, login: str) -> list[dict[str, Any]]:
        for user, repos in self.data["users"].items():
            if user.lower() == login.lower():
                return repos
        return []

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, str], bytes]:
        self.remaining = max(0, self.remaining - 1)
        limits = {
            "x-ratelimit-limit": str(self.LIMIT),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-used": str(self.LIMIT - self.remaining),
            "x-ratelimit-resource": "core",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
        }
        if headers.get("Authorization"):  # the demo has no token: any token would be someone else's
            return self._reply(401, {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"}, limits)
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 3 and parts[0] == "users" and parts[2] == "repos":
            return self._listing(parts[1], query, headers, limits)
        if method == "GET" and len(parts) == 3 and parts[0] == "repos":
            name = f"{parts[1]}/{parts[2]}".lower()
            for repo in self.repos_of(parts[1]):
                if repo["full_name"].lower() == name:
                    return self._conditional(repo, headers, limits)
        return self._reply(404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}, limits)

    def _listing(self, login: str, query: dict[str, list[str]], headers: Any, limits: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if not any(user.lower() == login.lower() for user in self.data["users"]):
            return self._reply(404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}, limits)
        repos = sorted(self.repos_of(login), key=lambda r: r["full_name"].lower())
        per_page = max(1, min(100, int(query.get("per_page", ["30"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, math.ceil(len(repos) / per_page))
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if 1 <= number <= last and number != page:
                kept = {k: v[0] for k, v in query.items() if k != "page"}
                links.append(f'<{self.url}/users/{login}/repos?{urlencode({**kept, "page": number})}>; rel="{rel}"')
        extra = {"Link": ", ".join(links)} if links else {}
        return self._conditional(repos[(page - 1) * per_page : page * per_page], headers, {**limits, **extra})

    def _conditional(self, data: Any, headers: Any, extra: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        body = _json(data).replace(GITHUB_API.encode(), self.url.encode())
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        extra = {**extra, "ETag": etag, "Cache-Control": "public, max-age=60, s-maxage=60", "Vary": "Accept, Accept-Encoding"}
        if headers.get("If-None-Match") == etag:
            self.remaining += 1  # a 304 does not count against the limit
            extra["x-ratelimit-remaining"] = str(self.remaining)
            return 304, extra, b""
        return 200, {"Content-Type": _JSON, **extra}, body

    @staticmethod
    def _reply(status: int, data: Any, extra: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": _JSON, **extra}, _json(data)


class FakeHub(LoopbackServer):
    """The models and datasets in `huggingface.json`, answered as huggingface.co/api does."""

    name = "fake-hub"

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = bundled("huggingface.json") if data is None else data
        super().__init__()

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, str], bytes]:
        request_id = "Root=1-" + hashlib.sha1(f"{len(self.received)}{path}".encode()).hexdigest()[:32]
        common = {"Content-Type": _JSON, "X-Request-Id": request_id, "Access-Control-Allow-Origin": "*"}
        if headers.get("Authorization"):  # the demo has no token: any token would be someone else's
            return 401, {**common, "X-Error-Code": "InvalidCredentials"}, _json({"error": "Invalid credentials in Authorization header"})
        parts = path.strip("/").split("/", 2)
        item = None
        if method == "GET" and len(parts) == 3 and parts[0] == "api" and parts[1] in ("models", "datasets"):
            item = self.data.get(parts[1], {}).get(parts[2])
        if item is None:
            return 404, {**common, "X-Error-Code": "RepoNotFound"}, _json({"error": "Repository not found"})
        expand = query.get("expand[]", [])
        if expand:
            item = {key: value for key, value in item.items() if key in ("_id", "id") or key in expand}
        body = _json(item)
        return 200, {**common, "ETag": 'W/"' + hashlib.sha1(body).hexdigest()[:24] + '"'}, body
