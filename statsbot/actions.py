"""GitHub Actions: a job summary table, annotations for stale items, and step outputs.

Used when ``GITHUB_ACTIONS=true``. Everything a server sent (item names, errors) is
escaped for Markdown in the summary and for the workflow-command syntax in annotations.
"""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path
from typing import Any, Mapping

from statsbot.errors import console_line, one_line
from statsbot.derived import TOTALS

SUMMARY_ROWS = 300


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def markdown_cell(value: Any, limit: int = 200) -> str:
    """Text safe inside a Markdown table cell: HTML-escaped, pipes and newlines neutralised."""
    text = html.escape(one_line(str(value), limit), quote=False)
    for char in "\\|*_`[]":
        text = text.replace(char, "\\" + char)
    return text


def _command_data(text: str) -> str:
    return console_line(one_line(text, 1000)).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotation(level: str, message: str, title: str = "statsbot") -> str:
    title = _command_data(title).replace(":", "%3A").replace(",", "%2C")
    return f"::{level} title={title}::{_command_data(message)}"


_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def output_entry(name: str, value: str) -> str:
    """One step output for $GITHUB_OUTPUT: ``name=value``, or the delimiter form for a value
    with line breaks (a delimiter the value does not contain), so a value never adds an output."""
    if not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"not a step output name: {name!r}")
    value = str(value)
    if not re.search(r"[\r\n]", value):
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:  # pragma: no cover - a random 128-bit value
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def summary_markdown(report: Any, before: Mapping[str, Any] | None) -> str:
    """metric | before | after | status, one row per metric of every item this run looked at."""
    old_sources = (before or {}).get("sources") or {}
    rows = []
    for result in report.results:
        old_entry = (old_sources.get(result.source) or {}).get(result.item) or {}
        old_metrics = old_entry.get("metrics") or {}
        status = result.status if result.status == "ok" else f"{result.status}: {result.error}"
        if result.extra.get("via"):  # which Scholar fetcher produced it
            status += f" (via {result.extra['via']})"
        names = sorted(set(result.metrics) | set(old_metrics)) or ["(none)"]
        for name in names:
            rows.append(
                "| "
                + " | ".join(
                    markdown_cell(cell)
                    for cell in (f"{result.source} {result.item} {name}", old_metrics.get(name, "—"), result.metrics.get(name, "—"), status)
                )
                + " |"
            )
    lines = ["## statsbot", ""]
    if report.published is not None:
        lines += [markdown_cell(report.published.describe()), ""]
    if report.publish_error:
        lines += [f"**Publishing failed:** {markdown_cell(report.publish_error)}", ""]
    if report.cdn is not None:  # the changed files purged on jsDelivr (statsbot.cdn)
        lines += [markdown_cell(report.cdn.describe(), 600), ""]
    if report.rebuild is not None:  # the site's build (statsbot.rebuild)
        rebuilt = report.rebuild
        text = markdown_cell(rebuilt.describe(), 800)
        lines += [f"**Rebuild failed:** {text}" if rebuilt.error else text, ""]
    from statsbot.keepalive import summary_markdown as after_publishing_lines

    lines += after_publishing_lines(report)  # nothing new for stale_after_days (each cause), the schedule's keepalive
    lines += ["| metric | before | after | status |", "| --- | ---: | ---: | --- |"]
    lines += rows[:SUMMARY_ROWS]
    if len(rows) > SUMMARY_ROWS:
        lines.append(f"| … and {len(rows) - SUMMARY_ROWS} more rows | | | |")
    return "\n".join(lines) + "\n"


def changed(report: Any) -> bool:
    if report.published is not None:
        return report.published.status in ("pushed", "committed")
    return bool(report.written)


def write_actions_report(report: Any, before: Mapping[str, Any] | None, env: Mapping[str, str]) -> list[str]:
    """Append the summary and the outputs; return the annotation lines to print on stdout."""
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(summary_markdown(report, before))
    outputs = env.get("GITHUB_OUTPUT")
    if outputs:
        with Path(outputs).open("a", encoding="utf-8") as handle:
            handle.write(output_entry("changed", "true" if changed(report) else "false"))
            handle.write(output_entry("stale", "true" if report.stale else "false"))
    lines = []
    for result in report.stale:
        if result.source in TOTALS:
            continue  # a total is stale or failed because an item is, and that item has its own annotation
        if result.status == "stale":
            lines.append(annotation("warning", f"{result.source} {result.item} is stale (last good values from {result.last_success_at} kept): {result.error}"))
        else:
            lines.append(annotation("error", f"{result.source} {result.item} failed and has no earlier value: {result.error}"))
    if report.publish_error:
        lines.append(annotation("error", f"publishing failed: {report.publish_error}"))
    if report.rebuild is not None and report.rebuild.error:
        lines.append(annotation("error", report.rebuild.describe()))
    from statsbot.keepalive import annotations

    lines += [annotation(level, message) for level, message in annotations(report)]
    return lines
