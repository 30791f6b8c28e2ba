"""`statsbot init`: a config file and a daily workflow for a homepage repository."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from statsbot.errors import ConfigError
from statsbot.jsonio import write_bytes_atomic
from statsbot.sources.github import validate_github_repo
from statsbot.sources.scholar.config import validate_scholar_id

CONFIG_PATH = "statsbot.toml"
WORKFLOW_PATH = ".github/workflows/statsbot.yml"
ACADHOMEPAGE_CRAWLER = ".github/workflows/google_scholar_crawler.yaml"
# `init --fetcher NAME`: the paid Scholar fetchers it can add after "direct", and what the user must do for each.
PAID_FETCHERS = {
    "serpapi": {
        "secret": "SERPAPI_API_KEY",
        "where": "your private API key at https://serpapi.com/manage-api-key",
        "cost": (
            "SerpApi counts one search per 100 papers per run, and only successful searches; its free plan "
            "(about 100 searches a month) covers one daily run of a profile of up to 100 papers"
        ),
    },
    "scraperapi": {
        "secret": "SCRAPER_API_KEY",
        "where": "your API key at https://dashboard.scraperapi.com",
        "cost": (
            "ScraperAPI bills each successful request (one per 100 papers per run) in credits, "
            "25 credits for a Google page (docs.scraperapi.com/credits-and-requests)"
        ),
    },
}
_REPOSITORY = re.compile(r"""^repository\s*:\s*["']?([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)["']?\s*(?:#.*)?$""", re.MULTILINE)
_GITHUB_REMOTE = re.compile(r"github\.com[:/]([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?$")


@dataclass
class InitResult:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repository: str | None = None
    replaces: str | None = None
    scholar_id: str | None = None
    ignored_output: bool = False
    fetchers: list[str] = field(default_factory=list)  # paid Scholar fetchers added by --fetcher
    lab: bool = False  # --lab: [[people]] and the sharded workflow

    def lines(self) -> list[str]:
        out = [f"wrote {path}" for path in self.written]
        out += [f"unchanged {path}" for path in self.unchanged]
        out += [f"kept your {path} (run with --force to replace it)" for path in self.kept]
        if self.ignored_output:
            out.append("added output/ (statsbot's local output folder) to .gitignore")
        if self.replaces:
            out.append(
                f"This replaces {self.replaces} (AcadHomepage's crawler): delete that file once statsbot has run, "
                "so that two jobs do not push google-scholar-stats."
            )
        repo = self.repository or "OWNER/REPO"
        out.append("")
        out.append("Next steps:")
        step = 1
        if self.lab:
            return out + self._lab_steps(repo)
        if not self.scholar_id:
            out.append(
                f"  {step}. Add the secret GOOGLE_SCHOLAR_ID (the part after user= in your Scholar profile URL) at "
                f"https://github.com/{repo}/settings/secrets/actions"
            )
            step += 1
        for line in self._fetcher_steps(
            f"https://github.com/{repo}/settings/secrets/actions",
            "when Scholar blocks the runner, statsbot fetches the profile through {name}. Cost: {cost}; a second run "
            "within min_interval_hours (20) of the last good fetch does not call it.",
        ):
            out.append(f"  {step}. {line}")
            step += 1
        out.append(f"  {step}. Commit and push {CONFIG_PATH} and {WORKFLOW_PATH}.")
        out.append(
            f"  {step + 1}. Run the workflow once: https://github.com/{repo}/actions/workflows/statsbot.yml (Run workflow)."
        )
        out.append(f"  {step + 2}. Then `statsbot badges` prints the badge snippets for your pages.")
        return out

    def _fetcher_steps(self, secrets: str, why: str) -> list[str]:
        """The steps for `--fetcher` (unnumbered): the chain to add to a kept config, each paid fetcher's secret."""
        steps = []
        if self.fetchers and CONFIG_PATH in self.kept:
            names = ", ".join(f'"{name}"' for name in ("direct", *self.fetchers))
            steps.append(f"Add fetchers = [{names}] under [scholar] in your {CONFIG_PATH} (it was kept as it was).")
        for name in self.fetchers:
            paid = PAID_FETCHERS[name]
            steps.append(f"Add the secret {paid['secret']} ({paid['where']}) at {secrets}: " + why.format(name=name, cost=paid["cost"]))
        return steps

    def _lab_steps(self, repo: str) -> list[str]:
        secrets = f"https://github.com/{repo}/settings/secrets/actions"
        out = [
            f"  1. Add one [[people]] entry per person to {CONFIG_PATH} (a name, then their ids: scholar = \"...\", "
            "github = [...], ...; the file has two examples to copy). `statsbot check` shows what will be fetched.",
            f"  2. Optional secrets, at {secrets}: OPENALEX_API_KEY (free, for openalex ids) and S2_API_KEY "
            "(for semanticscholar ids). GOOGLE_SCHOLAR_ID is not used: each person's Scholar id is in the file.",
        ]
        step = 3
        for line in self._fetcher_steps(
            secrets,
            "when Scholar blocks a runner, statsbot fetches that runner's profiles through {name}. "
            "Cost, for each person: {cost}.",
        ):
            out.append(f"  {step}. {line}")
            step += 1
        out += [
            f"  {step}. Choose SHARDS near the top of {WORKFLOW_PATH}: each shard is its own runner, so its own IP "
            "address. A day costs ceil(P/100) Scholar requests for a profile of P papers, summed over the people "
            "and split over the shards (the workflow's comments have an example).",
            f"  {step + 1}. Commit and push {CONFIG_PATH} and {WORKFLOW_PATH}.",
            f"  {step + 2}. Run the workflow once: https://github.com/{repo}/actions/workflows/statsbot.yml (Run workflow).",
            f"  {step + 3}. Then `statsbot badges` prints every person's badge snippets.",
        ]
        return out


def repository_from_site(directory: Path) -> str | None:
    """`repository:` from an AcadHomepage (Jekyll) `_config.yml`."""
    try:
        text = (directory / "_config.yml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _REPOSITORY.search(text)
    return match.group(1) if match else None


def repository_from_remote_url(url: str) -> str | None:
    match = _GITHUB_REMOTE.search(url.strip())
    return match.group(1) if match else None


def template(name: str) -> str:
    return resources.files("statsbot.templates").joinpath(name).read_text(encoding="utf-8")


def config_text(scholar_id: str | None, repository: str | None, fetchers: Sequence[str] = ()) -> str:
    id_line = f'id = "{scholar_id}"' if scholar_id else '# id = "XXXXXXXXXXXX"  # or the GOOGLE_SCHOLAR_ID secret the workflow passes'
    if fetchers:
        names = ", ".join(f'"{name}"' for name in ("direct", *fetchers))
        keys = " and ".join(f"${PAID_FETCHERS[name]['secret']}" for name in fetchers)
        id_line += (
            f"\nfetchers = [{names}]  # tried in order until one gets the profile; key{'s' if len(fetchers) > 1 else ''}: {keys} (a secret)"
            "\n# min_interval_hours = 20     # paid fetchers are not called again this soon after the last good fetch"
        )
    owner = repository.split("/")[0] if repository else "your-github-login"
    return template("statsbot.toml").replace("{scholar_id_line}", id_line).replace("{owner}", owner)


def lab_config_text(fetchers: Sequence[str] = ()) -> str:
    """statsbot.toml for a lab: two [[people]] examples (commented); [scholar] set only for paid fetchers."""
    if fetchers:
        names = ", ".join(f'"{name}"' for name in ("direct", *fetchers))
        keys = " and ".join(f"${PAID_FETCHERS[name]['secret']}" for name in fetchers)
        lines = (
            "[scholar]                          # settings for every person's Scholar profile\n"
            f"fetchers = [{names}]  # tried in order until one gets a profile; key{'s' if len(fetchers) > 1 else ''}: {keys} (a secret)\n"
            "# min_interval_hours = 20         # paid fetchers are not called again this soon after a profile's last good fetch"
        )
    else:
        lines = (
            "# [scholar]                        # settings for every person's Scholar profile\n"
            '# fetchers = ["direct", "serpapi"]  # when Scholar blocks a runner: secret SERPAPI_API_KEY (or "scraperapi": SCRAPER_API_KEY)'
        )
    return template("lab.toml").replace("{scholar_lines}", lines)


def init(
    directory: Path,
    *,
    scholar_id: str | None = None,
    repo: str | None = None,
    force: bool = False,
    fetchers: Sequence[str] = (),
    lab: bool = False,
) -> InitResult:
    if lab and scholar_id:
        raise ConfigError("--scholar-id: not with --lab (each person's Scholar id goes in their [[people]] entry)")
    unknown = [name for name in fetchers if name not in PAID_FETCHERS]
    if unknown:
        raise ConfigError(f"--fetcher: unknown fetcher {unknown[0]!r} (choose from {', '.join(PAID_FETCHERS)})")
    fetchers = list(dict.fromkeys(fetchers))  # each once, in the order given
    for flag, value, check in (("--scholar-id", scholar_id, validate_scholar_id), ("--repo", repo, validate_github_repo)):
        if value:
            try:
                check(value)
            except ValueError as exc:
                raise ConfigError(f"{flag}: {exc}") from None
    scholar_id = validate_scholar_id(scholar_id) if scholar_id else None  # a profile URL becomes its id
    result = InitResult(scholar_id=scholar_id, fetchers=fetchers, lab=lab)
    result.repository = repo or repository_from_site(directory)
    if (directory / ACADHOMEPAGE_CRAWLER).is_file():
        result.replaces = ACADHOMEPAGE_CRAWLER
    wanted = {
        CONFIG_PATH: lab_config_text(fetchers) if lab else config_text(scholar_id, result.repository, fetchers),
        WORKFLOW_PATH: template("lab.yml" if lab else "workflow.yml"),
    }
    for relpath, text in wanted.items():
        path = directory / relpath
        if path.exists():
            if path.read_text(encoding="utf-8", errors="replace") == text:
                result.unchanged.append(relpath)
                continue
            if not force:
                result.kept.append(relpath)
                continue
        write_bytes_atomic(path, text.encode("utf-8"))
        result.written.append(relpath)
    result.ignored_output = _ignore_output(directory)
    return result


def _ignore_output(directory: Path) -> bool:
    """Keep the local output folder out of the homepage's own commits (the data branch holds it)."""
    gitignore = directory / ".gitignore"
    try:
        text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    except (OSError, UnicodeDecodeError):
        return False
    if any(line.strip().strip("/") == "output" for line in text.splitlines()):
        return False
    separator = "" if not text or text.endswith("\n") else "\n"
    write_bytes_atomic(gitignore, (text + separator + "# statsbot's local output (published to the data branch)\noutput/\n").encode("utf-8"))
    return True
