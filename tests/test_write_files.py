"""Writing the output folder (`outputs.write_files`): atomic per file, byte-identical, only what changed."""

from __future__ import annotations

import os

import pytest

from statsbot.outputs import write_files


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_the_exact_bytes_in_nested_folders_and_reports_only_changes(tmp_path):
    files = {
        "stats.json": b'{"a": 1}\n',
        "github/lab/tool/stars.json": '{"message": "12 \u2605"}\n'.encode(),
        "github/lab/tool/forks.json": b"{}\n",
        "charts/github/lab/tool/stars.svg": b"<svg/>\n",
    }
    assert write_files(tmp_path, files) == sorted(files)
    assert tree(tmp_path) == files  # byte for byte, and no temporary file left behind

    assert write_files(tmp_path, files) == []  # same bytes: nothing rewritten
    changed = {**files, "github/lab/tool/stars.json": b'{"message": "13"}\n', "stats.json": b'{"a": 1}'}  # shorter
    assert write_files(tmp_path, changed) == ["github/lab/tool/stars.json", "stats.json"]
    assert tree(tmp_path) == changed


def test_a_changed_file_is_replaced_not_rewritten_in_place(tmp_path):
    """A reader that opened the old file keeps reading the old bytes: the new ones arrive by a
    rename of a complete file, never by truncating and refilling the one being read."""
    write_files(tmp_path, {"github/a/b/stars.json": b"old bytes\n"})
    path = tmp_path / "github/a/b/stars.json"
    with open(path, "rb") as reader:
        write_files(tmp_path, {"github/a/b/stars.json": b"new bytes, longer than before\n"})
        assert reader.read() == b"old bytes\n"
    assert path.read_bytes() == b"new bytes, longer than before\n"


def test_a_leftover_temporary_file_does_not_block_the_write(tmp_path):
    (tmp_path / "github").mkdir()
    leftover = tmp_path / "github" / f".stars.json.{os.getpid()}.tmp"  # a crashed run's, with our process id
    leftover.write_bytes(b"half a fi")
    assert write_files(tmp_path, {"github/stars.json": b"whole file\n"}) == ["github/stars.json"]
    assert (tmp_path / "github/stars.json").read_bytes() == b"whole file\n"
    assert leftover.read_bytes() == b"half a fi"  # not ours to delete, and never the published file


def test_a_failed_write_raises_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "stats.json").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        write_files(tmp_path, {"stats.json": b"{}\n"})
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]
    assert (tmp_path / "stats.json").is_dir()


def test_unsafe_paths_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="unsafe path"):
        write_files(tmp_path / "out", {"../escape.json": b"{}\n"})
    assert not (tmp_path / "escape.json").exists()
