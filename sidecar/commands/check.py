"""``skyline-sidecar check``: is everything in place to run?"""

from __future__ import annotations

import os
from pathlib import Path

import click

from sidecar.carbon import probe
from sidecar.commands.common import config_option, load
from sidecar.config import Config
from sidecar.skyline_settings import read_settings
from sidecar.slack import CHANNEL_ID, SlackFailure, WebGateway
from sidecar.store import Store, StoreError


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
        c.fail(f"{config.skyline.settings_py}: SLACK_ENABLED is True; set it to False, the"
               " sidecar is the Slack integration (otherwise alerts are posted twice)")
    else:
        c.ok("Skyline's own Slack is off (SLACK_ENABLED = False)")


def check_state(config: Config, c: Checks) -> None:
    try:
        Store.open(config.state.path).close()
        c.ok(f"state database {config.state.path}")
    except StoreError as exc:
        c.fail(str(exc))


def check_slack(config: Config, c: Checks) -> None:
    if config.token is None:
        c.fail("no Slack token (SLACK_BOT_TOKEN, [slack] token_file, systemd credential"
               " slack-token, or settings.py bot_user_oauth_access_token)")
        return
    gw = WebGateway(config.token.reveal(), config.slack.base_url)
    try:
        auth = gw.auth_test()
    except SlackFailure as exc:
        c.fail(f"Slack auth.test: {exc}")
        return
    c.ok(f"Slack token works (team {auth.get('team')}, bot user {auth.get('user_id')})")
    check_file_scopes(config, gw, c)
    names = [config.slack.default_channel] if config.slack.default_channel else []
    names += [ch for _, chans in config.slack.channels for ch in chans]
    names += [ch for _, chans in config.slack.boundary_channels for ch in chans]
    if not names:
        c.fail("no channel configured: set SLACK_OPTS default_channel (or [slack] default_channel)")
    for name in dict.fromkeys(names):
        channel_id = config.slack.channel_id_for(name)
        if channel_id is None or not CHANNEL_ID.match(channel_id):
            c.warn(f"{name}: no channel id known, cannot check it (set channel_ids /"
                   " default_channel_id; reactions need ids)")
            continue
        try:
            info = gw.channel_info(channel_id)
        except SlackFailure as exc:
            c.fail(f"{name} ({channel_id}): {exc}")
            continue
        if info.get("is_archived"):
            c.fail(f"{name} ({channel_id}) is archived")
        elif not info.get("is_member"):
            c.fail(f"{name} ({channel_id}): the bot is not in the channel (/invite it)")
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
        c.fail("the token lacks files:write: alert graphs cannot be uploaded (add the scope,"
               " or set [slack] graph_images = false for text alerts)")
    if "files:read" not in scopes:
        c.warn("the token lacks files:read: an alert's thread is looked for in the channel"
               " history instead of files.info (slower)")


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
            f"no Ionosphere data folder (IONOSPHERE_DATA_FOLDER): graphs from {source}")
    elif not os.access(folder, os.R_OK | os.X_OK):
        c.warn(f"Ionosphere data folder {folder} is missing or not readable by this user:"
               " alerts fall back to Graphite or text")
    else:
        c.ok(f"graphs from {folder}")
def check_carbon(config: Config, c: Checks) -> None:
    """Carbon unreachable is a warning: delivery does not depend on it."""
    opts = config.metrics
    if not opts.active or opts.carbon is None:
        c.ok("metrics off (no carbon: set [metrics] carbon or GRAPHITE_HOST in settings.py)"
             if opts.enabled else "metrics off ([metrics] enabled = false)")
        return
    error = probe(*opts.carbon, timeout=opts.timeout_seconds)
    if error is None:
        c.ok(f"carbon {opts.target} reachable (metrics as {opts.path}.*)")
    else:
        c.warn(f"carbon {opts.target} unreachable: {error} (metrics are retried every"
               f" {opts.interval_seconds:g} s; delivery does not depend on them)")


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
    if not offline:
        check_slack(config, c)
        check_carbon(config, c)
    if c.failed:
        raise SystemExit(1)
