"""File identity and anchors (sidecar/fileid.py), shared by the tailer and backfill."""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import pytest

import sidecar.tail.fileid as fileid
from sidecar.tail.fileid import ANCHOR_MAX, anchor_of, count_lines, digest, find_anchor
from sidecar.tail.logfiles import LogFile


def skyline_text(n: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    return b"".join(
        f"2026-11-26 13:00:{i % 60:02d} :: {rng.randint(100, 999)} :: "
        f"msg {'x' * rng.randint(0, 300)} {i}\n".encode()
        for i in range(n)
    )


def test_anchor_is_a_function_of_content_and_offset() -> None:
    data = skyline_text(100)
    for offset in (0, 10, ANCHOR_MAX, ANCHOR_MAX + 1, len(data)):
        exact = anchor_of(data[max(0, offset - ANCHOR_MAX) : offset], offset)
        padded = anchor_of(data[:offset], offset)  # extra leading bytes are ignored
        assert exact == padded
    # past ANCHOR_MAX the window starts at a line start
    offset = len(data)
    _, length = anchor_of(data, offset)
    assert length <= ANCHOR_MAX and data[offset - length - 1 : offset - length] == b"\n"
    # a single line longer than the window: the last ANCHOR_MAX bytes
    long = b"y" * 10000
    assert anchor_of(long, len(long)) == (digest(long[-ANCHOR_MAX:]), ANCHOR_MAX)


@pytest.mark.parametrize("block", [997, 5000, 1 << 20])
def test_find_anchor_finds_first_matching_line_end(
    tmp_path: Path, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fileid, "_SCAN_BLOCK", block)  # exercise block boundaries
    data = skyline_text(400, seed=block)
    path = tmp_path / "log"
    path.write_bytes(b"inserted line\n" * 37 + data)
    shift = len(b"inserted line\n" * 37)
    # (an offset within the first ANCHOR_MAX bytes is anchored by the whole prefix: never moved)
    ends = [i + 1 for i, c in enumerate(data) if c == 0x0A and i >= ANCHOR_MAX]
    fd = os.open(path, os.O_RDONLY)
    try:
        for end in random.Random(block).sample(ends, 25):
            anchor = anchor_of(data[:end], end)
            got = find_anchor(fd, *anchor)
            assert got == (end + shift, 38 + data[:end].count(b"\n")), end
        assert find_anchor(fd, "0" * 32, 100) is None
    finally:
        os.close(fd)


def test_gzip_head_is_the_decompressed_head(tmp_path: Path) -> None:
    data = skyline_text(200)
    plain = tmp_path / "mirage.log.2026-11-25"
    plain.write_bytes(data)
    packed = tmp_path / "packed"  # detected by magic bytes, not by name
    packed.write_bytes(gzip.compress(data))
    with LogFile(plain) as a, LogFile(packed) as b:
        assert (a.gzip, b.gzip) == (False, True)
        assert a.head() == b.head() == data[:4096]
        assert a.read(100) == b.read(100) == data[4096:4196]


def test_count_lines(tmp_path: Path) -> None:
    data = skyline_text(50)
    path = tmp_path / "log"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert count_lines(fd, 0) == 1
        assert count_lines(fd, len(data)) == 51
        third = data.index(b"\n", data.index(b"\n") + 1) + 1
        assert count_lines(fd, third) == 3
    finally:
        os.close(fd)
