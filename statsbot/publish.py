"""Publishing to the data branch, from git objects only.

The commit is built by one ``git fast-import`` on the branch tip (a single pack
with every new blob and tree), so the user's working tree, index, ``HEAD``,
current branch and stash are never touched, whatever is checked out and however
dirty it is. The new tree is the branch tip's tree with this run's files laid over
it: a source that failed leaves its earlier files in place.

* No change, no commit: when every file's blob equals the tip's, nothing is
  written, committed or pushed.
* ``history = "keep"`` adds one commit on the tip and never force-pushes;
  ``"squash"`` replaces the branch with one parentless commit, pushed with
  ``--force-with-lease`` against the tip it was built from.
* A push rejected because the branch moved is retried: fetch, render again over
  the new tip, commit, push; a bounded number of times.
* With ``$GITHUB_TOKEN`` (or ``$GH_TOKEN``) and an https remote on the GitHub server
  (``$GITHUB_SERVER_URL``, default https://github.com, or the host of ``[github]
  api_url``), the token reaches git as an HTTP header through ``GIT_CONFIG_*``
  environment variables, one command at a time (as actions/checkout does, but never
  written to ``.git/config``, never in a URL, and redacted from every message). A
  remote on any other host (GitLab, Gitea, a local server) never gets it.
* git never asks: no terminal, ``GIT_TERMINAL_PROMPT=0``, and ssh in batch mode
  (see `batch_mode_ssh`); every git command has a timeout, after which it is
  killed together with the ssh it started.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from statsbot.deadline import Deadline, run_bounded
from statsbot.errors import ConfigError, StatsbotError, one_line
from statsbot.settings import PublishConfig
from statsbot.snapshot import EmptySnapshot, Snapshot

log = logging.getLogger("statsbot.publish")

MAX_PUSH_TRIES = 5
NETWORK_TIMEOUT = 180.0
MIN_NETWORK_TIMEOUT = 30.0  # even past the run's deadline, a push gets this long
LOCAL_TIMEOUT = 120.0
GC_TIMEOUT = 60.0  # `git gc --auto` after publishing: a repack of the data branch takes seconds
ACTIONS_NAME = "github-actions[bot]"
ACTIONS_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
FALLBACK_NAME = "statsbot"
FALLBACK_EMAIL = "statsbot@localhost"
PERMISSION_ADVICE = (
    "the token may not push to this repository (HTTP 403). In a GitHub Actions workflow add "
    "'permissions: contents: write' (the default GITHUB_TOKEN is read-only); elsewhere use a token "
    "with write access to the repository's contents"
)
_RACE = re.compile(r"\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref|failed to lock")
_AUTH = re.compile(r"\b403\b|\b401\b|Permission to .* denied|Authentication failed|could not read Username|terminal prompts disabled")
_MISSING_BRANCH = re.compile(r"couldn't find remote ref", re.IGNORECASE)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_GITHUB_SERVER = "https://github.com"


class PublishError(StatsbotError):
    """The outputs could not be committed or pushed."""


@dataclass(frozen=True)
class PublishResult:
    status: str  # "pushed", "committed" (local branch only) or "unchanged"
    branch: str
    commit: str | None
    files_changed: int
    tries: int
    remote: str | None
    paths: tuple[str, ...] = ()  # the files this commit changed (added or modified), sorted

    def describe(self) -> str:
        where = f"{self.remote}/{self.branch}" if self.remote else f"local branch {self.branch}"
        if self.status == "unchanged":
            return f"published: nothing changed on {where}; no commit"
        verb = "pushed to" if self.status == "pushed" else "committed to"
        retried = f" after {self.tries} tries" if self.tries > 1 else ""
        return f"published: {self.files_changed} files changed, commit {self.commit[:12]} {verb} {where}{retried}"  # type: ignore[index]


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def blob_sha(data: bytes) -> str:
    """The object id git gives these bytes as a blob."""
    digest = hashlib.sha1(b"blob %d\0" % len(data))
    digest.update(data)  # not `header + data`: that would copy a large file (a month of history) once more
    return digest.hexdigest()


_SSH_PROGRAM = re.compile(r"""\s*("[^"]*"|'[^']*'|\S+)""")


