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

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from sidecar.model import FileState
from sidecar.state.store import Store
from sidecar.tail.chunk import (
    ParserFactory,
    default_parser_factory,
    durable_state,
    fresh_state,
    take,
)
from sidecar.tail.fileid import ANCHOR_MAX, anchor_of, digest, file_key
from sidecar.tail.logfiles import LogFile
from sidecar.tail.names import GZIP, LAST, LIVE, ROTATED, LogName, parse_name

__all__ = ["BackfillResult", "FileResult", "backfill_files", "run_backfill"]

#: (path, bytes_done, bytes_total) — bytes on disk (compressed for gzip)
Progress = Callable[[Path, int, int], None]

BLOCK = 1 << 20
_RANK = {ROTATED: 0, GZIP: 1, LAST: 2, LIVE: 3}


def backfill_files(
    log_dir_or_files: Path | str | Iterable[Path | str],
    apps: Sequence[str],
    since: date | None = None,
    until: date | None = None,
) -> list[Path]:
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


def run_backfill(
    store: Store,
    paths: Sequence[Path],
    parser_factory: ParserFactory | None = None,
    progress: Progress | None = None,
    *,
    block: int = BLOCK,
) -> BackfillResult:
    """Read ``paths`` in order (see ``backfill_files``) into the store. A file that cannot be
    read is reported in the result and the others go on; a StoreError ends the run."""
    run = _Run(
        store,
        parser_factory or default_parser_factory,
        progress,
        block,
        {s.key: s for s in store.files()},
    )
    result = BackfillResult()
    # A backfill can be run again: it trades per-block fsync for speed (WAL keeps the database
    # consistent through a crash; only the last blocks may need reading again).
    with store.relaxed_sync():
        for path in map(Path, paths):
            try:
                res, state = run.one(path)
            except OSError as exc:  # LogFile reports damaged gzip data as OSError too
                res, state = FileResult(path, "failed", reason=str(exc)), None
                store.record_error(
                    f"file {path}",
                    f"read failed part way: {exc}; fix or move the file and run backfill again",
                )
            else:
                store.clear_problem(f"file {path}")
            if state is not None:
                run.known[state.key] = state
            result.files.append(res)
    return result


# -- one file ------------------------------------------------------------------------------
def _key(st: os.stat_result, gz: bool) -> str:
    """The state key of a file. A gzip file gets keys of its own: gzip frees the inode of the
    file it compressed, and a later gzip file reusing it must not take over that file's row."""
    key = file_key(st.st_dev, st.st_ino)
    return f"{key}:gz" if gz else key


def _candidates(head: bytes, key: str, known: dict[str, FileState]) -> list[FileState]:
    """Known states a file with this (decompressed) head may continue: its own (same key,
    compatible head) first, then any whose head hash matches, largest offset first."""
    compatible = [
        s
        for s in known.values()
        if s.head_len <= len(head) and digest(head[: s.head_len]) == s.head_hash
    ]
    own = [s for s in compatible if s.key == key]
    others = sorted((s for s in compatible if s.key != key), key=lambda s: -s.offset)
    return own + others


@dataclass
class _Run:
    """One backfill run: where events go, how files are parsed, and the states known so far."""

    store: Store
    factory: ParserFactory
    progress: Progress | None
    block: int
    known: dict[str, FileState]

    def one(self, path: Path) -> tuple[FileResult, FileState | None]:
        """Read ``path`` on from where it is known to be read up to (or from its start)."""
        name = parse_name(path.name)
        if name is None:
            return FileResult(path, "skipped", reason="not a Skyline log name"), None
        st = os.stat(path)
        with LogFile(path) as src:
            head, gz = src.head(), src.gzip
        key = _key(st, gz)
        for cand in _candidates(head, key, self.known):
            if cand.finished and cand.key == key and cand.size == st.st_size:
                return FileResult(
                    path, "skipped", cand.offset, cand.offset, reason="already read completely"
                ), None
            src = LogFile(path)
            window = src.skip_to(cand.offset)
            if window is not None and _anchored(window, cand):
                start = (
                    cand
                    if cand.key == key
                    else fresh_state(
                        key, str(path), name.app, st, head, cand.offset, cand.line_no, window
                    )
                )
                return self._read(src, name, start, window, resumed=cand.offset > 0)
            src.close()
        start = fresh_state(key, str(path), name.app, st, head)
        return self._read(LogFile(path), name, start, b"", resumed=False)

    def _read(
        self, src: LogFile, name: LogName, before: FileState, context: bytes, *, resumed: bool
    ) -> tuple[FileResult, FileState]:
        """Read ``src`` on from ``before`` (``context``: the bytes before it) to its end,
        storing the events and the state after every block."""
        path = Path(src.path)
        # gzip files and .last never change again: read to the end, unterminated line included
        immutable = src.gzip or name.kind in (GZIP, LAST)
        res = FileResult(path, "resumed" if resumed else "read", before.offset, before.offset)
        parser = self.factory(name.app, str(path), before.offset, before.line_no)
        durable = before = replace(before, path=str(path))
        pending = b""
        block, progress = self.block, self.progress
        try:
            total = src.size_on_disk()
            if progress:
                progress(path, src.on_disk(), total)
            while True:
                part = src.read(block)
                eof = not part
                pending += part
                if eof and immutable:
                    cut = len(pending)
                else:
                    cut = pending.rfind(b"\n") + 1
                    if cut == 0 and not eof and len(pending) < 4 * block:
                        continue  # a very long line: read on (the parser truncates it)
                    cut = cut or (0 if eof else len(pending))
                chunk = take(before, context, pending, cut, restart=False, final=eof and immutable)
                pending = pending[cut:]
                events = parser.feed(chunk.data)
                if eof and name.kind != LIVE:
                    events += parser.finish()
                    state = chunk.after
                else:
                    state = durable_state(chunk, parser, durable)
                res.events_seen += len(events)
                res.events_new += self.store.ingest(events, state)
                durable, before = state, chunk.after
                context = (context + chunk.data[-ANCHOR_MAX:])[-ANCHOR_MAX:]
                res.end = before.offset
                if progress:
                    progress(path, total if eof else src.on_disk(), total)
                if eof:
                    break
        finally:
            src.close()
        if res.end == res.start and resumed:
            res.action, res.reason = "skipped", "already read completely"
        return res, durable


def _anchored(window: bytes, state: FileState) -> bool:
    """Is ``window`` (the bytes before ``state.offset``) the anchor ``state`` stored?"""
    return anchor_of(window, state.offset) == (state.anchor_hash, state.anchor_len)
