"""Test helpers: events into a real store, planned, delivered through slack_sdk to FakeSlack."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from parsers.events import AnomalyAlert, Event
from sidecar.config.options import Config, Secret, SkylineOptions, SlackOptions, StateOptions
from sidecar.pipeline import Pipeline
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import WebGateway
from sidecar.slack.pacing import Limiter
from sidecar.state.store import Store

METRIC = "stats.web01.cpu.user"
TS = 1795698600


def make_config(tmp_path: Path, base_url: str = "http://127.0.0.1:9/api/", **slack: Any) -> Config:
    # Text alerts unless a test asks for graphs (graph_images=True): graphite.example.com is
    # not a Graphite to fetch from.
    slack_opts = {
        "default_channel": "#skyline",
        "lifecycle_grace_seconds": 0.0,
        "graph_images": False,
    } | slack
    return Config(
        skyline=SkylineOptions(
            log_dir=tmp_path / "logs",
            url="https://skyline.example.com",
            graphite_url="http://graphite.example.com",
        ),
        slack=SlackOptions(base_url=base_url, **slack_opts),
        state=StateOptions(path=tmp_path / "state.sqlite"),
        token=Secret("xoxb-test"),
        source=None,
    )


def alert(
    metric: str = METRIC,
    ts: int = TS,
    *,
    alerter: str = "slack",
    namespace: str | None = "stats",
    **kw: Any,
) -> AnomalyAlert:
    fields = {
        "value": 87.5,
        "context": "Mirage",
        "second_order_resolution_seconds": 604800,
        "triggered_algorithms": ("grubbs", "ks_test"),
        "algorithms_run": ("grubbs",) * 9,
    }
    message = f"alert_slack - SLACK_ENABLED is False ... {metric} {ts} {alerter}"
    return AnomalyAlert(
        app="mirage",
        logged_at=datetime(2026, 11, 26, 13, 10, 14),
        pid=23456,
        message=message,
        metric=metric,
        anomaly_timestamp=ts,
        alerter=alerter,
        alert_namespace=namespace,
        **(fields | kw),
    )


def lifecycle(cls: type[Event], **kw: Any) -> Event:
    base = {
        "app": "webapp",
        "logged_at": datetime(2026, 11, 26, 13, 12, 2),
        "pid": 3120441,
        "message": f"{cls.kind} {sorted(kw.items())}",
    }
    return cls(**(base | kw))


def deliverer_for(
    store: Store,
    config: Config,
    *,
    rate: float = 50.0,
    burst: float = 50.0,
    timeout: float = 2.0,
    **kw: Any,
) -> Deliverer:
    gateway = WebGateway(config.token.reveal(), config.slack.base_url, timeout=timeout)
    return Deliverer(
        store,
        gateway,
        limiter=Limiter.uniform(rate, burst),
        channel_ids=config.slack.channel_id_for,
        **kw,
    )


def drain(store: Store, config: Config, deliverer: Deliverer, *, timeout: float = 20.0) -> None:
    """Plan and deliver until nothing is pending (or fail the test at the deadline)."""
    pipeline = Pipeline(store, config, deliverer)
    if not pipeline.drain(deadline=time.monotonic() + timeout, max_sleep=0.5):
        raise AssertionError(f"outbox not drained: {store.counts()}")


def with_slack(config: Config, **slack: Any) -> Config:
    return replace(config, slack=replace(config.slack, **slack))
