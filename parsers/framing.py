"""Record framing for Skyline app logs.

Skyline's formatter is ``"%(asctime)s :: %(process)s :: %(message)s"`` with
``datefmt="%Y-%m-%d %H:%M:%S"`` (skyline/analyzer/agent.py:103, skyline/webapp/gunicorn.py:118).
A record is one line with that prefix plus every following line without it: tracebacks,
multi-line messages and raw stderr. Two other shapes start records of their own and are never
events: the bin scripts' lines (``<app>.d :: ...``, bin/analyzer.d:238), which share the prefix,
and gunicorn's own error log lines (``[2026-11-26 13:00:01 +0000] [pid] [INFO] ...``).

The framer is incremental and pure: feed it bytes as they arrive, it returns the records that are
complete. Only whole lines are framed; a partial last line waits for its newline. A record is
complete when the next record starts, or when the caller says the input ended (``flush``).
Invalid UTF-8 is decoded with replacement and counted; a line longer than ``MAX_LINE`` bytes is
truncated to that length, counted and still framed.

``select`` mode is the parser's fast path: given a regex, the framer only yields records whose
first line matches it after the prefix, without their continuation lines, and scans the bytes
between candidates at C speed instead of line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINE = 1 << 20

PREFIX = re.compile(rb"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) :: (\d+) :: ")
GUNICORN = re.compile(rb"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")
BIN_SCRIPT = re.compile(rb"[\w-]+\.d :: ")

#: Record.origin values
APP, BIN, GUNICORN_LINE, ORPHAN = "app", "bin_script", "gunicorn", "orphan"


@dataclass(frozen=True, slots=True)
class Record:
    """One framed record. ``raw`` holds its exact bytes (first line only in select mode)."""

    offset: int
    end: int
    line_no: int
    origin: str
    raw: bytes
    #: ``YYYY-MM-DD HH:MM:SS`` and pid from the prefix; empty/0 for gunicorn and orphan records
    logged_at: str = ""
    pid: int = 0
    #: the first line after the prefix, decoded (truncated lines end where they were cut)
    message: str = ""
    continuation: tuple[str, ...] = ()


@dataclass
class FramingStats:
    lines: int = 0
    records: int = 0
    invalid_utf8_lines: int = 0
    truncated_lines: int = 0
    bytes: int = 0


def decode(raw: bytes, stats: FramingStats) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        stats.invalid_utf8_lines += 1
        return raw.decode("utf-8", errors="replace")


def classify(line: bytes) -> tuple[str, re.Match[bytes] | None]:
    """Which kind of record a line starts, or ORPHAN for a continuation line."""
    m = PREFIX.match(line)
    if m is not None:
        return (BIN if BIN_SCRIPT.match(line, m.end()) else APP), m
    if line.startswith(b"[") and GUNICORN.match(line):
        return GUNICORN_LINE, None
    return ORPHAN, None


@dataclass
class _Open:
    offset: int
    line_no: int
    origin: str
    first: bytes
    match: re.Match[bytes] | None
    rest: list[bytes] = field(default_factory=list)
    end: int = 0


class Framer:
    """Incremental record framer; see the module docstring."""

    def __init__(self, offset: int = 0, line_no: int = 1, select: re.Pattern[bytes] | None = None):
        self.stats = FramingStats()
        self._select = select
        self._offset = offset  # absolute offset of self._buf[0]
        self._line_no = line_no  # line number of self._buf[0]
        self._buf = b""
        self._skipping = False  # inside an over-long line, dropping bytes until its newline
        self._long_head = b""
        self._long_start = 0
        self._open: _Open | None = None

    @property
    def safe_offset(self) -> int:
        """Everything before this offset has been returned as records (or was not a record)."""
        if self._open is not None:
            return self._open.offset
        if self._skipping:
            return self._long_start
        return self._offset

    @property
    def line_no(self) -> int:
        """The line number at ``safe_offset``."""
        return self._open.line_no if self._open is not None else self._line_no

    def feed(self, data: bytes) -> list[Record]:
        self.stats.bytes += len(data)
        out: list[Record] = []
        if self._skipping:
            data = self._skip_long(data, out)
            if data is None:
                return out
        buf = self._buf + data if self._buf else data
        last_nl = buf.rfind(b"\n")
        if last_nl < 0:
            self._buf = buf
            if len(buf) > MAX_LINE:
                self._start_long(buf)
            return out
        complete, self._buf = buf[: last_nl + 1], buf[last_nl + 1 :]
        if self._select is not None:
            self._frame_selected(complete, out)
        else:
            self._frame_all(complete, out)
        self._offset += len(complete)
        if len(self._buf) > MAX_LINE:
            self._start_long(self._buf)
        return out

    def flush(self) -> list[Record]:
        """The input ended (for now): close the open record. A partial line stays held."""
        out: list[Record] = []
        if self._open is not None:
            out.append(self._close(self._open))
            self._open = None
        return out

    def finish(self) -> list[Record]:
        """The input ended for good (a rotated file drained): frame the partial line too."""
        out: list[Record] = []
        if self._skipping:
            self._skip_long(b"\n", out)
            self._offset -= 1  # that newline was never in the input
        elif self._buf:
            tail, self._buf = self._buf, b""
            if self._select is not None:
                self._frame_selected(tail, out)
            else:
                self._frame_all(tail, out)
            self._offset += len(tail)
        return out + self.flush()

    # -- over-long lines ---------------------------------------------------------------------
    def _start_long(self, buf: bytes) -> None:
        self._skipping = True
        self._long_start = self._offset
        self._long_head = buf[:MAX_LINE]
        self._offset += len(buf)
        self._buf = b""

    def _skip_long(self, data: bytes, out: list[Record]) -> bytes | None:
        nl = data.find(b"\n")
        if nl < 0:
            self._offset += len(data)
            return None
        self._skipping = False
        self.stats.truncated_lines += 1
        line_end = self._offset + nl + 1
        head, start = self._long_head + b"\n", self._long_start
        self._long_head = b""
        self._offset = start
        # Frame the truncated line as if it were whole, then resume after its real end.
        if self._select is not None:
            self._frame_selected(head, out)
        else:
            self._frame_all(head, out, true_end=line_end)
        self._offset = line_end
        return data[nl + 1 :]

    # -- full mode ----------------------------------------------------------------------------
    def _frame_all(self, chunk: bytes, out: list[Record], true_end: int | None = None) -> None:
        lines = chunk.split(b"\n")
        tail = lines.pop()  # b"" when the chunk ends with a newline
        lines = [line + b"\n" for line in lines]
        if tail:
            lines.append(tail)
        pos = self._offset
        for line in lines:
            start, pos = pos, pos + len(line)
            self.stats.lines += 1
            origin, match = classify(line)
            if origin == ORPHAN and self._open is not None:
                self._open.rest.append(line)
            else:
                if self._open is not None:
                    out.append(self._close(self._open))
                self._open = _Open(start, self._line_no, origin, line, match)
            self._open.end = pos if true_end is None else true_end
            self._line_no += 1

    def _close(self, rec: _Open) -> Record:
        self.stats.records += 1
        raw = rec.first + b"".join(rec.rest)
        cont = tuple(decode(x, self.stats).rstrip("\r\n") for x in rec.rest)
        first = rec.first.rstrip(b"\r\n")
        if rec.match is None:
            return Record(rec.offset, rec.end, rec.line_no, rec.origin, raw,
                          message=decode(first, self.stats), continuation=cont)
        return Record(
            rec.offset, rec.end, rec.line_no, rec.origin, raw,
            logged_at=rec.match.group(1).decode("ascii"),
            pid=int(rec.match.group(2)),
            message=decode(first[rec.match.end():], self.stats),
            continuation=cont,
        )

    # -- select mode --------------------------------------------------------------------------
    def _frame_selected(self, chunk: bytes, out: list[Record]) -> None:
        assert self._select is not None
        self.stats.lines += chunk.count(b"\n")
        counted_to, line_no = 0, self._line_no
        last_start = -1
        for m in self._select.finditer(chunk):
            start = chunk.rfind(b"\n", 0, m.start()) + 1
            if start == last_start:
                continue
            pm = PREFIX.match(chunk, start)
            # The selector may begin with the prefix's own ' :: ' but never before it.
            if pm is None or m.start() < pm.end() - 4 or BIN_SCRIPT.match(chunk, pm.end()):
                continue
            last_start = start
            line_no += chunk.count(b"\n", counted_to, start)
            counted_to = start
            end = chunk.find(b"\n", m.end()) + 1 or len(chunk)
            first = chunk[start:end]
            self.stats.records += 1
            out.append(Record(
                self._offset + start, self._offset + end, line_no, APP, first,
                logged_at=pm.group(1).decode("ascii"),
                pid=int(pm.group(2)),
                message=decode(first[pm.end() - start:].rstrip(b"\r\n"), self.stats),
            ))
        self._line_no += chunk.count(b"\n")


def frame_bytes(data: bytes, offset: int = 0) -> list[Record]:
    """Frame a whole byte string; an unterminated last line is a line of its own."""
    framer = Framer(offset=offset)
    return framer.feed(data) + framer.finish()
