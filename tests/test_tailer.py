"""Tailer behaviour on real files: offsets, anchors, rewrites, rotation, deletion, faults.

Files are written the way Skyline's processes write them (O_APPEND, one write per record, the
Skyline prefix); time is a fake clock so settle and drain periods need no sleeping.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sidecar.model import FileState
from sidecar.tail.chunk import Chunk
from sidecar.tail.fileid import ANCHOR_MAX, file_key
from sidecar.tail.names import followed_app
from sidecar.tail.recovery import Recovery
from sidecar.tail.tailer import Tailer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def rec(n: int, msg: str = "analyzer run", pid: int = 4242) -> bytes:
    return f"2026-11-26 13:{n // 60 % 60:02d}:{n % 60:02d} :: {pid} :: {msg} {n}\n".encode()


def recs(first: int, count: int, msg: str = "analyzer run") -> bytes:
    return b"".join(rec(n, msg) for n in range(first, first + count))


def append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def make(log_dir: Path, clock: Clock, known: list[FileState] | None = None, **kw: object) -> Tailer:
    opts: dict[str, object] = {
        "from_start": True,
        "use_watchdog": False,
        "settle_seconds": 1.0,
        "clock": clock,
        "rewrite_max_seconds": 30.0,
        "drain_seconds": 60.0,
    }
    opts.update(kw)
    return Tailer(log_dir, ["analyzer", "mirage"], known or [], **opts)  # type: ignore[arg-type]


def drain(tailer: Tailer, commit: bool = True) -> list[Chunk]:
    """Poll until nothing more comes (committing each chunk, as the ingestor does)."""
    out: list[Chunk] = []
    for _ in range(100):
        chunks = tailer.poll()
        if commit:
            for c in chunks:
                tailer.commit(c)
        out += chunks
        if not any(c.data for c in chunks):
            return out
    raise AssertionError("tailer never ran dry")


def data_of(chunks: list[Chunk], name: str | None = None) -> bytes:
    return b"".join(c.data for c in chunks if name is None or Path(c.after.path).name == name)


def following(tailer: Tailer) -> dict[str, FileState]:
    """The read state of every generation the tailer holds open (its internals: only tests
    need to look)."""
    return {k: replace(g.read, path=str(g.path)) for k, g in tailer._gens.items()}


def states(tailer: Tailer) -> dict[str, FileState]:
    return {Path(s.path).name: s for s in following(tailer).values()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_followed_names() -> None:
    apps = ["analyzer", "analyzer_batch", "webapp"]
    assert followed_app("analyzer.log", apps) == "analyzer"
    assert followed_app("analyzer_batch.log.2026-11-25", apps) == "analyzer_batch"
    for name in (
        "analyzer.log.last",
        "analyzer.log.new",
        "analyzer.log.lock",
        "analyzer.log.wait",
        "analyzer.log.2026-11-25.gz",
        "webapp.access.log",
        "flux.log",
        "analyzer.log.1",
    ):
        assert followed_app(name, apps) is None, name


def test_whole_lines_only_and_partial_line_waits(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 3) + b"2026-11-26 13:00:03 :: 4242 :: half a li")
    tailer = make(tmp_path, clock)
    first = drain(tailer)
    assert data_of(first) == recs(0, 3)
    assert first[0].restart and first[0].before.offset == 0 and first[0].before.line_no == 1
    assert states(tailer)["analyzer.log"].offset == len(recs(0, 3))
    append(log, b"ne\n")
    second = drain(tailer)
    assert data_of(second) == b"2026-11-26 13:00:03 :: 4242 :: half a line\n"
    assert second[0].before.line_no == 4 and not second[0].restart
    assert second[0].after.line_no == 5


def test_first_start_tails_from_end_new_files_from_start(tmp_path: Path, clock: Clock) -> None:
    append(tmp_path / "analyzer.log", recs(0, 5) + b"2026-11-26 13:00:05 :: 1 :: par")
    tailer = make(tmp_path, clock, from_start=False)
    first = drain(tailer)
    # One empty chunk records the starting point (so a crash before any line cannot skip lines).
    assert [c.data for c in first] == [b""]
    assert first[0].after.offset == len(recs(0, 5)) and first[0].after.line_no == 6
    append(tmp_path / "analyzer.log", b"tial\n" + rec(6))
    append(tmp_path / "mirage.log", rec(1, "mirage"))
    got = drain(tailer)
    assert data_of(got, "analyzer.log") == b"2026-11-26 13:00:05 :: 1 :: partial\n" + rec(6)
    assert data_of(got, "mirage.log") == rec(1, "mirage")  # appeared after start: from 0


def test_known_states_resume_exactly(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 10))
    tailer = make(tmp_path, clock, from_start=False)
    drain(tailer)
    append(log, recs(10, 5))
    drain(tailer)
    known = list(following(tailer).values())
    tailer.close()
    append(log, recs(15, 5))
    resumed = make(tmp_path, clock, known=known, from_start=False)
    got = drain(resumed)
    assert data_of(got) == recs(15, 5)
    assert got[0].restart and got[0].before == replace(known[0], path=str(log))
    assert got[-1].after.line_no == 21


def test_uncommitted_chunk_is_delivered_again(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 4))
    tailer = make(tmp_path, clock)
    lost = tailer.poll()  # the store failed: never committed
    again = tailer.poll()
    assert [c.data for c in again] == [c.data for c in lost] == [recs(0, 4)]
    assert again[0].restart
    tailer.commit(again[0])
    assert drain(tailer) == []


def test_commit_of_an_earlier_record_boundary(tmp_path: Path, clock: Clock) -> None:
    """The ingestor commits the parser's safe offset: reading goes on from the chunk end, a
    redelivery (or restart) resumes at the committed state."""
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 6))
    tailer = make(tmp_path, clock)
    [chunk] = tailer.poll()
    held = len(recs(0, 4))
    state = chunk.state_at(held)
    assert state is not None and state.line_no == 5
    tailer.commit(replace(chunk, after=state))
    append(log, recs(6, 1))
    [nxt] = tailer.poll()
    assert nxt.before.offset == chunk.after.offset and nxt.data == rec(6)  # read on
    # not committed -> delivered again from the committed record boundary, with fresh parser
    [redo] = tailer.poll()
    assert redo.restart and redo.before == replace(state, path=str(log))
    assert redo.data == recs(4, 3)
    restarted = make(tmp_path, clock, known=[state])
    assert data_of(drain(restarted)) == recs(4, 3)


def test_skyline_restart_rewrite_continues_in_place(tmp_path: Path, clock: Clock) -> None:
    """bin/analyzer.d: .last copy, lock files, python-daemon truncation, new lines, handshake,
    `cat log.last log > log.new; cat log.new > log`: the offset holds, nothing is re-read."""
    log = tmp_path / "analyzer.log"
    old = recs(0, 200)  # > ANCHOR_MAX: the anchor is a window of whole lines
    append(log, old)
    tailer = make(tmp_path, clock)
    drain(tailer)
    sh = f'L="{log}"'
    subprocess.run(
        ["bash", "-c", f'{sh}; cat "$L" > "$L.last"; touch "$L.lock" "$L.wait"'], check=True
    )
    with open(log, "w+"):  # python-daemon: open(stdout_path, 'w+t')
        pass
    new = recs(500, 3, "starting")
    append(log, new)
    assert drain(tailer) == []  # shrunk: settling, nothing read
    clock.advance(5)
    assert drain(tailer) == []  # still settling: the lock files are there
    subprocess.run(
        [
            "bash",
            "-c",
            f'{sh}; cat "$L.last" "$L" > "$L.new"; cat "$L.new" > "$L";'
            f' rm -f "$L.last" "$L.new" "$L.wait" "$L.lock"',
        ],
        check=True,
    )
    append(log, rec(503, "log management done"))
    got = drain(tailer)
    assert data_of(got) == new + rec(503, "log management done")
    # same parser, same position: the rewrite is invisible downstream
    assert not got[0].restart and got[0].before.offset == len(old)
    assert got[0].before.line_no == 201
    assert tailer.stats.rewrites_in_place == 1 and tailer.stats.rereads == 0


def test_lines_destroyed_by_the_truncation_are_cut_back(tmp_path: Path, clock: Clock) -> None:
    """The new agent logs after `cat log > log.last` and before python-daemon truncates: we may
    have read those lines, which the rewrite destroys. Reading goes on after the last line the
    file still holds, not from the start."""
    log = tmp_path / "analyzer.log"
    old = recs(0, 200)
    append(log, old)
    tailer = make(tmp_path, clock)
    drain(tailer)
    sh = f'L="{log}"'
    subprocess.run(
        ["bash", "-c", f'{sh}; cat "$L" > "$L.last"; touch "$L.lock" "$L.wait"'], check=True
    )
    append(log, rec(400, "Testing algorithms"))
    assert data_of(drain(tailer)) == rec(400, "Testing algorithms")
    with open(log, "w+"):
        pass
    new = recs(500, 3, "starting")
    append(log, new)
    subprocess.run(
        [
            "bash",
            "-c",
            f'{sh}; cat "$L.last" "$L" > "$L.new"; cat "$L.new" > "$L";'
            f' rm -f "$L.last" "$L.new" "$L.wait" "$L.lock"',
        ],
        check=True,
    )
    got = drain(tailer)
    assert data_of(got) == new
    assert got[0].restart and got[0].before.offset == len(old)
    assert got[0].before.line_no == 201
    assert tailer.stats.rewrites_cut == 1 and tailer.stats.rereads == 0


def test_rewrite_between_polls_is_caught_by_the_anchor(tmp_path: Path, clock: Clock) -> None:
    """Truncated and regrown past the old offset between two polls: size alone sees nothing."""
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 50))
    tailer = make(tmp_path, clock)
    drain(tailer)
    with open(log, "w+"):
        pass
    other = recs(1000, 80, "other content")
    append(log, other)
    assert os.path.getsize(log) > len(recs(0, 50))
    assert drain(tailer) == []  # anchor mismatch: settling
    clock.advance(1.5)
    got = drain(tailer)
    assert data_of(got) == other  # new content: a new generation from 0
    assert got[0].restart and got[0].before.offset == 0 and got[0].before.line_no == 1
    assert tailer.stats.new_content == 1


def test_truncation_to_zero_then_new_lines(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 20))
    tailer = make(tmp_path, clock)
    drain(tailer)
    os.truncate(log, 0)
    assert drain(tailer) == []
    append(log, recs(100, 2, "after truncation"))
    clock.advance(0.5)
    assert drain(tailer) == []  # size still moving
    clock.advance(1.1)
    got = drain(tailer)
    assert data_of(got) == recs(100, 2, "after truncation")
    assert got[0].before.offset == 0


def test_content_moved_after_rewrite_continues_after_anchor(tmp_path: Path, clock: Clock) -> None:
    """Same head, lines inserted before the offset while we were down: the anchor is searched
    (once the file is quiet) and reading goes on right after it."""
    log = tmp_path / "analyzer.log"
    head = recs(0, 100)
    tail = recs(100, 100)
    append(log, head + tail)
    tailer = make(tmp_path, clock)
    drain(tailer)
    known = list(following(tailer).values())
    tailer.close()
    extra = recs(900, 7, "inserted")
    new = recs(200, 3)
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(head + extra + tail + new)
    tailer = make(tmp_path, clock, known=known)
    assert drain(tailer) == []
    clock.advance(1.5)
    got = drain(tailer)
    assert data_of(got) == new
    assert got[0].restart and got[0].before.offset == len(head + extra + tail)
    assert got[0].before.line_no == 208
    assert tailer.stats.rewrites_moved == 1


def test_anchor_lost_goes_on_after_what_still_agrees(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    head = recs(0, 100)
    append(log, head + recs(100, 100))
    tailer = make(tmp_path, clock)
    drain(tailer)
    known = list(following(tailer).values())
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(head + recs(300, 120, "replaced"))
    got = drain(tailer)
    assert data_of(got) == recs(300, 120, "replaced")
    assert got[0].before.offset == len(head) and got[0].before.line_no == 101
    assert tailer.stats.rewrites_cut == 1 and tailer.stats.rereads == 0
    # Started again with only the stored state (nothing read in memory): re-read from 0.
    restarted = make(tmp_path, clock, known=known)
    assert drain(restarted) == []
    clock.advance(1.5)
    assert data_of(drain(restarted)) == head + recs(300, 120, "replaced")
    assert restarted.stats.rereads == 1


def test_inode_reuse_while_down_reads_new_content(tmp_path: Path, clock: Clock) -> None:
    """A state whose (dev, inode) now holds other content (the file was deleted and the inode
    reused): the head tells, and the new file is read from 0."""
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 30, "old file"))
    tailer = make(tmp_path, clock)
    drain(tailer)
    [old] = following(tailer).values()
    tailer.close()
    log.unlink()
    append(log, recs(0, 40, "new file"))
    st = log.stat()
    reused = replace(old, key=file_key(st.st_dev, st.st_ino), dev=st.st_dev, inode=st.st_ino)
    tailer = make(tmp_path, clock, known=[reused])
    assert drain(tailer) == []  # offset no longer verified: settling
    clock.advance(1.5)
    got = drain(tailer)
    assert data_of(got) == recs(0, 40, "new file") and got[0].before.offset == 0


def test_rotation_renamed_file_keeps_being_read(tmp_path: Path, clock: Clock) -> None:
    """Midnight: a process renames the live file and opens a new one, another keeps writing
    into yesterday's file."""
    live = tmp_path / "analyzer.log"
    append(live, recs(0, 5))
    tailer = make(tmp_path, clock)
    drain(tailer)
    rotated = tmp_path / "analyzer.log.2026-11-25"
    os.rename(live, rotated)
    append(rotated, recs(5, 2, "late writer"))
    append(live, recs(7, 3, "new day"))
    got = drain(tailer)
    assert data_of(got, rotated.name) == recs(5, 2, "late writer")
    assert data_of(got, live.name) == recs(7, 3, "new day")
    assert next(c.before.offset for c in got if c.after.path == str(live)) == 0
    assert states(tailer)[rotated.name].offset == len(recs(0, 5) + recs(5, 2, "late writer"))
    append(rotated, rec(10, "still late"))
    assert data_of(drain(tailer), rotated.name) == rec(10, "still late")


