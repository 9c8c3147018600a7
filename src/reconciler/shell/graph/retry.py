"""When to retry a Graph call and how long to wait: Retry-After first, exponential backoff otherwise.

Graph's guidance (learn.microsoft.com/graph/throttling): on 429/503/504 wait `Retry-After` if present (the
identity service often omits it), else back off exponentially; never retry immediately.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # per request, first try included
    base_delay: float = 1.0  # first backoff when no Retry-After
    max_delay: float = 60.0  # cap of the exponential backoff (a server's Retry-After is honoured as sent)
    budget_seconds: float = 300.0  # total waiting allowed per client, across all requests and threads
    jitter: float = 0.2  # backoff is scaled by a random factor in [1 - jitter, 1 + jitter]
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """The wait after `failures` failed attempts (1-based) when the server gave no Retry-After."""
        raw = min(self.max_delay, self.base_delay * 2.0 ** max(0, failures - 1))
        if self.jitter <= 0:
            return raw
        return raw * (1 + self.jitter * (2 * rng() - 1))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait per a Retry-After value (delta-seconds or HTTP-date); None if absent or unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds or seconds < 0 or seconds == float("inf"):  # NaN, negative, inf: ignore
        return None
    return seconds


def http_date(ts: float) -> str:
    """An IMF-fixdate, for tests and fakes that send Retry-After as a date."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


class RetryBudget:
    """Total seconds of waiting left for one client; shared by its threads."""

    def __init__(self, seconds: float) -> None:
        self._left = seconds
        self._lock = threading.Lock()

    def spend(self, seconds: float) -> bool:
        with self._lock:
            if seconds > self._left:
                return False
            self._left -= seconds
            return True

    @property
    def left(self) -> float:
        with self._lock:
            return self._left
