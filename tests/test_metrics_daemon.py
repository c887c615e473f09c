"""The daemon sending its metrics to a carbon listener while Skyline logs and Slack comes and goes;
``status``, ``check`` and the dry run as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.carbon_listener import CarbonListener, closed_port
from tests.support.fakeslack import FakeSlack
from tests.support.skyline_sim import SkylineApp, wait_for
from tests.test_daemon import ROOT, write_config

PREFIX = "skyline.slack_sidecar.e2e"


def with_metrics(cfg: Path, target: str, interval: float = 1.0) -> Path:
    cfg.write_text(
        cfg.read_text() + "[metrics]\n"
        f'carbon = "{target}"\nprefix = "{PREFIX}"\ninterval_seconds = {interval}\n'
        "timeout_seconds = 1\n"
    )
    return cfg


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
    )


def start(cfg: Path, fake: FakeSlack) -> subprocess.Popen[bytes]:
    """The daemon, its log (JSON lines on stdout, as journald gets them) in ``daemon.log``."""
    env = {**os.environ, "SLACK_BOT_TOKEN": fake.token, "PYTHONPATH": str(ROOT)}
    with (cfg.parent / "daemon.log").open("wb") as out:
        return subprocess.Popen(
            # --from-start: lines written before its first read are not skipped on a slow start
            [sys.executable, "-m", "sidecar", "run", "--config", str(cfg), "--from-start"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes], cfg: Path) -> str:
    """SIGTERM, a clean exit, and the daemon's log."""
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    log = (cfg.parent / "daemon.log").read_text()
    assert code == 0, log
    return log


def test_metrics_arrive_every_interval_and_show_a_slack_outage(tmp_path):
    (tmp_path / "logs").mkdir()
    with (
        FakeSlack() as fake,
        SkylineApp(tmp_path / "logs", "mirage") as mirage,
        CarbonListener() as carbon,
    ):
        fake.add_channel("#skyline")
        cfg = with_metrics(write_config(tmp_path, fake), carbon.target)
        proc = start(cfg, fake)
        try:
            assert carbon.wait_for(lambda: len(carbon.values("up")) >= 2, timeout=20)
            assert f"{PREFIX}.lag_seconds.mirage" in carbon.names()
            assert carbon.values("outbox.pending")[-1] == 0

            fake.down()
            for i in range(3):
                mirage.alert(f"stats.web0{i}.cpu.user", 1795698600 + 60 * i)
            mirage.log("alerts checked")
            # the outage shows: actions wait in the outbox and get older
            assert carbon.wait_for(lambda: carbon.values("outbox.pending")[-1] == 3, timeout=20)
            seen = len(carbon.values("up"))
            assert carbon.wait_for(lambda: len(carbon.values("up")) >= seen + 2, timeout=20)
            assert carbon.values("outbox.oldest_seconds")[-1] >= 1
            assert sum(carbon.values("events.anomaly_alert")) == 3
            assert sum(carbon.values("slack.errors")) >= 1
            assert sum(carbon.values("slack.posts")) == 0

            fake.up()
            assert wait_for(lambda: len(fake.messages("#skyline")) == 3, timeout=40)
            seen = len(carbon.values("up"))
            assert carbon.wait_for(lambda: len(carbon.values("up")) >= seen + 2, timeout=20)
            assert carbon.values("outbox.pending")[-1] == 0
            assert carbon.values("outbox.oldest_seconds")[-1] == 0
            assert sum(carbon.values("slack.posts")) == 3
            assert max(carbon.values("delivery.latency_ms.p99")) >= 1000
        finally:
            stop(proc, cfg)
        assert carbon.wait_for(lambda: carbon.values("up")[-1] == 0, timeout=10)
        assert set(carbon.values("delivery_halted")) == {0}

        status = cli("status", "--config", str(cfg), "--format", "json")
        saved = json.loads(status.stdout)["metrics"]
        assert saved["target"] == carbon.target and saved["last_error"] is None
        assert time.time() - saved["last_sent_at"] < 30
        text = cli("status", "--config", str(cfg)).stdout
        assert f"metrics to {carbon.target}: last sent" in text


def test_carbon_down_or_never_reading_does_not_touch_delivery(tmp_path):
    for mode in ("down", "never_read"):
        tmp = tmp_path / mode
        (tmp / "logs").mkdir(parents=True)
        listener = CarbonListener("never_read") if mode == "never_read" else None
        target = listener.target if listener else f"127.0.0.1:{closed_port()}"
        with FakeSlack() as fake, SkylineApp(tmp / "logs", "mirage") as mirage:
            fake.add_channel("#skyline")
            cfg = with_metrics(write_config(tmp, fake), target, interval=0.5)
            proc = start(cfg, fake)
            try:
                time.sleep(1.5)  # a few intervals of failing sends before the alerts
                for i in range(3):
                    mirage.alert(f"stats.web0{i}.cpu.user", 1795698600 + 60 * i)
                mirage.log("alerts checked")
                assert wait_for(lambda: len(fake.messages("#skyline")) == 3, timeout=20)
            finally:
                err = stop(proc, cfg)
        if listener is not None:
            assert listener.connections >= 2  # it is tried again every interval
            listener.close()
        else:
            assert err.count("cannot send metrics to carbon") == 1, err  # once per outage
            text = cli("status", "--config", str(cfg)).stdout
            assert f"metrics to {target}: never sent; failing for" in text, text


def test_check_says_whether_carbon_is_reachable(tmp_path):
    (tmp_path / "logs").mkdir()
    with FakeSlack() as fake, CarbonListener() as carbon:
        fake.add_channel("#skyline")
        cfg = with_metrics(write_config(tmp_path, fake), carbon.target)
        env = {"SLACK_BOT_TOKEN": fake.token}
        out = cli("check", "--config", str(cfg), env=env)
        assert f"ok    carbon {carbon.target} reachable (metrics as {PREFIX}.*)" in out.stdout
        down = f"127.0.0.1:{closed_port()}"
        cfg.write_text(cfg.read_text().replace(carbon.target, down))
        out = cli("check", "--config", str(cfg), env=env)
        assert f"warn  carbon {down} unreachable:" in out.stdout, out.stdout


def test_dry_run_prints_the_metric_lines(tmp_path, fake_slack):
    (tmp_path / "logs").mkdir()
    cfg = with_metrics(write_config(tmp_path, fake_slack), f"127.0.0.1:{closed_port()}", 0.5)
    out = cli("run", "--config", str(cfg), "--dry-run", "--exit-after", "1.5")
    assert out.returncode == 0, out.stderr
    ups = [
        ln
        for ln in out.stdout.splitlines()
        if ln.startswith(f"[dry-run] metric       {PREFIX}.up ")
    ]
    assert len(ups) >= 2 and " 1 " in ups[0] and " 0 " in ups[-1]  # every interval, then the stop
    out = cli("run", "--config", str(cfg), "--dry-run", "--exit-after", "0.5", "--format", "json")
    records = [json.loads(ln) for ln in out.stdout.splitlines()]
    up = [r for r in records if r["metric"] == f"{PREFIX}.up"]
    assert up[-1]["action"] == "send_metric" and up[-1]["value"] == 0.0
    assert abs(up[-1]["timestamp"] - time.time()) < 30
    assert not (tmp_path / "state.sqlite").exists()
