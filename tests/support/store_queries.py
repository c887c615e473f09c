"""Queries only tests need: what the store holds, read back whole (the sidecar never does)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from parsers.events import Event, event_from_dict
from sidecar.model import Action, FileState, OutboxState
from sidecar.state.rows import from_row
from sidecar.state.store import Store


def events(store: Store, kind: str | None = None) -> list[Event]:
    """Every stored event (of ``kind``), in the order stored."""
    sql, args = "SELECT data FROM events", ()
    if kind is not None:
        sql, args = sql + " WHERE kind = ?", (kind,)
    return [event_from_dict(json.loads(r[0])) for r in store.fetch(sql + " ORDER BY seq", args)]


def actions(store: Store, state: OutboxState | None = None) -> list[Action]:
    """Every outbox action (in ``state``), in the order planned."""
    sql, args = "SELECT * FROM outbox", []
    if state is not None:
        sql, args = sql + " WHERE state = ?", [state]
    return [from_row(Action, r) for r in store.rows(sql + " ORDER BY seq", args)]


def last_error(store: Store) -> dict[str, Any] | None:
    """The newest row of the error history."""
    rows = store.rows("SELECT * FROM errors ORDER BY at DESC LIMIT 1")
    return rows[0] if rows else None


def save_file(store: Store, state: FileState) -> None:
    """Record a file's read state as if it had been tailed that far."""
    with store.transaction():
        store.db.table("files").upsert(asdict(state), pk="key")
