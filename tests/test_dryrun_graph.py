"""The dry run names, for each alert, the graph it would upload (path or Graphite URL) or why
there is none; it waits for nothing and fetches nothing."""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from sidecar.commands.common import make_deliverer
from sidecar.pipeline import plan_pending
from sidecar.state.store import Store
from tests.support.pngs import training_png
from tests.support.slack_pipeline import METRIC, TS, alert, make_config

OTHER = "stats.web02.cpu.user"


def dry_run(tmp_path: Path, graphite: str | None) -> dict[str, str]:
    folder = tmp_path / "ionosphere"
    png = training_png(folder, TS, METRIC, "mirage", 168)
    os.utime(png, (time.time() - 60, time.time() - 60))
    config = make_config(tmp_path, graph_images=True)
    config = replace(
        config,
        skyline=replace(config.skyline, ionosphere_data_folder=folder, graphite_url=graphite),
    )
    store = Store.scratch_copy(None)
    store.ingest([alert(), alert(OTHER)], None)
    plan_pending(store, config)
    out = io.StringIO()
    started = time.monotonic()
    make_deliverer(config, store, dry_run=True, fmt="json", out=out).run_once()
    assert time.monotonic() - started < config.slack.image_wait_seconds  # waited for nothing
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["channel"] for r in records} == {"#skyline"}
    return {r["event"]["metric"]: r["graph"] for r in records}


def test_dry_run_shows_the_png_or_why_none(tmp_path: Path) -> None:
    graphs = dry_run(tmp_path, None)
    assert graphs[METRIC] == str(
        tmp_path
        / "ionosphere"
        / str(TS)
        / "stats/web01/cpu/user"
        / f"{METRIC}.mirage.graphite.168h.png"
    )
    assert graphs[OTHER].startswith("none: no graph PNG in ")
    assert graphs[OTHER].endswith("no Graphite configured")


def test_dry_run_shows_the_graphite_url_it_would_fetch(tmp_path: Path) -> None:
    graphs = dry_run(tmp_path, "http://graphite.example.com:80")
    assert graphs[OTHER].startswith("http://graphite.example.com:80/render?from=")
    assert "target=cactiStyle(stats.web02.cpu.user,%27si%27)" in graphs[OTHER]
