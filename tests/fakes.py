"""Fake GitHub and Hugging Face APIs for 127.0.0.1, answering in the real response shapes.

Both are werkzeug request handlers: the tests mount them on pytest-httpserver, the
benchmark on werkzeug's threaded server. They record every request (method, path,
query, headers) so tests can count requests and check where a token went.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

from werkzeug.wrappers import Request, Response

Fault = Callable[[Request], Response]


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.faults: list[tuple[Callable[[Request], bool], list[Fault]]] = []
        self.latency = 0.0

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string.decode(),
                    "headers": dict(request.headers),
                }
            )

    def fail(self, when: Callable[[Request], bool], *responses: Fault) -> None:
        """The next requests matching `when` get these answers, in order (the last one repeats if `repeat`)."""
        with self.lock:
            self.faults.append((when, list(responses)))

    def arrive(self, request: Request) -> Response | None:
        """Record the request, add the latency; a queued fault's answer, if one matches."""
        self.record(request)
        if self.latency:
            time.sleep(self.latency)
        return self._fault(request)

    def _fault(self, request: Request) -> Response | None:
        with self.lock:
            for when, responses in self.faults:
                if responses and when(request):
                    return responses.pop(0)(request)
        return None

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        return sum(
            1 for r in self.requests if (method is None or r["method"] == method) and r["path"].startswith(path_prefix)
        )


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json; charset=utf-8")


