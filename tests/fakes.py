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

from werkzeug.serving import WSGIRequestHandler
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


class KeepRawHeaders(WSGIRequestHandler):
    """werkzeug's request handler, plus every header exactly as sent, in ``environ["test.raw_headers"]``.

    werkzeug leaves header names holding an underscore (ScraperAPI's ``x-sapi-api_key``) out
    of the WSGI environ. Serve `FakeScraperApi` with it: ``make_server(..., request_handler=
    KeepRawHeaders)``, or `keep_raw_headers(server)` for a started pytest-httpserver.
    """

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["test.raw_headers"] = list(self.headers.items())
        return environ


def keep_raw_headers(httpserver: Any) -> None:
    """Make a running pytest-httpserver keep every header as sent (see `KeepRawHeaders`)."""
    httpserver.server.RequestHandlerClass = KeepRawHeaders


def raw_headers(request: Request) -> dict[str, str]:
    """The request's headers as sent (names as given), when served with `KeepRawHeaders`."""
    raw = request.environ.get("test.raw_headers")
    return dict(raw) if raw is not None else dict(request.headers)


class FakeScraperApi(Recorder):
    """ScraperAPI's API endpoint (docs.scraperapi.com, "Using the API Endpoint") for 127.0.0.1.

    ``GET /?url=<url-encoded target>`` with the key as ``api_key=`` or as the header
    ``x-sapi-api_key`` ("Passing API Parameters as Headers") answers the target's HTML.
    The target is never fetched from the network: `scholar` stands in for it, either an
    object with a ``url`` (a `conftest.ScholarSite`: the target's path and query are sent
    there, so its profiles, its `override`s and its request log all work) or a callable
    (target URL -> werkzeug Response). Only Google hosts are served; any other target is
    a 500, as if it could not be reached.

    As ScraperAPI does: the target's 200 and 404 are passed on and cost one credit;
    redirects are followed (up to 10); any other answer from the target is retried "for
    up to 70 s" and then answered with a 500 (not charged); a missing or wrong key is a
    401; no credits left (`credits`, None = unlimited) a 403; more than `concurrency`
    requests at once a 429. The 403/404/410/429/500 texts are the ones the status-code
    docs give; the 401 text is an assumption. Faults queued with `fail` answer instead;
    `failed`, `too_fast`, `no_credits` and `bad_key` build the documented ones.

    Serve it with `KeepRawHeaders` (werkzeug drops the ``x-sapi-api_key`` header otherwise);
    the `scraperapi_api` fixture in conftest.py does.
    """

    BAD_KEY = "Unauthorized request, please make sure your API key is valid."
    NO_CREDITS = "You have used up all your API credits."
    TOO_FAST = "You are sending requests too fast, and exceeding your concurrency limit."
    FAILED = "After retrying for 60 seconds, the API was unable to receive a successful response."
    NOT_FOUND = "Page requested does not exist."

    def __init__(self, scholar: Any, key: str, credits: int | None = None, concurrency: int | None = None) -> None:
        super().__init__()
        self.scholar = scholar
        self.key = key
        self.credits = credits
        self.concurrency = concurrency
        self.in_flight = 0
        self.charged = 0  # requests that cost a credit (the target's 200 and 404)

    # ---------------------------------------------------------- documented faults

    @classmethod
    def failed(cls, request: Request | None = None) -> Response:
        return Response(cls.FAILED, status=500, content_type="text/plain; charset=utf-8")

    @classmethod
    def too_fast(cls, request: Request | None = None) -> Response:
        return Response(cls.TOO_FAST, status=429, content_type="text/plain; charset=utf-8")

    @classmethod
    def no_credits(cls, request: Request | None = None) -> Response:
        return Response(cls.NO_CREDITS, status=403, content_type="text/plain; charset=utf-8")

    @classmethod
    def bad_key(cls, request: Request | None = None) -> Response:
        return Response(cls.BAD_KEY, status=401, content_type="text/plain; charset=utf-8")

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string.decode(),
                    "headers": raw_headers(request),
                }
            )

    # ------------------------------------------------------------------ reading

    def targets(self) -> list[str]:
        """The target URL (`url=`) of every request so far."""
        return [parse_qs(r["query"]).get("url", [""])[0] for r in self.requests]

    def keys(self) -> list[str | None]:
        """The key each request carried (header or query), None when it had none."""
        out = []
        for r in self.requests:
            headers = {k.lower(): v for k, v in r["headers"].items()}
            out.append(headers.get("x-sapi-api_key") or parse_qs(r["query"]).get("api_key", [None])[0])
        return out

    # ------------------------------------------------------------------ serving

    def __call__(self, request: Request) -> Response:
        fault = self.arrive(request)
        if fault is not None:
            return fault
        with self.lock:
            if self.concurrency is not None and self.in_flight >= self.concurrency:
                return self.too_fast()
            self.in_flight += 1
        try:
            return self.serve(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def serve(self, request: Request) -> Response:
        if request.path != "/":
            return json_response({"error": "Not Found"}, 404)
        query = parse_qs(request.query_string.decode())
        sent = {name.lower(): value for name, value in raw_headers(request).items()}
        key = sent.get("x-sapi-api_key") or query.get("api_key", [None])[0]
        if key != self.key:
            return self.bad_key()
        if self.credits is not None and self.credits <= 0:
            return self.no_credits()
        target = query.get("url", [""])[0]
        if not target.startswith(("http://", "https://")):
            return Response("Invalid URL", status=400, content_type="text/plain; charset=utf-8")
        answer = self._fetch(target)
        if answer.status_code not in (200, 404):
            return self.failed()
        with self.lock:
            self.charged += 1
            if self.credits is not None:
                self.credits -= 1
        return Response(answer.get_data(), status=answer.status_code, content_type=answer.content_type)

    def _fetch(self, target: str) -> Response:
        from urllib.parse import urljoin, urlsplit

        import httpx

        url = target
        for _ in range(10):
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if host != "google.com" and not host.endswith(".google.com"):
                return Response("unreachable", status=502)
            if callable(self.scholar) and not hasattr(self.scholar, "url"):
                answer = self.scholar(url)
            else:
                local = f"{self.scholar.url}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
                with httpx.Client(trust_env=False, follow_redirects=False, timeout=10) as client:
                    got = client.get(local)
                answer = Response(got.content, status=got.status_code, headers={
                    k: v for k, v in got.headers.items() if k.lower() in ("content-type", "location")
                })
            if answer.status_code in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
                url = urljoin(url, answer.headers["Location"])
                continue
            return answer
        return Response("too many redirects", status=502)


class FakeSerpApi(Recorder):
    """SerpApi's Google Scholar Author API (serpapi.com/google-scholar-author-api) for 127.0.0.1.

    ``GET /search.json?engine=google_scholar_author&author_id=ID&hl=en&num=N&start=S&api_key=KEY``
    answers the JSON SerpApi documents, built from the same profile dicts the Scholar page
    fake renders (`scholar_fixtures.make_profile`, `statsbot.demo.pages`): ``author``
    (name, affiliations, email, website, interests, thumbnail), ``articles`` (title, link,
    citation_id, authors, publication, cited_by {value, link, serpapi_link, cites_id},
    year), ``cited_by`` {table, graph}, ``search_metadata``, ``search_parameters`` and
    ``serpapi_pagination.next`` while more articles remain. ``author`` and ``cited_by``
    come on the first page only (start=0), so a client must take them from there;
    ``cited_by.graph`` lists only the years with citations (a zero year is left out, as a
    histogram without a bar), ``cited_by.value`` of an uncited article is null. Each string
    holds what Scholar's page shows (``publication`` is the grey venue line, year included).

    As SerpApi does (its status-code docs): a missing or wrong key is a 401, no searches left
    (`searches_left`, None = unlimited) a 429 with "Your account has run out of searches.",
    an unknown author a 200 whose ``search_metadata.status`` is "Error" with an ``error``;
    only successful searches are counted (`charged`). Faults queued with `fail` answer
    instead; `bad_key`, `out_of_searches` and `server_error` build the documented ones.
    """

    BAD_KEY = "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"
    OUT_OF_SEARCHES = "Your account has run out of searches."
    SERVER_ERROR = "Internal Server Error"
    NO_RESULTS = "Google hasn't returned any results for this query."

    def __init__(self, key: str, base_url: str = "https://serpapi.com", searches_left: int | None = None) -> None:
        super().__init__()
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.searches_left = searches_left
        self.charged = 0  # successful searches
        self.profiles: dict[str, dict[str, Any]] = {}

    def add(self, profile: dict[str, Any]) -> dict[str, Any]:
        self.profiles[profile["scholar_id"]] = profile
        return profile

    # ---------------------------------------------------------- documented faults

    @classmethod
    def bad_key(cls, request: Request) -> Response:
        return json_response({"error": cls.BAD_KEY}, 401)

    @classmethod
    def out_of_searches(cls, request: Request) -> Response:
        return json_response({"error": cls.OUT_OF_SEARCHES}, 429)

    @classmethod
    def server_error(cls, request: Request) -> Response:
        return json_response({"error": cls.SERVER_ERROR}, 500)

    # ---------------------------------------------------------- requests

    def author_requests(self) -> list[dict[str, str]]:
        """The Author API requests so far, each as its query parameters (one value each)."""
        return [
            {k: v[0] for k, v in parse_qs(r["query"], keep_blank_values=True).items()}
            for r in self.requests
            if r["path"] == "/search.json"
        ]

    def __call__(self, request: Request) -> Response:
        fault = self.arrive(request)
        return fault if fault is not None else self.serve(request)

    def serve(self, request: Request) -> Response:
        if request.path not in ("/search.json", "/search"):
            return json_response({"error": "Not found"}, 404)
        query = {k: v[0] for k, v in parse_qs(request.query_string.decode(), keep_blank_values=True).items()}
        if query.get("api_key") != self.key:
            return self.bad_key(request)
        if query.get("engine") != "google_scholar_author":
            return json_response({"error": "Unsupported `engine` parameter."}, 400)
        author_id = query.get("author_id", "")
        if not author_id:
            return json_response({"error": "Missing query `author_id` parameter."}, 400)
        if self.searches_left is not None and self.searches_left <= 0:
            return self.out_of_searches(request)
        metadata = {
            "id": hashlib.md5(request.query_string).hexdigest()[:24],
            "status": "Success",
            "json_endpoint": f"{self.base_url}/searches/x/{hashlib.md5(request.query_string).hexdigest()[:24]}.json",
            "created_at": "2026-01-01 00:00:00 UTC",
            "processed_at": "2026-01-01 00:00:00 UTC",
            "google_scholar_author_url": f"https://scholar.google.com/citations?user={author_id}&hl=en",
            "raw_html_file": f"{self.base_url}/searches/x/raw.html",
            "total_time_taken": 0.42,
        }
        profile = self.profiles.get(author_id)
        if profile is None:
            metadata["status"] = "Error"
            return json_response({"search_metadata": metadata, "error": self.NO_RESULTS})
        num = min(100, int(query.get("num", "20") or 20))
        start = int(query.get("start", "0") or 0)
        parameters = {
            "engine": "google_scholar_author", "author_id": author_id, "hl": query.get("hl", "en"), "num": str(num),
        }
        if start:
            parameters["start"] = str(start)
        payload: dict[str, Any] = {"search_metadata": metadata, "search_parameters": parameters}
        if start == 0:
            payload["author"] = self.author_json(profile)
        pubs = profile["publications"]
        payload["articles"] = [self.article_json(author_id, pub) for pub in pubs[start : start + num]]
        if start == 0:
            payload["cited_by"] = self.cited_by_json(profile)
        if start + num < len(pubs):
            following = urlencode({
                "author_id": author_id, "engine": "google_scholar_author", "hl": parameters["hl"], "num": num,
                "start": start + num,
            })
            payload["serpapi_pagination"] = {"next": f"{self.base_url}/search.json?{following}"}
        if self.searches_left is not None:
            self.searches_left -= 1
        self.charged += 1
        return json_response(payload)

    @staticmethod
    def author_json(profile: dict[str, Any]) -> dict[str, Any]:
        author: dict[str, Any] = {"name": profile["name"], "affiliations": profile.get("affiliation", "")}
        if profile.get("email_domain"):
            author["email"] = f"Verified email at {profile['email_domain']}"
        if profile.get("homepage"):
            author["website"] = profile["homepage"]
        author["interests"] = [
            {
                "title": interest,
                "serpapi_link": "https://serpapi.com/search.json?engine=google_scholar_profiles&hl=en&mauthors=label%3A"
                + interest.lower().replace(" ", "_"),
                "link": "https://scholar.google.com/citations?view_op=search_authors&hl=en&mauthors=label:"
                + interest.lower().replace(" ", "_"),
            }
            for interest in profile.get("interests", [])
        ]
        author["thumbnail"] = profile.get("picture") or "https://scholar.google.com/citations/images/avatar_scholar_128.png"
        return author

    @staticmethod
    def article_json(author_id: str, pub: dict[str, Any]) -> dict[str, Any]:
        citation_id = f"{author_id}:{pub['pub_id']}"
        year = pub.get("year")
        citations = pub.get("citations")
        cites = ",".join(pub.get("cites") or [])
        if citations:
            cited_by: dict[str, Any] = {
                "value": citations,
                "link": f"https://scholar.google.com/scholar?oi=bibs&hl=en&cites={cites}",
                "serpapi_link": f"https://serpapi.com/search.json?cites={cites}&engine=google_scholar&hl=en",
                "cites_id": cites,
            }
        else:
            cited_by = {"value": None}
        return {
            "title": pub["title"],
            "link": "https://scholar.google.com/citations?view_op=view_citation&hl=en&user="
            f"{author_id}&citation_for_view={citation_id}",
            "citation_id": citation_id,
            "authors": pub.get("authors", ""),
            "publication": pub.get("venue", "") + (f", {year}" if year else ""),
            "cited_by": cited_by,
            "year": str(year) if year else "",
        }

    @staticmethod
    def cited_by_json(profile: dict[str, Any]) -> dict[str, Any]:
        stats = profile["stats"]
        since = f"since_{profile.get('since_year', 2021)}"
        per_year = profile.get("cites_per_year", {})
        return {
            "table": [
                {"citations": {"all": stats["citations"], since: stats["citations_5y"]}},
                {"h_index": {"all": stats["h_index"], since: stats["h_index_5y"]}},
                {"i10_index": {"all": stats["i10_index"], since: stats["i10_index_5y"]}},
            ],
            "graph": [
                {"year": int(year), "citations": per_year[year]} for year in sorted(per_year, key=int) if per_year[year]
            ],
        }
