"""Secrets never leave the process: every message and log line passes through `redact`."""

from __future__ import annotations

import logging
import re
import threading
from typing import Iterable, Mapping
from urllib.parse import urlsplit

_lock = threading.Lock()
_secrets: set[str] = set()
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
# A key sent as a query parameter (SerpApi's and ScraperAPI's `api_key`), in a URL a library logs.
_KEY_PARAM = re.compile(r"([?&]api_key=)[^&\s#'\"]+", re.IGNORECASE)
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "SCRAPER_API_KEY", "SERPAPI_API_KEY", "OPENALEX_API_KEY", "S2_API_KEY")
PROXY_VARIABLES = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "STATSBOT_SCHOLAR_PROXY",
)


def register(values: Iterable[str | None]) -> None:
    """Remember secrets to hide (values shorter than 6 characters are too common to hide)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 6)


def register_environment(env: Mapping[str, str]) -> None:
    """The tokens statsbot reads, and the credentials inside proxy URLs."""
    register(env.get(name) for name in TOKEN_VARIABLES)
    for name in PROXY_VARIABLES:
        value = env.get(name)
        if value and "@" in value:
            parts = urlsplit(value if "://" in value else f"http://{value}")
            register([parts.password, parts.username])


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _KEY_PARAM.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


class RedactingFormatter(logging.Formatter):
    """Formats a record, tracebacks included, then hides every registered secret.

    The message is one line (a server's text in it cannot start a new line, so it cannot
    inject a GitHub Actions workflow command); a traceback follows on lines prefixed with
    ``    | ``, so none of them can start with ``::`` either.
    """

    TRACE_PREFIX = "    | "

    def format(self, record: logging.LogRecord) -> str:
        from statsbot.errors import console_line

        flat = logging.makeLogRecord(record.__dict__)  # a copy: other handlers see the record unchanged
        flat.msg = console_line(redact(record.getMessage()))
        flat.args = None
        flat.exc_info = flat.exc_text = flat.stack_info = None
        text = console_line(redact(super().format(flat)))
        extra = []
        if record.exc_info:
            extra.append(self.formatException(record.exc_info))
        elif record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        for block in extra:
            for line in redact(block).splitlines():
                text += "\n" + self.TRACE_PREFIX + console_line(line)
        return text
