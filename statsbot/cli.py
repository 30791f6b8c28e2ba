"""The `statsbot` command: a thin shell over `statsbot.runner`.

Exit codes: 0 every item fresh; 3 published, but some items stale (their earlier
values kept) or never fetched; 2 usage or config error; 1 publishing failed or an
unexpected failure, or the site's rebuild (`[publish] rebuild`) could not be started
after a push (the push stays done; a jsDelivr purge never changes the code).
`--allow-stale` turns 3 into 0 when every item that is not fresh is stale (has earlier
values); an item that never had a good value keeps 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from statsbot import __version__
from statsbot.errors import ConfigError, StatsbotError, console_line, one_line
from statsbot.redact import RedactingFormatter, register_environment

log = logging.getLogger("statsbot")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_STALE = 3


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log lines on stderr")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only warnings and errors")

    parser = argparse.ArgumentParser(
        prog="statsbot",
        description="Fetch citation counts and write shields.io badges and homepage data files.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"statsbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", parents=[common], help="fetch every configured source and write the outputs")
    _config_option(run)
    run.add_argument("--output", metavar="DIR", help="output folder (default: [output] dir, 'output')")
    _publishing_options(run, dry_run="fetch and print what would change; write nothing")
    run.set_defaults(handler=cmd_run)

    fetch = commands.add_parser("fetch", parents=[common], help="only fetch, and write what every source answered to a results file")
    _config_option(fetch)
    fetch.add_argument("--results", metavar="FILE", required=True, help="the results file to write (for statsbot publish)")
    fetch.add_argument("--shard", metavar="I/N", help="fetch only shard I of N of the people (see statsbot plan); default: everything")
    fetch.add_argument("--output", metavar="DIR", help="where earlier values are read when there is no data branch")
    fetch.add_argument("--branch", metavar="NAME", help="the data branch earlier values are read from (default: [publish] branch)")
    fetch.set_defaults(handler=cmd_fetch)

    plan = commands.add_parser("plan", parents=[common], help="split the people into shards: a GitHub Actions matrix for statsbot fetch --shard")
    _config_option(plan)
    plan.add_argument("--shards", metavar="N", required=True, help="how many shards (fetch jobs), 1 to 256")
    plan.set_defaults(handler=cmd_plan)

    publish = commands.add_parser("publish", parents=[common], help="settle, write and publish results files from statsbot fetch")
    _config_option(publish)
    publish.add_argument("--results", metavar="PATH", nargs="+", required=True, help="results files, or folders holding them")
    publish.add_argument("--output", metavar="DIR", help="output folder (default: [output] dir, 'output')")
    _publishing_options(publish, dry_run="print what would change; write nothing")
    publish.set_defaults(handler=cmd_run)

    demo = commands.add_parser(
        "demo", parents=[common],
        help="the whole job offline: Scholar, GitHub and Hugging Face fakes on 127.0.0.1, a push to a temporary bare repository",
    )
    demo.add_argument("--output", metavar="DIR", help="where to write (default: 'output' in a new temporary folder)")
    demo.set_defaults(handler=cmd_demo)

    check = commands.add_parser("check", parents=[common], help="validate the config and show what would be fetched")
    _config_option(check)
    check.set_defaults(handler=cmd_check)

    init = commands.add_parser("init", parents=[common], help="write statsbot.toml and a daily workflow in this repository")
    init.add_argument("--scholar-id", metavar="ID", help="your Google Scholar id (else the GOOGLE_SCHOLAR_ID secret)")
    init.add_argument("--repo", metavar="OWNER/NAME", help="this homepage's GitHub repository (default: from _config.yml)")
    init.add_argument("--force", action="store_true", help="replace files that exist")
    init.add_argument(
        "--lab",
        action="store_true",
        help="for a lab: statsbot.toml with [[people]] examples, and a workflow that fetches them on several runners at once",
    )
    init.add_argument(
        "--fetcher",
        action="extend",
        type=_paid_fetchers,
        default=[],
        metavar="serpapi|scraperapi",
        help='also fetch Scholar through this paid service when it blocks the runner: [scholar] fetchers = ["direct", NAME] (repeatable, or a comma list)',
    )
    init.add_argument(
        "--site",
        choices=("acadhomepage", "al-folio"),
        default="acadhomepage",
        help="the homepage template: acadhomepage (gs_data.json on the data branch) or al-folio "
        "(also al-folio/citations.yml, and a step in .github/workflows/deploy.yml that copies it to _data/citations.yml)",
    )
    init.set_defaults(handler=cmd_init)

    badges = commands.add_parser("badges", parents=[common], help="print ready-to-paste badge and chart snippets")
    _config_option(badges)
    badges.add_argument(
        "--cdn",
        action="store_true",
        help="jsDelivr URLs instead of raw.githubusercontent.com: by branch, and pinned to the data branch's newest commit",
    )
    badges.add_argument(
        "--format",
        choices=("markdown", "html", "url", "js"),
        default="markdown",
        help="js: the page script statsbot.js and its <script> tag, which fill data-statsbot elements from stats.json",
    )
    badges.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GROUP",
        help="only these groups: a source (scholar, github, ...), group (a lab) or page (the headline); repeatable, or a comma list",
    )
    badges.add_argument("--repo", metavar="OWNER/NAME", help="the repository holding the data branch (default: detected)")
    badges.set_defaults(handler=cmd_badges)

    sched = commands.add_parser("schedule", parents=[common], help="run now, then on a schedule, on an always-on machine")
    when = sched.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="HH:MM", help="every day at this local time")
    when.add_argument("--every", metavar="DURATION", help="every 30m, 6h, 1d, 1h30m, ... (default 1d)")
    _config_option(sched)
    sched.add_argument("--output", metavar="DIR", help="output folder")
    sched.add_argument("--no-push", action="store_true", help="commit to the local data branch, do not push")
    sched.add_argument("--no-publish", action="store_true", help="write the output folder only, no git")
    sched.set_defaults(handler=cmd_schedule)
    return parser


def _paid_fetchers(value: str) -> list[str]:
    from statsbot.init import PAID_FETCHERS

    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in PAID_FETCHERS:
            raise argparse.ArgumentTypeError(f"unknown fetcher {name!r} (choose from {', '.join(PAID_FETCHERS)})")
    return names


def _publishing_options(parser: argparse.ArgumentParser, *, dry_run: str) -> None:
    """What `run` and `publish` share: where the outputs go, and the rules for publishing them."""
    publishing = parser.add_mutually_exclusive_group()
    publishing.add_argument("--no-push", action="store_true", help="commit to the local data branch, do not push")
    publishing.add_argument("--no-publish", action="store_true", help="write the output folder only, no git")
    publishing.add_argument("--dry-run", action="store_true", help=dry_run)
    parser.add_argument("--branch", metavar="NAME", help="the data branch (default: [publish] branch)")
    parser.add_argument("--accept-drops", action="store_true", help="publish values that fell by more than max_drop_percent")
    parser.add_argument(
        "--allow-stale", action="store_true", help="exit 0, not 3, when some items are stale (not when one never had a good value)"
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="config file (default: $STATSBOT_CONFIG, else ./statsbot.toml)")


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(levelname)s %(name)s: %(message)s" if verbose else "%(levelname)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries' request logs only with -vv; scholarly's own chatter only with -v.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose and verbose > 1 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if verbose and verbose > 1 else logging.WARNING)
    logging.getLogger("scholarly").setLevel(logging.INFO if verbose else logging.WARNING)
    # urllib3's retry lines ("Retrying (Retry(...)) after connection broken by ...", "Retry: URL")
    # only with -v, its request lines with -vv: a retry that then succeeds is not news, and one
    # that fails ends in statsbot's own error line.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose else logging.ERROR)
    if verbose == 1:
        handler.addFilter(_only_retry_lines_from_urllib3)


def _only_retry_lines_from_urllib3(record: logging.LogRecord) -> bool:
    if record.name.startswith("urllib3") and record.levelno < logging.WARNING:
        return str(record.msg).startswith("Retry")
    return True


def _publisher(args: argparse.Namespace, loaded, *, push: bool):  # type: ignore[no-untyped-def]
    """The data branch's publisher (None outside a git repository), with --branch applied."""
    from statsbot.publish import Publisher, find_repository
    from statsbot.settings import validate_branch

    settings = loaded.config.publish
    if args.branch:
        try:
            settings = settings.model_copy(update={"branch": validate_branch(args.branch)})
        except ValueError as exc:
            raise ConfigError(f"--branch: {exc}") from None
    repo = find_repository(settings, loaded.base_dir, Path.cwd())
    if repo is None:
        log.info("not in a git repository: earlier values come from the output folder, which is all that is written")
        return None
    github = loaded.config.github
    return Publisher(settings, repo, os.environ, push=push, api_url=github.api_url if github else None)


