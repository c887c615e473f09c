"""The sidecar's health as Graphite metrics: pure functions from what the store and the
deliverer know to ``(name, value)`` pairs, and the plaintext lines carbon reads.

Names are relative to the prefix (``skyline.slack_sidecar.<host>`` by default). Gauges say how
things stand at the end of the interval; counters (``events.*``, ``slack.*``) count what happened
during it, so a quiet interval sends 0 rather than nothing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from parsers.events import EVENT_TYPES
from sidecar.slack.deliver import DeliveryStats
from sidecar.slack.pacing import KeyPace

Pair = tuple[str, float]

#: outbox action kind -> the ``slack.<name>`` counter of its calls
_CALLS = {"post_message": "posts", "post_reply": "replies", "add_reaction": "reactions"}
SLACK_COUNTERS = ("posts", "replies", "reactions", "uploads", "ratelimited", "errors")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class DeliveryCounts:
    """What the deliverer reported over one interval (the store does not keep failed calls)."""

    ratelimited: int = 0
    errors: int = 0

    def add(self, stats: DeliveryStats) -> None:
        self.ratelimited += stats.ratelimited
        # 5xx/timeouts (retried), refusals and give-ups (failed), token errors (halted)
        self.errors += stats.retried + stats.failed + len(stats.errors)


@dataclass
class Snapshot:
    """Everything one interval's metrics are computed from, gathered by the daemon."""

    now: float
    apps: Sequence[str]
    #: ``health.file_lag`` of each followed file
    files: Sequence[Mapping[str, Any]]
    #: ``Store.counts()``
    counts: Mapping[str, Any]
    #: events stored during the interval, by kind
    kinds: Mapping[str, int]
    #: (action kind, seconds from ingestion to Slack's answer) of actions delivered
    delivered: Sequence[tuple[str, float]]
    delivery: DeliveryCounts = field(default_factory=DeliveryCounts)
    halted: bool = False
    up: bool = True
    #: ``Deliverer.pacing()``: the pace each Slack limiter key has learnt
    pacing: Mapping[str, KeyPace] = field(default_factory=dict)


def collect(snap: Snapshot) -> list[Pair]:
    """All metrics of one interval, in a stable order."""
    return [
        *lag_pairs(snap.apps, snap.files),
        *outbox_pairs(snap.counts, snap.now),
        *event_pairs(snap.kinds),
        *slack_pairs(snap.delivered, snap.delivery),
        *latency_pairs([seconds for _, seconds in snap.delivered]),
        *pace_pairs(snap.pacing),
        ("up", 1.0 if snap.up else 0.0),
        ("delivery_halted", 1.0 if snap.halted else 0.0),
    ]


def lag_pairs(apps: Iterable[str], files: Iterable[Mapping[str, Any]]) -> list[Pair]:
    """Per app, bytes not yet read and the longest wait, over the files still followed."""
    lag_bytes: dict[str, float] = dict.fromkeys(apps, 0.0)
    lag_seconds = dict(lag_bytes)
    for f in files:
        if f.get("finished"):
            continue
        app = f["app"]
        lag_bytes[app] = lag_bytes.get(app, 0.0) + (f.get("lag_bytes") or 0)
        lag_seconds[app] = max(lag_seconds.get(app, 0.0), f.get("lag_seconds") or 0.0)
    return [
        *((f"lag_seconds.{safe(app)}", float(v)) for app, v in lag_seconds.items()),
        *((f"lag_bytes.{safe(app)}", float(v)) for app, v in lag_bytes.items()),
    ]


def outbox_pairs(counts: Mapping[str, Any], now: float) -> list[Pair]:
    oldest = counts.get("oldest_pending_at")
    return [
        ("outbox.pending", float(counts.get("outbox_pending", 0))),
        ("outbox.oldest_seconds", round(max(now - oldest, 0.0), 1) if oldest else 0.0),
        ("outbox.failed", float(counts.get("outbox", {}).get("failed", 0))),
    ]


def event_pairs(kinds: Mapping[str, int]) -> list[Pair]:
    """Every known kind, 0 when none came, so a silent log is a line at 0, not a gap."""
    every = dict.fromkeys(EVENT_TYPES, 0) | dict(kinds)
    return [(f"events.{safe(kind)}", float(n)) for kind, n in sorted(every.items())]


def slack_pairs(delivered: Iterable[tuple[str, float]], counts: DeliveryCounts) -> list[Pair]:
    calls: Counter[str] = Counter(call_name(action) for action, _ in delivered)
    calls["ratelimited"] += counts.ratelimited
    calls["errors"] += counts.errors
    names = list(SLACK_COUNTERS) + sorted(set(calls) - set(SLACK_COUNTERS))
    return [(f"slack.{safe(name)}", float(calls[name])) for name in names]


def call_name(action: str) -> str:
    """The ``slack.*`` counter for an outbox action kind; any upload kind counts as uploads."""
    return _CALLS.get(action) or ("uploads" if "upload" in action else action)


def latency_pairs(seconds: Sequence[float]) -> list[Pair]:
    """p50 and p99 in ms; nothing when nothing was delivered (a 0 would read as 'instant')."""
    if not seconds:
        return []
    return [
        ("delivery.latency_ms.p50", round(percentile(seconds, 50) * 1000.0, 1)),
        ("delivery.latency_ms.p99", round(percentile(seconds, 99) * 1000.0, 1)),
    ]


def pace_pairs(pacing: Mapping[str, KeyPace]) -> list[Pair]:
    """Per limiter key (``chat:<channel>``, ``reactions``, ``files``...): the calls a second it
    may make now (below its ceiling after 429s) and the 429s Slack answered it since start."""
    out: list[Pair] = []
    for key, pace in sorted(pacing.items()):
        name = f"pace.{safe(key)}"
        out += [
            (f"{name}.rate", round(pace.rate, 3)),
            (f"{name}.ratelimited_total", float(pace.ratelimited)),
        ]
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100.0 * len(ordered)), 1)
    return ordered[rank - 1]


def safe(part: str) -> str:
    """One Graphite path component: dots, spaces and the like would split or break it."""
    return _UNSAFE.sub("_", part) or "_"


def lines(prefix: str, pairs: Iterable[Pair], epoch: float) -> list[str]:
    """Carbon's plaintext protocol, one ``<prefix>.<name> <value> <epoch>`` per metric."""
    stamp = int(epoch)
    return [f"{prefix}.{name} {_number(value)} {stamp}" for name, value in pairs]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
