"""`statsbot badges`: ready-to-paste snippets for every badge and chart that exists, grouped by
source, and the page script `statsbot.js` (``--format js``).

Nothing here knows a source by name: a file's group is the folder after ``badges/`` or
``charts/`` (``badges/<source>/...``), titled by the source's `display_name` from the
registry (`statsbot.sources.SOURCES`); files outside a source's folder belong to the lab
(``badges/group/``) or to the page (the headline ``badges/citations.json``,
``gs_data_shieldsio.json``). Paper titles come from the data files the run wrote next to the
badges: ``data/<source>/<item>/papers.json`` (records with ``pub_id`` and ``title``) labels
``badges/<source>/<item>/papers/<pub_id>.json``.

How long each kind of URL is cached (see docs, "Badges and the page script"): raw.githubusercontent.com
300 s; a jsDelivr branch URL about 12 h on the CDN and up to 7 days in browsers unless purged; a
jsDelivr URL pinned to a commit never changes (immutable); img.shields.io keeps a rendered badge for
the badge's ``cacheSeconds``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

from statsbot.badges import DEFAULT_CACHE_SECONDS

RAW = "https://raw.githubusercontent.com/{repo}/{branch}/{path}"
CDN = "https://cdn.jsdelivr.net/gh/{repo}@{branch}/{path}"
SHIELDS = "https://img.shields.io/endpoint?url={url}"

PAGE = "page"  # the page's headline badge and AcadHomepage's shields file
LAB = "group"  # a lab's numbers (badges/group/)
OTHER_GROUPS = {LAB: "Lab (group)", PAGE: "This page (headline)"}
STATS_FILE = "stats.json"
SCRIPT_NAME = "statsbot.js"
_ALT_LIMIT = 100  # characters of a title in alt text; the full title goes in a comment


def groups() -> dict[str, str]:
    """Every group `--only` accepts, name -> heading, in the order the output shows them."""
    from statsbot.sources import SOURCES

    return {cls.name: cls.display_name for cls in SOURCES} | OTHER_GROUPS


@dataclass(frozen=True)
class Snippet:
    path: str
    kind: str  # "badge" or "chart"
    file_url: str
    image_url: str
    alt: str
    group: str = PAGE
    pinned_url: str | None = None  # the image pinned to a commit (`--cdn`), when the commit has the file
    note: str | None = None  # what the alt text shortened (a paper's full title)
    member: str | None = None  # the lab member (`[[people]]`) whose item it is; None for the page's owner

    def render(self, style: str, image_url: str | None = None) -> str:
        url = image_url or self.image_url
        if style == "url":
            return url
        if style == "html":
            return f'<img alt="{html.escape(self.alt)}" src="{html.escape(url)}">'
        alt = self.alt.replace("[", "(").replace("]", ")")
        return f"![{alt}]({url})"


def file_url(repo: str, branch: str, path: str, cdn: bool) -> str:
    template = CDN if cdn else RAW
    return template.format(repo=repo, branch=quote(branch, safe="/"), path=quote(path, safe="/"))


def group_of(path: str) -> str:
    """``badges/<folder>/...`` and ``charts/<folder>/...`` belong to the folder; other files to the page."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] in ("badges", "charts"):
        return parts[1]
    return PAGE


def _one_line(text: str) -> str:
    return " ".join(text.split())


def titles(paths: Iterable[str], read: Callable[[str], bytes | None]) -> dict[str, tuple[str, int]]:
    """Badge path -> the title (and year) of the paper it counts and its citations, from
    ``data/<source>/<item>/papers.json`` (a list of records with ``pub_id``, ``title``, ``year``
    and ``citations``). Unreadable files name nothing."""
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(paths):
        parts = path.split("/")
        if len(parts) < 4 or parts[0] != "data" or parts[-1] != "papers.json":
            continue
        try:
            records = json.loads(read(path) or b"null")
        except (ValueError, UnicodeDecodeError):
            continue
        folder = "/".join(parts[1:-1])
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, Mapping):
                continue
            pub_id, title, year = record.get("pub_id"), record.get("title"), record.get("year")
            if isinstance(pub_id, str) and isinstance(title, str) and _one_line(title):
                suffix = f" ({year})" if isinstance(year, int) and not isinstance(year, bool) else ""
                citations = record.get("citations")
                citations = citations if isinstance(citations, int) and not isinstance(citations, bool) else -1
                found[f"badges/{folder}/papers/{pub_id}.json"] = (_one_line(title) + suffix, citations)
    return found


