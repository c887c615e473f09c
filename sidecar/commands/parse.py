"""``skyline-sidecar parse``: print the events the parsers find in Skyline log files."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable

import click

from parsers import APPS, Event, LogParser
from sidecar.tail.logfiles import open_log
from sidecar.tail.names import app_from_path

CHUNK = 1 << 20
_SKIP = frozenset({"kind", "app", "logged_at", "message", "source"})
#: values that are written as a JSON string: with whitespace (str.isspace's) or quotes
_QUOTED = re.compile(r"[\s\"']")


def text_line(event: Event) -> str:
    """``<logged_at> <app> <kind> key=value ...``: the fields that have a value."""
    parts = [event.logged_at.isoformat(sep=" "), event.app, event.kind]
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name in _SKIP or value is None or value == () or (f.name == "muted" and not value):
            continue
        if f.name == "profiles":
            value = len(value)
        elif isinstance(value, tuple):
            value = ",".join(map(str, value))
        text = str(value)
        if not text or _QUOTED.search(text):
            text = json.dumps(text)
        parts.append(f"{f.name}={text}")
    if event.source is not None:
        parts.append(f"at={event.source.path}:{event.source.line}")
    return " ".join(parts)


def json_line(event: Event) -> str:
    """``json.dumps(event.to_dict())``: ``Event.to_json`` writes the same bytes, faster."""
    return event.to_json()


def parse_file(path: str, app: str, *, fmt: str = "text", show_stats: bool = False) -> bool:
    """Parse one file in 1 MiB chunks (memory stays flat) and print its events as they come.
    False (after saying why on stderr) if the file could not be read to its end."""
    line_of = json_line if fmt == "json" else text_line
    parser = LogParser(app, path)
    try:
        f = open_log(path)
    except OSError as exc:
        return _unreadable(path, exc)
    with f:
        while True:
            try:
                chunk = f.read(CHUNK)
            except OSError as exc:  # a corrupt gzip member, an I/O error
                return _unreadable(path, exc)
            if not chunk:
                break
            _echo(parser.feed(chunk), line_of)
    _echo(parser.finish(), line_of)
    if show_stats:
        stats = " ".join(f"{k}={v}" for k, v in dataclasses.asdict(parser.stats).items())
        click.echo(f"{path}: {stats}", err=True)
    return True


def _echo(events: list[Event], line_of: Callable[[Event], str]) -> None:
    """One write per chunk's events: click.echo flushes, and a storm has thousands a chunk."""
    if events:
        click.echo("\n".join(map(line_of, events)))


def _unreadable(path: str, exc: OSError) -> bool:
    click.echo(f"skyline-sidecar: cannot read {path}: {exc.strerror or exc}", err=True)
    return False


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--app",
    type=click.Choice(APPS),
    help="The Skyline app that wrote the files (default: from each file's name).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: readable lines; json: one event object per line.",
)
@click.option(
    "--stats",
    "show_stats",
    is_flag=True,
    help="Also print each file's counters (lines, events, bad values...) on stderr.",
)
@click.pass_context
def parse(
    ctx: click.Context, files: tuple[str, ...], app: str | None, fmt: str, show_stats: bool
) -> None:
    """Print the events found in Skyline log FILEs, one per line, without posting anything.

    The app is inferred from each file's name (analyzer.log, mirage.log.2026-11-25,
    webapp.log.last, ionosphere.log...); gzip-compressed files are read too. A file that
    cannot be read is reported and skipped, and the exit status is then 1.

    \b
    Examples:
      skyline-sidecar parse /var/log/skyline/mirage.log
      skyline-sidecar parse --format json tests/corpus/v5/*.log
      skyline-sidecar parse --app webapp /tmp/copy-of-webapp-log
    """
    failed = False
    try:
        for path in files:
            name = app or app_from_path(path)
            if name is None:
                click.echo(
                    f"skyline-sidecar: cannot tell which Skyline app wrote {path} from "
                    f"its name (expected {', '.join(APPS)}.log*); pass --app",
                    err=True,
                )
                failed = True
            elif not parse_file(path, name, fmt=fmt, show_stats=show_stats):
                failed = True
    except BrokenPipeError:  # | head: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        ctx.exit(1)
    if failed:
        ctx.exit(1)
