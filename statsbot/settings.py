"""What every section of statsbot.toml is built from: the strict `Section` base, the shared
validators (URLs, proxies, branches, lists without repeats) and the run-wide sections
(`[run]`, `[publish]`, `[charts]`, `[output]`). Each source's own section lives with the
source (`statsbot.sources`); `statsbot.config` puts them together.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def validate_name(value: str, what: str) -> str:
    """A repository-like name: letters, digits, '.', '_' and '-', safe as a path segment and in a URL."""
    if not isinstance(value, str) or not _REPO_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{what}: letters, digits, '.', '_' and '-' only, and not '.' or '..', got {show(value)}")
    return value


def validate_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://example.org, got {show(value)}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"must be a plain base URL without query, fragment or credentials, got {show(value)}")
    return value.rstrip("/")


def validate_proxy_url(value: str) -> str:
    """A proxy URL without credentials (the file gets committed: those go in $STATSBOT_SCHOLAR_PROXY)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError(f"must be a proxy URL such as http://proxy.example:3128, got {show(value)}")
    if parts.username or parts.password:
        raise ValueError(
            "must not hold credentials (this file gets committed): put the whole URL in $STATSBOT_SCHOLAR_PROXY instead"
        )
    return value



def show(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def unique(values: list[str], what: str) -> list[str]:
    """The list, when no value appears twice (ignoring case)."""
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            raise ValueError(f"lists the {what} {value!r} twice")
        seen.add(value.lower())
    return values


class Section(BaseModel):
    """A table of statsbot.toml: unknown keys are errors, values are not coerced, settings never change."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])(?<!\.lock)")
_REMOTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def validate_branch(value: str) -> str:
    if not isinstance(value, str) or not _BRANCH.fullmatch(value) or "/." in value or value.startswith("."):
        raise ValueError(f"must be a plain git branch name such as google-scholar-stats, got {show(value)}")
    return value


def validate_remote(value: str) -> str:
    if not isinstance(value, str) or not _REMOTE.fullmatch(value):
        raise ValueError(f"must be the name of a git remote such as origin, got {show(value)}")
    return value


def validate_message(value: str) -> str:
    if not value.strip() or "\n" in value or len(value) > 200:
        raise ValueError("must be one non-empty line of at most 200 characters")
    return value


class PublishConfig(Section):
    """``[publish]``: the data branch that homepages read."""

    branch: str = "google-scholar-stats"
    remote: str = "origin"
    repo: str | None = None  # default: the git repository around the current folder
    history: Literal["keep", "squash"] = "keep"
    message: str = "statsbot: update stats"
    # After a push that changed files: purge them on jsDelivr (statsbot.cdn), which caches
    # branch URLs for about 12 hours; never fails the run.
    purge_cdn: bool = True
    purge_url: str = "https://purge.jsdelivr.net"  # jsDelivr's purge API (another URL only for tests)
    # After a push that changed files: start the site's build (statsbot.rebuild). "" (none),
    # "pages" (a GitHub Pages build) or "workflow:<file>[@ref]" (a workflow_dispatch).
    rebuild: str = ""

    _check_branch = field_validator("branch")(classmethod(lambda cls, v: validate_branch(v)))
    _check_remote = field_validator("remote")(classmethod(lambda cls, v: validate_remote(v)))
    _check_message = field_validator("message")(classmethod(lambda cls, v: validate_message(v)))
    _check_purge_url = field_validator("purge_url")(classmethod(lambda cls, v: validate_base_url(v)))
    _check_rebuild = field_validator("rebuild")(classmethod(lambda cls, v: validate_rebuild(v)))


_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9._-]{1,100}\.ya?ml|[0-9]{1,20}")


def validate_rebuild(value: str) -> str:
    """``""``, ``"pages"`` or ``"workflow:<file>[@ref]"`` (a workflow file in .github/workflows, or its id)."""
    if value in ("", "pages"):
        return value
    kind, colon, target = value.partition(":")
    workflow, at, ref = target.partition("@")
    if kind != "workflow" or not colon or not _WORKFLOW_FILE.fullmatch(workflow):
        raise ValueError(
            'must be "" (no rebuild), "pages" or "workflow:<file>" such as "workflow:deploy.yml" '
            f"(optionally @<branch>), got {show(value)}"
        )
    if at:
        try:
            validate_branch(ref)
        except ValueError:
            raise ValueError(f"the branch after '@' must be a plain branch name such as main, got {show(value)}") from None
    return value


class RunConfig(Section):
    """``[run]``: limits and rules for the whole run."""

    deadline_seconds: float = Field(600.0, gt=0, le=6 * 3600)
    max_drop_percent: float = Field(20.0, ge=0, le=100)
    stale_after_days: float = Field(7.0, ge=0, le=3650)
    # In GitHub Actions: re-enable this workflow's schedule once the default branch has had no
    # commit for this many days (GitHub disables it at 60); 0 turns keepalive off (statsbot.keepalive).
    keepalive_days: int = Field(45, ge=0, le=59)
    # badges/citations.json: the count of the first of these with a fresh value (statsbot.headline).
    citations_from: list[str] = Field(default_factory=lambda: ["scholar", "openalex", "semanticscholar"])

    _check_citations_from = field_validator("citations_from")(classmethod(lambda cls, v: validate_citations_from(v)))


def validate_citations_from(values: list[str]) -> list[str]:
    from statsbot.sources import SOURCES  # the registry imports this module: look it up when validating

    counting = [cls.name for cls in SOURCES if cls.counts_citations]
    for value in values:
        if value not in counting:
            raise ValueError(f"{show(value)} is not a source that counts citations (choose from {', '.join(counting)})")
    return unique(values, "source")


class ChartsConfig(Section):
    """``[charts]``: SVG charts on the data branch."""

    enabled: bool = True
    repositories: bool = False  # a stars chart for every configured repository, not only the totals
    # Charts of a lab's members' items ([[people]]): off by default, because every chart gains a
    # point each day and drawing one costs about 0.07 s (500 people: 1,500 charts, most of a publish).
    people: bool = False


class OutputConfig(Section):
    """``[output]`` (or ``[outputs]``): where the files are written, and which extra formats.

    `al_folio` (statsbot.alfolio): ``false``; ``"data-branch"``: al-folio's citations.yml at
    ``al-folio/citations.yml`` on the data branch (a deploy step copies it); ``true``: that, and
    committed as ``_data/citations.yml`` to `al_folio_branch` (default: the remote's default branch).
    """

    dir: str = Field("output", min_length=1)
    al_folio: bool | str = False
    al_folio_branch: str | None = None

    _check_al_folio = field_validator("al_folio", mode="before")(classmethod(lambda cls, v: validate_al_folio(v)))
    _check_al_folio_branch = field_validator("al_folio_branch")(
        classmethod(lambda cls, v: None if v is None else validate_branch(v))
    )


def validate_al_folio(value: Any) -> bool | str:
    if value is True or value is False or value == "data-branch":
        return value
    raise ValueError(f'must be true, false or "data-branch", got {show(value)}')

