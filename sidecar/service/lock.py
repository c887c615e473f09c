"""One writer per state database: the daemon and a backfill must not write it at the same time.

An exclusive ``flock`` on ``<state>.lock``, held for the life of the process; the kernel drops
it when the process dies, even by kill -9, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sidecar.state.db import path_problem


class Locked(Exception):
    """Another process holds the state, or the state path cannot be used at all."""


@contextmanager
def exclusive(state_path: Path) -> Iterator[None]:
    path = Path(f"{state_path}.lock")
    if problem := path_problem(path):
        raise Locked(
            f"cannot use state path {state_path}: {problem}; set [state] path to a"
            " writable directory"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise Locked(
            f"cannot use state path {state_path}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
            + "; set [state] path to a writable directory"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(
                f"{state_path} is in use by another skyline-sidecar (run or backfill);"
                " stop it first, or use --dry-run"
            ) from None
        yield
    finally:
        os.close(fd)
