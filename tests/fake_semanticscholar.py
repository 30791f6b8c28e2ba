"""A fake Semantic Scholar Graph API for 127.0.0.1, answering in the documented shapes.

* ``POST /graph/v1/author/batch?fields=...`` with ``{"ids": [...]}`` (at most 1000): a list
  aligned with the ids, each the author's record (``authorId`` always, the requested fields)
  or ``null`` for an unknown id; a merged author's old id answers the new record, whose
  ``authorId`` is the new id.
* ``GET /graph/v1/author/{id}/papers?fields=...&limit=L&offset=N`` (``limit`` default 100,
  at most 1000): ``{"offset": N, "next": N+L, "data": [{"paperId", ...fields}]}``, ``next``
  absent on the last page; an unknown (or merged-away) id is a 404.
* The key (``x-api-key``): a wrong one is a 403; none is the shared pool, served.
* `throttle(times, retry_after)`: the next `times` requests (None: every one) are 429s with
  the API's message, and ``Retry-After`` when given. Other faults: `Recorder.fail`.

A werkzeug request handler: the tests mount it on pytest-httpserver, the benchmark on
werkzeug's threaded server. Every request is recorded (tests/fakes.Recorder), with the ids
of each batch and the ``x-api-key`` each request carried.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fakes import Recorder, json_response
from werkzeug.wrappers import Request, Response

TOO_MANY = (
    "Too Many Requests. Please wait and try again or apply for a key for higher rate limits. "
    "https://www.semanticscholar.org/product/api#api-key-form"
)
_PAPERS = re.compile(r"/graph/v1/author/([^/]+)/papers")


def paper_id(author_id: str, n: int) -> str:
    """A paperId as Semantic Scholar's are: 40 hex digits (a sha1)."""
    return hashlib.sha1(f"{author_id}:{n}".encode()).hexdigest()


class FakeSemanticScholar(Recorder):
    def __init__(self, key: str | None = None) -> None:
        super().__init__()
        self.key = key
        self.authors: dict[str, dict[str, Any]] = {}
        self.merged: dict[str, str] = {}
        self.batches: list[list[Any]] = []  # the ids of every batch request
        self.keys_sent: list[str | None] = []  # the x-api-key of every request
        self.throttled: int | None = 0  # the next N requests get a 429; None: all of them
        self.retry_after: str | None = None

    # ----------------------------------------------------------------- data

    def add_author(
        self, author_id: str, name: str, citations: int, h_index: int, papers: int = 0, paper_count: int | None = None
    ) -> list[dict[str, Any]]:
        """An author with `papers` papers (paper n cites n * 3 % 101 times); `paper_count` overrides the record's count."""
        listing = [
            {"paperId": paper_id(author_id, n), "title": f"Paper {n} of {name}", "year": 2000 + n % 25, "citationCount": n * 3 % 101}
            for n in range(papers)
        ]
        self.authors[author_id] = {
            "authorId": author_id,
            "name": name,
            "citationCount": citations,
            "hIndex": h_index,
            "paperCount": papers if paper_count is None else paper_count,
            "papers": listing,
        }
        return listing

    def merge(self, old: str, new: str) -> None:
        """`old` was merged into `new` (add `new` with `add_author`)."""
        self.merged[old] = new

    def throttle(self, times: int | None, retry_after: str | None = None) -> None:
        self.throttled = times
        self.retry_after = retry_after

    # -------------------------------------------------------------- serving

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.keys_sent.append(request.headers.get("x-api-key"))
        fault = self.arrive(request)
        if fault is not None:
            return fault
        if self._throttle():
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return json_response({"message": TOO_MANY, "code": "429"}, 429, headers)
        sent = request.headers.get("x-api-key")
        if sent is not None and sent != self.key:
            return json_response({"message": "Forbidden"}, 403)
        if request.path == "/graph/v1/author/batch" and request.method == "POST":
            return self.batch(request)
        m = _PAPERS.fullmatch(request.path)
        if m and request.method == "GET":
            return self.papers(request, m.group(1))
        return json_response({"error": "Not found"}, 404)

    def _throttle(self) -> bool:
        with self.lock:
            if self.throttled is None:
                return True
            if self.throttled > 0:
                self.throttled -= 1
                return True
            return False

    def _fields(self, request: Request) -> list[str]:
        return [f for f in request.args.get("fields", "").split(",") if f]

    def batch(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            return json_response({"error": "Unacceptable or missing body: expected {\"ids\": [...]}"}, 400)
        if len(ids) > 1000:
            return json_response({"error": "Too many ids: at most 1000 are allowed"}, 400)
        with self.lock:
            self.batches.append(list(ids))
        fields = self._fields(request) or ["name"]
        answer = []
        for requested in ids:
            author = self.authors.get(self.merged.get(str(requested), str(requested)))
            if author is None:
                answer.append(None)
            else:
                answer.append({"authorId": author["authorId"], **{f: author[f] for f in fields if f in author and f != "papers"}})
        return json_response(answer)

    def papers(self, request: Request, author_id: str) -> Response:
        author = self.authors.get(author_id)
        if author is None:
            return json_response({"error": f"Author with id {author_id} not found"}, 404)
        try:
            limit = int(request.args.get("limit", "100"))
            offset = int(request.args.get("offset", "0"))
        except ValueError:
            return json_response({"error": "limit and offset must be integers"}, 400)
        if not 1 <= limit <= 1000 or offset < 0:
            return json_response({"error": "Limit must be <= 1000"}, 400)
        fields = self._fields(request) or ["title"]
        listing = author["papers"]
        data = [{"paperId": p["paperId"], **{f: p[f] for f in fields if f in p}} for p in listing[offset : offset + limit]]
        page: dict[str, Any] = {"offset": offset, "data": data}
        if offset + limit < len(listing):
            page["next"] = offset + limit
        return json_response(page)

    # ------------------------------------------------------------ counting

    def batch_requests(self) -> int:
        return self.count("POST", "/graph/v1/author/batch")

    def paper_requests(self, author_id: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if r["method"] == "GET" and (m := _PAPERS.fullmatch(r["path"])) and (author_id is None or m.group(1) == author_id)
        )
