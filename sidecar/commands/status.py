"""``skyline-sidecar status``: where the daemon is, from its state database."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from sidecar.commands.common import (
    config_option,
    format_option,
    load,
    open_store,
    state_errors,
)
from sidecar.config.options import Config
from sidecar.service.health import file_lag
from sidecar.service.reporter import saved_status, status_text
from sidecar.state.store import Store


def log_problems(config: Config) -> list[str]:
    """The live logs the sidecar should follow but cannot (as the user running `status`)."""
    out = []
    for app in config.skyline.apps:
        live = Path(config.skyline.log_dir) / f"{app}.log"
        if not live.exists():
            out.append(f"{live}: missing")
        elif not os.access(live, os.R_OK):
            out.append(f"{live}: not readable by this user")
    return out


def collect(store: Store, config: Config) -> dict[str, Any]:
    now = time.time()
    counts = store.counts()
    oldest = counts.pop("oldest_pending_at")
    problems = store.problems()
    return {
        # the host this state speaks for (as its daemon last ran), else this configuration's
        "host": store.meta("host") or config.sidecar.name,
        "clustered": config.clustered,
        "thread_searches": store.search_counts(),
        "files": [file_lag(s, now) for s in sorted(store.files(), key=lambda s: s.path)],
        **counts,
        "oldest_pending_age_seconds": round(now - oldest, 1) if oldest else None,
        # What is wrong now; each drops out once it is over.
        "problems": problems,
        "retrying": bool(problems) and counts["outbox_pending"] > 0,
        "log_problems": log_problems(config),
        "last_error": problems[-1] if problems else None,
        "pacing": store.pacing(),
        "metrics": saved_status(store),
    }


@click.command()
@config_option
@format_option
def status(config_path: Path | None, fmt: str) -> None:
    """Show per file the offset and lag (bytes and seconds), the outbox depth and its oldest
    pending action, the threads known, the last error, and the Slack pace per channel (and per
    workspace-wide method bucket) with the 429s seen, as the running daemon last saved them.

    \b
    Example:
        skyline-sidecar status --config /etc/skyline-slack-sidecar/config.toml --format json
    """
    config = load(config_path)
    if not Path(config.state.path).exists():
        raise click.ClickException(f"no state database at {config.state.path} (has run started?)")
    with state_errors(config):
        store = open_store(config, dry_run=True)  # a read-only copy: status never writes
        data = collect(store, config)
        store.close()
    if fmt == "json":
        click.echo(json.dumps(data, sort_keys=True, default=str))
        return
    click.echo(
        f"host: {data['host']}"
        + (" (cluster: threads looked for in Slack)" if data["clustered"] else "")
    )
    for f in data["files"]:
        lag = "?" if f["lag_bytes"] is None else f"{f['lag_bytes']} B, {f['lag_seconds']} s"
        click.echo(
            f"{f['path']}: offset {f['offset']}, lag {lag}"
            + (" (drained)" if f["finished"] else "")
            + (" (read failed part way: run backfill again)" if f.get("incomplete") else "")
        )
    for problem in data["log_problems"]:
        click.echo(f"log file {problem}")
    click.echo(f"events: {data['events']} ({data['events_waiting']} waiting for a thread)")
    click.echo(f"threads: {data['threads']}")
    searches = data["thread_searches"]
    if len(searches) > 1:  # more than the calls: some search was made
        click.echo(
            "thread searches in Slack: "
            + ", ".join(f"{n} {s}" for s, n in sorted(searches.items()) if s != "calls")
            + f"; {searches['calls']} history calls"
        )
    click.echo(
        f"outbox: {data['outbox_pending']} pending"
        + (f", oldest {data['oldest_pending_age_seconds']} s" if data["outbox_pending"] else "")
        + "".join(
            f", {n} {s}"
            for s, n in sorted(data["outbox"].items())
            if s not in ("pending", "inflight")
        )
    )
    for p in data["problems"]:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p["since"]))
        click.echo(f"error: {p['scope']}: {p['message']} (since {since})")
    if data["retrying"]:
        click.echo("delivery: retrying")
    if not data["problems"]:
        click.echo("last error: none")
    for line in pacing_lines(data["pacing"], now=time.time()):
        click.echo(line)
    click.echo(status_text(data["metrics"], time.time()))


def pacing_lines(pacing: dict[str, Any] | None, *, now: float) -> list[str]:
    """``pace chat:#ops: 0.85/s of 1/s, 3 x 429, parked 1.0 s (saved 2 s ago)``, one per key."""
    if not pacing or not pacing["keys"]:
        return ["pace: no Slack calls yet"]
    age = f"saved {max(0.0, now - pacing['at']):.0f} s ago"
    lines = []
    for key, p in sorted(pacing["keys"].items()):
        parked = f", parked {p['parked_seconds']} s" if p["parked_seconds"] else ""
        lines.append(
            f"pace {key}: {p['rate']:g}/s of {p['ceiling']:g}/s,"
            f" {p['ratelimited']} x 429{parked} ({age})"
        )
    return lines
