"""GitHub stars and forks, fast and within GitHub's rate limits.

* With a token: GraphQL, 50 repositories per query through aliases, so 500
  repositories cost 10 requests.
* Without one: REST ``GET /repos/{owner}/{repo}`` on a bounded pool of threads,
  with conditional requests: each repository's ETag is kept in the cache and sent
  back as ``If-None-Match``; a 304 reuses the cached value.
* ``users``: every public, non-fork repository of a user or organisation, from
  ``GET /users/{login}/repos`` (100 a page, following ``Link: rel="next"``, also
  conditional); the listing already holds the counts.

Retries with backoff come from urllib3's `Retry`. When GitHub says the rate limit
is spent (403/429, ``x-ratelimit-remaining: 0``, or a long ``Retry-After``) no
further request is sent: what was fetched is kept and the reset time reported.
A 301 (a renamed or moved repository) is followed and the new name reported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
)

from statsbot.badges import STALE_COLOR, count_badge
from statsbot.deadline import Deadline
from statsbot.errors import SourceError, one_line
from statsbot.results import ItemResult, iso_utc, utc_now
from statsbot.settings import (
    ChartsConfig,
    Section,
    show,
    unique,
    validate_base_url,
    validate_name,
)
from statsbot.sources.base import FetchContext, Series, Source, SourceOutput, Totals, failure_line

if TYPE_CHECKING:  # requests and statsbot.http are imported where a fetch needs them, not to read the config
    import requests

log = logging.getLogger("statsbot.github")

# ------------------------------------------------------------------------- config

DEFAULT_GITHUB_API_URL = "https://api.github.com"
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")


def validate_github_owner(value: str) -> str:
    """A GitHub user or organisation: letters, digits and single hyphens, not at either end."""
    if not isinstance(value, str) or not _GITHUB_OWNER.fullmatch(value):
        raise ValueError(
            "must be a GitHub user or organisation name: letters, digits and single hyphens "
            f"(not first or last, at most 39), got {show(value)}"
        )
    return value



def validate_github_repo(value: str) -> str:
    """``owner/name``, both parts checked, so the pair can become a path and a URL safely."""
    owner, slash, name = value.partition("/") if isinstance(value, str) else ("", "", "")
    if not slash:
        raise ValueError(f"must be 'owner/name', got {show(value)}")
    validate_github_owner(owner)
    validate_name(name, "the repository name must be")
    return value



GitHubRepo = Annotated[str, AfterValidator(validate_github_repo)]
GitHubOwner = Annotated[str, AfterValidator(validate_github_owner)]


class GitHubConfig(Section):
    """``[github]``: repositories, and every public non-fork repository of some users or organisations.

    The token comes from ``$GITHUB_TOKEN`` (or ``$GH_TOKEN``), never from this file.
    """

    repos: list[GitHubRepo] = []
    users: list[GitHubOwner] = []
    api_url: str = DEFAULT_GITHUB_API_URL
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    max_workers: int = Field(16, ge=1, le=64)

    _check_repos = field_validator("repos")(classmethod(lambda cls, v: unique(v, "repository")))
    _check_users = field_validator("users")(classmethod(lambda cls, v: unique(v, "user")))
    _check_api = field_validator("api_url")(classmethod(lambda cls, v: validate_base_url(v)))




GRAPHQL_BATCH = 50
MAX_LIST_PAGES = 100  # 10,000 repositories per user
_ACCEPT = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class _Repo(BaseModel):
    """The part of a REST repository object statsbot reads."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built at the first fetch, not to read the config

    full_name: str
    stargazers_count: NonNegativeInt
    forks_count: NonNegativeInt
    fork: bool = False
    private: bool = False


class _GraphRepo(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # built at the first fetch, not to read the config

    nameWithOwner: str
    stargazerCount: NonNegativeInt
    forkCount: NonNegativeInt


@dataclass
class GitHubReport:
    """Per repository and per user results, the repositories each user has, the new cache."""

    repos: list[ItemResult] = field(default_factory=list)
    users: list[ItemResult] = field(default_factory=list)
    user_repos: dict[str, list[str]] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)


