"""The dry run's gateway: prints each intended Slack action instead of calling Slack.

It stands where the Slack gateway stands, so the dry run goes through the same pipeline
(planning, outbox, pacing aside, threads anchored on the answers) and shows exactly what a real
run would do. It answers with made-up channel ids and ts strings so threads resolve.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
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
        self._names: dict[str, str] = {}
        self._ts = itertools.count(1)

    def post(self, channel: str, text: str, *, thread_ts: str | None,
             metadata: dict[str, Any]) -> Posted:
        channel_id = channel if channel in self._names else fake_channel_id(channel)
        self._names.setdefault(channel_id, self._names.get(channel, channel))
        self._print(metadata, channel=self._names[channel_id], text=text)
        return Posted(channel=channel_id, ts=f"{next(self._ts)}.000000")

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


class MetricsPrinter:
    """The dry run's carbon: prints each interval's metric lines instead of sending them."""

    def __init__(self, out: TextIO, *, fmt: str = "text"):
        self._out = out
        self._fmt = fmt

    def submit(self, lines: Sequence[str]) -> None:
        for line in lines:
            if self._fmt == "json":
                name, value, stamp = line.split(" ")
                record = {"action": "send_metric", "metric": name, "value": float(value),
                          "timestamp": int(stamp)}
                self._out.write(json.dumps(record, sort_keys=True) + "\n")
            else:
                self._out.write(f"[dry-run] metric       {line}\n")
        self._out.flush()

    def status(self) -> dict[str, Any]:
        return {"target": "dry-run"}

    def close(self, timeout: float | None = None) -> None:
        pass
