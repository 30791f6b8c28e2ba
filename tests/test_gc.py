"""`git gc --auto` after publishing: many publishes into one long-lived checkout keep its
pack count bounded, and a gc that fails never fails the publish (a warning says so)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from gitutil import branch_commits, git, isolated_git_env, make_homepage

from statsbot.deadline import Deadline
from statsbot.publish import Publisher
from statsbot.settings import PublishConfig

PACK_LIMIT = 3


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, dict[str, str]]:
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    git("config", "gc.autoPackLimit", str(PACK_LIMIT), cwd=site, env=env)  # a repack after a few publishes, not 50
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return site, remote, {**os.environ, **env}


def publish_once(site: Path, env: dict[str, str], day: int, push: bool = True) -> str:
    publisher = Publisher(PublishConfig(), site, env, push=push)
    publisher.use_deadline(Deadline(120))
    publisher.snapshot()
    # More than fastimport.unpackLimit (100) objects: fast-import keeps them as one pack, as a real run with many badges does.
    files = {f"badges/item-{n}.json": f'{{"day": {day}, "n": {n}}}\n'.encode() for n in range(120)}
    files["stats.json"] = f'{{"day": {day}}}\n'.encode()
    return publisher.publish(files, lambda snapshot: files).status


def packs(site: Path) -> list[Path]:
    return sorted((site / ".git" / "objects" / "pack").glob("*.pack"))


@pytest.mark.parametrize("push", [False, True], ids=["no-push", "push"])
def test_many_publishes_keep_the_pack_count_bounded(checkout, push: bool) -> None:
    site, remote, env = checkout
    # Nothing else may collect: `git fetch` (before each pushing run) would run its own auto maintenance.
    git("config", "maintenance.auto", "false", cwd=site, env=env)
    for day in range(1, 13):
        assert publish_once(site, env, day, push) == ("pushed" if push else "committed")
        assert len(packs(site)) <= PACK_LIMIT + 1, f"after publish {day}: {[p.name for p in packs(site)]}"
    if push:
        assert len(branch_commits(remote)) == 12
    ref = "origin/google-scholar-stats" if push else "google-scholar-stats"
    assert git("rev-list", "--count", ref, cwd=site, env=env) == "12"
    # Every published commit is still readable after the repacks.
    assert git("show", f"{ref}:stats.json", cwd=site, env=env) == '{"day": 12}'
    git("fsck", "--no-progress", cwd=site, env=env)


def test_a_gc_that_fails_is_a_warning_and_the_publish_stands(checkout, caplog: pytest.LogCaptureFixture) -> None:
    site, remote, env = checkout
    assert publish_once(site, env, 1) == "pushed"
    git("config", "gc.autoPackLimit", "notanumber", cwd=site, env=env)  # git gc --auto now exits 128
    caplog.set_level(logging.WARNING, logger="statsbot")
    assert publish_once(site, env, 2) == "pushed"
    assert len(branch_commits(remote)) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "git gc --auto" in r.getMessage()]
    assert len(warnings) == 1 and "failed" in warnings[0] and "gc.autopacklimit" in warnings[0]
