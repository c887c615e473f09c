"""What the sidecar knows about Slack and Skyline beyond events: the features-profile registry
(``fps``), the alerts' threads, and Slack's channel list."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, fields

from sidecar.model import Origin, Profile, Thread
from sidecar.state.rows import from_row
from sidecar.state.searches import Searches


class Registry(Searches):
    """Owns the ``fps``, ``threads`` and ``channels`` tables."""

    # -- features profiles ------------------------------------------------------------------
    def profile(self, fp_id: int) -> Profile | None:
        rows = self.rows("SELECT * FROM fps WHERE fp_id = ?", [fp_id])
        return from_row(Profile, rows[0]) if rows else None

    def _merge_profiles(self, profiles: Sequence[Profile]) -> None:
        """Known facts are never overwritten by unknown ones (None)."""
        for p in profiles:
            old = self.profile(p.fp_id)
            if old is not None:
                p = Profile(
                    **{
                        f.name: getattr(p, f.name)
                        if getattr(p, f.name) is not None
                        else getattr(old, f.name)
                        for f in fields(Profile)
                    }
                )
            self.db.table("fps").upsert(asdict(p), pk="fp_id")

    # -- threads ----------------------------------------------------------------------------
    def thread(self, metric: str, anomaly_timestamp: int) -> Thread | None:
        rows = self.rows(
            "SELECT * FROM threads WHERE metric = ? AND anomaly_timestamp = ?",
            [metric, anomaly_timestamp],
        )
        return from_row(Thread, rows[0]) if rows else None

    def threads_between(self, start: int, end: int) -> list[Thread]:
        """The threads of anomalies from ``start`` to ``end`` (inclusive), oldest first."""
        rows = self.rows(
            "SELECT * FROM threads WHERE anomaly_timestamp BETWEEN ? AND ?"
            " ORDER BY anomaly_timestamp, metric",
            [start, end],
        )
        return [from_row(Thread, r) for r in rows]

    def _add_threads(self, threads: Sequence[Thread], now: float) -> None:
        """Threads planned (adopted from Skyline's log): a thread already known stays."""
        for t in threads:
            self.db.execute(
                "INSERT OR IGNORE INTO threads (metric, anomaly_timestamp, channel, ts,"
                " alert_event_id, origin, created_at) VALUES (?,?,?,?,?,?,?)",
                (t.metric, t.anomaly_timestamp, t.channel, t.ts, t.alert_event_id, t.origin, now),
            )

    def _anchor_thread(
        self,
        key: tuple[str, int],
        channel: str,
        ts: str,
        event_id: str,
        now: float,
        origin: Origin = Origin.POSTED,
    ) -> None:
        """Anchor (or re-anchor) an alert's thread on the post Slack answered with (or the
        other host's post it adopted: then the thread is a found one)."""
        self.db.execute(
            "INSERT INTO threads (metric, anomaly_timestamp, channel, ts, alert_event_id,"
            " origin, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(metric,"
            " anomaly_timestamp) DO UPDATE SET channel = excluded.channel, ts = excluded.ts,"
            " origin = CASE WHEN excluded.origin = ? THEN excluded.origin ELSE threads.origin"
            " END",
            (key[0], key[1], channel, ts, event_id, origin, now, Origin.FOUND),
        )

    def reanchor_thread(self, key: tuple[str, int], channel: str, ts: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE threads SET channel = ?, ts = ? WHERE metric = ? AND anomaly_timestamp = ?",
                (channel, ts, key[0], key[1]),
            )

    # -- channels ---------------------------------------------------------------------------
    def channels(self) -> dict[str, str]:
        return dict(self.fetch("SELECT name, id FROM channels"))

    def save_channels(self, names: dict[str, str]) -> None:
        """Replace the cached channel list with Slack's current one."""
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM channels")
            self.db.table("channels").insert_all(
                ({"name": n, "id": cid, "listed_at": now} for n, cid in names.items()),
                pk="name",
                replace=True,
            )
