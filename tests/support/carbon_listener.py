"""A real TCP listener standing in for carbon's plaintext receiver (port 2003).

Modes: ``read`` parses every line it receives, as carbon does; ``never_read`` accepts and holds
the connection without reading; ``reset`` accepts and resets the connection at once. A port with
nothing listening at all comes from `closed_port`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable


def closed_port() -> int:
    """A local port nobody listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CarbonListener:
    def __init__(self, mode: str = "read", *, rcvbuf: int | None = None) -> None:
        assert mode in ("read", "never_read", "reset")
        self.mode = mode
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf is not None:  # set before listen so accepted sockets inherit it
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self.lines: list[tuple[str, float, int]] = []
        self.connections = 0
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> CarbonListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop = True
        self._server.close()
        for conn in self._held:
            conn.close()

    def values(self, name: str) -> list[float]:
        """Every value received for the metric whose path ends with ``name``, in order."""
        with self._lock:
            return [v for n, v, _ in self.lines if n.endswith("." + name)]

    def names(self) -> set[str]:
        with self._lock:
            return {n for n, _, _ in self.lines}

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            if self.mode == "never_read":
                self._held.append(conn)
            elif self.mode == "reset":
                # SO_LINGER 0: close() sends RST instead of FIN
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while chunk := conn.recv(65536):
                buf += chunk
        for raw in buf.decode("ascii").splitlines():
            name, value, stamp = raw.split(" ")  # a malformed line fails the test loudly
            with self._lock:
                self.lines.append((name, float(value), int(stamp)))
