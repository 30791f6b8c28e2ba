"""Starting the site's build after a push (``[publish] rebuild``).

A site generator that reads the data at build time (Jekyll's ``_data``, a Hugo or Astro
site) shows the new numbers only once the site is built again, and a push made with a
workflow's ``GITHUB_TOKEN`` starts no other workflow. So after a push that changed files:

* ``rebuild = "pages"``: ``POST {api}/repos/{o}/{r}/pages/builds`` (a GitHub Pages build
  from the publishing branch; the job needs ``permissions: pages: write``);
* ``rebuild = "workflow:deploy.yml"``: ``POST {api}/repos/{o}/{r}/actions/workflows/deploy.yml/dispatches``
  with ``{"ref": BRANCH}``, BRANCH being the repository's default branch
  (``GET {api}/repos/{o}/{r}``) or the one after ``@`` (``workflow:deploy.yml@main``);
  the workflow needs an ``on: workflow_dispatch`` trigger and the job ``permissions:
  actions: write``.

The API is ``[github] api_url`` when that section sets it, else ``$GITHUB_API_URL``, else
https://api.github.com; the token (``$GITHUB_TOKEN`` or ``$GH_TOKEN``) is sent to that
host only. The repository is the remote's when the remote is on the GitHub server, else
``$GITHUB_REPOSITORY``.

A rebuild that fails is an error (the page would not show the new numbers): a log line,
an annotation, a summary line, and exit code 1 like a publishing failure. The push itself
stays done. Bounded: `REQUEST_TIMEOUT` a request, `RETRIES` retries, `BUDGET_SECONDS` in all
(at least `MIN_SECONDS`, even past the run's deadline, as a push gets its minimum).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from statsbot.deadline import Deadline, call_with_deadline
from statsbot.errors import StatsbotError, one_line

log = logging.getLogger("statsbot.rebuild")

REQUEST_TIMEOUT = 20.0
RETRIES = 2
BUDGET_SECONDS = 60.0
MIN_SECONDS = 10.0
DEFAULT_API_URL = "https://api.github.com"
NOT_ACCESSIBLE = "Resource not accessible"  # GitHub's message for a token without the permission
PERMISSION = {"pages": "pages: write", "workflow": "actions: write"}


@dataclass(frozen=True)
class RebuildResult:
    setting: str  # the [publish] rebuild value
    what: str  # "a GitHub Pages build of o/r", "workflow deploy.yml on main in o/r"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.error:
            return f"rebuild failed ([publish] rebuild = {self.setting!r}): {self.error}"
        return f"rebuild: started {self.what}"


class RebuildError(StatsbotError):
    """The site's build could not be started."""


def rebuild_after_push(publisher: Any, published: Any, env: Mapping[str, str], deadline: Deadline) -> RebuildResult | None:
    """Start the build ``[publish] rebuild`` names after a push that changed files; None when
    there is nothing to do (no rebuild configured, nothing pushed)."""
    setting = publisher.settings.rebuild
    if not setting or published.status != "pushed" or not getattr(published, "paths", ()):
        return None
    kind, _, target = setting.partition(":")
    workflow, _, ref = target.partition("@")
    what = "a GitHub Pages build" if kind == "pages" else f"workflow {workflow}"
    seconds = min(BUDGET_SECONDS, max(MIN_SECONDS, deadline.remaining()))
    limit = Deadline(seconds, name=f"the rebuild's {seconds:.3g} s")
    try:
        what = call_with_deadline(
            lambda: _start(kind, workflow, ref or None, publisher, env, limit), seconds + 1.0, "starting the rebuild", limit.name
        )
    except StatsbotError as exc:
        result = RebuildResult(setting, what, one_line(str(exc), 600))
        log.error("%s", result.describe())
        return result
    except Exception as exc:  # noqa: BLE001 - reported as the rebuild's failure, with the push done
        log.debug("rebuild failed", exc_info=True)
        result = RebuildResult(setting, what, f"unexpected error: {type(exc).__name__}: {one_line(str(exc), 200)}")
        log.error("%s", result.describe())
        return result
    result = RebuildResult(setting, what)
    log.info("%s", result.describe())
    return result


def api_base(publisher: Any, env: Mapping[str, str]) -> str:
    """``[github] api_url`` (handed to the publisher), else ``$GITHUB_API_URL``, else api.github.com."""
    from statsbot.settings import validate_base_url

    configured = getattr(publisher, "api_url", None)
    if configured and configured.rstrip("/") != DEFAULT_API_URL:
        return configured.rstrip("/")
    value = (env.get("GITHUB_API_URL") or "").strip()
    if not value:
        return (configured or DEFAULT_API_URL).rstrip("/")
    try:
        return validate_base_url(value)
    except ValueError as exc:
        raise RebuildError(f"$GITHUB_API_URL {exc}") from None


