"""zizmor, the GitHub Actions security lint, on the action, statsbot's own CI and every workflow statsbot writes.

zizmor is pinned in the test extra and runs offline (`--offline`: no GitHub API, no network) with
no configuration file (`--no-config`), so the result depends on these files and zizmor's version only.
The one finding the workflows opt out of, with a comment beside it, is `unpinned-uses` on
`statsbot/statsbot@v1`: statsbot's own action by its release tag (a user pins it to a SHA if they wish).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_statsbot

OWN_ACTION = "statsbot/statsbot@v1"
SHA_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+v\d+\.\d+\.\d+$")


def zizmor() -> str:
    found = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert found, "zizmor is missing: it is in the test extra (pip install -e '.[test]')"
    return found


def run_zizmor(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_CONFIG")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [zizmor(), "--offline", "--no-config", "--format", "plain", "--color", "never", *map(str, paths)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def written_by_init(tmp_path: Path) -> list[Path]:
    """The workflows `statsbot init` writes: for one person with a paid fetcher, and for a lab."""
    paths = []
    for name, flags in (("person", ("--fetcher", "serpapi")), ("lab", ("--lab",))):
        site = tmp_path / name
        site.mkdir()
        done = run_statsbot("init", *flags, cwd=site)
        assert done.returncode == 0, done.stderr
        paths.append(site / ".github/workflows/statsbot.yml")
    return paths


def shipped() -> list[Path]:
    files = [
        REPO / "action.yml",
        *sorted((REPO / ".github/workflows").glob("*.yml")),
        REPO / "statsbot/templates/workflow.yml",
        REPO / "statsbot/templates/lab.yml",
        *sorted((REPO / "examples/workflows").glob("*.yml")),
    ]
    assert all(path.is_file() for path in files) and len(files) >= 6
    return files


def test_zizmor_finds_nothing_in_the_action_and_every_workflow_statsbot_writes(tmp_path):
    files = [*shipped(), *written_by_init(tmp_path)]
    done = run_zizmor(*files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout
    for path in files:  # every file was audited, none skipped as unparsable
        assert f"completed {path}\n" in done.stderr, (path, done.stderr)


def test_the_only_ignored_finding_is_statsbots_own_action_tag(tmp_path):
    for path in [*shipped(), *written_by_init(tmp_path)]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "zizmor:" in line:
                assert line.strip() == f"- uses: {OWN_ACTION}  # zizmor: ignore[unpinned-uses]", (path, line)


def test_every_action_is_pinned_to_one_commit_everywhere(tmp_path):
    """Full commit SHA and a `# vX.Y.Z` comment; the same action at the same commit in every file."""
    pins: dict[str, set[str]] = {}
    for path in [*shipped(), *written_by_init(tmp_path)]:
        for line in path.read_text(encoding="utf-8").splitlines():
            uses = line.strip().removeprefix("- ").strip()
            if not uses.startswith("uses:"):
                continue
            ref = uses.removeprefix("uses:").strip()
            if ref.startswith(OWN_ACTION):
                continue
            match = SHA_PIN.match(ref)
            assert match, (path, line)
            pins.setdefault(match["action"], set()).add(ref)
    assert {"actions/checkout", "actions/setup-python", "actions/cache/restore", "actions/cache/save"} <= set(pins)
    assert all(len(refs) == 1 for refs in pins.values()), pins
    cache = {next(iter(pins[name])).split("@")[1] for name in ("actions/cache/restore", "actions/cache/save")}
    assert len(cache) == 1  # restore and save from the same release of actions/cache


@pytest.mark.parametrize(
    "job, finding",
    [
        ("    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n", "unpinned-uses"),
        ("    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2\n", "artipacked"),
        (
            "    steps:\n      - run: echo ${{ github.event.head_commit.message }}\n",
            "template-injection",
        ),
    ],
    ids=["tag", "credentials", "injection"],
)
def test_zizmor_catches_what_the_workflows_avoid(tmp_path, job, finding):
    """The same command fails on a workflow with the mistake: the check above can fail."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "name: bad\non: push\npermissions: {}\njobs:\n  one:\n    runs-on: ubuntu-latest\n    permissions:\n"
        "      contents: read\n" + job,
        encoding="utf-8",
    )
    done = run_zizmor(workflow, cwd=tmp_path)
    assert done.returncode != 0
    assert f"[{finding}]" in done.stdout, done.stdout
