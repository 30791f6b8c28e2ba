"""`statsbot schedule` in a child process: runs at once and on its clock, survives a failed run,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import write_config
from gitutil import git, isolated_git_env, make_homepage
from statsbot.errors import ConfigError
from statsbot.scheduler import parse_at, parse_duration


def start(cwd, *args, env=None):
    """The loop in a child process; its log goes to `cwd/schedule.log`, readable while it runs."""
    child_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")}
    child_env.update(env or {})
    log = open(cwd / "schedule.log", "w")  # noqa: SIM115 - closed when the child ends
    process = subprocess.Popen(
        [sys.executable, "-m", "statsbot", "schedule", *args], cwd=cwd, env=child_env,
        stdout=subprocess.DEVNULL, stderr=log, text=True,
    )
    log.close()
    return process


def log_of(cwd):
    return (cwd / "schedule.log").read_text()


def wait_for(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_runs_twice_then_sigterm_stops_it_within_a_second(tmp_path, hub_api):
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(tmp_path, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    process = start(tmp_path, "--every", "1s", "--no-publish")
    try:
        assert wait_for(lambda: "run 2 finished" in log_of(tmp_path), 30), "did not run twice"
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=5)
        elapsed = time.monotonic() - stopped
    finally:
        if process.poll() is None:
            process.kill()
    stderr = log_of(tmp_path)
    assert code == 0
    assert elapsed < 1.0, f"took {elapsed:.2f} s to stop"
    assert "runs every 0:00:01; the first one now" in stderr
    assert "run 1 finished (exit code 0)" in stderr and "run 2 finished (exit code 0)" in stderr
    assert "next run at " in stderr
    assert "SIGTERM received: stopping" in stderr
    assert (tmp_path / "output" / "stats.json").is_file()


def test_a_failed_run_is_logged_and_the_loop_goes_on(tmp_path, hub_api):
    (tmp_path / "home").mkdir()
    env = isolated_git_env(tmp_path / "home")
    site, _ = make_homepage(tmp_path, env)
    git("checkout", "-q", "-b", "google-scholar-stats", cwd=site, env=env)  # so every --no-push run must fail
    hub_api.add("models", "lab/m", 7, 0, 7)
    write_config(site, f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m"]\n')
    process = start(site, "--every", "1s", "--no-push", env=env)
    try:
        assert wait_for(lambda: "run 2 failed" in log_of(site), 30)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=5)
    stderr = log_of(site)
    assert code == 0
    assert "run 1 failed with exit code 1; the loop goes on" in stderr
    assert "run 2:" in stderr
    assert "SIGINT received: stopping" in stderr


def test_bad_config_or_schedule_stops_before_the_loop(tmp_path):
    write_config(tmp_path, "[huggingface]\nmodels = ['bad name']\n")
    process = start(tmp_path, "--every", "1s")
    assert process.wait(timeout=30) == 2
    assert "huggingface.models.0" in log_of(tmp_path)


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("15m", 900), ("6h", 21600), ("1d", 86400), ("1h30m", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "10", "5x", "1h 30", "0s", "m1"])
def test_bad_durations(text):
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_times_of_day():
    assert parse_at("03:17") == "03:17"
    for bad in ("3:17", "24:00", "12:60", "noon"):
        with pytest.raises(ConfigError):
            parse_at(bad)
