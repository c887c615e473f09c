"""Small, whole PNG files for graph tests (what matplotlib writes, in miniature)."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path


def png_bytes(width: int = 4, height: int = 3, seed: int = 0, *, noisy: bool = False) -> bytes:
    """A whole PNG; ``noisy`` rows compress about as badly as a real graph's."""
    noise = random.Random(seed)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    def row(y: int) -> bytes:
        if noisy and y % 16 == 0:
            return noise.randbytes(width * 3)
        return bytes((seed + x + y) % 256 for x in range(width * 3))

    rows = b"".join(b"\x00" + row(y) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def training_png(
    folder: Path, ts: int, metric: str, app: str, hours: int, data: bytes | None = None
) -> Path:
    """Where Skyline's smtp alerter writes the alert's graph (analyzer/alerters.py:2018-2027)."""
    where = folder / str(ts) / metric.replace(".", "/")
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{metric}.{app}.graphite.{hours}h.png"
    path.write_bytes(png_bytes() if data is None else data)
    return path
