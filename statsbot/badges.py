"""shields.io endpoint badges: the schema (exactly the keys shields accepts) and builders.

shields rejects a whole badge when it has any other key, so the model forbids extra
keys and checks the rules of shields' own endpoint schema: `schemaVersion` 1, a
string `label` (may be empty), a non-empty `message`, `namedLogo` or `logoSvg` but
not both, `logoColor`/`logoWidth` only with a logo, `cacheSeconds` a whole number >= 0.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_CACHE_SECONDS = 3600  # the data changes daily; shields ignores values below 300


STALE_COLOR = "lightgrey"  # a stale item's badges, after stale_after_days: same number, grey

class Badge(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    schemaVersion: Literal[1] = 1
    label: str
    message: str = Field(min_length=1)
    color: str | None = Field(None, min_length=1)
    labelColor: str | None = Field(None, min_length=1)
    isError: bool | None = None
    namedLogo: str | None = Field(None, min_length=1)
    logoSvg: str | None = Field(None, min_length=1)
    logoColor: str | None = Field(None, min_length=1)
    logoWidth: int | None = None
    style: str | None = Field(None, min_length=1)
    cacheSeconds: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _logo_rules(self) -> "Badge":
        if self.namedLogo is not None and self.logoSvg is not None:
            raise ValueError("namedLogo and logoSvg cannot both be set")
        if self.logoColor is not None and self.namedLogo is None:
            raise ValueError("logoColor needs namedLogo")
        if self.logoWidth is not None and self.namedLogo is None and self.logoSvg is None:
            raise ValueError("logoWidth needs a logo")
        return self

    def to_json(self) -> dict[str, Any]:
        """The endpoint JSON: only the keys that are set."""
        return self.model_dump(exclude_none=True)


def count_badge(label: str, value: int, *, logo: str | None = None, color: str = "blue", short: bool = False) -> Badge:
    """A badge showing a count: exact (``citations | 1234``), or with `short` as shields
    prints counts (``stars | 1.2k``)."""
    return Badge(
        label=label,
        message=format_count(value) if short else str(value),
        color=color,
        namedLogo=logo,
        cacheSeconds=DEFAULT_CACHE_SECONDS,
    )


_PREFIXES = "kMGTPEZY"


def format_count(n: int) -> str:
    """A count the way shields.io prints one: 950, 1.2k, 12k, 999k, 1M, 1.2M.

    Below 10 of a unit one decimal is shown unless it is 0; otherwise the scaled
    value is rounded half up, and a value that rounds to 1000 moves to the next unit.
    Rounding follows JavaScript's on the same floating-point value (`toFixed(1)`,
    `Math.round`), which rounds exact halves up where Python's `round` would not.
    """
    if n < 0:
        return "-" + format_count(-n)
    for power in range(len(_PREFIXES), 0, -1):
        limit = 1000**power
        if n < limit:
            continue
        scaled = n / limit  # the same IEEE double JavaScript computes
        if scaled < 10:
            one_decimal = Decimal(scaled).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if one_decimal % 1 != 0:
                return f"{one_decimal}{_PREFIXES[power - 1]}"
        rounded = int(Decimal(scaled).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if rounded < 1000 or power == len(_PREFIXES):
            return f"{rounded}{_PREFIXES[power - 1]}"
        return f"1{_PREFIXES[power]}"
    return str(n)