def _label(path: str, group: str, heading: str, named: Mapping[str, tuple[str, int]]) -> tuple[str, str | None]:
    """The alt text of a file, and the full title when the alt text had to shorten it."""
    stem = path.rsplit(".", 1)[0]
    if path in named:  # a paper's badge counts its citations
        title = named[path][0]
        short = title if len(title) <= _ALT_LIMIT else title[: _ALT_LIMIT - 1].rstrip() + "…"
        return f"{short}: citations", (title if short != title else None)
    parts = stem.split("/")
    if group == PAGE:
        return ("citations (AcadHomepage)" if parts[-1] == "gs_data_shieldsio" else parts[-1]), None
    rest = parts[2:]  # after badges/<folder>/
    heading = heading.split(" (")[0]
    return " ".join(part for part in (heading, "/".join(rest[:-1]), rest[-1]) if part), None


def lab_members(config: object) -> list[tuple[str, dict[str, list[str]]]]:
    """Each `[[people]]` entry's name and ids by source (a source's files are under ``badges/<source>/<id>/``)."""
    from statsbot.sources import SOURCES

    people = getattr(config, "people", None) or []
    return [(person.name, {cls.name: person.ids(cls) for cls in SOURCES if cls.person_key}) for person in people]


def _member_of(path: str, prefixes: Mapping[str, int]) -> int:
    """The index of the lab member whose item the file belongs to; -1 for the page's owner."""
    parts = path.lower().split("/")
    for end in range(len(parts) - 1, 2, -1):
        found = prefixes.get("/".join(parts[1:end]))
        if found is not None:
            return found
    return -1


def _level(path: str, group: str) -> int:
    """0 for the page's and a source's own totals, more for deeper items (profiles, then papers, repositories, models)."""
    return 0 if group == PAGE else len(path.split("/")) - 2


def snippets(
    paths: Iterable[str],
    repo: str,
    branch: str,
    *,
    cdn: bool = False,
    commit: str | None = None,
    pinnable: Iterable[str] = (),
    read: Callable[[str], bytes | None] = lambda path: None,
    members: Sequence[tuple[str, Mapping[str, list[str]]]] = (),
) -> list[Snippet]:
    """Badges (endpoint JSON, shown through shields.io) and charts (SVG, shown directly), in output
    order: by group (`groups`, then unknown folders by name), badges before charts, profile-level
    before per-item, papers most cited first.
    With `commit`, files in `pinnable` (the commit's files) also get a jsDelivr URL pinned to it.
    The items of lab `members` (`lab_members`) follow the owner's, member by member."""
    paths = sorted(set(paths))
    headings = groups()
    named = titles(paths, read)
    pinned_paths = set(pinnable) if commit else set()
    prefixes: dict[str, int] = {}
    for index, (_, ids) in enumerate(members):
        for folder, items in ids.items():
            for item in items:
                prefixes.setdefault(f"{folder}/{item}".lower(), index)
    out = []
    for path in paths:
        if path.endswith(".json") and (path.startswith("badges/") or path == "gs_data_shieldsio.json"):
            kind = "badge"
        elif path.startswith("charts/") and path.endswith(".svg"):
            kind = "chart"
        else:
            continue
        group = group_of(path)
        alt, note = _label(path, group, headings.get(group, group), named)
        url = file_url(repo, branch, path, cdn)
        pinned = CDN.format(repo=repo, branch=commit, path=quote(path, safe="/")) if path in pinned_paths else None
        image, pinned_image = url, pinned
        if kind == "badge":
            image = SHIELDS.format(url=quote(url, safe=""))
            pinned_image = SHIELDS.format(url=quote(pinned, safe="")) if pinned else None
        member = _member_of(path, prefixes) if prefixes else -1
        out.append(Snippet(path, kind, url, image, alt, group, pinned_image, note, members[member][0] if member >= 0 else None))
    order = {name: i for i, name in enumerate(headings)}

    def place(s: Snippet) -> tuple:  # the owner's files first; most cited papers first
        member = _member_of(s.path, prefixes) if prefixes else -1
        citations = -named.get(s.path, ("", -1))[1]
        return (order.get(s.group, len(order)), s.group, s.kind != "badge", member, _level(s.path, s.group), citations, s.path)

    out.sort(key=place)
    return out


