"""Follow Skyline's app logs through rotation, restarts and rewrites, without losing a line.

What Skyline does to its logs (see shared/skyline/log-lines-analyzer-mirage.md §8):

* restart: ``cat log > log.last``; python-daemon truncates ``log``; the new process writes;
  ``cat log.last log > log.new; cat log.new > log`` rewrites the SAME inode with the old content
  in front, while ``<app>.log.lock`` / ``.wait`` exist. If the handshake fails, ``log`` keeps only
  the new lines and the old ones stay in ``log.last``;
* midnight: every process renames ``<app>.log`` to ``<app>.log.YYYY-MM-DD`` on its own first
  record after midnight (removing an existing one first), so writers go on appending to
  yesterday's file, and a rotated file can be deleted while it is still written.

How the tailer copes:

* Every ``<app>.log`` and ``<app>.log.YYYY-MM-DD`` is followed by (dev, inode) through an open fd,
  whatever its name becomes; a file under no followed name (deleted, moved away) is drained and
  only expired after ``drain_seconds`` without growth.
* An offset is trusted only while its anchor (hash of the bytes before it, see ``fileid``) is
  still there: it is checked with the one pread that reads the new bytes, at every poll. A
  shrink or an anchor mismatch starts *settling*: nothing is read while Skyline's log management
  runs (lock files), then the committed position is relocated: anchor in place -> continue;
  anchor gone but the file still holds part of the last 64 KiB we read at its place (the lines
  the new agent logs before python-daemon truncates are destroyed) -> continue after the last
  line that agrees; anchor elsewhere (searched) -> continue after it; head of the file changed
  -> a new generation from 0; nothing agrees -> re-read from 0 (event ids dedup). The last three
  wait until the size was stable for ``settle_seconds`` (or ``rewrite_max_seconds`` passed).
* Only whole lines are handed out; the unterminated last line waits for its newline, unless
  the file is gone and drained (final chunk), or one line is longer than ``max_chunk``.
* watchdog (inotify) only wakes ``wait()``; every poll lists the directory and fstats every
  open generation, which is what decides.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sidecar.model import FileState
from sidecar.service.logs import get_logger
from sidecar.tail.fileid import (
    ANCHOR_MAX,
    HEAD_MAX,
    anchor_matches,
    anchor_of,
    count_lines,
    digest,
    file_key,
    find_anchor,
    head_matches,
    identify,
    read_at,
)

__all__ = ["Chunk", "Tailer", "TailerStats", "followed_app", "identify"]

log = get_logger("sidecar.tail.tailer")

_DATED = r"\.log\.\d{4}-\d{2}-\d{2}"
TAIL_KEEP = 1 << 16


def followed_app(name: str, apps: Sequence[str]) -> str | None:
    """The app whose live or rotated log ``name`` is, or None (.last, .gz, access logs...)."""
    for app in apps:
        if name == f"{app}.log" or re.fullmatch(re.escape(app) + _DATED, name):
            return app
    return None


@dataclass(frozen=True)
class Chunk:
    """New bytes of one file generation, and the state to commit once their events are stored."""

    before: FileState  # where data starts (offset, line_no): the parser starts here
    data: bytes  # whole lines only; on a final chunk also the unterminated last line
    after: FileState  # what to commit once the events of `data` are stored
    restart: bool  # position moved (new generation, relocation, redelivery): use a fresh parser
    final: bool  # generation drained for good: the caller calls parser.finish()
    #: the bytes just before ``before.offset`` (up to ANCHOR_MAX), to anchor a state inside data
    context: bytes = field(default=b"", repr=False)

    @property
    def key(self) -> str:
        return self.after.key

    def state_at(self, offset: int) -> FileState | None:
        """The state to commit at ``offset`` inside this chunk (a parser's safe offset, when it
        still holds back the last record), or None if ``offset`` lies before the chunk."""
        if offset == self.after.offset:
            return self.after
        rel = offset - self.before.offset
        if not 0 <= rel <= len(self.data):
            return None
        anchor_hash, anchor_len = anchor_of(self.context + self.data[:rel], offset)
        return replace(
            self.after, offset=offset, line_no=self.before.line_no + self.data.count(b"\n", 0, rel),
            anchor_hash=anchor_hash, anchor_len=anchor_len, finished=False,
        )


@dataclass
class TailerStats:
    chunks: int = 0
    bytes: int = 0
    generations_opened: int = 0
    generations_finished: int = 0
    #: rewrites resolved: content in place / moved / file replaced / anchor lost (re-read)
    rewrites_in_place: int = 0
    rewrites_moved: int = 0
    rewrites_cut: int = 0
    new_content: int = 0
    rereads: int = 0
    redeliveries: int = 0


@dataclass
class _Settle:
    since: float
    size: int
    stable_since: float


@dataclass
class _Gen:
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
    settle: _Settle | None = None
    #: the last bytes read (up to TAIL_KEEP), ending at tail_end where the line is tail_line:
    #: after a rewrite, where the file stops agreeing with them is where reading goes on
    tail: bytes = b""
    tail_end: int = 0
    tail_line: int = 1

    def remember(self, start: int, data: bytes, line_no_after: int) -> None:
        """``data`` was read at ``start`` (line ``line_no_after`` begins after it)."""
        base = self.tail_end - len(self.tail)
        keep = self.tail[: start - base] if base <= start <= self.tail_end else b""
        self.tail = (keep + data)[-TAIL_KEEP:]
        self.tail_end, self.tail_line = start + len(data), line_no_after


class Tailer:
    def __init__(
        self,
        log_dir: Path,
        apps: Sequence[str],
        known: Iterable[FileState],
        *,
        from_start: bool = False,
        settle_seconds: float = 1.0,
        reconcile_seconds: float = 2.0,
        max_chunk: int = 1 << 20,
        use_watchdog: bool = True,
        clock: Callable[[], float] = time.monotonic,
        rewrite_max_seconds: float = 30.0,
        drain_seconds: float = 300.0,
    ):
        self._dir = Path(log_dir)
        self._apps = tuple(apps)
        known = list(known)
        # Only states of files we follow: backfill's .gz / .last states are none of ours.
        self._known = {
            s.key: s for s in known
            if not s.finished and followed_app(Path(s.path).name, self._apps)
        }
        # Apps never tailed before start at the end of their files, like tail -f.
        self._from_end = set() if from_start else set(self._apps) - {s.app for s in known}
        self._settle = settle_seconds
        self._reconcile = reconcile_seconds
        self._max_chunk = max_chunk
        self._clock = clock
        self._rewrite_max = rewrite_max_seconds
        self._drain = drain_seconds
        self._scanned = False
        self._gens: dict[str, _Gen] = {}
        self._missing: dict[str, float] = {}  # known keys not found, since when
        self._active: set[str] = set()
        self._raised: set[str] = set()
        self._errors: list[str] = []
        self.stats = TailerStats()
        self._wake = threading.Event()
        self._use_watchdog = use_watchdog
        self._observer: Any = None
        self._watch: Any = None
        self._watched: tuple[int, int] | None = None

    # -- public API ----------------------------------------------------------------------------
    def poll(self) -> list[Chunk]:
        """Reconcile with the directory, verify every offset, read what is new (bounded)."""
        now = self._clock()
        self._raised = set()
        self._ensure_watch()
        chunks: list[Chunk] = []
        found = self._scan()
        if found is not None:
            self._sync(found, now)
            chunks.extend(self._expire_missing(found, now))
            self._scanned = True
        for gen in list(self._gens.values()):
            if gen.outstanding is not None:  # not committed: deliver again from the durable point
                self.stats.redeliveries += 1
                gen.read, gen.restart, gen.outstanding = gen.committed, True, None
            try:
                chunk = self._advance(gen, now)
            except OSError as exc:
                self._problem(f"read:{gen.key}", f"cannot read {gen.path}: {_reason(exc)}")
                continue
            if chunk is not None:
                gen.outstanding = chunk
                self.stats.chunks += 1
                self.stats.bytes += len(chunk.data)
                chunks.append(chunk)
        self._active &= self._raised
        return chunks

    def commit(self, chunk: Chunk) -> None:
        """The store committed ``chunk.after``. The ingestor may pass the chunk with ``after``
        moved back to a record boundary (``chunk.state_at``): reading still goes on from where
        the chunk ended, and that earlier state is what a restart would resume from."""
        gen = self._gens.get(chunk.key)
        if gen is None:
            return
        out = gen.outstanding
        if out is not None and out.before == chunk.before and len(out.data) == len(chunk.data):
            gen.outstanding = None
        if chunk.after.offset > gen.read.offset:
            return  # not a state of the current read position: ignore
        gen.committed = chunk.after
        gen.emitted = True
        if chunk.final:
            self._close_gen(gen)
            self.stats.generations_finished += 1

    def rewind(self, key: str) -> None:
        """Deliver generation ``key`` again from its last committed state (the caller lost
        what it had read beyond it)."""
        gen = self._gens.get(key)
        if gen is not None:
            gen.read, gen.restart, gen.outstanding = gen.committed, True, None

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` (capped by the reconcile period and internal deadlines);
        a watchdog event wakes it early."""
        now = self._clock()
        due = now + self._reconcile
        for gen in self._gens.values():
            if gen.settle is not None:
                due = min(due, now + min(self._settle, 0.25))
            if gen.gone_at is not None:
                due = min(due, gen.grew_at + self._drain)
        if self._missing:
            due = min(due, now + self._settle)
        # Deadlines already due still sleep a little: an uncommitted final chunk must not spin.
        self._wake.wait(max(0.0, min(timeout, max(0.05, due - now))))
        self._wake.clear()

    def errors(self) -> list[str]:
        """Problems seen since the last call, one line each (each reported once until it clears)."""
        out, self._errors = self._errors, []
        return out

    def close(self) -> None:
        if self._observer is not None:
            with contextlib.suppress(Exception):  # closing must not fail
                self._observer.stop()
                self._observer.join(timeout=5)
            self._observer = None
        for gen in list(self._gens.values()):
            self._close_gen(gen)

    def following(self) -> dict[str, FileState]:
        """Current read state of every followed generation (for status output and tests)."""
        return {k: replace(g.read, path=str(g.path)) for k, g in self._gens.items()}

    # -- problems ------------------------------------------------------------------------------
    def _problem(self, key: str, message: str) -> None:
        self._raised.add(key)
        if key not in self._active:
            self._active.add(key)
            self._errors.append(message)

    # -- directory -----------------------------------------------------------------------------
    def _scan(self) -> dict[tuple[int, int], tuple[Path, str, os.stat_result]] | None:
        try:
            entries = list(os.scandir(self._dir))
        except FileNotFoundError:
            self._problem("dir", f"log directory {self._dir} does not exist: waiting for it")
            return None
        except OSError as exc:
            self._problem("dir", f"cannot list log directory {self._dir}: {_reason(exc)}")
            return None
        found: dict[tuple[int, int], tuple[Path, str, os.stat_result]] = {}
        for entry in entries:
            app = followed_app(entry.name, self._apps)
            if app is None:
                continue
            path = Path(entry.path)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # renamed or removed since listed: the next scan sees it
            except OSError as exc:
                self._problem(f"stat:{path}", f"cannot stat {path}: {_reason(exc)}")
                continue
            if not stat.S_ISREG(st.st_mode):
                kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                self._problem(f"kind:{path}", f"{path} is {kind}, not a log file: skipped")
                continue
            found[(st.st_dev, st.st_ino)] = (path, app, st)
        return found

    def _sync(self, found: dict[tuple[int, int], tuple[Path, str, os.stat_result]],
              now: float) -> None:
        for (dev, ino), (path, app, _st) in found.items():
            gen = self._gens.get(file_key(dev, ino))
            if gen is None:
                self._open(path, app, now)
            else:
                gen.path, gen.gone_at = path, None
        for gen in self._gens.values():
            if (_dev_ino(gen.read) not in found) and gen.gone_at is None:
                gen.gone_at = now

    def _open(self, path: Path, app: str, now: float) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        except OSError as exc:
            self._problem(f"open:{path}", f"cannot read {path}: {_reason(exc)}")
            return
        try:
            st = os.fstat(fd)
            key = file_key(st.st_dev, st.st_ino)
            if key in self._gens or not stat.S_ISREG(st.st_mode):
                os.close(fd)  # replaced between listing and opening: the next scan sorts it out
                return
            known = self._known.pop(key, None)
            self._missing.pop(key, None)
            if known is not None:
                state = replace(known, path=str(path), app=app)
            else:
                start = _last_line_end(fd, st.st_size) if self._tails_from_end(app) else 0
                state = _fresh_state(fd, key, path, app, start)
        except OSError as exc:
            os.close(fd)
            self._problem(f"open:{path}", f"cannot read {path}: {_reason(exc)}")
            return
        self._gens[key] = _Gen(key, app, path, fd, read=state, committed=state,
                               emitted=known is not None, size=st.st_size, grew_at=now)
        self.stats.generations_opened += 1
        log.info("following log file", path=str(path), key=key, offset=state.offset,
                 resumed=known is not None)

    def _tails_from_end(self, app: str) -> bool:
        return not self._scanned and app in self._from_end

    def _expire_missing(self, found: dict[tuple[int, int], Any], now: float) -> list[Chunk]:
        """Known generations that are gone from the directory: mark them finished (after they
        stayed missing for a settle period, since a listing races with renames)."""
        out: list[Chunk] = []
        for key, state in list(self._known.items()):
            if _dev_ino(state) in found:
                continue
            since = self._missing.setdefault(key, now)
            if now - since >= self._settle:
                del self._known[key]
                del self._missing[key]
                done = replace(state, finished=True)
                out.append(Chunk(state, b"", done, restart=True, final=True))
                log.info("log file gone while stopped", path=state.path, key=key)
        return out

    def _close_gen(self, gen: _Gen) -> None:
        self._gens.pop(gen.key, None)
        with contextlib.suppress(OSError):
            os.close(gen.fd)

    # -- reading -------------------------------------------------------------------------------
    def _advance(self, gen: _Gen, now: float, retry: bool = True) -> Chunk | None:
        st = os.fstat(gen.fd)
        size = st.st_size
        if size != gen.size:
            gen.size, gen.grew_at = size, now
        if gen.settle is not None and not self._resolve(gen, size, now):
            return None
        r = gen.read
        lo = max(0, r.offset - ANCHOR_MAX)
        ctx_len = r.offset - lo
        buf = read_at(gen.fd, min(ctx_len + self._max_chunk, max(0, size - lo)), lo)
        if (
            len(buf) < ctx_len
            or anchor_of(buf[:ctx_len], r.offset) != (r.anchor_hash, r.anchor_len)
            or not self._check_head(gen, size)
        ):
            gen.settle = _Settle(since=now, size=size, stable_since=now)
            log.info("log file changed under its offset: settling", path=str(gen.path),
                     offset=r.offset, size=size)
            resolved = retry and self._resolve(gen, size, now)
            return self._advance(gen, now, retry=False) if resolved else None
        data = buf[ctx_len:]
        final = (
            gen.gone_at is not None
            and now - gen.grew_at >= self._drain
            and lo + len(buf) >= size
        )
        cut = len(data) if final else data.rfind(b"\n") + 1
        if cut == 0 and len(data) >= self._max_chunk:
            cut = len(data)  # one line longer than a chunk: pass it on, the parser truncates it
        if cut == 0 and gen.emitted and not gen.restart:
            return None
        taken = data[:cut]
        anchor_hash, anchor_len = anchor_of(buf[: ctx_len + cut], r.offset + cut)
        before = replace(r, path=str(gen.path))
        after = replace(
            before, offset=r.offset + cut, line_no=r.line_no + taken.count(b"\n"),
            anchor_hash=anchor_hash, anchor_len=anchor_len, size=size, mtime=st.st_mtime,
            finished=final,
        )
        chunk = Chunk(before, taken, after, restart=gen.restart, final=final,
                      context=buf[:ctx_len])
        gen.read, gen.restart = after, False
        gen.remember(lo, buf[: ctx_len + cut], after.line_no)
        return chunk

    def _check_head(self, gen: _Gen, size: int) -> bool:
        """Verify the head when asked to (new fd) and extend it while the file is small."""
        r = gen.read
        if not gen.check_head and (r.head_len >= HEAD_MAX or size <= r.head_len):
            return True
        head = read_at(gen.fd, min(size, HEAD_MAX), 0)
        if len(head) < r.head_len or digest(head[: r.head_len]) != r.head_hash:
            return False
        gen.check_head = False
        if len(head) > r.head_len:
            gen.read = replace(r, head_hash=digest(head), head_len=len(head))
        return True

    # -- rewrites ------------------------------------------------------------------------------
    def _busy(self, app: str) -> bool:
        """Is Skyline's bin script managing this app's log (restart handshake)?"""
        base = self._dir / f"{app}.log"
        if any(os.path.exists(f"{base}{ext}") for ext in (".lock", ".wait")):
            return True
        try:
            return time.time() - os.stat(f"{base}.last").st_mtime < self._rewrite_max
        except OSError:
            return False

    def _resolve(self, gen: _Gen, size: int, now: float) -> bool:
        """Try to end settling: relocate the committed position. True when reading can go on."""
        s = gen.settle
        assert s is not None
        if size != s.size:
            s.size, s.stable_since = size, now
        forced = now - s.since >= self._rewrite_max
        if not forced and self._busy(gen.app):
            return False
        quiet = forced or now - s.stable_since >= self._settle
        c, r = gen.committed, gen.read
        fd = gen.fd
        if head_matches(fd, c.head_hash, c.head_len) and r.offset <= size and anchor_matches(
                fd, r.offset, r.anchor_hash, r.anchor_len):
            # Everything read is still in place (Skyline's merge puts the old content first):
            # go on with the same parser, nothing is read twice.
            log.info("log file rewrite resolved", path=str(gen.path), how="in place",
                     offset=r.offset, forced=forced)
            self.stats.rewrites_in_place += 1
            gen.settle, gen.check_head = None, False
            return True
        if not head_matches(fd, c.head_hash, c.head_len):
            if not quiet:
                return False
            state, how = _fresh_state(fd, gen.key, gen.path, gen.app, 0), "new content"
            self.stats.new_content += 1
        elif c.offset <= size and anchor_matches(fd, c.offset, c.anchor_hash, c.anchor_len):
            state, how = c, "in place up to the committed offset"
            self.stats.rewrites_in_place += 1
        elif (cut := _agreed_state(gen, c)) is not None:
            # Lines read after `cat log > log.last` (the new agent's first lines) were
            # destroyed by the truncation: go on after the last line still in place.
            state, how = cut, "cut back"
            self.stats.rewrites_cut += 1
        elif not quiet:
            return False  # the whole-file search waits until the file stopped changing
        elif (hit := find_anchor(fd, c.anchor_hash, c.anchor_len)) is not None:
            state, how = replace(c, offset=hit[0], line_no=hit[1]), "moved"
            self.stats.rewrites_moved += 1
        else:
            state, how = _fresh_state(fd, gen.key, gen.path, gen.app, 0), "re-read from start"
            self.stats.rereads += 1
        log.info("log file rewrite resolved", path=str(gen.path), how=how,
                 old_offset=c.offset, offset=state.offset, forced=forced)
        gen.read, gen.restart, gen.settle, gen.check_head = state, True, None, False
        gen.outstanding = None
        gen.tail, gen.tail_end, gen.tail_line = b"", state.offset, state.line_no
        return True

    # -- watchdog ------------------------------------------------------------------------------
    def _ensure_watch(self) -> None:
        if not self._use_watchdog:
            return
        try:
            st = os.stat(self._dir)
        except OSError:
            self._watched = None
            return
        ident = (st.st_dev, st.st_ino)
        if ident == self._watched:
            return
        try:
            if self._observer is None:
                from watchdog.observers import Observer

                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            if self._watch is not None:
                # The old watch may have gone with its directory.
                with contextlib.suppress(Exception):
                    self._observer.unschedule(self._watch)
            self._watch = self._observer.schedule(_Wake(self._wake), str(self._dir))
            self._watched = ident
        except OSError as exc:
            self._problem("watch", f"cannot watch {self._dir} (polling only): {_reason(exc)}")


class _Wake:
    """A watchdog handler that only wakes the poll loop."""

    def __init__(self, event: threading.Event):
        self._event = event

    def dispatch(self, _event: Any) -> None:
        self._event.set()


def _agreed_state(gen: _Gen, c: FileState) -> FileState | None:
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
    return replace(c, offset=offset, line_no=line_no, anchor_hash=anchor_hash,
                   anchor_len=anchor_len)


def _dev_ino(state: FileState) -> tuple[int, int]:
    return state.dev, state.inode


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _last_line_end(fd: int, size: int) -> int:
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


def _fresh_state(fd: int, key: str, path: Path, app: str, offset: int) -> FileState:
    st = os.fstat(fd)
    head = read_at(fd, HEAD_MAX, 0)
    lo = max(0, offset - ANCHOR_MAX)
    anchor_hash, anchor_len = anchor_of(read_at(fd, offset - lo, lo), offset)
    return FileState(
        key=key, path=str(path), app=app, dev=st.st_dev, inode=st.st_ino,
        head_hash=digest(head), head_len=len(head), offset=offset,
        line_no=count_lines(fd, offset), anchor_hash=anchor_hash, anchor_len=anchor_len,
        size=st.st_size, mtime=st.st_mtime,
    )
