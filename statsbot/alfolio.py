"""al-folio's `_data/citations.yml`, from the page owner's settled Scholar profile.

al-folio (github.com/alshedivat/al-folio) reads Scholar citation counts at build time through
``site.data.citations``, a file its own `bin/update_scholar_citations.py` writes with
``yaml.dump(data, width=1000, sort_keys=True)``::

    metadata:
      last_updated: "2025-01-31"          # a string, YYYY-MM-DD
    papers:
      "DhtAFkwAAAAJ:u5HHmVD_uO8C":        # scholarly's author_pub_id: "<scholar id>:<pub id>"
        citations: 42                     # an integer
        title: "The paper's title"
        year: "2019"                      # a string, as scholarly gives pub_year ("Unknown Year" if none)

statsbot writes the same keys, value types and (sorted) key order, without a YAML library:
every string is a JSON string, which is a valid YAML double-quoted scalar once the few
characters YAML treats differently from JSON are escaped (`yaml_string`).

The file is drawn from ``data/scholar/<id>/papers.json``, the owner's papers as the Scholar
source renders them, so it follows the same last-known-good rules: a profile fetched fresh
this run gives the profile's papers as listed now (a paper gone from the profile is gone
here too, as in papers.json); a failed or held-back fetch renders nothing, so the file
published before stays byte for byte (never zeros). ``last_updated`` is the UTC day of the
profile's last good fetch, so a run that finds the same numbers on the same day changes
no byte and makes no commit.

Where it goes (``[output] al_folio``): ``"data-branch"`` writes ``al-folio/citations.yml``
to the output folder and the data branch (the site's deploy workflow copies it, see
`statsbot init --site al-folio`); ``true`` does that and also commits it as
``_data/citations.yml`` to the site's own branch (`commit_to_site`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from statsbot.snapshot import Snapshot

log = logging.getLogger("statsbot")

DATA_BRANCH_FILE = "al-folio/citations.yml"  # on the data branch and in the output folder
SITE_FILE = "_data/citations.yml"  # where al-folio reads it, on the site's own branch
SITE_MESSAGE = "statsbot: update _data/citations.yml"
UNKNOWN_YEAR = "Unknown Year"  # what al-folio's script writes for a paper without a year
_STATS_FILE = "stats.json"

# Characters a JSON string may hold raw that YAML must not see raw: DEL and the C1 controls
# (not printable in YAML), NEL, LINE and PARAGRAPH SEPARATOR (line breaks in YAML 1.1) and
# the byte order mark. Lone surrogates cannot be written as UTF-8 at all.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar (a JSON string, with YAML's extra escapes), UTF-8 kept."""
    text = _SURROGATE.sub("\ufffd", text)
    encoded = json.dumps(text, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


def render_document(scholar_id: str, papers: list[Mapping[str, Any]], last_updated: str) -> bytes:
    """The file's bytes, from papers.json entries (pub_id, title, year, citations)."""
    entries: dict[str, tuple[int, str, str]] = {}
    for paper in papers:
        pub_id = paper.get("pub_id")
        if not isinstance(pub_id, str) or not pub_id:
            continue
        citations = paper.get("citations")
        citations = citations if isinstance(citations, int) and not isinstance(citations, bool) and citations >= 0 else 0
        title = paper.get("title")
        year = paper.get("year")
        year_text = str(year) if isinstance(year, int) and not isinstance(year, bool) else UNKNOWN_YEAR
        entries[f"{scholar_id}:{pub_id}"] = (citations, title if isinstance(title, str) else "", year_text)
    lines = ["metadata:", f"  last_updated: {yaml_string(last_updated)}"]
    if not entries:
        lines.append("papers: {}")
    else:
        lines.append("papers:")
        for key in sorted(entries):
            citations, title, year = entries[key]
            lines += [
                f"  {yaml_string(key)}:",
                f"    citations: {citations}",
                f"    title: {yaml_string(title)}",
                f"    year: {yaml_string(year)}",
            ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_files(config: Any, encoded: Mapping[str, bytes], previous: Snapshot) -> dict[str, bytes]:
    """``al-folio/citations.yml`` when ``[output] al_folio`` is on and the owner's profile was
    fetched fresh this run (its papers.json is among this run's files); else nothing, and the
    file published before stays. The first time it is turned on during a blocked day, it is
    drawn from the published papers.json."""
    if not config.output.al_folio:
        return {}
    scholar = getattr(config, "scholar", None)
    uid = scholar.id if scholar is not None else None
    if not uid:
        log.warning("[output] al_folio is on, but [scholar] has no id (the page owner's profile): no %s", DATA_BRANCH_FILE)
        return {}
    from statsbot.sources.scholar.source import papers_path

    path = papers_path(uid)
    data = encoded.get(path)
    if data is None:
        if previous.read(DATA_BRANCH_FILE) is not None:
            return {}  # not fresh this run: the published file stays as it is
        data = previous.read(path)
        if data is None:
            return {}  # never fetched: nothing to write, and never zeros
    try:
        papers = json.loads(data)
    except ValueError:
        log.warning("%s is not valid JSON: %s not rendered", path, DATA_BRANCH_FILE)
        return {}
    if not isinstance(papers, list):
        return {}
    day = _last_success_day(encoded.get(_STATS_FILE) or previous.read(_STATS_FILE), uid)
    if day is None:
        return {}
    return {DATA_BRANCH_FILE: render_document(uid, [p for p in papers if isinstance(p, dict)], day)}


def _last_success_day(stats: bytes | None, uid: str) -> str | None:
    """The UTC day (YYYY-MM-DD) of the profile's last good fetch, from stats.json."""
    try:
        document = json.loads(stats) if stats else None
    except ValueError:
        return None
    entry = ((document or {}).get("sources") or {}).get("scholar", {}).get(uid) if isinstance(document, dict) else None
    moment = entry.get("last_success_at") if isinstance(entry, dict) else None
    if not isinstance(moment, str) or not re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", moment):
        return None
    return moment[:10]


def commit_to_site(config: Any, publisher: Any, files: Mapping[str, bytes], previous: Snapshot) -> Any:
    """With ``[output] al_folio = true``: the data branch's al-folio file committed as
    ``_data/citations.yml`` to the site's branch (`publish.SiteFilePublisher`); the
    `publish.PublishResult`, or None when there is nothing to commit."""
    if config.output.al_folio is not True or publisher is None:
        return None
    data = files.get(DATA_BRANCH_FILE)
    if data is None:
        data = previous.read(DATA_BRANCH_FILE)
    if data is None:
        log.info("al-folio: no %s yet (the Scholar profile was never fetched): %s not committed", DATA_BRANCH_FILE, SITE_FILE)
        return None
    from statsbot.publish import SiteFilePublisher

    site = SiteFilePublisher(publisher, config.output.al_folio_branch, SITE_FILE, SITE_MESSAGE)
    result = site.publish(data)
    if result is not None:
        log.info("al-folio: %s", result.describe().replace("published: ", "", 1))
    return result
