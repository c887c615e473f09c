"""A Skyline log simulator: real processes writing a log dir the way Skyline does.

``SkylineApp(log_dir, "mirage")`` drives writer processes (tests/workers/skyline_writer.py), each
with its own ``TimedRotatingFileHandler(when="midnight", backupCount=5)`` and Skyline's formatter
(the analyzer's wrapped in ``MemoryHandler(256, flushLevel=DEBUG)``), and runs bin/<app>.d's log
management with the script's own shell commands through bash. Every call returns once the bytes
are written.

    app = SkylineApp(tmp_path, "mirage")       # starts writer "run"
    app.spawn("vortex")                          # another process of the same app
    app.alert("stats.web01.cpu.user", 1795698600)   # an alert line (one AnomalyAlert event)
    app.traceback()                              # logger.error(traceback.format_exc())
    app.half("a message"); app.rest()            # one record in two writes
    app.rollover()                               # midnight for every writer: each rotates on
                                                 # its own next record (CPython's doRollover)
    app.restart(["new line"])                    # bin/mirage.d restart, handshake and rewrite
    app.restart(handshake=False)                 # handshake fails: old content only in .last
    app.close()

``app.written`` lists every record that stays in some file (exact text, pid); records Skyline
itself destroys (logged before python-daemon truncates the log) go to ``app.lost``.
``expected_event_ids(apps)`` parses the written records with the real LogParser: what a store
fed by a perfect tailer must hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support import skyline_lines as lines

WRITER = Path(__file__).parents[1] / "workers" / "skyline_writer.py"

# bin/analyzer.d's commands, with "$LOG" for "$LOG_PATH/${SERVICE_NAME}.log" and bin_line for
# its `echo "$(date +"%Y-%m-%d %H:%M:%S") :: $PID :: ${SERVICE_NAME}.d :: ..." >> "$LOG"` lines.
_PRELUDE = r"""
PID=$$
LOG="$LOG_PATH/${SERVICE_NAME}.log"
bin_line () {
  echo "$(date +"%Y-%m-%d %H:%M:%S") :: $PID :: ${SERVICE_NAME}.d :: $1" >> "$LOG"
}
"""

# start(), before agent.py start (bin/analyzer.d:164-169).
_PRE_START = r"""
if [ -f "$LOG" ]; then
  cat "$LOG" > "$LOG.last"
fi
touch "$LOG.lock"
touch "$LOG.wait"
"""

# start(), after agent.py start returned: the handshake and the rewrite (bin/analyzer.d:198-241),
# with the 5 s wait as $WAIT_SECONDS.
_HANDSHAKE = r"""
PROCESS_WAITING=0
NOW=$(date +%s)
WAIT_FOR=$((NOW+WAIT_SECONDS))
while [ $NOW -lt $WAIT_FOR ];
do
  if [ ! -f "$LOG.wait" ]; then
    NOW=$((WAIT_FOR+1))
    PROCESS_WAITING=1
    bin_line "process removed log.wait file, starting log management"
  else
    sleep .2
    NOW=$(date +%s)
  fi
done
if [ $PROCESS_WAITING -eq 0 ]; then
  if [ -f "$LOG.wait" ]; then
    rm -f "$LOG.wait"
  fi
  if [ -f "$LOG.lock" ]; then
    rm -f "$LOG.lock"
  fi
  bin_line "error - log management failed"
fi
if [ $PROCESS_WAITING -eq 1 ]; then
  if [ -f "$LOG.last" ]; then
    cat "$LOG.last" "$LOG" > "$LOG.new"
    cat "$LOG.new" > "$LOG"
    rm -f "$LOG.last"
    rm -f "$LOG.new"
  fi
  bin_line "log management done"
  if [ -f "$LOG.lock" ]; then
    rm -f "$LOG.lock"
  fi
