"""The ``skyline-sidecar`` command line."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skyline-slack-sidecar")
def main() -> None:
    """Slack for Skyline: tails Skyline's logs and posts alerts, thread replies and reactions."""
