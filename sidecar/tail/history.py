"""Backfill: read Skyline's rotated, gzipped and ``.last`` logs, oldest first, skipping what was
already read.

``backfill_files`` only plans (names and dates); ``run_backfill`` reads. A file is matched to a
known generation by identity (dev, inode and head) or, for a gzip or ``.last`` copy, by content:
the head hash of its (decompressed) bytes and the anchor at the stored offset. A matched file is
read on from that offset only, so nothing tailed live is parsed twice and a file read completely
is skipped. Events and the file's state are stored together after every block.

How far a file is read: gzip files and ``.last`` never change again, so they are read to the end
(unterminated last line included) and marked finished; rotated plain files are read to their
last newline and the parser finished; the live file is left where the parser's safe offset is,
for the tailer to go on from.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sidecar.ingest import ParserFactory, default_parser_factory, durable_state
from sidecar.model import FileState
from sidecar.state.store import Store
from sidecar.tail.fileid import ANCHOR_MAX, HEAD_MAX, FileId, anchor_of, digest, file_key
from sidecar.tail.logfiles import GZIP_MAGIC
from sidecar.tail.tailer import Chunk

__all__ = ["BackfillResult", "FileResult", "backfill_files", "run_backfill"]

#: (path, bytes_done, bytes_total) — bytes on disk (compressed for gzip)
Progress = Callable[[Path, int, int], None]

BLOCK = 1 << 20
_NAME = re.compile(
    r"(?P<app>.+?)\.log(?:\.(?P<date>\d{4}-\d{2}-\d{2})(?P<gz>\.gz)?|(?P<last>\.last))?"
)
_RANK = {"rotated": 0, "gzip": 1, "last": 2, "live": 3}


@dataclass(frozen=True)
class LogName:
    app: str
    kind: str  # live | rotated | gzip | last
    day: date | None


def parse_name(name: str, apps: Sequence[str] | None = None) -> LogName | None:
    """``mirage.log.2026-11-25.gz`` -> LogName("mirage", "gzip", 2026-11-25); None otherwise."""
    m = _NAME.fullmatch(name)
    if m is None or (apps is not None and m["app"] not in apps):
        return None
    if m["last"]:
        return LogName(m["app"], "last", None)
    if m["date"] is None:
        return LogName(m["app"], "live", None)
    try:
        day = date.fromisoformat(m["date"])
    except ValueError:
        return None
    return LogName(m["app"], "gzip" if m["gz"] else "rotated", day)


def backfill_files(log_dir_or_files: Path | str | Iterable[Path | str], apps: Sequence[str],
                   since: date | None = None, until: date | None = None) -> list[Path]:
    """The apps' log files to backfill, oldest first across apps: by the date of the rotated
    name (the live file and ``.last`` by their mtime's date), then plain before gzip before
    ``.last`` before live, then mtime. ``since`` / ``until`` bound that date (inclusive)."""
    if isinstance(log_dir_or_files, str | Path) and Path(log_dir_or_files).is_dir():
        candidates: Iterable[Path | str] = Path(log_dir_or_files).iterdir()
    elif isinstance(log_dir_or_files, str | Path):
        candidates = [log_dir_or_files]
    else:
        candidates = log_dir_or_files
    planned: list[tuple[tuple[date, int, float, str], Path]] = []
    for raw in candidates:
        path = Path(raw)
        name = parse_name(path.name, apps)
        if name is None or not path.is_file():
            continue
        mtime = path.stat().st_mtime
        day = name.day or datetime.fromtimestamp(mtime).date()
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        planned.append(((day, _RANK[name.kind], mtime, str(path)), path))
    return [path for _, path in sorted(planned)]


@dataclass
class FileResult:
    path: Path
    action: str  # read | resumed | skipped | failed
    start: int = 0
    end: int = 0
    events_seen: int = 0
    events_new: int = 0
    reason: str = ""


@dataclass
class BackfillResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def events_new(self) -> int:
        return sum(f.events_new for f in self.files)

    def by_action(self, action: str) -> list[Path]:
        return [f.path for f in self.files if f.action == action]


def run_backfill(store: Store, paths: Sequence[Path], parser_factory: ParserFactory | None = None,
                 progress: Progress | None = None, *, block: int = BLOCK) -> BackfillResult:
    """Read ``paths`` in order (see ``backfill_files``) into the store. A file that cannot be
    read is reported in the result and the others go on; a StoreError ends the run."""
    factory = parser_factory or default_parser_factory
    known = {s.key: s for s in store.files()}
    result = BackfillResult()
    # A backfill can be run again: it trades per-block fsync for speed (WAL keeps the database
    # consistent through a crash; only the last blocks may need reading again).
    with store.relaxed_sync():
        for path in map(Path, paths):
            try:
                res, state = _backfill_one(store, path, known, factory, progress, block)
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                res, state = FileResult(path, "failed", reason=str(exc)), None
                store.record_error(f"file {path}", f"read failed part way: {exc}; fix or move"
                                   " the file and run backfill again")
            else:
                store.clear_problem(f"file {path}")
            if state is not None:
                known[state.key] = state
            result.files.append(res)
    return result


# -- one file ------------------------------------------------------------------------------
class _Source:
    """A log file's bytes (gzip decompressed) plus how far into the file on disk we are."""

    def __init__(self, path: Path):
        self.raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.gzip = self.raw.read(2) == GZIP_MAGIC  # by magic bytes, whatever the name
        self.raw.seek(0)
        self.stream: BinaryIO = (
            gzip.GzipFile(fileobj=self.raw) if self.gzip else self.raw  # type: ignore[assignment]
        )
        self.size_on_disk = os.fstat(self.raw.fileno()).st_size

    def skip_to(self, offset: int) -> bytes | None:
        """Move to ``offset``; returns the (up to ANCHOR_MAX) bytes before it, None past EOF."""
        lo = max(0, offset - ANCHOR_MAX)
        if self.gzip:
            pos = 0
            while pos < lo:
                part = self.stream.read(min(BLOCK, lo - pos))
                if not part:
                    return None
                pos += len(part)
        else:
            self.stream.seek(lo)
        window = self.stream.read(offset - lo)
        return window if len(window) == offset - lo else None

    def on_disk(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def _key(st: os.stat_result, gz: bool) -> str:
    """The state key of a file. A gzip file gets keys of its own: gzip frees the inode of the
    file it compressed, and a later gzip file reusing it must not take over that file's row."""
    key = file_key(st.st_dev, st.st_ino)
    return f"{key}:gz" if gz else key


def _candidates(head: bytes, key: str, known: dict[str, FileState]) -> list[FileState]:
    """Known states a file with this (decompressed) head may continue: its own (same key,
    compatible head) first, then any whose head hash matches, largest offset first."""
    compatible = [
        s for s in known.values()
        if s.head_len <= len(head) and digest(head[: s.head_len]) == s.head_hash
    ]
    own = [s for s in compatible if s.key == key]
    others = sorted((s for s in compatible if s.key != key), key=lambda s: -s.offset)
    return own + others


def _backfill_one(store: Store, path: Path, known: dict[str, FileState],
                  factory: ParserFactory, progress: Progress | None,
                  block: int) -> tuple[FileResult, FileState | None]:
    name = parse_name(path.name)
    if name is None:
        return FileResult(path, "skipped", reason="not a Skyline log name"), None
    st = os.stat(path)
    src = _Source(path)
    try:
        head = src.stream.read(HEAD_MAX)
    finally:
        src.close()
    fid = FileId(st.st_dev, st.st_ino, digest(head), len(head))
    key = _key(st, src.gzip)
    immutable = src.gzip or name.kind in ("gzip", "last")
    for cand in _candidates(head, key, known):
        if cand.finished and cand.key == key and cand.size == st.st_size:
            return FileResult(path, "skipped", cand.offset, cand.offset,
                              reason="already read completely"), None
        src = _Source(path)
        window = src.skip_to(cand.offset)
        if window is not None and anchor_of(window, cand.offset) == (
                cand.anchor_hash, cand.anchor_len):
            start = cand if cand.key == key else _new_state(
                path, name.app, key, st, fid, cand.offset, cand.line_no, window)
            return _read(store, path, name, src, start, window, immutable, factory, progress,
                         block, resumed=cand.offset > 0)
        src.close()
    src = _Source(path)
    start = _new_state(path, name.app, key, st, fid, 0, 1, b"")
    return _read(store, path, name, src, start, b"", immutable, factory, progress, block,
                 resumed=False)


def _new_state(path: Path, app: str, key: str, st: os.stat_result, fid: FileId, offset: int,
               line_no: int, window: bytes) -> FileState:
    anchor_hash, anchor_len = anchor_of(window, offset)
    return FileState(
        key=key, path=str(path), app=app, dev=st.st_dev,
        inode=st.st_ino, head_hash=fid.head_hash, head_len=fid.head_len, offset=offset,
        line_no=line_no, anchor_hash=anchor_hash, anchor_len=anchor_len, size=st.st_size,
        mtime=st.st_mtime,
    )


def _read(store: Store, path: Path, name: LogName, src: _Source, before: FileState,
          context: bytes, immutable: bool, factory: ParserFactory, progress: Progress | None,
          block: int, *, resumed: bool) -> tuple[FileResult, FileState]:
    res = FileResult(path, "resumed" if resumed else "read", before.offset, before.offset)
    parser = factory(name.app, str(path), before.offset, before.line_no)
    durable = before = replace(before, path=str(path))
    pending = b""
    total = src.size_on_disk
    try:
        if progress:
            progress(path, src.on_disk(), total)
        while True:
            part = src.stream.read(block)
            eof = not part
            pending += part
            if eof and immutable:
                cut = len(pending)
            else:
                cut = pending.rfind(b"\n") + 1
                if cut == 0 and not eof and len(pending) < 4 * block:
                    continue  # a very long line: read on (the parser truncates what is too long)
                cut = cut or (0 if eof else len(pending))
            taken, pending = pending[:cut], pending[cut:]
            anchor_hash, anchor_len = anchor_of(context + taken, before.offset + cut)
            after = replace(
                before, offset=before.offset + cut,
                line_no=before.line_no + taken.count(b"\n"), anchor_hash=anchor_hash,
                anchor_len=anchor_len, finished=eof and immutable,
            )
            chunk = Chunk(before, taken, after, restart=False, final=eof and immutable,
                          context=context)
            events = parser.feed(taken)
            if eof and name.kind != "live":
                events += parser.finish()
                state = after
            else:
                state = durable_state(chunk, parser, durable)
            res.events_seen += len(events)
            res.events_new += store.ingest(events, state)
            durable, before = state, after
            context = (context + taken)[-ANCHOR_MAX:]
            res.end = after.offset
            if progress:
                progress(path, total if eof else src.on_disk(), total)
            if eof:
                break
    finally:
        src.close()
    if res.end == res.start and resumed:
        res.action, res.reason = "skipped", "already read completely"
    return res, durable
