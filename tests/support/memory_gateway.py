"""An in-memory Slack behind the ``Gateway`` seam (sidecar/slack/gateway.py), for fast planner
and deliverer tests: no HTTP, no threads, no wall clock.

It keeps what a workspace would (messages with their metadata, reactions, files) and lets a
test script failures per call: a failure raised *after* the call took effect is Slack having
done it while the client saw a timeout or a 5xx, the case the outbox must deliver exactly once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sidecar.slack.gateway import FileShare, Posted, Rejected, SlackFailure, ThreadGone
from sidecar.slack.graph import Image


@dataclass
class Message:
    channel: str  # the channel id
    ts: str
    text: str
    thread_ts: str | None = None
    action_id: str | None = None
    reactions: list[str] = field(default_factory=list)
    file_name: str | None = None


@dataclass
class _Fault:
    failure: SlackFailure
    applied: bool  # the call took effect in Slack before the failure reached the client


class MemoryGateway:
    """A workspace in memory: channels by name, messages, reactions and files, plus scripted
    failures (:meth:`fail`) and a log of the calls made (``calls``)."""

    def __init__(self, channels: dict[str, str] | None = None):
        #: channel name (no ``#``) -> id
        self.channels = dict(channels or {"skyline": "C0SKYLINE"})
        self.messages: list[Message] = []
        self.calls: list[tuple[str, str]] = []  # (method, channel id or file id)
        self._faults: dict[str, list[_Fault]] = {}
        self._ts = itertools.count(1)
        self._files: dict[str, Message | None] = {}

    # -- scripting ---------------------------------------------------------------------------
    def fail(
        self, method: str, failure: SlackFailure, *, applied: bool = False, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``post``, ``react``, ``upload``,
        ``find_post``, ``list_channels``) raise ``failure``, after taking effect if
        ``applied``."""
        self._faults.setdefault(method, []).extend(_Fault(failure, applied) for _ in range(times))

    def in_channel(self, name: str) -> list[Message]:
        """The messages of a channel (by name), in the order they were posted."""
        channel_id = self.channels[name.lstrip("#")]
        return [m for m in self.messages if m.channel == channel_id]

    # -- the Gateway protocol ------------------------------------------------------------------
    def post(
        self, channel: str, text: str, *, thread_ts: str | None, metadata: dict[str, Any]
    ) -> Posted:
        channel_id = self._channel(channel)
        action_id = (metadata.get("event_payload") or {}).get("action_id")

        def effect() -> Posted:
            if thread_ts is not None and not any(m.ts == thread_ts for m in self.messages):
                raise ThreadGone("thread_not_found")
            message = Message(channel_id, self._next_ts(), text, thread_ts, action_id)
            self.messages.append(message)
            return Posted(channel_id, message.ts)

        return self._call("post", channel_id, effect)

    def react(self, channel_id: str, ts: str, name: str) -> None:
        def effect() -> None:
            message = next((m for m in self.messages if m.ts == ts), None)
            if message is None:
                raise Rejected("message_not_found")
            if name not in message.reactions:  # already_reacted is success
                message.reactions.append(name)

        self._call("react", channel_id, effect)

    def find_post(
        self, channel_id: str, action_id: str, *, thread_ts: str | None, oldest: float
    ) -> Posted | None:
        def effect() -> Posted | None:
            for m in self.messages:
                if (
                    m.channel == channel_id
                    and m.thread_ts == thread_ts
                    and (m.action_id == action_id or action_id in (m.file_name or ""))
                ):
                    return Posted(channel_id, m.ts)
            return None

        return self._call("find_post", channel_id, effect)

    def upload(
        self,
        channel_id: str,
        image: Image,
        *,
        filename: str,
        title: str,
        comment: str,
        on_file_id: Callable[[str], None],
    ) -> str:
        file_id = f"F{len(self._files) + 1:08d}"

        def effect() -> str:
            on_file_id(file_id)
            message = Message(channel_id, self._next_ts(), comment, file_name=filename)
            self.messages.append(message)
            self._files[file_id] = message
            return file_id

        return self._call("upload", channel_id, effect)

    def file_share(self, file_id: str, channel_id: str) -> FileShare | None:
        message = self._files.get(file_id)
        if message is None:
            return FileShare(completed=False)
        return FileShare(True, Posted(channel_id, message.ts))

    def auth_test(self) -> dict[str, Any]:
        return {"ok": True, "user_id": "UBOT"}

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        return {"id": channel_id, "is_member": True, "is_archived": False}

    def list_channels(self) -> dict[str, str]:
        return self._call("list_channels", "", lambda: dict(self.channels))

    # -- internals -----------------------------------------------------------------------------
    def _channel(self, channel: str) -> str:
        """An id as given, or the id of a ``#name``: chat.postMessage accepts both."""
        name = channel.lstrip("#")
        if channel in self.channels.values():
            return channel
        if name in self.channels:
            return self.channels[name]
        raise Rejected("channel_not_found")

    def _next_ts(self) -> str:
        return f"1795700000.{next(self._ts):06d}"

    def _call(self, method: str, target: str, effect: Callable[[], Any]) -> Any:
        self.calls.append((method, target))
        faults = self._faults.get(method)
        if faults:
            fault = faults.pop(0)
            if fault.applied:
                effect()
            raise fault.failure
        return effect()
