"""`statsbot init`: a config file and a daily workflow for a homepage repository."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from statsbot.config import validate_github_repo, validate_scholar_id
from statsbot.errors import ConfigError
from statsbot.jsonio import write_bytes_atomic

CONFIG_PATH = "statsbot.toml"
WORKFLOW_PATH = ".github/workflows/statsbot.yml"
ACADHOMEPAGE_CRAWLER = ".github/workflows/google_scholar_crawler.yaml"
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
        if not self.scholar_id:
            out.append(
                f"  {step}. Add the secret GOOGLE_SCHOLAR_ID (the part after user= in your Scholar profile URL) at "
                f"https://github.com/{repo}/settings/secrets/actions"
            )
            step += 1
        out.append(f"  {step}. Commit and push {CONFIG_PATH} and {WORKFLOW_PATH}.")
        out.append(
            f"  {step + 1}. Run the workflow once: https://github.com/{repo}/actions/workflows/statsbot.yml (Run workflow)."
        )
        out.append(f"  {step + 2}. Then `statsbot badges` prints the badge snippets for your pages.")
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


def config_text(scholar_id: str | None, repository: str | None) -> str:
    id_line = f'id = "{scholar_id}"' if scholar_id else '# id = "XXXXXXXXXXXX"  # or the GOOGLE_SCHOLAR_ID secret the workflow passes'
    owner = repository.split("/")[0] if repository else "your-github-login"
    return template("statsbot.toml").replace("{scholar_id_line}", id_line).replace("{owner}", owner)


def init(directory: Path, *, scholar_id: str | None = None, repo: str | None = None, force: bool = False) -> InitResult:
    for flag, value, check in (("--scholar-id", scholar_id, validate_scholar_id), ("--repo", repo, validate_github_repo)):
        if value:
            try:
                check(value)
            except ValueError as exc:
                raise ConfigError(f"{flag}: {exc}") from None
    scholar_id = validate_scholar_id(scholar_id) if scholar_id else None  # a profile URL becomes its id
    result = InitResult(scholar_id=scholar_id)
    result.repository = repo or repository_from_site(directory)
    if (directory / ACADHOMEPAGE_CRAWLER).is_file():
        result.replaces = ACADHOMEPAGE_CRAWLER
    wanted = {
        CONFIG_PATH: config_text(scholar_id, result.repository),
        WORKFLOW_PATH: template("workflow.yml"),
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
