"""The state database's schema: numbered migrations, applied forward in one transaction.

``meta.schema_version`` says which migrations a database has. Releases before versioning
wrote ``1`` whatever they had, adding tables and columns as they found them missing; so the
steps up to :data:`LEGACY` are idempotent (``IF NOT EXISTS``, a column added only when absent)
and bring any such database to the same schema as a new one. A database newer than this code
is refused: its meaning is unknown here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

#: the last version written by releases before versioned migrations
LEGACY = 1


def _add_columns(table: str, columns: dict[str, str]) -> Callable[[sqlite3.Connection], None]:
    def add(conn: sqlite3.Connection) -> None:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, sql_type in columns.items():
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")

    return add


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    steps: tuple[str | Callable[[sqlite3.Connection], None], ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "files, events, the fps registry, threads, the outbox, errors",
        (
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
            """CREATE TABLE IF NOT EXISTS files (
            key TEXT PRIMARY KEY, path TEXT, app TEXT, dev INTEGER, inode INTEGER,
            head_hash TEXT, head_len INTEGER, "offset" INTEGER, line_no INTEGER,
            anchor_hash TEXT, anchor_len INTEGER, size INTEGER, mtime REAL, finished INTEGER)""",
            """CREATE TABLE IF NOT EXISTS events (
            id TEXT PRIMARY KEY, kind TEXT, app TEXT, metric TEXT, anomaly_timestamp INTEGER,
            logged_at TEXT, pid INTEGER, data TEXT, source_path TEXT, source_line INTEGER,
            ingested_at REAL, planned INTEGER, wait_until REAL, seq INTEGER)""",
            """CREATE TABLE IF NOT EXISTS fps (
            fp_id INTEGER PRIMARY KEY, metric TEXT, anomaly_timestamp INTEGER,
            parent_fp_id INTEGER, generation INTEGER)""",
            """CREATE TABLE IF NOT EXISTS threads (
            metric TEXT, anomaly_timestamp INTEGER, channel TEXT, ts TEXT, alert_event_id TEXT,
            origin TEXT, created_at REAL, PRIMARY KEY (metric, anomaly_timestamp))""",
            """CREATE TABLE IF NOT EXISTS outbox (
            id TEXT PRIMARY KEY, event_id TEXT, action TEXT, channel TEXT, thread_metric TEXT,
            thread_anomaly_timestamp INTEGER, text TEXT, reaction TEXT, creates_thread INTEGER,
            state TEXT, attempts INTEGER, next_attempt_at REAL, last_error TEXT,
            created_at REAL, seq INTEGER, result_ts TEXT, result_channel TEXT)""",
            "CREATE TABLE IF NOT EXISTS errors (at REAL, scope TEXT, message TEXT)",
            "CREATE INDEX IF NOT EXISTS events_unplanned ON events(planned, seq)",
            "CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq)",
        ),
    ),
    Migration(2, "alerts with a graph: outbox.graph", (_add_columns("outbox", {"graph": "TEXT"}),)),
    Migration(
        3,
        "file uploads survive a crash: outbox.file_id, outbox.file_at",
        (_add_columns("outbox", {"file_id": "TEXT", "file_at": "REAL"}),),
    ),
    Migration(
        4,
        "what is wrong now, one row per scope: problems",
        (
            "CREATE TABLE IF NOT EXISTS problems"
            " (scope TEXT PRIMARY KEY, message TEXT, since REAL, at REAL)",
        ),
    ),
    Migration(
        5,
        "Slack's channel list: channels",
        ("CREATE TABLE IF NOT EXISTS channels (name TEXT PRIMARY KEY, id TEXT, listed_at REAL)",),
    ),
    Migration(
        6,
        "indexes for the planner's and the metrics' queries",
        (
            "CREATE INDEX IF NOT EXISTS events_kind_metric ON events(kind, metric)",
            # the metrics' "delivered during the interval" (mark_done stamps next_attempt_at)
            "CREATE INDEX IF NOT EXISTS outbox_done_at ON outbox(state, next_attempt_at)",
        ),
    ),
    Migration(
        7,
        "alert threads looked for in Slack (a cluster): thread_searches",
        (
            """CREATE TABLE IF NOT EXISTS thread_searches (
            metric TEXT, anomaly_timestamp INTEGER, channels TEXT, state TEXT,
            first_requested_at REAL, requested_at REAL, searched_at REAL, calls INTEGER,
            PRIMARY KEY (metric, anomaly_timestamp))""",
        ),
    ),
)

#: the version this code reads and writes
SCHEMA_VERSION = MIGRATIONS[-1].version


class UnknownSchema(Exception):
    """The database was written by a newer release (or its version is unreadable)."""


def version(conn: sqlite3.Connection) -> int:
    """The database's schema version: 0 for an empty database."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return 0
    try:
        return int(row[0])
    except ValueError:
        raise UnknownSchema(f"its schema version {row[0]!r} is not a number") from None


def pending(current: int) -> list[Migration]:
    """The migrations a database at ``current`` still needs (raises :class:`UnknownSchema`)."""
    if current > SCHEMA_VERSION:
        raise UnknownSchema(
            f"its schema version {current} is newer than this release's"
            f" ({SCHEMA_VERSION}): upgrade skyline-slack-sidecar, or move the"
            " database aside"
        )
    return [m for m in MIGRATIONS if m.version > current]


def apply(conn: sqlite3.Connection, migrations: list[Migration]) -> None:
    """Run ``migrations`` and record the new version (the caller holds the transaction)."""
    for migration in migrations:
        for step in migration.steps:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn)
    if migrations:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(migrations[-1].version),),
        )
