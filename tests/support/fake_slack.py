"""A fake Slack Web API server for tests: real HTTP on 127.0.0.1, stdlib only.

slack_sdk's real ``WebClient`` is pointed at it with ``base_url=fake.base_url``, so the tests
exercise the same encoding, HTTP error and retry paths as production.

Behaviours chosen where Slack's own behaviour is undocumented or uncertain:

* ``chat.postMessage`` with ``thread_ts`` set to a *reply's* ts: the reply joins the parent's
  thread and the response carries the parent's ts as ``thread_ts`` (``reply_ts_policy="parent"``).
  ``reply_ts_policy="error"`` answers ``thread_not_found`` instead, to catch clients that thread
  on a reply. An unknown but well-formed ``thread_ts`` is ``thread_not_found``; a malformed one
  is ``invalid_thread_ts``.
* Order of checks: outage, unknown method, scripted fault, auth, scope, rate limit, arguments.
  A rate-limit token is spent by every authenticated call (Slack counts requests, not successes);
  a refused (429) call spends none, from any of its buckets.
* Rate limits: ``chat.postMessage`` per channel (``post_rate``/``post_burst``: ``post_burst=2``
  is Slack's short burst, ``1`` a strict limiter), ``reactions.add`` workspace-wide, and
  ``method_limits`` (e.g. :data:`SLACK_TIERS`): a workspace-wide bucket per method on top.
  ``Retry-After`` is the whole seconds until a token is back (at least 1).
* ``reactions.add``, ``conversations.history`` and ``conversations.replies`` need the bot to be a
  member (``not_in_channel``); archived channels refuse posts and reactions (``is_archived``) but
  can still be read. ``chat.getPermalink`` and ``conversations.info`` need no membership.
* Only ``chat.postMessage`` resolves channel names; every other method wants an ID.
* A private channel the bot is not in does not exist for it (``channel_not_found``), and
  ``conversations.list`` lists it only to members. ``conversations.list`` pages by channel id
  (``types`` defaults to ``public_channel``; ``private_channel`` needs ``groups:read``).
* Replies posted with ``reply_broadcast`` also appear in ``conversations.history`` (subtype
  ``thread_broadcast``), as in Slack; :meth:`FakeSlack.messages` lists parents only.
* ``conversations.replies`` with a reply's ts returns the whole thread. Its pages split the list
  ``[parent, *replies]``: only the first page starts with the parent.
* Cursors are base64 of ``next_ts:<microseconds>`` (Slack's style), so a page boundary stays put
  when newer messages arrive during pagination.
* Responses close the connection (HTTP/1.0 style): every request uses its own socket, which keeps
  "drop" faults unambiguous and shutdown bounded.
* ``Call.status`` is ``None`` when the connection was dropped without any response.
* ``ts`` values come from the wall clock (bumped to stay unique); the ``clock`` argument only
  drives rate-limit buckets and ``outage()``, so a :class:`ManualClock` makes those deterministic.
* Files, as Slack's upload flow: ``files.getUploadURLExternal`` answers an ``upload_url`` on this
  server (``/upload/v1/<key>``) that takes the raw bytes (or a multipart ``file`` part) by POST;
  ``files.completeUploadExternal`` needs the bytes uploaded (else ``file_not_found``) and shares
  the file into ``channel_id`` (an ID; names are ``channel_not_found``) with ``initial_comment``
  as the message text, or shares nothing without a channel. The share (the file's message in
  history and in ``files.info`` ``shares``) becomes visible ``share_delay`` seconds (wall clock)
  after completion, as Slack shares asynchronously. Every completion call shares again, so a
  client completing twice shows a duplicate. ``files.info`` on a file never completed is
  ``file_not_found``. ``files.upload`` answers ``method_deprecated`` (Slack retired it).
  ``inject("upload", "http_500" | "http_503" | "drop_before")`` spoils the upload URL's POST.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
import socketserver
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

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
            "id": self.id, "name": self.name, "title": self.title or self.name,
            "mimetype": "image/png" if self.name.endswith(".png") else "application/octet-stream",
            "filetype": self.name.rpartition(".")[2] if "." in self.name else "binary",
            "size": len(self.data or b""), "user": BOT_USER_ID, "created": self.created,
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


def _parse_body(content_type: str, body: bytes) -> JSON:
    """Decode a request body into params; raises _ApiError like Slack's input checks."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise _ApiError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise _ApiError("invalid_json")
        return parsed
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _ApiError("invalid_form_data") from exc


def _parse_multipart(content_type: str, body: bytes) -> JSON:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise _ApiError("invalid_form_data")
    params: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name:
            params[str(name)] = payload.decode("utf-8", errors="replace")
    return params


