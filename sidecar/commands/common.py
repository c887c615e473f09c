"""What the sub-commands share: the --config option, loading it with one clear error, the store."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from sidecar.config.options import Config, ConfigError, load_config
from sidecar.model import Action
from sidecar.service.lock import Locked
from sidecar.service.logs import configure_logging
from sidecar.slack import graph
from sidecar.slack.deliver import Deliverer
from sidecar.slack.dryrun import PrintingGateway
from sidecar.slack.gateway import WebGateway
from sidecar.slack.pacing import Limiter
from sidecar.state.store import FatalStoreError, Store, StoreError, damaged

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="SKYLINE_SIDECAR_CONFIG",
    show_envvar=True,
    help="TOML configuration file (default: none; Skyline's settings.py can be named in it).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output for people (text) or one JSON object per line (json).",
)


def load(config_path: Path | None) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def state_errors(config: Config) -> Iterator[None]:
    """A state database that cannot be used, found at any point of a command: one line."""
    try:
        yield
    except (StoreError, FatalStoreError, Locked) as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError):
            raise click.ClickException(f"state database {config.state.path}: {exc}") from None
        raise click.ClickException(str(damaged(config.state.path, exc))) from None


def open_store(config: Config, *, dry_run: bool) -> Store:
    """The state database; in a dry run an in-memory copy, so nothing is ever written."""
    try:
        if dry_run:
            return Store.scratch_copy(config.state.path)
        return Store.open(config.state.path)
    except (StoreError, FatalStoreError) as exc:
        raise click.ClickException(str(exc)) from None


def setup_logging(*, dry_run: bool) -> None:
    # A dry run prints its actions on stdout: its logs go to stderr.
    configure_logging(stream=sys.stderr if dry_run else None)


def make_deliverer(
    config: Config, store: Store, *, dry_run: bool, fmt: str = "text", out: TextIO | None = None
) -> Deliverer:
    slack = config.slack
    channel_ids: Callable[[str], str | None] = slack.channel_id_for
    limiter = Limiter()
    attend: Callable[[Action], None] | None = None
    if dry_run:
        limiter = Limiter.unpaced()  # printing needs no pacing
        printer = PrintingGateway(out or sys.stdout, store.event, fmt=fmt)
        gateway: Any = printer
        attend = printer.attend
        channel_ids = lambda name: printer.channel_id(name, slack.channel_id_for(name))  # noqa: E731
    else:
        if config.token is None:
            raise click.ClickException(
                "no Slack token: set SLACK_BOT_TOKEN, [slack] token_file, the systemd credential"
                " slack-token (LoadCredential=), or SLACK_OPTS['bot_user_oauth_access_token'] in"
                " Skyline's settings.py; or preview with --dry-run"
            )
        gateway = WebGateway(config.token.reveal(), slack.base_url, icon_emoji=slack.icon_emoji)
    # A dry run neither waits for graphs nor fetches them: it names the file or the URL.
    return Deliverer(
        store,
        gateway,
        limiter=limiter,
        max_age=slack.max_retry_age_seconds,
        channel_ids=channel_ids,
        image_wait=0.0 if dry_run else slack.image_wait_seconds,
        fetcher=graph.DescribingFetcher() if dry_run else graph.Fetcher(),
        attend=attend,
        sidecar=config.sidecar,
        clustered=config.clustered,
    )
