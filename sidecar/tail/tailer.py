"""Follow Skyline's app logs through rotation, restarts and rewrites, without losing a line.

What Skyline does to its logs (see shared/skyline/log-lines-analyzer-mirage.md §8):

* restart: ``cat log > log.last``; python-daemon truncates ``log``; the new process writes;
  ``cat log.last log > log.new; cat log.new > log`` rewrites the SAME inode with the old content
  in front, while ``<app>.log.lock`` / ``.wait`` exist. If the handshake fails, ``log`` keeps only
  the new lines and the old ones stay in ``log.last``;
* midnight: every process renames ``<app>.log`` to ``<app>.log.YYYY-MM-DD`` on its own first
  record after midnight (removing an existing one first), so writers go on appending to
  yesterday's file, and a rotated file can be deleted while it is still written.

How the tailer copes, one module per job:

* ``scan``: every poll lists the directory (``names`` says which files are followed) and
  fstats every open generation, which is what decides; ``watch``: watchdog (inotify) only wakes
  ``wait()``.
* ``generation``: every ``<app>.log`` and ``<app>.log.YYYY-MM-DD`` is followed by (dev, inode)
  through an open fd, whatever its name becomes; a file under no followed name (deleted, moved
  away) is drained and only expired after ``drain_seconds`` without growth. An offset is trusted
  only while its anchor (hash of the bytes before it, see ``fileid``) is still there: it is
  checked with the one pread that reads the new bytes, at every poll. Only whole lines are
  handed out (``chunk``).
* ``recovery``: a shrink or an anchor mismatch starts *settling*, and the committed position is
  relocated once Skyline's log management is done.

This module ties them together: the generations, what is committed, and the problems to report.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sidecar.model import FileState
from sidecar.service.logs import get_logger
from sidecar.tail import recovery
from sidecar.tail.chunk import Chunk
from sidecar.tail.fileid import file_key
from sidecar.tail.generation import Generation, Moved, last_line_end, state_from_fd
from sidecar.tail.names import followed_app
from sidecar.tail.recovery import Recovery
from sidecar.tail.scan import Found, reason, scan
from sidecar.tail.watch import Watcher

__all__ = ["Chunk", "Tailer", "TailerStats", "followed_app"]

log = get_logger("sidecar.tail.tailer")


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

    def resolved(self, how: str) -> None:
        """Count a rewrite resolved ``how`` (one of recovery's outcomes)."""
        if how == recovery.IN_PLACE:
            self.rewrites_in_place += 1
        elif how == recovery.MOVED:
            self.rewrites_moved += 1
        elif how == recovery.CUT:
            self.rewrites_cut += 1
        elif how == recovery.NEW_CONTENT:
            self.new_content += 1
        else:
            self.rereads += 1


class Tailer:
    """Follows the apps' logs in ``log_dir``: hands out chunks of whole lines and learns, by
    ``commit``, what is durable. ``known`` are the states stored by an earlier run."""

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
        wall_clock: Callable[[], float] = time.time,
        rewrite_max_seconds: float = 30.0,
        drain_seconds: float = 300.0,
    ):
        self._dir = Path(log_dir)
        self._apps = tuple(apps)
        known = list(known)
        # Only states of files we follow: backfill's .gz / .last states are none of ours.
        self._known = {
            s.key: s
            for s in known
            if not s.finished and followed_app(Path(s.path).name, self._apps)
        }
        # Apps never tailed before start at the end of their files, like tail -f.
        self._from_end = set() if from_start else set(self._apps) - {s.app for s in known}
        self._settle = settle_seconds
        self._reconcile = reconcile_seconds
        self._max_chunk = max_chunk
        self._clock = clock
        self._drain = drain_seconds
        self._recovery = Recovery(
            self._dir,
            settle_seconds=settle_seconds,
            rewrite_max_seconds=rewrite_max_seconds,
            wall_clock=wall_clock,
        )
        self._scanned = False
        self._gens: dict[str, Generation] = {}
        self._missing: dict[str, float] = {}  # known keys not found, since when
        self._active: set[str] = set()
        self._raised: set[str] = set()
        self._errors: list[str] = []
        self.stats = TailerStats()
        self._wake = threading.Event()
        self._watcher = Watcher(self._dir, self._wake, enabled=use_watchdog)

    # -- public API ----------------------------------------------------------------------------
    def poll(self) -> list[Chunk]:
        """Reconcile with the directory, verify every offset, read what is new (bounded)."""
        now = self._clock()
        self._raised = set()
        self._watcher.ensure(self._problem)
        chunks: list[Chunk] = []
        found = scan(self._dir, self._apps, self._problem)
        if found is not None:
            self._sync(found, now)
            chunks.extend(self._expire_missing(found, now))
            self._scanned = True
        for gen in list(self._gens.values()):
            if gen.outstanding is not None:  # not committed: deliver again from the durable point
                self.stats.redeliveries += 1
                gen.redeliver()
            try:
                chunk = self._advance(gen, now)
            except OSError as exc:
                self._problem(f"read:{gen.key}", f"cannot read {gen.path}: {reason(exc)}")
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
            gen.redeliver()

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
        self._watcher.close()
        for gen in list(self._gens.values()):
            self._close_gen(gen)

    # -- problems ------------------------------------------------------------------------------
    def _problem(self, key: str, message: str) -> None:
        self._raised.add(key)
        if key not in self._active:
            self._active.add(key)
            self._errors.append(message)

    # -- generations ---------------------------------------------------------------------------
    def _sync(self, found: dict[tuple[int, int], Found], now: float) -> None:
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
            self._problem(f"open:{path}", f"cannot read {path}: {reason(exc)}")
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
                start = last_line_end(fd, st.st_size) if self._tails_from_end(app) else 0
                state = state_from_fd(fd, key, path, app, start)
        except OSError as exc:
            os.close(fd)
            self._problem(f"open:{path}", f"cannot read {path}: {reason(exc)}")
            return
        self._gens[key] = Generation(
            key,
            app,
            path,
            fd,
            read=state,
            committed=state,
            emitted=known is not None,
            size=st.st_size,
            grew_at=now,
        )
        self.stats.generations_opened += 1
        log.info(
            "following log file",
            path=str(path),
            key=key,
            offset=state.offset,
            resumed=known is not None,
        )

    def _tails_from_end(self, app: str) -> bool:
        return not self._scanned and app in self._from_end

    def _expire_missing(self, found: dict[tuple[int, int], Found], now: float) -> list[Chunk]:
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

    def _close_gen(self, gen: Generation) -> None:
        self._gens.pop(gen.key, None)
        gen.close()

    # -- reading -------------------------------------------------------------------------------
    def _advance(self, gen: Generation, now: float, retry: bool = True) -> Chunk | None:
        st = gen.stat(now)
        if gen.settle is not None and not self._resolve(gen, st.st_size, now):
            return None
        try:
            return gen.next_chunk(st, now, max_chunk=self._max_chunk, drain_seconds=self._drain)
        except Moved:
            self._recovery.start(gen, st.st_size, now)
            resolved = retry and self._resolve(gen, st.st_size, now)
            return self._advance(gen, now, retry=False) if resolved else None

    def _resolve(self, gen: Generation, size: int, now: float) -> bool:
        how = self._recovery.resolve(gen, size, now)
        if how is not None:
            self.stats.resolved(how)
        return how is not None


def _dev_ino(state: FileState) -> tuple[int, int]:
    return state.dev, state.inode
