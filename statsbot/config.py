"""statsbot.toml: where it is found, how it is read, and the models that validate it.

Every error is a `ConfigError` whose message names the file, the key and the problem
on one line, e.g. ``statsbot.toml: scholar.timeout_seconds: must be greater than 0``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from statsbot.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_NAME = "statsbot.toml"
CONFIG_ENV = "STATSBOT_CONFIG"
SCHOLAR_ID_ENV = "GOOGLE_SCHOLAR_ID"
HF_ENDPOINT_ENV = "HF_ENDPOINT"
DEFAULT_SCHOLAR_BASE_URL = "https://scholar.google.com"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_SCRAPERAPI_URL = "https://api.scraperapi.com"
DEFAULT_SERPAPI_URL = "https://serpapi.com"

_SCHOLAR_ID = re.compile(r"[A-Za-z0-9_-]{12}")
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def validate_scholar_id(value: str) -> str:
    """A Google Scholar user id: the 12 characters after ``user=`` in a profile URL.

    A whole profile URL (``https://scholar.google.com/citations?user=DhtAFkwAAAAJ&hl=en``,
    any ``scholar.google.*`` host, http or https) is accepted too: its ``user=`` value is the id.
    """
    if isinstance(value, str) and _looks_like_url(value):
        return _scholar_id_from_url(value)
    if not isinstance(value, str) or not _SCHOLAR_ID.fullmatch(value):
        raise ValueError(
            "must be a Google Scholar user id: 12 characters of letters, digits, '_' or '-' "
            f"(the part after user= in the profile URL), got {_show(value)}"
        )
    return value


_SCHOLAR_HOST = re.compile(r"scholar\.google(?:\.[a-z]{2,3}){1,2}")


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _scholar_id_from_url(value: str) -> str:
    from urllib.parse import parse_qs

    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:
        host, parts = "", None
    users = parse_qs(parts.query).get("user", []) if parts is not None else []
    if (
        parts is None
        or not _SCHOLAR_HOST.fullmatch(host)
        or parts.path.rstrip("/") != "/citations"
        or len(users) != 1
        or not _SCHOLAR_ID.fullmatch(users[0])
    ):
        raise ValueError(
            "a profile URL must look like https://scholar.google.com/citations?user=XXXXXXXXXXXX "
            f"(user= followed by the 12-character id), got {_show(value)}"
        )
    return users[0]


def validate_github_owner(value: str) -> str:
    """A GitHub user or organisation: letters, digits and single hyphens, not at either end."""
    if not isinstance(value, str) or not _GITHUB_OWNER.fullmatch(value):
        raise ValueError(
            "must be a GitHub user or organisation name: letters, digits and single hyphens "
            f"(not first or last, at most 39), got {_show(value)}"
        )
    return value


def _validate_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _REPO_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{what}: letters, digits, '.', '_' and '-' only, and not '.' or '..', got {_show(value)}")
    return value


def validate_github_repo(value: str) -> str:
    """``owner/name``, both parts checked, so the pair can become a path and a URL safely."""
    owner, slash, name = value.partition("/") if isinstance(value, str) else ("", "", "")
    if not slash:
        raise ValueError(f"must be 'owner/name', got {_show(value)}")
    validate_github_owner(owner)
    _validate_name(name, "the repository name must be")
    return value


def validate_hf_repo(value: str) -> str:
    """A Hugging Face ``org/name``, or a bare ``name`` for the Hub's older repositories without an
    organisation (``gpt2``, ``bert-base-uncased``): letters, digits, '.', '_' and '-' in each part."""
    if not isinstance(value, str):
        raise ValueError(f"must be 'org/name' or 'name', got {_show(value)}")
    org, slash, name = value.partition("/")
    if not slash:
        _validate_name(value, "must be 'org/name' or a bare name")
        return value
    _validate_name(org, "the organisation must be")
    _validate_name(name, "the name must be")
    return value


def validate_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://example.org, got {_show(value)}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"must be a plain base URL without query, fragment or credentials, got {_show(value)}")
    return value.rstrip("/")


def validate_proxy_url(value: str) -> str:
    """A proxy URL without credentials (the file gets committed: those go in $STATSBOT_SCHOLAR_PROXY)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError(f"must be a proxy URL such as http://proxy.example:3128, got {_show(value)}")
    if parts.username or parts.password:
        raise ValueError(
            "must not hold credentials (this file gets committed): put the whole URL in $STATSBOT_SCHOLAR_PROXY instead"
        )
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ScholarConfig(_Section):
    """``[scholar]``: one Google Scholar profile."""

    id: str
    base_url: str = DEFAULT_SCHOLAR_BASE_URL
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    page_delay_seconds: float = Field(1.0, ge=0, le=60)
    # The ways to get the profile, tried in order until one succeeds (see README, "Scholar from GitHub Actions").
    fetchers: list[Literal["direct", "scraperapi", "serpapi"]] = Field(default_factory=lambda: ["direct"], min_length=1)
    proxy: str | None = None  # for the direct fetcher; one with credentials goes in $STATSBOT_SCHOLAR_PROXY
    scraperapi_url: str = DEFAULT_SCRAPERAPI_URL
    serpapi_url: str = DEFAULT_SERPAPI_URL
    min_interval_hours: float = Field(20.0, ge=0, le=24 * 365)  # paid fetchers wait this long after the last good fetch

    _check_fetchers = field_validator("fetchers")(classmethod(lambda cls, v: _unique(v, "fetcher")))
    _check_proxy = field_validator("proxy")(classmethod(lambda cls, v: None if v is None else validate_proxy_url(v)))
    _check_scraperapi = field_validator("scraperapi_url")(classmethod(lambda cls, v: validate_base_url(v)))
    _check_serpapi = field_validator("serpapi_url")(classmethod(lambda cls, v: validate_base_url(v)))
    _check_id = field_validator("id")(classmethod(lambda cls, v: validate_scholar_id(v)))
    _check_base = field_validator("base_url")(classmethod(lambda cls, v: validate_base_url(v)))


