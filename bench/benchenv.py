"""What every bench that drives git and local fakes shares: a git identity and configuration
of its own (never the user's), and no proxy between it and 127.0.0.1."""

from __future__ import annotations

import os

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.test",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def loopback_only() -> None:
    """Drop the proxy variables from this process's environment (and its children's): a
    proxy must not carry the bench's requests to 127.0.0.1 anywhere."""
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
