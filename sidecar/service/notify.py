"""sd_notify(3) for ``Type=notify`` units: one datagram to ``$NOTIFY_SOCKET`` per message."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

__all__ = ["Notifier"]

log = logging.getLogger(__name__)


class Notifier:
    """Talk to systemd; every method is a no-op when not started by systemd."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # A leading '@' names a socket in Linux's abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._environ = environ
        self._socket: socket.socket | None = None
        self._failed = False

    def notify(self, *assignments: str) -> None:
        """Send ``KEY=value`` assignments, e.g. ``notify("READY=1", "STATUS=up")``."""
        if not self._address:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.sendto("\n".join(assignments).encode(), self._address)
        except OSError as e:
            if not self._failed:  # once: a watchdog ping every 30 s must not flood the journal
                self._failed = True
                log.warning("sd_notify to %s failed: %s", self._address.lstrip("\0"), e)

    def ready(self) -> None:
        self.notify("READY=1")

    def status(self, text: str) -> None:
        # One assignment per line: a newline in text would end it early.
        self.notify("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between `watchdog` pings (half of ``WatchdogSec=``), or None if not asked for."""
        pid = self._environ.get("WATCHDOG_PID")
        if pid and pid != str(os.getpid()):  # the watchdog is meant for another process
            return None
        try:
            usec = int(self._environ.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        return usec / 2e6 if usec > 0 else None

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