def repository(publisher: Any, env: Mapping[str, str], api: str) -> str:
    """The remote's ``owner/name`` when it is on the GitHub server, else ``$GITHUB_REPOSITORY``."""
    from statsbot.cdn import configured_remote_url, remote_repository
    from statsbot.publish import github_server_origins
    from statsbot.sources.github import validate_github_repo

    hosts = {host for _, host, _ in github_server_origins(env, api)}
    _, found = remote_repository(configured_remote_url(publisher), hosts)
    if found:
        return found
    value = (env.get("GITHUB_REPOSITORY") or "").strip()
    if not value:
        raise RebuildError(
            f"cannot tell which GitHub repository to build: the remote {publisher.remote!r} is not on the GitHub "
            "server and $GITHUB_REPOSITORY is not set"
        )
    try:
        return validate_github_repo(value)
    except ValueError as exc:
        raise RebuildError(f"$GITHUB_REPOSITORY {exc}") from None


def _start(kind: str, workflow: str, ref: str | None, publisher: Any, env: Mapping[str, str], deadline: Deadline) -> str:
    """Send the request(s); what was started, or a `RebuildError` saying why not."""
    from statsbot.http import HostScopedAuth, make_session

    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
    if not token:
        raise RebuildError(
            "no token: set $GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }}, "
            f"with permissions: {PERMISSION[kind]}) so statsbot may start the site's build"
        )
    api = api_base(publisher, env)
    repo = repository(publisher, env, api)
    session = make_session(retries=RETRIES, pool_size=2, max_wait=5.0)
    session.auth = HostScopedAuth(f"Bearer {token}", api)
    session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
    owner, name = repo.split("/")
    base = f"{api}/repos/{quote(owner)}/{quote(name)}"
    if kind == "pages":
        _call(session, "POST", f"{base}/pages/builds", deadline, kind, repo, "request a GitHub Pages build")
        return f"a GitHub Pages build of {repo}"
    if ref is None:
        _, body = _call(session, "GET", base, deadline, kind, repo, "read the repository's default branch")
        ref = body.get("default_branch") if isinstance(body, dict) else None
        if not isinstance(ref, str) or not ref:
            raise RebuildError(
                f"GitHub's answer for {repo} has no default_branch: name the branch, e.g. \"workflow:{workflow}@main\""
            )
    _call(
        session, "POST", f"{base}/actions/workflows/{quote(workflow)}/dispatches", deadline, kind, repo,
        f"start workflow {workflow}", json={"ref": ref}, workflow=workflow, ref=ref,
    )
    return f"workflow {workflow} on {ref} in {repo}"


def _call(
    session: Any, method: str, url: str, deadline: Deadline, kind: str, repo: str, action: str,
    *, workflow: str = "", ref: str = "", **kwargs: Any,
) -> tuple[int, Any]:
    from statsbot.http import parse_json, request_json

    what = f"GitHub ({action})"
    try:
        response, body = request_json(session, method, url, deadline=deadline, timeout=REQUEST_TIMEOUT, what=what, **kwargs)
    except StatsbotError as exc:
        raise RebuildError(f"could not {action} for {repo}: {exc}") from None
    status = response.status_code
    if 200 <= status < 300:
        if body is None and response.content and method == "GET":
            body = parse_json(response, what)
        return status, body
    if method == "GET":  # reading the repository needs no more than the token's read access
        said = f"HTTP {status}" + (f" {_message(response)}" if _message(response) else "")
        raise RebuildError(
            f"could not {action} for {repo} ({said}): check $GITHUB_TOKEN and $GITHUB_REPOSITORY, "
            "or name the branch in the setting, e.g. \"workflow:deploy.yml@main\""
        )
    raise RebuildError(_explain(status, _message(response), kind, repo, action, workflow, ref))


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text, 160) if response.content else str(response.reason or "")
    message = body.get("message") if isinstance(body, dict) else None
    return one_line(str(message), 160) if message else ""


def _explain(status: int, message: str, kind: str, repo: str, action: str, workflow: str, ref: str) -> str:
    said = f"HTTP {status}" + (f" {message}" if message else "")
    permission = PERMISSION[kind]
    advice = (
        f"the token needs '{permission}': in the workflow add '{permission}' under the job's 'permissions:' "
        "(next to 'contents: write'); a personal access token needs "
        + ("the Pages" if kind == "pages" else "the Actions")
        + " (write) permission on the repository"
    )
    if status == 401:
        return f"GitHub refused the token ({said}): $GITHUB_TOKEN is not a valid token for this GitHub server"
    if status == 403 or NOT_ACCESSIBLE.lower() in message.lower():
        return f"could not {action} for {repo} ({said}): {advice}"
    if status == 404:
        if kind == "pages":
            return (
                f"could not {action} for {repo} ({said}): GitHub Pages is not enabled for the repository, or {advice}"
            )
        return (
            f"could not {action} for {repo} ({said}): no workflow {workflow} on {ref or 'the default branch'} "
            f"(a file in .github/workflows), or {advice}"
        )
    if status == 422 and kind == "workflow":
        return (
            f"could not {action} for {repo} ({said}): the workflow needs a 'workflow_dispatch:' trigger under 'on:', "
            f"and the branch {ref!r} must exist"
        )
    return f"could not {action} for {repo} ({said})"
