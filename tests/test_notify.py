"""sd_notify against real AF_UNIX datagram sockets, and the systemd unit that uses it."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar.service.notify import Notifier

UNIT = Path(__file__).parent.parent / "systemd" / "skyline-slack-sidecar.service"
EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"skyline-sidecar-test-{uuid.uuid4().hex}"
    sock.bind("\0" + name)
    sock.settimeout(5)
    yield sock, "@" + name
    sock.close()


@pytest.mark.parametrize("fixture", ["path_socket", "abstract_socket"])
def test_messages_arrive(request: pytest.FixtureRequest, fixture: str) -> None:
    sock, address = request.getfixturevalue(fixture)
    notifier = Notifier({"NOTIFY_SOCKET": address})
    notifier.ready()
    notifier.status("tailing 4 files\noutbox 0")
    notifier.watchdog()
    notifier.stopping()
    notifier.notify("READY=1", "STATUS=both")
    received = [sock.recv(4096) for _ in range(5)]
    notifier.close()
    assert received == [
        b"READY=1",
        b"STATUS=tailing 4 files outbox 0",  # a newline would end the assignment
        b"WATCHDOG=1",
        b"STOPPING=1",
        b"READY=1\nSTATUS=both",
    ]


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = Notifier({})
    notifier.ready()
    notifier.status("x")
    notifier.watchdog()
    notifier.stopping()
    assert notifier.watchdog_interval() is None


def test_send_errors_are_logged_once_and_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    with caplog.at_level(logging.WARNING, logger="sidecar.service.notify"):
        for _ in range(3):
            notifier.watchdog()
    assert len(caplog.records) == 1
    assert "nobody-listens" in caplog.records[0].getMessage()


def test_watchdog_interval() -> None:
    usec = {"WATCHDOG_USEC": "60000000"}  # WatchdogSec=60s: ping every 30 s
    assert Notifier(usec).watchdog_interval() == 30.0
    assert Notifier({**usec, "WATCHDOG_PID": str(os.getpid())}).watchdog_interval() == 30.0
    assert Notifier({**usec, "WATCHDOG_PID": str(os.getpid() + 1)}).watchdog_interval() is None
    assert Notifier({"WATCHDOG_USEC": "0"}).watchdog_interval() is None
    assert Notifier({"WATCHDOG_USEC": "soon"}).watchdog_interval() is None


# -- the systemd unit ------------------------------------------------------------------------


def unit_entries(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m[1], {})
        elif line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key not in current, f"{key} set twice"
            current[key] = value
    return sections


def test_unit_keys() -> None:
    unit = unit_entries(UNIT.read_text())
    assert {"StartLimitIntervalSec", "StartLimitBurst"} <= unit["Unit"].keys()
    service = unit["Service"]
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecStart": "/opt/skyline-slack-sidecar/.venv/bin/skyline-sidecar run"
        " --config /etc/skyline-slack-sidecar/config.toml",
        "WatchdogSec": "60s",
        "Restart": "on-failure",
        "RestartSec": "5s",
        "TimeoutStopSec": "30s",
        "User": "skyline-sidecar",
        "Group": "skyline-sidecar",
        "SupplementaryGroups": "skyline",
        "LoadCredential": "slack-token:/etc/skyline-slack-sidecar/slack-token",
        "StateDirectory": "skyline-slack-sidecar",
        "ReadOnlyPaths": "/var/log/skyline",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "SystemCallArchitectures": "native",
        "SystemCallFilter": "@system-service",
        "UMask": "0077",
    }
    assert {key: service.get(key) for key in expected} == expected
    assert unit["Install"] == {"WantedBy": "multi-user.target"}


def test_state_path_of_the_example_is_in_the_state_directory() -> None:
    state_dir = unit_entries(UNIT.read_text())["Service"]["StateDirectory"]
    assert f'path = "/var/lib/{state_dir}/state.sqlite"' in EXAMPLE.read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # The real ExecStart does not exist here and verify would (rightly) say so.
    text = re.sub(r"^ExecStart=.*$", "ExecStart=/bin/true", UNIT.read_text(), flags=re.M)
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 even for unknown keys or bad values: its complaints name the file.
    complaints = [
        line for line in (result.stdout + result.stderr).splitlines() if unit.name in line
    ]
    assert (result.returncode, complaints) == (0, [])
