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
SITES = ("acadhomepage", "al-folio")  # `init --site`: the homepage template the repository is built from
ALFOLIO_DEPLOY = ".github/workflows/deploy.yml"
ALFOLIO_SOCIALS = "_data/socials.yml"
ALFOLIO_UPDATER = ".github/workflows/update-citations.yml"  # al-folio's own Scholar job, which commits _data/citations.yml
ALFOLIO_STEP_NAME = "Fetch citations.yml from the statsbot data branch"
ALFOLIO_EXAMPLE_ID = "qc6CJjYAAAAJ"  # the scholar_userid al-folio ships in _data/socials.yml (Albert Einstein's profile)
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
    site: str = "acadhomepage"  # --site
    scholar_id_from: str | None = None  # the file the Scholar id was read from (al-folio's _data/socials.yml)
    deploy_step: str | None = None  # al-folio: "added" or "present" (the step in ALFOLIO_DEPLOY)
    alfolio_updater: bool = False  # al-folio's own update-citations.yml is there too

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
        if self.site == "al-folio":
            return out[:-2] + self._alfolio_lines() + out[-2:] + self._alfolio_steps(repo)
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

    def _alfolio_lines(self) -> list[str]:
        out = []
        if self.scholar_id_from:
            out.append(f"took the Scholar id {self.scholar_id} from {self.scholar_id_from} (scholar_userid)")
            if self.scholar_id == ALFOLIO_EXAMPLE_ID:
                out.append(
                    f"{self.scholar_id} is al-folio's example profile, not yours: put your id in {self.scholar_id_from} "
                    f"and run init again with --force, or edit [scholar] id in {CONFIG_PATH}"
                )
        if self.deploy_step == "added":
            out.append(f"added the step {ALFOLIO_STEP_NAME!r} to {ALFOLIO_DEPLOY}, before the Jekyll build")
        elif self.deploy_step == "present":
            out.append(f"{ALFOLIO_DEPLOY} already has the step {ALFOLIO_STEP_NAME!r}")
        if self.alfolio_updater:
            out.append(
                f"{ALFOLIO_UPDATER} (al-folio's own Scholar job) also writes _data/citations.yml: delete or disable it "
                "once statsbot has run, so that the two do not fight over the file."
            )
        return out

    def _alfolio_steps(self, repo: str) -> list[str]:
        out = []
        step = 1
        if not self.scholar_id:
            out.append(
                f"  {step}. Add the secret GOOGLE_SCHOLAR_ID (the part after user= in your Scholar profile URL) at "
                f"https://github.com/{repo}/settings/secrets/actions, or scholar_userid to {ALFOLIO_SOCIALS} and run init again."
            )
            step += 1
        for line in self._fetcher_steps(
            f"https://github.com/{repo}/settings/secrets/actions",
            "when Scholar blocks the runner, statsbot fetches the profile through {name}. Cost: {cost}.",
        ):
            out.append(f"  {step}. {line}")
            step += 1
        out += [
            f"  {step}. Commit and push {CONFIG_PATH}, {WORKFLOW_PATH} and {ALFOLIO_DEPLOY}.",
            f"  {step + 1}. Run the statsbot workflow once: https://github.com/{repo}/actions/workflows/statsbot.yml "
            "(Run workflow). Every deploy then copies al-folio/citations.yml from the data branch to _data/citations.yml; "
            "until the first run it keeps the committed file.",
            f"  {step + 2}. The data branch changes do not start a deploy by themselves: the citations refresh with each "
            'site build. To commit _data/citations.yml to your site\'s branch instead, set al_folio = true in [output].',
        ]
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
    site: str = "acadhomepage",
) -> InitResult:
    if site not in SITES:
        raise ConfigError(f"--site: unknown site {site!r} (choose from {', '.join(SITES)})")
    if lab and site != "acadhomepage":
        raise ConfigError(f"--lab: not with --site {site}")
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
    result = InitResult(scholar_id=scholar_id, fetchers=fetchers, lab=lab, site=site)
    deploy: tuple[Path, str, str] | None = None  # al-folio: the deploy workflow, its text now and with the step
    if site == "al-folio":  # everything is checked before anything is written
        if not (directory / "_config.yml").is_file() and not (directory / ALFOLIO_SOCIALS).is_file():
            raise ConfigError(
                f"--site al-folio: no _config.yml or {ALFOLIO_SOCIALS} in {directory}: run statsbot init at the root of your al-folio repository"
            )
        if result.scholar_id is None:
            for name in (ALFOLIO_SOCIALS, "_config.yml"):  # older al-folio kept scholar_userid in _config.yml
                found = scholar_id_from_yaml(directory / name)
                if found:
                    result.scholar_id, result.scholar_id_from = found, name
                    break
        path = directory / ALFOLIO_DEPLOY
        try:
            before = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"--site al-folio: {ALFOLIO_DEPLOY} not found: statsbot adds a step to al-folio's deploy workflow "
                "(use --site acadhomepage for a site without it)"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--site al-folio: {ALFOLIO_DEPLOY} cannot be read: {exc}") from None
        deploy = (path, before, add_deploy_step(before, _data_branch(directory / CONFIG_PATH)))
        result.alfolio_updater = (directory / ALFOLIO_UPDATER).is_file()
    result.repository = repo or repository_from_site(directory)
    if (directory / ACADHOMEPAGE_CRAWLER).is_file():
        result.replaces = ACADHOMEPAGE_CRAWLER
    if lab:
        config = lab_config_text(fetchers)
    elif site == "al-folio":
        dispatchable = deploy is not None and re.search(r"^\s*workflow_dispatch\s*:", deploy[1], re.MULTILINE) is not None
        config = alfolio_config_text(result.scholar_id, result.repository, fetchers, rebuild=dispatchable)
    else:
        config = config_text(scholar_id, result.repository, fetchers)
    wanted = {CONFIG_PATH: config, WORKFLOW_PATH: template("lab.yml" if lab else "workflow.yml")}
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
    if deploy is not None:  # an insertion, made once, whatever --force says
        path, before, after = deploy
        result.deploy_step = "present" if after == before else "added"
        if after != before:
            write_bytes_atomic(path, after.encode("utf-8"))
    result.ignored_output = _ignore_output(directory)
    return result


