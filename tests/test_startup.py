"""Start-up: ``--help`` and ``parse`` import only what they use (measured in `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from sidecar.cli import COMMANDS, main

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("slack_sdk", "sqlite_utils", "watchdog", "structlog")

PROBE = """
import sys
from sidecar.cli import main
try:
    main(sys.argv[1:], prog_name="skyline-sidecar")
except SystemExit:
    pass
print("\\nMODULES " + " ".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def loaded(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("MODULES "), out.stderr
    return set(line.split()[1:])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["parse", "--help"],
        ["parse", "--format", "json", str(REPO / "examples" / "skyline-logs" / "mirage.log")],
    ],
)
def test_help_and_parse_do_not_load_slack_sqlite_or_watchdog(args: list[str]) -> None:
    assert loaded(*args).isdisjoint(HEAVY)


def test_run_loads_them() -> None:
    """The probe can fail: a command that needs them does load them."""
    assert {"slack_sdk", "sqlite_utils", "structlog"} <= loaded("run", "--help")


def test_listed_summaries_are_the_start_of_each_commands_help() -> None:
    ctx = click.Context(main)
    for name, (_, summary) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.help
        assert " ".join(command.help.split()).startswith(summary.removesuffix("...")), name


def test_parse_output_is_unchanged_by_the_lazy_loading() -> None:
    log = REPO / "examples" / "skyline-logs" / "mirage.log"
    out = subprocess.run(
        [sys.executable, "-m", "sidecar", "parse", "--format", "json", str(log)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0 and any(
        json.loads(x)["kind"] == "anomaly_alert" for x in out.stdout.splitlines()
    )