GitHubRepo = Annotated[str, AfterValidator(validate_github_repo)]
GitHubOwner = Annotated[str, AfterValidator(validate_github_owner)]
HuggingFaceRepo = Annotated[str, AfterValidator(validate_hf_repo)]


class GitHubConfig(_Section):
    """``[github]``: repositories, and every public non-fork repository of some users or organisations.

    The token comes from ``$GITHUB_TOKEN`` (or ``$GH_TOKEN``), never from this file.
    """

    repos: list[GitHubRepo] = []
    users: list[GitHubOwner] = []
    api_url: str = DEFAULT_GITHUB_API_URL
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    max_workers: int = Field(16, ge=1, le=64)

    _check_repos = field_validator("repos")(classmethod(lambda cls, v: _unique(v, "repository")))
    _check_users = field_validator("users")(classmethod(lambda cls, v: _unique(v, "user")))
    _check_api = field_validator("api_url")(classmethod(lambda cls, v: validate_base_url(v)))


class HuggingFaceConfig(_Section):
    """``[huggingface]``: models and datasets. The token comes from ``$HF_TOKEN``."""

    models: list[HuggingFaceRepo] = []
    datasets: list[HuggingFaceRepo] = []
    endpoint: str | None = None  # default: $HF_ENDPOINT, else https://huggingface.co
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)
    max_workers: int = Field(8, ge=1, le=64)

    _check_models = field_validator("models")(classmethod(lambda cls, v: _unique(v, "model")))
    _check_datasets = field_validator("datasets")(classmethod(lambda cls, v: _unique(v, "dataset")))
    _check_endpoint = field_validator("endpoint")(classmethod(lambda cls, v: None if v is None else validate_base_url(v)))


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            raise ValueError(f"lists the {what} {value!r} twice")
        seen.add(value.lower())
    return values


_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])(?<!\.lock)")
_REMOTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def validate_branch(value: str) -> str:
    if not isinstance(value, str) or not _BRANCH.fullmatch(value) or "/." in value or value.startswith("."):
        raise ValueError(f"must be a plain git branch name such as google-scholar-stats, got {_show(value)}")
    return value


def validate_remote(value: str) -> str:
    if not isinstance(value, str) or not _REMOTE.fullmatch(value):
        raise ValueError(f"must be the name of a git remote such as origin, got {_show(value)}")
    return value


def validate_message(value: str) -> str:
    if not value.strip() or "\n" in value or len(value) > 200:
        raise ValueError("must be one non-empty line of at most 200 characters")
    return value


