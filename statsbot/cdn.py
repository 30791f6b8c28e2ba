"""Purging the pushed files on jsDelivr, so a homepage that reads the data branch through
``cdn.jsdelivr.net/gh/OWNER/REPO@BRANCH/FILE`` shows today's numbers now, not in 12 hours.

After a push that changed files (`publish.PublishResult` with status ``pushed``), the
changed paths are sent to jsDelivr's purge API (``[publish] purge_url``, by default
https://purge.jsdelivr.net), as jsDelivr's own tools and the actions built on it do:

* ``POST {purge_url}/`` with ``{"path": ["/gh/OWNER/REPO@BRANCH/FILE", ...]}``, at most
  `PURGE_BATCH` paths a request (the limit jsDelivr gives for this endpoint), answers
  ``{"id": ..., "status": "pending" | "finished" | "failed", "timestamp": ...}``;
* ``GET {purge_url}/status/{id}`` answers the same with ``"paths": {PATH: {"throttled":
  bool, "providers": {...}}}`` once it is ``finished``: per path, whether jsDelivr
  throttled it (purges are rate-limited; a throttled file refreshes when its cache expires).

Only repositories on github.com are mirrored by jsDelivr: a remote elsewhere (a local
path, GitLab, a GitHub Enterprise server) gets no purge and one info line.

The CDN never fails a run: a timeout, an HTTP error or an answer that is not the JSON
expected is one warning line and a line in the summary, and the exit code is unchanged.
Everything is bounded: `REQUEST_TIMEOUT` a request, `RETRIES` retries (urllib3's), a
fixed number of status polls, `BUDGET_SECONDS` in all, and never past the run's deadline.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from statsbot.deadline import Deadline, call_with_deadline
from statsbot.errors import StatsbotError, one_line

log = logging.getLogger("statsbot.cdn")

PURGE_BATCH = 20  # paths per purge request: jsDelivr's limit for POST {"path": [...]}
MAX_PATHS = 200  # per run; the rest expire with the CDN's cache (12 h for a branch URL)
REQUEST_TIMEOUT = 10.0
RETRIES = 2
BUDGET_SECONDS = 30.0  # the whole purge, status polls included
MIN_SECONDS = 1.0  # less than this left of the run's deadline: no purge
POLL_WAITS = (0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0)  # before each status poll
CACHE_NOTE = "jsDelivr serves them from its cache for up to 12 hours"
SHOWN = 5  # paths named in a summary line


@dataclass
class PurgeReport:
    """What jsDelivr said about each changed path."""

    repository: str
    branch: str
    purged: list[str] = field(default_factory=list)  # jsDelivr purged it
    throttled: list[str] = field(default_factory=list)  # jsDelivr throttled it: not purged
    pending: list[str] = field(default_factory=list)  # asked; no result within the time allowed
    not_purged: list[str] = field(default_factory=list)  # not asked, or the request failed
    over_limit: list[str] = field(default_factory=list)  # not asked: past MAX_PATHS this run
    warning: str | None = None  # why some paths were not purged

    @property
    def requested(self) -> int:
        return len(self.purged) + len(self.throttled) + len(self.pending) + len(self.not_purged) + len(self.over_limit)

    def describe(self) -> str:
        """One line for the summary."""
        parts = [f"CDN: purged {len(self.purged)} of {self.requested} changed paths on jsDelivr"]
        if self.throttled:
            parts.append(f"{len(self.throttled)} throttled ({_names(self.throttled)})")
        if self.pending:
            parts.append(f"{len(self.pending)} not confirmed in time ({_names(self.pending)})")
        if self.not_purged:
            parts.append(f"{len(self.not_purged)} not purged ({_names(self.not_purged)})")
        if self.over_limit:
            parts.append(f"{len(self.over_limit)} left to expire (at most {MAX_PATHS} paths are purged a run)")
        line = "; ".join(parts)
        if self.throttled or self.pending or self.not_purged or self.over_limit:
            line += f" ({CACHE_NOTE})"
        return line + (f"; {self.warning}" if self.warning else "")


def _names(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN])
    return shown + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


# ------------------------------------------------------------------ repository


_SCP = re.compile(r"^(?:[^@/:]+@)?([^/:]+):(?!/)(.+)$")  # git@github.com:owner/repo.git


def remote_repository(url: str, hosts: set[str]) -> tuple[bool, str | None]:
    """Whether a git remote URL is on one of `hosts`, and its ``owner/name`` when it is.

    https://HOST/o/r(.git), ssh://git@HOST/o/r and git@HOST:o/r are understood; a local
    path, file:// or any other host is not on GitHub.
    """
    from statsbot.sources.github import validate_github_repo

    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path
        if parts.scheme.lower() not in ("http", "https", "ssh", "git"):
            return False, None
    else:
        match = _SCP.match(url)
        if match is None:
            return False, None
        host, path = match.group(1).lower(), match.group(2)
    if host not in hosts:
        return False, None
    path = path.strip("/")
    path = path[: -len(".git")] if path.endswith(".git") else path
    try:
        return True, validate_github_repo(path)
    except ValueError:
        return True, None


def configured_remote_url(publisher: Any) -> str:
    """The remote's URL as configured (``remote.NAME.url``, before any ``url.*.insteadOf``
    rewrite: the repository it names is the one the files are published for)."""
    done = publisher.git.run("config", "--get", f"remote.{publisher.remote}.url", check=False)
    return done.stdout.decode(errors="replace").strip() or getattr(publisher, "url", "") or ""


def github_com_repository(publisher: Any, env: Mapping[str, str]) -> str | None:
    """``owner/name`` on github.com that the data branch is pushed to; None when the remote is elsewhere."""
    on_github, repository = remote_repository(configured_remote_url(publisher), {"github.com"})
    if not on_github:
        return None
    if repository is None:  # on github.com, but a path that is not owner/name
        repository = _env_repository(env)
    return repository


def _env_repository(env: Mapping[str, str]) -> str | None:
    from statsbot.sources.github import validate_github_repo

    value = (env.get("GITHUB_REPOSITORY") or "").strip()
    try:
        return validate_github_repo(value) if value else None
    except ValueError:
        log.warning("ignoring $GITHUB_REPOSITORY: %s", one_line(str(value), 80))
        return None


# ----------------------------------------------------------------------- purge


def purge_after_push(publisher: Any, published: Any, env: Mapping[str, str], deadline: Deadline) -> PurgeReport | None:
    """Purge the files `published` changed, when ``[publish] purge_cdn`` is on and the push
    went to github.com; None when nothing was asked of jsDelivr. Never raises."""
    try:
        return _purge_after_push(publisher, published, env, deadline)
    except Exception as exc:  # noqa: BLE001 - the CDN never fails a run
        log.debug("CDN purge failed", exc_info=True)
        log.warning("CDN: purging jsDelivr failed: %s: %s", type(exc).__name__, one_line(str(exc), 200))
        return None


def _purge_after_push(publisher: Any, published: Any, env: Mapping[str, str], deadline: Deadline) -> PurgeReport | None:
    settings = publisher.settings
    paths = list(getattr(published, "paths", ()) or ())
    if not settings.purge_cdn or published.status != "pushed" or not paths:
        return None
    repository = github_com_repository(publisher, env)
    if repository is None:
        log.info(
            "CDN: not purging jsDelivr: the remote %r is not a repository on github.com, which is all jsDelivr mirrors",
            publisher.remote,
        )
        return None
    report = PurgeReport(repository=repository, branch=published.branch)
    ordered = sorted(paths, key=lambda p: (p.count("/"), p))  # top-level files (stats.json) first
    chosen, report.over_limit = ordered[:MAX_PATHS], ordered[MAX_PATHS:]
    seconds = min(BUDGET_SECONDS, deadline.remaining())
    if seconds < MIN_SECONDS:
        report.not_purged = chosen
        report.warning = f"{deadline.name} was reached before the purge"
        _log(report)
        return report
    limit = Deadline(seconds, name=f"the CDN purge's {seconds:.3g} s")
    job = _Purge(settings.purge_url, repository, published.branch, chosen, limit)
    try:
        call_with_deadline(job.run, seconds + 1.0, "purging jsDelivr", job.deadline.name)
    except StatsbotError as exc:
        job.fail(one_line(str(exc), 200))
    except Exception as exc:  # noqa: BLE001 - the CDN never fails a run
        log.debug("CDN purge failed", exc_info=True)
        job.fail(f"{type(exc).__name__}: {one_line(str(exc), 160)}")
    job.settle(report)
    _log(report)
    return report


def _log(report: PurgeReport) -> None:
    for path in report.purged:
        log.debug("CDN: jsDelivr purged %s", path)
    for path in report.throttled:
        log.info("CDN: jsDelivr throttled %s: not purged (%s)", path, CACHE_NOTE)
    for path in report.pending:
        log.info("CDN: jsDelivr had not finished purging %s when statsbot stopped waiting", path)
    if report.over_limit:
        log.info("CDN: %d changed paths left to expire: at most %d are purged a run", len(report.over_limit), MAX_PATHS)
    if report.warning:  # the one warning line; the run goes on
        log.warning("CDN: purging jsDelivr failed for %d of %d paths: %s", len(report.not_purged) + len(report.pending),
                    report.requested, report.warning)
    log.debug("%s", report.describe())  # the summary on stdout has it


class _Purge:
    """The requests of one purge; its state can be read while (or after) a thread runs it."""

    def __init__(self, base: str, repository: str, branch: str, paths: Sequence[str], deadline: Deadline) -> None:
        self.base = base.rstrip("/")
        self.deadline = deadline
        self.cdn_path = {path: f"/gh/{repository}@{branch}/{quote(path, safe='/')}" for path in paths}
        self.lock = threading.Lock()
        self.asked: dict[str, str] = {}  # path -> the purge id it was sent in
        self.results: dict[str, bool] = {}  # path -> throttled
        self.errors: dict[str, str] = {}  # path -> why it was not purged
        self.error: str | None = None

    def run(self) -> None:
        from statsbot.http import make_session

        session = make_session(retries=RETRIES, pool_size=2, max_wait=5.0)
        session.headers["Cache-Control"] = "no-cache"
        paths = list(self.cdn_path)
        waiting: dict[str, list[str]] = {}  # purge id -> its paths
        for start in range(0, len(paths), PURGE_BATCH):
            batch = paths[start : start + PURGE_BATCH]
            body = self._request(session, "POST", f"{self.base}/", json={"path": [self.cdn_path[p] for p in batch]})
            if body is None:
                return  # the service is failing: the rest are not sent either
            purge_id = body.get("id")
            if not isinstance(purge_id, str) or not purge_id:
                self.fail(f"jsDelivr's answer has no purge id (status {one_line(str(body.get('status')), 40)})")
                return
            with self.lock:
                self.asked.update((p, purge_id) for p in batch)
            if not self._settled(body, batch):
                waiting[purge_id] = batch
        for wait in POLL_WAITS:
            if not waiting or self.deadline.remaining() <= wait:
                return
            self.deadline.sleep(wait)
            for purge_id, batch in list(waiting.items()):
                body = self._request(session, "GET", f"{self.base}/status/{quote(purge_id, safe='')}")
                if body is None:
                    return
                if self._settled(body, batch):
                    del waiting[purge_id]

    def _request(self, session: Any, method: str, url: str, **kwargs: Any) -> dict[str, Any] | None:
        """The JSON object jsDelivr answered, or None (after recording why) when it did not."""
        from statsbot.http import parse_json, request_json

        what = "jsDelivr's purge API"
        try:
            response, body = request_json(
                session, method, url, deadline=self.deadline, timeout=REQUEST_TIMEOUT, what=what, **kwargs
            )
            if body is None and 200 <= response.status_code < 300:
                body = parse_json(response, what)
        except StatsbotError as exc:
            self.fail(one_line(str(exc), 200))
            return None
        if not 200 <= response.status_code < 300:
            detail = one_line(response.text, 120) if response.content else response.reason
            self.fail(f"{what} answered HTTP {response.status_code} ({detail})")
            return None
        if not isinstance(body, dict):
            self.fail(f"{what} answered JSON that is not an object")
            return None
        return body

    def _settled(self, body: Mapping[str, Any], batch: Sequence[str]) -> bool:
        """Record a finished (or failed) purge's per-path results; False while it is pending."""
        status = body.get("status")
        if status == "failed":
            with self.lock:
                self.errors.update((p, "jsDelivr reported the purge failed") for p in batch)
            return True
        listed = body.get("paths")
        if status != "finished" or not isinstance(listed, Mapping):  # the per-path results come with /status/{id}
            return False
        with self.lock:
            for path in batch:
                entry = listed.get(self.cdn_path[path])
                if isinstance(entry, Mapping) and isinstance(entry.get("throttled"), bool):
                    self.results[path] = entry["throttled"]
                else:
                    self.errors[path] = "jsDelivr's answer did not list it"
        return True

    def fail(self, reason: str) -> None:
        with self.lock:
            if self.error is None:
                self.error = reason

    def settle(self, report: PurgeReport) -> None:
        with self.lock:
            for path in self.cdn_path:
                if path in self.results:
                    (report.throttled if self.results[path] else report.purged).append(path)
                elif path in self.errors:
                    report.not_purged.append(path)
                elif path in self.asked:
                    report.pending.append(path)
                else:
                    report.not_purged.append(path)
            reasons = ([self.error] if self.error else []) + sorted(set(self.errors.values()))
        if reasons:
            report.warning = "; ".join([r for r in [report.warning, *reasons] if r])