def graphql_url(api_url: str) -> str:
    """GraphQL beside REST: api.github.com/graphql, or HOST/api/graphql beside HOST/api/v3."""
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


class _GitHub:
    def __init__(self, settings: GitHubConfig, token: str | None, cache: dict[str, Any], deadline: Deadline) -> None:
        self.settings = settings
        self.api = settings.api_url
        self.deadline = deadline
        self.cache_in = cache
        self.cache_out: dict[str, Any] = {}
        from statsbot.http import HostScopedAuth, StopSignal, make_session

        self.stop = StopSignal()
        self.session = make_session(
            retries=settings.retries, pool_size=settings.max_workers, max_wait=min(10.0, deadline.remaining())
        )
        if token:
            self.session.auth = HostScopedAuth(f"Bearer {token}", self.api)
        self.token = bool(token)

    # ------------------------------------------------------------------ requests

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[requests.Response, Any]:
        from statsbot.http import request_json

        self.stop.check()
        response, data = request_json(
            self.session, method, url, deadline=self.deadline, timeout=self.settings.timeout_seconds, what=what, **kwargs
        )
        self._note_limits(response)
        return response, data

    def _note_limits(self, response: requests.Response) -> None:
        from statsbot.http import reset_time

        headers = response.headers
        status = response.status_code
        reset = reset_time(headers)
        when = f"; it resets at {reset}" if reset else ""
        if status in (403, 429) and (headers.get("x-ratelimit-remaining") == "0" or "Retry-After" in headers or status == 429):
            if headers.get("x-ratelimit-remaining") == "0":
                self.stop.set(f"GitHub rate limit reached (HTTP {status}, x-ratelimit-remaining 0){when}")
            elif "Retry-After" in headers:
                self.stop.set(f"GitHub asked to wait {headers['Retry-After']} s (HTTP {status}, Retry-After)")
            else:
                self.stop.set(f"GitHub rate limit reached (HTTP {status}){when}")
            self.stop.check()
        if status == 401:
            self.stop.set("GitHub rejected the token (HTTP 401, bad credentials): check $GITHUB_TOKEN / $GH_TOKEN")
            self.stop.check()
        if status == 200 and headers.get("x-ratelimit-remaining") == "0":
            self.stop.set(f"GitHub rate limit spent (x-ratelimit-remaining 0){when}")

    def _conditional_get(self, url: str, what: str) -> tuple[Any, str | None, requests.Response]:
        """GET with the cached ETag; (data, next link, response). A 304 answers from the cache."""
        cached = self.cache_in.get(url)
        headers = dict(_ACCEPT)
        if isinstance(cached, dict) and cached.get("etag") and "data" in cached:
            headers["If-None-Match"] = cached["etag"]
        response, data = self._send("GET", url, what, headers=headers)
        if response.status_code == 304 and "If-None-Match" in headers:
            assert isinstance(cached, dict)
            self.cache_out[url] = cached
            return cached["data"], cached.get("next"), response
        if response.status_code != 200:
            raise SourceError(self._status_error(response, what))
        return data, response.links.get("next", {}).get("url"), response

    def _status_error(self, response: requests.Response, what: str) -> str:
        status = response.status_code
        if status == 404:
            return f"{what}: not found (HTTP 404): deleted, private or misspelt"
        if status == 403:
            return f"{what}: access forbidden (HTTP 403)"
        if status >= 500:
            return f"{what}: HTTP {status} from GitHub after {self.settings.retries} retries"
        return f"{what}: unexpected HTTP {status}"

    # ---------------------------------------------------------------- repository

    def rest_repo(self, name: str) -> ItemResult:
        url = f"{self.api}/repos/{name}"
        what = f"GitHub repository {name}"
        data, _, response = self._conditional_get(url, what)
        try:
            repo = _Repo.model_validate(data)
        except ValidationError as exc:
            raise SourceError(f"{what}: unexpected answer ({_first_problem(exc)})") from None
        if response.status_code == 200:
            self.cache_out[url] = {
                "etag": response.headers.get("ETag"),
                "data": repo.model_dump(include={"full_name", "stargazers_count", "forks_count"}),
            }
        moved = repo.full_name if repo.full_name.lower() != name.lower() else None
        return self._result(name, repo.stargazers_count, repo.forks_count, moved)

    def graphql_batch(self, names: list[str]) -> dict[str, ItemResult | SourceError]:
        variables: dict[str, str] = {}
        fields = []
        for i, name in enumerate(names):
            owner, repo = name.split("/", 1)
            variables[f"o{i}"], variables[f"n{i}"] = owner, repo
            fields.append(f"r{i}: repository(owner: $o{i}, name: $n{i}) {{ nameWithOwner stargazerCount forkCount }}")
        params = ", ".join(f"$o{i}: String!, $n{i}: String!" for i in range(len(names)))
        query = f"query({params}) {{ {' '.join(fields)} rateLimit {{ remaining resetAt }} }}"
        what = f"GitHub GraphQL query for {len(names)} repositories"
        response, data = self._send("POST", graphql_url(self.api), what, json={"query": query, "variables": variables})
        if response.status_code != 200:
            raise SourceError(self._status_error(response, what))
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            errors = data.get("errors") if isinstance(data, dict) else None
            detail = _graphql_message(errors) or "no data in the answer"
            if _graphql_rate_limited(errors):
                self.stop.set(f"GitHub GraphQL rate limit reached: {detail}")
            raise SourceError(f"{what}: {detail}")
        errors = data.get("errors") or []
        limit = data["data"].get("rateLimit")
        if isinstance(limit, dict) and limit.get("remaining") == 0:
            self.stop.set(f"GitHub GraphQL rate limit spent; it resets at {limit.get('resetAt')}")
        out: dict[str, ItemResult | SourceError] = {}
        for i, name in enumerate(names):
            node = data["data"].get(f"r{i}")
            if node is None:
                messages = [e for e in errors if isinstance(e, dict) and (e.get("path") or [None])[0] == f"r{i}"]
                if messages and messages[0].get("type") == "NOT_FOUND":
                    out[name] = SourceError(f"GitHub repository {name}: not found: deleted, private or misspelt")
                else:
                    out[name] = SourceError(f"GitHub repository {name}: {_graphql_message(messages) or 'no data'}")
                continue
            try:
                repo = _GraphRepo.model_validate(node)
            except ValidationError as exc:
                out[name] = SourceError(f"GitHub repository {name}: unexpected answer ({_first_problem(exc)})")
                continue
            moved = repo.nameWithOwner if repo.nameWithOwner.lower() != name.lower() else None
            out[name] = self._result(name, repo.stargazerCount, repo.forkCount, moved)
        return out

    def _result(self, name: str, stars: int, forks: int, moved: str | None) -> ItemResult:
        extra: dict[str, Any] = {}
        if moved:
            try:
                validate_github_repo(moved)
            except ValueError:  # a name that is not owner/name is not trusted, not even in stats.json
                log.warning("GitHub repository %s: the answer names it %r, which is not an owner/name; ignored", name, moved)
                moved = None
        if moved:
            log.warning("GitHub repository %s has moved to %s: update your config", name, moved)
            extra["moved_to"] = moved
        return ItemResult(
            source="github",
            item=name,
            status="ok",
            fetched_at=iso_utc(utc_now()),
            metrics={"stars": stars, "forks": forks},
            extra=extra,
        )

    # --------------------------------------------------------------------- users

    def list_user(self, login: str) -> list[ItemResult]:
        url: str | None = f"{self.api}/users/{login}/repos?per_page=100&type=owner&sort=full_name"
        what = f"GitHub repositories of {login}"
        results: list[ItemResult] = []
        for _ in range(MAX_LIST_PAGES):
            if url is None:
                break
            data, next_url, response = self._conditional_get(url, what)
            if not isinstance(data, list):
                raise SourceError(f"{what}: unexpected answer (a list of repositories was expected)")
            page = []
            for item in data:
                try:
                    page.append(_Repo.model_validate(item))
                except ValidationError as exc:
                    raise SourceError(f"{what}: unexpected answer ({_first_problem(exc)})") from None
            if response.status_code == 200:
                self.cache_out[url] = {
                    "etag": response.headers.get("ETag"),
                    "data": [r.model_dump() for r in page],
                    "next": next_url,
                }
            for repo in page:
                if repo.fork or repo.private:
                    continue
                owner = repo.full_name.partition("/")[0]
                try:
                    validate_github_repo(repo.full_name)
                except ValueError:
                    log.warning("%s: skipping a repository with an unexpected name %r", what, repo.full_name)
                    continue
                if owner.lower() != login.lower():
                    log.warning("%s: skipping %s, owned by someone else", what, repo.full_name)
                    continue
                results.append(self._result(repo.full_name, repo.stargazers_count, repo.forks_count, None))
            url = next_url if next_url and next_url.startswith(("https://", "http://")) else None
        else:
            if url is not None:
                raise SourceError(f"{what}: more than {MAX_LIST_PAGES} pages")
        return results


