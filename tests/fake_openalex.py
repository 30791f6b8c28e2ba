"""A fake OpenAlex API for 127.0.0.1, answering in the documented shapes.

``GET /authors/{A-id}``, ``/authors/orcid:{ORCID}`` (and the URL forms of both), and
``GET /works?filter=author.id:{A-id}&per_page=..&cursor=..&select=..`` with cursor paging
as OpenAlex does it: ``meta.next_cursor`` stays non-null until a page comes back empty.
Merged authors answer a 301 to the author they were merged into; unknown ones a 404.
Every request is recorded (tests/fakes.Recorder), the ``api_key`` parameter with it.
A werkzeug request handler: the tests mount it on pytest-httpserver, the benchmark on
werkzeug's threaded server.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs

from fakes import Recorder, json_response
from werkzeug.wrappers import Request, Response

MAX_PER_PAGE = 200


class FakeOpenAlex(Recorder):
    def __init__(self, base_url: str = "", key: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.key = key  # when set, a request with another api_key gets 401 (none at all is served)
        self.authors: dict[str, dict[str, Any]] = {}
        self.merged: dict[str, str] = {}  # old A-id -> the A-id it was merged into
        self.merge_status = 301

    # ----------------------------------------------------------------- data

    def add(
        self,
        openalex_id: str,
        name: str,
        *,
        works: list[int] | None = None,
        orcid: str | None = None,
        h_index: int = 0,
        i10_index: int = 0,
        citations: int | None = None,
        works_count: int | None = None,
    ) -> dict[str, Any]:
        """An author whose works have these citation counts (work ids W{n}0001, W{n}0002, ...)."""
        counts = works or []
        number = openalex_id[1:]
        author = {
            "id": openalex_id,
            "name": name,
            "orcid": orcid,
            "h_index": h_index,
            "i10_index": i10_index,
            "citations": sum(counts) if citations is None else citations,
            "works": [(f"W{number}{i:05d}", f"Paper {i} by {name}", 2010 + i % 15, c) for i, c in enumerate(counts, 1)],
        }
        author["works_count"] = len(counts) if works_count is None else works_count
        self.authors[openalex_id] = author
        return author

    def merge(self, old: str, new: str, status: int = 301) -> None:
        """`old` was merged into `new` (added with `add`): requests for `old` are redirected."""
        self.merged[old] = new
        self.merge_status = status

    def api_keys(self) -> list[str | None]:
        """The api_key each request carried (None: none)."""
        return [parse_qs(r["query"]).get("api_key", [None])[0] for r in self.requests]

    def author_json(self, author: dict[str, Any]) -> dict[str, Any]:
        oid = author["id"]
        orcid_url = f"https://orcid.org/{author['orcid']}" if author["orcid"] else None
        ids = {"openalex": f"https://openalex.org/{oid}"}
        if orcid_url:
            ids["orcid"] = orcid_url
        return {
            "id": f"https://openalex.org/{oid}",
            "orcid": orcid_url,
            "display_name": author["name"],
            "display_name_alternatives": [author["name"], author["name"].split(" ")[-1]],
            "works_count": author["works_count"],
            "cited_by_count": author["citations"],
            "summary_stats": {
                "2yr_mean_citedness": 1.75,
                "h_index": author["h_index"],
                "i10_index": author["i10_index"],
            },
            "ids": ids,
            "affiliations": [
                {
                    "institution": {
                        "id": "https://openalex.org/I27837315",
                        "ror": "https://ror.org/00jmfr291",
                        "display_name": "Universität Zürich — ünïcode",
                        "country_code": "CH",
                        "type": "education",
                    },
                    "years": [2024, 2023],
                }
            ],
            "last_known_institutions": [],
            "topics": [],
            "counts_by_year": [
                {"year": year, "works_count": 1, "cited_by_count": author["citations"] // 10} for year in range(2025, 2015, -1)
            ],
            "works_api_url": f"https://api.openalex.org/works?filter=author.id:{oid}",
            "updated_date": "2026-03-01T05:06:07.123456",
            "created_date": "2023-07-21",
        }

    def work_json(self, work: tuple[str, str, int, int]) -> dict[str, Any]:
        wid, title, year, citations = work
        return {
            "id": f"https://openalex.org/{wid}",
            "doi": f"https://doi.org/10.1234/{wid.lower()}",
            "title": title,
            "display_name": title,
            "publication_year": year,
            "publication_date": f"{year}-05-01",
            "type": "article",
            "cited_by_count": citations,
            "authorships": [],
        }

    # -------------------------------------------------------------- serving

    def __call__(self, request: Request) -> Response:
        fault = self.arrive(request)
        return fault if fault is not None else self.serve(request)

    def serve(self, request: Request) -> Response:
        query = parse_qs(request.query_string.decode())
        given = query.get("api_key", [None])[0]
        if self.key is not None and given is not None and given != self.key:
            return json_response({"error": "Invalid API key", "message": "The api_key you provided is not valid."}, 401)
        if m := re.fullmatch(r"/authors/(.+)", request.path):
            return self._author(m.group(1))
        if request.path == "/works":
            return self._works(query)
        return self._not_found(request.path)

    def _not_found(self, path: str) -> Response:
        return json_response({"error": "404 Not Found", "message": f"The requested URL {path} was not found on the server."}, 404)

    def _author(self, ref: str) -> Response:
        orcid = re.fullmatch(r"(?:orcid:|https://orcid\.org/)(.+)", ref)
        if orcid:
            found = next((a for a in self.authors.values() if a["orcid"] == orcid.group(1).upper()), None)
            return json_response(self.author_json(found)) if found else self._not_found(f"/authors/{ref}")
        key = ref.removeprefix("https://openalex.org/").upper()
        if key in self.merged:
            location = f"{self.base_url}/authors/{self.merged[key]}"
            return json_response({"message": "redirecting"}, self.merge_status, {"Location": location})
        found = self.authors.get(key)
        return json_response(self.author_json(found)) if found else self._not_found(f"/authors/{ref}")

    def _works(self, query: dict[str, list[str]]) -> Response:
        flt = query.get("filter", [""])[0]
        m = re.fullmatch(r"author\.id:(?:https://openalex\.org/)?(A\d+)", flt, re.IGNORECASE)
        if not m:
            message = f"filter {flt!r} is not supported here"
            return json_response({"error": "Invalid query parameters error.", "message": message}, 400)
        per_page = int(query.get("per_page", query.get("per-page", ["25"]))[0])
        if not 1 <= per_page <= MAX_PER_PAGE:
            return json_response({"error": "Invalid query parameters error.", "message": "per_page is 1 to 200"}, 400)
        cursor = query.get("cursor", [None])[0]
        offset = 0 if cursor in (None, "*") else int(base64.urlsafe_b64decode(cursor.encode()).decode())
        author = self.authors.get(m.group(1).upper())
        works = author["works"] if author else []
        chunk = works[offset : offset + per_page]
        select = [f for f in query.get("select", [""])[0].split(",") if f]
        results = [{k: v for k, v in self.work_json(w).items() if not select or k in select} for w in chunk]
        # Cursor paging as OpenAlex does it: a next cursor on every page that had results.
        next_cursor = base64.urlsafe_b64encode(str(offset + per_page).encode()).decode() if chunk else None
        meta = {
            "count": len(works),
            "db_response_time_ms": 12,
            "page": None,
            "per_page": per_page,
            "next_cursor": next_cursor,
            "groups_count": None,
        }
        return json_response({"meta": meta, "results": results, "group_by": []})
