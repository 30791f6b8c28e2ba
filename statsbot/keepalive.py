"""After publishing: is the page still getting news, and will the schedule keep running?

Two checks run once a run has published (`after_publishing`, called by the CLI):

**Staleness** (every run). "Nothing new published for N days" is measured from the items'
``last_success_at`` as this run settled them: for a fresh item it is now, for a stale one
the moment its kept values were last fetched (copied from stats.json as published). The
newest of them is the last time a fresh value reached the data branch. The data branch's
tip date is *not* that moment: a run whose every item failed still commits (each stale
entry's ``error`` and stats.json's ``generated_at`` change), and `outputs.stabilize`
refreshes the timestamps once a day even when no value changed, so the tip is young
however old the numbers are. stats.json's ``generated_at`` has the same flaw. When no item
is fresh and the newest ``last_success_at`` is older than ``[run] stale_after_days``, the
summary says so and names each stale item's cause (its error) and last good date. When
every item was fetched and no value changed, it says that instead: it is not a problem.

**Keepalive** (GitHub Actions only, ``GITHUB_ACTIONS=true``). GitHub disables a public
repository's scheduled workflows after 60 days without repository activity, and a fork's
by default; this run's own pushes to the data branch do not count. The last activity is
taken as the committer date of the newest commit on the default branch
(``GET /repos/{o}/{r}/commits?sha={default}&per_page=1``), as keepalive-workflow does with
``git log -1``: the repository's ``pushed_at`` is not used, because it moves with every
push to any branch, the bot's daily data-branch pushes included, so it would say "active"
while GitHub counts down. (A committer date is never later than the push that brought the
commit, so the estimate errs on the early side.) From ``[run] keepalive_days`` (default
45; 0 turns this off) idle days on, the workflow's schedule is re-enabled through
``PUT /repos/{o}/{r}/actions/workflows/{file}/enable``, which restarts GitHub's 60-day
clock and needs ``permissions: actions: write``; without that permission the run warns
(annotation and job summary) with the days left. The workflow is this run's own, from
``$GITHUB_WORKFLOW_REF``; its ``state`` comes from
``GET /repos/{o}/{r}/actions/workflows/{file}`` (active, disabled_inactivity,
disabled_manually, disabled_fork, deleted). A schedule someone turned off by hand
(``disabled_manually``) is never turned back on. Every failure here is one warning line:
keepalive never changes the run's exit code. The token goes only to ``$GITHUB_API_URL``'s
host (`HostScopedAuth`) and is redacted from every message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from statsbot.deadline import Deadline
from statsbot.errors import StatsbotError, one_line

log = logging.getLogger("statsbot.keepalive")

DEFAULT_API_URL = "https://api.github.com"
DISABLE_AFTER_DAYS = 60  # GitHub's cutoff for a public repository's scheduled workflows
REQUEST_TIMEOUT = 10.0
KEEPALIVE_SECONDS = 30.0  # at most this long for all of keepalive's requests
MIN_KEEPALIVE_SECONDS = 10.0  # even when the run's deadline has passed
STALE_ITEMS_SHOWN = 20
PERMISSION = "permissions: actions: write"
_WORKFLOW_REF = re.compile(r"[^/]+/[^/]+/\.github/workflows/([A-Za-z0-9._-]+\.ya?ml)@.+")
_REPOSITORY = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ------------------------------------------------------------------------- staleness


@dataclass(frozen=True)
class StaleItem:
    source: str
    item: str
    cause: str
    last_good: str | None  # ISO 8601, or None for an item that never had a value


@dataclass(frozen=True)
class Staleness:
    """Nothing new published for `days` days (since `since`), and why: each item's cause."""

    days: int
    since: str  # ISO 8601 UTC
    items: list[StaleItem]

    def headline(self) -> str:
        return f"Nothing new published for {_days(self.days)} (since {_day(self.since)})."

    def entries(self) -> list[str]:
        shown = [
            f"{s.source} {s.item}: {s.cause} (last good {_day(s.last_good) if s.last_good else 'never'})"
            for s in self.items[:STALE_ITEMS_SHOWN]
        ]
        if len(self.items) > STALE_ITEMS_SHOWN:
            shown.append(f"... and {len(self.items) - STALE_ITEMS_SHOWN} more")
        return shown