def fetch_github(settings: GitHubConfig, token: str | None, cache: dict[str, Any], deadline: Deadline) -> GitHubReport:
    """Every configured repository and user. Never raises for one item: each gets a result."""
    from statsbot.http import run_pool

    client = _GitHub(settings, token, cache, deadline)
    report = GitHubReport()
    try:
        listed = run_pool(client.list_user, settings.users, workers=settings.max_workers, deadline=deadline)
        known: dict[str, ItemResult] = {}
        for login in settings.users:
            outcome = listed[login]
            if isinstance(outcome, BaseException):
                report.users.append(_error("github_users", login, outcome))
                continue
            report.user_repos[login] = [r.item for r in outcome]
            for result in outcome:
                known.setdefault(result.item.lower(), result)
            report.users.append(
                ItemResult(
                    source="github_users",
                    item=login,
                    status="ok",
                    fetched_at=iso_utc(utc_now()),
                    metrics={
                        "repositories": len(outcome),
                        "stars": sum(r.metrics["stars"] for r in outcome),
                        "forks": sum(r.metrics["forks"] for r in outcome),
                    },
                )
            )
        todo = [name for name in settings.repos if name.lower() not in known]
        fetched: dict[str, ItemResult | BaseException] = {}
        if token:
            batches = [todo[i : i + GRAPHQL_BATCH] for i in range(0, len(todo), GRAPHQL_BATCH)]
            outcomes = run_pool(lambda i: client.graphql_batch(batches[i]), range(len(batches)), workers=4, deadline=deadline)
            for i, batch in enumerate(batches):
                outcome = outcomes[i]
                for name in batch:
                    fetched[name] = outcome if isinstance(outcome, BaseException) else outcome[name]
        else:
            fetched.update(
                run_pool(client.rest_repo, todo, workers=settings.max_workers, deadline=deadline, label="GitHub repositories")
            )
        for name in settings.repos:
            if name.lower() in known:
                report.repos.append(known[name.lower()].model_copy(update={"item": name}))
            else:
                outcome = fetched[name]
                report.repos.append(_error("github", name, outcome) if isinstance(outcome, BaseException) else outcome)
        configured = {name.lower() for name in settings.repos}
        for result in known.values():
            if result.item.lower() not in configured:
                report.repos.append(result)
    finally:
        client.session.close()
    report.cache = client.cache_out
    return report


