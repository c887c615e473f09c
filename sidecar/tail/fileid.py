"""File generation identity and content anchors: the pure core of tailing and backfill.

A generation is (dev, inode) checked against a hash of its first ``HEAD_MAX`` bytes (decompressed
for gzip). An offset is verified by an *anchor*: the hash of the bytes just before it. The anchor
window is a function of the file content and the offset alone, so it can be recomputed anywhere
(tailer, ingest, backfill) and searched for after Skyline rewrites a log:

* ``offset <= ANCHOR_MAX``: the window is ``[0, offset)``;
* otherwise it starts after the first newline in ``[offset - ANCHOR_MAX, offset - 1)`` (whole
  lines, so a search can skip most positions), or at ``offset - ANCHOR_MAX`` inside one long line.
"""

from __future__ import annotations

import hashlib
import os
import re

HEAD_MAX = 4096
ANCHOR_MAX = 4096


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_key(dev: int, inode: int) -> str:
    """The state key of a generation. Unique among files we hold open (an open inode is never
    reused); a reused inode overwrites the row of a generation that is gone."""
    return f"{dev}:{inode}"


def anchor_start(window: bytes, offset: int) -> int:
    """Index in ``window`` (the bytes ``[max(0, offset - ANCHOR_MAX), offset)``) where the
    anchor of ``offset`` starts."""
    if offset <= ANCHOR_MAX:
        return 0
    nl = window.find(b"\n", 0, len(window) - 1)
    return nl + 1 if nl >= 0 else 0


def anchor_of(window: bytes, offset: int) -> tuple[str, int]:
    """(anchor_hash, anchor_len) of ``offset``, given the bytes just before it (at least
    ``min(offset, ANCHOR_MAX)`` of them; extra leading bytes are ignored)."""
    window = window[len(window) - min(offset, ANCHOR_MAX) :] if offset else b""
    start = anchor_start(window, offset)
    return digest(window[start:]), len(window) - start


def read_at(fd: int, size: int, offset: int) -> bytes:
    """pread until ``size`` bytes or EOF (pread may return short reads)."""
    parts: list[bytes] = []
    while size > 0:
        part = os.pread(fd, size, offset)
        if not part:
            break
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)


def anchor_matches(fd: int, offset: int, anchor_hash: str, anchor_len: int) -> bool:
    """Is the anchor of ``offset`` in the open file the one stored?"""
    if offset == 0:
        return anchor_len == 0
    lo = max(0, offset - ANCHOR_MAX)
    window = read_at(fd, offset - lo, lo)
    if len(window) < offset - lo:
        return False
    return anchor_of(window, offset) == (anchor_hash, anchor_len)


def head_matches(fd: int, head_hash: str, head_len: int) -> bool:
    head = read_at(fd, head_len, 0)
    return len(head) == head_len and digest(head) == head_hash


_NL = re.compile(rb"\n")
_SCAN_BLOCK = 1 << 20


def find_anchor(fd: int, anchor_hash: str, anchor_len: int) -> tuple[int, int] | None:
    """The first offset in the file whose anchor is the given one, with its line number.

    A last-resort search after a rewrite moved content: only line ends whose window starts at a
    line start are hashed, which skips nearly every position. Reads with pread, never mmap: a
    file truncated under a mapping kills the process with SIGBUS.
    """
    if anchor_len == 0:
        return None
    pos, buf, line_no = 0, b"", 1  # buf holds the file from offset pos
    while block := os.pread(fd, _SCAN_BLOCK, pos + len(buf)):
        first_new = len(buf)
        buf += block
        for m in _NL.finditer(buf, first_new):
            end = pos + m.end()
            line_no += 1
            start = end - anchor_len
            if start < 0 or (
                start > 0 and buf[start - pos - 1] != 0x0A and anchor_len != ANCHOR_MAX
            ):
                continue
            window = buf[max(0, end - ANCHOR_MAX) - pos : m.end()]
            if anchor_of(window, end) == (anchor_hash, anchor_len):
                return end, line_no
        keep = min(len(buf), ANCHOR_MAX + 1)  # enough for windows ending in the next block
        pos, buf = pos + len(buf) - keep, buf[len(buf) - keep :]
    return None


def count_lines(fd: int, offset: int) -> int:
    """The line number at ``offset`` (1 + newlines before it)."""
    line_no, pos = 1, 0
    while pos < offset:
        block = os.pread(fd, min(1 << 20, offset - pos), pos)
        if not block:
            break
        line_no += block.count(b"\n")
        pos += len(block)
    return line_no
