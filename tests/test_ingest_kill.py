"""kill -9 at random instants: the ingest loop runs as a process of its own on a temp database
while simulated Skyline processes write, rotate and restart; a killer thread SIGKILLs and
restarts it at random instants. At the end the store holds every event written, exactly once.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.skyline_sim import SkylineApp, expected_event_ids, stored_ids, wait_for

WORKER = Path(__file__).parent / "workers" / "ingest_loop.py"


class Victim:
    """The ingest process, killed with SIGKILL and started again at random instants."""

    def __init__(self, logs: Path, db: Path, apps: str, seed: int):
        self._cmd = [sys.executable, str(WORKER), str(logs), str(db), apps, "2048"]
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self.kills = 0
        self.proc = self._start()
        self._thread = threading.Thread(target=self._kill_loop, daemon=True)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _kill_loop(self) -> None:
        while not self._stop.wait(self._rng.uniform(0.05, 0.8)):
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
            if self._rng.random() < 0.3:  # sometimes stay down a while
                self._stop.wait(self._rng.uniform(0.2, 1.0))
            self.proc = self._start()

    def __enter__(self) -> Victim:
        self._thread.start()
        return self

    def calm(self) -> None:
        """Stop killing; the last started process runs on."""
        self._stop.set()
        self._thread.join()

    def __exit__(self, *exc: object) -> None:
        self.calm()
        self.proc.kill()
        self.proc.wait()


def skyline_day(rng: random.Random, analyzer: SkylineApp, mirage: SkylineApp, db: Path) -> None:
    """A few seconds of Skyline: alerts from several processes, tracebacks, half-written
    lines, a midnight rotation and a restart of each app, in a seeded order."""
    steps = ["alert"] * 30 + ["traceback"] * 3 + ["half"] * 3 + ["rotate", "restart_a", "restart_m"]
    rng.shuffle(steps)
    for step in steps:
        app = rng.choice([analyzer, mirage])
        writer = rng.choice(sorted(app.writers))
        if step == "alert":
            app.alert(writer=writer)
        elif step == "traceback":
            app.traceback(writer=writer)
        elif step == "half":
            app.half(app.alert_message(), writer=writer)
            time.sleep(rng.uniform(0, 0.2))
            app.rest(writer=writer)
        elif step == "rotate":
            # Two processes roll over: the second removes the day file the first renamed. Wait
            # until everything so far is stored, so what is removed was read (while we are
            # down, Skyline itself destroys what nobody held open).
            wait_for(lambda: stored_ids(db) >= expected_event_ids([analyzer, mirage]), 60)
            analyzer.rollover()
            analyzer.alert(writer="run")
            analyzer.alert(writer="metrics_manager")
            analyzer.alert(writer="run")  # into analyzer.log.<yesterday>
        else:
            target = analyzer if step == "restart_a" else mirage
            target.restart([target.alert_message(), target.alert_message()])
            if target is analyzer:
                target.spawn("metrics_manager")
        time.sleep(rng.uniform(0, 0.1))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_random_instants_loses_and_repeats_nothing(seed: int, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    db = tmp_path / "state.db"
    rng = random.Random(seed)
    with SkylineApp(logs, "analyzer") as analyzer, SkylineApp(logs, "mirage") as mirage:
        analyzer.spawn("metrics_manager")
        with Victim(logs, db, "analyzer,mirage", seed) as victim:
            skyline_day(rng, analyzer, mirage, db)
            victim.calm()
            expected = expected_event_ids([analyzer, mirage])
            assert len(expected) == analyzer.alerts + mirage.alerts
            wait_for(lambda: stored_ids(db) >= expected, timeout=60)
            assert victim.kills >= 3
        assert stored_ids(db) == expected
        import sqlite3

        conn = sqlite3.connect(db)
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(expected)
        conn.close()
