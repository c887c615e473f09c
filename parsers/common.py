"""What every app's rules share: the selected line, event fields, bounded per-pid state."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import unquote_plus

from parsers.events import Event, Source
from parsers.framing import Record

#: at most this many pids keep correlation state (least recently seen are dropped first)
MAX_PIDS = 1000
#: a held-back event (alert without its detail line, fp without its learn line) is emitted
#: with what is known once the log has moved on this far past it
MAX_PENDING_AGE = timedelta(seconds=120)
#: at most this many lines are held at once per kind of state (the oldest are let go first)
MAX_HELD = 20_000

T = TypeVar("T")


@dataclass
class ParseStats:
    """Counters of one LogParser; the framing ones are copied from its Framer."""

    bytes: int = 0
    lines: int = 0
    records: int = 0
    invalid_utf8_lines: int = 0
    truncated_lines: int = 0
    events: int = 0
    #: the same event seen again through another line (one alert, several lines)
    duplicates: int = 0
    #: a selected line whose prefix time is not a real date
    bad_timestamps: int = 0
    #: an event line whose repr / values could not be read: no event
    bad_values: int = 0
    #: an event marker whose request could not be found (webapp): no event
    unattributed: int = 0
    #: pids whose correlation state was dropped to stay within MAX_PIDS
    evicted_pids: int = 0


class Line(NamedTuple):
    """A selected record with its prefix time parsed (a tuple: made for every selected line)."""

    rec: Record
    at: datetime

    @property
    def pid(self) -> int:
        return self.rec.pid

    @property
    def message(self) -> str:
        return self.rec.message


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where events come from: the app and path every event of one parser carries."""

    app: str
    path: str
    stats: ParseStats

    def fields(self, line: Line) -> dict[str, Any]:
        """The Event base fields for an event read from ``line``."""
        rec = line.rec
        return {
            "app": self.app,
            "logged_at": line.at,
            "pid": rec.pid,
            "message": rec.message,
            "source": Source(self.path, rec.line_no, rec.offset),
        }


class Rules:
    """One app's rules: selected lines in, events out. Subclasses keep bounded state."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx

    def handle(self, line: Line) -> list[Event]:
        raise NotImplementedError

    def finish(self) -> list[Event]:
        """End of input: emit whatever is still held back."""
        return []

    def held_from(self) -> Record | None:
        """The earliest record whose event is still held back (safe_offset stops before it)."""
        return None

    def tracked_pids(self) -> int:
        return 0


def prefix_time(text: str) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` (Skyline's datefmt, agent.py:103) or None if not a real time."""
    try:
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
        )
    except ValueError:
        return None


class PrefixTimes:
    """prefix_time, remembering the last text: a busy log logs many lines in one second."""

    def __init__(self) -> None:
        self._text = ""
        self._at: datetime | None = None

    def __call__(self, text: str) -> datetime | None:
        if text == self._text:
            return self._at
        self._text, self._at = text, prefix_time(text)
        return self._at


def as_int(value: Any) -> int | None:
    """An int from a logged int / float / numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if math.isfinite(number) else None
    return None


def as_float(value: Any) -> float | None:
    """A finite float, or None (nan/inf values are logged but are no value to report)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def url_args(url: str) -> tuple[str, dict[str, str]]:
    """The path and query arguments of a logged request URL (first value of a repeated key),
    decoded as Flask's request.args are (parse_qsl's rules, without its cost per call)."""
    base, _, query = url.partition("#")[0].partition("?")
    scheme_end = base.find("://")
    path = base[base.find("/", scheme_end + 3) :] if scheme_end >= 0 else base
    if scheme_end >= 0 and "/" not in base[scheme_end + 3 :]:
        path = ""
    args: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            key, value = unquote_plus(key), unquote_plus(value)
        args.setdefault(key, value)
    return path, args


class PidTable(Generic[T]):
    """Per-pid state, least recently used first out: memory stays flat however long the log."""

    def __init__(
        self, factory: Callable[[], T], on_evict: Callable[[int, T], None], cap: int = MAX_PIDS
    ):
        self._items: OrderedDict[int, T] = OrderedDict()
        self._factory = factory
        self._on_evict = on_evict
        self._cap = cap

    def __len__(self) -> int:
        return len(self._items)

    def get(self, pid: int) -> T:
        state = self._items.get(pid)
        if state is not None:
            self._items.move_to_end(pid)
            return state
        state = self._items[pid] = self._factory()
        while len(self._items) > self._cap:
            old_pid, old = self._items.popitem(last=False)
            self._on_evict(old_pid, old)
        return state

    def peek(self, pid: int) -> T | None:
        return self._items.get(pid)

    def drop(self, pid: int) -> None:
        self._items.pop(pid, None)

    def items(self) -> Iterator[tuple[int, T]]:
        return iter(list(self._items.items()))


