"""One file generation being tailed: its open fd, where reading goes on and what is committed.

``next_chunk`` reads what is new with one pread that also re-reads the anchor of the read
offset: whole lines only (the unterminated last line waits for its newline, unless the
generation is drained for good, or one line is longer than a chunk). When the anchor or the head
no longer match it raises ``Moved`` and the rewrite recovery (``recovery``) takes over.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sidecar.model import FileState
from sidecar.tail.chunk import Chunk, fresh_state, take
from sidecar.tail.fileid import ANCHOR_MAX, HEAD_MAX, anchor_of, count_lines, digest, read_at

if TYPE_CHECKING:
    from sidecar.tail.recovery import Settle

__all__ = ["TAIL_KEEP", "Generation", "Moved", "last_line_end", "state_from_fd"]

#: how much of what was read is kept to find where the file stops agreeing after a rewrite
TAIL_KEEP = 1 << 16


class Moved(Exception):
    """The bytes before the read offset (or the head) changed: the file was rewritten."""


@dataclass
class Generation:
    """One (dev, inode) followed through an open fd, whatever its name becomes."""

    key: str
    app: str
    path: Path
    fd: int
    read: FileState  # where reading continues
    committed: FileState  # the durable resume point (may lag `read` by a held-back record)
    restart: bool = True
    emitted: bool = False  # a chunk of this generation was committed at least once
    check_head: bool = True
    outstanding: Chunk | None = None
    size: int = -1
    grew_at: float = 0.0
    gone_at: float | None = None
    settle: Settle | None = None
    #: the last bytes read (up to TAIL_KEEP), ending at tail_end where the line is tail_line:
    #: after a rewrite, where the file stops agreeing with them is where reading goes on
    tail: bytes = b""
    tail_end: int = 0
    tail_line: int = 1

    def stat(self, now: float) -> os.stat_result:
        """fstat the fd, noting when the size last changed."""
        st = os.fstat(self.fd)
        if st.st_size != self.size:
            self.size, self.grew_at = st.st_size, now
        return st

    def next_chunk(
        self, st: os.stat_result, now: float, *, max_chunk: int, drain_seconds: float
    ) -> Chunk | None:
        """The whole lines after the read offset (at most ``max_chunk`` bytes), or None when
        there are none to hand out. Raises ``Moved`` when the read offset is no longer valid."""
        r, size = self.read, st.st_size
        lo = max(0, r.offset - ANCHOR_MAX)
        ctx_len = r.offset - lo
        buf = read_at(self.fd, min(ctx_len + max_chunk, max(0, size - lo)), lo)
        if (
            len(buf) < ctx_len
            or anchor_of(buf[:ctx_len], r.offset) != (r.anchor_hash, r.anchor_len)
            or not self._head_holds(size)
        ):
            raise Moved
        data = buf[ctx_len:]
        final = (
            self.gone_at is not None
            and now - self.grew_at >= drain_seconds
            and lo + len(buf) >= size
        )
        cut = len(data) if final else data.rfind(b"\n") + 1
        if cut == 0 and len(data) >= max_chunk:
            cut = len(data)  # one line longer than a chunk: pass it on, the parser truncates it
        if cut == 0 and self.emitted and not self.restart:
            return None
        # From the state as it was before _head_holds extended the head: the extension sticks
        # only at a poll that hands nothing out (a resumed state stays what was committed).
        chunk = take(
            replace(r, path=str(self.path)),
            buf[:ctx_len],
            data,
            cut,
            restart=self.restart,
            final=final,
            size=size,
            mtime=st.st_mtime,
        )
        self.read, self.restart = chunk.after, False
        self._remember(lo, buf[: ctx_len + cut], chunk.after.line_no)
        return chunk

    def relocate(self, state: FileState) -> None:
        """Go on from ``state`` (found after a rewrite) with a fresh parser."""
        self.read, self.restart, self.settle, self.check_head = state, True, None, False
        self.outstanding = None
        self.tail, self.tail_end, self.tail_line = b"", state.offset, state.line_no

    def redeliver(self) -> None:
        """Read again from the committed state (what was handed out was not stored)."""
        self.read, self.restart, self.outstanding = self.committed, True, None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def _head_holds(self, size: int) -> bool:
        """Verify the head when asked to (new fd) and extend it while the file is small."""
        r = self.read
        if not self.check_head and (r.head_len >= HEAD_MAX or size <= r.head_len):
            return True
        head = read_at(self.fd, min(size, HEAD_MAX), 0)
        if len(head) < r.head_len or digest(head[: r.head_len]) != r.head_hash:
            return False
        self.check_head = False
        if len(head) > r.head_len:
            self.read = replace(r, head_hash=digest(head), head_len=len(head))
        return True

    def _remember(self, start: int, data: bytes, line_no_after: int) -> None:
        """``data`` was read at ``start`` (line ``line_no_after`` begins after it)."""
        base = self.tail_end - len(self.tail)
        keep = self.tail[: start - base] if base <= start <= self.tail_end else b""
        self.tail = (keep + data)[-TAIL_KEEP:]
        self.tail_end, self.tail_line = start + len(data), line_no_after


def state_from_fd(fd: int, key: str, path: Path, app: str, offset: int) -> FileState:
    """A fresh state of the open file at ``offset`` (its head, anchor and line number read)."""
    lo = max(0, offset - ANCHOR_MAX)
    return fresh_state(
        key,
        str(path),
        app,
        os.fstat(fd),
        read_at(fd, HEAD_MAX, 0),
        offset,
        count_lines(fd, offset),
        read_at(fd, offset - lo, lo),
    )


def last_line_end(fd: int, size: int) -> int:
    """The offset just after the last newline (where tail -f would start)."""
    pos = size
    while pos > 0:
        lo = max(0, pos - 65536)
        block = read_at(fd, pos - lo, lo)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return lo + nl + 1
        pos = lo
    return 0
