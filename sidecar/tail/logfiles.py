"""Reading Skyline log files from the start, plain or gzip-compressed (told by the magic bytes,
whatever the name): the one gzip reader of ``parse`` and backfill. Every error is an OSError."""

from __future__ import annotations

import gzip
import os
import zlib
from typing import BinaryIO

from sidecar.tail.fileid import ANCHOR_MAX, HEAD_MAX

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


class LogFile:
    """One log file read from its start: its bytes (decompressed for gzip) through ``read``,
    and how far into the file on disk reading is (for progress)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = path
        raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        try:
            magic = raw.peek(2)[:2]  # peek, not seek: a named pipe works too
        except OSError:
            raw.close()
            raise
        self.gzip = magic == GZIP_MAGIC
        self._raw = raw
        self.stream: BinaryIO = _GzipLog(raw) if self.gzip else raw  # type: ignore[assignment]

    def read(self, size: int) -> bytes:
        return self.stream.read(size)

    def head(self) -> bytes:
        """The first HEAD_MAX bytes (decompressed): what identifies a generation. Call first."""
        return self.stream.read(HEAD_MAX)

    def skip_to(self, offset: int) -> bytes | None:
        """Move to ``offset`` (from the start); returns the (up to ANCHOR_MAX) bytes before it,
        None when the file is shorter."""
        lo = max(0, offset - ANCHOR_MAX)
        if self.gzip:
            pos = 0
            while pos < lo:
                part = self.stream.read(min(1 << 20, lo - pos))
                if not part:
                    return None
                pos += len(part)
        else:
            self.stream.seek(lo)
        window = self.stream.read(offset - lo)
        return window if len(window) == offset - lo else None

    def size_on_disk(self) -> int:
        return os.fstat(self._raw.fileno()).st_size

    def on_disk(self) -> int:
        """How far into the file on disk reading is (compressed bytes for gzip)."""
        return self._raw.tell()

    def close(self) -> None:
        self.stream.close()
        self._raw.close()

    def __enter__(self) -> LogFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_log(path: str) -> BinaryIO:
    """Open a log for reading bytes, decompressed on the fly if it is gzip."""
    return LogFile(path).stream
