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

The package: state.py (data), faults.py, handlers.py (API methods), transport.py (HTTP); this
module is the workspace itself (lifecycle, setup, inspection, the request pipeline). It is long
because the behaviours above are written down here, next to the class that chooses them.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

from tests.support.fakeslack.faults import _Faults
from tests.support.fakeslack.handlers import _ApiMethods
from tests.support.fakeslack.state import (
    _CHANNEL_NAME_RE,
    _MISSING,
    _TS_RE,
    BOT_ID,
    BOT_USER_ID,
    DEFAULT_METHOD_SCOPES,
    HUMAN_USER_ID,
    JSON,
    PRIVATE_LIST_SCOPE,
    Call,
    Message,
    _ApiError,
    _Bucket,
    _Channel,
    _channel_id,
    _decode_cursor,
    _encode_cursor,
    _Fault,
    _File,
    _format_ts,
    _html_reply,
    _json_reply,
    _Msg,
    _normalize_name,
    _param_bool,
    _param_limit,
    _param_str,
    _PendingShare,
    _ratelimited_reply,
    _Reply,
    _ts_micros,
)
from tests.support.fakeslack.transport import (
    _Server,
)


class FakeSlack(_Faults, _ApiMethods):
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
        for rate, burst in (
            self._post_limits,
            self._reaction_limits,
            *self._method_limits.values(),
        ):
            if rate is not None and (rate <= 0 or burst < 1):
                raise ValueError("rate must be > 0 and burst >= 1 (or rate=None)")

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
        buckets = [
            self._buckets.setdefault(key, _Bucket(rate, burst, now))
            for key, rate, burst in limits
            if rate is not None
        ]
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
