"""The ingest pipeline against the Skyline simulator: real processes writing real logs the way
Skyline does, the real Tailer, LogParser and SQLite store. Every test ends with the set of
stored events equal to the set written (ids and count)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import sqlite_utils

from sidecar.ingest import Ingestor
from sidecar.state.store import Store
from sidecar.tail.chunk import Chunk
from sidecar.tail.tailer import Tailer
from tests.support import skyline_lines as lines
from tests.support.skyline_sim import (
    RunningIngest,
    SkylineApp,
    expected_event_ids,
    stored_ids,
    wait_for,
)
from tests.support.store_queries import events

FAST = {"from_start": True, "settle_seconds": 0.3, "reconcile_seconds": 0.5}


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


def assert_exactly(db: Path, apps: list[SkylineApp], expected_alerts: int) -> None:
    expected = expected_event_ids(apps)
    assert len(expected) == expected_alerts  # every alert written is one event
    wait_for(lambda: stored_ids(db) >= expected, timeout=30)
    assert stored_ids(db) == expected
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(expected)
    conn.close()


def test_restart_rewrite_during_tailing(logs: Path, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with SkylineApp(logs, "mirage") as app:
        app.spawn("vortex")
        with RunningIngest(logs, db, ["mirage"], **FAST) as ingest:
            for _ in range(5):
                app.alert()
                app.alert(writer="vortex")
            app.traceback()
            wait_for(lambda: len(stored_ids(db)) == 10)
            app.restart([app.alert_message(), "Testing algorithms", app.alert_message()])
            app.spawn("vortex")
            for _ in range(3):
                app.alert(writer="vortex")
                app.alert()
            assert_exactly(db, [app], 18)
        # The merged content was recognised (or the rewrite happened between two polls and the
        # anchor still matched): the file was never read again from its start.
        assert ingest.tailer_stats.rereads == ingest.tailer_stats.new_content == 0


def test_restart_rewrite_while_down(logs: Path, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with SkylineApp(logs, "analyzer") as app:
        with RunningIngest(logs, db, ["analyzer"], **FAST):
            for _ in range(4):
                app.alert()
            assert_exactly(db, [app], 4)
        app.alert()  # written while down, then the restart rewrites the file around it
        app.restart([app.alert_message()])
        app.alert()
        with RunningIngest(logs, db, ["analyzer"], **FAST) as ingest:
            assert_exactly(db, [app], 7)
        # resumed at the stored offset, found in place: not re-read from the start
        assert ingest.tailer_stats.rereads == ingest.tailer_stats.new_content == 0


def test_failed_handshake_during_tailing(logs: Path, tmp_path: Path) -> None:
    """The daemon never removes .wait: bin script gives up, old lines stay only in .last."""
    db = tmp_path / "state.db"
    with (
        SkylineApp(logs, "mirage") as app,
        RunningIngest(logs, db, ["mirage"], **FAST, rewrite_max_seconds=3),
    ):
        for _ in range(3):
            app.alert()
        wait_for(lambda: len(stored_ids(db)) == 3)
        app.restart([app.alert_message()], handshake=False, wait_seconds=2)
        app.alert()
        assert (logs / "mirage.log.last").exists()
        assert_exactly(db, [app], 5)


def test_rotation_during_tailing_with_writer_on_yesterdays_file(logs: Path, tmp_path: Path) -> None:
    """Two processes roll over on their own: the first one's day file is deleted by the
    second's rollover (CPython removes an existing target) and the first keeps writing into
    what is now analyzer.log.<yesterday>. Partial lines and tracebacks on the way."""
    db = tmp_path / "state.db"
    with SkylineApp(logs, "analyzer") as app:
        app.spawn("metrics_manager")
        with RunningIngest(logs, db, ["analyzer"], **FAST) as ingest:
            for _ in range(3):
                app.alert()
                app.alert(writer="metrics_manager")
            app.half(app.alert_message())
            wait_for(lambda: len(stored_ids(db)) == 6)
            app.rest()
            yesterday = app.rollover()
            app.alert()  # run rotates: day file -> yesterday, new analyzer.log
            app.traceback(writer="metrics_manager")  # removes yesterday, renames run's new file
            for _ in range(3):
                app.alert()  # into analyzer.log.<yesterday> (renamed under it)
                app.alert(writer="metrics_manager")  # into the new analyzer.log
            assert (logs / yesterday).exists()
            assert_exactly(db, [app], 14)
        assert ingest.tailer_stats.rereads == ingest.tailer_stats.new_content == 0


def test_rotation_while_down(logs: Path, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with SkylineApp(logs, "mirage") as app:
        app.spawn("vortex")
        with RunningIngest(logs, db, ["mirage"], **FAST):
            app.alert()
            app.alert(writer="vortex")
            assert_exactly(db, [app], 2)
        app.alert()
        app.rollover(writers=["run"])
        for _ in range(2):
            app.alert()  # the new mirage.log
            app.alert(writer="vortex")  # still into mirage.log.<yesterday>
        with RunningIngest(logs, db, ["mirage"], **FAST) as ingest:
            assert_exactly(db, [app], 7)
        assert ingest.tailer_stats.rereads == ingest.tailer_stats.new_content == 0


def test_rotation_while_down_day_file_removed_by_second_process(logs: Path, tmp_path: Path) -> None:
    """The documented limit: while the daemon is down, the second process's rollover removes
    the day file the first one renamed. Lines in it that were never read are gone from disk;
    everything still on disk is stored, once."""
    db = tmp_path / "state.db"
    with SkylineApp(logs, "analyzer") as app:
        app.spawn("metrics_manager")
        with RunningIngest(logs, db, ["analyzer"], **FAST):
            app.alert()
            assert_exactly(db, [app], 1)
        unread = app.alert()  # never read: removed below
        app.rollover()
        app.alert(writer="run")
        app.alert(writer="metrics_manager")
        gone = expected_event_ids_of(app, unread)
        on_disk = expected_event_ids([app], surviving=True)
        assert len(on_disk) == 2 and not gone & on_disk
        with RunningIngest(logs, db, ["analyzer"], **FAST):
            wait_for(lambda: stored_ids(db) >= on_disk)
        assert stored_ids(db) == expected_event_ids([app]) - gone


def expected_event_ids_of(app: SkylineApp, written: object) -> set[str]:
    from parsers import LogParser

    parser = LogParser(app.app)
    return {e.event_id for e in parser.feed(written.text.encode()) + parser.finish()}


def test_locked_database_loses_nothing(logs: Path, tmp_path: Path) -> None:
    """StoreError (database locked): the chunk is not committed and comes again."""
    db = tmp_path / "state.db"
    Store.open(db).close()
    conn = sqlite3.connect(db, timeout=0.2)
    conn.execute("PRAGMA journal_mode=WAL")
    store = Store(sqlite_utils.Database(conn))
    tailer = Tailer(logs, ["mirage"], [], use_watchdog=False, **FAST)
    ingestor = Ingestor(store, tailer)
    with SkylineApp(logs, "mirage") as app:
        for _ in range(3):
            app.alert()
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        assert ingestor.run_once() == 0
        app.alert()
        assert ingestor.run_once() == 0
        assert ingestor.stats.store_errors == 2
        assert stored_ids(db) == set()
        blocker.execute("ROLLBACK")
        blocker.close()
        assert ingestor.run_once() == 4
        assert stored_ids(db) == expected_event_ids([app])
        assert ingestor.stats.chunks == 1  # the redelivered chunk, read from the start
    tailer.close()
    store.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_held_back_event_is_never_committed_past(logs: Path, tmp_path: Path) -> None:
    """An analyzer 'triggering alert' line waits for its detail line (parsers/alerts.py): the
    offset committed stops before it, so a crash re-reads it; an idle file is flushed."""
    log = logs / "analyzer.log"
    at = datetime(2026, 11, 26, 13, 0, 0)
    first = lines.line(at, 11, "starting analyzer run")
    held = lines.line(at, 11, lines.triggering_alert("v1", "stats.web01.cpu.user", 87.5, "smtp"))
    log.write_text(first + held)
    store = Store.open(tmp_path / "state.db")
    clock = Clock()
    tailer = Tailer(logs, ["analyzer"], [], use_watchdog=False, clock=clock, **FAST)
    ingestor = Ingestor(store, tailer, idle_flush_seconds=5, clock=clock)
    assert ingestor.run_once() == 0
    [state] = store.files()
    assert state.offset == len(first) and state.line_no == 2  # before the held-back line

    # A restart from the committed state (a crash now) finds the event again.
    other = Store.open(tmp_path / "copy.db")
    other.ingest([], state)
    restarted = Tailer(logs, ["analyzer"], other.files(), use_watchdog=False, clock=clock, **FAST)
    chunks = restarted.poll()
    assert [c.data for c in chunks] == [held.encode()] and chunks[0].restart
    restarted.close()
    other.close()

    clock.now += 6  # the file went quiet: the parser is finished, the event stored
    assert ingestor.run_once() == 1
    [event] = events(store)
    assert event.metric == "stats.web01.cpu.user" and event.alerter == "smtp"
    assert store.files()[0].offset == len(first + held)
    assert ingestor.stats.idle_flushes == 1
    with open(log, "a") as f:
        f.write(lines.line(at, 11, "alerts checked"))
    ingestor.run_once()
    assert len(events(store)) == 1
    tailer.close()
    store.close()


def test_final_chunk_finishes_parser(logs: Path, tmp_path: Path) -> None:
    """A deleted, drained file: its unterminated last line is parsed (parser.finish())."""
    log = logs / "mirage.log.2026-11-25"
    with SkylineApp(logs, "mirage", start=False) as app:
        msg = app.alert_message()
    at = datetime(2026, 11, 26, 13, 0, 0)
    log.write_text(lines.line(at, 7, "x") + lines.line(at, 7, msg).rstrip("\n"))
    clock = Clock()
    store = Store.open(tmp_path / "state.db")
    tailer = Tailer(logs, ["mirage"], [], use_watchdog=False, clock=clock, drain_seconds=10, **FAST)
    ingestor = Ingestor(store, tailer, clock=clock)
    assert ingestor.run_once() == 0
    log.unlink()
    ingestor.run_once()
    clock.now += 11
    assert ingestor.run_once() == 1
    [state] = store.files()
    assert state.finished and tailer.stats.generations_finished == 1
    tailer.close()
    store.close()


def test_commit_state_is_a_chunk_state(logs: Path) -> None:
    """durable_state with a parser holding back a record inside the chunk gives exactly the
    state the tailer would compute when stopping there."""
    from sidecar.tail.chunk import durable_state

    at = datetime(2026, 11, 26, 13, 0, 0)
    body = "".join(lines.line(at, 3, f"line {i}") for i in range(200))
    (logs / "analyzer.log").write_text(body)
    tailer = Tailer(logs, ["analyzer"], [], use_watchdog=False, **FAST)
    [chunk] = tailer.poll()

    class Holding:
        safe_offset = len(body) - len(lines.line(at, 3, "line 199"))

        def feed(self, data: bytes) -> list:
            return []

        def finish(self) -> list:
            return []

    state = durable_state(chunk, Holding(), chunk.before)
    assert state == chunk.state_at(Holding.safe_offset)
    assert state.line_no == 200
    assert durable_state(replace(chunk, final=True), Holding(), chunk.before) == chunk.after
    assert isinstance(chunk, Chunk)
    tailer.close()


def test_full_disk_loses_nothing(logs: Path, tmp_path: Path) -> None:
    """SQLITE_FULL (the disk, or here the database's size cap, is full): one clear error, the
    offset stays, and once there is room again everything is stored, once."""
    store = Store.open(tmp_path / "state.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # not one page more
    tailer = Tailer(logs, ["mirage"], [], use_watchdog=False, **FAST)
    ingestor = Ingestor(store, tailer)
    with SkylineApp(logs, "mirage") as app:
        for _ in range(40):
            app.alert()
        assert ingestor.run_once() == 0
        assert ingestor.stats.store_errors == 1
        assert stored_ids(tmp_path / "state.db") == set()
        assert store.files() == []  # no offset was committed past events not stored
        store.db.execute("PRAGMA max_page_count = 1073741823")
        assert ingestor.run_once() == 40
        assert stored_ids(tmp_path / "state.db") == expected_event_ids([app])
    tailer.close()
    store.close()
