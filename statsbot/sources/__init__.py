"""Every source statsbot fetches from, each one module behind one interface (`base.Source`).

Adding a source is one new module that implements `Source`, its tests, and a line here.
"""

from __future__ import annotations

from statsbot.sources.base import Source
from statsbot.sources.github import GitHubSource
from statsbot.sources.huggingface import HuggingFaceSource
from statsbot.sources.openalex import OpenAlexSource
from statsbot.sources.scholar.source import ScholarSource
from statsbot.sources.semanticscholar import SemanticScholarSource

SOURCES: tuple[type[Source], ...] = (ScholarSource, GitHubSource, HuggingFaceSource, OpenAlexSource, SemanticScholarSource)

# What the pipeline needs to know about result sources (ItemResult.source), from every source.
GATED: dict[str, tuple[str, ...]] = {name: metrics for cls in SOURCES for name, metrics in cls.gated.items()}
CASE_INSENSITIVE: frozenset[str] = frozenset().union(*(cls.case_insensitive for cls in SOURCES))
TOTALS: frozenset[str] = frozenset().union(*(cls.totals for cls in SOURCES))  # see also statsbot.derived
