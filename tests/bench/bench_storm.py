"""An alert storm through the daemon: 300 alerts at once, 60 to each of 5 channels, Slack at 1/s.

The real ``skyline-sidecar run`` (a subprocess) tails a mirage.log into which all the alert
lines are written in one go; a FakeSlack answers 429 + ``Retry-After`` to a channel posting
faster than 1 message a second, with Slack's workspace-wide tier limits on top. Two variants of
that limiter, side by side: ``burst2`` allows a short burst of 2 (as Slack does), ``strict``
none at all.

The floor is what the limit allows: (alerts per channel - 1) seconds, 59 s for 60. Reported per
variant: seconds from the write to the last post, the ratio to the floor, the 429s (the fake's
count, and the daemon's own from ``status --format json``), and whether every alert was posted
exactly once. Targets: strict within 1.25x with at most 20 answers of 429, burst2 within 1.1x
with at most 5. Each variant takes about a minute of real time; BENCH_STORM_CHANNELS and
BENCH_STORM_PER_CHANNEL (default 5 and 60) change the size.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from tests.bench.bench_daemon import daemon_env, sidecar_command, start_daemon, stop, wait_up
from tests.bench.bench_parse import env_number, tmp_dir
from tests.support import skyline_lines as lines
from tests.support.fakeslack import SLACK_TIERS, FakeSlack

VARIANTS = {"burst2": 2, "strict": 1}
TARGETS = {"burst2": (1.10, 5), "strict": (1.25, 20)}  # ratio to the floor, 429s


def write_config(base: Path, base_url: str, channels: list[str]) -> Path:
    """Alerts of namespace ns<i> go to channel #storm<i>; only mirage.log is tailed."""
    config = base / "config.toml"
    routes = "".join(f'ns{i} = "{ch}"\n' for i, ch in enumerate(channels))
    config.write_text(
        "[skyline]\n"
        f"log_dir = {json.dumps(str(base / 'logs'))}\n"
        'apps = ["mirage"]\n'
        'url = "https://skyline.example.com"\n'
        "\n[slack]\n"
        f"base_url = {json.dumps(base_url)}\n"
        "\n[slack.channels]\n"
        f"{routes}"
        "\n[state]\n"
        f"path = {json.dumps(str(base / 'state.sqlite'))}\n"
    )
    return config


def storm_lines(n_channels: int, per_channel: int) -> bytes:
    """Alert lines as Skyline's mirage writes them with its own Slack off, round-robin over
    the namespaces, each a distinct metric and anomaly."""
    rng = random.Random(15)
    now, out = datetime.now(), []
    for i in range(n_channels * per_channel):
        ns = f"ns{i % n_channels}"
        metric, ts = f"{ns}.storm{i:05d}.cpu.user", int(time.time()) - 600 - i
        data = lines.mirage_metric("v5", round(rng.uniform(1, 500), 2), metric, ts)
        alert = lines.alert_list(ns, "slack", 3600, 168)
        out.append(lines.line(now, 23456, lines.slack_disabled(alert, data)))
    return "".join(out).encode()


def status_json(config: Path, env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [*sidecar_command(), "status", "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"status failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def storm(variant: str, n_channels: int, per_channel: int) -> dict[str, object]:
    base = tmp_dir() / f"storm-{variant}-{time.monotonic_ns()}"
    (base / "logs").mkdir(parents=True)
    log = base / "logs" / "mirage.log"
    log.write_bytes(b"")
    channels = [f"#storm{i}" for i in range(n_channels)]
    total = n_channels * per_channel
    data = storm_lines(n_channels, per_channel)
    with FakeSlack(post_rate=1.0, post_burst=VARIANTS[variant], method_limits=SLACK_TIERS) as fake:
        for ch in channels:
            fake.add_channel(ch)
        config = write_config(base, fake.base_url, channels)
        env = daemon_env(fake.token)
        proc = start_daemon(base, config, env)
        try:
            wait_up(proc, base / "state.sqlite")
            time.sleep(0.5)
            fd = os.open(log, os.O_WRONLY | os.O_APPEND)
            try:
                start, wall = time.monotonic(), time.time()
                os.write(fd, data)
            finally:
                os.close(fd)
            timeout = 3 * per_channel + 60
            done = fake.wait_until(lambda f: len(f.all_messages()) >= total, timeout=timeout)
            elapsed = time.monotonic() - start
            time.sleep(0.5)  # a duplicate would show up now
        finally:
            code = stop(proc)  # SIGTERM: the daemon saves its pace on the way out
        status = status_json(config, env)
        messages = fake.all_messages()
        http_429 = fake.ratelimited_count
    if not done:
        tail = (base / "daemon.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{variant}: {len(messages)} of {total} posted in {timeout} s:\n{tail}")
    per_action = Counter(m.metadata["event_payload"]["action_id"] for m in messages)
    per_channel_posted = Counter(m.channel for m in messages)
    floor = per_channel - 1
    first = min(float(m.ts) for m in messages) - wall  # tail, parse, store, plan: the overhead
    ratio = elapsed / floor if floor > 0 else None
    pacing = (status.get("pacing") or {}).get("keys", {})  # type: ignore[union-attr]
    max_ratio, max_429 = TARGETS[variant]
    return {
        "posted": len(messages),
        "lost": total - len(per_action),
        "duplicated": sum(n - 1 for n in per_action.values()),
        "channels_evenly_posted": set(per_channel_posted.values()) == {per_channel},
        "seconds": round(elapsed, 2),
        "floor_seconds": floor,
        "first_post_seconds": round(first, 2),
        "ratio_to_floor": round(ratio, 3) if ratio else None,
        "http_429": http_429,
        "http_429_seen_by_daemon": sum(p["ratelimited"] for p in pacing.values()),
        "pace_per_channel": {k: p["rate"] for k, p in pacing.items() if k.startswith("chat:")},
        "target": f"<= {max_ratio}x, <= {max_429} x 429",
        "ok": bool(
            ratio
            and ratio <= max_ratio
            and http_429 <= max_429
            and len(messages) == total == len(per_action)
        ),
        "daemon_exit": code,
    }


def run() -> dict[str, object]:
    n_channels = int(env_number("BENCH_STORM_CHANNELS", 5))
    per_channel = int(env_number("BENCH_STORM_PER_CHANNEL", 60))
    figures: dict[str, object] = {
        "alerts": n_channels * per_channel,
        "channels": n_channels,
        "load_1min_before": round(os.getloadavg()[0], 2),
    }
    for variant in VARIANTS:
        for key, value in storm(variant, n_channels, per_channel).items():
            figures[f"{variant}_{key}"] = value
    figures["load_1min_after"] = round(os.getloadavg()[0], 2)
    return figures
