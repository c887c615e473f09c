"""The state database's schema and errors: a database from the previous release is migrated on
opening, a newer one is refused, and only errors that pass are retried."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sidecar.model import DONE, FAILED, PENDING, ActionKind, Origin
from sidecar.state import schema
from sidecar.state.store import FatalStoreError, Store, StoreError
from tests.support import skyline_lines as lines
from tests.support.slack_pipeline import alert
from tests.support.store_queries import actions, events, last_error

REPO = Path(__file__).resolve().parent.parent
#: made by tests/data/make_state_v1.py with the release before versioned migrations
V1 = REPO / "tests" / "data" / "state_v1.sqlite"
METRIC, TS = "stats.web01.cpu.user", 1795698600


def layout(path: Path) -> dict[str, object]:
    """Every table's columns (name, type, primary key) and every index, as SQLite reports them."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        out: dict[str, object] = {
            t: sorted((r[1], r[2], r[5]) for r in conn.execute(f"PRAGMA table_info({t})"))
            for t in tables
        }
        out["indexes"] = sorted(
            r[0]
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        )
        return out
    finally:
        conn.close()


def old_copy(tmp_path: Path) -> Path:
    db = tmp_path / "state.sqlite"
    shutil.copy(V1, db)
    return db


def test_a_database_of_the_previous_release_is_migrated_with_everything_in_it(
    tmp_path: Path,
) -> None:
    db = old_copy(tmp_path)
    assert schema.version(sqlite3.connect(db)) == schema.LEGACY
    store = Store.open(db)
    assert store.meta("schema_version") == str(schema.SCHEMA_VERSION) != str(schema.LEGACY)
    assert [e.kind for e in events(store)] == [
        "anomaly_alert",
        "alert_muted",
        "features_profile_created",
    ]
    assert store.counts()["events_waiting"] == 0
    assert [(a.action, a.channel, a.state) for a in actions(store)] == [
        (ActionKind.POST_MESSAGE, "#skyline", DONE),
        (ActionKind.POST_MESSAGE, "#ops", FAILED),
        (ActionKind.POST_REPLY, "C0SKYLINE", PENDING),
        (ActionKind.ADD_REACTION, "C0SKYLINE", PENDING),
    ]
    thread = store.thread(METRIC, TS)
    assert thread is not None and (thread.channel, thread.ts, thread.origin) == (
        "C0SKYLINE",
        "1795698615.000100",
        Origin.POSTED,
    )
    profile = store.profile(1234)
    assert profile is not None and (profile.metric, profile.anomaly_timestamp) == (METRIC, TS)
    [file] = store.files()
    assert (file.key, file.offset, file.line_no, file.finished) == ("2049:1234", 8192, 43, False)
    assert store.channels() == {"skyline": "C0SKYLINE", "ops": "C0OPS"}
    assert [p["scope"] for p in store.problems()] == ["route"]
    assert "stats.db01.load" in (last_error(store) or {})["message"]
    pacing = store.pacing()
    assert pacing is not None and "chat.postMessage:C0SKYLINE" in pacing["keys"]
    # ... and it goes on working: the pending reply is due, a new alert is stored after the rest
    assert [a.action for a in store.due_actions(now=2e9)] == [
        ActionKind.POST_REPLY,
        ActionKind.ADD_REACTION,
    ]
    assert store.ingest([alert(ts=TS + 600)], None) == 1 and store.last_seq() == 4
    store.close()
    # the same tables, columns and indexes as a database this release creates
    Store.open(tmp_path / "new.sqlite").close()
    assert layout(db) == layout(tmp_path / "new.sqlite")


def test_a_legacy_database_lacking_the_later_additions_gains_them(tmp_path: Path) -> None:
    """Releases before versioning all wrote version 1, whichever additions they had made."""
    db = tmp_path / "state.sqlite"
    Store.open(db).close()
    fresh = layout(db)
    conn = sqlite3.connect(db)
    for sql in (
        "DROP TABLE problems",
        "DROP TABLE channels",
        "DROP INDEX outbox_done_at",
        "ALTER TABLE outbox DROP COLUMN graph",
        "ALTER TABLE outbox DROP COLUMN file_at",
        "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
    ):
        conn.execute(sql)
    conn.commit()
    conn.close()
    assert layout(db) != fresh
    Store.open(db).close()
    assert layout(db) == fresh