class FakeGitHub(Recorder):
    """REST (/repos, /repositories, /users/{login}/repos) and GraphQL, with ETags, Link pagination,
    301s for moved repositories and a primary rate limit."""

    def __init__(self, base_url: str = "", prefix: str = "", token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix  # "/api/v3" for GitHub Enterprise
        self.graphql_path = "/api/graphql" if prefix == "/api/v3" else "/graphql"
        self.token = token
        self.repos: dict[str, dict[str, Any]] = {}
        self.moved: dict[str, str] = {}
        self.users: set[str] = set()
        self.page_size = 100
        self.rate_limit: int | None = None  # requests left; None means no limit
        self.reset_at = int(time.time()) + 1800

    # ----------------------------------------------------------------- data

    def add_repo(self, full_name: str, stars: int, forks: int = 0, *, fork: bool = False, private: bool = False) -> None:
        owner = full_name.split("/")[0]
        self.users.add(owner.lower())
        self.repos[full_name.lower()] = {
            "id": 100000 + len(self.repos),
            "full_name": full_name,
            "stars": stars,
            "forks": forks,
            "fork": fork,
            "private": private,
        }

    def move(self, old: str, new: str) -> None:
        """`old` was renamed or transferred to `new` (which must exist)."""
        self.moved[old.lower()] = new

    def set_stars(self, full_name: str, stars: int) -> None:
        self.repos[full_name.lower()]["stars"] = stars

    def rest_json(self, repo: dict[str, Any]) -> dict[str, Any]:
        owner, name = repo["full_name"].split("/")
        api = self.base_url + self.prefix
        return {
            "id": repo["id"],
            "node_id": f"R_kgDO{repo['id']}",
            "name": name,
            "full_name": repo["full_name"],
            "private": repo["private"],
            "owner": {
                "login": owner,
                "id": 5000 + len(owner),
                "node_id": "U_kgDOAAAA",
                "avatar_url": f"https://avatars.githubusercontent.com/u/{5000 + len(owner)}?v=4",
                "url": f"{api}/users/{owner}",
                "html_url": f"https://github.com/{owner}",
                "type": "User",
                "site_admin": False,
            },
            "html_url": f"https://github.com/{repo['full_name']}",
            "description": "Code for the paper “Sparse attention at scale” — ünïcode included",
            "fork": repo["fork"],
            "url": f"{api}/repos/{repo['full_name']}",
            "created_at": "2021-03-04T10:00:00Z",
            "updated_at": "2026-11-20T08:00:00Z",
            "pushed_at": "2026-11-19T08:00:00Z",
            "homepage": "",
            "size": 2048,
            "stargazers_count": repo["stars"],
            "watchers_count": repo["stars"],
            "language": "Python",
            "has_issues": True,
            "forks_count": repo["forks"],
            "archived": False,
            "disabled": False,
            "open_issues_count": 3,
            "license": {"key": "mit", "name": "MIT License", "spdx_id": "MIT"},
            "topics": ["machine-learning"],
            "visibility": "private" if repo["private"] else "public",
            "forks": repo["forks"],
            "open_issues": 3,
            "watchers": repo["stars"],
            "default_branch": "main",
            "network_count": repo["forks"],
            "subscribers_count": 7,
        }

    def etag(self, payload: Any) -> str:
        return 'W/"' + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32] + '"'

    # -------------------------------------------------------------- serving

    def __call__(self, request: Request) -> Response:
        fault = self.arrive(request)
        return fault if fault is not None else self.serve(request)

    def serve(self, request: Request) -> Response:
        authorized = request.headers.get("Authorization") == f"Bearer {self.token}" if self.token else False
        if "Authorization" in request.headers and not authorized:
            return json_response({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401)
        if self.rate_limit is not None and self.rate_limit <= 0:
            return json_response(
                {"message": "API rate limit exceeded for 127.0.0.1.", "documentation_url": "https://docs.github.com/rest"},
                403,
                self._limit_headers(),
            )
        response = self._route(request, authorized)
        if self.rate_limit is not None and not (response.status_code == 304 and authorized):
            self.rate_limit -= 1
        response.headers.update(self._limit_headers())
        return response

    def _limit_headers(self) -> dict[str, str]:
        remaining = 5000 if self.rate_limit is None else max(0, self.rate_limit)
        return {
            "x-ratelimit-limit": "60" if self.rate_limit is not None else "5000",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "core",
        }

    def _route(self, request: Request, authorized: bool) -> Response:
        path = request.path
        if request.method == "POST" and path == self.graphql_path:
            return self._graphql(request, authorized)
        if not path.startswith(self.prefix + "/"):
            return json_response({"message": "Not Found"}, 404)
        path = path[len(self.prefix) :]
        if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)", path):
            name = f"{m.group(1)}/{m.group(2)}".lower()
            if name in self.moved:
                target = self.repos[self.moved[name].lower()]
                location = f"{self.base_url}{self.prefix}/repositories/{target['id']}"
                return json_response(
                    {"message": "Moved Permanently", "url": location, "documentation_url": "https://docs.github.com/rest"},
                    301,
                    {"Location": location},
                )
            repo = self.repos.get(name)
            return self._conditional(request, self.rest_json(repo)) if repo else self._not_found()
        if m := re.fullmatch(r"/repositories/(\d+)", path):
            repo = next((r for r in self.repos.values() if r["id"] == int(m.group(1))), None)
            return self._conditional(request, self.rest_json(repo)) if repo else self._not_found()
        if m := re.fullmatch(r"/users/([^/]+)/repos", path):
            return self._list(request, m.group(1))
        return self._not_found()

    def _not_found(self) -> Response:
        return json_response({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)

    def _conditional(self, request: Request, payload: Any, headers: dict[str, str] | None = None) -> Response:
        etag = self.etag(payload)
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag, **(headers or {})})
        return json_response(payload, 200, {"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60", **(headers or {})})

    def _list(self, request: Request, login: str) -> Response:
        if login.lower() not in self.users:
            return self._not_found()
        query = parse_qs(request.query_string.decode())
        per_page = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        owned = sorted(
            (r for r in self.repos.values() if r["full_name"].split("/")[0].lower() == login.lower() and not r["private"]),
            key=lambda r: r["full_name"].lower(),
        )
        chunk = owned[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(owned) // per_page))
        links = []
        base = f"{self.base_url}{self.prefix}/users/{login}/repos"

        def link(n: int, rel: str) -> str:
            params = {k: v[0] for k, v in query.items()}
            params["page"] = str(n)
            return f'<{base}?{urlencode(params)}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        headers = {"Link": ", ".join(links)} if links else {}
        return self._conditional(request, [self.rest_json(r) for r in chunk], headers)

    def _graphql(self, request: Request, authorized: bool) -> Response:
        if not authorized:
            return json_response({"message": "This endpoint requires you to be authenticated."}, 401)
        body = json.loads(request.get_data(as_text=True))
        variables = body.get("variables", {})
        data: dict[str, Any] = {}
        errors = []
        for alias, owner_var, name_var in re.findall(r"(\w+): repository\(owner: \$(\w+), name: \$(\w+)\)", body["query"]):
            name = f"{variables[owner_var]}/{variables[name_var]}".lower()
            repo = self.repos.get(self.moved.get(name, name).lower())
            if repo is None:
                data[alias] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [{"line": 1, "column": 10}],
                        "message": f"Could not resolve to a Repository with the name '{variables[owner_var]}/{variables[name_var]}'.",
                    }
                )
            else:
                data[alias] = {"nameWithOwner": repo["full_name"], "stargazerCount": repo["stars"], "forkCount": repo["forks"]}
        if "rateLimit" in body["query"]:
            reset = datetime.fromtimestamp(self.reset_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            data["rateLimit"] = {"remaining": 4999 if self.rate_limit is None else self.rate_limit - 1, "resetAt": reset}
        payload: dict[str, Any] = {"data": data}
        if errors:
            payload["errors"] = errors
        return json_response(payload)


class FakeHub(Recorder):
    """The Hugging Face Hub API: /api/models/{id} and /api/datasets/{id} with expand[]."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.items: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, kind: str, repo_id: str, downloads: int, likes: int, all_time: int) -> None:
        self.items[(kind, repo_id)] = {"downloads": downloads, "likes": likes, "downloadsAllTime": all_time}

    def __call__(self, request: Request) -> Response:
        fault = self.arrive(request)
        return fault if fault is not None else self.serve(request)

    def serve(self, request: Request) -> Response:
        m = re.fullmatch(r"/api/(models|datasets)/([^/]+(?:/[^/]+)?)", request.path)  # org/name, or a bare name
        if m and (m.group(1), m.group(2).lower()) in getattr(self, "moved", {}):
            # A renamed or transferred repository: the Hub answers 307 with a relative Location, query kept.
            new = self.moved[(m.group(1), m.group(2).lower())]
            query = request.query_string.decode()
            location = f"/api/{m.group(1)}/{new}" + (f"?{query}" if query else "")
            return json_response({"error": "Repository moved"}, self.move_status, {"Location": location})
        item = self.items.get((m.group(1), m.group(2))) if m else None
        if item is None:
            return json_response({"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"})
        expand = parse_qs(request.query_string.decode()).get("expand[]", [])
        payload: dict[str, Any] = {"_id": hashlib.md5(m.group(2).encode()).hexdigest()[:24], "id": m.group(2)}
        payload.update({key: value for key, value in item.items() if key in expand})
        return json_response(payload)

    def move(self, kind: str, old: str, new: str, status: int = 307) -> None:
        """`old` was renamed or transferred to `new` (add `new` with `add`): requests for `old` are
        redirected there, as the Hub does (307, or `status`)."""
        if not hasattr(self, "moved"):
            self.moved: dict[tuple[str, str], str] = {}
        self.moved[(kind, old.lower())] = new
        self.move_status = status