class PublishConfig(_Section):
    """``[publish]``: the data branch that homepages read."""

    branch: str = "google-scholar-stats"
    remote: str = "origin"
    repo: str | None = None  # default: the git repository around the current folder
    history: Literal["keep", "squash"] = "keep"
    message: str = "statsbot: update stats"

    _check_branch = field_validator("branch")(classmethod(lambda cls, v: validate_branch(v)))
    _check_remote = field_validator("remote")(classmethod(lambda cls, v: validate_remote(v)))
    _check_message = field_validator("message")(classmethod(lambda cls, v: validate_message(v)))


class RunConfig(_Section):
    """``[run]``: limits and rules for the whole run."""

    deadline_seconds: float = Field(600.0, gt=0, le=6 * 3600)
    max_drop_percent: float = Field(20.0, ge=0, le=100)
    stale_after_days: float = Field(7.0, ge=0, le=3650)


class ChartsConfig(_Section):
    """``[charts]``: SVG charts on the data branch."""

    enabled: bool = True
    repositories: bool = False  # a stars chart for every configured repository, not only the totals


class OutputConfig(_Section):
    """``[output]``: where the files are written."""

    dir: str = Field("output", min_length=1)


class Config(_Section):
    """The whole file. Unknown keys anywhere are errors, so typos never pass silently."""

    scholar: ScholarConfig | None = None
    github: GitHubConfig | None = None
    huggingface: HuggingFaceConfig | None = None
    output: OutputConfig = OutputConfig()
    publish: PublishConfig = PublishConfig()
    run: RunConfig = RunConfig()
    charts: ChartsConfig = ChartsConfig()

    def has_sources(self) -> bool:
        return bool(
            self.scholar
            or (self.github and (self.github.repos or self.github.users))
            or (self.huggingface and (self.huggingface.models or self.huggingface.datasets))
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
            raise ConfigError(
                f"{self.describe()}: nothing to fetch: set [scholar] id (or ${SCHOLAR_ID_ENV}), "
                "[github] repos or users, or [huggingface] models or datasets"
            )


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
    id_from_env = False
    env_id = env.get(SCHOLAR_ID_ENV, "").strip()
    scholar = data.get("scholar")
    if env_id and (scholar is None or (isinstance(scholar, dict) and "id" not in scholar)):
        data["scholar"] = {**(scholar or {}), "id": env_id}
        id_from_env = True
    hf = data.get("huggingface")
    if isinstance(hf, dict) and "endpoint" not in hf:
        data["huggingface"] = {**hf, "endpoint": env.get(HF_ENDPOINT_ENV) or DEFAULT_HF_ENDPOINT}
    for section, key in (("github", "token"), ("huggingface", "token")):
        if isinstance(data.get(section), dict) and key in data[section]:
            variable = "$GITHUB_TOKEN (or $GH_TOKEN)" if section == "github" else "$HF_TOKEN"
            raise ConfigError(
                f"{path or 'config'}: {section}.{key}: tokens are never read from the config file "
                f"(it gets committed); set {variable} instead"
            )
    where = str(path) if path else "config"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(where, exc, id_from_env)) from None
    base_dir = path.parent if path else Path.cwd()
    return LoadedConfig(config=config, path=path, base_dir=base_dir.resolve())


def _format_errors(where: str, exc: ValidationError, id_from_env: bool) -> str:
    problems = []
    for error in exc.errors():
        loc = ".".join(_key(part) for part in error["loc"])
        if id_from_env and loc == "scholar.id":
            loc = f"${SCHOLAR_ID_ENV}"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key" + _allowed_keys(error["loc"])
        elif kind == "missing":
            message = "missing"
            if loc == "scholar.id":
                message += f" (set it here or in ${SCHOLAR_ID_ENV})"
        elif kind in ("model_type", "dict_type"):
            message = f"must be a table, got {_show(error.get('input'))}"
        else:
            message = str(error["msg"])
            message = message.removeprefix("Value error, ")
            message = message.replace("Input should", "must", 1)
            if kind not in ("value_error",) and "input" in error and not isinstance(error["input"], dict):
                message += f" (got {_show(error['input'])})"
        problems.append(f"{loc}: {message}")
    return f"{where}: " + "; ".join(problems)


def _key(part: Any) -> str:
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _show(text)


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        nested = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if nested is None:
            return ""
        model = nested
    return " (allowed: " + ", ".join(sorted(model.model_fields)) + ")"
