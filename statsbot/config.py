"""statsbot.toml: where it is found, how it is read, and `Config`, the model that validates it.

`Config` is put together from the run-wide sections (`statsbot.settings`) and each source's
own section model (`Source.config_model`, for every source in `statsbot.sources.SOURCES`),
so adding a source adds its section here without an edit.

Every error is a `ConfigError` whose message names the file, the key and the problem
on one line, e.g. ``statsbot.toml: scholar.timeout_seconds: must be greater than 0``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from statsbot.errors import ConfigError
from statsbot.people import Person, check_unique, expand
from statsbot.settings import (
    ChartsConfig,
    OutputConfig,
    PublishConfig,
    RunConfig,
    Section,
    show,
)
from statsbot.sources import SOURCES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_NAME = "statsbot.toml"
CONFIG_ENV = "STATSBOT_CONFIG"


class _ConfigBase(Section):
    def has_sources(self) -> bool:
        return any(cls.from_config(self) is not None for cls in SOURCES)  # type: ignore[arg-type]


# The whole file. Unknown keys anywhere are errors, so typos never pass silently.
Config = create_model(
    "Config",
    __base__=_ConfigBase,
    __doc__="The whole statsbot.toml: one optional section per source, `[[people]]`, then the run-wide sections.",
    **{cls.name: (cls.config_model | None, None) for cls in SOURCES},  # type: ignore[call-overload]
    people=(Annotated[list[Person], AfterValidator(check_unique)], Field(default_factory=list)),  # type: ignore[valid-type]
    output=(OutputConfig, OutputConfig()),
    publish=(PublishConfig, PublishConfig()),
    run=(RunConfig, RunConfig()),
    charts=(ChartsConfig, ChartsConfig()),
)


class LoadedConfig(BaseModel):
    """A validated config plus where it came from (relative paths resolve against `base_dir`)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: Config
    path: Path | None
    base_dir: Path

    @property
    def output_dir(self) -> Path:
        return (self.base_dir / self.config.output.dir).resolve()

    def describe(self) -> str:
        return str(self.path) if self.path else "(no config file)"

    def require_sources(self) -> None:
        if not self.config.has_sources():
            wants = [cls.wants for cls in SOURCES]
            listed = ", ".join(wants[:-1]) + (", or " if len(wants) > 2 else " or ") + wants[-1] if len(wants) > 1 else wants[0]
            raise ConfigError(f"{self.describe()}: nothing to fetch: set {listed}, or add [[people]] entries")


def find_config_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """``--config PATH``, else ``$STATSBOT_CONFIG``, else ``./statsbot.toml`` if it exists."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given with --config)")
        return path
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (named by ${CONFIG_ENV})")
        return path
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_config(
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    env = os.environ if env is None else env
    path = find_config_path(explicit, env)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_config(raw, path=path, env=env)


def parse_config(raw: Mapping[str, Any], *, path: Path | None, env: Mapping[str, str]) -> LoadedConfig:
    """Validate a parsed TOML document, filling in what the environment provides."""
    data = {key: (dict(value) if isinstance(value, dict) else value) for key, value in raw.items()}
    if "outputs" in data:  # [outputs] is another name for [output] (the name issue 13 used)
        if "output" in data:
            raise ConfigError(f"{path or 'config'}: outputs: [output] and [outputs] are the same table; keep one of them")
        data["output"] = data.pop("outputs")
    from_env: dict[str, str] = {}  # "section.key" filled from the environment -> the variable
    if data.get("people"):  # $GOOGLE_SCHOLAR_ID and the like fill the single-person case only
        variables = {v.lstrip("$") for cls in SOURCES for v in cls.env_keys.values()}
        env = {k: v for k, v in env.items() if k not in variables}
    for cls in SOURCES:
        section = data.get(cls.name)
        if section is not None and not isinstance(section, dict):
            continue  # validation says it must be a table
        for key, variable in cls.secret_keys.items():
            if section is not None and key in section:
                raise ConfigError(
                    f"{path or 'config'}: {cls.name}.{key}: secrets are never read from the config file "
                    f"(it gets committed); set {variable} instead"
                )
        prepared = cls.prepare(section, env)
        if prepared is not None:
            data[cls.name] = prepared
            for key, variable in cls.env_keys.items():
                if key in prepared and (section is None or key not in section):
                    from_env[f"{cls.name}.{key}"] = variable
    where = str(path) if path else "config"
    try:
        config = Config.model_validate(expand(data))
    except ValidationError as exc:
        raise ConfigError(_format_errors(where, exc, from_env)) from None
    base_dir = path.parent if path else Path.cwd()
    return LoadedConfig(config=config, path=path, base_dir=base_dir.resolve())


def _format_errors(where: str, exc: ValidationError, from_env: Mapping[str, str]) -> str:
    env_keys = {f"{cls.name}.{key}": variable for cls in SOURCES for key, variable in cls.env_keys.items()}
    problems = []
    for error in exc.errors():
        loc = ".".join(_key(part) for part in error["loc"])
        if loc in from_env:
            loc = from_env[loc]
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key" + _allowed_keys(error["loc"])
        elif kind == "missing":
            message = "missing"
            if loc in env_keys:
                message += f" (set it here or in {env_keys[loc]})"
        elif kind in ("model_type", "dict_type"):
            message = f"must be a table, got {show(error.get('input'))}"
        else:
            message = str(error["msg"])
            message = message.removeprefix("Value error, ")
            message = message.replace("Input should", "must", 1)
            if kind not in ("value_error",) and "input" in error and not isinstance(error["input"], dict):
                message += f" (got {show(error['input'])})"
        problems.append(f"{loc}: {message}")
    return f"{where}: " + "; ".join(problems)


def _key(part: Any) -> str:
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else show(text)


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        if isinstance(part, int):  # an entry of a list of tables ([[people]])
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        nested = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if nested is None:
            return ""
        model = nested
    return " (allowed: " + ", ".join(sorted(model.model_fields)) + ")"