fi
"""

_STOP_LINE = 'bin_line "$MSG"'


@dataclass(frozen=True)
class Written:
    """One record as written: its exact text (prefix, message, continuation lines)."""

    app: str
    pid: int
    text: str
    inode: int = 0


class Writer:
    """One Skyline process of an app (a subprocess logging on command)."""

    def __init__(self, app: SkylineApp, name: str):
        self.name = name
        self._app = app
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(app.log_path),
                app.app,
                "1" if app.memory_handler else "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.pid: int = self._read()["pid"]

    def call(self, **cmd: object) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        raw = self.proc.stdout.readline()
        if not raw:
            raise RuntimeError(f"writer {self.name} of {self._app.app} died")
        return json.loads(raw)

    def exit(self) -> None:
        if self.proc.poll() is None:
            self.call(op="exit")
        self.proc.wait(timeout=10)


class SkylineApp:
    def __init__(
        self,
        log_dir: Path,
        app: str = "mirage",
        *,
        memory_handler: bool | None = None,
        start: bool = True,
    ):
        self.log_dir = Path(log_dir)
        self.app = app
        self.log_path = self.log_dir / f"{app}.log"
        self.memory_handler = app == "analyzer" if memory_handler is None else memory_handler
        self.writers: dict[str, Writer] = {}
        self.written: list[Written] = []
        self.lost: list[Written] = []
        self.alerts = 0
        if start:
            self.spawn("run")

    # -- processes ---------------------------------------------------------------------------
    def spawn(self, name: str) -> Writer:
        writer = self.writers[name] = Writer(self, name)
        return writer

    def close(self) -> None:
        for writer in self.writers.values():
            if writer.proc.poll() is None:
                writer.proc.kill()
            writer.proc.wait(timeout=10)
        self.writers.clear()

    def __enter__(self) -> SkylineApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------
    def log(self, message: str, writer: str = "run") -> Written:
        return self._record(self.writers[writer], self.writers[writer].call(op="log", msg=message))

    def alert(
        self,
        metric: str | None = None,
        ts: int | None = None,
        value: float = 87.5,
        writer: str = "run",
    ) -> Written:
        """Log an alert line that the parser turns into one AnomalyAlert."""
        return self.log(self.alert_message(metric, ts, value), writer)

    def alert_message(
        self, metric: str | None = None, ts: int | None = None, value: float = 87.5
    ) -> str:
        """An alert message (alerters.py:1761, Skyline's own Slack off), distinct metric and
        timestamp unless given; counted in ``alerts``."""
        self.alerts += 1
        metric = metric or f"stats.{self.app}.host{self.alerts:05d}.cpu.user"
        ts = ts or 1795698600 + 60 * self.alerts
        if self.app == "mirage":
            data = lines.mirage_metric("v5", value, metric, ts)
        else:
            data = lines.analyzer_metric("v5", value, metric, ts)
        return lines.slack_disabled(lines.alert_tuple("stats", "slack", 3600, 168), data)

    def traceback(self, message: str = "boom", writer: str = "run") -> Written:
        """``logger.error(traceback.format_exc())``: a prefixed line, continuation lines and a
        trailing empty line (catalogue §6)."""
        w = self.writers[writer]
        return self._record(w, w.call(op="traceback", msg=message))

    def half(self, message: str, split: int | None = None, writer: str = "run") -> Written:
        """Write the first part of a record (``split`` bytes, default half); ``rest`` ends it."""
        w = self.writers[writer]
        return self._record(w, w.call(op="half", msg=message, split=split))

    def rest(self, writer: str = "run") -> None:
        self.writers[writer].call(op="rest")

    def _record(self, writer: Writer, reply: dict, lost: bool = False) -> Written:
        rec = Written(self.app, writer.pid, str(reply["text"]), int(reply.get("inode", 0)))
        (self.lost if lost else self.written).append(rec)
        return rec

    # -- rotation and restarts -----------------------------------------------------------------
    def rollover(self, days_ago: int = 1, writers: Iterable[str] | None = None) -> str:
        """Make it midnight for these writers (default all): each renames ``<app>.log`` to
        ``<app>.log.<today - days_ago>`` on its own next record. Returns that file name."""
        at = int(time.time()) - (days_ago - 1) * 86400
        for name in writers if writers is not None else list(self.writers):
            self.writers[name].call(op="rollover", at=at)
        return f"{self.app}.log." + time.strftime("%Y-%m-%d", time.localtime(at - 86400))

    def stop(self) -> None:
        """bin/<app>.d stop: its lines, then every process ends."""
        for writer in list(self.writers.values()):
            self._bash(_STOP_LINE, MSG=f"stopping process {writer.pid}")
            writer.exit()
        self.writers.clear()
        self._bash(_STOP_LINE, MSG=f"all {self.app} processes have been stopped - OK")

    def restart(
        self, new_messages: Sequence[str] = (), *, handshake: bool = True, wait_seconds: int = 5
    ) -> None:
        """bin/<app>.d restart: stop, ``cat log > log.last``, agent start (python-daemon
        truncates the log), the new process logs ``new_messages``, then the handshake and
        ``cat log.last log > log.new; cat log.new > log``. Without ``handshake`` the new
        process never removes ``.wait``: after ``wait_seconds`` the script gives up and the old
        content stays only in ``<app>.log.last``."""
        self.stop()
        self._bash(_PRE_START)
        run = self.spawn("run")
        self._record(run, run.call(op="log", msg="Testing algorithms"), lost=True)
        run.call(op="truncate")
        script = subprocess.Popen(
            ["bash", "-c", _PRELUDE + _HANDSHAKE], env=self._env(WAIT_SECONDS=str(wait_seconds))
        )
        for message in new_messages:
            self.log(message)
        if handshake:
            run.call(op="remove", path=f"{self.log_path}.wait")
            run.call(op="wait_gone", path=f"{self.log_path}.lock", timeout=wait_seconds + 5)
        script.wait(timeout=wait_seconds + 30)
        self.log(f"starting {self.app} run")

    def _env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "LOG_PATH": str(self.log_dir), "SERVICE_NAME": self.app, **extra}

    def _bash(self, script: str, **extra: str) -> None:
        subprocess.run(["bash", "-c", _PRELUDE + script], env=self._env(**extra), check=True)


def truncate_like_daemon(path: Path) -> None:
    """python-daemon's ``open(stdout_path, 'w+t')``: truncate to 0, same inode."""
    with open(path, "w+"):
        pass


def expected_event_ids(apps: Iterable[SkylineApp], *, surviving: bool = False) -> set[str]:
    """The ids of the events in everything the apps wrote, per the real LogParser. With
    ``surviving``, only records still in some file of the app (CPython's rollover deletes a
    rotated file that another process rotated first: what nobody held open is gone)."""
    from parsers import LogParser

    ids: set[str] = set()
    for app in apps:
        on_disk = "".join(
            p.read_text(errors="replace")
            for p in app.log_dir.iterdir()
            if p.is_file() and p.name.startswith(f"{app.app}.log") and not p.name.endswith(".gz")
        )
        for rec in app.written:
            if surviving and rec.text not in on_disk:
                continue
            parser = LogParser(app.app, str(app.log_path))
            ids |= {e.event_id for e in parser.feed(rec.text.encode()) + parser.finish()}
    return ids


def alert_count(apps: Iterable[SkylineApp]) -> int:
    return sum(app.alerts for app in apps)


# -- the pipeline under test ------------------------------------------------------------------
def stored_ids(db_path: Path) -> set[str]:
    """Event ids in the state database (read through a connection of our own)."""
    import sqlite3

    if not Path(db_path).exists():
        return set()
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM events")}
    except sqlite3.OperationalError:  # not created yet
        return set()
    finally:
        conn.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout``: no fixed sleeps for correctness."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class RunningIngest:
    """The real Store + Tailer + Ingestor running in a thread (its own SQLite connection), the
    way the daemon runs them. ``stats`` holds the ingest and tailer counters once stopped."""

    def __init__(self, log_dir: Path, db_path: Path, apps: Sequence[str], **tailer_kw: object):
        import threading

        self._args = (Path(log_dir), Path(db_path), tuple(apps), tailer_kw)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None
        self.ingest_stats: object = None
        self.tailer_stats: object = None

    def _run(self) -> None:
        from sidecar.ingest import Ingestor
        from sidecar.state.store import Store
        from sidecar.tail.tailer import Tailer

        log_dir, db_path, apps, kw = self._args
        store = Store.open(db_path)
        tailer = Tailer(log_dir, apps, store.files(), **kw)  # type: ignore[arg-type]
        ingestor = Ingestor(store, tailer)
        try:
            while not self._stop.is_set():
                ingestor.run_once()
                tailer.wait(0.2)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
        finally:
            self.ingest_stats, self.tailer_stats = ingestor.stats, tailer.stats
            tailer.close()
            store.close()

    def __enter__(self) -> RunningIngest:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "ingest thread did not stop"
        if self.error is not None:
            raise self.error
