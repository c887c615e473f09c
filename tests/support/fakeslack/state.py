"""The fake Slack's data: workspace constants, messages, channels, files, rate buckets,
scripted faults, replies, and the parameter and ts helpers every handler uses."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

JSON = dict[str, Any]

TEAM_ID = "T0FAKE0001"
TEAM_NAME = "Fake Workspace"
TEAM_DOMAIN = "fake-workspace"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"
BOT_NAME = "skyline-sidecar"
HUMAN_USER_ID = "U0HUMAN001"

MAX_TEXT_CHARS = 40_000
MAX_BLOCKS = 50
MAX_ATTACHMENTS = 100
MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_PAGE = 100
MAX_PAGE = 999

DEFAULT_METHOD_SCOPES: Mapping[str, str] = {
    "chat.postMessage": "chat:write",
    "reactions.add": "reactions:write",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "conversations.info": "channels:read",
    "conversations.list": "channels:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.upload": "files:write",
    "files.info": "files:read",
}

#: Workspace-wide limits per method, as Slack's tiers (Tier 3: 50+ a minute; chat.postMessage
#: has an unpublished workspace limit besides its per-channel one, taken here as 360 a minute):
#: for ``method_limits``.
SLACK_TIERS: Mapping[str, tuple[float, int]] = {
    "chat.postMessage": (6.0, 12),
    "reactions.add": (50 / 60, 5),
    "conversations.history": (50 / 60, 5),
    "conversations.replies": (50 / 60, 5),
}
#: needed by conversations.list for private channels, on top of its method scope
PRIVATE_LIST_SCOPE = "groups:read"
CONVERSATION_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})

FaultKind = Literal[
    "http_500", "http_503", "ratelimited", "slow", "drop_after_store", "drop_before", "error"
]
_FAULT_KWARGS: Mapping[str, frozenset[str]] = {
    "http_500": frozenset(),
    "http_503": frozenset(),
    "ratelimited": frozenset({"retry_after"}),
    "slow": frozenset({"seconds", "phase"}),
    "drop_after_store": frozenset(),
    "drop_before": frozenset(),
    "error": frozenset({"error", "perform"}),
}

_TS_RE = re.compile(r"^\d{1,12}\.\d{6}$")
_CHANNEL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MISSING = object()

# What Slack's edge serves during incidents: HTML, not JSON.
_OUTAGE_HTML = (
    "<!DOCTYPE html><html><head><title>Slack is having trouble</title></head>"
    "<body><h1>{status}</h1><p>Slack is experiencing issues. Please try again later.</p>"
    "</body></html>"
)


class Call(NamedTuple):
    """One request as the server saw it; ``status`` is None when the socket was dropped."""

    method: str
    params: JSON
    status: int | None


@dataclass
class Message:
    """A snapshot (deep copy) of a stored message, for assertions."""

    channel: str
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    metadata: JSON | None = None
    blocks: list[Any] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    reply_broadcast: bool = False
    files: list[JSON] | None = None


class ManualClock:
    """A monotonic clock the test moves by hand, for rate-limit and outage timing."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += seconds


