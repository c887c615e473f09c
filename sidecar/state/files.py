"""The read offsets of Skyline's log files (one row per file generation)."""

from __future__ import annotations

from dataclasses import asdict

from sidecar.model import FileState
from sidecar.state.db import Part
from sidecar.state.rows import from_row


class Files(Part):
    """Owns the ``files`` table; offsets are written with the events read up to them
    (:meth:`sidecar.state.events.Events.ingest`)."""

    def files(self) -> list[FileState]:
        return [from_row(FileState, r) for r in self.rows("SELECT * FROM files")]

    def _save_file(self, state: FileState) -> None:
        """Upsert one file's state (inside the caller's transaction)."""
        self.db.table("files").upsert(asdict(state), pk="key")
