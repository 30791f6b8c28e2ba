"""Atomic, stable JSON files: UTF-8, sorted keys, written to a temporary file and renamed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from statsbot.errors import ConfigError


def _read_umask() -> int:
    """The process's umask: from /proc where there is one (without changing it), else by
    setting and restoring it, once, at import (before statsbot starts any thread)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def file_mode() -> int:
    """The mode `open()` gives a new file under the umask (0644 under 022).

    `tempfile.mkstemp` always creates 0600; output files are meant to be read by
    others (a web server, a CI step, the user's group), so they get this mode instead.
    """
    return 0o666 & ~_UMASK


_SCALARS = (str, int, float, bool, type(None))
_encode_scalar = json.JSONEncoder(ensure_ascii=False).encode  # the C encoder, for one scalar


def dumps(data: Any) -> str:
    """The one JSON spelling statsbot writes: UTF-8 text, sorted keys, two-space indent.

    `json.dumps` with an indent runs the pure-Python encoder; a flat object of scalars
    (every badge, most files of a run) is spelt here with the C encoder per key and value,
    the same bytes (tests/test_format.py checks them against `json.dumps`) in a tenth of
    the time."""
    if type(data) is dict and data and all(type(key) is str and isinstance(value, _SCALARS) for key, value in data.items()):
        body = ",\n".join(f"  {_encode_scalar(key)}: {_encode_scalar(value)}" for key, value in sorted(data.items()))
        return "{\n" + body + "\n}\n"
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, make_folder: bool = True) -> None:
    """Write `data` to `path` so a reader sees the old file or the new one, never a part.

    The bytes go to a temporary file beside it, created exclusively with the mode `open()`
    gives (0666 under the umask), then renamed over it. `make_folder=False` when the caller
    knows the folder exists (`outputs.write_files` creates each folder once)."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    if make_folder and folder:
        os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except FileExistsError:  # left by a crashed run with our pid, or taken: a random name instead
        fd, tmp = tempfile.mkstemp(dir=folder or None, prefix=f".{name}.", suffix=".tmp")
        if hasattr(os, "fchmod"):
            os.fchmod(fd, file_mode())
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def check_output_dir(path: Path, what: str) -> None:
    """Make sure `path` is a folder statsbot can write, before anything is fetched.

    Creates it when missing. Raises `ConfigError` naming `what` (the key or option that
    chose the folder) and the path: it exists and is not a folder, or it cannot be
    created, or a file cannot be created in it.
    """
    try:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{what}: {path} exists and is not a folder")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{what}: the folder {path} cannot be created ({exc.strerror or type(exc).__name__})") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".statsbot-probe-", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"{what}: cannot write in the folder {path} ({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    os.unlink(probe)
