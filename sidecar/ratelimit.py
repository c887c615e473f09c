"""Per-channel pacing for Slack: a token bucket per key, and parking after a 429.

Slack allows about one message per second per channel with short bursts. Pacing ourselves keeps
the 429s away; when one comes anyway, that key is parked for ``Retry-After`` while every other
channel goes on, and nothing sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    parked_until: float = 0.0


class Limiter:
    def __init__(self, rate: float = 1.0, burst: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.rate)
        b.updated = now
        return b

    def ready_at(self, key: str) -> float:
        """When the next call for ``key`` may go (a monotonic time, maybe now)."""
        now = self._clock()
        b = self._bucket(key, now)
        at = now if b.tokens >= 1.0 else now + (1.0 - b.tokens) / self.rate
        return max(at, b.parked_until)

    def try_acquire(self, key: str) -> bool:
        now = self._clock()
        b = self._bucket(key, now)
        if now < b.parked_until or b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True

    def park(self, key: str, seconds: float) -> None:
        """Slack said 429: nothing for this key until Retry-After has passed, then one at a time."""
        now = self._clock()
        b = self._bucket(key, now)
        b.parked_until = max(b.parked_until, now + seconds)
        b.tokens = 0.0