def batch_mode_ssh(env: Mapping[str, str], configured: str | None = None) -> dict[str, str]:
    """``GIT_SSH_COMMAND`` for git's ssh with ``-o BatchMode=yes``: a key that is missing or
    needs a passphrase, or an unknown host key, then fails at once instead of asking.

    git uses ``$GIT_SSH_COMMAND``, else ``core.sshCommand`` (`configured`), else ``$GIT_SSH``,
    else ``ssh``. That command is kept, with ``-o BatchMode=yes`` put right after the program
    (ssh takes the first value given for an option, so a later ``BatchMode=no`` cannot undo
    it). A program that is not OpenSSH's ``ssh`` (plink, a wrapper script) is left as it is:
    its options are its own, and its prompts are still cut off by running without a terminal.
    Returns the variables to add (none when nothing is changed).
    """
    command = env.get("GIT_SSH_COMMAND") or configured
    if not command:
        program = env.get("GIT_SSH") or "ssh"
        return {"GIT_SSH_COMMAND": f"{_shell_quote(program)} -o BatchMode=yes"} if _is_openssh(program) else {}
    match = _SSH_PROGRAM.match(command)
    if match is None or not _is_openssh(match.group(1).strip("'\"")):
        return {}
    return {"GIT_SSH_COMMAND": f"{command[: match.end()]} -o BatchMode=yes{command[match.end():]}"}


def _is_openssh(program: str) -> bool:
    return re.split(r"[\\/]", program)[-1].lower() in ("ssh", "ssh.exe")


def _shell_quote(word: str) -> str:
    import shlex

    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else shlex.quote(word)


