"""Deadlines are hard: `[run] deadline_seconds` ends the process, whatever its threads are doing.

A server that sends a body one byte a second (never finishing), or accepts and never
sends a byte, must not keep `statsbot run` alive: the process exits within a few
seconds of the run's deadline, the item it was fetching is stale (earlier values and
files kept) or error (none to keep), and the other sources are published. `statsbot
schedule` ends a run that outlives its deadline by a grace period, and goes on. git never
prompts (ssh in batch mode, no terminal) and every git command is bounded.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import run_statsbot, write_config
from gitutil import branch_commits, git, isolated_git_env, make_homepage, tree_files
from scholar_fixtures import make_profile
from statsbot.config import load_config
from statsbot.deadline import run_bounded
from statsbot.publish import Publisher
from statsbot.runner import run
from statsbot.scheduler import Loop, run_command

UID = "TestUser01AJ"
BRANCH = "google-scholar-stats"
RUN_DEADLINE = 5
# The run's deadline, plus interpreter start, imports, git and the grace of the hard bounds.
MAX_SECONDS = RUN_DEADLINE + 10
FILES = {"scholar": f"badges/scholar/{UID}/", "github": "badges/github/alice/tool/", "huggingface": "badges/huggingface/lab/m/"}
ITEM = {"scholar": UID, "github": "alice/tool", "huggingface": "lab/m"}
METRIC = {"scholar": "citations", "github": "stars", "huggingface": "downloads"}


def config_text(urls: dict[str, str], source_settings: str = "") -> str:
    """All three sources; `source_settings` (e.g. a long per-source deadline) go into every section."""
    return (
        f"[run]\ndeadline_seconds = {RUN_DEADLINE}\n"
        f'[scholar]\nid = "{UID}"\nbase_url = "{urls["scholar"]}"\npage_delay_seconds = 0\n{source_settings}'
        f'[github]\napi_url = "{urls["github"]}"\nrepos = ["alice/tool"]\n{source_settings}'
        f'[huggingface]\nendpoint = "{urls["huggingface"]}"\nmodels = ["lab/m"]\n{source_settings}'
    )


def files_of(tree: dict[str, bytes], source: str) -> dict[str, bytes]:
    extra = ("gs_data.json", "gs_data_shieldsio.json") if source == "scholar" else ()
    return {path: data for path, data in tree.items() if path.startswith(FILES[source]) or path in extra}


def entry(tree: dict[str, bytes], source: str) -> dict:
    return json.loads(tree["stats.json"])["sources"][source][ITEM[source]]


@pytest.fixture
def published(tmp_path, scholar_site, github_api, hub_api):
    """A homepage whose data branch holds a good run of all three sources; then the truth moves on."""
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    profile = scholar_site.add(make_profile(30, UID))
    github_api.add_repo("alice/tool", 1200, 30)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    urls = {"scholar": scholar_site.url, "github": github_api.url, "huggingface": hub_api.url}
    write_config(site, config_text(urls))
    loaded = load_config(site / "statsbot.toml", env={})
    good = run(loaded, env=env, publisher=Publisher(loaded.config.publish, site, env))
    assert {r.status for r in good.results} == {"ok"} and good.published.status == "pushed"

    profile["stats"] = {**profile["stats"], "citations": 99_000}
    github_api.set_stars("alice/tool", 1500)
    hub_api.add("models", "lab/m", 6100, 41, 81_234)
    new_values = {"scholar": 99_000, "github": 1500, "huggingface": 6100}
    return site, remote, env, urls, tree_files(remote, BRANCH), new_values


def run_with_broken_source(published, source: str, broken_url: str, source_settings: str = ""):
    site, remote, env, urls, before, new_values = published
    write_config(site, config_text({**urls, source: broken_url}, source_settings))
    started = time.monotonic()
    result = run_statsbot("run", cwd=site, env=env, timeout=90)
    elapsed = time.monotonic() - started
    after = tree_files(remote, BRANCH)
    return result, elapsed, before, after, new_values


CUT_OFF = (f"deadline of {RUN_DEADLINE} s",)


def assert_stale_and_others_published(source, result, elapsed, before, after, new_values, errors=CUT_OFF):
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s with a run deadline of {RUN_DEADLINE} s"
    assert result.returncode == 3, result.stderr
    # totals (GitHub's, the page's citations) are stale with their input and are not counted here
    stale = [line for line in result.stdout.splitlines() if ": STALE: " in line and not line.startswith(("github_total ", "citations all"))]
    assert len(stale) == 1 and stale[0].startswith(f"{source} {ITEM[source]}"), result.stdout
    assert any(error in stale[0] for error in errors), stale[0]
    # The cut-off item keeps its earlier values and its files, byte for byte.
    old, new = entry(before, source), entry(after, source)
    assert new["status"] == "stale" and new["metrics"] == old["metrics"]
    assert files_of(after, source) == files_of(before, source)
    # The other sources were fetched and published.
    for other in set(FILES) - {source}:
        assert entry(after, other)["status"] == "ok"
        assert entry(after, other)["metrics"][METRIC[other]] == new_values[other]
        assert files_of(after, other) != files_of(before, other)


@pytest.mark.parametrize("source", ["scholar", "github", "huggingface"])
def test_a_body_sent_one_byte_a_second_ends_the_run_at_its_deadline(source, published, slow_body_server):
    # The defaults: a 20-30 s read timeout (each byte resets it) and a 120 s source deadline,
    # both far past the run's 5 s. Only the run's deadline can end this fetch.
    outcome = run_with_broken_source(published, source, slow_body_server)
    assert_stale_and_others_published(source, *outcome)


@pytest.mark.parametrize("source", ["scholar", "github", "huggingface"])
def test_a_server_that_never_sends_a_byte_ends_the_run_at_its_deadline(source, published, silent_server):
    settings = "timeout_seconds = 60\ndeadline_seconds = 300\n"  # the source's own limits: longer than the run's
    outcome = run_with_broken_source(published, source, silent_server, settings)
    # Cut off by the run's deadline, or by a read timeout that the run's deadline shortened to fit.
    errors = (*CUT_OFF, "no answer within 5 s", "no answer within 4.")
    assert_stale_and_others_published(source, *outcome, errors=errors)


def test_a_never_finishing_body_with_no_earlier_value_is_an_error_and_the_rest_is_published(
    tmp_path, hub_api, slow_body_server
):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, remote = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    write_config(
        site,
        f"[run]\ndeadline_seconds = {RUN_DEADLINE}\n"
        f'[github]\napi_url = "{slow_body_server}"\nrepos = ["alice/tool"]\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n',
    )
    started = time.monotonic()
    result = run_statsbot("run", cwd=site, env=env, timeout=90)
    elapsed = time.monotonic() - started

    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
    assert result.returncode == 3, result.stderr
    assert f"github alice/tool: ERROR: the run's deadline of {RUN_DEADLINE} s reached" in result.stdout
    assert "huggingface lab/m: ok: downloads 5000" in result.stdout
    after = tree_files(remote, BRANCH)
    stats = json.loads(after["stats.json"])["sources"]
    assert stats["github"]["alice/tool"]["status"] == "error" and stats["github"]["alice/tool"]["metrics"] == {}
    assert stats["huggingface"]["lab/m"]["status"] == "ok" and stats["huggingface"]["lab/m"]["metrics"]["downloads"] == 5000
    assert "badges/huggingface/lab/m/downloads.json" in after
    github_badges = [json.loads(data) for path, data in after.items() if path.startswith("badges/github/alice/tool/")]
    assert all(badge.get("isError") and badge["message"] == "unavailable" for badge in github_badges)


def test_a_command_ends_even_when_a_thread_that_is_not_a_daemon_is_stuck(tmp_path, hub_api):
    """The last line of defence: a thread stuck where no timeout reaches (here one that sleeps
    for ten minutes, as a library's own worker might) cannot keep a finished run alive."""
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(tmp_path, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    program = (
        "import sys, threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), name='stuck-library-thread').start()\n"
        "sys.argv = ['statsbot', 'run', '--no-publish']\n"
        "from statsbot.cli import main\n"
        "raise SystemExit(main())\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert "huggingface lab/m: ok: downloads 7" in done.stdout  # the summary was flushed before the exit
    assert "1 thread(s) still busy after the command finished (stuck-library-thread): ending the process" in done.stderr
    assert json.loads((tmp_path / "output" / "stats.json").read_text())["sources"]["huggingface"]["lab/m"]["status"] == "ok"


# ------------------------------------------------------------------------- schedule


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def schedule_log():
    handler = Records()
    logger = logging.getLogger("statsbot.schedule")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def pid_alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent (or a container's init) to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def test_the_loop_ends_a_run_that_outlives_its_deadline_and_goes_on(tmp_path, schedule_log):
    # A child that ignores SIGTERM and would sleep a minute: SIGTERM, then SIGKILL after the wait.
    pids = tmp_path / "pids"
    child = (
        "import os, signal, time\n"
        f"open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "time.sleep(60)\n"
    )
    loop = Loop(
        [sys.executable, "-c", child], every=timedelta(seconds=1), deadline_seconds=1, grace_seconds=1, kill_wait_seconds=1
    )
    failed = lambda: [m for m in schedule_log if "still running" in m]  # noqa: E731

    def stop_after_two_runs() -> None:
        end = time.monotonic() + 40
        while len(failed()) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        loop.stop.set()

    watcher = threading.Thread(target=stop_after_two_runs, daemon=True)
    watcher.start()
    started = time.monotonic()
    assert loop.forever() == 0  # the main thread: forever() installs signal handlers
    elapsed = time.monotonic() - started

    assert len(failed()) == 2, schedule_log
    assert failed()[0] == (
        "run 1 failed: still running 1 s after its deadline of 1 s ([run] deadline_seconds), "
        f"so it was ended (exit code {-signal.SIGKILL}); the loop goes on"
    )
    assert "run 2: " in "\n".join(schedule_log) + " "
    assert elapsed < 20, f"took {elapsed:.1f} s for two runs of 1 + 1 + 1 s"
    started_pids = [int(p) for p in pids.read_text().split()]
    assert len(started_pids) >= 2 and not any(pid_alive(p) for p in started_pids)


def test_a_run_within_its_deadline_and_grace_is_left_alone(tmp_path, schedule_log):
    loop = Loop([sys.executable, "-c", "import time; time.sleep(1.5)"], deadline_seconds=1, grace_seconds=5)
    loop.run_once()
    assert schedule_log[-1] == "run 1 finished (exit code 0)", schedule_log


FAKE_SSH = """\
#!{python}
# A stand-in for ssh, first on PATH: records its arguments and never opens the network.
# With BatchMode=yes (the first value given wins, as with OpenSSH) it fails as ssh does
# when no key is accepted; without it, it waits, as ssh waits for a password to be typed.
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_SSH_LOG"], "a") as log:
    log.write(json.dumps({{"pid": os.getpid(), "args": args}}) + "\\n")
batch = None
for i, arg in enumerate(args):
    option = args[i + 1] if arg == "-o" and i + 1 < len(args) else arg[2:] if arg.startswith("-o") else ""
    if option.lower().startswith("batchmode=") and batch is None:
        batch = option.split("=", 1)[1].lower()
if batch == "yes" and os.environ.get("FAKE_SSH_MODE") != "hang":
    sys.stderr.write("git@127.0.0.1: Permission denied (publickey).\\n")
    sys.exit(255)
time.sleep(600)
"""


@pytest.fixture
def fake_ssh(tmp_path):
    """A fake `ssh` first on PATH; returns (extra env, a function reading the recorded calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "ssh-calls.jsonl"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_SSH_LOG": str(log)}

    def calls() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return env, calls


def ssh_homepage(tmp_path, hub_api, extra_env):
    (tmp_path / "home").mkdir()
    env = {**isolated_git_env(tmp_path / "home"), **extra_env}
    site, _ = make_homepage(tmp_path, env)
    git("remote", "set-url", "origin", "ssh://git@127.0.0.1/zoe/zoe.github.io.git", cwd=site, env=env)
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(site, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    return site, env


def batch_mode_of(args: list[str]) -> str | None:
    """The BatchMode ssh would use: the first one given."""
    for i, arg in enumerate(args):
        if arg == "-o" and i + 1 < len(args) and args[i + 1].lower().startswith("batchmode="):
            return args[i + 1].split("=", 1)[1]
    return None


@pytest.mark.parametrize(
    "user_setting",
    [None, "GIT_SSH_COMMAND=ssh -o BatchMode=no -i /nonexistent/key", "core.sshCommand=ssh -i /nonexistent/key"],
    ids=["default", "user GIT_SSH_COMMAND asking for BatchMode=no", "user core.sshCommand"],
)
def test_ssh_remotes_never_prompt(user_setting, tmp_path, hub_api, fake_ssh):
    ssh_env, calls = fake_ssh
    extra = dict(ssh_env)
    if user_setting and user_setting.startswith("GIT_SSH_COMMAND="):
        extra["GIT_SSH_COMMAND"] = user_setting.partition("=")[2]
    site, env = ssh_homepage(tmp_path, hub_api, extra)
    if user_setting and user_setting.startswith("core.sshCommand="):
        git("config", "core.sshCommand", user_setting.partition("=")[2], cwd=site, env=env)

    started = time.monotonic()
    result = run_statsbot("run", cwd=site, env=env, timeout=90)
    elapsed = time.monotonic() - started

    assert elapsed < 15, f"took {elapsed:.1f} s"  # nothing waited for a password
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("statsbot: ")]
    assert len(errors) == 1 and "could not fetch origin/google-scholar-stats" in errors[0], result.stderr
    assert "Permission denied (publickey)" in errors[0]
    recorded = calls()
    assert recorded, "git did not run the ssh first on PATH"
    for call in recorded:
        assert batch_mode_of(call["args"]) == "yes", call["args"]
        assert "git@127.0.0.1" in call["args"]
        if user_setting:  # the user's own options are kept
            assert "/nonexistent/key" in call["args"]


def test_a_git_command_past_its_timeout_is_killed_with_the_ssh_it_started(tmp_path, fake_ssh):
    """Every git command is bounded: a remote whose ssh never answers (here one that hangs
    even in batch mode) costs the timeout, and the ssh process does not outlive it."""
    ssh_env, calls = fake_ssh
    (tmp_path / "home").mkdir()
    env = {**os.environ, **isolated_git_env(tmp_path / "home"), **ssh_env, "FAKE_SSH_MODE": "hang"}
    repo = tmp_path / "repo"
    git("init", "--quiet", str(repo), cwd=tmp_path, env=env)
    env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"

    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(["git", "-C", str(repo), "ls-remote", "ssh://git@127.0.0.1/x.git"], env=env, timeout=2)
    elapsed = time.monotonic() - started

    assert elapsed < 8, f"took {elapsed:.1f} s"
    recorded = calls()
    assert len(recorded) == 1
    deadline = time.monotonic() + 5
    while pid_alive(recorded[0]["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(recorded[0]["pid"]), "the ssh git started outlived the timeout"


def test_the_loop_ends_a_real_run_stuck_on_its_remote_and_its_git_and_ssh(tmp_path, hub_api, fake_ssh, schedule_log):
    """End to end with the real `statsbot run` as the child: its remote's ssh hangs (git's own
    timeout would be 30 s), so the loop ends it at its deadline plus the grace, git and ssh
    with it, and logs a failed run."""
    ssh_env, calls = fake_ssh
    site, env = ssh_homepage(tmp_path, hub_api, {**ssh_env, "FAKE_SSH_MODE": "hang"})
    write_config(site, f'[run]\ndeadline_seconds = 2\n[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    deadline = load_config(site / "statsbot.toml", env={}).config.run.deadline_seconds
    loop = Loop(run_command([]), deadline_seconds=deadline, grace_seconds=3, kill_wait_seconds=2)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the child inherits the loop's environment, as under `statsbot schedule`
    cwd = os.getcwd()
    os.chdir(site)
    try:
        started = time.monotonic()
        loop.run_once()
        elapsed = time.monotonic() - started
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    assert 5 <= elapsed < 12, f"took {elapsed:.1f} s for a deadline of 2 s and a grace of 3 s"
    assert any(m.startswith("run 1 failed: still running 3 s after its deadline of 2 s") for m in schedule_log), schedule_log
    recorded = calls()
    assert recorded and batch_mode_of(recorded[0]["args"]) == "yes"
    end = time.monotonic() + 5
    while any(pid_alive(c["pid"]) for c in recorded) and time.monotonic() < end:
        time.sleep(0.05)
    assert not any(pid_alive(c["pid"]) for c in recorded), "git's ssh outlived the run the loop ended"
    assert branch_commits(tmp_path / "remote.git") == []
