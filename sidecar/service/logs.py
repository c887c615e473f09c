"""Structured logging: JSON lines for journald, a readable console on a terminal.

Both structlog loggers and stdlib ``logging`` (slack_sdk, watchdog, urllib3 log through it) end
in one handler whose `structlog.stdlib.ProcessorFormatter` renders every record the same way, and
Slack tokens are redacted from every line on the way out.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["configure_logging", "get_logger", "redact", "redact_tokens"]

_TOKEN = re.compile(r"(xox[abposr])-[A-Za-z0-9-]+")
# Whatever the token's shape, an Authorization header that made it into an error message.
_BEARER = re.compile(r"(Bearer\s+)(?!xox[abposr]-)[^\s'\"]+")

# Tells our handler apart from handlers others put on the root logger, so that calling
# configure_logging() again replaces it instead of logging every line twice.
_HANDLER_NAME = "skyline-slack-sidecar"


def redact(text: str) -> str:
    """``xoxb-1234-abcd`` -> ``xoxb-<redacted>``."""
    return _BEARER.sub(r"\1<redacted>", _TOKEN.sub(r"\1-<redacted>", text))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if type(value) in (list, tuple):  # exact types: a namedtuple cannot be rebuilt like this
        return type(value)(_redact_value(v) for v in value)
    return value  # other objects are caught in the rendered line by _redact_rendered


def redact_tokens(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Processor: redact Slack tokens in every string of the event dict (exception text too)."""
    return {key: _redact_value(value) for key, value in event_dict.items()}


def _redact_rendered(_: WrappedLogger, __: str, line: str) -> str:
    # Last line of defence: reprs of arbitrary objects are only produced by the renderer.
    return redact(line)


def configure_logging(
    *, json: bool | None = None, level: str | int = "info", stream: TextIO | None = None
) -> None:
    """Send all logging to *stream* (default stdout) at *level*.

    *json* defaults to "stream is not a terminal": under systemd stdout goes to journald, which
    stores each JSON line as the message.
    """
    stream = stream if stream is not None else sys.stdout
    tty = _isatty(stream)
    if json is None:
        json = not tty
    if isinstance(level, str):
        try:
            level = logging.getLevelNamesMapping()[level.upper()]
        except KeyError:
            raise ValueError(f"unknown log level {level!r}") from None

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=tty)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Render exceptions to text before redacting: a token can be in an error message.
            structlog.processors.format_exc_info,
            redact_tokens,
            renderer,
            # structlog types every processor as taking an event dict; after the renderer it
            # is given the rendered line.
            _redact_rendered,  # type: ignore[list-item]
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger named *name* (``logger`` key in the output)."""
    return structlog.stdlib.get_logger(name)
