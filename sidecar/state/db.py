"""The state database's connection: opening it privately in WAL mode, one transaction per batch,
and what a SQLite error means (retry later, or stop).

Every part of the store (files, events, registry, outbox, health) is a :class:`Part` over the
same connection, so one transaction can span them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

#: the sidecar's own files hold thread ids and Slack errors: owner only, whatever the umask
FILE_MODE = 0o600

#: what to do about a damaged state database
DAMAGED_HELP = (
    "move it aside (the daemon stopped) and start again; `skyline-sidecar backfill`"
    " rebuilds threads and offsets from the logs"
)

#: SQLite primary result codes that pass: another process holds a lock, the disk is full, an
#: I/O error, out of memory. Anything else (a constraint, a missing column, a damaged file)
#: would fail again the same way.
TRANSIENT = {
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
    "SQLITE_CANTOPEN",
}
DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class StoreError(Exception):
    """The state database cannot be used just now (locked, full disk, I/O): retry later."""


class FatalStoreError(Exception):
    """The state database cannot be used by this code (damaged, a newer schema, a constraint
    or schema bug): retrying would fail the same way. Report it in one line and stop."""


def damaged(path: Path | str, exc: BaseException | str) -> FatalStoreError:
    """One line for a state database SQLite cannot read (damaged pages, not a database)."""
    return FatalStoreError(f"state database {path} is damaged ({exc}): {DAMAGED_HELP}")


def primary_code(exc: sqlite3.Error) -> str:
    """SQLite's primary result code name (``SQLITE_IOERR`` for ``SQLITE_IOERR_WRITE``)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    for code in TRANSIENT | DAMAGE:
        if name == code or name.startswith(code + "_"):
            return code
    if name:
        return name
    # Errors raised by the sqlite3 module itself carry no code; "locked" still means locked.
    return "SQLITE_BUSY" if "locked" in str(exc) else "SQLITE_ERROR"


def classify(exc: sqlite3.Error, path: Path | str) -> StoreError | FatalStoreError:
    """What a SQLite error means for the caller: :class:`StoreError` if it may pass."""
    code = primary_code(exc)
    if code in TRANSIENT:
        return StoreError(f"state database {path}: {exc}")
    if code in DAMAGE:
        return damaged(path, exc)
    return FatalStoreError(f"state database {path}: {exc} ({code}); not retried")


class Part:
    """One concern of the store over the shared connection (``db``)."""

    db: sqlite_utils.Database
    path: Path | str

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all; nested blocks join the outer one
        (a savepoint), so a batch is one transaction however many parts it writes."""
        with self.errors(), self.db.atomic():
            yield

    @contextmanager
    def errors(self) -> Iterator[None]:
        """SQLite errors as :class:`StoreError` (retry later) or :class:`FatalStoreError`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise classify(exc, self.path) from exc

    def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """The rows of a query as tuples, read in full (so errors surface here)."""
        with self.errors():
            return self.db.execute(sql, args).fetchall()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of a query as dicts, read in full (so errors surface here)."""
        with self.errors():
            return list(self.db.query(sql, args))


def connect(path: Path) -> sqlite_utils.Database:
    """Open (creating it 0600 if need be) the database at ``path`` in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_private(path)
    db = sqlite_utils.Database(sqlite3.connect(str(path), timeout=5.0))
    db.enable_wal()
    db.execute("PRAGMA synchronous=FULL")
    return db


def path_problem(path: Path | str) -> str | None:
    """Why a state file cannot be made at ``path`` (a parent is a file), or None."""
    for parent in Path(path).absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a directory"
    return None


def _create_private(path: Path) -> None:
    """Create the database file 0600 (SQLite gives its -wal and -shm the same mode).

    Only before SQLite opens it: closing any descriptor of a database file drops every POSIX
    lock this process holds on it, SQLite's included.
    """
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))


def tighten(path: Path) -> None:
    """chmod the database and its -wal/-shm to 0600 if looser (never opens them)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            st = p.stat()
            if st.st_mode & 0o777 != FILE_MODE and st.st_uid == os.geteuid():
                p.chmod(FILE_MODE)


def read_only_copy(path: Path, into: sqlite3.Connection) -> None:
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
