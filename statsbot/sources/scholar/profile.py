"""What a Scholar fetch returns, whichever fetcher got it: the profile, its metrics, its papers.

`build_profile` turns the author dict scholarly's parsers fill (the structure of
AcadHomepage's `gs_data.json`) into a checked `ScholarProfile`; every fetcher ends there,
so the files a profile renders to do not depend on how it was fetched.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, NonNegativeInt

from statsbot.errors import SourceError

log = logging.getLogger("statsbot.scholar")

_PUB_ID = re.compile(r"([A-Za-z0-9_-]{12}):([A-Za-z0-9_-]{1,64})")
_CLUSTER_ID = re.compile(r"[0-9]{1,30}")  # the `cites=` ids of a paper's "Cited by" link
_YEAR = re.compile(r"[12][0-9]{3}")


class ScholarError(SourceError):
    """The profile could not be fetched or did not parse."""


class ScholarBlocked(ScholarError):
    """Google answered with a page meant for people (captcha, DOS, sorry, consent)."""


class ScholarMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    citations: NonNegativeInt
    citations_5y: NonNegativeInt
    h_index: NonNegativeInt
    h_index_5y: NonNegativeInt
    i10_index: NonNegativeInt
    i10_index_5y: NonNegativeInt
    publications: NonNegativeInt


class ScholarPaper(BaseModel):
    model_config = ConfigDict(frozen=True)

    author_pub_id: str
    pub_id: str
    title: str
    citations: NonNegativeInt
    # Scholar's cluster ids of the paper (scholarly's `cites_id`: several when the profile
    # merged versions; none when nobody cites it yet) and its year, for matching the same
    # paper on several profiles (statsbot.group).
    cluster_ids: list[str] = []
    year: int | None = None


class ScholarProfile(BaseModel):
    """What one successful fetch returns."""

    scholar_id: str
    name: str
    metrics: ScholarMetrics
    papers: list[ScholarPaper]
    gs_data: dict[str, Any]
    requests: int
    fetched_at: datetime
    via: str = "direct"  # the fetcher that produced it


def _cluster_ids(value: Any) -> list[str]:
    """scholarly's `cites_id` (a list of digit strings), each once, in order; anything else dropped."""
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and _CLUSTER_ID.fullmatch(v.strip())))


def _year(value: Any) -> int | None:
    """`bib.pub_year` ("2019", or scholarly's "NA"), as a year, or None."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if _YEAR.fullmatch(text) else None


def build_profile(scholar_id: str, author: dict[str, Any], requests_made: int, via: str = "direct") -> ScholarProfile:
    """A checked profile from scholarly's author dict (`publications` as a list)."""
    missing = [key for key in ("citedby", "citedby5y", "hindex", "hindex5y", "i10index", "i10index5y") if key not in author]
    if missing:
        raise ScholarError(f"the profile page did not give {', '.join(missing)}")
    publications = author.get("publications", [])
    metrics = ScholarMetrics(
        citations=author["citedby"],
        citations_5y=author["citedby5y"],
        h_index=author["hindex"],
        h_index_5y=author["hindex5y"],
        i10_index=author["i10index"],
        i10_index_5y=author["i10index5y"],
        publications=len(publications),
    )
    papers = []
    for pub in publications:
        match = _PUB_ID.fullmatch(pub.get("author_pub_id", ""))
        if not match:
            log.warning("skipping a paper badge: unexpected publication id %r", pub.get("author_pub_id"))
            continue
        papers.append(
            ScholarPaper(
                author_pub_id=match.group(0),
                pub_id=match.group(2),
                title=pub.get("bib", {}).get("title", ""),
                citations=pub.get("num_citations", 0),
                cluster_ids=_cluster_ids(pub.get("cites_id")),
                year=_year(pub.get("bib", {}).get("pub_year")),
            )
        )
    gs_data = dict(author)
    gs_data["publications"] = {pub["author_pub_id"]: pub for pub in publications}
    gs_data = json.loads(json.dumps(gs_data))  # plain JSON types: enums to strings, year keys to strings
    return ScholarProfile(
        scholar_id=scholar_id,
        name=author.get("name", ""),
        metrics=metrics,
        papers=papers,
        gs_data=gs_data,
        requests=requests_made,
        via=via,
        fetched_at=datetime.now(timezone.utc).replace(microsecond=0),
    )
