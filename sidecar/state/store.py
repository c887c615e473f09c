"""The state database: file offsets, events, the features-profile registry, threads, the outbox.

One SQLite file in WAL mode. What must change together changes in one transaction: the events
parsed from a batch of lines and the file offset after them; the actions planned for an event
and the event's "planned" mark; a delivery result and the thread it creates. Kill the process at
any instant and the database is at one of those boundaries.

:class:`Store` is a small facade on purpose: each concern is a part of its own module over one
shared connection (:mod:`~sidecar.state.files`, :mod:`~sidecar.state.events`,
:mod:`~sidecar.state.registry`, :mod:`~sidecar.state.outbox`, :mod:`~sidecar.state.health`),
and the store joins them so a transaction can span them and callers hold one object. It only
opens, migrates (:mod:`~sidecar.state.schema`) and closes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from sidecar.state import schema
from sidecar.state.db import (
    FatalStoreError,
    StoreError,
    classify,
    connect,
    damaged,
    path_problem,
    read_only_copy,
    tighten,
)
from sidecar.state.health import Health
from sidecar.state.outbox import Outbox


class Store(Outbox, Health):
    """The state database, migrated to this release's schema on opening."""

    def __init__(self, db: sqlite_utils.Database, path: Path | str = ":memory:"):
        self.db, self.path = db, path
        self._migrate()

    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        if problem := path_problem(path):
            raise StoreError(f"cannot open state database {path}: {problem}")
        try:
            store = cls(connect(path), path)
            tighten(path)  # -wal and -shm exist now
            return store
        except sqlite3.Error as exc:
            error = classify(exc, path)
            if isinstance(error, StoreError):
                raise StoreError(f"cannot open state database {path}: {exc}") from exc
            raise error from exc
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise StoreError(
                f"cannot open state database {path}: {exc.strerror or exc}{where}"
            ) from exc

    @classmethod
    def scratch_copy(cls, path: Path | str | None) -> Store:
        """An in-memory copy of the database at ``path`` (if it exists): the dry run's store.

        The same pipeline runs against it, and nothing is ever written to the real file.
        """
        mem = sqlite3.connect(":memory:")
        if path is not None and Path(path).exists():
            try:
                read_only_copy(Path(path), mem)
            except sqlite3.Error as exc:
                error = classify(exc, path)
                if isinstance(error, StoreError):
                    raise StoreError(f"cannot read state database {path}: {exc}") from exc
                raise error from exc
        return cls(sqlite_utils.Database(mem), path or ":memory:")

    def _migrate(self) -> None:
        """Bring the database to this release's schema, all in one transaction."""
        with self.transaction():
            try:
                steps = schema.pending(schema.version(self.db.conn))
            except schema.UnknownSchema as exc:
                raise FatalStoreError(f"cannot use state database {self.path}: {exc}") from None
            schema.apply(self.db.conn, steps)

    def quick_check(self) -> str | None:
        """SQLite's ``quick_check``: None when the database is sound, else its first finding."""
        try:
            rows = self.db.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        found = [
            line
            for r in rows
            if r[0] != "ok"
            for line in str(r[0]).splitlines()
            if not line.startswith("***")
        ]
        if not found:
            return None
        return found[0] + (f" (and {len(found) - 1} more findings)" if len(found) > 1 else "")

    @contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """``synchronous=NORMAL`` for a bulk load that can be repeated (backfill): in WAL mode
        a crash still leaves a consistent database, only the newest commits may be lost."""
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        self.db.close()


__all__ = ["FatalStoreError", "Store", "StoreError", "damaged"]
