"""Values derived across sources after settling: the page's citation count (`headline`)
and a lab's numbers (`group`). Like a source's totals, they are stale or failed because
an item is, so they get no annotation of their own and never count as "never fetched".
"""

from __future__ import annotations

from statsbot.group import GroupNumbers
from statsbot.headline import PageCitations
from statsbot.sources import TOTALS as SOURCE_TOTALS

DERIVED = (PageCitations, GroupNumbers)

# Result sources that are totals of other items, from every source and every derived value.
TOTALS: frozenset[str] = SOURCE_TOTALS.union(*(cls.totals for cls in DERIVED))
