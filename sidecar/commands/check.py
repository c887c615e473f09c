"""``skyline-sidecar check``: is everything in place to run?"""

from __future__ import annotations

import os
from pathlib import Path

import click

from sidecar.commands.common import config_option, load
from sidecar.config.options import Config, token_file_exposed
from sidecar.config.skyline_settings import read_settings
from sidecar.service.carbon import probe
from sidecar.slack.channels import normalise
from sidecar.slack.gateway import SlackFailure, WebGateway
from sidecar.state.store import FatalStoreError, Store, StoreError, damaged


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def ok(self, what: str) -> None:
        click.echo(f"ok    {what}")

    def warn(self, what: str) -> None:
        click.echo(f"warn  {what}")

    def fail(self, what: str) -> None:
        self.failed += 1
        click.echo(f"FAIL  {what}")


def check_logs(config: Config, c: Checks) -> None:
    log_dir = Path(config.skyline.log_dir)
    if not log_dir.is_dir():
        c.fail(f"log directory {log_dir} does not exist or is not a directory")
        return
    if not os.access(log_dir, os.R_OK | os.X_OK):
        c.fail(f"log directory {log_dir} is not readable by this user")
        return
    for app in config.skyline.apps:
        live = log_dir / f"{app}.log"
        if not live.exists():
            c.warn(f"{live} does not exist (yet)")
        elif not os.access(live, os.R_OK):
            c.fail(f"{live} is not readable by this user (add it to Skyline's group)")
        else:
            c.ok(f"{live} readable")


def check_skyline_slack_off(config: Config, c: Checks) -> None:
    """With Skyline's own Slack on, Skyline posts too: every alert would be posted twice."""
    if config.skyline.settings_py is None:
        return
    try:
        enabled = read_settings(config.skyline.settings_py).get("SLACK_ENABLED")
    except (OSError, ValueError) as exc:
        c.fail(f"cannot read {config.skyline.settings_py}: {exc}")
        return
    if enabled:
        c.fail(
            f"{config.skyline.settings_py}: SLACK_ENABLED is True; set it to False, the"
            " sidecar is the Slack integration (otherwise alerts are posted twice)"
        )
    else:
        c.ok("Skyline's own Slack is off (SLACK_ENABLED = False)")


def check_state(config: Config, c: Checks) -> None:
    try:
        store = Store.open(config.state.path)
    except (StoreError, FatalStoreError) as exc:
        c.fail(str(exc))
        return
    problem = store.quick_check()
    store.close()
    if problem is None:
        c.ok(f"state database {config.state.path}")
    else:
        c.fail(str(damaged(config.state.path, problem)))


def check_token_file(config: Config, c: Checks) -> None:
    if warning := token_file_exposed(config.slack.token_file):
        c.warn(warning)


def channel_sources(config: Config) -> dict[str, str]:
    """Each configured channel and the SLACK_OPTS key it comes from (the first one)."""
    slack = config.slack
    found = (
        {slack.default_channel: "SLACK_OPTS['default_channel']"} if slack.default_channel else {}
    )
    for namespace, channels in slack.channels:
        for channel in channels:
            found.setdefault(channel, f"SLACK_OPTS['channels'][{namespace!r}]")
    for pattern, channels in slack.boundary_channels:
        for channel in channels:
            found.setdefault(channel, f"BOUNDARY_SLACK_OPTS['channels'][{pattern!r}]")
    return found


def check_routes(config: Config, c: Checks) -> None:
    """Every ALERTS namespace that alerts to Slack must route to a channel: Skyline would post
    it, so an alert that goes nowhere is lost."""
    slack = config.slack
    if not slack.default_channel and not slack.channels and not config.skyline.alerts:
        c.fail(
            "no channel configured: set SLACK_OPTS['default_channel'] (or [slack] default_channel)"
        )
        return
    missing = [
        (ns, alerter)
        for ns, alerter in config.skyline.alerts
        if alerter in slack.alerters and not slack.channels_for(ns)
    ]
    for namespace, alerter in missing:
        c.fail(
            f"ALERTS namespace {namespace!r} ({alerter}) routes to no channel: set"
            f" SLACK_OPTS['channels'][{namespace!r}] or SLACK_OPTS['default_channel']"
        )
    if not missing:
        c.ok("every Slack alert routes to a channel")


