"""configure_logging: JSON lines off a terminal, console on one, tokens never shown."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from sidecar.service.logs import configure_logging, get_logger, redact

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.configure(**config)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_with_iso_utc_timestamps() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger("sidecar.test").info("posted", channel="#skyline", ts="1700000000.000100")
    [line] = lines(out)
    assert line.pop("timestamp").endswith("Z")
    assert line == {
        "event": "posted",
        "channel": "#skyline",
        "ts": "1700000000.000100",
        "logger": "sidecar.test",
        "level": "info",
    }


def test_timestamp_is_now_in_utc() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger("t").warning("x")
    stamp = datetime.fromisoformat(lines(out)[0]["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_tokens_are_redacted_everywhere() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    log = get_logger("t")

    class Client:
        def __repr__(self) -> str:
            return f"Client(token={TOKEN!r})"

    log.info(f"using {TOKEN}", token=TOKEN, nested={"headers": [f"Bearer {TOKEN}"]}, obj=Client())
    try:
        raise RuntimeError(f"invalid_auth for {TOKEN}")
    except RuntimeError:
        log.exception("auth failed")
    assert TOKEN not in out.getvalue()
    first, second = lines(out)
    assert first["event"] == "using xoxb-<redacted>"
    assert first["token"] == "xoxb-<redacted>"
    assert first["nested"] == {"headers": ["Bearer xoxb-<redacted>"]}
    assert first["obj"] == "Client(token='xoxb-<redacted>')"
    assert "RuntimeError: invalid_auth for xoxb-<redacted>" in second["exception"]


def test_stdlib_logging_comes_out_as_json_too() -> None:
    out = io.StringIO()
    configure_logging(stream=out, level="debug")
    logger = logging.getLogger("slack_sdk.web.base_client")
    logger.debug("Sending a request - headers: %s", {"Authorization": f"Bearer {TOKEN}"})
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logger.exception("oops")
    assert TOKEN not in out.getvalue()
    first, second = lines(out)
    assert (
        first["event"] == "Sending a request - headers: {'Authorization': 'Bearer xoxb-<redacted>'}"
    )
    assert (first["logger"], first["level"]) == ("slack_sdk.web.base_client", "debug")
    assert first["timestamp"].endswith("Z")
    assert "ZeroDivisionError" in second["exception"]


def test_level_filters_both_kinds_of_logger() -> None:
    out = io.StringIO()
    configure_logging(stream=out, level="warning")
    get_logger("a").info("quiet")
    logging.getLogger("b").info("quiet")
    get_logger("a").warning("loud")
    logging.getLogger("b").error("loud")
    assert [(line["logger"], line["event"]) for line in lines(out)] == [
        ("a", "loud"),
        ("b", "loud"),
    ]
    with pytest.raises(ValueError, match="unknown log level 'chatty'"):
        configure_logging(stream=out, level="chatty")


def test_configuring_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    configure_logging(stream=second)
    get_logger("a").info("once")
    assert first.getvalue() == ""
    assert len(lines(second)) == 1


def test_console_renderer_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        with open(follower, "w", closefd=False) as tty:
            configure_logging(stream=tty)
            get_logger("sidecar").info("tailing", token=TOKEN)
        text = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "tailing" in text
    assert "xoxb-<redacted>" in text
    assert TOKEN not in text
    assert not text.lstrip().startswith("{")


def test_default_is_json_on_stdout_when_stdout_is_not_a_terminal() -> None:
    code = (
        "import logging\n"
        "from sidecar.service.logs import configure_logging, get_logger\n"
        "configure_logging()\n"
        f"get_logger('sidecar').info('started', token={TOKEN!r})\n"
        f"logging.getLogger('slack_sdk').warning('retrying %s', {TOKEN!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stderr == ""
    assert TOKEN not in result.stdout
    started, retrying = (json.loads(line) for line in result.stdout.splitlines())
    assert (started["event"], started["token"]) == ("started", "xoxb-<redacted>")
    assert (retrying["event"], retrying["logger"]) == ("retrying xoxb-<redacted>", "slack_sdk")


@pytest.mark.parametrize("kind", "abposr")
def test_redact_every_token_kind(kind: str) -> None:
    assert redact(f"t=xox{kind}-1-2-abc, next") == f"t=xox{kind}-<redacted>, next"


def test_redact_leaves_other_text_alone() -> None:
    assert redact("xoxz-123 xoxb xoxb- C024BE91L") == "xoxz-123 xoxb xoxb- C024BE91L"
