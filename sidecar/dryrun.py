"""The dry run's gateway: prints each intended Slack action instead of calling Slack.

It stands where the Slack gateway stands, so the dry run goes through the same pipeline
(planning, outbox, pacing aside, threads anchored on the answers) and shows exactly what a real
run would do. It answers with made-up channel ids and ts strings so threads resolve.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any, TextIO

from sidecar.slack import Posted
from sidecar.store import Store


def fake_channel_id(name: str) -> str:
    return "CDRY" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8].upper()


class PrintingGateway:
    def __init__(self, store: Store, out: TextIO, *, fmt: str = "text"):
        self._store = store
        self._out = out
        self._fmt = fmt
        self._names: dict[str, str] = {}  # channel id -> the name it stands for
        self._ts = itertools.count(1)

    def channel_id(self, name: str, known: str | None = None) -> str:
        """The id a dry run uses for ``name``: the configured one, else a made-up one."""
        channel_id = known or fake_channel_id(name)
        self._names.setdefault(channel_id, name)
        return channel_id

    def post(self, channel: str, text: str, *, thread_ts: str | None,
             metadata: dict[str, Any]) -> Posted:
        self._print(metadata, channel=self._names.get(channel, channel), text=text)
        return Posted(channel=channel, ts=f"{next(self._ts)}.000000")

    def react(self, channel_id: str, ts: str, name: str, *,
              metadata: dict[str, Any] | None = None) -> None:
        self._print(metadata or {}, channel=self._names.get(channel_id, channel_id), reaction=name)

    def find_post(self, channel_id: str, action_id: str, *, thread_ts: str | None,
                  oldest: float) -> Posted | None:
        return None

    def auth_test(self) -> dict[str, Any]:
        return {"ok": True, "dry_run": True}

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        return {"id": channel_id, "is_member": True, "is_archived": False}

    def list_channels(self) -> dict[str, str]:
        return {}  # every name resolves through channel_id()

    def _print(self, metadata: dict[str, Any], *, channel: str, text: str | None = None,
               reaction: str | None = None) -> None:
        payload = metadata.get("event_payload") or {}
        action = self._store.action(payload.get("action_id", ""))
        event = self._store.event(payload.get("event_id", "")) if payload else None
        thread = None
        if action is not None and action.thread_key is not None and action.action != "post_message":
            thread = {"metric": action.thread_key[0], "anomaly_timestamp": action.thread_key[1]}
        record = {
            "action": action.action if action else ("add_reaction" if reaction else "post_message"),
            "channel": channel,
            "thread": thread,
            "text": text,
            "reaction": reaction,
            "event": {
                "kind": event.kind if event else None,
                "metric": getattr(event, "metric", None),
                "anomaly_timestamp": getattr(event, "anomaly_timestamp", None),
                "fp_id": getattr(event, "fp_id", None),
            },
        }
        if self._fmt == "json":
            self._out.write(json.dumps(record, sort_keys=True) + "\n")
        else:
            self._out.write(_human(record) + "\n")
        self._out.flush()


def _human(r: dict[str, Any]) -> str:
    where = r["channel"]
    if r["thread"]:
        where += f" thread {r['thread']['metric']} @ {r['thread']['anomaly_timestamp']}"
    head = f"[dry-run] {r['action']:<12} {where}"
    if r["reaction"]:
        return f"{head} :{r['reaction']}:"
    body = "\n".join("    " + line for line in (r["text"] or "").splitlines())
    return f"{head}  ({r['event']['kind']})\n{body}"
