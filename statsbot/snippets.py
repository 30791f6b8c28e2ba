"""`statsbot badges`: ready-to-paste shields.io URLs for every badge and chart that exists."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

RAW = "https://raw.githubusercontent.com/{repo}/{branch}/{path}"
CDN = "https://cdn.jsdelivr.net/gh/{repo}@{branch}/{path}"
SHIELDS = "https://img.shields.io/endpoint?url={url}"


@dataclass(frozen=True)
class Snippet:
    path: str
    kind: str  # "badge" or "chart"
    file_url: str
    image_url: str
    alt: str

    def render(self, style: str) -> str:
        if style == "url":
            return self.image_url
        if style == "html":
            return f'<img alt="{html.escape(self.alt)}" src="{html.escape(self.image_url)}">'
        alt = self.alt.replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.image_url})"


def file_url(repo: str, branch: str, path: str, cdn: bool) -> str:
    template = CDN if cdn else RAW
    return template.format(repo=repo, branch=quote(branch, safe="/"), path=quote(path, safe="/"))


def snippets(paths: list[str], repo: str, branch: str, *, cdn: bool = False) -> list[Snippet]:
    """Badges (endpoint JSON, shown through shields.io) and charts (SVG, shown directly)."""
    out = []
    for path in sorted(paths):
        url = file_url(repo, branch, path, cdn)
        if path.endswith(".json") and (path.startswith("badges/") or path == "gs_data_shieldsio.json"):
            alt = path.removeprefix("badges/").removesuffix(".json")
            out.append(Snippet(path, "badge", url, SHIELDS.format(url=quote(url, safe="")), alt))
        elif path.startswith("charts/") and path.endswith(".svg"):
            out.append(Snippet(path, "chart", url, url, path.removeprefix("charts/").removesuffix(".svg")))
    return out
