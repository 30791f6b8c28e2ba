"""The errors statsbot reports. Each one's message is a single line meant for a person."""

import re


class StatsbotError(Exception):
    """Base class: an expected failure with a one-line message."""


class ConfigError(StatsbotError):
    """The configuration is missing or wrong. The CLI exits with code 2."""


class SourceError(StatsbotError):
    """One source item (a Scholar profile, a repository, ...) could not be fetched."""


class DeadlineExceeded(SourceError):
    """A source did not finish within its wall-clock deadline."""


# Characters that end a line somewhere (CR, LF, VT, FF, NEL, U+2028, U+2029, ...) or steer a
# terminal (ESC, BS, ...): every C0 and C1 control character, DEL, and the Unicode line separators.
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# GitHub Actions reads a workflow command from a line that starts with "::" (after leading
# spaces) and, in the old syntax, from "##[" anywhere in a line.
_OLD_COMMAND = "##["


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a message fits on one log line, bound its length, hide secrets."""
    from statsbot.redact import redact

    flat = " ".join(_BREAKS.sub(" ", redact(str(text))).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def console_line(text: str) -> str:
    """`text` safe as one line of stdout or stderr, where GitHub Actions looks for workflow commands.

    Line breaks and control characters become spaces (leading indentation is kept), the old
    command syntax ``##[`` is broken up, and a line never starts with ``::``: only statsbot's
    own annotations (`statsbot.actions.annotation`) do, and they are printed without this.
    """
    flat = _BREAKS.sub(" ", str(text))
    while _OLD_COMMAND in flat:
        flat = flat.replace(_OLD_COMMAND, "# #[")
    stripped = flat.lstrip()
    if stripped.startswith("::"):
        flat = flat[: len(flat) - len(stripped)] + ": :" + stripped[2:]
    return flat