def cmd_fetch(args: argparse.Namespace) -> int:
    """The fetch stage alone: every source's answers into a results file, nothing published."""
    from statsbot.config import load_config
    from statsbot.deadline import Deadline
    from statsbot.redact import register_environment
    from statsbot.runner import fetch_outputs
    from statsbot.shards import parse_shard, plan_units, shard_config
    from statsbot.snapshot import FolderSnapshot
    from statsbot.stages import write_results

    shard = None
    if args.shard is not None:
        try:
            shard = parse_shard(args.shard)
        except ValueError as exc:
            raise ConfigError(f"--shard: {exc}") from None
    loaded = load_config(args.config)
    loaded.require_sources()
    register_environment(os.environ)
    results = Path(args.results)
    if results.is_dir():
        raise ConfigError(f"--results {args.results}: is a folder; name the file to write")
    if shard is None:
        fetching, units = loaded, plan_units(loaded)
    else:
        fetching, units = shard_config(loaded, shard, os.environ)
        print(console_line(f"shard {shard}: " + (", ".join(units) if units else "nothing to fetch (no unit of this config falls in it)")))
    seconds = loaded.config.run.deadline_seconds
    deadline = Deadline(seconds, name=f"the run's deadline of {seconds:g} s")
    publisher = _publisher(args, loaded, push=False)
    if publisher is not None:
        publisher.use_deadline(deadline)
    previous = publisher.snapshot() if publisher is not None else FolderSnapshot(Path(args.output) if args.output else loaded.output_dir)
    outputs = fetch_outputs(fetching.config, previous, os.environ, deadline)
    write_results(results, loaded.config, outputs, shard=None if shard is None else str(shard), units=units)
    for name, output in outputs.items():
        ok = sum(1 for r in output.results if r.status == "ok")
        print(console_line(f"{name}: {ok} of {len(output.results)} fetched"))
    print(f"wrote {results} (publish it with: statsbot publish --results {results})")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """`statsbot run`, and `statsbot publish` (the same, on results files instead of fetching)."""
    from statsbot.actions import in_actions, write_actions_report
    from statsbot.config import load_config
    from statsbot.runner import configured_sources, run

    loaded = load_config(args.config)
    loaded.require_sources()
    results = None
    if getattr(args, "results", None):
        from statsbot.shards import plan_units
        from statsbot.stages import read_results, results_paths

        results = read_results(
            results_paths(args.results), loaded.config, configured_sources(loaded.config), units=plan_units(loaded)
        )
    publisher = None if args.no_publish else _publisher(args, loaded, push=not args.no_push)
    from statsbot.deadline import Deadline
    from statsbot.keepalive import after_publishing

    deadline = Deadline(loaded.config.run.deadline_seconds, name="the run's deadline")  # what is left of it goes to keepalive
    report = run(
        loaded,
        Path(args.output) if args.output else None,
        publisher=publisher,
        dry_run=args.dry_run,
        accept_drops=args.accept_drops,
        results=results,
    )
    # After publishing: how long nothing new was published; in GitHub Actions, the schedule's keepalive.
    report = after_publishing(report, loaded.config.run, os.environ, deadline)
    print(format_summary(report))
    if in_actions(os.environ) and not args.dry_run:
        for line in write_actions_report(report, report.before, os.environ):
            print(line)
    if report.publish_error:
        print(console_line(f"statsbot: {report.publish_error}"), file=sys.stderr)
        return EXIT_FAILURE
    if report.rebuild is not None and report.rebuild.error:  # pushed, but the page will not show it: a failure
        print(console_line(f"statsbot: {report.rebuild.describe()}"), file=sys.stderr)
        return EXIT_FAILURE
    if report.stale and not args.allow_stale:
        return EXIT_STALE
    from statsbot.derived import TOTALS

    # A total (the page's citations, a GitHub sum) never fetched because an item was not: the item is named.
    never = [r for r in report.stale if r.status == "error" and r.source not in TOTALS]
    if never:
        # --allow-stale excuses a blocked day, not an item that never worked (a wrong id, a 404):
        # otherwise a typo in a new config would keep a workflow green forever.
        names = ", ".join(f"{r.source} {r.item}" for r in never[:5]) + (f" and {len(never) - 5} more" if len(never) > 5 else "")
        print(
            f"statsbot: --allow-stale excuses only stale items (those with earlier values); "
            f"never fetched successfully: {names} (see the error above; a wrong id is the usual cause)",
            file=sys.stderr,
        )
        return EXIT_STALE
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    """The shards as one line of JSON for a GitHub Actions matrix (``{"shard": ["1/N", ...]}``),
    and each shard's units on stderr."""
    import json

    from statsbot.config import load_config
    from statsbot.shards import assign, check_count, matrix, plan_units

    try:
        count = check_count(int(args.shards))
    except ValueError as exc:
        text = str(exc) if str(args.shards).strip().lstrip("-").isdigit() else f"must be a whole number, got {args.shards!r}"
        raise ConfigError(f"--shards: {text}") from None
    loaded = load_config(args.config)
    loaded.require_sources()
    units = plan_units(loaded)
    plan = assign(units, count)
    for index in range(1, count + 1):
        held = [unit for unit in units if plan[unit] == index]
        log.info("%s", console_line(f"shard {index}/{count}: " + (", ".join(held) if held else "nothing to fetch")))
    print(json.dumps(matrix(count), separators=(",", ":")))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo: its summary, the files written, then the commit it pushed to a bare repository."""
    import tempfile

    from statsbot.demo import run_demo

    workspace = Path(tempfile.mkdtemp(prefix="statsbot-demo-"))
    output = Path(args.output) if args.output else workspace / "output"
    demo = run_demo(output, workspace)
    report = demo.report
    print(format_summary(report))
    print()
    served = {name: f"{count} request" + ("" if count == 1 else "s") for name, count in demo.served.items()}
    print(
        f"The demo served a {demo.served['Scholar']}-request Scholar profile from 127.0.0.1, and GitHub "
        f"({served['GitHub']}) and Hugging Face ({served['Hugging Face']}) fakes there too (no network used, no token sent)."
    )
    print("Written:")
    for line in _tree(report.written):
        print(f"  {line}")
    print()
    print(f"Look at {report.output_dir / 'gs_data.json'} (what an AcadHomepage site reads)")
    print(f"and the badges under {report.output_dir / 'badges'} (shields.io endpoint JSON).")
    print()
    if demo.skipped:
        print(console_line(f"Publishing skipped: {demo.skipped}."))
    elif report.publish_error:
        print(console_line(f"statsbot: {report.publish_error}"), file=sys.stderr)
        return EXIT_FAILURE
    elif demo.remote is not None:
        print(f"Published to {demo.remote} branch {demo.branch}:")
        print(demo.show)
    return EXIT_STALE if report.stale else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from statsbot.config import load_config
    from statsbot.sources import configured_sources  # not the runner's: check loads no more than the config

    loaded = load_config(args.config)
    loaded.require_sources()
    print(f"config: {loaded.describe()}")
    for source in configured_sources(loaded.config).values():
        for line in source.describe(os.environ):
            print(line)
    print(f"output: {loaded.output_dir}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    import subprocess

    from statsbot.init import init, repository_from_remote_url

    cwd = Path.cwd()
    repo = args.repo
    if repo is None:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=cwd, capture_output=True, text=True, timeout=30)
        repo = repository_from_remote_url(done.stdout) if done.returncode == 0 else None
    result = init(
        cwd, scholar_id=args.scholar_id, repo=args.repo, force=args.force, fetchers=args.fetcher, lab=args.lab, site=args.site
    )
    if result.repository is None and repo:
        result.repository = repo
    print("\n".join(result.lines()))
    return EXIT_OK


def cmd_badges(args: argparse.Namespace) -> int:
    import json

    from statsbot import snippets as snip
    from statsbot.config import load_config
    from statsbot.init import repository_from_remote_url, repository_from_site
    from statsbot.publish import published_branch
    from statsbot.sources.github import validate_github_repo

    try:
        only = snip.parse_only(args.only)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    loaded = load_config(args.config)
    settings = loaded.config.publish
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
    out_dir = loaded.output_dir
    local = {str(p.relative_to(out_dir).as_posix()) for p in out_dir.rglob("*") if p.is_file()} if out_dir.is_dir() else set()
    branch = published_branch(settings, loaded.base_dir, Path.cwd())
    paths = local | set(branch.paths())
    repo = repo or repository_from_remote_url(branch.remote_url or "") or repository_from_site(loaded.base_dir)
    if not repo:
        raise ConfigError("cannot tell which GitHub repository holds the data branch: give --repo OWNER/NAME")
    try:
        validate_github_repo(repo)
    except ValueError as exc:
        raise ConfigError(f"--repo: {exc}") from None

    def read(path: str) -> bytes | None:  # the output folder first, then the data branch
        if path in local:
            try:
                return (out_dir / path).read_bytes()
            except OSError:
                pass
        return branch.read(path)

    commit = branch.commit if branch.pushed else None
    notes = snip.cache_notes(
        cdn=args.cdn, repo=repo, branch=settings.branch, commit=branch.commit, pushed=branch.pushed, script=args.format == "js"
    )
    if args.format == "js":
        stats_url = snip.file_url(repo, settings.branch, snip.STATS_FILE, args.cdn)
        pinned = None
        if args.cdn and commit and snip.STATS_FILE in branch.paths():
            pinned = snip.file_url(repo, commit, snip.STATS_FILE, True)
        try:
            stats = json.loads(read(snip.STATS_FILE) or b"null")
        except (ValueError, UnicodeDecodeError):
            stats = None
        examples = snip.attribute_examples(stats, snip.lab_members(loaded.config))
        for line in snip.script_lines(stats_url, notes, examples, pinned, snip.STATS_FILE in paths):
            print(console_line(line))
        return EXIT_OK
    members = snip.lab_members(loaded.config)
    found = snip.snippets(
        paths, repo, settings.branch, cdn=args.cdn, commit=commit, pinnable=branch.paths(), read=read, members=members
    )
    if only:
        found = [s for s in found if s.group in only]
    if not found:
        what = f" of {', '.join(sorted(only))}" if only else ""
        print(f"no badges{what} yet: run `statsbot run` first (looked in {out_dir} and the {settings.branch} branch)")
        return EXIT_OK
    for line in [*notes, *snip.render_lines(found, args.format, cdn=args.cdn)]:
        print(console_line(line))  # paths and titles come from the fetched branch
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    from statsbot.config import load_config
    from statsbot.scheduler import Loop, parse_at, parse_duration, run_command

    loaded = load_config(args.config)
    loaded.require_sources()  # a config error stops here, with exit code 2
    forwarded = []
    if args.config:
        forwarded += ["--config", str(Path(args.config).resolve())]
    if args.output:
        forwarded += ["--output", str(Path(args.output).resolve())]
    forwarded += [flag for flag, on in (("--no-push", args.no_push), ("--no-publish", args.no_publish)) if on]
    loop = Loop(
        run_command(forwarded),
        every=parse_duration(args.every) if args.every else None,
        at=parse_at(args.at) if args.at else None,
        # A run still going 60 s (CHILD_GRACE_SECONDS) after this deadline is ended.
        deadline_seconds=loaded.config.run.deadline_seconds,
    )
    return loop.forever()


def format_summary(report) -> str:  # type: ignore[no-untyped-def]
    """Each item's lines, as its source words them; a count instead of a list for result
    sources with many items (their failures still listed)."""
    lines: list[str] = []
    by_source: dict[str, list] = {}
    for result, item_lines in zip(report.results, report.summary, strict=True):
        by_source.setdefault(result.source, []).append((result, item_lines))
    for source, entries in by_source.items():
        if len(entries) > SUMMARY_ITEMS:
            failed = [item_lines for result, item_lines in entries if result.status != "ok"]
            lines.append(f"{source}: {len(entries) - len(failed)} of {len(entries)} ok")
            lines.extend(line for item_lines in failed for line in item_lines)
            continue
        lines.extend(line for _, item_lines in entries for line in item_lines)
    from statsbot.keepalive import summary_lines

    lines.extend(summary_lines(report))  # nothing new for stale_after_days, with each cause; or "values unchanged"
    if report.dry_run:
        lines.append("dry run: nothing written" + ("; would change:" if report.changes else "; nothing would change"))
        lines.extend(f"  {change}" for change in report.changes)
        return "\n".join(map(console_line, lines))
    lines.append(f"wrote {len(report.written)} changed files to {report.output_dir}")
    if report.published is not None:
        lines.append(report.published.describe())
    lines.extend(extra.describe() for extra in (report.cdn, report.rebuild) if extra is not None)  # jsDelivr; the site's build
    # Names, titles and errors come from servers: each line stays one line, never a workflow command.
    return "\n".join(map(console_line, lines))


SUMMARY_ITEMS = 10


def _tree(paths: Sequence[str], limit: int = 12) -> list[str]:
    shown = list(paths[:limit])
    if len(paths) > limit:
        shown.append(f"... and {len(paths) - limit} more")
    return shown


# How long a finished command waits for threads that are not daemons before ending the process anyway.
STUCK_THREAD_GRACE_SECONDS = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    """The `statsbot` program. Run as a program (no `argv`: the console script, ``python -m
    statsbot``), the process ends once the command has, even if some thread is still stuck
    (see `_end_despite_stuck_threads`); called with `argv` (in-process), it only returns."""
    as_program = argv is None
    if as_program:
        # pydantic looks for third-party plugins in every installed package's metadata when
        # the first model is built (tens of ms for `check`); statsbot uses none. A value the
        # user set wins.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --version, --help, a usage error: printed already
        if as_program and (exc.code is None or isinstance(exc.code, int)):
            _exit_now(exc.code or 0)
        raise
    quick = args.handler is cmd_check  # reads the config and prints: no git, no thread, no temporary file
    if as_program and not quick:
        _end_commands_on_sigterm()
    code = _main(args)
    if as_program:
        _end_despite_stuck_threads(code)
        if quick:
            _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End a command that started nothing (`check`, its config errors, `--version`) without the
    interpreter's teardown of every module (about 30 ms after pydantic): the log handlers and
    stdout and stderr are flushed first, so nothing printed is lost, and the exit code stays."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _end_commands_on_sigterm() -> None:
    """On SIGTERM (`statsbot schedule` ending a run past its deadline, a service manager), kill
    the git commands in flight before exiting as the default action would. Each runs in its
    own session, out of reach of a signal to this process's group, and only this process
    enforces their timeouts: without this, a git push stuck on its remote would outlive us."""
    import signal
    import threading

    from statsbot.deadline import end_running_commands

    if threading.current_thread() is not threading.main_thread():
        return

    def terminated(signum: int, frame: object) -> None:
        end_running_commands()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - the main thread may be mid-write
                pass
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)


def _end_despite_stuck_threads(code: int, grace: float = STUCK_THREAD_GRACE_SECONDS) -> None:
    """The last line of defence behind the deadlines: end the process with `code` now.

    Every network wait in statsbot has a timeout and every worker that may block on the
    network is a daemon thread, so normally nothing is left here and this returns at once.
    But Python joins every thread that is not a daemon before the process may exit, and
    a thread stuck where no timeout reaches (a library's own thread pool, a read of a
    server that trickles a byte a second) would keep a finished run alive for hours,
    until the workflow's 6-hour limit kills it and discards what it published. The
    command's work is done by now (files written, commit pushed, summary printed), so
    after a short grace the output is flushed and the process ends with `os._exit`,
    which skips only that join and the `atexit` handlers.
    """
    import threading
    import time

    def stuck() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]

    end = time.monotonic() + grace
    for thread in stuck():
        thread.join(max(0.0, end - time.monotonic()))
    left = stuck()
    if not left:
        return
    log.warning(
        "%d thread(s) still busy after the command finished (%s): ending the process",
        len(left),
        ", ".join(t.name for t in left[:5]),
    )
    logging.shutdown()  # flushes the log handlers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _main(args: argparse.Namespace) -> int:
    register_environment(os.environ)
    setup_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(console_line(f"statsbot: {one_line(str(exc), 2000)}"), file=sys.stderr)
        return EXIT_USAGE
    except StatsbotError as exc:
        print(console_line(f"statsbot: {one_line(str(exc), 2000)}"), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("statsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `statsbot badges | head`: the reader left; not an error of ours
        # Python would complain again when flushing stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
    except Exception as exc:  # a bug: one line by default, the traceback with -v
        log.debug("unexpected error", exc_info=True)
        print(console_line(f"statsbot: unexpected error: {type(exc).__name__}: {one_line(str(exc))} (run with -v for details)"), file=sys.stderr)
        return EXIT_FAILURE