class Git:
    """Runs git in one repository with a bounded time, no prompts, and secrets redacted from errors."""

    def __init__(self, repo: Path, env: Mapping[str, str], secrets: Sequence[str] = ()) -> None:
        self.repo = repo
        self.secrets = [s for s in secrets if s]
        base = {k: v for k, v in env.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
        base.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": "C"})
        base.setdefault("GIT_ASKPASS", "")
        self._env = base
        self._config_env: dict[str, str] = {}
        self._ssh_env: dict[str, str] | None = None  # GIT_SSH_COMMAND with BatchMode, worked out once
        self.deadline: Deadline | None = None  # network commands end by then (but get MIN_NETWORK_TIMEOUT)

    def with_config(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Configuration for network commands only, passed the way `git -c` would be but not in argv.

        Entries already given through ``GIT_CONFIG_COUNT`` are kept; ours come after them.
        """
        try:
            start = int(self._env.get("GIT_CONFIG_COUNT", "0"))
        except ValueError:
            start = 0
        self._config_env = {"GIT_CONFIG_COUNT": str(start + len(pairs))}
        for i, (key, value) in enumerate(pairs, start):
            self._config_env[f"GIT_CONFIG_KEY_{i}"] = key
            self._config_env[f"GIT_CONFIG_VALUE_{i}"] = value

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        network: bool = False,
        check: bool = True,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        if network and self._ssh_env is None:
            configured = self.run("config", "--get", "core.sshCommand", check=False).stdout.decode().strip()
            self._ssh_env = batch_mode_ssh(self._env, configured or None)
        network_env = {**self._ssh_env, **self._config_env} if network and self._ssh_env is not None else {}
        command_env = {**self._env, **network_env, **(env or {})}
        timeout = LOCAL_TIMEOUT if timeout is None else timeout
        if network:
            timeout = NETWORK_TIMEOUT
            if self.deadline is not None:
                timeout = min(NETWORK_TIMEOUT, max(MIN_NETWORK_TIMEOUT, self.deadline.remaining()))
        try:
            done = run_bounded(["git", "-C", str(self.repo), *args], input=input, env=command_env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PublishError(f"git {args[0]} did not finish within {timeout:g} s") from None
        except FileNotFoundError:
            raise PublishError("git is not installed (or not on PATH)") from None
        if check and done.returncode != 0:
            raise PublishError(f"git {args[0]} failed: {self.redact(done.stderr.decode(errors='replace'))}")
        return done

    def out(self, *args: str, **kwargs: object) -> str:
        return self.run(*args, **kwargs).stdout.decode().strip()  # type: ignore[arg-type]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = re.sub(r"(https?://)[^/@\s]+@", r"\1***@", text)
        return one_line(text, 400)


class GitSnapshot:
    """The files of one commit on the data branch."""

    def __init__(self, git: Git, commit: str | None) -> None:
        self.git = git
        self.commit = commit
        self._entries: dict[str, str] | None = None
        self._files: dict[str, bytes | None] = {}  # a commit never changes: each file is read once

    def read(self, relpath: str) -> bytes | None:
        if self.commit is None:
            return None
        if relpath not in self._files:
            done = self.git.run("cat-file", "blob", f"{self.commit}:{relpath}", check=False)
            self._files[relpath] = done.stdout if done.returncode == 0 else None
        return self._files[relpath]

    def read_uncached(self, relpath: str) -> bytes | None:
        """A file read without keeping its bytes (the history's months: one at a time), and
        read straight into one buffer (`read` collects a large blob's pieces, then joins them)."""
        if relpath in self._files or self.commit is None:
            return self._files.get(relpath)
        blob = self.entries().get(relpath)
        if blob is None:
            return None
        import threading

        size = int(self.git.out("cat-file", "-s", blob))
        data = bytearray(size)  # filled in place: no pieces to join, no second copy
        argv = ["git", "-C", str(self.git.repo), "cat-file", "blob", blob]
        with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=self.git._env, start_new_session=os.name == "posix", bufsize=0) as process:
            timer = threading.Timer(LOCAL_TIMEOUT, process.kill)  # a local read: bounded all the same
            timer.start()
            try:
                assert process.stdout is not None
                view, got = memoryview(data), 0
                while got < size and (n := process.stdout.readinto(view[got:])):
                    got += n
                view.release()
            finally:
                timer.cancel()
            if process.wait() != 0 or got != size:
                raise PublishError(f"git cat-file could not read {relpath} (within {LOCAL_TIMEOUT:g} s)")
        return data  # type: ignore[return-value]  # a bytearray: read like bytes, never kept

    def list(self, prefix: str) -> list[str]:
        return sorted(path for path in self.entries() if path.startswith(prefix))

    def entries(self) -> dict[str, str]:
        """Path -> blob id of every file in the commit."""
        if self._entries is None:
            self._entries = self._list_tree()
        return self._entries

    def _list_tree(self) -> dict[str, str]:
        if self.commit is None:
            return {}
        listing = self.git.run("ls-tree", "-r", "-z", "--full-tree", self.commit).stdout.decode()
        entries = {}
        for record in filter(None, listing.split("\0")):
            meta, path = record.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob":
                entries[path] = sha
        return entries


@dataclass
class PublishedBranch:
    """The data branch as last fetched or pushed (no network): its commit's files and their bytes."""

    remote_url: str | None
    snapshot: GitSnapshot | None  # None when there is no repository; its commit is None when there is no branch
    pushed: bool = False  # the commit is the remote's branch (refs/remotes/...), not only a local commit

    @property
    def commit(self) -> str | None:
        return self.snapshot.commit if self.snapshot else None

    def paths(self) -> list[str]:
        return list(self.snapshot.entries()) if self.snapshot else []

    def read(self, relpath: str) -> bytes | None:
        return self.snapshot.read(relpath) if self.snapshot else None


def published_branch(settings: PublishConfig, base_dir: Path, cwd: Path) -> PublishedBranch:
    """The remote's URL and the data branch's newest commit as last fetched or pushed (no network)."""
    repo = find_repository(settings, base_dir, cwd)
    if repo is None:
        return PublishedBranch(None, None)
    git = Git(repo, os.environ)
    url = git.run("remote", "get-url", settings.remote, check=False).stdout.decode().strip() or None
    for ref in (f"refs/remotes/{settings.remote}/{settings.branch}", f"refs/heads/{settings.branch}"):
        done = git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if done.returncode == 0:
            return PublishedBranch(url, GitSnapshot(git, done.stdout.decode().strip()), ref.startswith("refs/remotes/"))
    return PublishedBranch(url, GitSnapshot(git, None))


def _origin(url: str) -> tuple[str, str, int | None]:
    """scheme, host (lower case) and port of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def github_server_origins(env: Mapping[str, str], api_url: str | None = None) -> set[tuple[str, str, int | None]]:
    """The origins a GitHub token belongs to: ``$GITHUB_SERVER_URL`` (default https://github.com)
    and the web host of `api_url` (``https://HOST/api/v3`` is HOST; api.github.com is github.com)."""
    origins = {_origin(env.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB_SERVER)}
    if api_url:
        scheme, host, port = _origin(api_url)
        if host == "api.github.com":
            host = "github.com"
        origins.add((scheme, host, port))
    return {origin for origin in origins if origin[0] in ("http", "https") and origin[1]}


def find_repository(settings: PublishConfig, base_dir: Path, cwd: Path) -> Path | None:
    """`[publish] repo` (relative to the config file), else the repository around `cwd`; None if there is none."""
    start = (base_dir / settings.repo) if settings.repo else cwd
    done = subprocess.run(
        ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "LC_ALL": "C"},
    ) if start.is_dir() else None
    if done is None or done.returncode != 0:
        if settings.repo:
            raise ConfigError(f"publish.repo: {start} is not a git repository")
        return None
    return Path(done.stdout.strip())


class Publisher:
    """Reads the data branch before a run and commits (and pushes) the outputs after it."""

    def __init__(
        self,
        settings: PublishConfig,
        repo: Path,
        env: Mapping[str, str],
        *,
        push: bool = True,
        api_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.api_url = api_url  # [github] api_url: its host is a GitHub server too (Enterprise)
        self._token_withheld_from = ""  # the remote's host, when it is not the GitHub server
        self.branch = settings.branch
        self.remote = settings.remote
        self.env = env
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
        header = base64.b64encode(f"x-access-token:{token}".encode()).decode() if token else ""
        self.git = Git(repo, env, secrets=[token, header])
        remotes = self.git.out("remote").split()
        if push and self.remote not in remotes:
            log.warning("no git remote named %r in %s: committing to the local branch only", self.remote, repo)
            push = False
        self.push = push
        self._check_not_checked_out_for_local_commits()
        self.url = self.git.out("remote", "get-url", self.remote) if self.remote in remotes else ""
        if token and self.url:
            self._authenticate(token, header)
        self._tip: str | None = None
        self._local: str | None = None  # the local branch's tip as read (--no-push)
        self._fetched = False
        self._snapshot = GitSnapshot(self.git, None)

    def use_deadline(self, deadline: Deadline) -> None:
        """Network commands end by `deadline` (each still gets MIN_NETWORK_TIMEOUT)."""
        self.git.deadline = deadline

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> Snapshot:
        """The data branch as published (fetched from the remote first when pushing)."""
        self._tip = self._current_tip()
        self._fetched = True
        self._snapshot = GitSnapshot(self.git, self._tip)
        return self._snapshot if self._tip else EmptySnapshot()

    def _current_tip(self) -> str | None:
        if not self.push:
            # --no-push commits on the local branch; in a fresh clone it exists only on the
            # remote, and the local branch is then created on top of the remote's tip.
            local = self._local = self._resolve(f"refs/heads/{self.branch}")
            if local or not self.url:
                return local
        if not self.url:
            return None
        done = self.git.run(
            "fetch", "--no-tags", "--quiet", self.remote,
            f"+refs/heads/{self.branch}:refs/remotes/{self.remote}/{self.branch}",
            network=True, check=False,
        )
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")
            if _MISSING_BRANCH.search(stderr):
                return None  # the first run: the branch does not exist yet
            raise PublishError(f"could not fetch {self.remote}/{self.branch}: {self._explain(stderr)}")
        return self._resolve(f"refs/remotes/{self.remote}/{self.branch}")

    def _resolve(self, ref: str) -> str | None:
        done = self.git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if done.returncode != 0:
            return None
        return done.stdout.decode().strip() or None

    # ------------------------------------------------------------------ writing

    def publish(
        self,
        files: Mapping[str, bytes],
        rerender: Callable[[Snapshot], Mapping[str, bytes]],
        changes: Sequence[str] = (),
    ) -> PublishResult:
        """Commit `files` (rendered over the tip `snapshot()` read) and push; when the push
        loses a race, `rerender` over the new tip, commit and push again."""
        if not self._fetched:
            self.snapshot()
        tip = self._tip
        for attempt in range(1, MAX_PUSH_TRIES + 1):
            snapshot = self._snapshot if attempt == 1 else GitSnapshot(self.git, tip)
            if attempt > 1:
                files = rerender(snapshot if tip else EmptySnapshot())
            commit, paths = self._commit(tip, snapshot, files, changes)
            changed = len(paths)
            if commit is None:
                return PublishResult("unchanged", self.branch, tip, 0, attempt, self.remote if self.push else None)
            if not self.push:  # the old value: the local tip, or "must not exist yet" (a fresh clone)
                self.git.run("update-ref", f"refs/heads/{self.branch}", commit, self._local or "0" * 40)
                self._collect_garbage()
                return PublishResult("committed", self.branch, commit, changed, attempt, None, paths)
            pushed, stderr = self._push(commit, tip)
            if pushed:
                self.git.run("update-ref", f"refs/remotes/{self.remote}/{self.branch}", commit)
                self._collect_garbage()
                return PublishResult("pushed", self.branch, commit, changed, attempt, self.remote, paths)
            if not _RACE.search(stderr):
                raise PublishError(f"push to {self.remote}/{self.branch} failed: {self._explain(stderr)}")
            if self.git.deadline is not None and self.git.deadline.expired():
                raise PublishError(f"{self.git.deadline.name} reached while {self.remote}/{self.branch} kept moving")
            log.info("%s/%s moved while this run worked; building again on the new tip (try %d of %d)",
                     self.remote, self.branch, attempt + 1, MAX_PUSH_TRIES)
            time.sleep(random.uniform(0.05, 0.3 * attempt))
            tip = self._current_tip()
        raise PublishError(f"gave up after {MAX_PUSH_TRIES} tries: {self.remote}/{self.branch} kept moving")

    def _commit(
        self, tip: str | None, snapshot: GitSnapshot, files: Mapping[str, bytes], changes: Sequence[str]
    ) -> tuple[str | None, tuple[str, ...]]:
        """A commit of the tip's tree with `files` laid over it (None when nothing would change), and the paths it changes."""
        existing = snapshot.entries()
        wanted = {path: blob_sha(data) for path, data in files.items()}
        changed = sorted(path for path, sha in wanted.items() if existing.get(path) != sha)
        if not changed:
            return None, ()
        message = self.settings.message
        if changes:
            shown = list(changes[:50]) + ([f"... and {len(changes) - 50} more"] if len(changes) > 50 else [])
            message += "\n\n" + "\n".join(shown)
        identity = self._identity()
        author = self.git.out("var", "GIT_AUTHOR_IDENT", env=identity)
        committer = self.git.out("var", "GIT_COMMITTER_IDENT", env=identity)
        # One git fast-import writes every blob, tree and the commit into a single pack:
        # far cheaper than a loose object per file, and it never touches an index.
        scratch_ref = f"refs/statsbot/publish-{os.getpid()}-{random.randrange(1 << 30)}"
        stream = [f"commit {scratch_ref}\nauthor {author}\ncommitter {committer}\n".encode(), _data(message.encode() + b"\n")]
        if tip:
            stream.append(f"from {tip}\n".encode())
        for path in changed:
            stream.append(f"M 100644 inline {path}\n".encode())
            stream += [b"data %d\n" % len(files[path]), files[path], b"\n"]  # as _data, without a copy of each file
        stream.append(b"done\n")
        self.git.run("fast-import", "--quiet", "--done", input=b"".join(stream))
        try:
            commit = self.git.out("rev-parse", "--verify", scratch_ref)
        finally:
            self.git.run("update-ref", "-d", scratch_ref, check=False)
        if tip and self.settings.history == "squash":  # the same tree, without the history
            commit = self.git.out("commit-tree", f"{commit}^{{tree}}", input=message.encode() + b"\n", env=identity)
        return commit, tuple(changed)

    def _collect_garbage(self) -> None:
        """``git gc --auto`` after a commit, so a long-lived checkout (`statsbot schedule`) does not
        gather a pack per run: git repacks once there are more than ``gc.autoPackLimit`` packs (50)
        or ``gc.auto`` loose objects, and otherwise returns at once. It runs in the foreground
        (``gc.autoDetach=false``), within GC_TIMEOUT and the run's deadline, quietly; a failure
        or a timeout is a warning and never fails the run (the commit is already made)."""
        budget = GC_TIMEOUT if self.git.deadline is None else min(GC_TIMEOUT, self.git.deadline.remaining())
        if budget < 1.0:
            log.info("git gc --auto skipped: the run's deadline is too close")
            return
        try:
            done = self.git.run("-c", "gc.autoDetach=false", "gc", "--auto", "--quiet", check=False, timeout=budget)
        except PublishError as exc:
            reason = f"it did not finish within {budget:.3g} s" if "did not finish" in str(exc) else str(exc)
            log.warning("git gc --auto in %s: %s (the data branch was published; this only tidies the local repository)",
                        self.git.repo, reason)
            return
        if done.returncode != 0:
            log.warning("git gc --auto in %s failed (the data branch was published; this only tidies the local repository): %s",
                        self.git.repo, self.git.redact(done.stderr.decode(errors="replace")))

    def _push(self, commit: str, tip: str | None) -> tuple[bool, str]:
        args = ["push", "--porcelain", "--no-verify"]
        if self.settings.history == "squash":
            args.append(f"--force-with-lease=refs/heads/{self.branch}:{tip or ''}")
        args += [self.remote, f"{commit}:refs/heads/{self.branch}"]
        done = self.git.run(*args, network=True, check=False)
        output = done.stdout.decode(errors="replace") + "\n" + done.stderr.decode(errors="replace")
        return done.returncode == 0, output

    def _explain(self, stderr: str) -> str:
        if _AUTH.search(stderr) and self._token_withheld_from:
            return (
                f"git could not authenticate to {self._token_withheld_from}: $GITHUB_TOKEN is only sent to "
                "the GitHub server ($GITHUB_SERVER_URL or [github] api_url's host), so give git its own "
                f"credentials for that host (git said: {self.git.redact(stderr)[:200]})"
            )
        if _AUTH.search(stderr):
            return PERMISSION_ADVICE + f" (git said: {self.git.redact(stderr)[:200]})"
        return self.git.redact(stderr)

    # ---------------------------------------------------------------- identity

    def _identity(self) -> dict[str, str]:
        if self.env.get("GITHUB_ACTIONS") == "true":
            name, email = ACTIONS_NAME, ACTIONS_EMAIL
        elif self.env.get("GIT_AUTHOR_NAME") and self.env.get("GIT_AUTHOR_EMAIL"):
            return {}
        else:
            name = self.git.run("config", "user.name", check=False).stdout.decode().strip()
            email = self.git.run("config", "user.email", check=False).stdout.decode().strip()
            if name and email:
                return {}
            name, email = FALLBACK_NAME, FALLBACK_EMAIL
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    # -------------------------------------------------------------------- auth

    def _authenticate(self, token: str, header: str) -> None:
        parts = urlsplit(self.url)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        if not secure:
            if parts.scheme == "http":
                log.warning("not sending $GITHUB_TOKEN over plain http to %s", parts.hostname)
            return  # ssh and file remotes bring their own credentials
        if _origin(self.url) not in github_server_origins(self.env, self.api_url):
            where = parts.netloc.rpartition("@")[2]
            self._token_withheld_from = where
            log.info(
                "not sending $GITHUB_TOKEN to %s: it is not the GitHub server ($GITHUB_SERVER_URL, default "
                "https://github.com, or [github] api_url's host); git uses its own credentials there",
                where,
            )
            return
        prefix = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
        key = f"http.{prefix}.extraheader"
        # An empty value first clears any header set in git config (actions/checkout leaves one).
        self.git.with_config([(key, ""), (key, f"AUTHORIZATION: basic {header}")])

    def _check_not_checked_out_for_local_commits(self) -> None:
        if self.push:
            return
        listing = self.git.out("worktree", "list", "--porcelain")
        ref = f"branch refs/heads/{self.branch}"
        for block in listing.split("\n\n"):
            lines = block.splitlines()
            if ref in lines:
                where = lines[0].removeprefix("worktree ")
                raise PublishError(
                    f"the data branch {self.branch!r} is checked out in {where}; statsbot will not move it "
                    "under a working tree (check out another branch there, or push instead of --no-push)"
                )


class SiteFilePublisher:
    """Commits one file to the site's own branch (al-folio's ``_data/citations.yml``, which
    Jekyll reads at build time), through the data branch's plumbing: a `Publisher` on that
    branch, from the same repository, remote, token handling and deadline, with ``history =
    "keep"``. Its fast-import starts ``from`` the branch tip and lays only this file over it,
    so every other file and the history are kept; equal bytes make no commit; a push that
    loses a race is built again on the new tip. The work tree, index and ``HEAD`` are never
    touched (the branch is fetched into ``refs/remotes/<remote>/``, never checked out).

    With ``--no-push`` nothing is committed: the site's branch is usually the one checked
    out, and moving it under the working tree is not statsbot's to do.
    """

    def __init__(self, data: Publisher, branch: str | None, path: str, message: str) -> None:
        self.data = data
        self.branch = branch
        self.path = path
        self.message = message

    def publish(self, payload: bytes) -> PublishResult | None:
        if not self.data.push:
            log.info("not committing %s to the site's branch without a push (--no-push)", self.path)
            return None
        branch = self.branch or self._default_branch()
        if branch == self.data.branch:
            raise PublishError(
                f"[output] al_folio_branch is the data branch {branch!r}: name the branch your site builds from"
            )
        settings = PublishConfig(branch=branch, remote=self.data.remote, history="keep", message=self.message)
        site = Publisher(settings, self.data.git.repo, self.data.env, push=True, api_url=self.data.api_url)
        if self.data.git.deadline is not None:
            site.use_deadline(self.data.git.deadline)
        files = {self.path: payload}
        return site.publish(files, lambda snapshot: files)

    def _default_branch(self) -> str:
        """The remote's default branch: ``refs/remotes/<remote>/HEAD`` when a clone recorded it,
        else what the remote says its HEAD is (``git ls-remote --symref``)."""
        git = self.data.git
        done = git.run("symbolic-ref", "--quiet", f"refs/remotes/{self.data.remote}/HEAD", check=False)
        ref = done.stdout.decode().strip() if done.returncode == 0 else ""
        prefix = f"refs/remotes/{self.data.remote}/"
        if ref.startswith(prefix) and ref != prefix + "HEAD":
            return ref[len(prefix):]
        done = git.run("ls-remote", "--symref", self.data.remote, "HEAD", network=True, check=False)
        for line in done.stdout.decode(errors="replace").splitlines():
            target, _, name = line.partition("\t")
            if name.strip() == "HEAD" and target.startswith("ref: refs/heads/"):
                return target.removeprefix("ref: refs/heads/").strip()
        raise PublishError(
            f"could not tell the default branch of {self.data.remote} "
            f"({self.data._explain(done.stderr.decode(errors='replace')) or 'no HEAD'}); "
            "set [output] al_folio_branch to the branch your site builds from"
        )
