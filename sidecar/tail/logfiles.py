"""Opening Skyline log files, plain or gzip-compressed."""

from __future__ import annotations

import gzip
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


class _GzipLog(gzip.GzipFile):
    """A GzipFile that owns its file and reports corrupt or truncated data as OSError."""

    def __init__(self, raw: BinaryIO):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (EOFError, zlib.error) as exc:
            raise OSError(f"corrupt or truncated gzip data ({exc})") from exc

    def read1(self, size: int = -1) -> bytes:
        try:
            return super().read1(size)
        except (EOFError, zlib.error) as exc:
            raise OSError(f"corrupt or truncated gzip data ({exc})") from exc

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_log(path: str) -> BinaryIO:
    """Open a log for reading bytes; a gzip file (told by its magic bytes, whatever its name)
    is decompressed on the fly. Every error is an OSError for the caller to report."""
    raw = open(path, "rb")  # noqa: SIM115 - the caller closes what this returns
    try:
        magic = raw.peek(2)[:2]  # peek, not seek: a named pipe works too
    except OSError:
        raw.close()
        raise
    if magic == GZIP_MAGIC:
        return _GzipLog(raw)  # type: ignore[return-value]
    return raw
