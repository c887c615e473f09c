"""The events parsed from Skyline's logs: stored once each (by id), in order, until planned."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from parsers.events import Event, event_from_dict
from sidecar.model import FileState
from sidecar.state.files import Files


class Events(Files):
    """Owns the ``events`` table. Ingesting writes a batch of events together with the file
    offset after them (the ``files`` table), so it builds on :class:`Files`."""

    def ingest(self, events: Sequence[Event], state: FileState | None) -> int:
        """Store events (each once, by id) and the file offset after them, atomically.

        Returns how many events were new.
        """
        now = time.time()
        with self.transaction():
            new = self._insert_events(events, now)
            if state is not None:
                self._save_file(state)
        return new

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
                    ev.event_id,
                    ev.kind,
                    ev.app,
                    data.get("metric"),
                    data.get("anomaly_timestamp"),
                    data["logged_at"],
                    ev.pid,
                    json.dumps(data, sort_keys=True),
                    src.path if src else None,
                    src.line if src else None,
                    now,
                    seq,
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
        return dict(
            self.fetch(
                "SELECT kind, COUNT(*) FROM events WHERE planned IN (0, 1) AND seq > ?"
                " GROUP BY kind ORDER BY kind",
                (after_seq,),
            )
        )

    def last_seq(self) -> int:
        """The sequence number of the newest stored event (0 when none)."""
        return self._next_seq("events") - 1

    def _next_seq(self, table: str) -> int:
        [(seq,)] = self.fetch(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}")
        return int(seq)

    def event(self, event_id: str) -> Event | None:
        rows = self.fetch("SELECT data FROM events WHERE id = ?", (event_id,))
        return event_from_dict(json.loads(rows[0][0])) if rows else None

    def logged_times(self, kind: str, metric: str, anomaly_timestamp: int) -> list[datetime]:
        """When events of ``kind`` about this anomaly were logged."""
        rows = self.fetch(
            "SELECT logged_at FROM events WHERE kind = ? AND metric = ? AND anomaly_timestamp = ?",
            (kind, metric, anomaly_timestamp),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    def muted_times(self, app: str, metric: str) -> list[datetime]:
        """When ``app`` logged ``metric`` as muted (``alert_muted`` events)."""
        rows = self.fetch(
            "SELECT logged_at FROM events WHERE kind = 'alert_muted' AND app = ? AND metric = ?",
            (app, metric),
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    def unplanned(
        self, now: float, limit: int = 500, after_seq: int = 0
    ) -> list[tuple[Event, float]]:
        """Events not yet turned into actions whose wait (if any) is over, oldest first."""
        rows = self.fetch(
            "SELECT data, ingested_at FROM events WHERE planned = 0 AND seq > ?"
            " AND (wait_until IS NULL OR wait_until <= ?) ORDER BY seq LIMIT ?",
            (after_seq, now, limit),
        )
        return [(event_from_dict(json.loads(d)), at) for d, at in rows]

    def release_waits(self) -> None:
        """Plan every unplanned event again (at start-up: the configuration may be fixed)."""
        with self.transaction():
            self.db.execute("UPDATE events SET wait_until = NULL WHERE planned = 0")
