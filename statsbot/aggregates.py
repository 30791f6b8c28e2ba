"""Totals over settled items: each GitHub user's stars, and every configured repository's.

A total obeys the rules a single item does, because it is built only from settled
items (after the drop gate and last-known-good), never from a raw answer:

* each repository counts once: GitHub names are case-insensitive, and a repository
  that moved (301) is the repository it moved to;
* a user's repositories are those of their last good listing: when a listing fails,
  or its total fell by more than ``max_drop_percent`` (the drop gate), the earlier
  listing is kept, so a repository that had disappeared is never counted again;
* a total is ``ok`` (fresh, recorded in the history) only when every input is fresh;
  ``stale`` when some input is not fresh but it has values (the sum of the last good
  values); ``error`` when no input has ever had a value: never a zero for a failure;
* repositories that left a user's (fresh, accepted) listing are marked ``gone`` in
  stats.json, with their last values kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statsbot.gate import too_far
from statsbot.results import ItemResult
from statsbot.snapshot import lookup

if TYPE_CHECKING:
    from statsbot.sources.github import GitHubConfig

log = logging.getLogger("statsbot")

REPO_SOURCE = "github"
USERS_SOURCE = "github_users"
TOTAL_SOURCE = "github_total"
TOTAL_ITEM = "all"
LISTING_KEY = "listing"  # in a github_users entry: the repositories its total counts
GONE_STATUS = "gone"


@dataclass
class GitHubAggregates:
    repos: list[ItemResult]  # the settled repositories, plus those a kept listing carries forward
    users: list[ItemResult]
    total: ItemResult
    gone: dict[str, str] = field(default_factory=dict)  # repository -> why it is marked gone


def identity(result: ItemResult) -> str:
    """One repository, however it is spelt or wherever it moved."""
    return str(result.extra.get("moved_to") or result.item).lower()


def _section(stats: Mapping[str, Any], source: str) -> Mapping[str, Any]:
    sources = stats.get("sources") if isinstance(stats.get("sources"), Mapping) else {}
    value = sources.get(source)
    return value if isinstance(value, Mapping) else {}


def _owner(name: str) -> str:
    return name.partition("/")[0].lower()


def previous_listing(old_user: Mapping[str, Any] | None, old_repos: Mapping[str, Any], login: str) -> list[str] | None:
    """The repositories of the user's last good listing, or None if there never was one.

    stats.json written before listings were recorded has none: the user's repositories
    then are the entries they own that are not marked gone.
    """
    if old_user is None:
        return None
    listing = old_user.get(LISTING_KEY)
    if isinstance(listing, list) and all(isinstance(name, str) for name in listing):
        return list(listing)
    if not isinstance(old_user.get("metrics"), Mapping) or not old_user["metrics"]:
        return None
    return sorted(
        name
        for name, entry in old_repos.items()
        if isinstance(name, str) and _owner(name) == login.lower() and isinstance(entry, Mapping) and entry.get("status") != GONE_STATUS
    )


def _sums(results: Iterable[ItemResult]) -> dict[str, int]:
    counted: dict[str, ItemResult] = {}
    for result in results:
        if "stars" in result.metrics:
            counted.setdefault(identity(result), result)
    return {
        "repositories": len(counted),
        "stars": sum(r.metrics["stars"] for r in counted.values()),
        "forks": sum(r.metrics.get("forks", 0) for r in counted.values()),
    }


def _combine(
    source: str,
    item: str,
    inputs: list[ItemResult],
    problems: list[str],
    old: Mapping[str, Any] | None,
    now: str,
    extra: dict[str, Any],
    *,
    errors_elsewhere: bool = False,
) -> ItemResult:
    """A total over settled inputs.

    ``ok`` when there is no problem and every input is fresh; ``error`` when no input
    has a value and something failed (an input, or `errors_elsewhere`); else ``stale``:
    the sum of the last good values, with the reasons.
    """
    unique: dict[str, ItemResult] = {}
    for result in inputs:
        unique.setdefault(identity(result), result)
    inputs = list(unique.values())
    problems = problems + [f"{r.item} is {r.status}" for r in inputs if r.status != "ok"]
    if not problems:
        return ItemResult(source=source, item=item, status="ok", fetched_at=now, last_success_at=now, metrics=_sums(inputs), extra=extra)
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    has_value = any("stars" in r.metrics for r in inputs)
    if not has_value and (errors_elsewhere or any(r.status == "error" for r in inputs)):
        return ItemResult(source=source, item=item, status="error", error=f"no input has a value: {shown}", extra=extra)
    old_success = (old or {}).get("last_success_at")
    return ItemResult(
        source=source,
        item=item,
        status="stale",
        fetched_at=now,
        last_success_at=old_success if isinstance(old_success, str) else None,
        error=f"not every input is fresh: {shown}",
        metrics=_sums(inputs),
        extra=extra,
    )


def aggregate_github(
    settings: GitHubConfig,
    repos: list[ItemResult],
    listings: Mapping[str, list[str]],
    listing_errors: Mapping[str, str],
    previous: Mapping[str, Any],
    settle_one: Callable[[ItemResult], ItemResult],
    *,
    max_drop_percent: float,
    accept_drops: bool,
    now: str,
) -> GitHubAggregates:
    """Users' totals and the overall total from settled repositories.

    `listings`: each user's fresh listing (names), for users whose listing succeeded;
    `listing_errors`: why the others failed. `settle_one` settles a repository carried
    forward from a kept listing (it becomes stale with its earlier values).
    """
    repos = list(repos)
    by_name = {r.item.lower(): r for r in repos}
    old_users = _section(previous, USERS_SOURCE)
    old_repos = _section(previous, REPO_SOURCE)
    configured = {name.lower() for name in settings.repos}
    users: list[ItemResult] = []
    gone: dict[str, str] = {}
    inputs_of: dict[str, list[ItemResult]] = {}

    def carry(name: str, why: str) -> None:
        if name.lower() not in by_name:
            carried = settle_one(ItemResult(source=REPO_SOURCE, item=name, status="error", error=why))
            repos.append(carried)
            by_name[name.lower()] = carried

    for login in settings.users:
        old_user = lookup(old_users, login)
        old_listing = previous_listing(old_user, old_repos, login)
        listing = listings.get(login)
        problem: str | None = None
        if listing is not None:
            members = list(listing)
            stars = _sums(by_name[n.lower()] for n in members if n.lower() in by_name)["stars"]
            old_stars = ((old_user or {}).get("metrics") or {}).get("stars")
            reason = None if accept_drops or old_listing is None else too_far("stars", old_stars, stars, max_drop_percent, "listing held back")
            if reason is not None:
                log.warning("github user %s: %s", login, reason)
                problem = reason
                members = list(old_listing or [])
                for name in members:
                    carry(name, f"missing from {login}'s listing, which was held back: {reason}")
            else:
                listed = {n.lower() for n in members}
                for name, entry in old_repos.items():
                    if (
                        isinstance(name, str)
                        and isinstance(entry, Mapping)
                        and _owner(name) == login.lower()
                        and name.lower() not in listed
                        and name.lower() not in configured
                    ):
                        gone[name] = (
                            f"no longer among {login}'s public, non-fork repositories (deleted, renamed, "
                            "made private or turned into a fork); last values kept, no longer counted"
                        )
        else:
            problem = listing_errors.get(login) or "the listing failed"
            members = list(old_listing or [])
            for name in members:
                carry(name, problem)
        inputs = [by_name[n.lower()] for n in members if n.lower() in by_name]
        inputs_of[login] = inputs
        extra = {LISTING_KEY: sorted(members, key=str.lower)}
        if problem is not None and old_listing is None:
            users.append(ItemResult(source=USERS_SOURCE, item=login, status="error", error=f"{problem} (no earlier listing to keep)"))
            continue
        problems = [f"{login}'s listing: {problem}"] if problem else []
        users.append(_combine(USERS_SOURCE, login, inputs, problems, old_user, now, extra))

    total_inputs = [by_name[n.lower()] for n in settings.repos if n.lower() in by_name]
    for user in users:
        total_inputs += inputs_of[user.item]
    problems = [f"user {u.item} is {u.status}" for u in users if u.status != "ok"]
    old_total = lookup(_section(previous, TOTAL_SOURCE), TOTAL_ITEM, case_insensitive=False)
    total = _combine(
        TOTAL_SOURCE, TOTAL_ITEM, total_inputs, problems, old_total, now, {},
        errors_elsewhere=any(u.status == "error" for u in users),
    )
    return GitHubAggregates(repos=repos, users=users, total=total, gone=gone)
