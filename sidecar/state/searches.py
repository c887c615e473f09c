"""Alert threads looked for in Slack (a Skyline cluster, sidecar.slack.finder): one row per
alert key in ``thread_searches``; a miss is cached so a burst of events does not repeat it."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sidecar.model import SearchState, Thread
from sidecar.state.db import Part


class SearchRequest(Protocol):
    """What the planner asks to be looked for (``sidecar.slack.threads.ThreadSearch``)."""

    @property
    def metric(self) -> str: ...
    @property
    def anomaly_timestamp(self) -> int: ...
    @property
    def channels(self) -> tuple[str, ...]: ...


class Searches(Part):
    """Owns the ``thread_searches`` table."""

    def _request_search(self, search: SearchRequest, now: float) -> None:
        """Ask for a search; asked again, a cached miss is only marked wanted (the finder
        repeats it once the miss is old enough)."""
        self.db.execute(
            "INSERT INTO thread_searches (metric, anomaly_timestamp, channels, state,"
            " first_requested_at, requested_at, searched_at, calls) VALUES (?,?,?,?,?,?,NULL,0)"
            " ON CONFLICT(metric, anomaly_timestamp) DO UPDATE SET requested_at ="
            " excluded.requested_at",
            (
                search.metric,
                search.anomaly_timestamp,
                json.dumps(list(search.channels)),
                SearchState.PENDING,
                now,
                now,
            ),
        )

    def thread_search(self, metric: str, anomaly_timestamp: int) -> dict[str, Any] | None:
        """The search for this key: {state, searched_at, calls, ...}, or None if never asked."""
        rows = self.rows(
            "SELECT * FROM thread_searches WHERE metric = ? AND anomaly_timestamp = ?",
            [metric, anomaly_timestamp],
        )
        return rows[0] if rows else None

    def due_searches(self, now: float, miss_ttl: float, limit: int = 20) -> list[dict[str, Any]]:
        """Searches to make: asked and never made, or a miss older than ``miss_ttl`` that was
        asked for again since."""
        return self.rows(
            "SELECT * FROM thread_searches WHERE state = ? OR (state = ? AND searched_at <= ?"
            " AND requested_at > searched_at) ORDER BY requested_at LIMIT ?",
            [SearchState.PENDING, SearchState.MISS, now - miss_ttl, limit],
        )

    def search_done(
        self, key: tuple[str, int], found: Thread | None, calls: int, now: float
    ) -> None:
        """A search's outcome and its thread (origin "found"; a thread known meanwhile stays)."""
        with self.transaction():
            if found is not None:
                self.db.execute(
                    "INSERT OR IGNORE INTO threads (metric, anomaly_timestamp, channel, ts,"
                    " alert_event_id, origin, created_at) VALUES (?,?,?,?,?,?,?)",
                    (
                        found.metric,
                        found.anomaly_timestamp,
                        found.channel,
                        found.ts,
                        found.alert_event_id,
                        found.origin,
                        now,
                    ),
                )
                # the events waiting for a thread look again now, in the order Skyline logged
                # them (not after a newer event that finds the thread at once)
                self.db.execute(
                    "UPDATE events SET wait_until = NULL WHERE planned = 0"
                    " AND wait_until IS NOT NULL AND wait_until != ?",
                    (float("inf"),),
                )
            self.db.execute(
                "UPDATE thread_searches SET state = ?, searched_at = ?, calls = calls + ?"
                " WHERE metric = ? AND anomaly_timestamp = ?",
                (SearchState.FOUND if found else SearchState.MISS, now, calls, *key),
            )

    def search_counts(self) -> dict[str, int]:
        """Searches by state, and the Slack calls they made (``calls``)."""
        rows = self.fetch("SELECT state, COUNT(*), SUM(calls) FROM thread_searches GROUP BY state")
        out = {state: n for state, n, _ in rows}
        out["calls"] = sum(c or 0 for _, _, c in rows)
        return out
