"""How far behind the logs the sidecar is: shared by `status` and the daemon's STATUS= line."""

from __future__ import annotations

import os
from typing import Any

from sidecar.model import FileState


def file_lag(state: FileState, now: float) -> dict[str, Any]:
    """Bytes not yet read, and for how long the oldest of them has waited (by mtime)."""
    try:
        st = os.stat(state.path)
    except OSError:
        return {
            "path": state.path,
            "app": state.app,
            "offset": state.offset,
            "size": None,
            "lag_bytes": None,
            "lag_seconds": None,
            "finished": state.finished,
            "incomplete": False,
        }
    same = (st.st_dev, st.st_ino) == (state.dev, state.inode)
    # A gzip file's offset counts decompressed bytes: unfinished, its lag is unknown (a read
    # that failed part way, or one still going on).
    incomplete = state.key.endswith(":gz") and not state.finished
    lag = max(st.st_size - state.offset, 0) if same and not incomplete else None
    return {
        "path": state.path,
        "app": state.app,
        "offset": state.offset,
        "size": st.st_size,
        "lag_bytes": lag,
        "lag_seconds": round(now - st.st_mtime, 1) if lag else 0.0,
        "finished": state.finished,
        "incomplete": incomplete,
    }


def total_lag(states: list[FileState], now: float) -> tuple[int, float]:
    """Bytes behind over the files still followed, and the longest wait in seconds."""
    lags = [file_lag(s, now) for s in states if not s.finished]
    return (
        sum(x["lag_bytes"] or 0 for x in lags),
        max((x["lag_seconds"] or 0.0 for x in lags), default=0.0),
    )
