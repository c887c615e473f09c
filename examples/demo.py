#!/usr/bin/env python3
"""``make demo``: the sidecar in dry-run mode on bundled Skyline logs while Skyline writes more.

    .venv/bin/python examples/demo.py [--format text|json] [--seconds N] [--workdir DIR]

Copies examples/demo.toml and examples/skyline-logs/ (made by tests/support/example_logs.py) into a
scratch directory, starts ``python -m sidecar run --dry-run --from-start --exit-after N`` there
(its stdout is ours: the intended Slack actions; its own log goes to ``sidecar.log``), and
meanwhile appends new Skyline lines the way Skyline does: through a logger with Skyline's handler
and formatter, one write per record to a file opened in append mode. The new lines are a Mirage
alert (its first line written in two halves, to show that only whole lines are read), then its
training data page viewed and a features profile created from it in webapp.log: the bundled
logs' own lines for the 13:10 alert of stats.web01.cpu.user, re-told of a new metric, anomaly
time, metric id, profile id and user (see ``Template``). Exits with the sidecar's status once it
has stopped by itself.

With ``--format json`` stdout carries only the sidecar's JSON lines (one per action); the
explanations go to stderr. The bundled files are never modified.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import logging.handlers
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUNDLED_LOGS = HERE / "skyline-logs"
DEMO_TOML = HERE / "demo.toml"

# skyline/analyzer/agent.py:103-112, the handler and formatter of every Skyline app
SKYLINE_FORMAT = "%(asctime)s :: %(process)s :: %(message)s"
SKYLINE_DATEFMT = "%Y-%m-%d %H:%M:%S"

# What Skyline finds while the demo runs: an anomaly in the 'stats.web' namespace, which
# examples/demo.toml routes to #skyline and #ops.
LIVE_METRIC = "stats.web04.cpu.user"
LIVE_NAMESPACE = "stats.web"
LIVE_VALUE = 97.4
LIVE_METRIC_ID = 305
LIVE_FP_ID = 1301
LIVE_USER, LIVE_USER_ID = "ops", 2

DEFAULT_SECONDS = 12.0

# The bundled alert whose lines the live ones are made from (examples/skyline-logs/, 13:10 UTC).
BUNDLED_METRIC = "stats.web01.cpu.user"
BUNDLED_TS = 1795698600
BUNDLED_VALUE = "87.5"
BUNDLED_METRIC_ID, BUNDLED_FP_ID = 271, 1234
BUNDLED_USER, BUNDLED_USER_ID = "admin", 1
MIRAGE_RUN, MIRAGE_SPIN, WEBAPP_WORKER = 23456, 23499, 3120441


@dataclass(frozen=True)
class Template:
    """Lines of the bundled logs, re-told of another anomaly: the metric, every epoch (shifted
    by the same offset as the anomaly's), the value, metric id, profile id and user replaced;
    request ids re-hashed. The bundled logs hold Skyline's own wording (they are made from its
    format strings), so the live lines are too."""

    metric: str
    ts: int
    value: float
    metric_id: int
    fp_id: int
    user: str
    user_id: int

    def lines(self, app: str, at: str, pid: int | None = None, about: str = "") -> list[str]:
        """The messages ``pid`` (any if None) logged at ``at`` (HH:MM:SS) in ``<app>.log`` that
        contain ``about``, re-told."""
        out = []
        for line in (BUNDLED_LOGS / f"{app}.log").read_text().splitlines():
            parts = line.split(" :: ", 2)
            if (
                len(parts) == 3
                and parts[0].endswith(at)
                and pid in (None, int(parts[1]))
                and about in parts[2]
            ):
                out.append(self.retell(parts[2]))
        return out

    def retell(self, message: str) -> str:
        shift = self.ts - BUNDLED_TS
        text = message.replace(BUNDLED_METRIC, self.metric)
        text = text.replace(BUNDLED_METRIC.replace(".", "/"), self.metric.replace(".", "/"))
        text = re.sub(r"\b1795\d{6}\b", lambda m: str(int(m[0]) + shift), text)
        text = re.sub(rf"\b{re.escape(BUNDLED_VALUE)}\b", f"{self.value:g}", text)
        text = re.sub(rf"\b{BUNDLED_METRIC_ID}\b", str(self.metric_id), text)
        text = re.sub(rf"\b{BUNDLED_FP_ID}\b", str(self.fp_id), text)
        text = text.replace(
            f"with {BUNDLED_USER} returned user id {BUNDLED_USER_ID}",
            f"with {self.user} returned user id {self.user_id}",
        )
        text = text.replace(f"by user id {BUNDLED_USER_ID}", f"by user id {self.user_id}")
        # a request id of its own: the bundled one, hashed with the new metric
        return re.sub(
            r"\b[0-9a-f]{64}\b",
            lambda m: hashlib.sha256(f"{self.metric}{m[0]}".encode()).hexdigest(),
            text,
        )


class SkylineLogs:
    """Appends records to ``<log_dir>/<app>.log`` as a Skyline app does: ``logging`` with a
    ``TimedRotatingFileHandler(when="midnight", interval=1, backupCount=5)`` (append mode, one
    write per record) and Skyline's formatter."""

    def __init__(self, log_dir: Path, apps: Iterable[str]):
        self._loggers: dict[str, logging.Logger] = {}
        self._handlers: dict[str, logging.handlers.TimedRotatingFileHandler] = {}
        for app in apps:
            handler = logging.handlers.TimedRotatingFileHandler(
                log_dir / f"{app}.log", when="midnight", interval=1, backupCount=5
            )
            handler.setFormatter(logging.Formatter(SKYLINE_FORMAT, datefmt=SKYLINE_DATEFMT))
            logger = logging.getLogger(f"skyline_demo.{app}Log")
            logger.setLevel(logging.DEBUG)
            logger.propagate = False
            logger.handlers[:] = [handler]
            self._loggers[app], self._handlers[app] = logger, handler

    def log(self, app: str, messages: Iterable[str]) -> int:
        """Log each message (the pid is this process's, as for any process that logs)."""
        count = 0
        for message in messages:
            self._loggers[app].info(message)
            count += 1
        return count

    def half(self, app: str, message: str) -> tuple[str, str]:
        """Write the first half of a record and flush: a reader sees a line with no newline.
        Returns (written, rest)."""
        logger, handler = self._loggers[app], self._handlers[app]
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, (), None)
        text = handler.format(record) + handler.terminator
        first, rest = text[: len(text) // 2], text[len(text) // 2 :]
        self._write(handler, first)
        return first, rest

    def rest(self, app: str, text: str) -> None:
        self._write(self._handlers[app], text)

    @staticmethod
    def _write(handler: logging.handlers.TimedRotatingFileHandler, text: str) -> None:
        handler.acquire()
        try:
            assert handler.stream is not None
            handler.stream.write(text)
            handler.stream.flush()
        finally:
            handler.release()

    def close(self) -> None:
        for handler in self._handlers.values():
            handler.close()


def skyline_writes(
    logs: SkylineLogs, span: float, stop: threading.Event, say: Callable[[str], None]
) -> None:
    """Skyline at work for ``span`` seconds: a Mirage alert, then its lifecycle in webapp.log."""
    start = time.monotonic()

    def at(fraction: float) -> bool:
        return not stop.wait(max(0.0, start + fraction * span - time.monotonic()))

    now = int(time.time())
    ts = now - now % 60 - 60  # the anomaly: the last full minute's datapoint
    metric = LIVE_METRIC
    live = Template(metric, ts, LIVE_VALUE, LIVE_METRIC_ID, LIVE_FP_ID, LIVE_USER, LIVE_USER_ID)
    # Mirage's spin_process confirms the anomaly, then its run() alerts through slack with
    # Skyline's own Slack off: 'not an Ionosphere metric ...', trigger_alert (mirage.py:5849),
    # alert_slack's SLACK_ENABLED line (mirage_alerters.py:1839), 'sent slack alert' (:5869).
    analysis = live.lines("mirage", "13:11:12", MIRAGE_SPIN, about=BUNDLED_METRIC)
    checking, trigger, *the_rest = live.lines("mirage", "13:11:14", MIRAGE_RUN)
    summary = live.lines("mirage", "13:11:15", MIRAGE_RUN, about="total anomalies")

    n = logs.log("mirage", [*analysis, checking])
    say(
        f"mirage.log  +{n} lines: Mirage confirms an anomaly, {metric} = {LIVE_VALUE:g}"
        f" at {time.strftime('%H:%M', time.gmtime(ts))} UTC"
    )
    if not at(0.15):
        return
    written, rest = logs.half("mirage", trigger)
    say(
        f"mirage.log  half a line: the first {len(written)} of {len(written) + len(rest)}"
        " characters of its 'trigger_alert :: ...' line, no newline yet (not read: only whole"
        " lines are)"
    )
    if not at(0.4):
        return
    logs.rest("mirage", rest)
    n = 1 + logs.log("mirage", [*the_rest, *summary])
    say(
        f"mirage.log  +{n} lines: the rest of that line (now the alert is read), 'alert_slack -"
        " SLACK_ENABLED is False ...', 'sent slack alert ...'"
    )
    if not at(0.6):
        return
    n = logs.log("webapp", live.lines("webapp", "13:12:00", WEBAPP_WORKER))
    say(f"webapp.log  +{n} lines: {LIVE_USER} opens the alert's training data page")
    if not at(0.85):
        return
    # the request's worker and the features_profile helper process (two pids)
    n = logs.log("webapp", live.lines("webapp", "13:15:16"))
    say(
        f"webapp.log  +{n} lines: {LIVE_USER} creates features profile {LIVE_FP_ID} from it,"
        " with learn"
    )


def prepare(workdir: Path) -> Path:
    """Copy the config and the bundled logs into ``workdir``; returns the config's path."""
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise SystemExit(f"demo.py: --workdir {workdir} is not empty")
    (workdir / "skyline-logs").mkdir()
    for path in sorted(BUNDLED_LOGS.glob("*.log")):
        # copyfile, not copy2: a fresh mtime, so the handler does not take the copies for
        # yesterday's files and rotate them at its first record.
        shutil.copyfile(path, workdir / "skyline-logs" / path.name)
    shutil.copyfile(DEMO_TOML, workdir / "demo.toml")
    return workdir / "demo.toml"


def header(out: TextIO, config: dict, workdir: Path, seconds: float, span: float) -> None:
    slack = config["slack"]
    routes = [(ns, [ch] if isinstance(ch, str) else ch) for ns, ch in slack["channels"].items()]
    width = max(len(ns) for ns, _ in routes) + 2
    lines = [
        "skyline-slack-sidecar demo: a dry run, nothing is sent to Slack.",
        "",
        "The sidecar tails a copy of a small Skyline LOG_PATH (examples/skyline-logs/: analyzer,",
        "mirage, webapp and ionosphere logs of 2026-11-26) from the start and prints each Slack",
        "action it would take:",
        "  * 3 anomaly alerts (Skyline's own Slack is off), routed by the ALERTS namespace they",
        "    matched, as [slack.channels] in examples/demo.toml says:",
        *(
            f"        {ns:<{width}}-> {', '.join(chs)}"
            + ("   (the thread is in the first)" if len(chs) > 1 else "")
            for ns, chs in routes
        ),
        f"        {'(other)':<{width}}-> {slack['default_channel']}   (default_channel)",
        "  * the features-profile lifecycle of the stats.web01.cpu.user alert, as replies and",
        "    reactions in its thread: training data viewed :eyes:, profile created :thumbsup:,",
        "    learnt :thumbsup: :heavy_check_mark:, validated, disabled :x:. A bulk validation is",
        "    a channel message, as Skyline posts it. The four logs are read side by side, so the",
        "    history catches up file by file, not in the order Skyline logged it.",
        f"Meanwhile, for {span:g} s, Skyline writes new lines (shown as [skyline]): a new Mirage",
        "alert, its first line in two halves, then its training data is viewed and a features",
        f"profile is created. The sidecar stops by itself after {seconds:g} s.",
        "",
        f"Scratch directory: {workdir}",
        "",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def footer(out: TextIO, code: int, workdir: Path, seconds: float) -> None:
    files = [
        ("demo.toml", "the configuration it ran with"),
        ("skyline-logs/", "the copied logs, with the lines written meanwhile"),
        ("sidecar.log", "its own log (JSON lines)"),
    ]
    width = max(len(f"{workdir}/{name}") for name, _ in files) + 2
    lines = [
        "",
        f"The sidecar stopped (exit status {code}) after {seconds:g} s. Its files:",
        *(f"  {f'{workdir}/{name}':<{width}}{what}" for name, what in files),
        "The bundled logs in examples/skyline-logs/ are unchanged; remove the scratch directory"
        " when done.",
        "To post for real, see README.md, 'Install beside Skyline'.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def wait_until_running(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Until the sidecar logs that it runs (its tailers are up), it exits, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and '"running"' in log.read_text(errors="replace"):
            return
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="the sidecar's output: text for people, json one object per action"
        " (explanations then go to stderr)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"stop the sidecar after this many seconds (default {DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="an empty or new directory for the scratch copy (default: a new"
        " temporary directory, kept afterwards)",
    )
    args = parser.parse_args(argv)
    if args.seconds < 2:
        parser.error("--seconds must be at least 2")
    out = sys.stdout if args.format == "text" else sys.stderr

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="skyline-sidecar-demo-"))).absolute()
    config_path = prepare(workdir)
    with config_path.open("rb") as f:
        config = tomllib.load(f)
    span = max(1.0, min(6.0, args.seconds / 2))
    header(out, config, workdir, args.seconds, span)

    def say(text: str) -> None:
        out.write(f"[skyline] {text}\n")
        out.flush()

    sidecar_log = workdir / "sidecar.log"
    command = [
        sys.executable,
        "-m",
        "sidecar",
        "run",
        "--config",
        str(config_path),
        "--dry-run",
        "--format",
        args.format,
        "--from-start",
        "--exit-after",
        f"{args.seconds:g}",
    ]
    logs = SkylineLogs(workdir / "skyline-logs", ("mirage", "webapp"))
    stop = threading.Event()
    with sidecar_log.open("wb") as err:
        # cwd: the repository, so `-m sidecar` finds the package even when it is not installed.
        proc = subprocess.Popen(command, cwd=REPO, stderr=err)

        def writer() -> None:
            wait_until_running(proc, sidecar_log, timeout=10.0)
            if proc.poll() is None and not stop.wait(0.5):
                skyline_writes(logs, span, stop, say)

        thread = threading.Thread(target=writer, name="skyline-writer", daemon=True)
        thread.start()
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # the sidecar got the SIGINT too: it stops cleanly
            code = proc.wait()
        stop.set()
        thread.join(timeout=5)
    logs.close()

    if code != 0:
        tail = sidecar_log.read_text(errors="replace").splitlines()[-15:]
        sys.stderr.write(
            "\n".join(
                [
                    "",
                    "The sidecar failed; the end of its log:",
                    *tail,
                    "(make demo creates .venv and installs the sidecar first)",
                    "",
                ]
            )
        )
    footer(out, code, workdir, args.seconds)
    return code


if __name__ == "__main__":
    sys.exit(main())
