"""The ingest loop as a process of its own, for kill -9 tests: the real Store, Tailer and
Ingestor on a temp database, running until killed.

Usage: ``ingest_loop.py LOG_DIR DB APP[,APP...] [MAX_CHUNK]``
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from sidecar.ingest import Ingestor
from sidecar.state.store import Store
from sidecar.tail.tailer import Tailer


def main() -> None:
    log_dir, db, apps = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
    max_chunk = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 20
    store = Store.open(db)
    tailer = Tailer(
        log_dir,
        apps,
        store.files(),
        from_start=True,
        settle_seconds=0.3,
        reconcile_seconds=0.5,
        max_chunk=max_chunk,
    )
    Ingestor(store, tailer).run(threading.Event(), max_wait=0.2)


if __name__ == "__main__":
    main()
