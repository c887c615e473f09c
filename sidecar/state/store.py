"""The state database: file offsets, events, the features-profile registry, threads, the outbox.

One SQLite file in WAL mode, written through sqlite-utils. What must change together changes in
one transaction: the events parsed from a batch of lines and the file offset after them; the
actions planned for an event and the event's "planned" mark; a delivery result and the thread it
creates. Kill the process at any instant and the database is at one of those boundaries.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from parsers.events import Event, event_from_dict
from sidecar.service.logs import redact

SCHEMA_VERSION = 1

# Outbox states
PENDING, INFLIGHT, DONE, FAILED = "pending", "inflight", "done", "failed"
# Thread search states (sidecar.slack.finder)
SEARCH_PENDING, SEARCH_FOUND, SEARCH_MISS = "pending", "found", "miss"


class StoreError(Exception):
    """The state database cannot be used (locked, full disk, unreadable): retry later."""


#: what to do about a damaged state database
DAMAGED_HELP = ("move it aside (the daemon stopped) and start again; `skyline-sidecar backfill`"
                " rebuilds threads and offsets from the logs")


def damaged(path: Path | str, exc: BaseException) -> StoreError:
    """One line for a state database SQLite cannot read (damaged pages, not a database)."""
    return StoreError(f"state database {path} is damaged ({exc}): {DAMAGED_HELP}")


#: the sidecar's own files hold thread ids and Slack errors: owner only, whatever the umask
FILE_MODE = 0o600


def _create_private(path: Path) -> None:
    """Create the database file 0600 (SQLite gives its -wal and -shm the same mode).

    Only before SQLite opens it: closing any descriptor of a database file drops every POSIX
    lock this process holds on it, SQLite's included.
    """
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))


def _tighten(path: Path) -> None:
    """chmod the database and its -wal/-shm to 0600 if looser (never opens them)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            st = p.stat()
            if st.st_mode & 0o777 != FILE_MODE and st.st_uid == os.geteuid():
                p.chmod(FILE_MODE)


@dataclass(frozen=True)
class FileState:
    """One generation of a log file and how far it has been read.

    A generation is identified by (device, inode) checked against a hash of its first bytes; the
    anchor is a hash of the bytes just before ``offset``, so the offset can be verified by content.
    """

    key: str
    path: str
    app: str
    dev: int
    inode: int
    head_hash: str
    head_len: int
    offset: int = 0
    line_no: int = 1
    anchor_hash: str = ""
    anchor_len: int = 0
    size: int = 0
    mtime: float = 0.0
    finished: bool = False


@dataclass(frozen=True)
class Thread:
    metric: str
    anomaly_timestamp: int
    channel: str
    ts: str | None
    alert_event_id: str | None
    origin: str  # "posted", "adopted" (Skyline's thread line) or "found" (in Slack)


@dataclass(frozen=True)
class Profile:
    """The features-profile registry row: which alert a features profile belongs to."""

    fp_id: int
    metric: str | None
    anomaly_timestamp: int | None
    parent_fp_id: int | None
    generation: int | None


@dataclass(frozen=True)
class Action:
    """One intended Slack call, derived from one event."""

    id: str
    event_id: str
    action: str  # post_message | post_reply | add_reaction
    channel: str
    thread_metric: str | None = None
    thread_anomaly_timestamp: int | None = None
    text: str | None = None
    reaction: str | None = None
    #: the first channel's alert post anchors the thread of (metric, anomaly_timestamp)
    creates_thread: bool = False
    state: str = PENDING
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    created_at: float = 0.0
    seq: int = 0
    result_ts: str | None = None
    result_channel: str | None = None
    #: an alert with a graph: where to find it (sidecar.slack.graph.GraphSpec as JSON)
    graph: str | None = None
    #: the Slack file being uploaded (recorded before the upload) and when that began
    file_id: str | None = None
    file_at: float | None = None

    @property
    def thread_key(self) -> tuple[str, int] | None:
        if self.thread_metric is None or self.thread_anomaly_timestamp is None:
            return None
        return (self.thread_metric, self.thread_anomaly_timestamp)