class FakeSlack:
    """An in-memory Slack workspace served over HTTP on 127.0.0.1 (ephemeral port).

    Use as a context manager or call :meth:`start` / :meth:`stop`. All inspection helpers are
    thread-safe and return copies.
    """

    def __init__(
        self,
        tokens: Iterable[str] = ("xoxb-test",),
        post_rate: float | None = 1.0,
        post_burst: int = 3,
        *,
        reaction_rate: float | None = 20.0,
        reaction_burst: int = 50,
        method_limits: Mapping[str, tuple[float, int]] | None = None,
        scopes: Iterable[str] | None = None,
        method_scopes: Mapping[str, str] | None = None,
        reply_ts_policy: Literal["parent", "error"] = "parent",
        clock: Callable[[], float] = time.monotonic,
        share_delay: float = 0.3,
    ) -> None:
        self._tokens = frozenset(tokens)
        if not self._tokens:
            raise ValueError("at least one token is needed")
        self._first_token = sorted(self._tokens)[0]
        # method_scopes={} is meaningful (no scope needed anywhere), so test for None.
        self._method_scopes = dict(
            DEFAULT_METHOD_SCOPES if method_scopes is None else method_scopes
        )
        self._scopes = set(
            [*self._method_scopes.values(), PRIVATE_LIST_SCOPE] if scopes is None else scopes
        )
        if reply_ts_policy not in {"parent", "error"}:
            raise ValueError("reply_ts_policy must be 'parent' or 'error'")
        self._reply_ts_policy = reply_ts_policy
        self._clock = clock
        self._post_limits = (post_rate, post_burst)
        self._reaction_limits = (reaction_rate, reaction_burst)
        self._method_limits = dict(method_limits or {})
        self._validate_rates()

        # One re-entrant lock guards all state; the condition wakes wait_until() on each call.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._channels: dict[str, _Channel] = {}
        self._names: dict[str, str] = {}
        self._channel_seq = 0
        self._last_ts_micros = 0
        self._revoked: set[str] = set()
        self._inactive = False
        self._down_until: float | None = None
        self._faults: dict[str, deque[_Fault]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._calls: list[Call] = []
        self._ratelimited: dict[str, int] = {}
        self._ratelimited_total = 0
        self._server_errors: list[str] = []
        self._share_delay = share_delay
        self._files: dict[str, _File] = {}
        self._upload_keys: dict[str, str] = {}  # upload URL key -> file id
        self._pending_shares: list[_PendingShare] = []

        self._handlers: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._api_auth_test,
            "chat.postMessage": self._api_chat_post_message,
            "chat.getPermalink": self._api_chat_get_permalink,
            "reactions.add": self._api_reactions_add,
            "conversations.history": self._api_conversations_history,
            "conversations.replies": self._api_conversations_replies,
            "conversations.info": self._api_conversations_info,
            "files.getUploadURLExternal": self._api_files_get_upload_url_external,
            "files.completeUploadExternal": self._api_files_complete_upload_external,
            "files.info": self._api_files_info,
            "files.upload": self._api_files_upload,
            "conversations.list": self._api_conversations_list,
        }

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._stopping = threading.Event()
        self._in_flight = 0
        self._idle = threading.Condition()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        if self._started:
            raise RuntimeError("a FakeSlack serves once; create a new one")
        self._started = True
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # short poll: stop() must return quickly
            name=f"fake-slack-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; wakes sleeping "slow" handlers and waits (bounded) for them."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``WebClient(base_url=...)`` needs: ends with ``/api/``."""
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def token(self) -> str:
        """A configured bot token (the first in sorted order); :meth:`revoke` can revoke it."""
        return self._first_token

    # ------------------------------------------------------------------ workspace setup

    def add_channel(
        self,
        name: str,
        *,
        member: bool = True,
        archived: bool = False,
        private: bool = False,
        channel_id: str | None = None,
    ) -> str:
        """Create a channel; ``#name`` and ``name`` are the same. Returns its ID (``channel_id``
        if given: Slack's ids have no fixed length or shape)."""
        normalized = _normalize_name(name)
        if not _CHANNEL_NAME_RE.match(normalized):
            raise ValueError(f"invalid channel name: {name!r}")
        with self._lock:
            if normalized in self._names:
                raise ValueError(f"name_taken: {name!r}")
            self._channel_seq += 1
            channel = _Channel(
                id=channel_id or _channel_id(self._channel_seq),
                name=normalized,
                is_member=member,
                is_archived=archived,
                created=int(time.time()),
                is_private=private,
            )
            if channel.id in self._channels:
                raise ValueError(f"channel id taken: {channel.id!r}")
            self._channels[channel.id] = channel
            self._names[normalized] = channel.id
            return channel.id

    def channel_id(self, name: str) -> str:
        with self._lock:
            return self._names[_normalize_name(name)]

    def delete_channel(self, channel: str) -> None:
        """Delete it: its id and name stop resolving (``channel_not_found``)."""
        with self._lock:
            target = self._lookup(channel)
            del self._channels[target.id]
            del self._names[target.name]

    def set_member(self, channel: str, member: bool) -> None:
        with self._lock:
            self._lookup(channel).is_member = member

    def set_archived(self, channel: str, archived: bool) -> None:
        with self._lock:
            self._lookup(channel).is_archived = archived

    def rename_channel(self, channel: str, new_name: str) -> None:
        """Rename like Slack does: the ID stays, the old name stops resolving."""
        normalized = _normalize_name(new_name)
        if not _CHANNEL_NAME_RE.match(normalized):
            raise ValueError(f"invalid channel name: {new_name!r}")
        with self._lock:
            target = self._lookup(channel)
            if normalized in self._names:
                raise ValueError(f"name_taken: {new_name!r}")
            del self._names[target.name]
            target.name = normalized
            self._names[normalized] = target.id

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = HUMAN_USER_ID,
        thread_ts: str | None = None,
        metadata: JSON | None = None,
    ) -> str:
        """Store a message without HTTP (e.g. a human's, or history from before a restart)."""
        with self._lock:
            target = self._lookup(channel)
            parent = target.by_ts[thread_ts] if thread_ts is not None else None
            if parent is not None and parent.thread_ts is not None:
                parent = target.by_ts[parent.thread_ts]  # a reply's ts means its thread
            bot_id = BOT_ID if user == BOT_USER_ID else None
            msg = _Msg(self._next_ts(), text, user, bot_id, metadata=copy.deepcopy(metadata))
            self._store(target, msg, parent)
            return msg.ts

    # ------------------------------------------------------------------ auth and limits

    def revoke(self, token: str) -> None:
        with self._lock:
            self._revoked.add(token)

    def deactivate(self) -> None:
        """Every token answers ``account_inactive`` (app uninstalled / workspace deleted)."""
        with self._lock:
            self._inactive = True

    def activate(self) -> None:
        with self._lock:
            self._inactive = False

    def set_scopes(self, scopes: Iterable[str]) -> None:
        with self._lock:
            self._scopes = set(scopes)

    def set_post_rate(self, rate: float | None, burst: int | None = None) -> None:
        """Change chat.postMessage limits (``None`` disables them); buckets start full again."""
        with self._lock:
            self._post_limits = (rate, self._post_limits[1] if burst is None else burst)
            self._validate_rates()
            self._buckets.clear()

    def _validate_rates(self) -> None:
        for rate, burst in (self._post_limits, self._reaction_limits,
                            *self._method_limits.values()):
            if rate is not None and (rate <= 0 or burst < 1):
                raise ValueError("rate must be > 0 and burst >= 1 (or rate=None)")

    # ------------------------------------------------------------------ fault injection

    def inject(self, method: str, fault: FaultKind, times: int = 1, **kw: Any) -> None:
        """Script ``fault`` for the next ``times`` calls of ``method`` (FIFO per method).

        kwargs: ``ratelimited``: ``retry_after`` (int s, default 1); ``slow``: ``seconds``
        (required), ``phase`` ("before": sleep, then act; "after": act, then answer late);
        ``error``: ``error`` (the code, required), ``perform`` (act anyway, like
        ``fatal_error``; default False).
        """
        if method not in self._handlers and method != "upload":  # "upload": the upload URL
            raise ValueError(f"unknown method {method!r}")
        allowed = _FAULT_KWARGS.get(fault)
        if allowed is None:
            raise ValueError(f"unknown fault {fault!r}")
        if unknown := set(kw) - allowed:
            raise ValueError(f"{fault} takes no {sorted(unknown)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        entry = _Fault(kind=fault, remaining=times, **kw)
        if fault == "slow" and (entry.seconds <= 0 or entry.phase not in {"before", "after"}):
            raise ValueError("slow needs seconds > 0 and phase 'before' or 'after'")
        if fault == "error" and not kw.get("error"):
            raise ValueError("error needs error=<code>")
        if fault == "ratelimited" and int(entry.retry_after) < 0:
            raise ValueError("retry_after must be >= 0")
        with self._lock:
            self._faults.setdefault(method, deque()).append(entry)

    def pending_faults(self, method: str) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults.get(method, ()))

    def outage(self, seconds: float) -> None:
        """Answer every call with HTTP 503 (HTML) for ``seconds`` of the fake's clock."""
        with self._lock:
            self._down_until = self._clock() + seconds

    def down(self) -> None:
        with self._lock:
            self._down_until = math.inf

    def up(self) -> None:
        with self._lock:
            self._down_until = None

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if c.method == method]

    @property
    def ratelimited_count(self) -> int:
        """All 429 answers (bucket or injected)."""
        with self._lock:
            return self._ratelimited_total

    @property
    def ratelimited_by_channel(self) -> dict[str, int]:
        """429 answers per channel ID (calls whose channel did not resolve are not counted)."""
        with self._lock:
            return dict(self._ratelimited)

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake itself; tests should see this empty."""
        with self._lock:
            return list(self._server_errors)

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages of a channel (ID or name), oldest first."""
        with self._lock:
            target = self._lookup(channel)
            return [self._snapshot(target, m) for m in target.timeline if m.thread_ts is None]

    def replies(self, channel: str, ts: str) -> list[Message]:
        """The replies (not the parent) of the thread whose parent has ``ts``, oldest first."""
        with self._lock:
            target = self._lookup(channel)
            return [self._snapshot(target, m) for m in target.by_ts[ts].replies]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            target = self._lookup(channel)
            return self._snapshot(target, target.by_ts[ts])

    def reactions(self, channel: str, ts: str) -> dict[str, int]:
        with self._lock:
            msg = self._lookup(channel).by_ts[ts]
            return {name: len(users) for name, users in msg.reactions.items()}

    def all_messages(self) -> list[Message]:
        """Every message (parents and replies) of every channel, in ts order."""
        with self._lock:
            self._publish_shares()
            found = [
                self._snapshot(chan, msg)
                for chan in self._channels.values()
                for msg in chan.by_ts.values()
            ]
        return sorted(found, key=lambda m: _ts_micros(m.ts))

    def find_by_metadata(self, key: str, value: Any) -> list[Message]:
        """Messages whose metadata ``event_payload[key] == value`` (``key="event_type"`` too)."""
        found = []
        for msg in self.all_messages():
            metadata = msg.metadata or {}
            field_value = metadata.get("event_payload", {}).get(key, _MISSING)
            if key == "event_type":
                field_value = metadata.get("event_type", _MISSING)
            if field_value is not _MISSING and field_value == value:
                found.append(msg)
        return found

    def wait_until(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (re-checked after every call) or time is up."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    # ------------------------------------------------------------------ request pipeline

    def _handle(self, method: str, params: JSON, token: str | None) -> _Reply:
        """Run one API call; called by the HTTP handler thread (never holds the lock to sleep)."""
        with self._lock:
            early = self._early_reply(method)
            fault = None if early is not None else self._pop_fault(method)
            if fault is not None and fault.kind == "ratelimited":
                self._count_429(self._resolve(_param_str(params, "channel"), names=True))
        if early is not None:
            return self._record(method, params, early)
        reply = self._fault_before(fault)
        if reply is None:
            if fault is not None and fault.kind == "slow" and fault.phase == "before":
                self._stopping.wait(fault.seconds)
            with self._lock:
                reply = self._process(method, params, token)
            reply = self._fault_after(fault, reply)
        return self._record(method, params, reply)

    def _early_reply(self, method: str) -> _Reply | None:
        if self._down_until is not None:
            if self._clock() < self._down_until:
                return _html_reply(503)
            self._down_until = None
        if method not in self._handlers:
            payload = {"ok": False, "error": "unknown_method", "req_method": method}
            return _json_reply(payload, status=404)
        return None

    def _pop_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_before(fault: _Fault | None) -> _Reply | None:
        """Faults that answer without touching the workspace."""
        if fault is None:
            return None
        if fault.kind in {"http_500", "http_503"}:
            return _html_reply(int(fault.kind.removeprefix("http_")))
        if fault.kind == "ratelimited":
            return _ratelimited_reply(int(fault.retry_after))
        if fault.kind == "drop_before":
            return _Reply(None)
        if fault.kind == "error" and not fault.perform:
            return _json_reply({"ok": False, "error": fault.error})
        return None

    @staticmethod
    def _fault_after(fault: _Fault | None, reply: _Reply) -> _Reply:
        """Faults that let the action happen and then spoil the answer."""
        if fault is None:
            return reply
        if fault.kind == "drop_after_store":
            return _Reply(None)
        if fault.kind == "slow" and fault.phase == "after":
            reply.delay = fault.seconds
        if fault.kind == "error":
            return _json_reply({"ok": False, "error": fault.error})
        return reply

    def _process(self, method: str, params: JSON, token: str | None) -> _Reply:
        self._publish_shares()
        if auth_error := self._auth_error(token):
            return _json_reply({"ok": False, "error": auth_error})
        headers = {"X-OAuth-Scopes": ",".join(sorted(self._scopes))}
        needed = self._method_scopes.get(method)
        if needed and needed not in self._scopes:
            headers["X-Accepted-OAuth-Scopes"] = needed
            payload = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": ",".join(sorted(self._scopes)),
            }
            return _json_reply(payload, headers=headers)
        if limited := self._rate_limit(method, params):
            return limited
        try:
            payload = self._handlers[method](params)
        except _ApiError as err:
            payload = {"ok": False, "error": err.code, **err.extra}
        return _json_reply(payload, headers=headers)

    def _auth_error(self, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if token not in self._tokens:
            return "invalid_auth"
        if token in self._revoked:
            return "token_revoked"
        if self._inactive:
            return "account_inactive"
        return None

    def _rate_limit(self, method: str, params: JSON) -> _Reply | None:
        limits: list[tuple[tuple[str, str], float | None, int]] = []
        channel = None
        if method == "chat.postMessage":
            channel = self._resolve(_param_str(params, "channel"), names=True)
            key = (method, channel.id if channel else _param_str(params, "channel"))
            limits.append((key, *self._post_limits))
        elif method == "reactions.add":
            channel = self._resolve(_param_str(params, "channel"), names=False)
            limits.append(((method, ""), *self._reaction_limits))  # workspace-wide (tier 3)
        if method in self._method_limits:
            limits.append(((method, "*workspace*"), *self._method_limits[method]))
        now = self._clock()
        buckets = [self._buckets.setdefault(key, _Bucket(rate, burst, now))
                   for key, rate, burst in limits if rate is not None]
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait <= 0:
            for b in buckets:
                b.tokens -= 1.0
            return None
        self._count_429(channel)
        return _ratelimited_reply(max(1, math.ceil(wait)))

    def _count_429(self, channel: _Channel | None) -> None:
        if channel is not None:
            self._ratelimited[channel.id] = self._ratelimited.get(channel.id, 0) + 1

    def _record(self, method: str, params: JSON, reply: _Reply) -> _Reply:
        with self._lock:
            if reply.status == 429:
                self._ratelimited_total += 1
            self._calls.append(Call(method, copy.deepcopy(params), reply.status))
            self._changed.notify_all()
        return reply

    def _server_bug(self) -> _Reply:
        with self._lock:
            self._server_errors.append(traceback.format_exc())
        return _json_reply({"ok": False, "error": "fake_slack_bug"}, status=500)

    # ------------------------------------------------------------------ workspace internals

    def _lookup(self, channel: str) -> _Channel:
        self._publish_shares()
        found = self._resolve(channel, names=True, as_bot=False)
        if found is None:
            raise KeyError(channel)
        return found

    def _resolve(self, channel: str, *, names: bool, as_bot: bool = True) -> _Channel | None:
        found = self._channels.get(channel)
        if found is None and names and (cid := self._names.get(_normalize_name(channel))):
            found = self._channels[cid]
        if as_bot and found is not None and found.is_private and not found.is_member:
            return None  # a private channel is invisible to non-members
        return found

    def _next_ts(self) -> str:
        # Wall-clock based like Slack's, bumped by 1 µs so ts stay unique and increasing.
        self._last_ts_micros = max(time.time_ns() // 1_000, self._last_ts_micros + 1)
        return _format_ts(self._last_ts_micros)

    @staticmethod
    def _store(channel: _Channel, msg: _Msg, parent: _Msg | None) -> None:
        if parent is not None:
            msg.thread_ts = parent.ts
            msg.parent_user = parent.user
            parent.replies.append(msg)
        if parent is None or msg.reply_broadcast:
            channel.timeline.append(msg)
        channel.by_ts[msg.ts] = msg

    @staticmethod
    def _snapshot(channel: _Channel, msg: _Msg) -> Message:
        return Message(
            channel=channel.id,
            ts=msg.ts,
            text=msg.text,
            user=msg.user,
            bot_id=msg.bot_id,
            thread_ts=msg.thread_ts,
            metadata=copy.deepcopy(msg.metadata),
            blocks=copy.deepcopy(msg.blocks),
            reactions=copy.deepcopy(msg.reactions),
            reply_broadcast=msg.reply_broadcast,
            files=copy.deepcopy(msg.files),
        )

    @staticmethod
    def _render(msg: _Msg, *, with_metadata: bool) -> JSON:
        """A message as the Web API returns it."""
        out: JSON = {"type": "message", "user": msg.user, "text": msg.text, "ts": msg.ts}
        if msg.bot_id:
            out["bot_id"] = msg.bot_id
        if msg.blocks:
            out["blocks"] = copy.deepcopy(msg.blocks)
        if msg.attachments:
            out["attachments"] = copy.deepcopy(msg.attachments)
        if msg.thread_ts:
            out["thread_ts"] = msg.thread_ts
            out["parent_user_id"] = msg.parent_user
        elif msg.replies:
            out["thread_ts"] = msg.ts
            out["reply_count"] = len(msg.replies)
            out["reply_users"] = sorted({r.user for r in msg.replies})
            out["latest_reply"] = msg.replies[-1].ts
        if msg.reply_broadcast:
            out["subtype"] = "thread_broadcast"
        if msg.files:
            out["files"] = copy.deepcopy(msg.files)
            out["upload"] = True
        if msg.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in msg.reactions.items()
            ]
        if with_metadata and msg.metadata is not None:
            out["metadata"] = copy.deepcopy(msg.metadata)
        return out

    def _channel_for_write(self, params: JSON, *, names: bool) -> _Channel:
        channel = self._resolve(_param_str(params, "channel"), names=names)
        if channel is None:
            raise _ApiError("channel_not_found")
        if channel.is_archived:
            raise _ApiError("is_archived")
        if not channel.is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _channel_for_read(self, params: JSON, *, member: bool) -> _Channel:
        channel = self._resolve(_param_str(params, "channel"), names=False)
        if channel is None:
            raise _ApiError("channel_not_found")
        if member and not channel.is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _thread_parent(self, channel: _Channel, thread_ts: str) -> _Msg | None:
        if not thread_ts:
            return None
        if not _TS_RE.match(thread_ts):
            raise _ApiError("invalid_thread_ts")
        target = channel.by_ts.get(thread_ts)
        if target is None:
            raise _ApiError("thread_not_found")
        if target.thread_ts is None:
            return target
        if self._reply_ts_policy == "error":
            raise _ApiError("thread_not_found")
        return channel.by_ts[target.thread_ts]

    def _paginate(self, items: list[_Msg], params: JSON, *, newest_first: bool) -> JSON:
        limit = _param_limit(params)
        if cursor := _param_str(params, "cursor"):
            start = _decode_cursor(cursor)
            items = [
                m
                for m in items
                if (_ts_micros(m.ts) <= start if newest_first else _ts_micros(m.ts) >= start)
            ]
        page, rest = items[:limit], items[limit:]
        with_metadata = _param_bool(params, "include_all_metadata")
        return {
            "ok": True,
            "messages": [self._render(m, with_metadata=with_metadata) for m in page],
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": _encode_cursor(rest[0].ts) if rest else ""},
        }

    # ------------------------------------------------------------------ API methods

    def _api_auth_test(self, params: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _api_chat_post_message(self, params: JSON) -> JSON:
        channel = self._channel_for_write(params, names=True)
        text = _param_str(params, "text") or _param_str(params, "markdown_text")
        blocks = _parse_list(params, "blocks", "invalid_blocks", MAX_BLOCKS, "invalid_blocks")
        attachments = _parse_list(
            params, "attachments", "invalid_attachments", MAX_ATTACHMENTS, "too_many_attachments"
        )
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if len(text) > MAX_TEXT_CHARS:
            raise _ApiError("msg_too_long")
        metadata = _parse_metadata(params)
        parent = self._thread_parent(channel, _param_str(params, "thread_ts"))
        msg = _Msg(
            ts=self._next_ts(),
            text=text,
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            metadata=metadata,
            blocks=blocks or None,
            attachments=attachments or None,
            reply_broadcast=parent is not None and _param_bool(params, "reply_broadcast"),
        )
        self._store(channel, msg, parent)
        rendered = self._render(msg, with_metadata=True)
        return {"ok": True, "channel": channel.id, "ts": msg.ts, "message": rendered}

    def _api_reactions_add(self, params: JSON) -> JSON:
        channel = self._channel_for_write(params, names=False)
        ts = _param_str(params, "timestamp")
        if not ts:
            raise _ApiError("no_item_specified")
        name = _param_str(params, "name").strip()
        if not _valid_reaction_name(name):
            raise _ApiError("invalid_name")
        msg = channel.by_ts.get(ts)
        if msg is None:
            raise _ApiError("message_not_found")
        users = msg.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise _ApiError("already_reacted")
        users.append(BOT_USER_ID)
        return {"ok": True}

    def _api_conversations_history(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=True)
        inclusive = _param_bool(params, "inclusive")
        oldest = self._ts_bound(params, "oldest", 0)
        latest = self._ts_bound(params, "latest", None)

        def in_window(msg: _Msg) -> bool:
            key = _ts_micros(msg.ts)
            above = key >= oldest if inclusive else key > oldest
            below = latest is None or (key <= latest if inclusive else key < latest)
            return above and below

        newest_first = [m for m in reversed(channel.timeline) if in_window(m)]
        return self._paginate(newest_first, params, newest_first=True)

    @staticmethod
    def _ts_bound(params: JSON, key: str, default: int | None) -> int | None:
        raw = _param_str(params, key)
        if not raw:
            return default
        try:
            return _ts_micros(raw)
        except ValueError as exc:
            raise _ApiError(f"invalid_ts_{key}") from exc

    def _api_conversations_replies(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=True)
        msg = channel.by_ts.get(_param_str(params, "ts"))
        if msg is None:
            raise _ApiError("thread_not_found")
        parent = channel.by_ts[msg.thread_ts] if msg.thread_ts else msg
        return self._paginate([parent, *parent.replies], params, newest_first=False)

    def _api_conversations_info(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=False)
        return {"ok": True, "channel": self._channel_info(channel)}

    def _api_conversations_list(self, params: JSON) -> JSON:
        raw = _param_str(params, "types") or "public_channel"
        types = {t.strip() for t in raw.split(",") if t.strip()}
        if not types or not types <= CONVERSATION_TYPES:
            raise _ApiError("invalid_types")
        if "private_channel" in types and PRIVATE_LIST_SCOPE not in self._scopes:
            raise _ApiError("missing_scope", needed=PRIVATE_LIST_SCOPE)
        exclude_archived = _param_bool(params, "exclude_archived")
        listed = [
            c
            for _, c in sorted(self._channels.items())
            if ("private_channel" if c.is_private else "public_channel") in types
            and (c.is_member or not c.is_private)
            and not (exclude_archived and c.is_archived)
        ]
        if cursor := _param_str(params, "cursor"):
            try:
                after = base64.b64decode(cursor, validate=True).decode().removeprefix("id:")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise _ApiError("invalid_cursor") from exc
            listed = [c for c in listed if c.id >= after]
        limit = _param_limit(params)
        page, rest = listed[:limit], listed[limit:]
        return {
            "ok": True,
            "channels": [self._channel_info(c) for c in page],
            "response_metadata": {
                "next_cursor": base64.b64encode(f"id:{rest[0].id}".encode()).decode()
                if rest
                else ""
            },
        }

    @staticmethod
    def _channel_info(channel: _Channel) -> JSON:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_member": channel.is_member,
            "is_archived": channel.is_archived,
        }

    def _api_files_upload(self, params: JSON) -> JSON:
        raise _ApiError("method_deprecated")

    def _api_files_get_upload_url_external(self, params: JSON) -> JSON:
        name = _param_str(params, "filename")
        try:
            length = int(_param_str(params, "length"))
        except ValueError as exc:
            raise _ApiError("invalid_arguments") from exc
        if not name or length < 1:
            raise _ApiError("invalid_arguments")
        file_id = "F" + _channel_id(len(self._files) + 1)[2:].rjust(10, "0")
        key = base64.urlsafe_b64encode(f"{file_id}:{time.time_ns()}".encode()).decode()
        self._files[file_id] = _File(file_id, name, length, int(time.time()))
        self._upload_keys[key] = file_id
        url = f"http://127.0.0.1:{self.port}/upload/v1/{key}"
        return {"ok": True, "upload_url": url, "file_id": file_id}

    def _receive_upload(self, key: str, content_type: str, body: bytes) -> _Reply:
        """The upload URL: raw bytes (or a multipart part named ``file``)."""
        with self._lock:
            file_id = self._upload_keys.get(key)
            fault = self._pop_fault("upload")
            if fault is not None and fault.kind in {"http_500", "http_503", "drop_before"}:
                reply = self._fault_before(fault) or _Reply(None)
            elif file_id is None or self._files[file_id].completed:
                reply = _Reply(404, b"Not Found", content_type="text/plain")
            else:
                if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
                    head = f"Content-Type: {content_type}\r\n\r\n".encode()
                    message = BytesParser(policy=HTTP).parsebytes(head + body)
                    parts = [p for p in message.iter_parts()
                             if p.get_param("name", header="content-disposition") == "file"]
                    body = (parts[0].get_payload(decode=True) or b"") if parts else b""
                self._files[file_id].data = body
                reply = _Reply(200, f"OK - {len(body)}".encode(), content_type="text/plain")
            return self._record("upload", {"file_id": file_id, "bytes": len(body)}, reply)

    def _api_files_complete_upload_external(self, params: JSON) -> JSON:
        entries = _param_json(params, "files", "invalid_arguments")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        files = []
        for entry in entries:
            f = self._files.get(str((entry or {}).get("id", "")))
            if f is None or f.data is None:
                raise _ApiError("file_not_found")
            files.append((f, str(entry.get("title") or f.name)))
        channel = None
        if _param_str(params, "channel_id"):
            channel = self._channel_for_write({"channel": params["channel_id"]}, names=False)
        parent = self._thread_parent(channel, _param_str(params, "thread_ts")) if channel else None
        for f, title in files:
            f.completed, f.title = True, title
        if channel is not None:
            comment = _param_str(params, "initial_comment")
            msg = _Msg(ts=self._next_ts(), text=comment, user=BOT_USER_ID, bot_id=BOT_ID)
            for f, _ in files:
                self._pending_shares.append(_PendingShare(
                    time.monotonic() + self._share_delay, channel, msg, parent, f))
            msg.files = [f.render() for f, _ in files]
        return {"ok": True, "files": [{"id": f.id, "title": t} for f, t in files]}

    def _publish_shares(self) -> None:
        """Shares whose delay is over become visible (history, files.info, inspection)."""
        now = time.monotonic()
        due = [p for p in self._pending_shares if p.visible_at <= now]
        if not due:
            return
        self._pending_shares = [p for p in self._pending_shares if p.visible_at > now]
        for p in due:
            p.file.shares.setdefault(p.channel.id, []).append(p.msg.ts)
            if p.msg.ts not in p.channel.by_ts:
                p.msg.files = [f.render() for f in self._files_of(p.msg)]
                self._store(p.channel, p.msg, p.parent)

    def _files_of(self, msg: _Msg) -> list[_File]:
        return [self._files[f["id"]] for f in msg.files or [] if f["id"] in self._files]

    def _api_files_info(self, params: JSON) -> JSON:
        f = self._files.get(_param_str(params, "file"))
        if f is None or not f.completed:
            raise _ApiError("file_not_found")
        out = f.render()
        public = {cid: [{"ts": ts, "channel_name": self._channels[cid].name, "reply_count": 0}
                        for ts in tss] for cid, tss in f.shares.items()}
        out["shares"] = {"public": public} if public else {}
        out["channels"] = sorted(f.shares)
        return {"ok": True, "file": out}

    def files(self) -> list[JSON]:
        """Every file (completed or not) with its shares, for assertions."""
        with self._lock:
            self._publish_shares()
            return [f.render() | {"completed": f.completed, "shares": copy.deepcopy(f.shares),
                                  "data": f.data} for f in self._files.values()]

    def _api_chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=False)
        msg = channel.by_ts.get(_param_str(params, "message_ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # concurrent-client tests open many sockets at once
    block_on_close = False  # stop() waits for in-flight handlers itself, with a bound

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a DNS lookup that can stall for
        # seconds in sandboxes; nothing here needs the server's host name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that never sends its body must not pin a thread forever
    server_version = "FakeSlack/1.0"
    _quiet_errors: ClassVar[tuple[type[BaseException], ...]] = (ConnectionError, TimeoutError)

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the fake's ``calls`` is the record."""

    def handle(self) -> None:
        # The client may have given up (timeout tests): there is nobody left to answer.
        with suppress(*self._quiet_errors):
            super().handle()

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        fake = self.server.fake
        with fake._idle:
            fake._in_flight += 1
        try:
            yield
        finally:
            with fake._idle:
                fake._in_flight -= 1
                fake._idle.notify_all()

    def _serve(self) -> None:
        fake = self.server.fake
        with self._tracked():
            parts = urlsplit(self.path)
            method = parts.path.removeprefix("/api/") if parts.path.startswith("/api/") else ""
            try:
                if parts.path.startswith("/upload/v1/") and self.command == "POST":
                    reply = self._upload(fake, parts.path.removeprefix("/upload/v1/"))
                else:
                    reply = self._dispatch(fake, method, parts.query)
            except self._quiet_errors:
                raise
            except Exception:
                reply = fake._server_bug()
            self._send(reply)

    def _dispatch(self, fake: FakeSlack, method: str, query: str) -> _Reply:
        params: JSON = dict(parse_qsl(query, keep_blank_values=True))
        try:
            params.update(self._read_body())
        except _ApiError as err:
            status = int(err.extra.pop("status", 200))
            reply = _json_reply({"ok": False, "error": err.code}, status)
            return fake._record(method, params, reply)
        body_token = params.pop("token", None)  # never keep secrets in the call log
        token = self._bearer() or (None if body_token is None else str(body_token))
        return fake._handle(method, params, token)

    def _upload(self, fake: FakeSlack, key: str) -> _Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            return _Reply(413, b"Request Entity Too Large", content_type="text/plain")
        body = self.rfile.read(length) if length else b""
        return fake._receive_upload(key, self.headers.get("Content-Type", ""), body)

    def _read_body(self) -> JSON:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise _ApiError("invalid_form_data", status=400) from exc
        if length < 0 or length > MAX_BODY_BYTES:
            raise _ApiError("request_too_large", status=413)
        body = self.rfile.read(length) if length else b""
        return _parse_body(self.headers.get("Content-Type", ""), body)

    def _bearer(self) -> str | None:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None

    def _send(self, reply: _Reply) -> None:
        if reply.delay:
            self.server.fake._stopping.wait(reply.delay)
        self.close_connection = True
        if reply.status is None:
            return  # drop: the server closes the socket with no status line at all
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
