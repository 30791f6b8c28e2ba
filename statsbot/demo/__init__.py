"""`statsbot demo`: the whole job, offline. Bundled Scholar pages, GitHub repositories and
Hugging Face models are served from 127.0.0.1 (`statsbot.demo.server`, `statsbot.demo.apis`),
the real pipeline fetches, settles and writes them, and with a `workspace` a real
`publish.Publisher` pushes the data branch to a bare repository made there.

Nothing of the user's environment reaches the run but ``PATH``: no token (``$GITHUB_TOKEN``,
``$HF_TOKEN``, the Scholar services' keys), no ``$HF_ENDPOINT``, no git configuration (git
gets its identity from the environment the demo builds, never from or into a config file).
While it runs, requests to 127.0.0.1 bypass any proxy the environment names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statsbot.demo.apis import FakeGitHub, FakeHub
from statsbot.demo.server import FakeScholar, Received, demo_profile
from statsbot.errors import StatsbotError, one_line

BRANCH = "google-scholar-stats"
GIT_NAME = "statsbot demo"
GIT_EMAIL = "demo@statsbot.invalid"
GIT_TIMEOUT_SECONDS = 30.0
RUN_DEADLINE_SECONDS = 90.0
SHOW_FILES = 8  # files listed by the `git show --stat` of the demo's commit (the total follows)


@dataclass
class DemoResult:
    report: Any  # the run's runner.RunReport
    received: dict[str, list[Received]]  # "Scholar", "GitHub", "Hugging Face" -> the requests each fake answered
    remote: Path | None = None  # the bare repository the data branch was pushed to
    branch: str = BRANCH
    show: str = ""  # `git show --stat` of the commit the run made
    skipped: str | None = None  # why nothing was published
    env: dict[str, str] = field(default_factory=dict)  # everything the run and git were given

    @property
    def served(self) -> dict[str, int]:
        return {name: len(requests) for name, requests in self.received.items()}


def demo_env(workspace: Path | None) -> dict[str, str]:
    """The run's whole environment, built from nothing: PATH (to find git), a git identity,
    and no configuration files (HOME is the workspace; no system or global git config)."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "GIT_AUTHOR_NAME": GIT_NAME,
        "GIT_AUTHOR_EMAIL": GIT_EMAIL,
        "GIT_COMMITTER_NAME": GIT_NAME,
        "GIT_COMMITTER_EMAIL": GIT_EMAIL,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }
    if os.environ.get("SYSTEMROOT"):  # Windows cannot start a process without it
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    if workspace is not None:
        env["HOME"] = str(workspace)
    return env


def run_demo(output_dir: Path, workspace: Path | None = None) -> DemoResult:
    """Serve the bundled Scholar profile, GitHub user and Hugging Face models on 127.0.0.1
    and run the real pipeline against them, writing `output_dir`.

    With a `workspace` (an empty folder), the data branch is published too: to
    ``workspace/remote.git``, a bare repository, from ``workspace/site``, whose origin it is.
    Without git on PATH nothing is published and `DemoResult.skipped` says why.
    """
    from statsbot.config import parse_config
    from statsbot.runner import run

    env = demo_env(workspace)
    profile = demo_profile()
    with _loopback_bypasses_proxies(), FakeScholar([profile]) as scholar, FakeGitHub() as github, FakeHub() as hub:
        document = {
            "scholar": {"id": profile["scholar_id"], "base_url": scholar.url, "page_delay_seconds": 0, "deadline_seconds": 30},
            "github": {"api_url": github.url, "users": sorted(github.data["users"]), "timeout_seconds": 10, "deadline_seconds": 30},
            "huggingface": {"endpoint": hub.url, "models": sorted(hub.data["models"]), "timeout_seconds": 10, "deadline_seconds": 30},
            "run": {"deadline_seconds": RUN_DEADLINE_SECONDS},
            "output": {"dir": str(output_dir)},
        }
        loaded = parse_config(document, path=None, env=env)
        result = DemoResult(report=None, received={}, branch=loaded.config.publish.branch, env=env)
        publisher = None
        if workspace is not None:
            if shutil.which("git", path=env["PATH"]) is None:
                result.skipped = "git is not installed (or not on PATH)"
            else:
                result.remote, site = _repositories(workspace, env)
                publisher = _publisher(loaded, site, env, github.url)
        result.report = run(loaded, output_dir, env=env, publisher=publisher)
        result.received = {"Scholar": list(scholar.received), "GitHub": list(github.received), "Hugging Face": list(hub.received)}
    if result.remote is not None and result.report.published is not None:
        result.show = show_commit(result.remote, result.branch, env)
    return result


def _publisher(loaded, site: Path, env: Mapping[str, str], api_url: str):  # type: ignore[no-untyped-def]
    from statsbot.publish import Publisher

    return Publisher(loaded.config.publish, site, env, push=True, api_url=api_url)


def _repositories(workspace: Path, env: Mapping[str, str]) -> tuple[Path, Path]:
    """A bare repository (the remote) and a work repository whose origin it is."""
    remote, site = workspace / "remote.git", workspace / "site"
    _git(env, "init", "--quiet", "--bare", str(remote))
    _git(env, "init", "--quiet", str(site))
    _git(env, "-C", str(site), "remote", "add", "origin", str(remote))
    return remote, site


def show_commit(remote: Path, branch: str, env: Mapping[str, str], files: int = SHOW_FILES) -> str:
    """`git show --stat` of the branch's tip: the commit, its first `files` files, the totals."""
    return _git(
        env,
        "--git-dir", str(remote), "show", "--no-color", "--stat-width=80", "--stat-graph-width=10",
        f"--stat-count={files}", "--date=iso", "--format=commit %H%nAuthor: %an <%ae>%nDate:   %ad%n%n    %s", branch,
    )


def _git(env: Mapping[str, str], *args: str) -> str:
    from statsbot.deadline import run_bounded

    try:
        done = run_bounded(["git", *args], env=env, timeout=GIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise StatsbotError(f"demo: git {args[0]} did not finish within {GIT_TIMEOUT_SECONDS:g} s") from None
    if done.returncode != 0:
        raise StatsbotError(f"demo: git {' '.join(args[:3])} failed: {one_line(done.stderr.decode(errors='replace'), 300)}")
    return done.stdout.decode("utf-8", errors="replace").rstrip("\n")


_LOOPBACK = ("127.0.0.1", "localhost")


@contextmanager
def _loopback_bypasses_proxies() -> Iterator[None]:
    """Requests to the fakes go straight to them, whatever proxy the environment names
    (requests and httpx read ``NO_PROXY`` from the process's environment), then the
    environment is as it was."""
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    current = saved["no_proxy"] if saved["no_proxy"] is not None else saved["NO_PROXY"]
    value = ",".join([current, *_LOOPBACK] if current else _LOOPBACK)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
