"""The outbox: every intended Slack call, from planned to done or failed.

What planning one event decided is stored atomically (its actions, the profiles and threads it
learnt, the event's "planned" mark); so is a delivery result and the thread it anchors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, replace

from sidecar.model import (
    DONE,
    FAILED,
    INFLIGHT,
    PENDING,
    Action,
    Origin,
    OutboxState,
    Profile,
    Thread,
)
from sidecar.service.logs import redact
from sidecar.state.events import Events
from sidecar.state.registry import Registry
from sidecar.state.rows import from_row
from sidecar.state.searches import SearchRequest


class Outbox(Events, Registry):
    """Owns the ``outbox`` table; a plan also marks its event (``events``) and records
    profiles and threads (the registry), a delivery anchors its thread."""

    def record_plan(
        self,
        event_id: str,
        actions: Sequence[Action],
        *,
        profiles: Sequence[Profile] = (),
        threads: Sequence[Thread] = (),
        wait_until: float | None = None,
        searches: Sequence[SearchRequest] = (),
    ) -> None:
        """Store what planning one event decided, atomically.

        ``wait_until`` set means: not planned yet, look again then (a lifecycle event waiting
        for its alert's thread). Otherwise the event is marked planned.
        """
        now = time.time()
        with self.transaction():
            self._merge_profiles(profiles)
            self._add_threads(threads, now)
            for search in searches:
                self._request_search(search, now)
            seq = self._next_seq("outbox")
            for i, a in enumerate(actions):
                row = asdict(a) | {"created_at": now, "seq": seq + i, "state": PENDING}
                self.db.table("outbox").insert(row, pk="id", ignore=True)
            if wait_until is None:
                self.db.execute(
                    "UPDATE events SET planned = 1, wait_until = NULL WHERE id = ?", (event_id,)
                )
            else:
                self.db.execute(
                    "UPDATE events SET wait_until = ? WHERE id = ?", (wait_until, event_id)
                )

    def due_actions(self, now: float, limit: int = 100) -> list[Action]:
        rows = self.rows(
            "SELECT * FROM outbox WHERE state IN (?, ?) AND next_attempt_at <= ?"
            " ORDER BY seq LIMIT ?",
            [PENDING, INFLIGHT, now, limit],
        )
        return [from_row(Action, r) for r in rows]

    def action(self, action_id: str) -> Action | None:
        rows = self.rows("SELECT * FROM outbox WHERE id = ?", [action_id])
        return from_row(Action, rows[0]) if rows else None

    def mark_inflight(self, action: Action) -> Action:
        """Committed BEFORE the Slack call: after a crash we know the call may have happened."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ?",
                (INFLIGHT, action.id),
            )
        return replace(action, state=INFLIGHT, attempts=action.attempts + 1)

    def set_file(self, action: Action, file_id: str | None, at: float | None) -> None:
        """Committed before the file is uploaded: after a crash, files.info tells whether
        Slack completed it (wait for its share) or not (upload afresh)."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET file_id = ?, file_at = ? WHERE id = ?", (file_id, at, action.id)
            )

    def mark_done(
        self,
        action: Action,
        channel_id: str | None,
        ts: str | None,
        *,
        origin: Origin = Origin.POSTED,
    ) -> None:
        """Delivered; an alert's first post anchors its thread (``origin`` FOUND: the post was
        another host's, adopted instead of posting again)."""
        now = time.time()
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, result_channel = ?, result_ts = ?, last_error = NULL,"
                " next_attempt_at = ? WHERE id = ?",
                (DONE, channel_id, ts, now, action.id),
            )
            key = action.thread_key
            if action.creates_thread and key is not None and ts is not None:
                self._anchor_thread(
                    key, channel_id or action.channel, ts, action.event_id, now, origin
                )

    def mark_retry(
        self, action: Action, next_attempt_at: float, error: str, *, state: OutboxState = PENDING
    ) -> None:
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

    def delivered_since(self, since: float) -> list[tuple[str, float]]:
        """(action kind, seconds from its event's ingestion to Slack's answer) for each action
        delivered after ``since`` (``mark_done`` stamps ``next_attempt_at`` with that moment).
        An alert delivered as a file (it kept its file id) is an ``upload``."""
        rows = self.fetch(
            "SELECT CASE WHEN o.file_id IS NULL THEN o.action ELSE 'upload' END,"
            " o.next_attempt_at - e.ingested_at FROM outbox o"
            " JOIN events e ON e.id = o.event_id WHERE o.state = ? AND o.next_attempt_at > ?",
            (DONE, since),
        )
        return [(action, float(seconds)) for action, seconds in rows]
