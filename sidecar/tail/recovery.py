"""Finding our place again after Skyline rewrote or replaced a log under its offset.

A generation whose anchor or head stopped matching is *settling*: nothing is read while the bin
script manages the log (``<app>.log.lock`` / ``.wait``, or a fresh ``.last``), then the
committed position is relocated:

* everything read still in place (Skyline's merge puts the old content first) -> continue;
* the committed offset still in place -> continue from there;
* anchor gone but the file still holds part of the last 64 KiB we read at its place (the lines
  the new agent logs before python-daemon truncates are destroyed) -> continue after the last
  line that agrees;
* anchor elsewhere (searched) -> continue after it; head of the file changed -> a new
  generation from 0; nothing agrees -> re-read from 0 (event ids dedup). These three wait until
  the size was stable for ``settle_seconds`` (or ``rewrite_max_seconds`` passed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sidecar.model import FileState
from sidecar.service.logs import get_logger
from sidecar.tail.fileid import (
    ANCHOR_MAX,
    anchor_matches,
    anchor_of,
    find_anchor,
    head_matches,
    read_at,
)
from sidecar.tail.generation import Generation, state_from_fd

__all__ = ["CUT", "IN_PLACE", "MOVED", "NEW_CONTENT", "REREAD", "Recovery", "Settle"]

log = get_logger("sidecar.tail.recovery")

#: how a rewrite was resolved (TailerStats counts them)
IN_PLACE, CUT, MOVED, NEW_CONTENT, REREAD = (
    "in place",
    "cut back",
    "moved",
    "new content",
    "re-read from start",
)


@dataclass
class Settle:
    since: float
    size: int
    stable_since: float


class Recovery:
    """Relocates settling generations of the apps' logs in ``log_dir``."""

    def __init__(
        self,
        log_dir: Path,
        *,
        settle_seconds: float,
        rewrite_max_seconds: float,
        wall_clock: Callable[[], float],
    ):
        self._dir = log_dir
        self._settle = settle_seconds
        self._rewrite_max = rewrite_max_seconds
        self._wall = wall_clock  # compared with file mtimes: wall time, not the monotonic clock

    def start(self, gen: Generation, size: int, now: float) -> None:
        gen.settle = Settle(since=now, size=size, stable_since=now)
        log.info(
            "log file changed under its offset: settling",
            path=str(gen.path),
            offset=gen.read.offset,
            size=size,
        )

    def busy(self, app: str) -> bool:
        """Is Skyline's bin script managing this app's log (restart handshake)?"""
        base = self._dir / f"{app}.log"
        if any(os.path.exists(f"{base}{ext}") for ext in (".lock", ".wait")):
            return True
        try:
            return self._wall() - os.stat(f"{base}.last").st_mtime < self._rewrite_max
        except OSError:
            return False

    def resolve(self, gen: Generation, size: int, now: float) -> str | None:
        """Try to end settling: relocate the committed position. Returns how it was resolved
        (reading can go on), or None while it must wait."""
        s = gen.settle
        assert s is not None
        if size != s.size:
            s.size, s.stable_since = size, now
        forced = now - s.since >= self._rewrite_max
        if not forced and self.busy(gen.app):
            return None
        quiet = forced or now - s.stable_since >= self._settle
        c, r = gen.committed, gen.read
        fd = gen.fd
        if (
            head_matches(fd, c.head_hash, c.head_len)
            and r.offset <= size
            and anchor_matches(fd, r.offset, r.anchor_hash, r.anchor_len)
        ):
            # Everything read is still in place (Skyline's merge puts the old content first):
            # go on with the same parser, nothing is read twice.
            log.info(
                "log file rewrite resolved",
                path=str(gen.path),
                how="in place",
                offset=r.offset,
                forced=forced,
            )
            gen.settle, gen.check_head = None, False
            return IN_PLACE
        if not head_matches(fd, c.head_hash, c.head_len):
            if not quiet:
                return None
            state, how = state_from_fd(fd, gen.key, gen.path, gen.app, 0), NEW_CONTENT
        elif c.offset <= size and anchor_matches(fd, c.offset, c.anchor_hash, c.anchor_len):
            state, how = c, IN_PLACE
        elif (cut := agreed_state(gen, c)) is not None:
            # Lines read after `cat log > log.last` (the new agent's first lines) were
            # destroyed by the truncation: go on after the last line still in place.
            state, how = cut, CUT
        elif not quiet:
            return None  # the whole-file search waits until the file stopped changing
        elif (hit := find_anchor(fd, c.anchor_hash, c.anchor_len)) is not None:
            state, how = replace(c, offset=hit[0], line_no=hit[1]), MOVED
        else:
            state, how = state_from_fd(fd, gen.key, gen.path, gen.app, 0), REREAD
        log.info(
            "log file rewrite resolved",
            path=str(gen.path),
            how="in place up to the committed offset" if how == IN_PLACE else how,
            old_offset=c.offset,
            offset=state.offset,
            forced=forced,
        )
        gen.relocate(state)
        return how


def agreed_state(gen: Generation, c: FileState) -> FileState | None:
    """The state after the last line of what we read that the file still holds in place (only
    before ``c``: ``c`` itself failed its anchor), or None."""
    base = gen.tail_end - len(gen.tail)
    found = read_at(gen.fd, len(gen.tail), base)
    lo, hi = 0, min(len(found), len(gen.tail))
    while lo < hi:  # the longest common prefix, compared at C speed
        mid = (lo + hi + 1) // 2
        if found[:mid] == gen.tail[:mid]:
            lo = mid
        else:
            hi = mid - 1
    nl = gen.tail.rfind(b"\n", 0, lo)
    offset = base + nl + 1
    if nl < 0 or offset >= c.offset:
        return None
    window_lo = max(0, offset - ANCHOR_MAX)
    anchor_hash, anchor_len = anchor_of(read_at(gen.fd, offset - window_lo, window_lo), offset)
    line_no = gen.tail_line - gen.tail.count(b"\n", nl + 1)
    return replace(
        c, offset=offset, line_no=line_no, anchor_hash=anchor_hash, anchor_len=anchor_len
    )
