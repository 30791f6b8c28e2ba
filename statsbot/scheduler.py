"""`statsbot schedule`: run at once, then on the `schedule` library's clock, until told to stop.

For an always-on machine at home or in a lab, where Scholar blocks far less than on
cloud runners. Each run is a child process (`statsbot run ...`), so a run that
fails, or leaks, cannot take the loop down with it; runs never overlap (the loop
waits for one to end); a run still going `CHILD_GRACE_SECONDS` after its `[run]
deadline_seconds` is ended (SIGTERM, then SIGKILL, to it and the git it started) and
counted as failed; SIGINT or SIGTERM stops the loop within a second, ending a run in
progress.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Sequence

import schedule

from statsbot.errors import ConfigError

log = logging.getLogger("statsbot.schedule")

_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AT = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MIN_INTERVAL = timedelta(seconds=1)


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``6h``, ``1d``, or a sum such as ``1h30m``."""
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ConfigError(f"--every: {text!r} is not a duration such as 30m, 6h, 1d or 1h30m")
    duration = timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    if duration < MIN_INTERVAL:
        raise ConfigError("--every: the interval must be at least 1 s")
    return duration


def parse_at(text: str) -> str:
    if not _AT.fullmatch(text):
        raise ConfigError(f"--at: {text!r} is not a time of day such as 03:17 (24-hour, this machine's local time)")
    return text


# A run may take its `[run] deadline_seconds` for fetching, then needs time to start and to
# publish (each git network command after the deadline still gets 30 s); a run still going
# this long after its deadline is stuck, and the loop ends it.
CHILD_GRACE_SECONDS = 60.0
# After SIGTERM, how long a child gets to end before SIGKILL.
CHILD_KILL_WAIT_SECONDS = 5.0


class Loop:
    def __init__(
        self,
        command: Sequence[str],
        *,
        every: timedelta | None = None,
        at: str | None = None,
        deadline_seconds: float | None = None,
        grace_seconds: float = CHILD_GRACE_SECONDS,
        kill_wait_seconds: float = CHILD_KILL_WAIT_SECONDS,
    ) -> None:
        self.command = list(command)
        # A child still running `deadline_seconds + grace_seconds` after it started is ended
        # (SIGTERM, then SIGKILL after `kill_wait_seconds`); None: never.
        self.deadline_seconds = deadline_seconds
        self.grace_seconds = grace_seconds
        self.kill_wait_seconds = kill_wait_seconds
        self.stop = threading.Event()
        self.scheduler = schedule.Scheduler()
        self.child: subprocess.Popen[bytes] | None = None
        self.runs = 0
        if at is not None:
            self.scheduler.every().day.at(at).do(self.run_once)
            self.plan = f"every day at {at} (local time)"
        else:
            interval = every or timedelta(days=1)
            self.scheduler.every(int(interval.total_seconds())).seconds.do(self.run_once)
            self.plan = f"every {interval}"

    def run_once(self) -> None:
        if self.stop.is_set():
            return
        self.runs += 1
        log.info("run %d: %s", self.runs, " ".join(self.command[2:]))
        limit = None if self.deadline_seconds is None else self.deadline_seconds + self.grace_seconds
        try:
            started = time.monotonic()
            # Its own process group: a signal to it reaches all the run's processes. On SIGTERM
            # the run kills its git commands (each in a session of its own) before exiting.
            self.child = subprocess.Popen(self.command, start_new_session=os.name == "posix")
            while True:
                try:
                    code = self.child.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    if self.stop.is_set():
                        self._end_child(0.7)
                        log.info("run %d stopped", self.runs)
                        return
                    if limit is not None and time.monotonic() - started > limit:
                        code = self._end_child(self.kill_wait_seconds)
                        log.error(
                            "run %d failed: still running %g s after its deadline of %g s ([run] deadline_seconds), "
                            "so it was ended (exit code %d); the loop goes on",
                            self.runs, self.grace_seconds, self.deadline_seconds, code,
                        )
                        return
        except OSError as exc:
            log.error("run %d could not start: %s; the loop goes on", self.runs, exc)
            return
        finally:
            self.child = None
        if code in (0, 3):
            log.info("run %d finished (exit code %d)", self.runs, code)
        else:
            log.error("run %d failed with exit code %d; the loop goes on", self.runs, code)

    def _end_child(self, wait: float) -> int:
        """SIGTERM to the run's process group, SIGKILL if it has not ended after `wait` seconds."""
        child = self.child
        assert child is not None
        for kill in (False, True):
            try:
                if os.name == "posix":
                    os.killpg(child.pid, signal.SIGKILL if kill else signal.SIGTERM)
                elif kill:  # pragma: no cover - Windows: no process groups to signal
                    child.kill()
                else:  # pragma: no cover
                    child.terminate()
            except OSError:  # it ended meanwhile
                pass
            try:
                return child.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return child.wait()

    def _signal(self, signum: int, frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        self.stop.set()

    def forever(self) -> int:
        previous = {sig: signal.signal(sig, self._signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            log.info("statsbot schedule: runs %s; the first one now", self.plan)
            self.run_once()
            announced = None
            while not self.stop.is_set():
                self.scheduler.run_pending()
                upcoming = self.scheduler.next_run
                if upcoming != announced and not self.stop.is_set():
                    log.info("next run at %s", upcoming.strftime("%Y-%m-%d %H:%M:%S"))
                    announced = upcoming
                idle = self.scheduler.idle_seconds
                self.stop.wait(max(0.0, min(idle if idle is not None else 1.0, 0.5)))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("statsbot schedule: stopped after %d runs", self.runs)
        return 0


def run_command(arguments: Sequence[str]) -> list[str]:
    """The child command: this interpreter running `statsbot run` with the given arguments."""
    return [sys.executable, "-m", "statsbot", "run", *arguments]
