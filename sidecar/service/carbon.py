"""A carbon client (Graphite's plaintext protocol over TCP) that is never in the way.

Lines are handed over with `CarbonClient.submit` and sent from a background thread, one new
connection per interval (as Skyline's own ``send_graphite_metric`` does), bounded by a connect and
a write timeout. Only the newest interval waits: if carbon is down, slow or refusing, that
interval's lines are dropped and the next interval sends its own; nothing accumulates. An outage
is logged once, when it starts, and once more when carbon is back.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

log = structlog.get_logger("sidecar.service.carbon")

#: after the write, how long to wait for carbon to close or reset (it never answers)
_SETTLE = 1.0


def send(host: str, port: int, payload: bytes, timeout: float) -> None:
    """Connect, write everything and close, each step bounded by ``timeout``. Raises OSError.

    Carbon never replies, so after the write we half-close and wait briefly: a connection that
    is reset (a refusing relay, a full listen queue) shows up here instead of passing silently.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)  # since Python 3.5, a bound on the whole sendall
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(min(timeout, _SETTLE))
        # Still open and quiet after that is what a carbon that has not yet closed looks like.
        with contextlib.suppress(TimeoutError):
            sock.recv(1)


def probe(host: str, port: int, timeout: float) -> str | None:
    """None if a TCP connection to carbon opens, else why not (for ``check``)."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return describe(exc, timeout)
    return None


def describe(exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host: {exc.strerror or exc}"
    text = exc.strerror or str(exc) or type(exc).__name__
    # A reset shows as ECONNRESET, EPIPE or ENOTCONN depending on when it lands.
    if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
        return f"connection reset by carbon ({text})"
    return text


class CarbonClient:
    """Sends submitted lines to ``host:port`` from a daemon thread; see the module docstring."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        sender: Callable[[str, int, bytes, float], None] = send,
    ):
        self.host, self.port, self.timeout = host, port, timeout
        self.target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._clock = clock
        self._send = sender
        self._cond = threading.Condition()
        self._pending: bytes | None = None
        self._pending_lines = 0
        self._closed = False
        self._status: dict[str, Any] = {
            "target": self.target,
            "last_sent_at": None,
            "last_sent_lines": 0,
            "last_error": None,
            "last_error_at": None,
            "failing_since": None,
            "failed_intervals": 0,
            "dropped_intervals": 0,
        }
        self._thread = threading.Thread(target=self._loop, name="carbon", daemon=True)
        self._thread.start()

    def submit(self, lines: Sequence[str]) -> None:
        """Queue one interval's lines, replacing any still unsent. Never blocks on the network."""
        payload = "".join(line + "\n" for line in lines).encode("ascii", "replace")
        with self._cond:
            if self._pending is not None:
                self._status["dropped_intervals"] += 1
            self._pending, self._pending_lines = payload, len(lines)
            self._cond.notify()

    def status(self) -> dict[str, Any]:
        """The last send and the last error, for ``status``."""
        with self._cond:
            return dict(self._status)

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued, waiting at most ``timeout`` (default: the client's timeout)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(self.timeout if timeout is None else timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._pending is None:
                    return
                payload, count = self._pending, self._pending_lines
                self._pending = None
            try:
                self._send(self.host, self.port, payload, self.timeout)
            except OSError as exc:
                self._failed(describe(exc, self.timeout))
            else:
                self._sent(count)

    def _sent(self, count: int) -> None:
        with self._cond:
            st = self._status
            failing_since, failed = st["failing_since"], st["failed_intervals"]
            st.update(
                last_sent_at=self._clock(),
                last_sent_lines=count,
                failing_since=None,
                failed_intervals=0,
            )
        if failing_since is not None:
            log.info(
                "carbon reachable again, metrics sent", target=self.target, intervals_lost=failed
            )

    def _failed(self, error: str) -> None:
        now = self._clock()
        with self._cond:
            st = self._status
            first = st["failing_since"] is None
            st.update(
                last_error=error,
                last_error_at=now,
                failing_since=now if first else st["failing_since"],
                failed_intervals=st["failed_intervals"] + 1,
            )
        if first:  # once per outage; delivery goes on regardless
            log.warning(
                "cannot send metrics to carbon; will retry every interval",
                target=self.target,
                error=error,
            )
