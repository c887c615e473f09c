"""What reading a log hands out, and the one computation of a file state over bytes.

A ``Chunk`` is whole lines of one file generation with the states before and after them; the
tailer and backfill build it with ``take`` and the ingestor commits ``durable_state``, which may
lie inside the chunk while the parser holds a record back. The parser seam (``Parser``,
``ParserFactory``) lives here because ``durable_state`` is where the reader meets the parser.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from parsers.events import Event
from sidecar.model import FileState
from sidecar.tail.fileid import ANCHOR_MAX, anchor_of, digest

__all__ = [
    "Chunk",
    "Parser",
    "ParserFactory",
    "advanced",
    "default_parser_factory",
    "durable_state",
    "fresh_state",
    "take",
]


def advanced(
    before: FileState,
    context: bytes,
    data: bytes,
    cut: int,
    *,
    onto: FileState | None = None,
    **changes: Any,
) -> FileState:
    """``before`` moved over ``data[:cut]``: offset, line number and the anchor of the new
    offset (``context``: the bytes before ``before.offset``, up to ANCHOR_MAX). The other
    fields come from ``onto`` (default ``before``) and ``changes`` (size, mtime, finished)."""
    offset = before.offset + cut
    need = min(offset, ANCHOR_MAX)  # only the anchor window is copied, never the whole chunk
    window = data[max(0, cut - need) : cut]
    if len(window) < need:
        window = context[max(0, len(context) - (need - len(window))) :] + window
    anchor_hash, anchor_len = anchor_of(window, offset)
    return replace(
        onto or before,
        offset=offset,
        line_no=before.line_no + data.count(b"\n", 0, cut),
        anchor_hash=anchor_hash,
        anchor_len=anchor_len,
        **changes,
    )


def fresh_state(
    key: str,
    path: str,
    app: str,
    st: os.stat_result,
    head: bytes,
    offset: int = 0,
    line_no: int = 1,
    window: bytes = b"",
) -> FileState:
    """The state of a generation nobody read before, positioned at ``offset`` (on line
    ``line_no``, after the bytes ``window``), identified by ``st`` and its (decompressed)
    ``head``."""
    anchor_hash, anchor_len = anchor_of(window, offset)
    return FileState(
        key=key,
        path=path,
        app=app,
        dev=st.st_dev,
        inode=st.st_ino,
        head_hash=digest(head),
        head_len=len(head),
        offset=offset,
        line_no=line_no,
        anchor_hash=anchor_hash,
        anchor_len=anchor_len,
        size=st.st_size,
        mtime=st.st_mtime,
    )


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
        return advanced(self.before, self.context, self.data, rel, onto=self.after, finished=False)


def take(
    before: FileState,
    context: bytes,
    data: bytes,
    cut: int,
    *,
    restart: bool,
    final: bool,
    **changes: Any,
) -> Chunk:
    """The chunk of ``data[:cut]`` read at ``before`` (``context``: the bytes before it)."""
    after = advanced(before, context, data, cut, finished=final, **changes)
    return Chunk(before, data[:cut], after, restart=restart, final=final, context=context)


class Parser(Protocol):
    def feed(self, data: bytes) -> list[Event]: ...

    def finish(self) -> list[Event]: ...


#: (app, path, offset, line_no) -> a parser whose input starts at that offset
ParserFactory = Callable[[str, str, int, int], Parser]


def default_parser_factory(app: str, path: str, offset: int, line_no: int) -> Parser:
    from parsers import LogParser

    return LogParser(app, path, offset=offset, line_no=line_no)


def durable_state(chunk: Chunk, parser: Parser, previous: FileState) -> FileState:
    """The state to commit once the events ``parser`` returned for ``chunk`` are stored: the
    chunk's end, or the parser's ``safe_offset`` while it holds a record back (``previous``,
    the last committed state, when that lies before this chunk)."""
    if chunk.final:
        return chunk.after
    safe = getattr(parser, "safe_offset", None)
    if safe is None or safe >= chunk.after.offset:
        return chunk.after
    state = chunk.state_at(safe)
    return state if state is not None else previous
