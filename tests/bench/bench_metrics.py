"""One metrics interval's reads of the state database, with N actions delivered in the past.

Baseline, measured in the same run: ``Store.counts()``, which the daemon already runs every 5 s
for its systemd STATUS= line. The metrics read it too, plus the files, the new events and the
actions delivered during the interval, once per interval (60 s). Set BENCH_ACTIONS to change N
(default 20,000) and BENCH_REPEAT the repetitions (best of).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sidecar.model import DONE
from sidecar.pipeline import plan_pending
from sidecar.service.logs import configure_logging
from sidecar.service.metrics import collect
from sidecar.service.reporter import MetricsReporter
from sidecar.state.store import Store
from tests.support.slack_pipeline import alert, make_config


class _Discard:
    def submit(self, lines: object) -> None:
        pass

    def status(self) -> dict[str, object]:
        return {}

    def close(self, timeout: float | None = None) -> None:
        pass


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> dict[str, object]:
    n = int(os.environ.get("BENCH_ACTIONS", "20000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "5"))
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(Path(tmp))
        store = Store.open(config.state.path)
        with store.relaxed_sync():
            store.ingest([alert(ts=1795698600 + i) for i in range(n)], None)
            plan_pending(store, config)
            with store.transaction():  # as if delivered an hour ago
                store.db.execute(
                    "UPDATE outbox SET state = ?, next_attempt_at = ?", (DONE, time.time() - 3600)
                )
        reporter = MetricsReporter(config, store, _Discard())
        metrics = _best(lambda: collect(reporter.snapshot(time.time())), repeat)
        baseline = _best(store.counts, repeat)
        store.close()
    return {
        "actions": n,
        "interval_ms": round(metrics * 1000, 2),
        "counts_ms": round(baseline * 1000, 2),
        "ratio_to_counts": round(metrics / baseline, 2) if baseline > 0 else None,
    }
