"""The service loop around the pipeline step (sidecar.pipeline): sleeps, signals, health.

Each step reads what the logs have new (tailer -> parsers -> events and offsets stored in one
transaction), turns stored events into outbox actions, delivers what is due and allowed, and then
tells systemd it is alive. The watchdog ping comes from this loop, never from a thread of its own,
so a hung loop is a dead service. SIGTERM lets the current step finish (its batch is committed)
and the loop exit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import TYPE_CHECKING

import structlog

from sidecar.config.options import Config
from sidecar.pipeline import Pipeline, StepResult
from sidecar.service.health import total_lag
from sidecar.service.notify import Notifier
from sidecar.slack.deliver import Deliverer
from sidecar.state.store import Store, StoreError

if TYPE_CHECKING:
    from sidecar.ingest import Ingestor
    from sidecar.service.reporter import MetricsReporter

log = structlog.get_logger("sidecar.service.daemon")

MAX_SLEEP = 2.0  # idle: the stat reconcile cadence; inotify wakes the loop at once
PACING_EVERY = 5.0  # seconds between saves of the pace per key (for `status`), when it changed


class Daemon:
    """The service around the pipeline: signals, systemd notifications, the sleeps between
    steps, the pace saved for ``status`` and the metrics tick."""

    def __init__(
        self,
        config: Config,
        store: Store,
        ingestor: Ingestor,
        deliverer: Deliverer,
        *,
        notifier: Notifier | None = None,
        metrics: MetricsReporter | None = None,
    ):
        self.config = config
        self.store = store
        self.ingestor = ingestor
        self.deliverer = deliverer
        self.notifier = notifier or Notifier()
        self.metrics = metrics
        self.pipeline = Pipeline(store, config, deliverer, ingestor=ingestor)
        self.stop_event = threading.Event()
        self._last_store_error: str | None = None
        self._pacing_saved: dict[str, dict[str, float | int]] = {}
        self._pacing_saved_at = float("-inf")

    def step(self) -> StepResult:
        result = StepResult()
        try:
            result = self.pipeline.step()
            self.save_pacing()
            if self.metrics is not None:
                self.metrics.record(result.delivery)
            self._last_store_error = None
        except StoreError as exc:
            # A locked database or a full disk: nothing was committed for this step, the
            # offsets stay where they were, the next step retries.
            if str(exc) != self._last_store_error:
                log.error("state database unavailable, retrying", error=str(exc))
            self._last_store_error = str(exc)
        return result

    def save_pacing(self, *, force: bool = False) -> None:
        """Every few seconds, if it changed: the deliverer's pace per key, for ``status``."""
        now = time.monotonic()
        if not force and now - self._pacing_saved_at < PACING_EVERY:
            return
        self._pacing_saved_at = now
        pacing = {key: pace.as_dict() for key, pace in self.deliverer.pacing().items()}
        if pacing != self._pacing_saved:
            self.store.save_pacing(pacing)
            self._pacing_saved = pacing

    def status_line(self) -> str:
        if self._last_store_error is not None:
            return f"unhealthy: {self._last_store_error}; retrying"
        counts = self.store.counts()
        lag_bytes, lag_seconds = total_lag(self.store.files(), time.time())
        state = f"halted: {self.deliverer.halted}" if self.deliverer.halted else "delivering"
        return (
            f"{state}; lag {lag_bytes} B ({lag_seconds:.0f} s); outbox"
            f" {counts['outbox_pending']} pending; {counts['events']} events,"
            f" {counts['threads']} threads"
        )

    def run(self, *, install_signals: bool = True) -> int:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop_event.set())
        # Events kept back (an alert that routed nowhere) are planned again: the configuration
        # may have been fixed since.
        self.store.clear_problem("route")
        self.store.release_waits()
        self.notifier.ready()
        log.info(
            "running", log_dir=str(self.config.skyline.log_dir), apps=list(self.config.skyline.apps)
        )
        interval = self.notifier.watchdog_interval()
        last_status = last_ping = 0.0
        while not self.stop_event.is_set():
            self.step()
            # The loop came round: that is what the watchdog guards (a hung loop is restarted);
            # errors it survives (a locked database, Slack down) go to STATUS instead.
            now = time.monotonic()
            if interval is not None and now - last_ping >= interval / 2:
                self.notifier.watchdog()
                last_ping = now
            if now - last_status > 5.0:
                self.notifier.status(self.status_line())
                last_status = now
            if self.metrics is not None:
                self.metrics.tick()  # hands the lines to a background sender: never blocks
            if self.stop_event.is_set():
                break
            waits = [MAX_SLEEP, self.deliverer.next_ready_in()]
            if self.metrics is not None:
                waits.append(self.metrics.next_in())
            self.ingestor.tailer.wait(min(w for w in waits if w is not None))
        self.notifier.stopping()
        with contextlib.suppress(StoreError):
            self.save_pacing(force=True)
        if self.metrics is not None:
            self.metrics.close()
        log.info("stopped")
        return 0