def parse_only(values: Iterable[str]) -> set[str]:
    """`--only` values (repeated, or comma lists) as group names; ValueError names the choices."""
    choices = groups()
    chosen = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(choices))
    if unknown:
        raise ValueError(f"--only: unknown group {', '.join(map(repr, unknown))}; choose from {', '.join(choices)}")
    return chosen


# ------------------------------------------------------------------ header comments


def cache_notes(*, cdn: bool, repo: str, branch: str, commit: str | None, pushed: bool, script: bool = False) -> list[str]:
    """`#` comment lines: which URLs follow and how long each kind of URL is cached (`script`:
    for the page script's stats.json, which no shields.io stands in front of)."""
    lines = _cache_notes(cdn=cdn, repo=repo, branch=branch, commit=commit, pushed=pushed)
    if script:
        lines = [
            line.replace("statsbot badges", "statsbot badges --format js").replace("(the snippets,", "(the tag's data-stats,")
            for line in lines
            if "img.shields.io" not in line
        ]
        lines.append("#   statsbot.js asks for stats.json with cache: 'no-cache': a browser revalidates its copy on every visit.")
    return lines


def _cache_notes(*, cdn: bool, repo: str, branch: str, commit: str | None, pushed: bool) -> list[str]:
    shields = (
        f"#   img.shields.io (the badge images): keeps a rendered badge for its cacheSeconds, {DEFAULT_CACHE_SECONDS} s in"
        " statsbot's badges (never less than 300 s), then reads the JSON afresh."
    )
    raw = "#   raw.githubusercontent.com (statsbot badges without --cdn): cached 300 s."
    if not cdn:
        return [
            f"# statsbot badges for {repo}, data branch {branch}: files served by raw.githubusercontent.com.",
            "# How long each kind of URL is cached (a new number shows after the URLs' caches expire):",
            raw.replace(" (statsbot badges without --cdn)", " (the URLs below)"),
            shields,
            "#   `statsbot badges --cdn`: jsDelivr URLs, by branch (purged after each push) and pinned to a commit (immutable).",
        ]
    if commit and pushed:
        where = f"newest pushed commit {commit}"
        pinned = (
            f"#   jsDelivr pinned to the commit (the '#   pinned:' lines, cdn.jsdelivr.net/gh/{repo}@{commit[:12]}.../...):"
            " immutable, so never stale, but a new URL after every run: for pages or tools rewritten after each run."
        )
    elif commit:
        where = f"local commit {commit} (not pushed: no URL can be pinned to it)"
        pinned = "#   jsDelivr pinned to a commit: immutable; none below, since the data branch's commit here was not pushed."
    else:
        where = "no commit known in this clone (git fetch origin " + branch + " to pin URLs)"
        pinned = "#   jsDelivr pinned to a commit: immutable; none below, since no commit of the data branch is known here."
    return [
        f"# statsbot badges --cdn for {repo}, data branch {branch}, {where}.",
        "# How long each kind of URL is cached (a new number shows after the URLs' caches expire):",
        f"#   jsDelivr by branch (the snippets, cdn.jsdelivr.net/gh/{repo}@{branch}/...): about 12 h on the CDN and up to"
        " 7 days in browsers, unless purged; statsbot purges the paths it changed after each push ([publish] purge_cdn).",
        pinned,
        raw,
        shields,
    ]


def render_lines(found: list[Snippet], style: str, *, cdn: bool) -> list[str]:
    """The snippets under one heading per group (and a sub-heading for charts)."""
    headings = groups()
    lines: list[str] = []
    group = part = None
    for snippet in found:
        if snippet.group != group:
            group, part = snippet.group, ("badge", None)
            lines += ["", f"# {headings.get(group, group)}"]
        if (snippet.kind, snippet.member) != part:
            part = (snippet.kind, snippet.member)
            charts = "charts (SVG)" if snippet.kind == "chart" else ""
            who = f"{snippet.member} (lab member)" if snippet.member else ""
            lines.append(f"## {who}{': ' if who and charts else ''}{charts}")
        if style == "url":
            lines.append(f"# {snippet.note or snippet.alt}")
        elif snippet.note:
            lines.append(f"# {snippet.note}")
        lines.append(snippet.render(style))
        if cdn and snippet.pinned_url:
            lines.append(f"#   pinned: {snippet.render('url', snippet.pinned_url)}")
    return lines