class _ApiError(Exception):
    """An ``ok: false`` answer; ``extra`` goes into the JSON body next to ``error``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class _Msg:
    ts: str
    text: str
    user: str
    bot_id: str | None
    thread_ts: str | None = None
    parent_user: str | None = None
    metadata: JSON | None = None
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    reply_broadcast: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    replies: list[_Msg] = field(default_factory=list)
    files: list[JSON] | None = None


@dataclass
class _File:
    id: str
    name: str
    length: int
    created: int
    title: str = ""
    data: bytes | None = None
    completed: bool = False
    shares: dict[str, list[str]] = field(default_factory=dict)  # channel id -> message ts

    def render(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "image/png" if self.name.endswith(".png") else "application/octet-stream",
            "filetype": self.name.rpartition(".")[2] if "." in self.name else "binary",
            "size": len(self.data or b""),
            "user": BOT_USER_ID,
            "created": self.created,
            "is_public": bool(self.shares),
        }


@dataclass
class _PendingShare:
    visible_at: float  # time.monotonic()
    channel: _Channel
    msg: _Msg
    parent: _Msg | None
    file: _File


@dataclass
class _Channel:
    id: str
    name: str
    is_member: bool
    is_archived: bool
    created: int
    is_private: bool = False
    timeline: list[_Msg] = field(default_factory=list)  # what history lists, oldest first
    by_ts: dict[str, _Msg] = field(default_factory=dict)  # parents and replies


@dataclass
class _Fault:
    kind: str
    remaining: int
    seconds: float = 0.0
    phase: str = "before"
    retry_after: int = 1
    error: str = "internal_error"
    perform: bool = False


@dataclass
class _Reply:
    status: int | None  # None: close the socket without answering
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the (already computed) answer back


class _Bucket:
    """Token bucket: ``burst`` calls at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> float:
        """Spend one token; return 0.0 on success, else the seconds until one is available."""
        wait = self.wait(now)
        if wait <= 0:
            self.tokens -= 1.0
        return wait

    def wait(self, now: float) -> float:
        """Refill up to ``now``; the seconds until a token is there (0.0: there is one)."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


def _json_reply(payload: JSON, status: int = 200, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), headers=headers or {})


def _html_reply(status: int) -> _Reply:
    body = _OUTAGE_HTML.format(status=status).encode()
    return _Reply(status, body, content_type="text/html; charset=utf-8")


def _ratelimited_reply(retry_after: int) -> _Reply:
    payload = {"ok": False, "error": "ratelimited"}
    return _json_reply(payload, status=429, headers={"Retry-After": str(retry_after)})


def _ts_micros(value: str) -> int:
    """``"1700000000.000123"`` (or any decimal) -> microseconds; ValueError if not a number."""
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite() or number < 0:
        raise ValueError(value)
    return int(number * 1_000_000)


def _format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{_ts_micros(ts)}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        prefix, _, micros = base64.b64decode(cursor, validate=True).decode().partition(":")
        if prefix != "next_ts":
            raise ValueError(cursor)
        return int(micros)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _ApiError("invalid_cursor") from exc


def _param_str(params: JSON, key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value)


def _param_bool(params: JSON, key: str) -> bool:
    # JSON bodies carry true/false; form bodies carry "1"/"0" (slack_sdk) or "true"/"false".
    value = params.get(key)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true"}


def _param_json(params: JSON, key: str, error: str) -> Any:
    """Structured params arrive as JSON values (JSON body) or JSON-encoded strings (form body)."""
    value = params.get(key)
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise _ApiError(error) from exc


def _param_limit(params: JSON) -> int:
    raw = params.get("limit")
    if raw in (None, ""):
        return DEFAULT_PAGE
    try:
        limit = int(str(raw))
    except ValueError as exc:
        raise _ApiError("invalid_limit") from exc
    return DEFAULT_PAGE if limit <= 0 else min(limit, MAX_PAGE)


def _parse_metadata(params: JSON) -> JSON | None:
    metadata = _param_json(params, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise _ApiError("invalid_metadata_format")
    event_type = metadata.get("event_type")
    payload = metadata.get("event_payload", {})
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise _ApiError("invalid_metadata_format")
    return {"event_type": event_type, "event_payload": copy.deepcopy(payload)}


def _parse_list(params: JSON, key: str, error: str, limit: int, limit_error: str) -> list[Any]:
    value = _param_json(params, key, error)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ApiError(error)
    if len(value) > limit:
        raise _ApiError(limit_error)
    return value


def _valid_reaction_name(name: str) -> bool:
    # Slack wants "white_check_mark", not ":white_check_mark:"; inner "::" marks a skin tone.
    return bool(name) and not name.startswith(":") and not name.endswith(":") and " " not in name


def _channel_id(seq: int) -> str:
    digits = ""
    while True:  # bounded: one pass per base-36 digit of seq
        seq, rem = divmod(seq, 36)
        digits = _B36[rem] + digits
        if seq == 0:
            break
    return "C0" + digits.rjust(9, "0")


def _normalize_name(name: str) -> str:
    return name.removeprefix("#").strip().lower()
