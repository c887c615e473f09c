"""The daemon as systemd runs it: a subprocess with NOTIFY_SOCKET, Skyline writing its logs,
slack_sdk talking to a fake Slack; killed with SIGKILL at random and restarted."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support import skyline_lines as L
from tests.support.fakeslack import FakeSlack
from tests.support.skyline_sim import SkylineApp, wait_for

ROOT = Path(__file__).resolve().parents[1]
SKYLINE_URL = "https://skyline.example.com"


def write_config(tmp: Path, fake: FakeSlack, *, grace: float = 30.0) -> Path:
    cfg = tmp / "config.toml"
    cfg.write_text(
        "[skyline]\n"
        f'log_dir = "{tmp / "logs"}"\n'
        f'url = "{SKYLINE_URL}"\n'
        "[slack]\n"
        f'base_url = "{fake.base_url}"\n'
        'default_channel = "#skyline"\n'
        f'default_channel_id = "{fake.channel_id("#skyline")}"\n'
        f"lifecycle_grace_seconds = {grace}\n"
        "[state]\n"
        f'path = "{tmp / "state.sqlite"}"\n'
    )
    return cfg


def start(
    cfg: Path,
    fake: FakeSlack,
    *extra: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    full = {**os.environ, "SLACK_BOT_TOKEN": fake.token, "PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "sidecar", "run", "--config", str(cfg), *extra],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def webapp_view(app: SkylineApp, metric: str, ts: int, user: str) -> None:
    """What webapp.log holds for a person opening an alert's training data page."""
    link = f"{SKYLINE_URL}/ionosphere?timestamp={ts}&metric={metric}"
    app.log(L.check_auth_request(link))
    app.log(L.get_user_details(user, 1))
    app.log(L.request_url(link))
    for _ in range(2):
        app.log(L.request_argument("timestamp", str(ts)))
        app.log(L.request_argument("metric", metric))
    app.log(L.metric_id_is(271))
    app.log(L.training_data_viewed(False))


def webapp_create(app: SkylineApp, fp_id: int, metric: str, ts: int) -> None:
    """What webapp.log holds when a features profile is created with learn=true."""
    link = (
        f"{SKYLINE_URL}/ionosphere?timestamp={ts}&metric={metric}&requested_timestamp={ts}"
        "&add_fp=true&learn=true"
    )
    app.log(L.request_url(link))
    app.log(L.fp_requested("training_data", metric, ts, 1))
    app.log(L.learn_full_duration_days(30))
    app.log(L.new_fp_id(fp_id))
    app.log(L.fp_dir_created(fp_id, L.fp_profile_dir(metric, ts)))
    app.log(L.learn_work_added("learn_fp_human", ts, metric, fp_id, 0))


def stored(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_systemd_notify_ready_watchdog_status_and_sigterm(tmp_path):
    (tmp_path / "logs").mkdir()
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(20)
    with FakeSlack() as fake, SkylineApp(tmp_path / "logs", "mirage") as mirage:
        fake.add_channel("#skyline")
        cfg = write_config(tmp_path, fake)
        proc = start(cfg, fake, env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"})
        got: list[str] = []
        while not any(m.startswith("WATCHDOG=1") for m in got):
            got += sock.recv(4096).decode().splitlines()
        assert got[0] == "READY=1"
        mirage.alert("stats.web01.cpu.user", 1795698600)
        alert_end = (tmp_path / "logs" / "mirage.log").stat().st_size
        mirage.log("alerts checked")
        assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=20)
        while not any(m.startswith("STATUS=") for m in got):
            got += sock.recv(4096).decode().splitlines()
        status = next(m for m in got if m.startswith("STATUS="))
        assert " B (" in status and "outbox" in status, status
        db = tmp_path / "state.sqlite"
        offset = "SELECT MAX(offset) FROM files WHERE app = 'mirage'"
        # The alert's record is complete once the next one starts: then its offset is durable.
        assert wait_for(lambda: stored(db, offset) >= alert_end, timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read().decode()
        while "STOPPING=1" not in got:
            got += sock.recv(4096).decode().splitlines()
        assert stored(db, offset) >= alert_end
        assert stored(db, "SELECT COUNT(*) FROM outbox WHERE state != 'done'") == 0
    sock.close()


def test_a_second_instance_on_the_same_state_is_refused(tmp_path):
    (tmp_path / "logs").mkdir()
    with FakeSlack() as fake:
        fake.add_channel("#skyline")
        cfg = write_config(tmp_path, fake)
        first = start(cfg, fake)
        try:
            assert wait_for(lambda: (tmp_path / "state.sqlite").exists(), timeout=20)
            second = start(cfg, fake)
            assert second.wait(timeout=20) != 0
            assert b"in use by another skyline-sidecar" in second.stderr.read()
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=20) == 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 8])
def test_logs_to_slack_exactly_once_through_kills_restarts_outages_and_429s(tmp_path, seed):
    rng = random.Random(seed)
    logs = tmp_path / "logs"
    logs.mkdir()
    db = tmp_path / "state.sqlite"
    n_alerts = 8
    with (
        FakeSlack(post_rate=2.0, post_burst=2) as fake,
        SkylineApp(logs, "mirage") as mirage,
        SkylineApp(logs, "webapp") as webapp,
    ):
        fake.add_channel("#skyline")
        cfg = write_config(tmp_path, fake)
        metrics = [(f"stats.host{i:02d}.cpu.user", 1795698600 + 60 * i) for i in range(n_alerts)]
        proc = start(cfg, fake, "--from-start")
        kills = 0

        def chaos() -> None:
            nonlocal proc, kills
            if rng.random() < 0.5:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                proc = start(cfg, fake, "--from-start")

        for i, (metric, ts) in enumerate(metrics):
            mirage.alert(metric, ts)
            webapp_view(webapp, metric, ts, user=f"user{i}")
            webapp_create(webapp, 5000 + i, metric, ts)
            time.sleep(rng.uniform(0.0, 0.4))
            chaos()
            if i == 2:
                mirage.restart([mirage.alert_message("stats.restart.cpu.user", 1795700000)])
            if i == 4:
                fake.outage(1.5)
            if i == 5:
                fake.inject("chat.postMessage", "ratelimited", times=2, retry_after=1)
            if i == 6:
                webapp.restart()
        metrics.append(("stats.restart.cpu.user", 1795700000))

        def done() -> bool:
            return (
                len(fake.messages("#skyline")) == len(metrics)
                and stored(db, "SELECT COUNT(*) FROM outbox WHERE state != 'done'") == 0
                and stored(db, "SELECT COUNT(*) FROM events WHERE planned = 0") == 0
            )

        try:
            assert wait_for(done, timeout=120), (fake.messages("#skyline"), proc.poll())
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert kills >= 1
        parents = fake.messages("#skyline")
        posted = Counter(m.metadata["event_payload"]["action_id"] for m in parents)
        assert max(posted.values()) == 1
        by_metric = {next(k for k, _ in metrics if k in p.text): p for p in parents}
        assert sorted(by_metric) == sorted(k for k, _ in metrics)
        for i, (metric, _ts) in enumerate(metrics[:n_alerts]):
            parent = by_metric[metric]
            texts = [r.text for r in fake.replies("#skyline", parent.ts)]
            assert texts.count("The training data page has been reviewed") == 1
            assert (
                sum(
                    t.startswith(f"*TRAINED - not anomalous* - features profile id {5000 + i}")
                    for t in texts
                )
                == 1
            )
            assert len(texts) == 2, texts
            assert fake.reactions("#skyline", parent.ts) == {"eyes": 1, "thumbsup": 1}
