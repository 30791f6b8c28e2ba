"""Shards: a lab's people fetched by several jobs at once (`statsbot plan`, `statsbot fetch --shard i/N`).

The units of work are the people of `[[people]]` (by slug) and `owner`, the page's owner,
when the single-person sections (`[scholar] id`, `[github] repos`, ...) name any item.
Each unit goes to one of N shards by rendezvous (highest random weight) hashing: the shard
whose ``sha256(f"{unit}\\0{shard}")`` is highest. A unit's shard depends only on its own
name and N, so adding a person moves no one else, and going from N to N+1 shards moves
about 1/(N+1) of the units (those the new shard wins). A shard may hold no unit at all.

`restrict` cuts the raw statsbot.toml down to a shard's units before `[[people]]` joins
the sources: it keeps the shard's people and, when `owner` is not among its units, drops
the item keys of the single-person sections (`Source.item_keys`) but keeps their settings
(base URLs, fetchers, timeouts), which then apply to the people's items. An id a person
shares with the single-person sections (the lab's head, who is both the page's owner and
one of the people) is the owner's item: only the owner's shard fetches it, as the owner's
(Scholar's gs_data.json comes with it), whichever shard the person falls in.

The shard's results file keeps the fingerprint of the whole config, so `statsbot publish`
checks it against the config it publishes with (`statsbot.stages`).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statsbot.config import Config, LoadedConfig, parse_config
from statsbot.errors import ConfigError
from statsbot.people import OWNER
from statsbot.settings import show
from statsbot.sources import SOURCES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MAX_SHARDS = 256  # a GitHub Actions matrix runs at most 256 jobs

# The variables that fill a single-person section's id ($GOOGLE_SCHOLAR_ID): the owner's items.
_ID_VARIABLES = frozenset(v.lstrip("$") for cls in SOURCES for v in cls.env_keys.values())


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (both from 1), written ``index/count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``i/N`` with 1 <= i <= N <= 256 (ValueError with a one-line reason otherwise)."""
    match = re.fullmatch(r"(\d{1,6})/(\d{1,6})", text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"must be i/N, this job's shard i of N (e.g. 2/3), got {show(text)}")
    index, count = int(match[1]), int(match[2])
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"N must be from 1 to {MAX_SHARDS}, got {show(text)}")
    if not 1 <= index <= count:
        raise ValueError(f"i must be from 1 to N, got {show(text)}")
    return Shard(index, count)


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"must be from 1 to {MAX_SHARDS}, got {count}")
    return count


# ------------------------------------------------------------------ assignment


def weight(unit: str, shard: int) -> int:
    """The unit's random weight for a shard: the first 8 bytes of sha256(unit NUL shard)."""
    return int.from_bytes(hashlib.sha256(f"{unit}\0{shard}".encode()).digest()[:8], "big")


def shard_of(unit: str, count: int) -> int:
    """The shard (1..count) with the highest weight for the unit (a tie goes to the lower shard)."""
    return max(range(1, count + 1), key=lambda shard: (weight(unit, shard), -shard))


def assign(units: Sequence[str], count: int) -> dict[str, int]:
    """Each unit's shard, 1..count."""
    check_count(count)
    return {unit: shard_of(unit, count) for unit in units}


def members(units: Sequence[str], shard: Shard) -> list[str]:
    """The units of one shard, in the order of `units`."""
    return [unit for unit in units if shard_of(unit, shard.count) == shard.index]


def matrix(count: int) -> dict[str, list[str]]:
    """The GitHub Actions matrix for `fromJSON`: one job per shard, ``matrix.shard`` = ``i/N``."""
    check_count(count)
    return {"shard": [str(Shard(i, count)) for i in range(1, count + 1)]}


# ------------------------------------------------------------------------ units