S = TypeVar("S")
H = TypeVar("H")


class PidHeldRules(Rules, Generic[S, H]):
    """Rules that keep per-pid state (``S``) whose lines are held back (items ``H``, with the
    pid) until a later line completes them or ``max_age`` of log time passes; a resumed parser
    re-reads from the earliest held line. Subclasses say what an expired item undoes."""

    def __init__(self, ctx: Ctx, state: Callable[[], S], max_age: timedelta):
        super().__init__(ctx)
        self._pids: PidTable[S] = PidTable(state, self._evicted)
        self._held: AgeQueue[tuple[int, H]] = AgeQueue(max_age)
        self._sweeps = Sweeps(self._held)

    def tracked_pids(self) -> int:
        return len(self._pids)

    def held_from(self) -> Record | None:
        return earliest(self._held)

    def _sweep(self, at: datetime) -> None:
        """Forget what is held for longer than its age (at most once a second of log time)."""
        if self._sweeps.due(at):
            for pid, item in self._held.expired(at):
                self._expired(pid, item)

    def _expired(self, pid: int, item: H) -> None:
        raise NotImplementedError

    def _evicted(self, pid: int, state: S) -> None:
        self.ctx.stats.evicted_pids += 1


class AgeQueue(Generic[T]):
    """Items held for the line that logged them, in log order, until released or older than
    ``max_age`` (log time). The oldest one bounds safe_offset: resuming there re-reads every
    line whose state could still make an event, so a resumed parser makes the same events."""

    def __init__(self, max_age: timedelta = MAX_PENDING_AGE, cap: int = MAX_HELD) -> None:
        self._items: OrderedDict[int, tuple[Line, T]] = OrderedDict()
        self._seq = 0
        self.max_age = max_age
        self.cap = cap
        #: more than ``cap`` items: expired() is due whatever the time
        self.over = False

    def __len__(self) -> int:
        return len(self._items)

    def add(self, line: Line, item: T) -> int:
        self._seq += 1
        # Only the time and place of the line are kept: held lines cost the same whatever
        # their length (up to MAX_LINE), so MAX_HELD of them stay a few MiB.
        place = line.rec._replace(raw=b"", message="", logged_at="")
        self._items[self._seq] = (Line(place, line.at), item)
        if len(self._items) > self.cap:
            self.over = True
        return self._seq

    def discard(self, key: int) -> None:
        self._items.pop(key, None)

    def expired(self, now: datetime) -> list[T]:
        """Pop the items logged more than ``max_age`` before ``now``, and the oldest beyond
        ``cap`` (a flood of lines within max_age must not grow memory without bound)."""
        self.over = False
        if not self._items:
            return []
        out: list[T] = []
        while self._items:
            key, (line, item) = next(iter(self._items.items()))
            if now - line.at <= self.max_age and len(self._items) <= self.cap:
                break
            del self._items[key]
            out.append(item)
        return out

    def first(self) -> Line | None:
        return next(iter(self._items.values()))[0] if self._items else None

    def drain(self) -> list[T]:
        out = [item for _, item in self._items.values()]
        self._items.clear()
        return out


class Sweeps:
    """When to look for expired items: once per second of log time (Skyline's prefix has no
    finer time, so nothing more can have expired) or when a queue went over its cap."""

    def __init__(self, *queues: AgeQueue[Any]) -> None:
        self._queues = queues
        self._at: datetime | None = None

    def due(self, now: datetime) -> bool:
        if now == self._at:
            for queue in self._queues:
                if queue.over:
                    break
            else:
                return False
        self._at = now
        return True


def earliest(*queues: AgeQueue[Any]) -> Record | None:
    """The first record any of the queues still holds."""
    firsts = [line.rec for q in queues if (line := q.first()) is not None]
    return min(firsts, key=lambda rec: rec.offset) if firsts else None


class RecentIds:
    """The last ``cap`` event ids emitted: one anomaly logged through several lines is one event."""

    def __init__(self, cap: int = 4096):
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._cap = cap

    def seen(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        if len(self._ids) > self._cap:
            self._ids.popitem(last=False)
        return False
