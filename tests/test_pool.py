"""`statsbot.http.run_pool`: every key's result or exception in key order, at most `workers`
threads, the deadline ends the wait (running and queued keys get DeadlineExceeded, queued
ones never start), and a StopSignal set by one worker stops the calls after it."""

from __future__ import annotations

import threading

from statsbot.deadline import Deadline
from statsbot.errors import DeadlineExceeded
from statsbot.http import RateLimited, StopSignal, run_pool


def test_every_key_gets_its_result_or_its_exception_in_key_order() -> None:
    def work(key: int) -> int:
        if key % 7 == 3:
            raise ValueError(f"bad {key}")
        return key * key

    keys = list(range(500, 0, -1))  # not sorted: the order must be the keys' own
    results = run_pool(work, keys, workers=8, deadline=Deadline(60))
    assert list(results) == keys
    for key in keys:
        if key % 7 == 3:
            assert isinstance(results[key], ValueError) and str(results[key]) == f"bad {key}"
        else:
            assert results[key] == key * key


def test_no_keys_gives_no_results_and_starts_no_thread() -> None:
    before = threading.active_count()
    assert run_pool(lambda key: key, [], workers=4, deadline=Deadline(5)) == {}
    assert threading.active_count() == before


def test_never_more_than_workers_calls_at_once() -> None:
    lock = threading.Lock()
    running = 0
    most = 0
    release = threading.Barrier(3, timeout=10)  # three must be able to run together

    def work(key: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            if key < 3:
                release.wait()
            return key
        finally:
            with lock:
                running -= 1

    results = run_pool(work, range(200), workers=3, deadline=Deadline(60))
    assert results == {key: key for key in range(200)}
    assert most == 3


def test_deadline_gives_the_unfinished_keys_deadline_exceeded_and_queued_ones_never_start() -> None:
    gate = threading.Event()
    started: list[int] = []
    lock = threading.Lock()

    def work(key: int) -> int:
        with lock:
            started.append(key)
        if key >= 2:
            gate.wait(10)  # stuck until the test lets it go, long after the deadline
        return key

    try:
        results = run_pool(work, range(50), workers=2, deadline=Deadline(0.5, name="the test's deadline"))
    finally:
        gate.set()
    assert list(results) == list(range(50))
    assert results[0] == 0 and results[1] == 1
    for key in range(2, 50):
        assert isinstance(results[key], DeadlineExceeded), key
        assert "the test's deadline reached" in str(results[key])
    with lock:
        assert len(started) <= 4  # two stuck workers, nothing queued behind them was started
        assert max(started) < 50


def test_a_stop_signal_set_by_one_call_stops_the_calls_after_it() -> None:
    stop = StopSignal()
    calls: list[int] = []

    def work(key: int) -> int:
        stop.check()
        calls.append(key)
        if key == 5:
            stop.set("the API said stop")
        return key

    results = run_pool(work, range(20), workers=1, deadline=Deadline(60))
    assert calls == list(range(6))
    assert [results[k] for k in range(6)] == list(range(6))
    for key in range(6, 20):
        assert isinstance(results[key], RateLimited) and "the API said stop" in str(results[key])


def test_many_keys_all_finish() -> None:
    results = run_pool(lambda key: key + 1, range(20000), workers=16, deadline=Deadline(120))
    assert len(results) == 20000
    assert all(results[key] == key + 1 for key in range(20000))
