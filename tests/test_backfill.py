"""Backfill: planning order across apps, gzip, .last, already-tailed files skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from sidecar.state.store import Store
from sidecar.tail.fileid import digest
from sidecar.tail.history import backfill_files, run_backfill
from sidecar.tail.logfiles import LogFile
from sidecar.tail.names import parse_name
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
AT = datetime(2026, 11, 26, 13, 0, 0)


def alert_line(app: SkylineApp, n: int) -> str:
    return lines.line(AT, 100 + n, app.alert_message())


def touch(path: Path, text: str = "x\n", mtime: float | None = None) -> Path:
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def gzip_file(path: Path) -> Path:
    """What logrotate's compress does: a new .gz file, the original removed."""
    subprocess.run(["gzip", "-n", str(path)], check=True)
    return path.with_name(path.name + ".gz")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


def test_names() -> None:
    assert parse_name("mirage.log.2026-11-25.gz").kind == "gzip"
    assert parse_name("mirage.log.2026-11-25").day == date(2026, 11, 25)
    assert parse_name("mirage.log.last").kind == "last"
    assert parse_name("mirage.log", ["analyzer"]) is None
    for name in ("mirage.log.new", "mirage.log.lock", "mirage.log.2026-13-45", "mirage.txt"):
        assert parse_name(name) is None, name


def test_oldest_first_across_apps(logs: Path) -> None:
    day = 86400
    now = datetime(2026, 11, 26, 12).timestamp()
    touch(logs / "analyzer.log", mtime=now)
    touch(logs / "mirage.log", mtime=now - 60)
    touch(logs / "mirage.log.last", mtime=now - 3600)
    touch(logs / "analyzer.log.2026-11-25", mtime=now - 10)  # a late writer touched it today
    touch(logs / "mirage.log.2026-11-25", mtime=now - day)
    touch(logs / "mirage.log.2026-11-24.gz", mtime=now - 2 * day)
    touch(logs / "mirage.log.2026-11-24", mtime=now - 2 * day + 5)
    touch(logs / "analyzer.log.2026-11-23.gz", mtime=now - 3 * day)
    for other in (
        "webapp.access.log",
        "analyzer.log.lock",
        "analyzer.log.wait",
        "mirage.log.new",
        "flux.log",
        "webapp.log",
    ):
        touch(logs / other, mtime=now)
    (logs / "analyzer.log.2026-11-22").mkdir()
    names = [p.name for p in backfill_files(logs, ["analyzer", "mirage"])]
    assert names == [
        "analyzer.log.2026-11-23.gz",
        "mirage.log.2026-11-24",
        "mirage.log.2026-11-24.gz",
        "mirage.log.2026-11-25",
        "analyzer.log.2026-11-25",  # same day, later mtime
        "mirage.log.last",
        "mirage.log",
        "analyzer.log",
    ]
    bounded = backfill_files(
        logs, ["analyzer", "mirage"], since=date(2026, 11, 24), until=date(2026, 11, 25)
    )
    assert [p.name for p in bounded] == names[1:5]
    explicit = backfill_files([logs / "mirage.log", logs / "mirage.log.2026-11-24.gz"], ["mirage"])
    assert [p.name for p in explicit] == ["mirage.log.2026-11-24.gz", "mirage.log"]


def test_reads_gzip_plain_and_last_with_progress(logs: Path, tmp_path: Path) -> None:
    app = SkylineApp(logs, "mirage", start=False)
    texts = {
        "mirage.log.2026-11-24": "".join(alert_line(app, i) for i in range(3)),
        "mirage.log.2026-11-25": "".join(alert_line(app, i) for i in range(3, 5)),
        "mirage.log.last": "".join(alert_line(app, i) for i in range(5, 7)),
    }
    noon = datetime(2026, 11, 26, 12).timestamp()
    for name, text in texts.items():
        touch(logs / name, text, mtime=noon)
    gz = gzip_file(logs / "mirage.log.2026-11-24")
    # a .last ends where the stopped process was cut off: its last line is taken too
    with open(logs / "mirage.log.last", "a") as f:
        f.write(alert_line(app, 7).rstrip("\n"))
    assert head_hash(gz) == identify_text(texts["mirage.log.2026-11-24"])
    calls: list[tuple[str, int, int]] = []
    store = Store.open(tmp_path / "state.db")
    result = run_backfill(
        store,
        backfill_files(logs, ["mirage"]),
        progress=lambda p, done, total: calls.append((p.name, done, total)),
    )
    assert result.by_action("read") == [
        gz,
        logs / "mirage.log.2026-11-25",
        logs / "mirage.log.last",
    ]
    assert result.events_new == 8 == app.alerts
    assert {s.path: s.finished for s in store.files()} == {
        str(gz): True,
        str(logs / "mirage.log.2026-11-25"): False,
        str(logs / "mirage.log.last"): True,
    }
    for name in {c[0] for c in calls}:
        mine = [c for c in calls if c[0] == name]
        assert [c[1] for c in mine] == sorted(c[1] for c in mine)
        assert mine[-1][1] == mine[-1][2] == (logs / name).stat().st_size
    # a second run finds everything read
    again = run_backfill(store, backfill_files(logs, ["mirage"]))
    assert again.events_new == 0
    assert len(again.by_action("skipped")) == 3
    store.close()


