"""shields.io endpoint badges: the schema (exactly the keys shields accepts) and builders.

shields rejects a whole badge when it has any other key, so the model forbids extra
keys and checks the rules of shields' own endpoint schema: `schemaVersion` 1, a
string `label` (may be empty), a non-empty `message`, `namedLogo` or `logoSvg` but
not both, `logoColor`/`logoWidth` only with a logo, `cacheSeconds` a whole number >= 0.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_CACHE_SECONDS = 3600  # the data changes daily; shields ignores values below 300


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


def count_badge(label: str, value: int, *, logo: str | None = None, color: str = "blue") -> Badge:
    """A badge showing an exact count, e.g. ``citations | 1234``."""
    return Badge(
        label=label,
        message=str(value),
        color=color,
        namedLogo=logo,
        cacheSeconds=DEFAULT_CACHE_SECONDS,
    )
