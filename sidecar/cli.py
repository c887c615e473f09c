"""The ``skyline-sidecar`` command line."""

from __future__ import annotations

import click

from sidecar.commands.backfill import backfill
from sidecar.commands.check import check
from sidecar.commands.parse import parse
from sidecar.commands.run import run
from sidecar.commands.status import status


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skyline-slack-sidecar")
def main() -> None:
    """Slack for Skyline: tails Skyline's logs and posts alerts, thread replies and reactions.

    Skyline's own Slack alerter stays off (SLACK_ENABLED = False); the sidecar reads what
    Skyline logs and does the Slack side, exactly once, through restarts, rotations and Slack
    outages.
    """


main.add_command(run)
main.add_command(backfill)
main.add_command(status)
main.add_command(check)
main.add_command(parse)
