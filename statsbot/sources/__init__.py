"""Every source statsbot fetches from, each one module behind one interface (`base.Source`).

Adding a source is one new module that implements `Source`, its tests, and a line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statsbot.sources.base import Source
from statsbot.sources.github import GitHubSource
from statsbot.sources.huggingface import HuggingFaceSource
from statsbot.sources.openalex import OpenAlexSource
from statsbot.sources.scholar.source import ScholarSource
from statsbot.sources.semanticscholar import SemanticScholarSource

if TYPE_CHECKING:
    from statsbot.config import Config

SOURCES: tuple[type[Source], ...] = (ScholarSource, GitHubSource, HuggingFaceSource, OpenAlexSource, SemanticScholarSource)

# What the pipeline needs to know about result sources (ItemResult.source), from every source.
GATED: dict[str, tuple[str, ...]] = {name: metrics for cls in SOURCES for name, metrics in cls.gated.items()}
CASE_INSENSITIVE: frozenset[str] = frozenset().union(*(cls.case_insensitive for cls in SOURCES))
TOTALS: frozenset[str] = frozenset().union(*(cls.totals for cls in SOURCES))  # see also statsbot.derived


def configured_sources(config: Config) -> dict[str, Source]:
    """The sources the config gives something to fetch, in the registry's order (here, so that
    `statsbot check` reads the config without loading the runner)."""
    found = (cls.from_config(config) for cls in SOURCES)
    return {source.name: source for source in found if source is not None}
