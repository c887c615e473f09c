"""One Skyline app process for tests, logging through Skyline's exact handler stack on command.

Usage: ``skyline_writer.py LOGFILE APP MEMORY(0|1)``. Reads one JSON command per line on stdin
and answers one JSON line per command on stdout (driven by tests/support/skyline_sim.py):

* the handler is skyline/analyzer/agent.py:103-112: ``TimedRotatingFileHandler(logfile,
  when="midnight", interval=1, backupCount=5)`` with Skyline's formatter, wrapped for the
  analyzer in ``MemoryHandler(256, flushLevel=logging.DEBUG)``; it is opened (append mode)
  before anything else, like the agent does before python-daemon starts;
* ``truncate`` is python-daemon's ``open(stdout_path, 'w+t')`` (runner.3.0.0.py:133), kept open.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import time
import traceback


class _Last(logging.Filter):
    """Remembers the last record the file handler wrote, to report its exact text."""

    record: logging.LogRecord | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        self.record = record
        return True


def main() -> None:
    logfile, app, memory = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    logger = logging.getLogger(app + "Log")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.handlers.TimedRotatingFileHandler(
        logfile, when="midnight", interval=1, backupCount=5
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s :: %(process)s :: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    )
    last = _Last()
    handler.addFilter(last)
    if memory:
        logger.addHandler(
            logging.handlers.MemoryHandler(256, flushLevel=logging.DEBUG, target=handler)
        )
    else:
        logger.addHandler(handler)
    daemon_stdout = None
    rest = ""

    def written() -> dict[str, object]:
        assert last.record is not None
        return {
            "text": handler.format(last.record) + handler.terminator,
            "inode": os.fstat(handler.stream.fileno()).st_ino,
        }

    reply({"pid": os.getpid()})
    for raw in sys.stdin:
        cmd = json.loads(raw)
        op = cmd["op"]
        out: dict[str, object] = {}
        if op == "log":
            logger.info(cmd["msg"])
            out = written()
        elif op == "traceback":
            try:
                raise RuntimeError(cmd["msg"])
            except RuntimeError:
                logger.error(traceback.format_exc())
            out = written()
        elif op == "half":
            # One record written in two write(2) calls: the reader sees half a line meanwhile.
            record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, cmd["msg"], (), None)
            text = handler.format(record) + handler.terminator
            split = cmd.get("split") or len(text) // 2
            handler.stream.write(text[:split])
            handler.stream.flush()
            rest = text[split:]
            out = {"text": text}
        elif op == "rest":
            handler.stream.write(rest)
            handler.stream.flush()
            rest = ""
        elif op == "rollover":
            handler.rolloverAt = cmd["at"]
        elif op == "truncate":
            daemon_stdout = open(logfile, "w+")  # noqa: SIM115 - python-daemon: 'w+t', kept open
        elif op == "remove":
            if os.path.exists(cmd["path"]):
                os.remove(cmd["path"])
        elif op == "wait_gone":
            deadline = time.monotonic() + cmd["timeout"]
            while os.path.exists(cmd["path"]) and time.monotonic() < deadline:
                time.sleep(0.05)
            out = {"gone": not os.path.exists(cmd["path"])}
        elif op == "exit":
            reply({})
            break
        reply(out)
    if daemon_stdout is not None:
        daemon_stdout.close()


def reply(data: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