def staleness(results: list[Any], stale_after_days: float, now: datetime | None = None) -> Staleness | None:
    """The stale block when no item is fresh and the newest last good value is older than
    `stale_after_days`; None otherwise (something new was published, or nothing ever was)."""
    from statsbot.derived import TOTALS

    items = [r for r in results if r.source not in TOTALS]  # a total is stale because an item is
    if not items or any(r.status == "ok" for r in items):
        return None
    now = now or datetime.now(timezone.utc)
    moments = [(when, r.last_success_at) for r in items if (when := _parse(r.last_success_at)) is not None]
    if not moments:
        return None  # never published a value: each item already has its error annotation
    newest, since = max(moments)
    age = (now - newest).total_seconds()
    if age <= stale_after_days * 86400:
        return None
    stale = [StaleItem(r.source, r.item, one_line(r.error or "failed", 300), r.last_success_at) for r in items]
    return Staleness(days=int(age // 86400), since=since, items=stale)


def unchanged_and_fresh(report: Any) -> bool:
    """Every item was fetched fine this run and no value changed."""
    from statsbot.derived import TOTALS

    items = [r for r in report.results if r.source not in TOTALS]
    return bool(items) and all(r.status == "ok" for r in items) and not report.changes


UNCHANGED = "values unchanged; every item fetched fine"


# ------------------------------------------------------------------------- keepalive


@dataclass
class Keepalive:
    """What keepalive found and did: annotations (level, message) and job summary lines (Markdown)."""

    workflow: str | None = None
    state: str | None = None
    idle_days: int | None = None
    enabled: bool = False  # the enable call answered 204
    requests: int = 0
    annotations: list[tuple[str, str]] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def tell(self, level: str, message: str) -> None:
        """An annotation and the same words in the job summary."""
        self.annotations.append((level, message))
        self.summary.append(message)


class _Refused(StatsbotError):
    """The API refused the call (HTTP 403 or 404): the token lacks the permission."""


def keep_alive(env: Mapping[str, str], keepalive_days: int, deadline: Deadline | None = None, now: datetime | None = None) -> Keepalive | None:
    """Check this workflow's schedule and keep it alive (see the module docstring).

    Only in GitHub Actions, with ``$GITHUB_REPOSITORY``, ``$GITHUB_WORKFLOW_REF`` and a token;
    otherwise no request is made and None is returned. Never raises for an API failure.
    """
    from statsbot.actions import in_actions

    if not in_actions(env):
        return None
    if keepalive_days <= 0:
        log.debug("keepalive: off ([run] keepalive_days = 0)")
        return None
    repository = env.get("GITHUB_REPOSITORY") or ""
    ref = _WORKFLOW_REF.fullmatch(env.get("GITHUB_WORKFLOW_REF") or "")
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
    api = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not _REPOSITORY.fullmatch(repository) or ref is None:
        log.debug("keepalive: skipped ($GITHUB_REPOSITORY or $GITHUB_WORKFLOW_REF missing or not understood)")
        return None
    if not token:
        log.debug("keepalive: skipped (no $GITHUB_TOKEN to ask GitHub with)")
        return None
    parts = urlsplit(api)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        log.warning("keepalive: skipped: $GITHUB_API_URL must be an https URL, got %s", one_line(api, 100))
        return None
    seconds = KEEPALIVE_SECONDS if deadline is None else min(KEEPALIVE_SECONDS, max(MIN_KEEPALIVE_SECONDS, deadline.remaining()))
    api_client = _Api(api, token, repository, Deadline(seconds, name=f"keepalive's limit of {seconds:g} s"))
    outcome = Keepalive(workflow=ref.group(1))
    try:
        _check(api_client, outcome, env.get("GITHUB_EVENT_NAME") or "", keepalive_days, now or datetime.now(timezone.utc))
    except StatsbotError as exc:  # SourceError, DeadlineExceeded: the API is down, slow or odd
        log.warning("keepalive: could not check the schedule of %s: %s", outcome.workflow, one_line(str(exc), 300))
    except Exception as exc:  # noqa: BLE001 - keepalive must never fail the run
        log.warning("keepalive: could not check the schedule of %s: %s: %s", outcome.workflow, type(exc).__name__, one_line(str(exc), 200))
    finally:
        outcome.requests = api_client.requests
        api_client.close()
    return outcome


def _check(api: "_Api", out: Keepalive, event: str, keepalive_days: int, now: datetime) -> None:
    workflow = out.workflow or ""
    try:
        found = api.get(f"/actions/workflows/{quote(workflow, safe='')}", f"the workflow {workflow}")
        out.state = found.get("state") if isinstance(found.get("state"), str) else None
    except _Refused as exc:  # no actions: read (a job's permissions leave out what they do not name)
        log.debug("keepalive: the workflow's state is unknown (%s)", exc)
    repo = api.get("", "the repository")
    default = repo.get("default_branch")
    if not isinstance(default, str) or not default:
        raise StatsbotError("the repository's answer has no default_branch")
    commits = api.get_list(f"/commits?sha={quote(default, safe='')}&per_page=1", f"the newest commit on {default}")
    last = _parse(_dig(commits[0], "commit", "committer", "date")) if commits else None
    if last is None:
        raise StatsbotError(f"the newest commit on {default} has no commit.committer.date")
    idle = out.idle_days = max(0, int((now - last).total_seconds() // 86400))
    since = _day(last.isoformat())
    left = DISABLE_AFTER_DAYS - idle
    log.debug("keepalive: %s is %s; no commit on %s for %d days", workflow, out.state or "in an unknown state", default, idle)

    if out.state == "disabled_manually":
        out.tell(
            "warning",
            f"The schedule of {workflow} was turned off by hand (disabled_manually); statsbot leaves it off. "
            "Enable the workflow in the repository's Actions tab to run on schedule again.",
        )
        return
    if repo.get("fork") is True and event == "workflow_dispatch" and out.state != "active":
        how = (
            "open the fork's Actions tab and enable workflows (then this workflow), "
            f"or give the job `{PERMISSION}` so statsbot enables it through GitHub's API"
        )
        if _enable(api, out, workflow):
            log.info("keepalive: enabled the schedule of %s in this fork; scheduled runs start now", workflow)
            out.tell("notice", f"This repository is a fork: GitHub does not run its scheduled workflows until they are enabled; statsbot enabled {workflow}'s schedule.")
        else:
            out.tell("notice", f"This repository is a fork: GitHub does not run scheduled workflows in forks until they are enabled: {how}.")
        return
    if out.state == "disabled_inactivity":
        if _enable(api, out, workflow):
            log.info(
                "keepalive: re-enabled the schedule of %s (GitHub had disabled it: no commit on %s since %s); the 60-day clock starts again",
                workflow, default, since,
            )
        else:
            out.tell(
                "warning",
                f"GitHub disabled the schedule of {workflow} (no commit on {default} since {since}); give the job "
                f"`{PERMISSION}` so statsbot re-enables it, or enable it in the Actions tab.",
            )
        return
    if out.state not in (None, "active") or not (event == "schedule" or out.state == "active"):
        log.debug("keepalive: nothing to do for %s (state %s, event %s)", workflow, out.state, event or "unknown")
        return
    if repo.get("private") is True:
        log.debug("keepalive: a private repository: GitHub's 60-day rule is for public ones; nothing to do")
        return
    if idle < keepalive_days:
        log.debug("keepalive: %d days without a commit on %s; re-enabling from day %d", idle, default, keepalive_days)
        return
    if _enable(api, out, workflow):
        log.info("keepalive: re-enabled the schedule of %s (no commit on %s for %d days); the 60-day clock starts again", workflow, default, idle)
        return
    when = f"in {_days(left)}" if left > 0 else "any day now (60 days have passed)"
    out.tell(
        "warning",
        f"GitHub will disable this schedule {when} (no commit on {default} since {since}); give the job "
        f"`{PERMISSION}` so statsbot keeps it alive, or push a commit.",
    )


def _enable(api: "_Api", out: Keepalive, workflow: str) -> bool:
    """PUT .../enable: True on 204; False when refused (no actions: write). Raises for other failures."""
    try:
        api.put(f"/actions/workflows/{quote(workflow, safe='')}/enable", f"enabling {workflow}")
    except _Refused as exc:
        log.debug("keepalive: enabling %s was refused (%s)", workflow, exc)
        return False
    out.enabled = True
    return True


class _Api:
    """The few GitHub REST calls keepalive makes, for one repository, within one deadline."""

    def __init__(self, base: str, token: str, repository: str, deadline: Deadline) -> None:
        from statsbot.http import HostScopedAuth, make_session

        self.base = base
        self.repo_url = f"{base}/repos/{repository}"
        self.deadline = deadline
        self.requests = 0
        self.session = make_session(retries=1, pool_size=2, max_wait=3.0)
        self.session.auth = HostScopedAuth(f"Bearer {token}", base)
        self.session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})

    def close(self) -> None:
        self.session.close()

    def _send(self, method: str, path: str, what: str) -> tuple[Any, Any]:
        from statsbot.http import request_json

        self.requests += 1
        response, body = request_json(self.session, method, self.repo_url + path, deadline=self.deadline, timeout=REQUEST_TIMEOUT, what=what)
        if response.status_code == 429 or response.headers.get("x-ratelimit-remaining") == "0":
            raise StatsbotError(f"{what}: rate limited (HTTP {response.status_code}{_message(response)})")
        if response.status_code in (403, 404):
            raise _Refused(f"HTTP {response.status_code}{_message(response)}")
        return response, body

    def get(self, path: str, what: str) -> dict[str, Any]:
        response, body = self._send("GET", path, what)
        if response.status_code != 200 or not isinstance(body, dict):
            raise StatsbotError(f"{what}: HTTP {response.status_code}{_message(response)}")
        return body

    def get_list(self, path: str, what: str) -> list[Any]:
        response, body = self._send("GET", path, what)
        if response.status_code != 200 or not isinstance(body, list):
            raise StatsbotError(f"{what}: HTTP {response.status_code}{_message(response)}")
        return body

    def put(self, path: str, what: str) -> None:
        response, _ = self._send("PUT", path, what)
        if response.status_code != 204:
            raise StatsbotError(f"{what}: HTTP {response.status_code}{_message(response)}")


def _message(response: Any) -> str:
    """GitHub's ``message`` from an error answer, as ': message' (or nothing)."""
    try:
        text = response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    return f": {one_line(text, 160)}" if isinstance(text, str) and text else ""


# ------------------------------------------------------------------------- the run


def after_publishing(report: Any, rules: Any, env: Mapping[str, str], deadline: Deadline | None = None) -> Any:
    """The report with the staleness check and (in GitHub Actions, not on a dry run) keepalive's outcome."""
    stale = staleness(report.results, rules.stale_after_days)
    alive = None if report.dry_run else keep_alive(env, rules.keepalive_days, deadline)
    return report.model_copy(update={"staleness": stale, "keepalive": alive})


def summary_lines(report: Any) -> list[str]:
    """For the summary on stdout (`cli.format_summary`)."""
    stale: Staleness | None = getattr(report, "staleness", None)
    if stale is not None:
        return [f"{stale.headline()} Stale items:", *(f"  {line}" for line in stale.entries())]
    return [UNCHANGED] if unchanged_and_fresh(report) else []


def summary_markdown(report: Any) -> list[str]:
    """For the job summary (`actions.summary_markdown`): the stale block, keepalive's lines."""
    lines: list[str] = []
    stale: Staleness | None = getattr(report, "staleness", None)
    if stale is not None:
        lines += [f"**{_markdown(stale.headline())}** Stale items:", ""]
        lines += [f"- {_markdown(line)}" for line in stale.entries()]
        lines.append("")
    elif unchanged_and_fresh(report):
        lines += [_markdown(UNCHANGED[0].upper() + UNCHANGED[1:] + "."), ""]
    alive: Keepalive | None = getattr(report, "keepalive", None)
    for line in alive.summary if alive is not None else ():
        lines += [f"**Schedule:** {_markdown(line)}", ""]
    return lines


def _markdown(text: str) -> str:
    """Text safe in Markdown (as `actions.markdown_cell`, but not cut at 200 characters);
    our own `permissions: actions: write` stays code."""
    import html

    out = html.escape(one_line(text, 1000), quote=False)
    for char in "\\|*_`[]":
        out = out.replace(char, "\\" + char)
    escaped = "\\`" + PERMISSION.replace("_", "\\_") + "\\`"
    return out.replace(escaped, f"`{PERMISSION}`")


def annotations(report: Any) -> list[tuple[str, str]]:
    """(level, message) for `actions.annotation`: the stale block's warning, keepalive's."""
    out: list[tuple[str, str]] = []
    stale: Staleness | None = getattr(report, "staleness", None)
    if stale is not None:
        count = f"{len(stale.items)} stale item" + ("" if len(stale.items) == 1 else "s")
        out.append(("warning", f"{stale.headline()} {count}; the job summary names each cause."))
    alive: Keepalive | None = getattr(report, "keepalive", None)
    out += alive.annotations if alive is not None else []
    return out


# ------------------------------------------------------------------------- helpers


def _parse(moment: Any) -> datetime | None:
    if not isinstance(moment, str) or not moment:
        return None
    try:
        when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _days(count: int) -> str:
    return f"{count} day" + ("" if count == 1 else "s")


def _day(moment: str | None) -> str:
    when = _parse(moment)
    return when.astimezone(timezone.utc).date().isoformat() if when else "unknown"


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
