"""How the sidecar is doing, for ``status``, ``check`` and the metrics: errors (history and
what is wrong now), small named values (``meta``: the deliverer's pacing, the metrics sender's
status) and the counts of what is stored."""

from __future__ import annotations

import json
import time
from typing import Any

from sidecar.model import INFLIGHT, PENDING
from sidecar.service.logs import redact
from sidecar.state.db import Part

#: how many past errors are kept
ERRORS_KEPT = 100


class Health(Part):
    """Owns the ``errors``, ``problems`` and ``meta`` tables (``meta.schema_version`` belongs
    to :mod:`sidecar.state.schema`)."""

    def record_error(self, scope: str, message: str) -> None:
        """Record a problem of ``scope`` (history, and current until `clear_problem`)."""
        now, message = time.time(), redact(message)
        with self.transaction():
            self.db.execute(
                "INSERT INTO errors (at, scope, message) VALUES (?,?,?)", (now, scope, message)
            )
            self.db.execute(
                "INSERT INTO problems (scope, message, since, at) VALUES (?,?,?,?)"
                " ON CONFLICT(scope) DO UPDATE SET message = excluded.message, at = excluded.at",
                (scope, message, now, now),
            )
            self.db.execute(
                "DELETE FROM errors WHERE rowid NOT IN"
                " (SELECT rowid FROM errors ORDER BY at DESC LIMIT ?)",
                (ERRORS_KEPT,),
            )

    def clear_problem(self, scope: str) -> bool:
        """The problem of ``scope`` is over. Returns whether there was one."""
        with self.transaction():
            return self.db.execute("DELETE FROM problems WHERE scope = ?", (scope,)).rowcount > 0

    def problems(self) -> list[dict[str, Any]]:
        """What is wrong now, oldest first: {scope, message, since, at}."""
        return self.rows("SELECT * FROM problems ORDER BY since")

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str) -> str | None:
        rows = self.fetch("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def save_pacing(self, pacing: dict[str, Any]) -> None:
        """The deliverer's pace per limiter key, for ``status`` (a separate process) to read."""
        self.set_meta("pacing", json.dumps({"at": time.time(), "keys": pacing}, sort_keys=True))

    def pacing(self) -> dict[str, Any] | None:
        """What :meth:`save_pacing` saved last: ``{"at": unix time, "keys": {...}}``, or None."""
        value = self.meta("pacing")
        return json.loads(value) if value is not None else None

    def counts(self) -> dict[str, Any]:
        """How many events, threads and actions (by state) are stored, and the oldest wait."""
        one = self._one
        by_state = dict(self.fetch("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
        return {
            "events": one("SELECT COUNT(*) FROM events"),
            "events_waiting": one("SELECT COUNT(*) FROM events WHERE planned = 0"),
            "threads": one("SELECT COUNT(*) FROM threads"),
            "outbox": by_state,
            "outbox_pending": by_state.get(PENDING, 0) + by_state.get(INFLIGHT, 0),
            "oldest_pending_at": one(
                "SELECT MIN(created_at) FROM outbox WHERE state IN (?, ?)", (PENDING, INFLIGHT)
            ),
        }

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        return self.fetch(sql, args)[0][0]
