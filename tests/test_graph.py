"""Finding the alert's graph where Skyline keeps it, and Skyline's Graphite render URL."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sidecar.config.options import load_config
from sidecar.slack import graph
from sidecar.slack.planner import plan_event
from sidecar.state.store import Store
from tests.support.pngs import png_bytes, training_png
from tests.support.slack_pipeline import METRIC, TS, alert, make_config
from tests.support.store_queries import actions

OLD = time.time() - 60


def spec(folder: Path, metric: str = METRIC, app: str = "mirage") -> graph.GraphSpec:
    return graph.GraphSpec(metric, TS, app, str(folder))


def aged(path: Path) -> Path:
    os.utime(path, (OLD, OLD))
    return path


def test_the_smtp_alerters_png_any_hours(tmp_path: Path) -> None:
    # analyzer/alerters.py:2018-2027:
    # <folder>/<ts>/<metric as dirs>/<metric>.<app>.graphite.<N>h.png
    analyzer = aged(training_png(tmp_path, TS, METRIC, "analyzer", 24))
    mirage = aged(training_png(tmp_path, TS, METRIC, "mirage", 168))
    assert (
        mirage == tmp_path / str(TS) / "stats/web01/cpu/user" / f"{METRIC}.mirage.graphite.168h.png"
    )
    found = graph.find_png(spec(tmp_path, app="mirage"))
    assert isinstance(found, graph.Image) and found.path == mirage and found.name == mirage.name
    assert graph.find_png(spec(tmp_path, app="analyzer")).path == analyzer


def test_mirage_downsampled_png_replaces_it_when_skyline_made_one(tmp_path: Path) -> None:
    plain = aged(training_png(tmp_path, TS, METRIC, "mirage", 168))
    where = plain.parent
    down = aged_write(where / f"{METRIC}.mirage.analysed.downsampled.png")
    assert (
        graph.find_png(spec(tmp_path)).path == plain
    )  # no .downsampled.json: not Skyline's choice
    (where / f"{METRIC}.downsampled.json").write_text("[]")
    assert graph.find_png(spec(tmp_path)).path == down
    down.unlink()  # json but no downsampled PNG: the graphite one
    assert graph.find_png(spec(tmp_path)).path == plain


def aged_write(path: Path) -> Path:
    path.write_bytes(png_bytes(seed=7))
    return aged(path)


def test_labelled_metrics_live_under_labelled_metrics_id(tmp_path: Path) -> None:
    png = aged(training_png(tmp_path, TS, "labelled_metrics.1234", "analyzer", 24))
    assert png.parent == tmp_path / str(TS) / "labelled_metrics" / "1234"
    assert graph.find_png(spec(tmp_path, "labelled_metrics.1234", "analyzer")).path == png


def test_glob_characters_in_metric_names_are_literal(tmp_path: Path) -> None:
    aged(training_png(tmp_path, TS, "stats.a1.x", "mirage", 168))
    assert isinstance(graph.find_png(spec(tmp_path, "stats.a[1].x")), str)
    png = aged(training_png(tmp_path, TS, "stats.a[1]*.x", "mirage", 168))
    assert graph.find_png(spec(tmp_path, "stats.a[1]*.x")).path == png


def test_why_not(tmp_path: Path) -> None:
    assert "no graph PNG" in graph.find_png(spec(tmp_path))
    assert "Ionosphere" in graph.find_png(replace(spec(tmp_path), ionosphere_dir=None))
    png = training_png(tmp_path, TS, METRIC, "mirage", 168)
    assert "still being written" in graph.find_png(spec(tmp_path))  # modified just now
    png.write_bytes(png_bytes()[:-5])
    aged(png)
    assert "truncated" in graph.find_png(spec(tmp_path))
    png.write_bytes(b"<html>502 Bad Gateway</html>" * 3)
    aged(png)
    assert "not a PNG" in graph.find_png(spec(tmp_path))
    with png.open("r+b") as f:  # sparse: no gigabyte written
        f.truncate(graph.SLACK_MAX_FILE_BYTES + 1)
    aged(png)
    assert "over Slack's" in graph.find_png(spec(tmp_path))
    png.unlink()
    png.mkdir()  # a directory by the PNG's name: unreadable as a file
    assert "unreadable" in graph.find_png(spec(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_png(tmp_path: Path) -> None:
    png = aged(training_png(tmp_path, TS, METRIC, "mirage", 168))
    png.chmod(0)
    assert "unreadable" in graph.find_png(spec(tmp_path))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_graph_fetched_is_the_one_skylines_link_shows(tmp_path: Path) -> None:
    # The reference's example (slack-effects.md section 1.1, analyzer/alerters.py:2001): the
    # Graphite fallback fetches exactly the URL of the alert's "graphite image link".
    a = replace(alert(context="Analyzer", second_order_resolution_seconds=None), app="analyzer")
    config = make_config(tmp_path, graph_images=True)
    config = replace(
        config,
        skyline=replace(
            config.skyline, graphite_url="http://graphite.example.com:80", timezone="UTC"
        ),
    )
    [action] = plan_event(
        a, Store.open(tmp_path / "s.sqlite"), config, ingested_at=0, now=0
    ).actions
    url = graph.GraphSpec.from_json(action.graph).graphite_url
    assert url == (
        "http://graphite.example.com:80/render?from=13:10_20261125&until=13:10_20261126"
        "&target=cactiStyle(stats.web01.cpu.user,%27si%27)&width=588&height=308&bgcolor=000000"
        "&fontBold=true&fgcolor=C0C0C0&title=Skyline%20Analyzer%20-%20ALERT%20at%2024%20hours"
        "%20-%2087.5&colorList=orange"
    )
    assert f"<{url.replace('&', '&amp;')}|graphite image link>" in (action.text or "")


def test_planner_gives_alerts_their_graph_spec(tmp_path: Path) -> None:
    config = make_config(tmp_path, graph_images=True)
    config = replace(config, skyline=replace(config.skyline, ionosphere_data_folder=tmp_path))
    store = Store.open(tmp_path / "s.sqlite")

    def planned(cfg):
        [action] = plan_event(alert(), store, cfg, ingested_at=0, now=0).actions
        return None if action.graph is None else graph.GraphSpec.from_json(action.graph)

    s = planned(config)
    assert (s.metric, s.anomaly_timestamp, s.app, s.ionosphere_dir) == (
        METRIC,
        TS,
        "mirage",
        str(tmp_path),
    )
    assert s.graphite_url.startswith("http://graphite.example.com:80/render?from=")
    off = replace(config, skyline=replace(config.skyline, ionosphere_enabled=False))
    assert planned(off).ionosphere_dir is None
    assert planned(replace(config, slack=replace(config.slack, graph_images=False))) is None
    bare = replace(off, skyline=replace(off.skyline, graphite_url=None))
    assert planned(bare) is None  # nowhere to find a graph: a text alert
    labelled = plan_event(alert("labelled_metrics.1234"), store, config, ingested_at=0, now=0)
    assert graph.GraphSpec.from_json(labelled.actions[0].graph).graphite_url is None


def test_settings_py_gives_the_ionosphere_folder(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(
        "IONOSPHERE_ENABLED = False\nIONOSPHERE_DATA_FOLDER = '/opt/skyline/ionosphere/data'\n"
    )
    config = load_config(environ={"SKYLINE_SETTINGS_PY": str(settings)})
    assert config.skyline.ionosphere_data_folder == Path("/opt/skyline/ionosphere/data")
    assert config.skyline.ionosphere_enabled is False
    toml = tmp_path / "c.toml"
    toml.write_text(
        f'[skyline]\nsettings_py = "{settings}"\nionosphere_data_folder = "d"\n'
        "[slack]\nimage_wait_seconds = 5\n"
    )
    config = load_config(toml, environ={})
    assert config.skyline.ionosphere_data_folder == tmp_path / "d"
    assert config.slack.image_wait_seconds == 5.0 and config.slack.graph_images is True


def test_an_older_state_database_gains_the_graph_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE outbox DROP COLUMN graph")
    conn.execute("ALTER TABLE outbox DROP COLUMN file_id")
    conn.execute("ALTER TABLE outbox DROP COLUMN file_at")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")  # as they wrote
    conn.execute(
        "INSERT INTO outbox (id, event_id, action, channel, state, text, seq)"
        " VALUES ('a1', 'e1', 'post_message', '#skyline', 'pending', 'hi', 1)"
    )
    conn.commit()
    conn.close()
    store = Store.open(db)  # additive: the old rows stay, text alerts as they were planned
    [action] = actions(store)
    assert (action.id, action.text, action.graph, action.file_id) == ("a1", "hi", None, None)
    store.set_file(action, "F1", 5.0)
    assert store.action("a1").file_id == "F1"
