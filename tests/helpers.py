"""Small helpers shared by the tests (no fakes of statsbot's own code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from statsbot.config import LoadedConfig, parse_config


def scholar_config(base_url: str, scholar_id: str, output: Path, **scholar: Any) -> LoadedConfig:
    """A validated config, exactly as `statsbot.toml` with these keys would give."""
    settings = {"id": scholar_id, "base_url": base_url, "page_delay_seconds": 0.0, **scholar}
    return parse_config({"scholar": settings, "output": {"dir": str(output)}}, path=None, env={})


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below `directory`, by relative path, with its exact bytes."""
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()
    }