def _error(source: str, item: str, exc: BaseException) -> ItemResult:
    from statsbot.http import RateLimited

    if isinstance(exc, (SourceError, RateLimited)):
        message = str(exc)
    else:  # a bug: say what it was, keep the others going
        log.error("%s %s: unexpected %s", source, item, type(exc).__name__, exc_info=exc)
        message = f"unexpected {type(exc).__name__}: {exc}"
    return ItemResult(source=source, item=item, status="error", error=one_line(message))


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def _graphql_message(errors: Any) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return one_line(str(errors[0].get("message", "")), 200)
    return ""


def _graphql_rate_limited(errors: Any) -> bool:
    return isinstance(errors, list) and any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors)


# ------------------------------------------------------------------------- source

LOGO = "github"
_TOTAL_BADGES = {
    "github_users": lambda login: f"badges/github/{login}/stars-total.json",
    "github_total": lambda item: "badges/github/stars-total.json",
}
_METRIC_BADGES = {"stars": "stars.json", "forks": "forks.json"}


def repo_files(result: ItemResult) -> dict[str, Any]:
    """Stars and forks badges of a repository."""
    base = f"badges/github/{result.item}"
    return {
        f"{base}/{_METRIC_BADGES[metric]}": count_badge(metric, result.metrics[metric], logo=LOGO, short=True).to_json()
        for metric in ("stars", "forks")
    }


