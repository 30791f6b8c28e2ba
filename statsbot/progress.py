"""Progress of long steps: a live counter on a terminal, a few plain log lines elsewhere."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

log = logging.getLogger("statsbot.progress")

MIN_ITEMS_TO_LOG = 10  # fewer items than this are not worth progress lines in a log


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._tty = self._stream.isatty() and logging.getLogger().isEnabledFor(logging.INFO)
        self._next_log = max(1, total // 4)

    def step(self) -> None:
        with self._lock:
            self.done += 1
            done = self.done
            if self._tty:
                end = "\n" if done == self.total else ""
                self._stream.write(f"\r{self.label}: {done} of {self.total}{end}")
                self._stream.flush()
            elif self.total >= MIN_ITEMS_TO_LOG and (done >= self._next_log or done == self.total):
                log.info("%s: %d of %d", self.label, done, self.total)
                self._next_log = done + max(1, self.total // 4)
