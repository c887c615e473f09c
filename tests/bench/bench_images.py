"""Graph alerts: line->Slack latency with images against text alerts, and an alert storm.

Latency: one alert at a time, from storing its event to its message being in Slack (the fake
shares at once here, share_delay=0, so Slack's own share delay is not counted), with the PNG on
disk as Skyline's smtp alerter leaves it; the upload's own time (getUploadURL, bytes, complete)
is timed around the gateway call. Target: image latency <= text latency + upload time.
Storm: BENCH_IMAGE_ALERTS (default 60) graph alerts over 5 channels with Slack's own pacing: each
upload takes a token of the workspace-wide "files" bucket (Tier 4) and one of its channel's, so
the floor is the slower of the two.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sidecar.pipeline import plan_pending
from sidecar.service.logs import configure_logging
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import WebGateway
from sidecar.slack.pacing import SLACK_PACES, Limiter
from sidecar.state.store import Store
from tests.support.fakeslack import FakeSlack
from tests.support.pngs import png_bytes, training_png
from tests.support.slack_pipeline import TS, alert, make_config, with_slack

CHANNELS = ("#c1", "#c2", "#c3", "#c4", "#c5")
METRIC = "stats.web01.cpu.user"
GRAPH = png_bytes(588, 308, noisy=True)  # Skyline's graph size, compressing about as badly


class TimedGateway(WebGateway):
    uploads: list[float]

    def upload(self, *args: Any, **kw: Any) -> str:
        started = time.monotonic()
        try:
            return super().upload(*args, **kw)
        finally:
            self.uploads.append(time.monotonic() - started)


def setup(tmp: Path, fake: FakeSlack, images: bool, channels: tuple[str, ...], n: int):
    folder = tmp / "ionosphere"
    old = time.time() - 60
    for i in range(n):
        png = training_png(folder, TS + i, METRIC, "mirage", 168, GRAPH)
        os.utime(png, (old, old))
    config = make_config(tmp, fake.base_url, graph_images=images)
    config = with_slack(
        config,
        channels=tuple((f"ns{i}", (ch,)) for i, ch in enumerate(channels)),
        channel_ids=tuple((ch, fake.channel_id(ch)) for ch in channels),
    )
    config = replace(
        config, skyline=replace(config.skyline, ionosphere_data_folder=folder, graphite_url=None)
    )
    gateway = TimedGateway(config.token.reveal(), config.slack.base_url, timeout=10)
    gateway.uploads = []
    return config, Store.open(config.state.path), gateway


def latencies(images: bool, k: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(post_rate=None, share_delay=0.0) as fake:
        fake.add_channel("#c1")
        config, store, gateway = setup(Path(tmp), fake, images, ("#c1",), k)
        deliverer = Deliverer(
            store,
            gateway,
            limiter=Limiter.unpaced(),  # the latency of one alert, not its pacing
            channel_ids=config.slack.channel_id_for,
        )
        out = []
        for i in range(k):
            started = time.monotonic()
            store.ingest([alert(METRIC, ts=TS + i, namespace="ns0")], None)
            while len(fake.messages("#c1")) <= i:
                plan_pending(store, config)
                deliverer.run_once()
            out.append(time.monotonic() - started)
        store.close()
        return out, gateway.uploads


def storm(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(post_rate=1.0, post_burst=3) as fake:
        for ch in CHANNELS:
            fake.add_channel(ch)
        config, store, gateway = setup(Path(tmp), fake, True, CHANNELS, n)
        store.ingest(
            [alert(METRIC, ts=TS + i, namespace=f"ns{i % len(CHANNELS)}") for i in range(n)], None
        )
        plan_pending(store, config)
        deliverer = Deliverer(
            store,
            gateway,
            limiter=Limiter(),  # Slack's paces, as the daemon runs
            channel_ids=config.slack.channel_id_for,
        )
        start = time.monotonic()
        while sum(len(fake.messages(ch)) for ch in CHANNELS) < n:
            deliverer.run_once()
            wait = deliverer.next_ready_in()
            time.sleep(0.01 if wait is None else min(max(wait, 0.001), 1.0))
        elapsed = time.monotonic() - start
        files = sum(1 for f in fake.files() if f["shares"])
        store.close()
    files_pace, chat_pace = SLACK_PACES["files"], SLACK_PACES["chat"]
    floor = max(
        (n - files_pace.burst) / files_pace.rate,
        (n / len(CHANNELS) - chat_pace.burst) / chat_pace.rate,
    )
    return {
        "storm_alerts": n,
        "storm_uploaded": files,
        "storm_seconds": round(elapsed, 2),
        "storm_floor_seconds": round(floor, 2),
        "storm_ratio_to_floor": round(elapsed / floor, 3),
        "storm_http_429": fake.ratelimited_count,
    }


def run() -> dict[str, object]:
    configure_logging(level="warning")
    k = int(os.environ.get("BENCH_LATENCY_ALERTS", "30"))
    text, _ = latencies(False, k)
    image, uploads = latencies(True, k)
    med = statistics.median
    return {
        "png_bytes": len(GRAPH),
        "latency_text_median_ms": round(med(text) * 1000, 1),
        "latency_image_median_ms": round(med(image) * 1000, 1),
        "upload_own_median_ms": round(med(uploads) * 1000, 1),
        "image_minus_text_median_ms": round((med(image) - med(text)) * 1000, 1),
        "ratio_image_to_text_plus_upload": round(med(image) / (med(text) + med(uploads)), 3),
        **storm(int(os.environ.get("BENCH_IMAGE_ALERTS", "60"))),
    }