# ----------------------------------------------------------------------- al-folio


def scholar_id_from_yaml(path: Path) -> str | None:
    """A top-level ``scholar_userid: ID`` from a YAML file (al-folio's _data/socials.yml), read
    line by line without a YAML parser: plain or quoted, a trailing comment allowed. None when
    the key is absent or its value is not a Scholar id."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if not colon or key.rstrip() != "scholar_userid" or key != key.lstrip():
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = value[1:].partition(value[0])[0]
        else:
            value = value.split(" #", 1)[0].strip()
        try:
            return validate_scholar_id(value)
        except ValueError:
            return None
    return None


def alfolio_config_text(scholar_id: str | None, repository: str | None, fetchers: Sequence[str] = (), *, rebuild: bool = True) -> str:
    """statsbot.toml for an al-folio site: the usual file, al-folio's citations.yml on the data branch,
    and (`rebuild`: deploy.yml can be dispatched) the site built again after new numbers."""
    text = config_text(scholar_id, repository, fetchers)
    text = text.replace("# the branch AcadHomepage pages read", "# the data branch (al-folio's deploy step reads it)")
    # al-folio reads _data/ when the site is built, and a push with the workflow's token starts no
    # other workflow: after a push that changed something, start deploy.yml (its job has actions: write).
    line = (
        'rebuild = "workflow:deploy.yml"  # build the site after new numbers (deploy.yml has workflow_dispatch)'
        if rebuild
        else '# rebuild = "workflow:deploy.yml"  # add workflow_dispatch: to deploy.yml\'s on: first'
    )
    text = text.replace("# history = \"squash\"", line + '\n# history = "squash"', 1)
    return text.rstrip("\n") + (
        "\n\n[output]\n"
        'al_folio = "data-branch"  # al-folio/citations.yml on the data branch: the deploy workflow copies it to _data/citations.yml\n'
        "# al_folio = true         # or also commit _data/citations.yml to your site's branch\n"
        '# al_folio_branch = "main"  # that branch (default: the repository\'s default branch)\n'
    )


def _data_branch(config_path: Path) -> str:
    """[publish] branch of an existing statsbot.toml (it is kept), else the default."""
    from statsbot.settings import PublishConfig, validate_branch

    default = PublishConfig().branch
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        branch = tomllib.loads(config_path.read_text(encoding="utf-8")).get("publish", {}).get("branch", default)
        return validate_branch(branch)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, tomllib.TOMLDecodeError):
        return default


_STEP_ITEM = re.compile(r"( *)- ")
_BUILD = re.compile(r"\bjekyll\s+build\b")


def deploy_step(indent: str, branch: str, newline: str) -> str:
    """The step, for a steps list whose items start with `indent` + "- ". The branch reaches the
    shell through env (never a ${{ }} expression inside run:); the file is replaced only when
    git show succeeds, so a data branch that does not exist yet keeps the committed file."""
    body = indent + "  "
    lines = [
        f"{indent}- name: {ALFOLIO_STEP_NAME}",
        f"{body}# statsbot (statsbot init --site al-folio): _data/citations.yml from the data branch, if it has one",
        f"{body}env:",
        f"{body}  STATSBOT_BRANCH: {branch}",
        f"{body}run: |",
        f'{body}  if git fetch --no-tags --depth=1 origin "$STATSBOT_BRANCH" && git show FETCH_HEAD:al-folio/citations.yml > _data/citations.yml.statsbot; then',
        f"{body}    mv _data/citations.yml.statsbot _data/citations.yml",
        f'{body}    echo "statsbot: _data/citations.yml from $STATSBOT_BRANCH"',
        f"{body}  else",
        f"{body}    rm -f _data/citations.yml.statsbot",
        f'{body}    echo "statsbot: no al-folio/citations.yml on $STATSBOT_BRANCH yet; keeping the committed _data/citations.yml"',
        f"{body}  fi",
    ]
    return newline.join(lines) + newline


def add_deploy_step(text: str, branch: str) -> str:
    """al-folio's deploy workflow with the statsbot step inserted right before the step that
    runs ``jekyll build``; every other byte is kept. Already there: the text unchanged.
    A workflow whose shape is not recognised is refused (ConfigError), never guessed at."""
    if ALFOLIO_STEP_NAME in text or "al-folio/citations.yml" in text:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    where = f"--site al-folio: {ALFOLIO_DEPLOY}"
    advice = "add the step yourself (statsbot's docs: al-folio) or use --site acadhomepage"
    if any("\t" in line[: len(line) - len(line.lstrip())] for line in lines):
        raise ConfigError(f"{where}: indented with tabs, which YAML does not allow; {advice}")
    builds = [i for i, line in enumerate(lines) if _BUILD.search(line.split("#", 1)[0])]
    if len(builds) != 1:
        found = "no step runs" if not builds else f"{len(builds)} lines run"
        raise ConfigError(f"{where}: {found} 'jekyll build', so statsbot cannot tell where the build starts; {advice}")
    build = builds[0]
    depth = _indent(lines[build])
    # The step holding that line: the nearest "- " item above it, less indented than it.
    start = next(
        (i for i in range(build, -1, -1) if (m := _STEP_ITEM.match(lines[i])) and len(m.group(1)) < depth),
        None,
    )
    if start is None:
        raise ConfigError(f"{where}: the 'jekyll build' line is not inside a list of steps; {advice}")
    dash = len(_STEP_ITEM.match(lines[start]).group(1))  # type: ignore[union-attr]
    # Above it, up to a "steps:" key, only items of the same list (or deeper lines, blanks, comments).
    for i in range(start - 1, -1, -1):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = _indent(line)
        if indent > dash or (indent == dash and line[indent:].startswith("- ")):
            continue
        if line.strip() == "steps:" and indent <= dash:
            break
        raise ConfigError(f"{where}: the 'jekyll build' step is not in a 'steps:' list statsbot recognises; {advice}")
    else:
        raise ConfigError(f"{where}: no 'steps:' above the 'jekyll build' step; {advice}")
    step = deploy_step(" " * dash, branch, newline)
    return newline.join(lines[:start]) + (newline if start else "") + step + newline.join(lines[start:])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


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
