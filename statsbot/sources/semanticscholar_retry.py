"""Semantic Scholar's retry rule (`PatientRetry`), apart from `statsbot.sources.semanticscholar`
so that reading the config does not load urllib3: `make_s2_session` imports it when a fetch starts."""

from __future__ import annotations

import math
from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from statsbot.deadline import Deadline
from statsbot.http import BoundedRetry


class PatientRetry(BoundedRetry):
    """urllib3's `Retry` for an API whose shared pool answers 429 often, with or without ``Retry-After``.

    Unlike `BoundedRetry` (which hands a 429 without ``Retry-After`` straight back), a 429
    is retried after the server's ``Retry-After`` or, without one, an exponential backoff
    from the first retry (1, 2, 4, 8 s). The retries stop, and the last answer is handed
    back, when the count is spent, when ``Retry-After`` is unreadable or longer than
    `max_wait`, or when the wait would reach the `deadline`: no sleep passes it.
    """

    def __init__(self, *args: Any, deadline: Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def new(self, **kw: Any) -> PatientRetry:
        fresh = super().new(**kw)
        fresh.deadline = self.deadline
        return fresh

    def get_backoff_time(self) -> float:
        failures = 0
        for attempt in reversed(self.history):
            if attempt.redirect_location is not None:
                break
            failures += 1
        if failures == 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (failures - 1)))

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def, override]
        fresh = Retry.increment(self, method, url, response, error, _pool, _stacktrace)  # raises when the count is spent
        wait = fresh.planned_wait(response)
        left = self.deadline.remaining() if self.deadline is not None else math.inf
        if wait is None or wait > self.max_wait or wait >= left:
            status = f"HTTP {response.status}" if response is not None else type(error).__name__
            raise MaxRetryError(_pool, url, error or ResponseError(f"not retrying {status}"))  # type: ignore[arg-type]
        return fresh

    def planned_wait(self, response: Any) -> float | None:
        """What `sleep` will wait before the next attempt (None: an unreadable Retry-After)."""
        if response is not None and self.respect_retry_after_header:
            try:
                after = self.get_retry_after(response)
            except InvalidHeader:
                return None
            if after:
                return after
        return self.get_backoff_time()
