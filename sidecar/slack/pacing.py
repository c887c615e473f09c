"""Pacing for Slack that learns from its 429s: a token bucket per key, adapted per key.

Keys name what Slack limits. ``chat:<channel>`` is chat.postMessage to one channel (about one
message a second per channel, short bursts allowed); every ``chat:`` call also takes a token from
the workspace-wide ``chat`` bucket, so many channels at once stay under Slack's limit for the
whole workspace. ``reactions`` (reactions.add), ``history`` (conversations.history and .replies,
the look-up for an earlier post) and ``files`` (uploads) are workspace-wide buckets of their own,
one per method tier.

Each key starts at its ceiling (:data:`SLACK_PACES`). A 429 parks the key for exactly
``Retry-After`` (the other keys go on; nothing sleeps), cuts its rate to :data:`DECREASE` of what
it was and its burst to one call: Slack's limits are approximate and a 429 says that ours is not
what Slack grants right now. Each call Slack then accepts wins back :data:`RECOVER` of the gap to
the ceiling, so the pace creeps back up while Slack agrees; after :data:`QUIET` seconds without
a 429 the key is at its ceiling again, burst included. Never faster than the ceiling.

The clock is injected, so all of this is pure and testable with a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    """A ceiling: ``rate`` calls a second on average, at most ``burst`` at once."""

    rate: float
    burst: float


# Slack's limits apply per method per app per workspace: Tier 2 is 20+ a minute, Tier 3 50+,
# Tier 4 100+; chat.postMessage is special: about 1 a second per channel with short bursts, plus
# a workspace-wide limit whose number Slack does not publish. https://docs.slack.dev/apis/web-api/rate-limits
SLACK_PACES: Mapping[str, Pace] = {
    "chat": Pace(1.0, 2.0),  # per channel: the key is chat:<channel>
    "reactions": Pace(50 / 60, 3.0),  # reactions.add, Tier 3
    "history": Pace(50 / 60, 3.0),  # conversations.history / .replies, Tier 3 (internal apps)
    # files.getUploadURLExternal and files.completeUploadExternal are Tier 4; the share is a
    # message in the channel, so an upload also takes its channel's chat token (see deliver).
    "files": Pace(100 / 60, 5.0),
}
#: Workspace-wide buckets that every key of a class also draws from.
SLACK_WORKSPACE: Mapping[str, Pace] = {
    # Slack publishes no number: 300 a minute is a cautious guess that still lets 5 channels
    # post at their full 1 a second.
    "chat": Pace(5.0, 10.0),
}

#: A 429 cuts the key's rate to this fraction of what it was.
DECREASE = 0.9
#: Each accepted call wins back this fraction of the gap between the rate and the ceiling.
RECOVER = 0.05
#: The rate never drops below this fraction of the ceiling (Retry-After still parks the key).
MIN_FRACTION = 0.25
#: Seconds without a 429 after which a key is back at its ceiling, burst included.
QUIET = 60.0


@dataclass(frozen=True)
class KeyPace:
    """One key's pace, for ``status`` and metrics (see :meth:`Limiter.pacing`)."""

    rate: float  # calls a second allowed now
    ceiling: float  # the configured rate it never exceeds
    burst: float  # calls at once allowed now
    ratelimited: int  # 429s answered for this key since start
    parked_seconds: float  # left of the last Retry-After, 0.0 when not parked

    def as_dict(self) -> dict[str, float | int]:
        """Rounded for people and JSON (``status``, the state database)."""
        return {
            "rate": round(self.rate, 3),
            "ceiling": round(self.ceiling, 3),
            "burst": round(self.burst, 3),
            "ratelimited": self.ratelimited,
            "parked_seconds": round(self.parked_seconds, 1),
        }


@dataclass
class _Bucket:
    ceiling: Pace
    rate: float
    burst: float
    tokens: float
    updated: float
    parked_until: float = 0.0
    last_429: float | None = None
    ratelimited: int = 0


