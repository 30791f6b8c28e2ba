"""What was published before: read from the output folder, or (see publish.py) the data branch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol


class Snapshot(Protocol):
    """Earlier output files, by path relative to the output root."""

    def read(self, relpath: str) -> bytes | None: ...


def read_json(snapshot: Snapshot, relpath: str) -> Any | None:
    """The parsed file, or None when it is missing or not valid JSON."""
    raw = snapshot.read(relpath)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


class EmptySnapshot:
    def read(self, relpath: str) -> bytes | None:
        return None


class FolderSnapshot:
    """The output folder as a previous run left it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, relpath: str) -> bytes | None:
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
