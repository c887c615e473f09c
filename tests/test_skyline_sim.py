"""The simulator writes logs the way Skyline does (catalogue §6 and §8)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.skyline_sim import SkylineApp

PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} :: (\d+) :: ", re.M)


def test_every_record_is_in_the_file_when_the_call_returns(tmp_path: Path) -> None:
    """The analyzer's MemoryHandler(256, flushLevel=DEBUG) flushes each record."""
    with SkylineApp(tmp_path, "analyzer") as app:
        rec = app.alert()
        assert (tmp_path / "analyzer.log").read_text() == rec.text
        assert PREFIX.match(rec.text) and int(PREFIX.match(rec.text)[1]) == rec.pid


def test_traceback_and_partial_record(tmp_path: Path) -> None:
    with SkylineApp(tmp_path, "mirage") as app:
        tb = app.traceback("boom")
        lines = tb.text.split("\n")
        assert "Traceback (most recent call last):" in lines[0]
        assert lines[-3] == "RuntimeError: boom" and tb.text.endswith("\n\n")
        half = app.half("the whole message", split=30)
        assert (tmp_path / "mirage.log").read_text() == tb.text + half.text[:30]
        app.rest()
        assert (tmp_path / "mirage.log").read_text() == tb.text + half.text


def test_midnight_rotation_per_process(tmp_path: Path) -> None:
    """§8.2: each process rotates on its own first record after midnight; the second removes
    the first's day file and renames the first's new file; the first goes on writing into
    what is now the rotated file."""
    with SkylineApp(tmp_path, "analyzer") as app:
        app.spawn("metrics_manager")
        day1 = app.alert()
        name = app.rollover()
        a = app.alert(writer="run")
        b = app.alert(writer="metrics_manager")
        a2 = app.alert(writer="run")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["analyzer.log", name]
        assert (tmp_path / name).read_text() == a.text + a2.text
        assert (tmp_path / "analyzer.log").read_text() == b.text
        assert a.inode == a2.inode == (tmp_path / name).stat().st_ino
        # the day-1 file was removed (its inode number may already serve the new file)
        assert all(day1.text not in p.read_text() for p in tmp_path.iterdir())


def test_restart_rewrites_the_same_inode_with_old_content_first(tmp_path: Path) -> None:
    log = tmp_path / "mirage.log"
    with SkylineApp(tmp_path, "mirage") as app:
        old = [app.alert(), app.alert()]
        inode = log.stat().st_ino
        app.restart(["new line"])
        text = log.read_text()
        assert log.stat().st_ino == inode
        assert text.startswith(old[0].text + old[1].text)
        assert "Testing algorithms" not in text  # truncated by python-daemon: lost
        assert [x.text for x in app.lost] == [app.lost[0].text]
        order = [
            "stopping process",
            "all mirage processes have been stopped - OK",
            "new line",
            "mirage.d :: process removed log.wait file, starting log management",
            "mirage.d :: log management done",
            "starting mirage run",
        ]
        positions = [text.index(marker) for marker in order]
        assert positions == sorted(positions)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mirage.log"]


def test_failed_handshake_leaves_old_content_in_last(tmp_path: Path) -> None:
    log = tmp_path / "mirage.log"
    with SkylineApp(tmp_path, "mirage") as app:
        old = app.alert()
        app.restart(["new line"], handshake=False, wait_seconds=2)
        last = (tmp_path / "mirage.log.last").read_text()
        assert last.startswith(old.text) and "stopping process" in last
        text = log.read_text()
        assert old.text not in text and "new line" in text
        assert "mirage.d :: error - log management failed" in text
        assert not (tmp_path / "mirage.log.lock").exists()
        assert not (tmp_path / "mirage.log.wait").exists()