def total_files(result: ItemResult, *, grey: bool = False) -> dict[str, Any]:
    """The badge of a total (a user's stars, or every repository's), drawn from its settled sum."""
    color = STALE_COLOR if grey else "blue"
    badge = count_badge("stars", result.metrics["stars"], logo=LOGO, short=True, color=color)
    return {_TOTAL_BADGES[result.source](result.item): badge.to_json()}


class GitHubSource(Source):
    """Repositories and users' repositories; totals per user and overall (see `statsbot.aggregates`)."""

    name = "github"
    display_name = "GitHub"
    config_model = GitHubConfig
    wants = "[github] repos or users"
    secret_keys = {"token": "$GITHUB_TOKEN (or $GH_TOKEN)"}
    person_key, person_type, people_list = "github", list[GitHubOwner], "users"  # a person's users or organisations
    item_keys = ("repos", "users")
    gated = {"github": ("stars",)}
    case_insensitive = frozenset({"github", "github_users"})
    totals = frozenset(_TOTAL_BADGES)
    uses_cache = True
    settings: GitHubConfig

    @classmethod
    def has_items(cls, settings: GitHubConfig) -> bool:
        return bool(settings.repos or settings.users)

    activity = "fetching GitHub repositories"

    @classmethod
    def person_items(cls, ids: list[str]) -> list[tuple[str, str]]:
        return [("github_users", login) for login in ids]

    def describe(self, env: Mapping[str, str]) -> list[str]:
        s = self.settings
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        how = "GraphQL with a token from the environment" if token else "REST without a token (60 requests/hour)"
        return [f"github: {len(s.repos)} repositories, {len(s.users)} users from {s.api_url}, {how}"]

    def fetch(self, context: FetchContext, deadline: Deadline) -> SourceOutput:
        token = context.env.get("GITHUB_TOKEN") or context.env.get("GH_TOKEN") or None
        report = fetch_github(self.settings, token, context.cache, deadline)
        for result in report.repos + report.users:
            if result.status != "ok":
                log.error("%s %s: %s", result.source, result.item, result.error)
        ok = sum(1 for r in report.repos if r.status == "ok")
        logging.getLogger("statsbot").info(
            "github: %d of %d repositories fetched (%s)", ok, len(report.repos), "GraphQL, token" if token else "REST, no token"
        )
        state = {
            "user_repos": report.user_repos,
            "user_errors": {r.item: r.error or "failed" for r in report.users if r.status != "ok"},
        }
        return SourceOutput(results=report.repos, cache=report.cache, state=state)

    def failed(self, message: str) -> SourceOutput:
        logging.getLogger("statsbot").error("github: %s", message)
        results = [ItemResult(source="github", item=r, status="error", error=message) for r in self.settings.repos]
        return SourceOutput(results=results, state={"user_errors": {u: message for u in self.settings.users}})

    def merge(self, outputs: Sequence[SourceOutput], expected: SourceOutput) -> SourceOutput:
        """As any source's, and each user's listing is complete: a user some shard listed has
        that listing (the earlier shard's when two did), however another shard failed; one
        no shard answered fails with `expected`'s message (its last good listing is kept)."""
        merged = super().merge(outputs, expected)
        every = dict(expected.state.get("user_errors", {}))  # every configured user, as the whole config spells them
        spelt = {login.lower(): login for login in every}
        listings: dict[str, list[str]] = {}
        errors: dict[str, str] = {}
        for output in outputs:
            for login, repos in output.state.get("user_repos", {}).items():
                listings.setdefault(spelt.get(login.lower(), login), repos)
            for login, error in output.state.get("user_errors", {}).items():
                errors.setdefault(spelt.get(login.lower(), login), error)
        for login, message in every.items():
            errors.setdefault(login, message)
        merged.state["user_repos"] = listings
        merged.state["user_errors"] = {login: error for login, error in errors.items() if login not in listings}
        return merged

    def derive(self, output: SourceOutput, totals: Totals) -> None:
        from statsbot.aggregates import aggregate_github

        aggregates = aggregate_github(
            self.settings,
            output.results,
            output.state.get("user_repos", {}),
            output.state.get("user_errors", {}),
            totals.previous,
            totals.settle,
            max_drop_percent=totals.rules.max_drop_percent,
            accept_drops=totals.accept_drops,
            now=iso_utc(totals.now.replace(microsecond=0)),
        )
        output.results = aggregates.repos + aggregates.users + [aggregates.total]
        output.state["gone"] = aggregates.gone

    def files(self, result: ItemResult, output: SourceOutput, *, grey: bool = False) -> dict[str, Any] | None:
        if result.source in self.totals:
            return total_files(result, grey=grey) if result.status != "error" else None
        return repo_files(result) if result.status == "ok" else None

    def badges(self, result: ItemResult, previous: Any) -> dict[str, tuple[str, str | None]]:
        if result.source in self.totals:
            return {_TOTAL_BADGES[result.source](result.item): ("stars", LOGO)}
        base = f"badges/github/{result.item}"
        return {f"{base}/stars.json": ("stars", LOGO), f"{base}/forks.json": ("forks", LOGO)}

    def metric_badge(self, result: ItemResult, metric: str) -> str | None:
        name = _METRIC_BADGES.get(metric) if result.source == "github" else None
        return f"badges/github/{result.item}/{name}" if name else None

    def mark(self, stats: dict[str, Any], output: SourceOutput, day: str) -> None:
        """Repositories that left their owner's listing get ``status: gone`` with the day it was
        noticed (their last values stay: nothing published is deleted); `totals.github` repeats
        the overall sums unless the total has no value."""
        entries = stats["sources"].get("github", {})
        for name, reason in output.state.get("gone", {}).items():
            entry = entries.get(name)
            if isinstance(entry, dict) and entry.get("status") != "gone":
                entry.update({"status": "gone", "error": reason, "gone_since": day})
        total = next((r for r in output.results if r.source == "github_total"), None)
        if total is not None and total.status != "error":
            stats["totals"] = {**stats.get("totals", {}), "github": dict(total.metrics)}

    def summary(self, result: ItemResult) -> list[str]:
        """The overall total as a sentence (and, when stale, after the STALE line that says why)."""
        if result.source != "github_total":
            return super().summary(result)
        lines = [] if result.status == "ok" else [failure_line(result)]
        if result.status != "error":
            every = result.metrics
            kept = "" if result.status == "ok" else " (stale: includes last good values)"
            lines.append(f"github total: {every['stars']} stars, {every['forks']} forks in {every['repositories']} repositories{kept}")
        return lines

    def series(self, charts: ChartsConfig) -> list[Series]:
        wanted = [
            Series("github", repo, "stars", f"charts/github/{repo}/stars.svg", f"stars of {repo}")
            for repo in (self.settings.repos if charts.repositories else ())
        ]
        wanted += [
            Series("github_users", login, "stars", f"charts/github/{login}/stars-total.svg", f"stars of {login}")
            for login in self.settings.users
        ]
        wanted.append(Series("github_total", "all", "stars", "charts/github/stars-total.svg", "stars, all repositories"))
        return wanted
