"""`[scholar]`: one Google Scholar profile, and how to tell a Scholar user id when you see one."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from statsbot.settings import (
    Section,
    looks_like_url,
    show,
    unique,
    validate_base_url,
    validate_proxy_url,
)

SCHOLAR_ID_ENV = "GOOGLE_SCHOLAR_ID"
DEFAULT_SCHOLAR_BASE_URL = "https://scholar.google.com"
DEFAULT_SCRAPERAPI_URL = "https://api.scraperapi.com"
DEFAULT_SERPAPI_URL = "https://serpapi.com"

_SCHOLAR_ID = re.compile(r"[A-Za-z0-9_-]{12}")


def validate_scholar_id(value: str) -> str:
    """A Google Scholar user id: the 12 characters after ``user=`` in a profile URL.

    A whole profile URL (``https://scholar.google.com/citations?user=DhtAFkwAAAAJ&hl=en``,
    any ``scholar.google.*`` host, http or https) is accepted too: its ``user=`` value is the id.
    """
    if isinstance(value, str) and looks_like_url(value):
        return _scholar_id_from_url(value)
    if not isinstance(value, str) or not _SCHOLAR_ID.fullmatch(value):
        raise ValueError(
            "must be a Google Scholar user id: 12 characters of letters, digits, '_' or '-' "
            f"(the part after user= in the profile URL), got {show(value)}"
        )
    return value



_SCHOLAR_HOST = re.compile(r"scholar\.google(?:\.[a-z]{2,3}){1,2}")

def _scholar_id_from_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:
        host, parts = "", None
    users = parse_qs(parts.query).get("user", []) if parts is not None else []
    if (
        parts is None
        or not _SCHOLAR_HOST.fullmatch(host)
        or parts.path.rstrip("/") != "/citations"
        or len(users) != 1
        or not _SCHOLAR_ID.fullmatch(users[0])
    ):
        raise ValueError(
            "a profile URL must look like https://scholar.google.com/citations?user=XXXXXXXXXXXX "
            f"(user= followed by the 12-character id), got {show(value)}"
        )
    return users[0]



ScholarId = Annotated[str, AfterValidator(validate_scholar_id)]


def _require_id(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        if not info.data.get("profiles"):
            raise PydanticCustomError("missing", "Field required")
        return None
    return validate_scholar_id(value)


class ScholarConfig(Section):
    """``[scholar]``: the page owner's Google Scholar profile (`id`: gs_data.json and its
    badges), and more profiles with badges only (`profiles`, which `[[people]]` fills)."""

    profiles: list[ScholarId] = []  # before `id`: a config of people alone needs no `id`
    id: str | None = Field(None, validate_default=True)
    base_url: str = DEFAULT_SCHOLAR_BASE_URL
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    page_delay_seconds: float = Field(1.0, ge=0, le=60)
    # The ways to get the profile, tried in order until one succeeds (see docs/github-actions.md, "Scholar from GitHub Actions").
    fetchers: list[Literal["direct", "scraperapi", "serpapi"]] = Field(default_factory=lambda: ["direct"], min_length=1)
    proxy: str | None = None  # for the direct fetcher; one with credentials goes in $STATSBOT_SCHOLAR_PROXY
    scraperapi_url: str = DEFAULT_SCRAPERAPI_URL
    serpapi_url: str = DEFAULT_SERPAPI_URL
    min_interval_hours: float = Field(20.0, ge=0, le=24 * 365)  # paid fetchers wait this long after the last good fetch

    _check_fetchers = field_validator("fetchers")(classmethod(lambda cls, v: unique(v, "fetcher")))
    _check_proxy = field_validator("proxy")(classmethod(lambda cls, v: None if v is None else validate_proxy_url(v)))
    _check_scraperapi = field_validator("scraperapi_url")(classmethod(lambda cls, v: validate_base_url(v)))
    _check_serpapi = field_validator("serpapi_url")(classmethod(lambda cls, v: validate_base_url(v)))
    _check_id = field_validator("id")(classmethod(lambda cls, v, info: _require_id(v, info)))
    _check_profiles = field_validator("profiles")(classmethod(lambda cls, v: unique(v, "profile")))

    @property
    def all_ids(self) -> list[str]:
        """Every profile to fetch: the owner's first, then the others (each once)."""
        ids = [self.id] if self.id else []
        return ids + [p for p in self.profiles if p != self.id]
    _check_base = field_validator("base_url")(classmethod(lambda cls, v: validate_base_url(v)))

