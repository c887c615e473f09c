"""Make tests/data/state_v1.sqlite: a state database as the release before versioned migrations
(commit 07b2d31, schema_version 1) leaves it, for the upgrade test.

It was made by running this script with THAT release's code (its ``sidecar.state.store``),
from a checkout of 07b2d31 with the package installed::

    python tests/data/make_state_v1.py tests/data/state_v1.sqlite

Later code cannot make it (the store module moved); the committed file is the fixture. It holds
events (an alert, a features profile, a muted alert), planned actions (one delivered, which
anchored a thread; one failed; one pending), the fps registry, a file offset, an error and
problem, the channel cache and the deliverer's pacing.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from parsers.events import AlertMuted, AnomalyAlert, FeaturesProfileCreated, Source
from sidecar.config.options import Config, Secret, SkylineOptions, SlackOptions, StateOptions
from sidecar.service.daemon import plan_pending
from sidecar.state.store import FileState, Store

METRIC, TS = "stats.web01.cpu.user", 1795698600


def main(path: Path) -> None:
    path.unlink(missing_ok=True)
    config = Config(
        skyline=SkylineOptions(
            log_dir=path.parent,
            url="https://skyline.example.com",
            graphite_url="http://graphite.example.com",
        ),
        slack=SlackOptions(
            base_url="http://127.0.0.1:9/api/",
            default_channel="#skyline",
            lifecycle_grace_seconds=0.0,
            graph_images=False,
            channels=(("stats", ("#skyline", "#ops")),),
        ),
        state=StateOptions(path=path),
        token=Secret("xoxb-test"),
        source=None,
    )
    alert = AnomalyAlert(
        app="mirage",
        logged_at=datetime(2026, 11, 26, 13, 10, 14),
        pid=23456,
        message=f"alert_slack - {METRIC} {TS} slack",
        metric=METRIC,
        anomaly_timestamp=TS,
        alerter="slack",
        alert_namespace="stats",
        value=87.5,
        context="Mirage",
        second_order_resolution_seconds=604800,
        triggered_algorithms=("grubbs", "ks_test"),
        algorithms_run=("grubbs",) * 9,
        source=Source("/var/log/skyline/mirage.log", 42),
    )
    fp = FeaturesProfileCreated(
        app="webapp",
        logged_at=datetime(2026, 11, 26, 13, 12, 2),
        pid=3120441,
        message="fp created",
        fp_id=1234,
        metric=METRIC,
        anomaly_timestamp=TS,
    )
    muted = AlertMuted(
        app="analyzer",
        logged_at=datetime(2026, 11, 26, 13, 11, 0),
        pid=99,
        message="muted",
        metric="stats.db01.load",
        alerter="slack",
    )
    store = Store.open(path)
    state = FileState(
        key="2049:1234",
        path="/var/log/skyline/mirage.log",
        app="mirage",
        dev=2049,
        inode=1234,
        head_hash="ab" * 16,
        head_len=4096,
        offset=8192,
        line_no=43,
        anchor_hash="cd" * 16,
        anchor_len=256,
        size=8192,
        mtime=1795698614.5,
    )
    store.ingest([alert, muted], state)
    plan_pending(store, config)
    posted, failed, *_ = store.due_actions(now=2e9)
    store.mark_done(store.mark_inflight(posted), "C0SKYLINE", "1795698615.000100")
    store.mark_failed(store.mark_inflight(failed), "channel_not_found")
    store.ingest([fp], None)
    plan_pending(store, config)  # a reply and reactions in the thread, pending
    store.record_error("route", "no channel for stats.db01.load")
    store.save_channels({"skyline": "C0SKYLINE", "ops": "C0OPS"})
    store.save_pacing({"chat.postMessage:C0SKYLINE": {"rate": 1.0, "tokens": 0.5}})
    store.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
