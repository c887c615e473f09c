"""Delivery through the limiter: N alerts over 5 channels against Slack's 1 msg/s/channel.

The floor is what the limit allows: the largest per-channel count at one message per second
(the burst aside). Target: total time within 10% of it, and no 429 provoked after the first.
Set BENCH_ALERTS to change N (default 1,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sidecar.pipeline import plan_pending
from sidecar.service.logs import configure_logging
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import WebGateway
from sidecar.slack.pacing import Limiter
from sidecar.state.store import Store
from tests.support.fakeslack import FakeSlack
from tests.support.slack_pipeline import alert, make_config, with_slack

CHANNELS = ("#c1", "#c2", "#c3", "#c4", "#c5")


def run() -> dict[str, object]:
    n = int(os.environ.get("BENCH_ALERTS", "1000"))
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(post_rate=1.0, post_burst=3) as fake:
        for ch in CHANNELS:
            fake.add_channel(ch)
        config = make_config(Path(tmp), fake.base_url)
        config = with_slack(
            config, channels=tuple((f"ns{i}", (ch,)) for i, ch in enumerate(CHANNELS))
        )
        store = Store.open(config.state.path)
        store.ingest(
            [alert(ts=1795698600 + i, namespace=f"ns{i % len(CHANNELS)}") for i in range(n)], None
        )
        plan_pending(store, config)
        gateway = WebGateway(config.token.reveal(), config.slack.base_url, timeout=10)
        deliverer = Deliverer(store, gateway, limiter=Limiter.uniform(1.0, 2.0))
        start = time.monotonic()
        while store.counts()["outbox_pending"]:
            deliverer.run_once()
            wait = deliverer.next_ready_in()
            time.sleep(0.01 if wait is None else min(max(wait, 0.001), 1.0))
        elapsed = time.monotonic() - start
        per_channel = max(len(fake.messages(ch)) for ch in CHANNELS)
        floor = per_channel - 2  # the first two of each channel go in the burst
        delivered = sum(len(fake.messages(ch)) for ch in CHANNELS)
        store.close()
    return {
        "alerts": n,
        "delivered": delivered,
        "seconds": round(elapsed, 2),
        "floor_seconds": floor,
        "ratio_to_floor": round(elapsed / floor, 3) if floor > 0 else None,
        "http_429": fake.ratelimited_count,
    }
