"""A delivery process for the kill -9 tests: plans and delivers a store's events until the
outbox is empty, then exits 0. Usage: delivery_worker.py STATE_DB BASE_URL CHANNEL_ID
[IONOSPHERE_DATA_FOLDER], where CHANNEL_ID "-" means names only (Skyline's shipped
SLACK_OPTS: the id comes from Slack) and a folder makes alerts graph uploads from it."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from sidecar.pipeline import Pipeline
from sidecar.service.logs import configure_logging
from sidecar.state.store import Store
from tests.support.slack_pipeline import deliverer_for, make_config, with_slack


def main(db: str, base_url: str, channel_id: str, folder: str | None = None) -> int:
    configure_logging(level="warning", stream=sys.stderr)
    config = with_slack(make_config(Path(db).parent, base_url), graph_images=folder is not None)
    if channel_id != "-":
        config = with_slack(config, default_channel_id=channel_id)
    config = config.__class__(**{**config.__dict__, "state": config.state.__class__(Path(db))})
    if folder is not None:
        config = replace(
            config,
            skyline=replace(config.skyline, graphite_url=None, ionosphere_data_folder=Path(folder)),
        )
    store = Store.open(db)
    deliverer = deliverer_for(store, config, rate=20.0, burst=5.0, timeout=1.0, upload_settle=2.0)
    deliverer._backoff = lambda attempts: 0.05
    Pipeline(store, config, deliverer).drain(max_sleep=0.01, idle_sleep=0.01)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:5]))