class Limiter:
    """Token buckets per key with adaptive rates; ``paces`` and ``workspace`` by key class.

    The class of a key is what comes before its first ``:`` (``chat:#ops`` -> ``chat``). A class
    missing from ``paces`` gets ``default``; ``default=None`` leaves such keys unpaced.
    """

    def __init__(
        self,
        paces: Mapping[str, Pace] = SLACK_PACES,
        workspace: Mapping[str, Pace] = SLACK_WORKSPACE,
        *,
        default: Pace | None = Pace(1.0, 2.0),
        clock: Callable[[], float] = time.monotonic,
    ):
        self._paces = dict(paces)
        self._workspace = dict(workspace)
        self._default = default
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    @classmethod
    def uniform(
        cls, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> Limiter:
        """Every key at the same ceiling and no workspace bucket (tests and benchmarks)."""
        return cls({}, {}, default=Pace(rate, burst), clock=clock)

    @classmethod
    def unpaced(cls) -> Limiter:
        """No pacing at all: for a dry run, which only prints."""
        return cls({}, {}, default=None)

    # -- the deliverer's calls ------------------------------------------------------------------
    def ready_at(self, *keys: str) -> float:
        """When a call needing all ``keys`` may go (a clock time, maybe now)."""
        now = self._clock()
        at = now
        for b in self._buckets_for(keys, now):
            wait = 0.0 if b.tokens >= 1.0 else (1.0 - b.tokens) / b.rate
            at = max(at, now + wait, b.parked_until)
        return at

    def try_acquire(self, *keys: str) -> bool:
        """Take a token from every bucket of ``keys``, or from none if one is empty or parked."""
        now = self._clock()
        buckets = self._buckets_for(keys, now)
        if any(now < b.parked_until or b.tokens < 1.0 for b in buckets):
            return False
        for b in buckets:
            b.tokens -= 1.0
        return True

    def accepted(self, key: str) -> None:
        """Slack accepted a call for ``key``: win back part of the gap to the ceiling."""
        b = self._buckets.get(key)
        if b is not None:
            b.rate = min(b.ceiling.rate, b.rate + (b.ceiling.rate - b.rate) * RECOVER)

    def park(self, key: str, seconds: float) -> None:
        """Slack said 429: nothing for this key until ``Retry-After`` has passed, then slower."""
        now = self._clock()
        b = self._bucket(key, now)
        if b is None:
            return  # not paced (a dry run): the action's own retry time still waits
        b.parked_until = max(b.parked_until, now + seconds)
        b.tokens = 0.0
        b.rate = max(b.ceiling.rate * MIN_FRACTION, b.rate * DECREASE)
        b.burst = 1.0
        b.last_429 = now
        b.ratelimited += 1

    # -- what status and metrics read -----------------------------------------------------------
    def pacing(self) -> dict[str, KeyPace]:
        """Every key used so far (workspace buckets included) with its pace now and its 429s.

        ``rate`` is what the key may do now (calls a second), ``ceiling`` what it may at most;
        ``ratelimited`` counts the 429s Slack answered for it since start. Read-only.
        """
        now = self._clock()
        out = {}
        for key in sorted(self._buckets):
            b = self._bucket(key, now)
            assert b is not None
            out[key] = KeyPace(
                rate=b.rate,
                ceiling=b.ceiling.rate,
                burst=b.burst,
                ratelimited=b.ratelimited,
                parked_seconds=max(0.0, b.parked_until - now),
            )
        return out

    # -- buckets --------------------------------------------------------------------------------
    def _buckets_for(self, keys: tuple[str, ...], now: float) -> list[_Bucket]:
        names = dict.fromkeys(keys)
        for key in keys:
            cls = key.partition(":")[0]
            if cls != key and cls in self._workspace:
                names[cls] = None
        return [b for name in names if (b := self._bucket(name, now)) is not None]

    def _bucket(self, key: str, now: float) -> _Bucket | None:
        """The key's bucket brought up to ``now``; None for a key that is not paced."""
        b = self._buckets.get(key)
        if b is None:
            pace = self._pace(key)
            if pace is None:
                return None
            b = self._buckets[key] = _Bucket(pace, pace.rate, pace.burst, pace.burst, now)
        if b.last_429 is not None and now - b.last_429 >= QUIET:
            b.rate, b.burst, b.last_429 = b.ceiling.rate, b.ceiling.burst, None
        b.tokens = min(b.burst, b.tokens + max(0.0, now - b.updated) * b.rate)
        b.updated = now
        return b

    def _pace(self, key: str) -> Pace | None:
        cls = key.partition(":")[0]
        if cls == key and cls in self._workspace:
            return self._workspace[cls]
        return self._paces.get(cls, self._default)
