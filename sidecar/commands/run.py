"""``skyline-sidecar run``: the daemon."""

from __future__ import annotations

import sys
import threading
from contextlib import nullcontext
from pathlib import Path

import click
import structlog

from sidecar.commands.common import (
    config_option,
    format_option,
    load,
    make_deliverer,
    open_store,
    setup_logging,
    state_errors,
)
from sidecar.config.options import Config, token_file_exposed
from sidecar.ingest import Ingestor
from sidecar.service.carbon import CarbonClient
from sidecar.service.daemon import Daemon
from sidecar.service.lock import exclusive
from sidecar.service.notify import Notifier
from sidecar.service.reporter import MetricsReporter, Sink
from sidecar.slack.deliver import Deliverer
from sidecar.slack.dryrun import MetricsPrinter
from sidecar.state.store import Store
from sidecar.tail.tailer import Tailer


@click.command()
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each intended Slack action instead of calling Slack; write nothing to"
    " the state database (an existing one is read).",
)
@format_option
@click.option(
    "--from-start",
    is_flag=True,
    help="With no saved state, read the live logs from their start instead of their"
    " end (history is better read with `backfill`).",
)
@click.option(
    "--exit-after",
    type=float,
    default=None,
    hidden=True,
    help="Stop after this many seconds (demos and tests).",
)
def run(
    config_path: Path | None, dry_run: bool, fmt: str, from_start: bool, exit_after: float | None
) -> None:
    """Tail Skyline's logs and post to Slack: an alert message per anomaly in the channels
    SLACK_OPTS['channels'] gives, then thread replies and reactions as its training data is
    viewed and its features profiles are created, learnt, disabled and validated.

    Runs until SIGTERM (systemd) or Ctrl-C; under systemd (Type=notify) it reports READY,
    WATCHDOG and STATUS.

    \b
    Example:
        skyline-sidecar run --config /etc/skyline-slack-sidecar/config.toml
        skyline-sidecar run --config config.toml --dry-run --from-start
    """
    config = load(config_path)
    setup_logging(dry_run=dry_run)
    lock = nullcontext() if dry_run else exclusive(config.state.path)
    with state_errors(config), lock:
        code = _run(config, dry_run=dry_run, fmt=fmt, from_start=from_start, exit_after=exit_after)
    raise SystemExit(code)


def _run(
    config: Config, *, dry_run: bool, fmt: str, from_start: bool, exit_after: float | None
) -> int:
    if warning := token_file_exposed(config.slack.token_file):
        structlog.get_logger("sidecar.run").warning(warning)
    # Every log line says which host it speaks for (a cluster runs one sidecar per host).
    structlog.contextvars.bind_contextvars(host=config.sidecar.name)
    store = open_store(config, dry_run=dry_run)
    if not dry_run:
        store.set_meta("host", config.sidecar.name)
    deliverer = make_deliverer(config, store, dry_run=dry_run, fmt=fmt)
    tailer = Tailer(
        config.skyline.log_dir, config.skyline.apps, store.files(), from_start=from_start
    )
    metrics = make_reporter(config, store, deliverer, dry_run=dry_run, fmt=fmt)
    daemon = Daemon(
        config, store, Ingestor(store, tailer), deliverer, notifier=Notifier(), metrics=metrics
    )
    timer = None
    if exit_after is not None:
        timer = threading.Timer(exit_after, daemon.stop_event.set)
        timer.daemon = True
        timer.start()
    try:
        return daemon.run()
    finally:
        tailer.close()
        store.close()
        if timer is not None:
            timer.cancel()


def make_reporter(
    config: Config, store: Store, deliverer: Deliverer, *, dry_run: bool, fmt: str
) -> MetricsReporter | None:
    """Metrics to carbon when a carbon host is known and they are enabled; printed in a dry run."""
    opts = config.metrics
    if not opts.active or opts.carbon is None:
        return None
    sink: Sink = (
        MetricsPrinter(sys.stdout, fmt=fmt)
        if dry_run
        else CarbonClient(*opts.carbon, timeout=opts.timeout_seconds)
    )
    return MetricsReporter(
        config, store, sink, halted=lambda: deliverer.halted is not None, pacing=deliverer.pacing
    )
