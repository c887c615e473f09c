"""Alerts as Skyline posts them: the graph PNG uploaded with the alert text as its comment, in
every routed channel, once; lifecycle replies in its thread. slack_sdk's real WebClient against
FakeSlack's upload flow (upload URL, raw bytes, completion, a share that shows a moment later)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from parsers.events import FeaturesProfileCreated, TrainingDataViewed
from sidecar.config.options import Config
from sidecar.slack.deliver import NO_GRAPH
from sidecar.state.store import Store
from tests.support.fakeslack import FakeSlack
from tests.support.pngs import png_bytes, training_png
from tests.support.slack_pipeline import (
    METRIC,
    TS,
    alert,
    deliverer_for,
    drain,
    lifecycle,
    make_config,
)
from tests.support.store_queries import actions


@dataclass
class Env:
    fake: FakeSlack
    config: Config
    store: Store
    folder: Path

    def with_graphite(self, url: str | None) -> Config:
        return replace(self.config, skyline=replace(self.config.skyline, graphite_url=url))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with FakeSlack(post_rate=None, share_delay=0.3) as fake:
        sky = fake.add_channel("#skyline")
        ops = fake.add_channel("#ops")
        config = make_config(
            tmp_path,
            fake.base_url,
            graph_images=True,
            default_channel_id=sky,
            channel_ids=(("#ops", ops),),
            channels=(("stats", ("#skyline", "#ops")),),
        )
        folder = tmp_path / "ionosphere"
        config = replace(
            config,
            skyline=replace(config.skyline, ionosphere_data_folder=folder, graphite_url=None),
        )
        store = Store.open(config.state.path)
        yield Env(fake, config, store, folder)
        store.close()
    assert fake.server_errors == [], fake.server_errors[0]


def old_png(folder: Path, data: bytes | None = None) -> Path:
    png = training_png(folder, TS, METRIC, "mirage", 168, data)
    os.utime(png, (time.time() - 60, time.time() - 60))
    return png


def lifecycle_events() -> list:
    return [
        alert(),
        lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS, user="admin"),
        lifecycle(FeaturesProfileCreated, fp_id=1234, metric=METRIC, anomaly_timestamp=TS),
    ]


def test_the_graph_in_every_channel_once_and_the_thread_on_it(env: Env) -> None:
    png = old_png(env.folder)
    env.store.ingest(lifecycle_events(), None)
    drain(env.store, env.config, deliverer_for(env.store, env.config))
    [action] = [a for a in actions(env.store) if a.channel == "#skyline" and a.graph]
    for channel in ("#skyline", "#ops"):
        [msg] = env.fake.messages(channel)
        assert msg.text == action.text and NO_GRAPH not in msg.text  # the comment is the alert
        [f] = msg.files
        assert f["title"] == png.name and (action.id in f["name"] or channel == "#ops")
    files = env.fake.files()
    assert len(files) == 2 and all(f["data"] == png.read_bytes() for f in files)
    assert len(env.fake.calls_to("files.completeUploadExternal")) == 2
    parent = env.fake.messages("#skyline")[0]
    assert [r.text.split(" ")[0] for r in env.fake.replies("#skyline", parent.ts)] == [
        "The",
        "*TRAINED",
    ]
    assert env.fake.reactions("#skyline", parent.ts) == {"eyes": 1, "thumbsup": 1}
    assert env.fake.replies("#ops", env.fake.messages("#ops")[0].ts) == []


def test_a_graph_written_seconds_after_the_alert_line_still_makes_it(env: Env) -> None:
    whole = png_bytes(seed=3)

    def skyline_smtp_alerter() -> None:
        time.sleep(1.0)
        png = training_png(env.folder, TS, METRIC, "mirage", 168, whole[:20])  # half written
        time.sleep(1.0)
        png.write_bytes(whole)

    writer = threading.Thread(target=skyline_smtp_alerter)
    env.store.ingest([alert()], None)
    writer.start()
    drain(env.store, env.config, deliverer_for(env.store, env.config, image_wait=15.0))
    writer.join()
    assert [f["data"] for f in env.fake.files()] == [whole, whole]
    assert all(NO_GRAPH not in env.fake.messages(c)[0].text for c in ("#skyline", "#ops"))


def test_no_graph_gives_the_text_alert_saying_so(env: Env) -> None:
    env.store.ingest(lifecycle_events(), None)
    drain(env.store, env.config, deliverer_for(env.store, env.config, image_wait=0.5))
    assert env.fake.files() == []
    [msg] = env.fake.messages("#skyline")
    assert msg.text.endswith(NO_GRAPH) and msg.files is None
    assert len(env.fake.replies("#skyline", msg.ts)) == 2  # the thread is on the text alert


@pytest.mark.parametrize("damage", ["truncated", "not a png", "empty"])
def test_a_damaged_png_is_never_fatal(env: Env, damage: str) -> None:
    data = {"truncated": png_bytes()[:-7], "not a png": b"<html>", "empty": b""}[damage]
    old_png(env.folder, data)
    env.store.ingest([alert()], None)
    drain(env.store, env.config, deliverer_for(env.store, env.config, image_wait=0.5))
    assert env.fake.files() == []
    assert env.fake.messages("#skyline")[0].text.endswith(NO_GRAPH)


class Graphite(BaseHTTPRequestHandler):
    answer: tuple[int, str, bytes] = (200, "image/png", png_bytes(seed=9))
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Graphite.paths.append(self.path)
        status, ctype, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def graphite() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Graphite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Graphite.paths = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_no_png_in_time_then_graphite(env: Env, graphite: str) -> None:
    config = env.with_graphite(graphite)
    env.store.ingest([alert()], None)
    drain(env.store, config, deliverer_for(env.store, config, image_wait=0.5))
    assert [f["data"] for f in env.fake.files()] == [Graphite.answer[2]] * 2
    assert env.fake.messages("#skyline")[0].files[0]["title"] == f"{METRIC}.mirage.graphite.png"
    assert Graphite.paths[0].startswith("/render?from=")
    assert "target=cactiStyle(stats.web01.cpu.user,%27si%27)" in Graphite.paths[0]


@pytest.mark.parametrize(
    "answer",
    [
        (500, "text/html", b"<h1>error</h1>"),
        (200, "text/html", b"<html>"),
        (200, "image/png", b"not a png"),
    ],
)
def test_graphite_errors_give_the_text_alert(
    env: Env, graphite: str, monkeypatch, answer: tuple[int, str, bytes]
) -> None:
    monkeypatch.setattr(Graphite, "answer", answer)
    config = env.with_graphite(graphite)
    env.store.ingest([alert()], None)
    drain(env.store, config, deliverer_for(env.store, config, image_wait=0.0))
    assert env.fake.files() == [] and len(Graphite.paths) == 1  # once for both channels
    assert env.fake.messages("#skyline")[0].text.endswith(NO_GRAPH)


@pytest.mark.parametrize("method", ["files.completeUploadExternal", "files.getUploadURLExternal"])
def test_connection_dropped_after_slack_stored_it_uploads_once(env: Env, method: str) -> None:
    old_png(env.folder)
    env.fake.inject(method, "drop_after_store")
    env.store.ingest([alert()], None)
    d = deliverer_for(env.store, env.config, upload_settle=1.0)
    d._backoff = lambda attempts: 0.1
    drain(env.store, env.config, d)
    for channel in ("#skyline", "#ops"):
        assert len(env.fake.messages(channel)) == 1
    assert len([f for f in env.fake.files() if f["shares"]]) == 2


def test_without_files_read_the_thread_is_found_in_history(env: Env) -> None:
    old_png(env.folder)
    env.fake.set_scopes({"chat:write", "files:write", "reactions:write", "channels:history"})
    env.store.ingest(lifecycle_events(), None)
    drain(env.store, env.config, deliverer_for(env.store, env.config))
    parent = env.fake.messages("#skyline")[0]
    assert parent.files and len(env.fake.replies("#skyline", parent.ts)) == 2


def test_without_files_write_the_text_alert_goes_and_delivery_goes_on(env: Env) -> None:
    old_png(env.folder)
    env.fake.set_scopes({"chat:write", "files:read", "reactions:write", "channels:history"})
    env.store.ingest(lifecycle_events(), None)
    d = deliverer_for(env.store, env.config)
    drain(env.store, env.config, d)
    assert d.halted is None and env.fake.files() == []
    parent = env.fake.messages("#skyline")[0]
    assert parent.text.endswith(NO_GRAPH) and len(env.fake.replies("#skyline", parent.ts)) == 2


def test_a_file_slack_refuses_goes_as_the_text_alert(env: Env) -> None:
    old_png(env.folder)
    env.fake.inject("files.getUploadURLExternal", "error", times=2, error="invalid_arguments")
    env.store.ingest([alert()], None)
    drain(env.store, env.config, deliverer_for(env.store, env.config))
    for channel in ("#skyline", "#ops"):
        [msg] = env.fake.messages(channel)
        assert msg.text.endswith(NO_GRAPH) and msg.files is None


@pytest.mark.parametrize("fault", ["http_500", "drop_before"])
def test_a_failed_byte_upload_is_begun_afresh_and_shared_once(env: Env, fault: str) -> None:
    png = old_png(env.folder)
    env.fake.inject("upload", fault)
    env.store.ingest([alert()], None)
    d = deliverer_for(env.store, env.config)
    d._backoff = lambda attempts: 0.1
    drain(env.store, env.config, d)
    shared = [f for f in env.fake.files() if f["shares"]]
    assert len(shared) == 2 and all(f["data"] == png.read_bytes() for f in shared)
    assert [len(env.fake.messages(c)) for c in ("#skyline", "#ops")] == [1, 1]
    assert len(env.fake.files()) == 3  # the spoilt one was never completed nor shared
