"""The errors statsbot reports. Each one's message is a single line meant for a person."""


class StatsbotError(Exception):
    """Base class: an expected failure with a one-line message."""


class ConfigError(StatsbotError):
    """The configuration is missing or wrong. The CLI exits with code 2."""


class SourceError(StatsbotError):
    """One source item (a Scholar profile, a repository, ...) could not be fetched."""


class DeadlineExceeded(SourceError):
    """A source did not finish within its wall-clock deadline."""


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a message fits on one log line, bound its length, hide secrets."""
    from statsbot.redact import redact

    flat = " ".join(redact(str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
