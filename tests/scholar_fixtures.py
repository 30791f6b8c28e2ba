"""Scholar profiles for the tests, in the shape `statsbot.demo.pages` renders.

Each builder returns the profile as the page will show it, so a test can compare
what statsbot wrote with what the page said.
"""

from __future__ import annotations

import random
from typing import Any

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def make_profile(n_pubs: int, scholar_id: str = "TestUser01AJ", seed: int = 7) -> dict[str, Any]:
    """A profile with `n_pubs` rows: non-ASCII names, blank citation cells, one paper under merged ids."""
    rng = random.Random(seed)
    pubs = []
    seen: set[str] = set()
    for i in range(n_pubs):
        while True:
            pub_id = "".join(rng.choice(ALPHABET) for _ in range(12))
            if pub_id not in seen:
                seen.add(pub_id)
                break
        citations = None if i % 5 == 4 else max(1, 500 - 3 * i)  # every fifth row: blank cell
        pubs.append(
            {
                "pub_id": pub_id,
                "title": f"Étude {i}: naïve Bayes für Łódź — 数据 {i}",
                "authors": "J Müller, Ø Sørensen, 王芳",
                "venue": f"Journal of Examples {i % 9}",
                "year": 2010 + i % 15,
                "citations": citations,
                "cites": [str(10**18 + i)] if citations else [],
            }
        )
    if n_pubs > 2:
        pubs[1]["cites"] = [str(10**18 + 1), str(2 * 10**18 + 1)]  # cited under merged ids
    return {
        "scholar_id": scholar_id,
        "name": "Zoë Ñúñez-Øberg",
        "affiliation": "Université de Test, Zürich",
        "organization": 4242424242,
        "email_domain": "test.example",
        "homepage": "https://zoe.test.example/",
        "interests": ["Machine Learning", "Géométrie"],
        "picture": "https://scholar.googleusercontent.com/citations?view_op=view_photo&user=x&citpid=1",
        "since_year": 2021,
        "stats": {
            "citations": 98765,
            "citations_5y": 54321,
            "h_index": 77,
            "h_index_5y": 55,
            "i10_index": 210,
            "i10_index_5y": 150,
        },
        "cites_per_year": {"2022": 9000, "2023": 11000, "2024": 12500, "2025": 13900, "2026": 8000},
        "publications": pubs,
    }
