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
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


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
    return _USERINFO.sub(r"\1***@", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record, tracebacks included, then hides every registered secret."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
