"""The sidecar's health as Graphite metrics, sent to a real TCP listener standing in for carbon."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest
import structlog

from parsers.events import EVENT_TYPES
from sidecar.config.options import ConfigError, MetricsOptions, load_config
from sidecar.pipeline import plan_pending
from sidecar.service.carbon import CarbonClient
from sidecar.service.metrics import DeliveryCounts, Snapshot, collect, lines, percentile
from sidecar.service.reporter import MetricsReporter, saved_status, status_text
from sidecar.slack.deliver import DeliveryStats
from sidecar.slack.pacing import KeyPace
from sidecar.state.store import Store
from tests.support.carbon_listener import CarbonListener, closed_port
from tests.support.slack_pipeline import alert, deliverer_for, drain, make_config

PREFIX = "skyline.slack_sidecar.test"


# -- pure: names and values ------------------------------------------------------------------


def snapshot(**kw) -> Snapshot:
    base = dict(
        now=1000.0, apps=("analyzer", "mirage"), files=[], counts={}, kinds={}, delivered=[]
    )
    return Snapshot(**(base | kw))


def test_every_documented_name_is_sent():
    pairs = dict(collect(snapshot(delivered=[("post_message", 0.2)])))
    expected = {
        "lag_seconds.analyzer",
        "lag_seconds.mirage",
        "lag_bytes.analyzer",
        "lag_bytes.mirage",
        "outbox.pending",
        "outbox.oldest_seconds",
        "outbox.failed",
        *(f"events.{kind}" for kind in EVENT_TYPES),
        "slack.posts",
        "slack.replies",
        "slack.reactions",
        "slack.uploads",
        "slack.ratelimited",
        "slack.errors",
        "delivery.latency_ms.p50",
        "delivery.latency_ms.p99",
        "up",
        "delivery_halted",
    }
    assert set(pairs) == expected


def test_values_come_from_the_snapshot():
    files = [
        {"app": "mirage", "lag_bytes": 300, "lag_seconds": 4.5, "finished": False},
        {"app": "mirage", "lag_bytes": 200, "lag_seconds": 9.0, "finished": False},
        {"app": "mirage", "lag_bytes": 999, "lag_seconds": 99.0, "finished": True},
        {"app": "webapp", "lag_bytes": None, "lag_seconds": None, "finished": False},
    ]
    counts = {"outbox_pending": 3, "oldest_pending_at": 940.0, "outbox": {"failed": 2}}
    delivered = [
        ("post_message", 0.1),
        ("post_reply", 0.3),
        ("add_reaction", 0.2),
        ("upload_image", 2.0),
    ]
    delivery = DeliveryCounts()
    delivery.add(DeliveryStats(ratelimited=2, retried=1, failed=1, errors=["account_inactive"]))
    pairs = dict(
        collect(
            snapshot(
                files=files,
                counts=counts,
                kinds={"anomaly_alert": 4},
                delivered=delivered,
                delivery=delivery,
                halted=True,
            )
        )
    )
    assert pairs["lag_bytes.mirage"] == 500 and pairs["lag_seconds.mirage"] == 9.0
    assert pairs["lag_bytes.analyzer"] == 0 and pairs["lag_bytes.webapp"] == 0
    assert pairs["outbox.pending"] == 3 and pairs["outbox.oldest_seconds"] == 60.0
    assert pairs["outbox.failed"] == 2
    assert pairs["events.anomaly_alert"] == 4 and pairs["events.slack_thread"] == 0
    assert [pairs[f"slack.{n}"] for n in ("posts", "replies", "reactions", "uploads")] == [1] * 4
    assert pairs["slack.ratelimited"] == 2 and pairs["slack.errors"] == 3
    assert pairs["delivery.latency_ms.p50"] == 200.0
    assert pairs["delivery.latency_ms.p99"] == 2000.0
    assert pairs["delivery_halted"] == 1 and pairs["up"] == 1


def test_each_limiter_key_sends_its_pace_and_its_429s():
    pacing = {
        "chat:#ops": KeyPace(rate=0.729, ceiling=1.0, burst=1.0, ratelimited=3, parked_seconds=0.0),
        "files": KeyPace(
            rate=100 / 60, ceiling=100 / 60, burst=5.0, ratelimited=0, parked_seconds=0.0
        ),
    }
    pairs = dict(collect(snapshot(pacing=pacing)))
    assert pairs["pace.chat__ops.rate"] == 0.729
    assert pairs["pace.chat__ops.ratelimited_total"] == 3
    assert pairs["pace.files.rate"] == 1.667 and pairs["pace.files.ratelimited_total"] == 0
    assert not any(name.startswith("pace.") for name, _ in collect(snapshot()))


def test_no_delivery_means_no_latency_rather_than_zero():
    names = {n for n, _ in collect(snapshot())}
    assert not any(n.startswith("delivery.latency_ms") for n in names)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0


def test_lines_are_carbon_plaintext():
    out = lines(PREFIX, [("up", 1.0), ("outbox.oldest_seconds", 12.5)], 1795698600.7)
    assert out == [f"{PREFIX}.up 1 1795698600", f"{PREFIX}.outbox.oldest_seconds 12.5 1795698600"]


# -- configuration ---------------------------------------------------------------------------


def settings_file(tmp_path: Path, body: str) -> dict[str, str]:
    path = tmp_path / "settings.py"
    path.write_text(body)
    return {"SKYLINE_SETTINGS_PY": str(path)}


def test_zero_config_from_skylines_settings(tmp_path):
    env = settings_file(
        tmp_path,
        "GRAPHITE_HOST = 'graphite.example.org'\n"
        "CARBON_HOST = GRAPHITE_HOST\nCARBON_PORT = 2013\n"
        "SERVER_METRICS_NAME = 'skyline-prod-1'\n",
    )
    m = load_config(None, environ=env).metrics
    assert m.carbon == ("graphite.example.org", 2013) and m.active
    assert m.path == "skyline.slack_sidecar.skyline-prod-1" and m.interval_seconds == 60


def test_server_metrics_name_is_used_as_skyline_uses_it(tmp_path):
    env = settings_file(tmp_path, "SERVER_METRICS_NAME = 'sky 1.example.org'\n")
    assert load_config(None, environ=env).metrics.path == "skyline.slack_sidecar.sky_1.example.org"


def test_skyline_metrics_carbon_host_wins_as_in_skyline(tmp_path):
    env = settings_file(
        tmp_path,
        "GRAPHITE_HOST = 'g'\nCARBON_HOST = 'c'\nCARBON_PORT = 2003\n"
        "SKYLINE_METRICS_CARBON_HOST = 's'\n"
        "SKYLINE_METRICS_CARBON_PORT = 2103\n",
    )
    assert load_config(None, environ=env).metrics.carbon == ("s", 2103)


def test_skylines_placeholders_leave_metrics_off(tmp_path):
    env = settings_file(
        tmp_path,
        "GRAPHITE_HOST = 'YOUR_GRAPHITE_HOST.example.com'\n"
        "CARBON_HOST = GRAPHITE_HOST\n"
        "SERVER_METRICS_NAME = 'YOUR_HOSTNAME'\n",
    )
    m = load_config(None, environ=env).metrics
    assert m.carbon is None and not m.active
    assert m.path == f"skyline.slack_sidecar.{socket.gethostname().split('.')[0]}"


def test_toml_overrides_settings(tmp_path):
    env = settings_file(tmp_path, "GRAPHITE_HOST = 'g'\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[metrics]\ncarbon = "relay.example.org:2103"\nprefix = "ops.sidecar"\n'
        "interval_seconds = 30\nenabled = false\n"
    )
    m = load_config(cfg, environ=env).metrics
    assert m == MetricsOptions(
        enabled=False,
        carbon=("relay.example.org", 2103),
        prefix="ops.sidecar",
        interval_seconds=30.0,
    )
    assert not m.active


@pytest.mark.parametrize(
    "body, key",
    [
        ('carbon = "host:70000"', "[metrics].carbon"),
        ('prefix = "a b"', "[metrics].prefix"),
        ("interval_seconds = 0", "[metrics].interval_seconds"),
        ("carbon_host = 'x'", "[metrics].carbon_host"),
    ],
)
def test_bad_metrics_config_is_one_clear_error(tmp_path, body, key):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[metrics]\n{body}\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg, environ={})
    assert err.value.key == key


# -- the carbon client against real listeners ------------------------------------------------


def wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    return predicate()


def test_lines_arrive_and_the_send_is_recorded():
    with CarbonListener() as carbon:
        client = CarbonClient("127.0.0.1", carbon.port, timeout=2.0)
        client.submit([f"{PREFIX}.up 1 1795698600", f"{PREFIX}.outbox.pending 3 1795698600"])
        assert carbon.wait_for(lambda: len(carbon.lines) == 2, timeout=10)
        assert carbon.lines[1] == (f"{PREFIX}.outbox.pending", 3.0, 1795698600)
        assert wait(lambda: client.status()["last_sent_at"] is not None)
        assert client.status()["last_sent_lines"] == 2 and client.status()["last_error"] is None
        client.close()


def test_carbon_down_is_logged_once_per_outage_and_recovers():
    port = closed_port()
    with structlog.testing.capture_logs() as logs:
        client = CarbonClient("127.0.0.1", port, timeout=1.0)
        for i in range(3):
            client.submit([f"{PREFIX}.up 1 {i}"])
            assert wait(lambda n=i: client.status()["failed_intervals"] == n + 1)
        status = client.status()
        assert status["last_sent_at"] is None and "refused" in status["last_error"].lower()
        with CarbonListener() as carbon:
            client = CarbonClient("127.0.0.1", carbon.port, timeout=1.0)
            client.submit([f"{PREFIX}.up 1 1"])
            assert carbon.wait_for(lambda: len(carbon.lines) == 1)
            client.close()
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["target"] == f"127.0.0.1:{port}"


def test_outage_then_recovery_on_the_same_client_is_logged_as_back():
    with structlog.testing.capture_logs() as logs, CarbonListener() as carbon:
        state = {"down": True}

        def sender(host, port, payload, timeout):
            if state["down"]:
                raise ConnectionRefusedError(111, "Connection refused")
            from sidecar.service.carbon import send

            send(host, port, payload, timeout)

        client = CarbonClient("127.0.0.1", carbon.port, timeout=1.0, sender=sender)
        client.submit(["a.b 1 1"])
        client.submit(["a.b 2 2"])
        assert wait(lambda: client.status()["failed_intervals"] >= 1)
        state["down"] = False
        client.submit(["a.b 3 3"])
        assert carbon.wait_for(lambda: carbon.values("b") == [3.0])
        assert wait(lambda: client.status()["failing_since"] is None)
        client.close()
    assert [e["event"] for e in logs] == [
        "cannot send metrics to carbon; will retry every interval",
        "carbon reachable again, metrics sent",
    ]


def test_only_the_newest_interval_waits():
    release = []

    def slow_sender(host, port, payload, timeout):
        while not release:
            time.sleep(0.01)
        sent.append(payload)

    sent: list[bytes] = []
    client = CarbonClient("127.0.0.1", 9, timeout=1.0, sender=slow_sender)
    start = time.monotonic()
    for i in range(50):
        client.submit([f"a.b {i} {i}"])
    submitting = time.monotonic() - start
    release.append(True)
    client.close(timeout=5)
    # the first was in flight, 48 were replaced unsent, the newest went
    assert sent[-1] == b"a.b 49 49\n" and len(sent) <= 2
    assert client.status()["dropped_intervals"] >= 48
    assert submitting < 1.0  # submit never waits on the sender


def test_a_listener_that_never_reads_times_out_the_write():
    with CarbonListener("never_read", rcvbuf=4096) as carbon:
        client = CarbonClient("127.0.0.1", carbon.port, timeout=0.5)
        big = [f"{PREFIX}.filler.m{i:07d} 1 1795698600" for i in range(200_000)]  # ~10 MB
        client.submit(big)
        assert wait(lambda: client.status()["last_error"] is not None, timeout=10)
        assert "timed out" in client.status()["last_error"]
        # a small interval fits in the socket buffers: TCP takes it, carbon's protocol has no ack
        client.submit([f"{PREFIX}.up 1 1795698600"])
        assert wait(lambda: client.status()["last_sent_at"] is not None, timeout=10)
        client.close()


def test_a_listener_that_resets_is_an_error():
    with CarbonListener("reset") as carbon:
        client = CarbonClient("127.0.0.1", carbon.port, timeout=1.0)
        client.submit([f"{PREFIX}.up 1 1795698600"])
        assert wait(lambda: client.status()["last_error"] is not None, timeout=10)
        assert "reset" in client.status()["last_error"].lower(), client.status()
        assert client.status()["last_sent_at"] is None
        client.close()


# -- the reporter: store and deliverer -> carbon ---------------------------------------------


@pytest.fixture
def pipeline(tmp_path, fake_slack):
    """A store, a config whose metrics go to a listening carbon, every interval over at once."""
    store = Store.open(tmp_path / "state.sqlite")
    with CarbonListener() as carbon:
        metrics = MetricsOptions(
            carbon=("127.0.0.1", carbon.port), prefix=PREFIX, interval_seconds=0.001
        )
        config = replace(make_config(tmp_path, fake_slack.base_url), metrics=metrics)
        yield config, store, carbon
    store.close()


def test_outbox_grows_during_a_slack_outage_and_drains_after(pipeline, fake_slack):
    config, store, carbon = pipeline
    deliverer = deliverer_for(store, config)
    deliverer._backoff = lambda attempts: 0.05
    reporter = MetricsReporter(
        config, store, CarbonClient("127.0.0.1", carbon.port), pacing=deliverer.pacing
    )

    def interval() -> int:
        before = len(carbon.values("up"))
        time.sleep(0.002)
        reporter.tick()
        assert carbon.wait_for(lambda: len(carbon.values("up")) == before + 1)
        return before

    fake_slack.down()
    store.ingest([alert(ts=1795698600 + i) for i in range(3)], None)
    for _ in range(3):
        plan_pending(store, config)
        reporter.record(deliverer.run_once())
        time.sleep(0.06)
    time.sleep(0.3)
    interval()
    assert carbon.values("outbox.pending")[-1] == 3
    assert carbon.values("outbox.oldest_seconds")[-1] >= 0.3
    assert carbon.values("events.anomaly_alert")[-1] == 3
    assert carbon.values("slack.errors")[-1] >= 3
    assert carbon.values("slack.posts")[-1] == 0
    assert carbon.values("delivery.latency_ms.p50") == []

    fake_slack.up()
    drain(store, config, deliverer)
    interval()
    assert carbon.values("outbox.pending")[-1] == 0
    assert carbon.values("outbox.oldest_seconds")[-1] == 0
    assert carbon.values("slack.posts")[-1] == 3
    assert carbon.values("events.anomaly_alert")[-1] == 0  # per interval, not a total
    assert carbon.values("delivery.latency_ms.p50")[-1] >= 300  # stored during the outage
    # the pace the limiter learnt (deliverer_for: 50/s, no 429 seen)
    assert carbon.values("pace.chat__skyline.rate")[-1] == 50
    assert carbon.values("pace.chat__skyline.ratelimited_total")[-1] == 0
    assert carbon.values("up") == [1, 1]

    interval()
    assert carbon.values("slack.posts")[-1] == 0
    reporter.close()
    assert carbon.wait_for(lambda: carbon.values("up") == [1, 1, 1, 0])
    saved = saved_status(store)
    assert saved is not None and saved["target"] == carbon.target
    assert saved["last_sent_at"] is not None
    assert "last sent" in status_text(saved, time.time())


def test_delivery_halted_while_the_token_is_unusable(pipeline, fake_slack):
    config, store, carbon = pipeline
    deliverer = deliverer_for(store, config, auth_recheck=0.1)
    reporter = MetricsReporter(
        config,
        store,
        CarbonClient("127.0.0.1", carbon.port),
        halted=lambda: deliverer.halted is not None,
    )
    fake_slack.deactivate()
    store.ingest([alert()], None)
    plan_pending(store, config)
    reporter.record(deliverer.run_once())
    time.sleep(0.002)
    reporter.tick()
    assert carbon.wait_for(lambda: carbon.values("delivery_halted") == [1])
    fake_slack.activate()
    time.sleep(0.15)
    drain(store, config, deliverer)
    reporter.tick()
    assert carbon.wait_for(lambda: carbon.values("delivery_halted") == [1, 0])
    reporter.sink.close()


def test_status_shows_the_last_send_and_the_failure(tmp_path):
    store = Store.open(tmp_path / "state.sqlite")
    config = replace(
        make_config(tmp_path),
        metrics=MetricsOptions(
            carbon=("127.0.0.1", closed_port()), prefix=PREFIX, interval_seconds=0.001
        ),
    )
    reporter = MetricsReporter(config, store, CarbonClient(*config.metrics.carbon, timeout=1.0))
    time.sleep(0.002)
    reporter.tick()
    assert wait(lambda: reporter.tick() or (saved_status(store) or {}).get("last_error"))
    text = status_text(saved_status(store), time.time())
    assert text.startswith(f"metrics to {config.metrics.target}: never sent; failing for")
    assert "refused" in text.lower()
    reporter.sink.close()
    store.close()


def test_an_unreadable_database_sends_only_the_liveness_lines(pipeline):
    config, store, carbon = pipeline
    reporter = MetricsReporter(config, store, CarbonClient("127.0.0.1", carbon.port))
    store.close()  # every read now fails, as a database gone bad would
    with structlog.testing.capture_logs() as logs:
        for n in (1, 2):
            time.sleep(0.002)
            reporter.tick()
            assert carbon.wait_for(lambda n=n: len(carbon.values("up")) == n)
    assert {name.rsplit(".", 1)[-1] for name in carbon.names()} == {"up", "delivery_halted"}
    assert [e["event"] for e in logs] == ["metrics incomplete: state database unavailable"]
    reporter.sink.close()
