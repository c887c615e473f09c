"""Wake-ups from watchdog (inotify): they only end a wait early, every poll still decides."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from sidecar.tail.scan import Problem, reason

__all__ = ["Watcher"]


class Watcher:
    """Watches the log directory (again after it was replaced) and sets ``wake`` on any event."""

    def __init__(self, log_dir: Path, wake: threading.Event, *, enabled: bool = True):
        self._dir = log_dir
        self._wake = wake
        self._enabled = enabled
        self._observer: Any = None
        self._watch: Any = None
        self._watched: tuple[int, int] | None = None

    def ensure(self, problem: Problem) -> None:
        """Watch the directory that is there now; a failure is reported (polling goes on)."""
        if not self._enabled:
            return
        try:
            st = os.stat(self._dir)
        except OSError:
            self._watched = None
            return
        ident = (st.st_dev, st.st_ino)
        if ident == self._watched:
            return
        try:
            if self._observer is None:
                from watchdog.observers import Observer

                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            if self._watch is not None:
                # The old watch may have gone with its directory.
                with contextlib.suppress(Exception):
                    self._observer.unschedule(self._watch)
            self._watch = self._observer.schedule(_Wake(self._wake), str(self._dir))
            self._watched = ident
        except OSError as exc:
            problem("watch", f"cannot watch {self._dir} (polling only): {reason(exc)}")

    def close(self) -> None:
        if self._observer is not None:
            with contextlib.suppress(Exception):  # closing must not fail
                self._observer.stop()
                self._observer.join(timeout=5)
            self._observer = None


class _Wake:
    """A watchdog handler that only wakes the poll loop."""

    def __init__(self, event: threading.Event):
        self._event = event

    def dispatch(self, _event: Any) -> None:
        self._event.set()
