"""The ``skyline-sidecar`` command line.

Sub-commands are imported when they run, not before: ``--help`` and ``parse`` stay quick and
never load slack_sdk, sqlite-utils or watchdog (``parse`` needs none of them).
"""

from __future__ import annotations

import importlib

import click

#: name -> (module, the summary `--help` lists: the start of the command's own help, as a test
#: checks)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sidecar.commands.run", "Tail Skyline's logs and post to Slack..."),
    "backfill": ("sidecar.commands.backfill", "Read Skyline's old logs..."),
    "status": ("sidecar.commands.status", "Show per file the offset and lag..."),
    "check": ("sidecar.commands.check", "Validate the configuration, the log directory..."),
    "parse": ("sidecar.commands.parse", "Print the events found in Skyline log FILEs..."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(COMMANDS[cmd_name][0]), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The summaries, without importing every command to ask it for its own.
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skyline-slack-sidecar")
def main() -> None:
    """Slack for Skyline: tails Skyline's logs and posts alerts, thread replies and reactions.

    Skyline's own Slack alerter stays off (SLACK_ENABLED = False); the sidecar reads what
    Skyline logs and does the Slack side, exactly once, through restarts, rotations and Slack
    outages.
    """
