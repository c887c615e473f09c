"""The ingest loop: tailer chunks -> one parser per file generation -> events and the file
offset stored in ONE transaction -> the tailer told what is durable.

Exactly-once into the store: an offset is committed together with the events of the bytes
before it, and never past an event the parser still holds back (``parser.safe_offset``: an alert
waiting for its detail line), so a crash at any instant resumes at a point from which re-reading
loses nothing; re-read events have the same ids and are ignored by the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sidecar.model import FileState
from sidecar.service.logs import get_logger
from sidecar.state.store import Store, StoreError
from sidecar.tail.chunk import Chunk, Parser, ParserFactory, default_parser_factory, durable_state
from sidecar.tail.tailer import Tailer

__all__ = ["IngestStats", "Ingestor"]

log = get_logger("sidecar.ingest")


@dataclass
class IngestStats:
    chunks: int = 0
    bytes: int = 0
    #: events the parsers returned / of those, new to the store (the rest: re-reads)
    events_seen: int = 0
    events_new: int = 0
    parsers_started: int = 0
    idle_flushes: int = 0
    store_errors: int = 0


@dataclass
class _Stream:
    """One generation being parsed."""

    parser: Parser
    end: FileState  # the state after the bytes fed so far
    durable: FileState  # the last committed state
    fed_at: float


class Ingestor:
    def __init__(
        self,
        store: Store,
        tailer: Tailer,
        parser_factory: ParserFactory = default_parser_factory,
        *,
        idle_flush_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.tailer = tailer
        self._factory = parser_factory
        self._idle = idle_flush_seconds
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._store_failing = False
        self.stats = IngestStats()

    def run_once(self) -> int:
        """Poll the tailer once and store what it read. Returns the number of new events."""
        for problem in self.tailer.errors():
            log.warning("log tailing problem", problem=problem)
        new = 0
        try:
            for chunk in self.tailer.poll():
                new += self._ingest(chunk)
            new += self._flush_idle()
        except StoreError as exc:
            # Nothing of the failed chunk was committed: the tailer delivers it again.
            self.stats.store_errors += 1
            if not self._store_failing:
                log.error("cannot store events, will retry", error=str(exc))
            self._store_failing = True
            return new
        if self._store_failing:
            log.info("storing events again")
            self._store_failing = False
        return new

    def run(self, stop: threading.Event, *, max_wait: float = 2.0) -> None:
        """Ingest until ``stop`` is set."""
        while not stop.is_set():
            self.run_once()
            if not stop.is_set():
                self.tailer.wait(max_wait)

    def _ingest(self, chunk: Chunk) -> int:
        now = self._clock()
        stream = self._streams.get(chunk.key)
        if chunk.restart or stream is None or stream.end.offset != chunk.before.offset:
            stream = self._start(chunk.before, now)
        events = stream.parser.feed(chunk.data)
        if chunk.final:
            events += stream.parser.finish()
        state = durable_state(chunk, stream.parser, stream.durable)
        try:
            new = self.store.ingest(events, state)
        except StoreError:
            del self._streams[chunk.key]  # its parser has consumed bytes that were not stored
            raise
        self.tailer.commit(chunk if state is chunk.after else replace(chunk, after=state))
        stream.end, stream.durable = chunk.after, state
        if chunk.data:
            stream.fed_at = now
        if chunk.final:
            del self._streams[chunk.key]
        self.stats.chunks += 1
        self.stats.bytes += len(chunk.data)
        self.stats.events_seen += len(events)
        self.stats.events_new += new
        return new

    def _start(self, at: FileState, now: float) -> _Stream:
        parser = self._factory(at.app, at.path, at.offset, at.line_no)
        self.stats.parsers_started += 1
        stream = self._streams[at.key] = _Stream(parser, at, at, now)
        return stream

    def _flush_idle(self) -> int:
        """A generation that stopped growing (yesterday's file once its writers rolled over)
        must not keep an event held back forever: finish its parser and start a new one."""
        now = self._clock()
        new = 0
        for key, stream in list(self._streams.items()):
            if stream.durable.offset >= stream.end.offset or now - stream.fed_at < self._idle:
                continue
            events = stream.parser.finish()
            end = stream.end
            try:
                stored = self.store.ingest(events, end)
            except StoreError:
                del self._streams[key]
                self.tailer.rewind(key)  # the held-back bytes are read again from durable
                raise
            self.tailer.commit(Chunk(end, b"", end, restart=False, final=False))
            self._start(end, now)
            self.stats.idle_flushes += 1
            self.stats.events_seen += len(events)
            self.stats.events_new += stored
            new += stored
        return new
