"""`[[people]]`: the members of a lab or department, each with their own ids.

```toml
[[people]]
name = "Ada Lovelace"
scholar = "DhtAFkwAAAAJ"              # one profile
openalex = ["0000-0002-1825-0097"]     # lists: every id of the person on that source
semanticscholar = ["1741101"]
github = ["ada"]                       # users or organisations
huggingface = ["ada-lab/engine"]       # models
```

Each key after `name` belongs to a source (`Source.person_key`) and is checked as that
source checks its own ids. A person's ids join the source's own section (`add_people`),
so every source fetches, settles and renders them as it does any item: one blocked
profile never touches the others. The single-person sections (`[scholar] id`, ...) keep
working; their items belong to the page's owner, who is not one of `people`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from pydantic import ConfigDict, Field, create_model, field_validator

from statsbot.settings import Section, show
from statsbot.sources import SOURCES
from statsbot.sources.base import Source

OWNER = "owner"  # the unit of the single-person sections, for shards


def slug(name: str) -> str:
    """A person's name as a path segment and a shard key: ``Zoë Ñúñez-Øberg`` -> ``zoe-nunez-oberg``."""
    flat = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", flat.lower()).strip("-")


def _check_name(value: str) -> str:
    if not value.strip() or "\n" in value or len(value) > 100:
        raise ValueError(f"must be one line of at most 100 characters, got {show(value)}")
    if not slug(value):
        raise ValueError(f"must hold a letter or a digit (it names the person's files), got {show(value)}")
    if slug(value) == OWNER:
        raise ValueError(f"{value!r} is reserved for the single-person sections; choose another name")
    return value


class _PersonBase(Section):
    name: str

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    def ids(self, source: type[Source]) -> list[str]:
        """This person's ids on `source` (a single one given as a list of one)."""
        value = getattr(self, source.person_key or "", None)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    @property
    def slug(self) -> str:
        return slug(self.name)


_PERSON_SOURCES = [cls for cls in SOURCES if cls.person_key]

Person = create_model(
    "Person",
    __base__=_PersonBase,
    __doc__="One `[[people]]` entry: a name and the person's ids on each source.",
    **{cls.person_key: (cls.person_type | None, None) for cls in _PERSON_SOURCES},  # type: ignore[call-overload]
)

_PeopleOnly = create_model(
    "_PeopleOnly",
    __config__=ConfigDict(extra="ignore", strict=True),
    people=(list[Person], Field(default_factory=list)),  # type: ignore[valid-type]
)


def check_unique(people: list[Any]) -> list[Any]:
    seen: dict[str, str] = {}
    for person in people:
        key = person.slug
        if key in seen:
            raise ValueError(f"{person.name!r} and {seen[key]!r} are the same name for statsbot ({key!r}): make them differ")
        seen[key] = person.name
    return people


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """The raw document with every person's ids added to their sources' sections (raises
    pydantic's ValidationError, located under ``people``, for a bad entry)."""
    people = _PeopleOnly.model_validate({"people": data.get("people", [])}).people
    if not people:
        return data
    out = dict(data)
    for cls in _PERSON_SOURCES:
        ids = [i for person in people for i in person.ids(cls)]
        section = out.get(cls.name)
        if section is None or isinstance(section, dict):
            added = cls.add_people(section, ids)
            if added is not None:
                out[cls.name] = added
    return out


def items_of(person: Any) -> list[tuple[str, str]]:
    """The items (result source, item) that are this person's, over every source."""
    return [item for cls in _PERSON_SOURCES for item in cls.person_items(person.ids(cls))]


def by_person(config: Any) -> Mapping[str, list[tuple[str, str]]]:
    """Each person's items, by slug, in the order of `[[people]]`."""
    return {person.slug: items_of(person) for person in config.people}
