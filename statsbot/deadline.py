"""Wall-clock deadlines: a cooperative budget that code checks, a hard bound around a call or a
command, and a pool of daemon threads that a caller past its deadline can abandon."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Mapping, Sequence, TypeVar

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


class DaemonPool:
    """At most `max_workers` daemon threads working through submitted calls, as `Future`s.

    It stands in for `concurrent.futures.ThreadPoolExecutor`, whose threads are not
    daemons and are joined when the interpreter exits: one worker stuck in a read
    that never ends (a server that trickles a byte a second) would keep the process
    alive long after the run is over. These workers are daemons, so a caller that
    stops waiting at its deadline can abandon them. The futures are ordinary
    `concurrent.futures.Future`s: `wait()` and `result(timeout=...)` work on them.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "statsbot") -> None:
        self._max_workers = max(1, max_workers)
        self._prefix = thread_name_prefix
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit work to a pool that was shut down")
            self._work.put((future, fn, args))
            if len(self._threads) < self._max_workers:
                worker = threading.Thread(
                    target=self._worker, name=f"{self._prefix}-{len(self._threads)}", daemon=True
                )
                worker.start()
                self._threads.append(worker)
        return future

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        """Cancel what has not started and let idle workers end; never waits for busy ones."""
        with self._lock:
            self._closed = True
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._work.put(None)

    def __enter__(self) -> "DaemonPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# Commands started by `run_bounded` and not yet ended, each the leader of its own process group.
_RUNNING: dict[int, subprocess.Popen[bytes]] = {}
_RUNNING_LOCK = threading.Lock()


def run_bounded(
    argv: Sequence[str], *, input: bytes | None = None, env: Mapping[str, str] | None = None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run a command (git) within `timeout` seconds, with no terminal to ask questions on.

    The command gets its own session: no controlling terminal, so neither git nor the ssh
    or credential helper it starts can open /dev/tty to prompt; stdin is /dev/null unless
    `input` is given. On timeout the whole process group is killed, not only git: an ssh
    child left behind would hold the pipes open and live on. Raises `subprocess.TimeoutExpired`.
    """
    posix = os.name == "posix"
    with subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        start_new_session=posix,
    ) as process:
        with _RUNNING_LOCK:
            _RUNNING[process.pid] = process
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            try:
                process.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # a grandchild that left the group still holds a pipe
                pass
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.pop(process.pid, None)
    return subprocess.CompletedProcess(list(argv), process.returncode, stdout, stderr)


def end_running_commands() -> None:
    """Kill every command `run_bounded` has running, with what each started (a run told to stop)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING.values())
    for process in running:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)  # the command and everything it started
        else:  # pragma: no cover - Windows: no process groups
            process.kill()
    except OSError:  # it ended meanwhile
        pass