def read_raw(loaded: LoadedConfig) -> dict[str, Any]:
    """The parsed TOML document behind a loaded config (load_config has read it once already)."""
    if loaded.path is None:
        return {}
    try:
        return tomllib.loads(loaded.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{loaded.path}: cannot be read again: {exc}") from None


def owner_items(config: Config, raw: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """What the single-person sections name, as validated: source -> item key -> values.

    `[[people]]` only appends to a source's `people_list` (each id once), so the owner's
    part of that list is as long as the file's own list; `$GOOGLE_SCHOLAR_ID` counts as
    the owner's `[scholar] id`."""
    found: dict[str, dict[str, list[str]]] = {}
    for cls in SOURCES:
        settings = getattr(config, cls.name, None)
        if settings is None:
            continue
        section = raw.get(cls.name) if isinstance(raw.get(cls.name), dict) else {}
        keys: dict[str, list[str]] = {}
        for key in cls.item_keys:
            value = getattr(settings, key, None)
            if value is None:
                continue
            values = [value] if isinstance(value, str) else [str(v) for v in value]
            if key == cls.people_list and config.people:
                listed = section.get(key)
                values = values[: len(listed) if isinstance(listed, list) else 0]
            if values:
                keys[key] = values
        if keys:
            found[cls.name] = keys
    return found


def units_of(config: Config, raw: Mapping[str, Any]) -> list[str]:
    """Every unit of work: the people's slugs in the order of `[[people]]`, then `owner`
    when the single-person sections name any item."""
    people = [person.slug for person in config.people]
    return people + ([OWNER] if owner_items(config, raw) else [])


def plan_units(loaded: LoadedConfig) -> list[str]:
    return units_of(loaded.config, read_raw(loaded))


# --------------------------------------------------------------------- restrict


def _shared(config: Config, raw: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per source, the owner's ids a person's ids may repeat (lower-cased, as `add_people`
    compares): the list people join, and a single id (`[scholar] id`)."""
    shared: dict[str, set[str]] = {}
    owned = owner_items(config, raw)
    for cls in SOURCES:
        keys = owned.get(cls.name, {})
        settings = getattr(config, cls.name, None)
        chosen = [v for key, values in keys.items() if key == cls.people_list or isinstance(getattr(settings, key, None), str) for v in values]
        if chosen:
            shared[cls.name] = {v.lower() for v in chosen}
    return shared


def restrict(raw: Mapping[str, Any], config: Config, keep: Collection[str]) -> dict[str, Any]:
    """The raw document of a shard whose units are `keep` (`config`: the whole one, validated)."""
    out = {key: (dict(value) if isinstance(value, dict) else value) for key, value in raw.items()}
    owner = OWNER in keep
    shared = {} if owner else _shared(config, raw)
    people = []
    entries = raw.get("people") if isinstance(raw.get("people"), list) else []
    for entry, person in zip(entries, config.people, strict=True):
        if person.slug not in keep:
            continue
        entry = dict(entry)
        for cls in SOURCES:
            key = cls.person_key
            if not key or key not in entry or cls.name not in shared:
                continue
            ids = [i for i in person.ids(cls) if i.lower() not in shared[cls.name]]
            if not ids:
                del entry[key]
            else:
                entry[key] = ids if isinstance(getattr(person, key), list) else ids[0]
        people.append(entry)
    if "people" in out:
        out["people"] = people
    if not owner:
        for cls in SOURCES:
            section = out.get(cls.name)
            if not isinstance(section, dict):
                continue
            for key in cls.item_keys:
                section.pop(key, None)
            if not any(cls.person_key in entry for entry in people):
                del out[cls.name]  # only settings left, and no one here to apply them to
    return out


def shard_config(loaded: LoadedConfig, shard: Shard, env: Mapping[str, str]) -> tuple[LoadedConfig, list[str]]:
    """The config a shard fetches with, and its units."""
    raw = read_raw(loaded)
    keep = members(units_of(loaded.config, raw), shard)
    data = restrict(raw, loaded.config, keep)
    if raw.get("people") or OWNER not in keep:
        # $GOOGLE_SCHOLAR_ID names the owner's profile, and only when there are no people.
        env = {k: v for k, v in env.items() if k not in _ID_VARIABLES}
    try:
        return parse_config(data, path=loaded.path, env=env), keep
    except ConfigError as exc:  # the whole config is valid: a shard of it should be too
        raise ConfigError(f"shard {shard}: {exc}") from None
