"""Wall-clock deadlines: a cooperative budget that code checks, and a hard bound around a call."""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from statsbot.errors import DeadlineExceeded

T = TypeVar("T")


class Deadline:
    """A point in monotonic time that work must finish by."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic, name: str | None = None) -> None:
        self.seconds = seconds
        self.name = name or f"deadline of {seconds:.3g} s"
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def check(self, what: str) -> None:
        if self.expired():
            raise DeadlineExceeded(f"{self.name} reached {what}")

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the deadline."""
        time.sleep(max(0.0, min(seconds, self.remaining())))


def call_with_deadline(fn: Callable[[], T], seconds: float, what: str, name: str | None = None) -> T:
    """Run `fn` in a daemon thread and give up waiting after `seconds`.

    Code inside `fn` should honour a cooperative `Deadline` of its own; this is the
    bound that holds even when something below it blocks where no timeout reaches
    (a DNS lookup, a library that ignores its timeout). A thread that overruns is
    abandoned: it is a daemon, so it cannot keep the process alive.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"statsbot:{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"{name or f'deadline of {seconds:.3g} s'} reached while {what}")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
