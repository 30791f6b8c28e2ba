"""`.statsbot/cache.json` in the output folder: ETags and the values they stand for.

It travels with the published data, so the next run (on another machine) can send
conditional requests. A missing or unreadable cache is simply empty.
"""

from __future__ import annotations

from typing import Any

from statsbot.snapshot import Snapshot, read_json

CACHE_FILE = ".statsbot/cache.json"
CACHE_SCHEMA_VERSION = 1


def load_cache(previous: Snapshot) -> dict[str, Any]:
    data = read_json(previous, CACHE_FILE)
    if not isinstance(data, dict) or data.get("schema_version") != CACHE_SCHEMA_VERSION:
        return {}
    return data


def section(cache: dict[str, Any], name: str) -> dict[str, Any]:
    value = cache.get(name)
    return value if isinstance(value, dict) else {}


def cache_document(sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": CACHE_SCHEMA_VERSION, **sections}
