"""``skyline-sidecar backfill``: read Skyline's old logs into the state database."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from sidecar.commands.common import (
    config_option,
    format_option,
    load,
    make_deliverer,
    open_store,
    setup_logging,
    state_errors,
)
from sidecar.pipeline import Pipeline
from sidecar.service.lock import exclusive
from sidecar.tail.history import backfill_files, run_backfill


def _date(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-25") from None


class Progress:
    """A progress bar on a terminal, plain lines otherwise (journald, pipes)."""

    def __init__(self, paths: list[Path]):
        self.total = sum(p.stat().st_size for p in paths)
        self.tty = sys.stderr.isatty()
        self.done: dict[Path, int] = {}
        self.bar = (
            click.progressbar(length=self.total, label="backfill", file=sys.stderr, show_pos=False)
            if self.tty
            else None
        )

    def __call__(self, path: Path, done: int, total: int) -> None:
        before = self.done.get(path, 0)
        self.done[path] = done
        if self.bar is not None:
            self.bar.update(done - before)
        elif done >= total and before < total:
            read = sum(self.done.values())
            click.echo(
                f"backfill: {path} done ({read * 100 // max(self.total, 1)}% of"
                f" {self.total} bytes)",
                err=True,
            )

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def deliver_all(pipeline: Pipeline) -> None:
    """Deliver the outbox to the end, paced like the daemon, reporting as it goes."""

    def progress(pending: int) -> None:
        click.echo(f"backfill: {pending} Slack actions to go", err=True)

    pipeline.drain(stop_when_halted=True, progress=progress)
    if pipeline.deliverer is not None and pipeline.deliverer.halted:
        raise click.ClickException(
            f"Slack delivery halted: {pipeline.deliverer.halted}; the"
            " rest stays in the outbox for `run`"
        )


@click.command()
@config_option
@click.option("--since", callback=_date, help="Only files of this date and later (YYYY-MM-DD).")
@click.option("--until", callback=_date, help="Only files of this date and earlier.")
@click.option(
    "--post",
    is_flag=True,
    help="Post what the old events call for (alerts, replies, reactions). Without it"
    " backfill only records them, so later events find their threads.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and plan, print intended Slack actions (with --post), write nothing.",
)
@format_option
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def backfill(
    config_path: Path | None,
    since: date | None,
    until: date | None,
    post: bool,
    dry_run: bool,
    fmt: str,
    files: tuple[Path, ...],
) -> None:
    """Read Skyline's old logs: rotated <app>.log.YYYY-MM-DD files (.gz too), <app>.log.last
    left by a failed restart, and the live logs, oldest first across apps, so that an alert is
    known before the lifecycle events that refer to it. Files already read (by the daemon or an
    earlier backfill) are recognised by identity and skipped.

    By default the events are only recorded: nothing is posted, so a backfill never floods a
    channel by surprise. --post posts them (paced at Slack's rate limits).

    \b
    Examples:
        skyline-sidecar backfill --config /etc/skyline-slack-sidecar/config.toml
        skyline-sidecar backfill --since 2026-11-20 --post --dry-run
        skyline-sidecar backfill /var/log/skyline/mirage.log.2026-11-24.gz
    """
    config = load(config_path)
    setup_logging(dry_run=dry_run)
    sources: Any = list(files) if files else config.skyline.log_dir
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise click.ClickException(f"cannot read {missing[0]}: no such file")
    paths = backfill_files(sources, config.skyline.apps, since, until)
    if not paths:
        click.echo("backfill: no Skyline log files to read", err=True)
        return
    lock = nullcontext() if dry_run else exclusive(config.state.path)
    with state_errors(config), lock:
        _backfill(config, paths, post=post, dry_run=dry_run, fmt=fmt)


def _backfill(config: Any, paths: list[Path], *, post: bool, dry_run: bool, fmt: str) -> None:
    store = open_store(config, dry_run=dry_run)
    first = store.last_seq()
    started = datetime.now()
    with Progress(paths) as progress:
        result = run_backfill(store, paths, progress=progress)
    kinds = store.kinds(after_seq=first)
    # Everything is read: no lifecycle event needs to wait for a thread any more.
    final = replace(config, slack=replace(config.slack, lifecycle_grace_seconds=0.0))
    pipeline = Pipeline(store, final, post=post, after_seq=first)
    planned = pipeline.plan()
    for f in result.files:
        line = f"backfill: {f.action:<8} {f.path}"
        if f.action in ("read", "resumed"):
            line += f" ({f.events_new} new events of {f.events_seen})"
        elif f.reason:
            line += f" ({f.reason})"
        click.echo(line, err=True)
    actions = store.counts()["outbox_pending"]
    click.echo(
        f"backfill: {result.events_new} new events, {planned} planned, {actions} Slack"
        f" actions{'' if post else ' (record only: use --post to post)'};"
        f" {len(paths)} files in {(datetime.now() - started).total_seconds():.1f}s;"
        f" events stored by kind: {dict(sorted(kinds.items()))}",
        err=True,
    )
    if post and actions:
        pipeline.deliverer = make_deliverer(config, store, dry_run=dry_run, fmt=fmt)
        deliver_all(pipeline)
    failed = result.by_action("failed")
    store.close()
    if failed:
        raise click.ClickException(
            f"{len(failed)} file(s) could not be read: " + ", ".join(map(str, failed))
        )
