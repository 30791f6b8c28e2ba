"""Benchmark: the publish step against `git add -A && git commit` on the same files.

A homepage repository gets a data branch with 1,000 earlier commits (1,000 badge
files each); then 10, 100 and 1,000 badge files change and are published:

* statsbot: `Publisher.publish` building the commit from git objects with a
  temporary index (commit to the local branch, as `--no-push`; and the whole
  step with fetch and push to a bare remote on disk, for reference);
* baseline: `git add -A && git commit` in a plain checkout (a clone) of the data
  branch holding the same files, measured in the same run.

Each figure is the median of 5 tries. Target: statsbot's commit at most 2x the baseline.

    .venv/bin/python bench/publish.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from statsbot.jsonio import dumps
from statsbot.publish import Publisher
from statsbot.settings import PublishConfig

from benchenv import GIT_ENV  # noqa: E402  (bench/, this script's folder)

SIZES = (10, 100, 1000)
HISTORY = 1000
TRIES = 5
ENV = {**os.environ, **GIT_ENV}
BRANCH = "google-scholar-stats"


def git(*args: str, cwd: Path, input: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, input=input, capture_output=True, check=True).stdout.decode().strip()


def badge(i: int, value: int) -> bytes:
    return dumps({"schemaVersion": 1, "label": "stars", "message": str(value), "namedLogo": "github"}).encode()


def path(i: int) -> str:
    return f"badges/github/lab/repo-{i:04d}/stars.json"


def build_history(repo: Path) -> None:
    """1,000 commits on the data branch through git fast-import: all files first, then one change each."""
    chunks = []

    def data(blob: bytes) -> None:
        chunks.append(b"data %d\n" % len(blob) + blob + b"\n")

    for n in range(HISTORY):
        chunks.append(f"commit refs/heads/{BRANCH}\ncommitter bench <bench@example.test> {1700000000 + n} +0000\n".encode())
        data(f"history {n}".encode())
        changed = range(1000) if n == 0 else [n]
        for i in changed:
            chunks.append(f"M 100644 inline {path(i)}\n".encode())
            data(badge(i, n))
        chunks.append(b"M 100644 inline stats.json\n")
        data(json.dumps({"run": n}).encode())
    git("fast-import", "--quiet", cwd=repo, input=b"".join(chunks))


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="statsbot-bench-publish-"))
    remote, site, plain = root / "remote.git", root / "site", root / "plain"
    git("init", "-q", "--bare", str(remote), cwd=root)
    git("init", "-q", "-b", "main", str(site), cwd=root)
    (site / "index.html").write_text("home\n")
    git("add", "-A", cwd=site)
    git("commit", "-qm", "home", cwd=site)
    git("remote", "add", "origin", str(remote), cwd=site)
    build_history(site)
    git("push", "-q", "origin", BRANCH, "main", cwd=site)
    git("clone", "-q", "--branch", BRANCH, str(remote), str(plain), cwd=root)
    assert int(git("rev-list", "--count", BRANCH, cwd=site)) == HISTORY

    settings = PublishConfig(branch=BRANCH)
    rows, failures = [], []
    trial = 0
    for n in SIZES:
        base, local, full = [], [], []
        for _ in range(TRIES):
            trial += 1
            files = {path(i): badge(i, 10_000 * trial + i) for i in range(n)}
            files["stats.json"] = json.dumps({"trial": trial, "n": n}).encode()

            for relpath, content in files.items():  # the baseline's files are in place before its clock starts
                (plain / relpath).parent.mkdir(parents=True, exist_ok=True)
                (plain / relpath).write_bytes(content)
            started = time.perf_counter()
            subprocess.run(f"git add -A && git commit -q -m 'trial {trial}'", shell=True, cwd=plain, env=ENV, check=True)
            base.append(time.perf_counter() - started)

            publisher = Publisher(settings, site, ENV, push=False)
            started = time.perf_counter()
            result = publisher.publish(files, lambda snapshot: files)
            local.append(time.perf_counter() - started)
            assert result.status == "committed" and result.files_changed == n + 1, result

            git("update-ref", f"refs/heads/{BRANCH}", git("rev-parse", f"refs/remotes/origin/{BRANCH}", cwd=site), cwd=site)
            files = {relpath: content.replace(b'"message": "', b'"message": "1') for relpath, content in files.items()}
            files["stats.json"] += b" "  # new bytes everywhere, so nothing is already stored
            publisher = Publisher(settings, site, ENV, push=True)
            started = time.perf_counter()
            result = publisher.publish(files, lambda snapshot: files)
            full.append(time.perf_counter() - started)
            assert result.status == "pushed", result
        b, l, f = (statistics.median(x) for x in (base, local, full))
        rows.append((n, b, l, f))
        if l > 2 * b:
            failures.append(f"N={n}: statsbot commit {l:.3f} s > 2x baseline {b:.3f} s")

    print(f"Publishing N changed badge files onto a data branch with {HISTORY} earlier commits (median of {TRIES})")
    print(f"{'N':>5}  {'git add -A && commit':>21}  {'statsbot commit':>15}  {'ratio':>6}  {'+ fetch and push':>16}")
    for n, b, l, f in rows:
        print(f"{n:>5}  {b:>19.3f} s  {l:>13.3f} s  {l / b:>5.2f}x  {f:>14.3f} s")
    subprocess.run(["rm", "-rf", str(root)], check=False)
    if failures:
        print("TARGET MISSED:", *failures, sep="\n  ")
        return 1
    print("target met: statsbot's commit within 2x of git add -A && git commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
