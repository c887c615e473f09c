"""The daemon's side of the metrics: every interval, read the store, hand the lines to a sink.

It runs on the daemon's thread (the store's connection belongs to it) and only reads, except for
one small row in ``meta``: the sink's last send and last error, which ``status`` shows. The sink is
a `CarbonClient` (background thread, never blocks) or, in a dry run, a printer.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from sidecar.config.options import Config
from sidecar.service.health import file_lag
from sidecar.service.metrics import DeliveryCounts, Snapshot, collect, lines
from sidecar.slack.deliver import DeliveryStats
from sidecar.slack.pacing import KeyPace
from sidecar.state.store import FatalStoreError, Store, StoreError

log = structlog.get_logger("sidecar.service.metrics")

META_KEY = "metrics"


class Sink(Protocol):
    def submit(self, lines: Sequence[str]) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def close(self, timeout: float | None = None) -> None: ...


class MetricsReporter:
    def __init__(
        self,
        config: Config,
        store: Store,
        sink: Sink,
        *,
        halted: Callable[[], bool] = lambda: False,
        pacing: Callable[[], Mapping[str, KeyPace]] = dict,
        clock: Callable[[], float] = time.time,
    ):
        self.prefix = config.metrics.path
        self.interval = config.metrics.interval_seconds
        self.apps = config.skyline.apps
        self.store = store
        self.sink = sink
        self._halted = halted
        self._pacing = pacing
        self._clock = clock
        self._since = clock()
        self._due = self._since + self.interval
        self._seq = store.last_seq()
        self._delivery = DeliveryCounts()
        self._saved: dict[str, Any] | None = None
        self._store_failing = False

    def record(self, stats: DeliveryStats) -> None:
        """Count one delivery pass (the daemon calls this after each step)."""
        self._delivery.add(stats)

    def tick(self) -> None:
        """Send the interval's metrics if it is over; save the sink's status if it changed."""
        if self._clock() >= self._due:
            self._send(up=True)
        self._save_status()

    def next_in(self) -> float:
        """Seconds until the interval is over (for the main loop's sleep)."""
        return max(self._due - self._clock(), 0.0)

    def close(self) -> None:
        """The last, partial interval with ``up`` 0, so a clean stop reads as one."""
        self._send(up=False)
        self.sink.close()
        self._save_status()

    def snapshot(self, now: float, *, up: bool = True) -> Snapshot:
        """Read what this interval's metrics need from the store (and move the interval on)."""
        last_seq = self.store.last_seq()
        snap = Snapshot(
            now=now,
            apps=self.apps,
            files=[file_lag(s, now) for s in self.store.files()],
            counts=self.store.counts(),
            kinds=self.store.kinds(after_seq=self._seq),
            delivered=self.store.delivered_since(self._since),
            delivery=self._delivery,
            halted=self._halted(),
            up=up,
            pacing=self._pacing(),
        )
        self._seq, self._since, self._delivery = last_seq, now, DeliveryCounts()
        return snap

    def _send(self, *, up: bool) -> None:
        now = self._clock()
        self._due = now + self.interval
        try:
            pairs = collect(self.snapshot(now, up=up))
            self._store_failing = False
        except (StoreError, FatalStoreError, sqlite3.Error) as exc:
            # The daemon reports the database itself. Only the liveness lines go; the counts
            # carry over into the next interval that can read them (nothing is lost).
            if not self._store_failing:
                log.warning("metrics incomplete: state database unavailable", error=str(exc))
            self._store_failing = True
            pairs = [("up", float(up)), ("delivery_halted", float(self._halted()))]
        self.sink.submit(lines(self.prefix, pairs, now))

    def _save_status(self) -> None:
        status = self.sink.status()
        if status == self._saved:
            return
        try:
            self.store.set_meta(META_KEY, json.dumps(status, sort_keys=True))
        except (StoreError, FatalStoreError, sqlite3.Error):
            return  # retried on the next tick
        self._saved = status


def saved_status(store: Store) -> dict[str, Any] | None:
    """What the daemon last saved about sending metrics (None: never ran with metrics)."""
    raw = store.meta(META_KEY)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def status_text(status: dict[str, Any] | None, now: float) -> str:
    """One line for ``status``: where the metrics go, when they last went, the last error."""
    if not status:
        return "metrics: not sent (off, or the daemon has not run with them)"
    target = status.get("target", "?")
    sent = status.get("last_sent_at")
    text = f"metrics to {target}: " + (
        f"last sent {now - sent:.0f} s ago ({status.get('last_sent_lines', 0)} lines)"
        if sent
        else "never sent"
    )
    if status.get("failing_since"):
        text += f"; failing for {now - status['failing_since']:.0f} s: {status.get('last_error')}"
    elif status.get("last_error"):
        text += f"; last error {now - status['last_error_at']:.0f} s ago: {status['last_error']}"
    return text