def _row_to(cls: type, row: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name in row:
            value = row[f.name]
            kwargs[f.name] = bool(value) if f.type == "bool" and value is not None else value
    return cls(**kwargs)


class Store:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self._migrate()

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        if problem := path_problem(path):
            raise StoreError(f"cannot open state database {path}: {problem}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
            conn = sqlite3.connect(str(path), timeout=5.0)
            db = sqlite_utils.Database(conn)
            db.enable_wal()
            db.execute("PRAGMA synchronous=FULL")
            store = cls(db)
            _tighten(path)  # -wal and -shm exist now
            return store
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreError(f"cannot open state database {path}: {exc}") from exc
            raise damaged(path, exc) from exc
        except OSError as exc:
            raise StoreError(f"cannot open state database {path}: {exc.strerror or exc}"
                             f"{_where(exc)}") from exc

    @classmethod
    def scratch_copy(cls, path: Path | str | None) -> Store:
        """An in-memory copy of the database at ``path`` (if it exists): the dry run's store.

        The same pipeline runs against it, and nothing is ever written to the real file.
        """
        mem = sqlite3.connect(":memory:")
        if path is not None and Path(path).exists():
            try:
                _read_only_copy(Path(path), mem)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreError(f"cannot read state database {path}: {exc}") from exc
                raise damaged(path, exc) from exc
        try:
            return cls(sqlite_utils.Database(mem))
        except sqlite3.DatabaseError as exc:
            raise damaged(path or ":memory:", exc) from exc

    def quick_check(self) -> str | None:
        """SQLite's ``quick_check``: None when the database is sound, else its first finding."""
        try:
            rows = self.db.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        found = [line for r in rows if r[0] != "ok" for line in str(r[0]).splitlines()
                 if not line.startswith("***")]
        if not found:
            return None
        return found[0] + (f" (and {len(found) - 1} more findings)" if len(found) > 1 else "")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except sqlite3.OperationalError as exc:
            raise StoreError(f"state database: {exc}") from exc

    @contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """``synchronous=NORMAL`` for a bulk load that can be repeated (backfill): in WAL mode
        a crash still leaves a consistent database, only the newest commits may be lost."""
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def _migrate(self) -> None:
        db = self.db
        with db.atomic():
            db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            db["files"].create(
                {f.name: _sql_type(f.type) for f in fields(FileState)},
                pk="key", if_not_exists=True,
            )
            db["events"].create(
                {
                    "id": str, "kind": str, "app": str, "metric": str,
                    "anomaly_timestamp": int, "logged_at": str, "pid": int, "data": str,
                    "source_path": str, "source_line": int, "ingested_at": float,
                    "planned": int, "wait_until": float, "seq": int,
                },
                pk="id", if_not_exists=True,
            )
            db["fps"].create(
                {f.name: _sql_type(f.type) for f in fields(Profile)},
                pk="fp_id", if_not_exists=True,
            )
            db["threads"].create(
                {f.name: _sql_type(f.type) for f in fields(Thread)} | {"created_at": float},
                pk=("metric", "anomaly_timestamp"), if_not_exists=True,
            )
            db["outbox"].create(
                {f.name: _sql_type(f.type) for f in fields(Action)},
                pk="id", if_not_exists=True,
            )
            db["errors"].create(
                {"at": float, "scope": str, "message": str}, if_not_exists=True
            )
            # Additive schema changes: columns new since the table was created.
            have = set(db["outbox"].columns_dict)
            for f in fields(Action):
                if f.name not in have:
                    db["outbox"].add_column(f.name, _sql_type(f.type))
            # What is wrong now (one row per scope, since when); `errors` keeps the history.
            db["problems"].create({"scope": str, "message": str, "since": float, "at": float},
                                  pk="scope", if_not_exists=True)
            # Slack's channel list (name -> id), as conversations.list last gave it.
            db["channels"].create({"name": str, "id": str, "listed_at": float}, pk="name",
                                  if_not_exists=True)
            # Alert threads looked for in Slack (a cluster): one row per key; a miss is cached.
            db["thread_searches"].create(
                {"metric": str, "anomaly_timestamp": int, "channels": str, "state": str,
                 "first_requested_at": float, "requested_at": float, "searched_at": float,
                 "calls": int},
                pk=("metric", "anomaly_timestamp"), if_not_exists=True,
            )
            db.execute(
                "CREATE INDEX IF NOT EXISTS events_unplanned ON events(planned, seq)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS events_kind_metric ON events(kind, metric)")
            db.execute("CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq)")
            # the metrics' "delivered during the interval" (mark_done stamps next_attempt_at)
            db.execute(
                "CREATE INDEX IF NOT EXISTS outbox_done_at ON outbox(state, next_attempt_at)"
            )
            db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")

    # -- files and events ----------------------------------------------------------------------
    def files(self) -> list[FileState]:
        return [_row_to(FileState, r) for r in self.db["files"].rows]

    def ingest(self, events: Sequence[Event], state: FileState | None) -> int:
        """Store events (each once, by id) and the file offset after them, atomically.

        Returns how many events were new.
        """
        now = time.time()
        with self.transaction():
            new = self._insert_events(events, now)
            if state is not None:
                self.db["files"].upsert(asdict(state), pk="key")
        return new

    def save_file(self, state: FileState) -> None:
        with self.transaction():
            self.db["files"].upsert(asdict(state), pk="key")

    def _insert_events(self, events: Iterable[Event], now: float) -> int:
        new = 0
        seq = self._next_seq("events")
        for ev in events:
            data = ev.to_dict()
            src = ev.source
            cur = self.db.execute(
                "INSERT OR IGNORE INTO events (id, kind, app, metric, anomaly_timestamp,"
                " logged_at, pid, data, source_path, source_line, ingested_at, planned,"
                " wait_until, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,0,NULL,?)",
                (
                    ev.event_id, ev.kind, ev.app, data.get("metric"),
                    data.get("anomaly_timestamp"), data["logged_at"], ev.pid,
                    json.dumps(data, sort_keys=True), src.path if src else None,
                    src.line if src else None, now, seq,
                ),
            )
            if cur.rowcount:
                new += 1
                seq += 1
        return new

    def kinds(self, after_seq: int = 0) -> dict[str, int]:
        """How many events of each kind are stored (after ``after_seq``)."""
        # `planned IN (0, 1)` (always true) lets SQLite seek events_unplanned(planned, seq)
        # instead of scanning every event: the metrics ask this each interval.
        rows = self.db.execute(
            "SELECT kind, COUNT(*) FROM events WHERE planned IN (0, 1) AND seq > ?"
            " GROUP BY kind ORDER BY kind",
            (after_seq,),
        )
        return dict(rows.fetchall())

    def last_seq(self) -> int:
        """The sequence number of the newest stored event (0 when none)."""
        return self._next_seq("events") - 1

    def _next_seq(self, table: str) -> int:
        row = self.db.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()
        return int(row[0])

    def event(self, event_id: str) -> Event | None:
        row = self.db.execute("SELECT data FROM events WHERE id = ?", (event_id,)).fetchone()
        return event_from_dict(json.loads(row[0])) if row else None

    def events(self, kind: str | None = None) -> list[Event]:
        sql, args = "SELECT data FROM events", ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        rows = self.db.execute(sql + " ORDER BY seq", args)
        return [event_from_dict(json.loads(r[0])) for r in rows]

    def logged_times(self, kind: str, metric: str, anomaly_timestamp: int) -> list[datetime]:
        """When events of ``kind`` about this anomaly were logged."""
        rows = self.db.execute(
            "SELECT logged_at FROM events WHERE kind = ? AND metric = ? AND anomaly_timestamp = ?",
            (kind, metric, anomaly_timestamp),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    def muted_times(self, app: str, metric: str) -> list[datetime]:
        """When ``app`` logged ``metric`` as muted (``alert_muted`` events)."""
        rows = self.db.execute(
            "SELECT logged_at FROM events WHERE kind = 'alert_muted' AND app = ? AND metric = ?",
            (app, metric),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    def unplanned(self, now: float, limit: int = 500,
                  after_seq: int = 0) -> list[tuple[Event, float]]:
        """Events not yet turned into actions whose wait (if any) is over, oldest first."""
        rows = self.db.execute(
            "SELECT data, ingested_at FROM events WHERE planned = 0 AND seq > ?"
            " AND (wait_until IS NULL OR wait_until <= ?) ORDER BY seq LIMIT ?",
            (after_seq, now, limit),
        ).fetchall()
        return [(event_from_dict(json.loads(d)), at) for d, at in rows]

    # -- registry and threads --------------------------------------------------------------------
    def profile(self, fp_id: int) -> Profile | None:
        rows = list(self.db.query("SELECT * FROM fps WHERE fp_id = ?", [fp_id]))
        return _row_to(Profile, rows[0]) if rows else None

    def thread(self, metric: str, anomaly_timestamp: int) -> Thread | None:
        rows = list(self.db.query(
            "SELECT * FROM threads WHERE metric = ? AND anomaly_timestamp = ?",
            [metric, anomaly_timestamp],
        ))
        return _row_to(Thread, rows[0]) if rows else None

    def threads_between(self, start: int, end: int) -> list[Thread]:
        """The threads of anomalies from ``start`` to ``end`` (inclusive), oldest first."""
        rows = self.db.query(
            "SELECT * FROM threads WHERE anomaly_timestamp BETWEEN ? AND ?"
            " ORDER BY anomaly_timestamp, metric", [start, end],
        )
        return [_row_to(Thread, r) for r in rows]

    # -- planning ---------------------------------------------------------------------------------
    def record_plan(
        self,
        event_id: str,
        actions: Sequence[Action],
        *,
        profiles: Sequence[Profile] = (),
        threads: Sequence[Thread] = (),
        wait_until: float | None = None,
        searches: Sequence[Any] = (),
    ) -> None:
        """Store what planning one event decided, atomically.

        ``wait_until`` set means: not planned yet, look again then (a lifecycle event waiting
        for its alert's thread). Otherwise the event is marked planned.
        """
        now = time.time()
        with self.transaction():
            for p in profiles:
                self._merge_profile(p)
            for t in threads:
                self.db.execute(
                    "INSERT OR IGNORE INTO threads (metric, anomaly_timestamp, channel, ts,"
                    " alert_event_id, origin, created_at) VALUES (?,?,?,?,?,?,?)",
                    (t.metric, t.anomaly_timestamp, t.channel, t.ts, t.alert_event_id,
                     t.origin, now),
                )
            for search in searches:
                self._request_search(search, now)
            seq = self._next_seq("outbox")
            for i, a in enumerate(actions):
                row = asdict(a) | {"created_at": now, "seq": seq + i, "state": PENDING}
                self.db["outbox"].insert(row, pk="id", ignore=True)
            if wait_until is None:
                self.db.execute(
                    "UPDATE events SET planned = 1, wait_until = NULL WHERE id = ?", (event_id,)
                )
            else:
                self.db.execute(
                    "UPDATE events SET wait_until = ? WHERE id = ?", (wait_until, event_id)
                )

    # -- threads found in Slack (sidecar.slack.finder) --------------------------------------------
    def _request_search(self, search: Any, now: float) -> None:
        """Ask for a search (``sidecar.slack.threads.ThreadSearch``); asked again, a cached
        miss is only marked wanted (the finder repeats it once the miss is old enough)."""
        self.db.execute(
            "INSERT INTO thread_searches (metric, anomaly_timestamp, channels, state,"
            " first_requested_at, requested_at, searched_at, calls) VALUES (?,?,?,?,?,?,NULL,0)"
            " ON CONFLICT(metric, anomaly_timestamp) DO UPDATE SET requested_at ="
            " excluded.requested_at",
            (search.metric, search.anomaly_timestamp, json.dumps(list(search.channels)),
             SEARCH_PENDING, now, now),
        )

    def thread_search(self, metric: str, anomaly_timestamp: int) -> dict[str, Any] | None:
        """The search for this key: {state, searched_at, calls, ...}, or None if never asked."""
        rows = list(self.db.query(
            "SELECT * FROM thread_searches WHERE metric = ? AND anomaly_timestamp = ?",
            [metric, anomaly_timestamp]))
        return rows[0] if rows else None

    def due_searches(self, now: float, miss_ttl: float, limit: int = 20) -> list[dict[str, Any]]:
        """Searches to make: asked and never made, or a miss older than ``miss_ttl`` that was
        asked for again since."""
        return list(self.db.query(
            "SELECT * FROM thread_searches WHERE state = ? OR (state = ? AND searched_at <= ?"
            " AND requested_at > searched_at) ORDER BY requested_at LIMIT ?",
            [SEARCH_PENDING, SEARCH_MISS, now - miss_ttl, limit]))

    def search_done(self, key: tuple[str, int], found: Thread | None, calls: int,
                    now: float) -> None:
        """A search's outcome and its thread (origin "found"; a thread known meanwhile stays)."""
        with self.transaction():
            if found is not None:
                self.db.execute(
                    "INSERT OR IGNORE INTO threads (metric, anomaly_timestamp, channel, ts,"
                    " alert_event_id, origin, created_at) VALUES (?,?,?,?,?,?,?)",
                    (found.metric, found.anomaly_timestamp, found.channel, found.ts,
                     found.alert_event_id, found.origin, now))
                # the events waiting for a thread look again now, in the order Skyline logged
                # them (not after a newer event that finds the thread at once)
                self.db.execute("UPDATE events SET wait_until = NULL WHERE planned = 0"
                                " AND wait_until IS NOT NULL AND wait_until != ?",
                                (float("inf"),))
            self.db.execute(
                "UPDATE thread_searches SET state = ?, searched_at = ?, calls = calls + ?"
                " WHERE metric = ? AND anomaly_timestamp = ?",
                (SEARCH_FOUND if found else SEARCH_MISS, now, calls, *key))

    def search_counts(self) -> dict[str, int]:
        """Searches by state, and the Slack calls they made (``calls``)."""
        rows = self.db.execute(
            "SELECT state, COUNT(*), SUM(calls) FROM thread_searches GROUP BY state").fetchall()
        out = {state: n for state, n, _ in rows}
        out["calls"] = sum(c or 0 for _, _, c in rows)
        return out

    def _merge_profile(self, p: Profile) -> None:
        """Known facts are never overwritten by unknown ones (None)."""
        old = self.profile(p.fp_id)
        if old is not None:
            p = Profile(**{
                f.name: getattr(p, f.name) if getattr(p, f.name) is not None
                else getattr(old, f.name)
                for f in fields(Profile)
            })
        self.db["fps"].upsert(asdict(p), pk="fp_id")

    # -- delivery ---------------------------------------------------------------------------------
    def due_actions(self, now: float, limit: int = 100) -> list[Action]:
        rows = self.db.query(
            "SELECT * FROM outbox WHERE state IN (?, ?) AND next_attempt_at <= ?"
            " ORDER BY seq LIMIT ?",
            [PENDING, INFLIGHT, now, limit],
        )
        return [_row_to(Action, r) for r in rows]

    def action(self, action_id: str) -> Action | None:
        rows = list(self.db.query("SELECT * FROM outbox WHERE id = ?", [action_id]))
        return _row_to(Action, rows[0]) if rows else None

    def actions(self, state: str | None = None) -> list[Action]:
        sql, args = "SELECT * FROM outbox", []
        if state is not None:
            sql, args = sql + " WHERE state = ?", [state]
        return [_row_to(Action, r) for r in self.db.query(sql + " ORDER BY seq", args)]

    def mark_inflight(self, action: Action) -> Action:
        """Committed BEFORE the Slack call: after a crash we know the call may have happened."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ?",
                (INFLIGHT, action.id),
            )
        return _replace(action, state=INFLIGHT, attempts=action.attempts + 1)

    def set_file(self, action: Action, file_id: str | None, at: float | None) -> None:
        """Committed before the file is uploaded: after a crash, files.info tells whether
        Slack completed it (wait for its share) or not (upload afresh)."""
        with self.transaction():
            self.db.execute("UPDATE outbox SET file_id = ?, file_at = ? WHERE id = ?",
                            (file_id, at, action.id))

    def mark_done(self, action: Action, channel_id: str | None, ts: str | None,
                  *, origin: str = "posted") -> None:
        now = time.time()
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, result_channel = ?, result_ts = ?, last_error = NULL,"
                " next_attempt_at = ? WHERE id = ?",
                (DONE, channel_id, ts, now, action.id),
            )
            key = action.thread_key
            if action.creates_thread and key is not None and ts is not None:
                # Anchor (or re-anchor) the alert's thread on what Slack answered.
                self.db.execute(
                    "INSERT INTO threads (metric, anomaly_timestamp, channel, ts, alert_event_id,"
                    " origin, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(metric,"
                    " anomaly_timestamp) DO UPDATE SET channel = excluded.channel,"
                    " ts = excluded.ts, origin = CASE WHEN excluded.origin = 'found'"
                    " THEN 'found' ELSE threads.origin END",
                    (key[0], key[1], channel_id or action.channel, ts, action.event_id,
                     origin, now),
                )

    def mark_retry(self, action: Action, next_attempt_at: float, error: str,
                   *, state: str = PENDING) -> None:
        error = redact(error)
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (state, next_attempt_at, error, action.id),
            )

    def mark_failed(self, action: Action, error: str) -> None:
        error = redact(error)
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (FAILED, error, time.time(), action.id),
            )

    def reanchor_thread(self, key: tuple[str, int], channel: str, ts: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE threads SET channel = ?, ts = ? WHERE metric = ? AND anomaly_timestamp = ?",
                (channel, ts, key[0], key[1]),
            )

    # -- channels --------------------------------------------------------------------------------
    def channels(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, id FROM channels").fetchall())

    def save_channels(self, names: dict[str, str]) -> None:
        """Replace the cached channel list with Slack's current one."""
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM channels")
            self.db["channels"].insert_all(
                ({"name": n, "id": cid, "listed_at": now} for n, cid in names.items()),
                pk="name", replace=True,
            )

    # -- health ---------------------------------------------------------------------------------
    def record_error(self, scope: str, message: str) -> None:
        """Record a problem of ``scope`` (history, and current until `clear_problem`)."""
        now, message = time.time(), redact(message)
        with self.transaction():
            self.db["errors"].insert({"at": now, "scope": scope, "message": message})
            self.db.execute(
                "INSERT INTO problems (scope, message, since, at) VALUES (?,?,?,?)"
                " ON CONFLICT(scope) DO UPDATE SET message = excluded.message, at = excluded.at",
                (scope, message, now, now),
            )
            self.db.execute(
                "DELETE FROM errors WHERE rowid NOT IN"
                " (SELECT rowid FROM errors ORDER BY at DESC LIMIT 100)"
            )

    def delivered_since(self, since: float) -> list[tuple[str, float]]:
        """(action kind, seconds from its event's ingestion to Slack's answer) for each action
        delivered after ``since`` (``mark_done`` stamps ``next_attempt_at`` with that moment).
        An alert delivered as a file (it kept its file id) is an ``upload``."""
        rows = self.db.execute(
            "SELECT CASE WHEN o.file_id IS NULL THEN o.action ELSE 'upload' END,"
            " o.next_attempt_at - e.ingested_at FROM outbox o"
            " JOIN events e ON e.id = o.event_id WHERE o.state = ? AND o.next_attempt_at > ?",
            (DONE, since),
        )
        return [(action, float(seconds)) for action, seconds in rows.fetchall()]

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None
    def clear_problem(self, scope: str) -> bool:
        """The problem of ``scope`` is over. Returns whether there was one."""
        with self.transaction():
            return self.db.execute("DELETE FROM problems WHERE scope = ?", (scope,)).rowcount > 0

    def clear_problems(self, prefix: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM problems WHERE scope LIKE ? || '%'", (prefix,))

    def problems(self) -> list[dict[str, Any]]:
        """What is wrong now, oldest first: {scope, message, since, at}."""
        return list(self.db.query("SELECT * FROM problems ORDER BY since"))

    def release_waits(self) -> None:
        """Plan every unplanned event again (at start-up: the configuration may be fixed)."""
        with self.transaction():
            self.db.execute("UPDATE events SET wait_until = NULL WHERE planned = 0")

    def last_error(self) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM errors ORDER BY at DESC LIMIT 1"))
        return rows[0] if rows else None

    def save_pacing(self, pacing: dict[str, Any]) -> None:
        """The deliverer's pace per limiter key, for ``status`` (a separate process) to read."""
        value = json.dumps({"at": time.time(), "keys": pacing}, sort_keys=True)
        with self.transaction():
            self.db["meta"].upsert({"key": "pacing", "value": value}, pk="key")

    def pacing(self) -> dict[str, Any] | None:
        """What :meth:`save_pacing` saved last: ``{"at": unix time, "keys": {...}}``, or None."""
        rows = list(self.db.query("SELECT value FROM meta WHERE key = 'pacing'"))
        return json.loads(rows[0]["value"]) if rows else None

    def counts(self) -> dict[str, Any]:
        q = self.db.execute
        by_state = dict(q("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        oldest = q(
            "SELECT MIN(created_at) FROM outbox WHERE state IN (?, ?)", (PENDING, INFLIGHT)
        ).fetchone()[0]
        return {
            "events": q("SELECT COUNT(*) FROM events").fetchone()[0],
            "events_waiting": q("SELECT COUNT(*) FROM events WHERE planned = 0").fetchone()[0],
            "threads": q("SELECT COUNT(*) FROM threads").fetchone()[0],
            "outbox": by_state,
            "outbox_pending": by_state.get(PENDING, 0) + by_state.get(INFLIGHT, 0),
            "oldest_pending_at": oldest,
        }


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if exc.filename else ""


def path_problem(path: Path | str) -> str | None:
    """Why a state file cannot be made at ``path`` (a parent is a file), or None."""
    for parent in Path(path).absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a directory"
    return None


def _read_only_copy(path: Path, into: sqlite3.Connection) -> None:
    """Copy the database at ``path`` into ``into`` without creating or changing anything
    beside it. With a -wal file (the daemon running, or stopped uncleanly) it is read through
    SQLite's read-only mode, which sees the newest commits; otherwise, or if that cannot be
    done (a directory this user cannot write), as an immutable file."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}"
    modes = ["?mode=ro", "?immutable=1"] if Path(f"{path}-wal").exists() else ["?immutable=1"]
    for i, mode in enumerate(modes):
        try:
            src = sqlite3.connect(uri + mode, uri=True)
            try:
                src.backup(into)
            finally:
                src.close()
            return
        except sqlite3.OperationalError:
            if i == len(modes) - 1:
                raise


def _replace(action: Action, **changes: Any) -> Action:
    return Action(**(asdict(action) | changes))


def _sql_type(annotation: Any) -> type:
    text = str(annotation)  # annotations are strings here (PEP 563)
    if text.startswith(("int", "bool")):
        return int
    return float if text.startswith("float") else str