def test_migrations_are_one_transaction(tmp_path: Path) -> None:
    """A migration that fails leaves the database as it was: no step half applied."""
    db = old_copy(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE problems")
    conn.execute("DROP INDEX outbox_done_at")
    conn.execute("CREATE TABLE outbox_done_at (x)")  # the last migration's index cannot be made
    conn.commit()
    conn.close()
    before = layout(db)
    with pytest.raises(FatalStoreError, match="outbox_done_at"):
        Store.open(db)
    assert layout(db) == before and schema.version(sqlite3.connect(db)) == schema.LEGACY


def newer(tmp_path: Path) -> Path:
    db = tmp_path / "state" / "state.sqlite"
    db.parent.mkdir()
    store = Store.open(db)
    store.set_meta("schema_version", str(schema.SCHEMA_VERSION + 1))
    store.close()
    return db


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = newer(tmp_path)
    before = layout(db)
    with pytest.raises(FatalStoreError) as raised:
        Store.open(db)
    message = str(raised.value)
    assert str(db) in message and f"version {schema.SCHEMA_VERSION + 1} is newer" in message
    assert "\n" not in message
    with pytest.raises(FatalStoreError, match="is newer"):
        Store.scratch_copy(db)  # the dry run's copy too
    assert layout(db) == before


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SKYLINE_SIDECAR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env | {"PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": "xoxb-test"},
    )


def config_for(tmp_path: Path, db: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "mirage.log").write_text("")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[skyline]\nlog_dir = "{logs}"\nurl = "https://skyline.example.com"\n'
        'apps = ["mirage"]\n[slack]\nbase_url = "http://127.0.0.1:9/api/"\n'
        f'default_channel = "#skyline"\n[state]\npath = "{db}"\n'
    )
    return config


def one_line_failure(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    [line] = out.stderr.strip().splitlines()
    return line


def test_commands_refuse_a_newer_schema_in_one_line(tmp_path: Path) -> None:
    db = newer(tmp_path)
    config = config_for(tmp_path, db)
    for command in (
        ["run", "--exit-after", "1"],
        ["status"],
        ["backfill"],
        ["run", "--dry-run", "--exit-after", "1"],
    ):
        line = one_line_failure(cli(*command, "--config", str(config)))
        assert str(db) in line and "is newer" in line, (command, line)
    out = cli("check", "--offline", "--config", str(config))
    assert out.returncode == 1 and "is newer" in out.stdout


# -- errors: retry later, or stop -------------------------------------------------------------


def test_a_locked_database_is_retried_later_and_loses_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state.sqlite")
    store.db.execute("PRAGMA busy_timeout = 50")  # not the 5 s a real writer would wait
    other = sqlite3.connect(tmp_path / "state.sqlite")
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreError, match="locked"):
        store.ingest([alert()], None)
    other.rollback()
    other.close()
    assert store.ingest([alert()], None) == 1  # the same batch, again: stored once
    assert len(events(store)) == 1


def test_a_full_disk_is_retried_later(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state.sqlite")
    [(pages,)] = store.fetch("PRAGMA page_count")
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk were full
    with pytest.raises(StoreError, match="full"):
        store.ingest([alert(metric=f"stats.m{i}") for i in range(200)], None)
    store.db.execute("PRAGMA max_page_count = 1073741823")
    assert store.ingest([alert()], None) == 1


@pytest.mark.parametrize(
    "sql, found",
    [
        (
            "CREATE TRIGGER refuse BEFORE INSERT ON events"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END",
            "refused (SQLITE_CONSTRAINT",
        ),
        ("ALTER TABLE events DROP COLUMN wait_until", "no column named wait_until"),
    ],
)
def test_a_constraint_or_schema_bug_is_fatal_not_retried(
    tmp_path: Path, sql: str, found: str
) -> None:
    db = tmp_path / "state.sqlite"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()
    store = Store.open(db)
    with pytest.raises(FatalStoreError, match="not retried") as raised:
        store.ingest([alert()], None)
    assert found in str(raised.value) and not isinstance(raised.value, StoreError)
    assert store.counts()["events"] == 0  # nothing half written


def test_the_daemon_stops_on_a_fatal_error_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "state" / "state.sqlite"
    db.parent.mkdir()
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    conn.commit()
    conn.close()
    config = config_for(tmp_path, db)
    data = lines.mirage_metric("v5", 87.5, METRIC, TS)
    (tmp_path / "logs" / "mirage.log").write_text(
        lines.line(
            datetime(2026, 11, 26, 13, 10, 14),
            4242,
            lines.slack_disabled(lines.alert_tuple("stats", "slack", 3600, 168), data),
        )
    )
    out = cli("run", "--from-start", "--exit-after", "20", "--config", str(config))
    line = one_line_failure(out)
    assert "refused" in line and "not retried" in line, line