def check_slack(config: Config, c: Checks) -> None:
    if config.token is None:
        c.fail(
            "no Slack token (SLACK_BOT_TOKEN, [slack] token_file, systemd credential"
            " slack-token, or settings.py bot_user_oauth_access_token)"
        )
        return
    gw = WebGateway(config.token.reveal(), config.slack.base_url)
    try:
        auth = gw.auth_test()
    except SlackFailure as exc:
        c.fail(f"Slack auth.test: {exc}")
        return
    c.ok(f"Slack token works (team {auth.get('team')}, bot user {auth.get('user_id')})")
    check_file_scopes(config, gw, c)
    listing: dict[str, str] | None = None
    for name, source in channel_sources(config).items():
        channel_id = config.slack.channel_id_for(name)
        if channel_id is None:
            if listing is None:
                try:
                    listing = gw.list_channels()
                except SlackFailure as exc:
                    c.fail(f"cannot resolve channel names: {exc}")
                    return
            channel_id = listing.get(normalise(name)) or (
                name if name in listing.values() else None
            )
        if channel_id is None:
            c.fail(
                f"{name} (from {source}): no such channel for the bot (misspelt, archived,"
                " or private without the bot in it)"
            )
            continue
        try:
            info = gw.channel_info(channel_id)
        except SlackFailure as exc:
            c.fail(f"{name} ({channel_id}, from {source}): {exc}")
            continue
        if info.get("is_archived"):
            c.fail(f"{name} ({channel_id}, from {source}) is archived")
        elif not info.get("is_member"):
            c.fail(
                f"{name} ({channel_id}, from {source}): the bot is not in the channel (/invite it)"
            )
        else:
            c.ok(f"{name} ({channel_id}): bot is a member")


def check_file_scopes(config: Config, gw: WebGateway, c: Checks) -> None:
    """Graph alerts are uploads (files:write); files:read finds their thread via files.info."""
    if not config.slack.graph_images:
        return
    try:
        scopes = gw.scopes()
    except SlackFailure as exc:
        c.warn(f"cannot read the token's scopes: {exc}")
        return
    if scopes is None:
        c.warn("Slack did not say which scopes the token has (files:write is needed)")
        return
    if "files:write" in scopes:
        c.ok("files:write: alert graphs can be uploaded")
    else:
        c.fail(
            "the token lacks files:write: alert graphs cannot be uploaded (add the scope,"
            " or set [slack] graph_images = false for text alerts)"
        )
    if "files:read" not in scopes:
        c.warn(
            "the token lacks files:read: an alert's thread is looked for in the channel"
            " history instead of files.info (slower)"
        )


def check_graphs(config: Config, c: Checks) -> None:
    """Where Skyline's smtp alerter leaves the graphs, if alerts are to carry them."""
    sky = config.skyline
    if not config.slack.graph_images:
        c.ok("graph images off ([slack] graph_images = false): text alerts")
        return
    folder = sky.ionosphere_data_folder if sky.ionosphere_enabled else None
    if folder is None:
        source = f"Graphite {sky.graphite_url}" if sky.graphite_url else "nowhere"
        (c.ok if sky.graphite_url else c.warn)(
            f"no Ionosphere data folder (IONOSPHERE_DATA_FOLDER): graphs from {source}"
        )
    elif not os.access(folder, os.R_OK | os.X_OK):
        c.warn(
            f"Ionosphere data folder {folder} is missing or not readable by this user:"
            " alerts fall back to Graphite or text"
        )
    else:
        c.ok(f"graphs from {folder}")


def check_carbon(config: Config, c: Checks) -> None:
    """Carbon unreachable is a warning: delivery does not depend on it."""
    opts = config.metrics
    if not opts.active or opts.carbon is None:
        c.ok(
            "metrics off (no carbon: set [metrics] carbon or GRAPHITE_HOST in settings.py)"
            if opts.enabled
            else "metrics off ([metrics] enabled = false)"
        )
        return
    error = probe(*opts.carbon, timeout=opts.timeout_seconds)
    if error is None:
        c.ok(f"carbon {opts.target} reachable (metrics as {opts.path}.*)")
    else:
        c.warn(
            f"carbon {opts.target} unreachable: {error} (metrics are retried every"
            f" {opts.interval_seconds:g} s; delivery does not depend on them)"
        )


@click.command()
@config_option
@click.option("--offline", is_flag=True, help="Skip the network checks (Slack, carbon).")
def check(config_path: Path | None, offline: bool) -> None:
    """Validate the configuration, the log directory, the state database and, with a token,
    the Slack side (auth.test, channels exist, the bot is in them). Exit status 0 only when
    all is well.

    \b
    Example:
        skyline-sidecar check --config /etc/skyline-slack-sidecar/config.toml
    """
    config = load(config_path)
    c = Checks()
    c.ok(f"configuration {config.source or '(defaults)'}")
    check_logs(config, c)
    check_skyline_slack_off(config, c)
    check_state(config, c)
    check_graphs(config, c)
    check_token_file(config, c)
    check_routes(config, c)
    if not offline:
        check_slack(config, c)
        check_carbon(config, c)
    if c.failed:
        raise SystemExit(1)