def test_rotation_while_down(tmp_path: Path, clock: Clock) -> None:
    live = tmp_path / "analyzer.log"
    append(live, recs(0, 5))
    tailer = make(tmp_path, clock)
    drain(tailer)
    known = list(following(tailer).values())
    tailer.close()
    append(live, recs(5, 2))
    os.rename(live, tmp_path / "analyzer.log.2026-11-25")
    append(live, recs(7, 3))
    got = drain(make(tmp_path, clock, known=known, from_start=False))
    assert data_of(got, "analyzer.log.2026-11-25") == recs(5, 2)
    assert data_of(got, "analyzer.log") == recs(7, 3)


def test_deleted_file_is_drained_then_finished(tmp_path: Path, clock: Clock) -> None:
    """A rotated file deleted while a process still writes to it: read through the open fd;
    the unterminated last line is only taken once it stopped growing for drain_seconds."""
    rotated = tmp_path / "analyzer.log.2026-11-25"
    append(rotated, recs(0, 3))
    writer = os.open(rotated, os.O_WRONLY | os.O_APPEND)
    tailer = make(tmp_path, clock)
    drain(tailer)
    rotated.unlink()
    os.write(writer, recs(3, 2) + b"2026-11-26 13:00:05 :: 4242 :: cut sh")
    os.close(writer)
    got = drain(tailer)
    assert data_of(got) == recs(3, 2) and not any(c.final for c in got)
    clock.advance(59)
    assert drain(tailer) == []
    clock.advance(2)
    [final] = drain(tailer)
    assert final.final and final.data == b"2026-11-26 13:00:05 :: 4242 :: cut sh"
    assert final.after.finished and final.after.offset == len(recs(0, 5)) + len(final.data)
    assert following(tailer) == {}
    assert tailer.stats.generations_finished == 1