def identify_text(text: str) -> str:
    return digest(text.encode()[:4096])


def head_hash(path: Path) -> str:
    """The head hash backfill identifies ``path`` by (over decompressed bytes for gzip)."""
    with LogFile(path) as f:
        return digest(f.head())


def test_files_tailed_live_are_skipped_even_gzipped(logs: Path, tmp_path: Path) -> None:
    """What the daemon tailed is not read again from the start: its gzip is matched to the
    tailed file by the decompressed head and the anchor at the stored offset, and read on from
    there (the stored offset may lag by what the parser held back). A gzip holding more than
    was tailed yields only the new events."""
    db = tmp_path / "state.db"
    with SkylineApp(logs, "mirage") as app, RunningIngest(logs, db, ["mirage"], **FAST):
        for _ in range(40):
            app.alert()
        yesterday = app.rollover()
        app.alert()
        wait_for(lambda: stored_ids(db) >= expected_event_ids([app]))
    rotated = logs / yesterday
    copy = logs / "mirage.log.2026-11-20"  # the same day's file, with lines the daemon never saw
    shutil.copy(rotated, copy)
    with open(copy, "a") as f:
        f.write(alert_line(app, 99))
    gz = gzip_file(rotated)
    gz_more = gzip_file(copy)
    store = Store.open(db)
    before = len(events(store))
    tailed = {s.head_hash: s.offset for s in store.files()}
    result = run_backfill(store, backfill_files(logs, ["mirage"]))
    by_path = {f.path: f for f in result.files}
    rotated_offset = tailed[head_hash(gz)]
    assert by_path[gz].start == by_path[gz_more].start == rotated_offset
    assert by_path[gz].events_new == 0 and by_path[gz_more].events_new == 1
    assert result.events_new == 1 and len(events(store)) == before + 1
    # once read completely, the gzip files are skipped
    again = run_backfill(store, backfill_files(logs, ["mirage"]))
    assert again.by_action("skipped")[:2] == [gz_more, gz] and again.events_new == 0
    store.close()


def test_last_recovers_what_a_failed_handshake_left_there(logs: Path, tmp_path: Path) -> None:
    """Daemon down, lines written, restart whose handshake fails: those lines exist only in
    <app>.log.last, which the tailer does not follow and backfill reads."""
    db = tmp_path / "state.db"
    with SkylineApp(logs, "analyzer") as app:
        with RunningIngest(logs, db, ["analyzer"], **FAST):
            app.alert()
            wait_for(lambda: len(stored_ids(db)) == 1)
        app.alert()
        app.alert()
        app.restart([app.alert_message()], handshake=False, wait_seconds=2)
        with RunningIngest(logs, db, ["analyzer"], **FAST, rewrite_max_seconds=2):
            wait_for(lambda: len(stored_ids(db)) == 2, timeout=20)
        assert len(stored_ids(db)) == 2  # the first alert and the one after the restart
        store = Store.open(db)
        result = run_backfill(store, backfill_files(logs, ["analyzer"]))
        assert result.events_new == 2
        assert stored_ids(db) == expected_event_ids([app])
        store.close()


def test_unreadable_file_is_reported_and_the_rest_read(logs: Path, tmp_path: Path) -> None:
    app = SkylineApp(logs, "mirage", start=False)
    (logs / "mirage.log.2026-11-24.gz").write_bytes(b"\x1f\x8b broken")
    touch(logs / "mirage.log.2026-11-25", alert_line(app, 1))
    store = Store.open(tmp_path / "state.db")
    result = run_backfill(store, backfill_files(logs, ["mirage"]))
    [failed] = [f for f in result.files if f.action == "failed"]
    assert failed.path.name == "mirage.log.2026-11-24.gz" and failed.reason
    assert result.events_new == 1
    store.close()


def test_live_file_backfill_hands_over_to_the_tailer(logs: Path, tmp_path: Path) -> None:
    """Backfill of the live file stops at whole lines; the daemon then goes on from there."""
    db = tmp_path / "state.db"
    app = SkylineApp(logs, "mirage", start=False)
    second = alert_line(app, 2)
    touch(logs / "mirage.log", alert_line(app, 1) + second[:40])
    store = Store.open(db)
    assert run_backfill(store, backfill_files(logs, ["mirage"])).events_new == 1
    store.close()
    with open(logs / "mirage.log", "a") as f:
        f.write(second[40:] + alert_line(app, 3))
    with RunningIngest(logs, db, ["mirage"], **{**FAST, "from_start": False}) as ingest:
        wait_for(lambda: len(stored_ids(db)) == 3)
    assert len(stored_ids(db)) == 3
    assert ingest.tailer_stats.rereads == ingest.tailer_stats.new_content == 0