# ------------------------------------------------------------------ the page script


def page_script() -> str:
    """statsbot.js, as shipped with the package."""
    return resources.files("statsbot.web").joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


def script_tag(stats_url: str, src: str = "/assets/js/statsbot.js") -> str:
    return f'<script src="{html.escape(src)}" data-stats="{html.escape(stats_url)}" defer></script>'


_SAFE_KEY = re.compile(r"[A-Za-z0-9_.\-/]+")


def attribute_examples(stats: object, members: Sequence[tuple[str, Mapping[str, list[str]]]] = (), per_source: int = 3) -> list[str]:
    """A few ``data-statsbot`` values this stats.json answers, with their values, for the help text:
    the headline, each source's totals and the first item of each source, the owner's before
    lab `members'` (a few metrics each)."""
    theirs = {(folder, item.lower()) for _, ids in members for folder, items in ids.items() for item in items}
    sources = stats.get("sources") if isinstance(stats, Mapping) else None
    if not isinstance(sources, Mapping):
        return []
    out: list[tuple[str, object]] = []
    headline = sources.get("citations", {}).get("all") if isinstance(sources.get("citations"), Mapping) else None
    if isinstance(headline, Mapping) and isinstance(headline.get("metrics"), Mapping) and "citations" in headline["metrics"]:
        out.append(("citations", headline["metrics"]["citations"]))
    totals = stats.get("totals") if isinstance(stats, Mapping) else None
    for source, metrics in sorted(totals.items()) if isinstance(totals, Mapping) else []:
        for metric, value in list(metrics.items())[:per_source] if isinstance(metrics, Mapping) else []:
            out.append((f"{source}/{metric.replace('_', '-')}", value))
    order = {name: i for i, name in enumerate(groups())}
    for source in sorted(sources, key=lambda name: (order.get(name, len(order)), name)):
        items = sources[source]
        if not isinstance(items, Mapping) or not items or source == "citations":  # the headline: "citations" above
            continue
        item, entry = min(items.items(), key=lambda pair: ((source, pair[0].lower()) in theirs, pair[0]))
        metrics = entry.get("metrics") if isinstance(entry, Mapping) else None
        for metric, value in list(metrics.items())[:per_source] if isinstance(metrics, Mapping) else []:
            name = metric.replace("_", "-")
            out.append((f"{source}/{name}" if item == "all" else f"{source}/{item}/{name}", value))
    return [
        f'#   data-statsbot="{key}"  ->  {value:,}'
        for key, value in out
        if isinstance(value, int) and not isinstance(value, bool) and _SAFE_KEY.fullmatch(key)
    ]


def script_lines(stats_url: str, notes: list[str], examples: list[str], pinned_stats: str | None, found: bool) -> list[str]:
    lines = [
        "# statsbot.js: fills elements such as <span data-statsbot=\"scholar/citations\">0</span> with numbers from stats.json;",
        "# an element keeps its own text when the file, the item or the number is missing. No dependencies.",
        f"# 1. Save the lines between the two '// ----' markers as {SCRIPT_NAME} in your site, e.g. assets/js/{SCRIPT_NAME}.",
        "# 2. Put the <script> tag (the last line) in your layout, before </body>.",
        "# 3. Mark up numbers: data-statsbot=\"SOURCE/ITEM/METRIC\" (scholar/<id>/citations, github/<owner>/<repo>/stars,",
        "#    huggingface/<owner>/<model>/downloads), \"SOURCE/METRIC\" for a source's only item or its total (scholar/h-index,",
        "#    github/stars), \"citations\" for the page's headline count, \"updated\" for the day of the data;",
        "#    data-statsbot-format=\"short\" prints 1.2k as the star badges do, \"plain\" 1234; the default is 1,234.",
    ]
    if not found:
        lines.append(f"# (no {STATS_FILE} yet: run `statsbot run`; the script leaves the page's text as it is until it exists)")
    if examples:
        lines += ["# This run's stats.json answers, e.g.:", *examples]
    lines += notes
    if pinned_stats:
        lines.append(f"#   pinned: {pinned_stats}")
    script = page_script().rstrip("\n").splitlines()
    return [*lines, f"// ---- begin {SCRIPT_NAME} ----", *script, f"// ---- end {SCRIPT_NAME} ----", script_tag(stats_url)]
