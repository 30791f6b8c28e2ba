"""The drop gate: a value that fell by more than ``max_drop_percent`` is held back.

Citations, stars and all-time downloads only grow in normal life, so a large fall is
more likely a bad answer than the truth. Items (runner.settle) and totals
(aggregates) share this one rule.
"""

from __future__ import annotations

from typing import Any


def too_far(name: str, before: Any, after: Any, max_drop_percent: float, held: str) -> str | None:
    """Why `after` is held back (`held`: what is), or None when the fall is within the limit."""
    if isinstance(before, int) and isinstance(after, int) and before > 0:
        fall = 100.0 * (before - after) / before
        if fall > max_drop_percent:
            return (
                f"{name} fell from {before} to {after} (-{fall:.0f}%), more than max_drop_percent "
                f"{max_drop_percent:g}: {held} (run with --accept-drops to publish it)"
            )
    return None
