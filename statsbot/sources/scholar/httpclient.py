"""httpx for the Scholar fetchers, imported without trio.

httpcore (under httpx) imports trio at once when it is installed, for async code that
statsbot never runs; trio comes with Selenium, a dependency of scholarly, and takes
about as long to import as httpx itself. So httpx is imported while ``import trio``
fails, then trio is importable again for whoever wants it (httpcore's own async trio
support stays off in this process; statsbot's clients are synchronous).
"""

from __future__ import annotations

import sys
import types


def _load() -> types.ModuleType:
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    block = "trio" not in sys.modules
    if block:
        sys.modules["trio"] = None  # type: ignore[assignment]  # makes `import trio` raise ImportError
    try:
        import httpx
    finally:
        if block and "trio" in sys.modules and sys.modules["trio"] is None:
            del sys.modules["trio"]
    return httpx


httpx = _load()
