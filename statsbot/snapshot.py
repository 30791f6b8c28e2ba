"""What was published before: read from the output folder, or (see publish.py) the data branch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Protocol


class Snapshot(Protocol):
    """Earlier output files, by path relative to the output root."""

    def read(self, relpath: str) -> bytes | None: ...

    def list(self, prefix: str) -> list[str]:
        """Paths of the files under `prefix` (a folder path ending in '/')."""
        ...


def read_json(snapshot: Snapshot, relpath: str) -> Any | None:
    """The parsed file, or None when it is missing or not valid JSON."""
    raw = snapshot.read(relpath)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def lookup(entries: Any, name: str, case_insensitive: bool = True) -> Mapping[str, Any] | None:
    """An entry of a stats.json section by name (GitHub names ignore case)."""
    if not isinstance(entries, Mapping):
        return None
    entry = entries.get(name)
    if entry is None and case_insensitive:
        wanted = name.lower()
        entry = next((v for k, v in entries.items() if isinstance(k, str) and k.lower() == wanted), None)
    return entry if isinstance(entry, Mapping) else None


class EmptySnapshot:
    def read(self, relpath: str) -> bytes | None:
        return None

    def list(self, prefix: str) -> list[str]:
        return []


class FolderSnapshot:
    """The output folder as a previous run left it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, relpath: str) -> bytes | None:
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def list(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*") if p.is_file())