def test_known_state_of_a_vanished_file_is_finished(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log.2026-11-20"
    append(log, recs(0, 3))
    tailer = make(tmp_path, clock)
    drain(tailer)
    [state] = following(tailer).values()
    tailer.close()
    log.unlink()
    tailer = make(tmp_path, clock, known=[state])
    assert drain(tailer) == []
    clock.advance(1.5)
    [gone] = tailer.poll()
    assert gone.final and gone.after.finished and gone.data == b""
    assert replace(gone.after, finished=False) == state


def test_chunks_are_bounded_and_long_lines_pass(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    body = recs(0, 500)
    long_line = b"2026-11-26 13:00:00 :: 1 :: " + b"x" * 5000 + b"\n"
    append(log, body + long_line + rec(9))
    tailer = make(tmp_path, clock, max_chunk=2048)
    got = drain(tailer)
    assert all(len(c.data) <= 2048 for c in got)
    assert data_of(got) == body + long_line + rec(9)
    # every chunk but the pieces of the long line ends with a whole line
    assert sum(1 for c in got if c.data and not c.data.endswith(b"\n")) == 2
    # states chain exactly
    for a, b in itertools.pairwise(got):
        assert b.before.offset == a.after.offset and b.before.line_no == a.after.line_no


def test_head_hash_grows_with_a_small_file(tmp_path: Path, clock: Clock) -> None:
    log = tmp_path / "analyzer.log"
    append(log, rec(0))
    tailer = make(tmp_path, clock)
    drain(tailer)
    assert states(tailer)["analyzer.log"].head_len == len(rec(0))
    append(log, recs(1, 200))
    drain(tailer)
    assert states(tailer)["analyzer.log"].head_len == 4096


def test_missing_log_dir_is_reported_once_and_retried(tmp_path: Path, clock: Clock) -> None:
    log_dir = tmp_path / "logs"
    tailer = make(log_dir, clock)
    assert tailer.poll() == [] and tailer.poll() == []
    [error] = tailer.errors()
    assert str(log_dir) in error and "does not exist" in error
    log_dir.mkdir()
    append(log_dir / "analyzer.log", recs(0, 2))
    assert data_of(drain(tailer)) == recs(0, 2)
    assert tailer.errors() == []
    # The directory disappears while a file is followed: its fd is still read, nothing is lost.
    append(log_dir / "analyzer.log", recs(2, 1))
    moved = tmp_path / "moved"
    os.rename(log_dir, moved)
    assert data_of(drain(tailer)) == rec(2)
    assert len(tailer.errors()) == 1


def test_file_replaced_by_a_directory(tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "mirage.log").mkdir()
    append(tmp_path / "analyzer.log", recs(0, 2))
    tailer = make(tmp_path, clock)
    assert data_of(drain(tailer)) == recs(0, 2)
    errors = tailer.errors()
    assert errors == [f"{tmp_path / 'mirage.log'} is a directory, not a log file: skipped"]
    tailer.poll()
    assert tailer.errors() == []  # reported once while it lasts


def _reachable_by_anyone() -> str:
    """A temp directory every user can traverse: as root the test reads as ``nobody``, who may
    not reach $TMPDIR (e.g. inside a 0700 home)."""
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        path = Path(base).resolve()
        if path.is_dir() and all(p.stat().st_mode & 0o001 for p in (path, *path.parents)):
            return str(path)
    pytest.skip("no temp directory that every user can traverse")


def test_unreadable_file_is_reported_and_read_once_readable(clock: Clock) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="sidecar-perm-", dir=_reachable_by_anyone()))
    try:
        log_dir.chmod(0o755)
        log = log_dir / "analyzer.log"
        append(log, recs(0, 3))
        log.chmod(0)
        tailer = make(log_dir, clock)
        if os.geteuid() == 0:  # root reads anything: poll as nobody
            os.seteuid(65534)
            try:
                chunks = tailer.poll()
            finally:
                os.seteuid(0)
        else:
            chunks = tailer.poll()
        assert chunks == []
        [error] = tailer.errors()
        assert error.startswith(f"cannot read {log}:") and "ermission denied" in error
        log.chmod(0o644)
        assert data_of(drain(tailer)) == recs(0, 3)
    finally:
        subprocess.run(["rm", "-rf", str(log_dir)], check=False)


