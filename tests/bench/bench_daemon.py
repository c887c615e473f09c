"""The running daemon: idle CPU, and latency from a log line appended to its event stored.

The real ``skyline-sidecar run --config <tmp config>`` runs as a subprocess against a log dir
holding the 4 live logs (generated, a few hundred KiB each), with a FakeSlack (in this process)
as Slack and its token in SLACK_BOT_TOKEN, so delivery runs too. Once it is up (its state
database exists) and a settle time has passed:

* idle CPU: its utime + stime (/proc/<pid>/stat) over BENCH_IDLE_SECONDS (default 60) of wall
  time with nothing written, as percent of one core. Target < 1%.
* latency: BENCH_LATENCY_N (default 200) alert lines (distinct metric and timestamp each,
  alternately mirage.log and analyzer.log) are appended one at a time like Skyline writes them
  (one write per line, O_APPEND); after each, the state database is polled (read-only
  connection, ``SELECT COUNT(*) FROM events``, every BENCH_POLL_MS, default 2 ms) until the
  event is there. Reported: p50, p95, p99, max in ms. Target p99 < 200 ms. A random 20-80 ms
  pause between lines keeps them out of step with the daemon's own loop.

These are absolute figures (there is no baseline to divide by); the poll period bounds the
latency's resolution. BENCH_SETTLE_SECONDS (default 3) is the wait after start-up.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from tests.bench.bench_parse import env_number, tmp_dir
from tests.bench.genlogs import APPS, write_log
from tests.support import skyline_lines as lines
from tests.support.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
IDLE_TARGET_PERCENT = 1.0
P99_TARGET_MS = 200.0
LIVE_LOG_BYTES = 256 << 10


def write_config(base: Path, base_url: str) -> Path:
    """The TOML config: [skyline] log_dir, apps; [slack] base_url, default_channel; [state]."""
    config = base / "config.toml"
    config.write_text(
        "[skyline]\n"
        f"log_dir = {json.dumps(str(base / 'logs'))}\n"
        f"apps = {json.dumps(list(APPS))}\n"
        'url = "https://skyline.example.com"\n'
        "\n[slack]\n"
        f"base_url = {json.dumps(base_url)}\n"
        'default_channel = "#skyline"\n'
        "\n[state]\n"
        f"path = {json.dumps(str(base / 'state.sqlite'))}\n"
    )
    return config


def sidecar_command() -> list[str]:
    script = Path(sys.executable).parent / "skyline-sidecar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sidecar"]


def daemon_env(token: str) -> dict[str, str]:
    """This environment without what would point the daemon elsewhere, with the token."""
    skip = (
        "SKYLINE_SETTINGS_PY",
        "SKYLINE_SIDECAR_CONFIG",
        "NOTIFY_SOCKET",
        "CREDENTIALS_DIRECTORY",
    )
    return {k: v for k, v in os.environ.items() if k not in skip} | {"SLACK_BOT_TOKEN": token}


def start_daemon(base: Path, config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``skyline-sidecar run`` in ``base``, its output in ``base/daemon.log``."""
    with open(base / "daemon.log", "wb") as out:
        return subprocess.Popen(
            [*sidecar_command(), "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base,
        )


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (its threads included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def count_events(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:  # locked for a moment, or not created yet
        return -1


def alert_line(app: str, n: int, rng: random.Random) -> bytes:
    """One Skyline alert line (Skyline's own Slack off): one AnomalyAlert, distinct per n."""
    metric, ts = f"stats.bench{n:05d}.cpu.user", int(time.time()) - 60 - n
    value = round(rng.uniform(1, 500), 2)
    if app == "mirage":
        data = lines.mirage_metric("v5", value, metric, ts)
        alert = lines.alert_list("stats", "slack", 3600, 168)
    else:
        data = lines.analyzer_metric("v5", value, metric, ts)
        alert = lines.alert_list("stats", "slack", 3600, 0)
    pid = 23456 if app == "mirage" else 12345
    return lines.line(datetime.now(), pid, lines.slack_disabled(alert, data)).encode()


def wait_up(proc: subprocess.Popen[bytes], db: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"skyline-sidecar run exited with {proc.returncode}")
        if db.exists():
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            try:
                if count_events(conn) >= 0:
                    return
            finally:
                conn.close()
        time.sleep(0.05)
    raise RuntimeError("skyline-sidecar run did not create its state database in time")


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def measure_latency(
    logs: Path, db: Path, n: int, poll: float, timeout: float = 10.0
) -> tuple[list[float], int]:
    """Append ``n`` alert lines one at a time; returns (latencies in ms, lines not stored in
    ``timeout``)."""
    rng = random.Random(1)
    fds = {
        app: os.open(logs / f"{app}.log", os.O_WRONLY | os.O_APPEND)
        for app in ("mirage", "analyzer")
    }
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    latencies: list[float] = []
    missed = 0
    try:
        seen = count_events(conn)
        while seen < 0:  # locked for a moment
            time.sleep(poll)
            seen = count_events(conn)
        for i in range(n):
            app = "mirage" if i % 2 == 0 else "analyzer"
            data = alert_line(app, i, rng)
            start = time.perf_counter()
            os.write(fds[app], data)
            deadline = start + timeout
            while True:
                now_count = count_events(conn)
                if now_count > seen:
                    latencies.append((time.perf_counter() - start) * 1000)
                    seen = now_count
                    break
                if time.perf_counter() > deadline:
                    missed += 1
                    seen = max(seen, now_count)
                    break
                time.sleep(poll)
            time.sleep(rng.uniform(0.02, 0.08))
    finally:
        conn.close()
        for fd in fds.values():
            os.close(fd)
    return latencies, missed


def run() -> dict[str, object]:
    idle_seconds = env_number("BENCH_IDLE_SECONDS", 60)
    n = int(env_number("BENCH_LATENCY_N", 200))
    settle = env_number("BENCH_SETTLE_SECONDS", 3)
    poll = env_number("BENCH_POLL_MS", 2) / 1000
    load = os.getloadavg()[0]
    base = tmp_dir() / f"daemon-{time.monotonic_ns()}"
    logs = base / "logs"
    logs.mkdir(parents=True)
    for i, app in enumerate(APPS):
        write_log(logs / f"{app}.log", app, LIVE_LOG_BYTES, serial=900_000_000 + i * 1_000_000)
    db = base / "state.sqlite"

    with FakeSlack() as fake:
        fake.add_channel("#skyline")
        config = write_config(base, fake.base_url)
        env = daemon_env(fake.token)
        proc = start_daemon(base, config, env)
        try:
            wait_up(proc, db)
            time.sleep(settle)
            cpu0, wall0 = cpu_seconds(proc.pid), time.perf_counter()
            time.sleep(idle_seconds)
            cpu1, wall1 = cpu_seconds(proc.pid), time.perf_counter()
            if proc.poll() is not None:
                raise RuntimeError(f"skyline-sidecar run exited with {proc.returncode}")
            latencies, missed = measure_latency(logs, db, n, poll)
            alive = proc.poll() is None
        finally:
            code = stop(proc)
        posted = len(fake.messages("#skyline"))
        http_429 = fake.ratelimited_count
    if not alive or not latencies:
        tail = (base / "daemon.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the daemon died or stored nothing (exit {code}):\n{tail}")

    idle_pct = 100 * (cpu1 - cpu0) / (wall1 - wall0)
    p99 = percentile(latencies, 99)
    return {
        "load_1min": round(load, 2),
        "idle_window_s": round(wall1 - wall0, 1),
        "idle_cpu_s": round(cpu1 - cpu0, 3),
        "idle_cpu_percent": round(idle_pct, 3),
        "idle_target_percent": IDLE_TARGET_PERCENT,
        "idle_ok": idle_pct < IDLE_TARGET_PERCENT,
        "latency_lines": n,
        "latency_stored": len(latencies),
        "latency_missed": missed,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "latency_p99_ms": round(p99, 1),
        "latency_max_ms": round(max(latencies), 1),
        "latency_min_ms": round(min(latencies), 1),
        "latency_poll_ms": poll * 1000,
        "latency_target_p99_ms": P99_TARGET_MS,
        "latency_ok": p99 < P99_TARGET_MS and missed == 0,
        "slack_posts": posted,
        "http_429": http_429,
        "daemon_exit": code,
    }