def test_watchdog_wakes_wait_early(tmp_path: Path) -> None:
    tailer = Tailer(tmp_path, ["analyzer"], [], from_start=True, reconcile_seconds=30)
    try:
        tailer.poll()
        started = time.monotonic()
        writer = subprocess.Popen(["bash", "-c", f"sleep 0.3; echo x >> {tmp_path}/analyzer.log"])
        tailer.wait(20)
        assert time.monotonic() - started < 10
        writer.wait()
    finally:
        tailer.close()


def test_state_at_matches_a_fresh_read(tmp_path: Path, clock: Clock) -> None:
    """Anchors depend on content and offset only: a state computed inside a chunk equals the
    one the tailer computes when it stops there."""
    log = tmp_path / "analyzer.log"
    append(log, recs(0, 300))
    tailer = make(tmp_path, clock)
    [chunk] = tailer.poll()
    cut = len(recs(0, 250))
    inside = chunk.state_at(cut)
    assert inside is not None and inside.anchor_len <= ANCHOR_MAX
    other = make(tmp_path, clock, known=[inside])
    assert data_of(drain(other)) == recs(250, 50)  # its anchor verified: resumed there
    assert other.stats.new_content == other.stats.rereads == 0


def test_skyline_is_busy_while_its_log_management_runs(tmp_path: Path) -> None:
    """The bin script's lock / wait files, or a ``.last`` written less than
    rewrite_max_seconds ago by the (injected) wall clock, hold a rewrite's relocation back."""
    wall = Clock()
    wall.now = 1_800_000_000.0
    recovery = Recovery(tmp_path, settle_seconds=1.0, rewrite_max_seconds=30.0, wall_clock=wall)
    assert not recovery.busy("analyzer")
    last = tmp_path / "analyzer.log.last"
    append(last, rec(0))
    os.utime(last, (wall.now - 5, wall.now - 5))
    assert recovery.busy("analyzer") and not recovery.busy("mirage")
    wall.advance(25)
    assert not recovery.busy("analyzer")
    for ext in (".lock", ".wait"):
        marker = tmp_path / f"analyzer.log{ext}"
        marker.touch()
        assert recovery.busy("analyzer"), ext
        marker.unlink()
