"""The dry run's gateway: prints each intended Slack action instead of calling Slack.

It stands where the Slack gateway stands, so the dry run goes through the same pipeline
(planning, outbox, pacing aside, threads anchored on the answers) and shows exactly what a real
run would do. It answers with made-up channel ids and ts strings so threads resolve. An alert's
graph is shown as the PNG's path or the Graphite URL it would upload, or why there is none.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from parsers.events import Event
from sidecar.model import Action
from sidecar.slack import graph
from sidecar.slack.gateway import FileShare, Posted


def fake_channel_id(name: str) -> str:
    return "CDRY" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8].upper()


class PrintingGateway:
    """Owns the dry run's side of Slack: prints each call, answers with made-up ids.

    The deliverer tells it which action it is about to deliver (:meth:`attend`); the event
    behind that action is looked up with ``event_of``, so the printout can name it.
    """

    def __init__(self, out: TextIO, event_of: Callable[[str], Event | None], *, fmt: str = "text"):
        self._out = out
        self._event_of = event_of
        self._fmt = fmt
        self._names: dict[str, str] = {}  # channel id -> the name it stands for
        self._ts = itertools.count(1)
        self._files: dict[str, Posted] = {}
        self._action: Action | None = None

    def attend(self, action: Action) -> None:
        """The action the next calls are made for."""
        self._action = action

    def channel_id(self, name: str, known: str | None = None) -> str:
        """The id a dry run uses for ``name``: the configured one, else a made-up one."""
        channel_id = known or fake_channel_id(name)
        self._names.setdefault(channel_id, name)
        return channel_id

    def post(
        self, channel: str, text: str, *, thread_ts: str | None, metadata: dict[str, Any]
    ) -> Posted:
        self._print(channel=self._names.get(channel, channel), text=text)
        return Posted(channel=channel, ts=f"{next(self._ts)}.000000")

    def upload(
        self,
        channel_id: str,
        image: graph.Image,
        *,
        filename: str,
        title: str,
        comment: str,
        on_file_id: Callable[[str], None],
    ) -> str:
        file_id = f"FDRY{len(self._files) + 1:08d}"
        on_file_id(file_id)
        self._print(
            channel=self._names.get(channel_id, channel_id), text=comment, image=image.source
        )
        self._files[file_id] = Posted(channel=channel_id, ts=f"{next(self._ts)}.000000")
        return file_id

    def file_share(self, file_id: str, channel_id: str) -> FileShare | None:
        return FileShare(True, self._files.get(file_id))

    def react(self, channel_id: str, ts: str, name: str) -> None:
        self._print(channel=self._names.get(channel_id, channel_id), reaction=name)

    def find_post(
        self, channel_id: str, action_id: str, *, thread_ts: str | None, oldest: float
    ) -> Posted | None:
        return None

    def history(
        self,
        channel_id: str,
        *,
        oldest: float,
        latest: float | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        return [], None  # a dry run finds no thread in Slack: it has none

    def auth_test(self) -> dict[str, Any]:
        return {"ok": True, "dry_run": True}

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        return {"id": channel_id, "is_member": True, "is_archived": False}

    def list_channels(self) -> dict[str, str]:
        return {}  # every name resolves through channel_id()

    def _print(
        self,
        *,
        channel: str,
        text: str | None = None,
        reaction: str | None = None,
        image: str | None = None,
    ) -> None:
        action = self._action
        event = self._event_of(action.event_id) if action is not None else None
        thread = None
        if action is not None and action.thread_key is not None and action.action != "post_message":
            thread = {"metric": action.thread_key[0], "anomaly_timestamp": action.thread_key[1]}
        record = {
            "action": action.action if action else ("add_reaction" if reaction else "post_message"),
            "channel": channel,
            "thread": thread,
            "text": text,
            "reaction": reaction,
            "graph": image or _no_graph(action.graph if action else None),
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


def _no_graph(spec: str | None) -> str | None:
    """Why an alert that would have a graph goes as text (the deliverer's lookup, repeated)."""
    if spec is None:
        return None
    found = graph.find_png(graph.GraphSpec.from_json(spec))
    reason = found.source if isinstance(found, graph.Image) else found
    return f"none: {reason}; no Graphite configured"


def _human(r: dict[str, Any]) -> str:
    where = r["channel"]
    if r["thread"]:
        where += f" thread {r['thread']['metric']} @ {r['thread']['anomaly_timestamp']}"
    head = f"[dry-run] {r['action']:<12} {where}"
    if r["reaction"]:
        return f"{head} :{r['reaction']}:"
    body = "\n".join("    " + line for line in (r["text"] or "").splitlines())
    image = f"\n    graph: {r['graph']}" if r["graph"] else ""
    return f"{head}  ({r['event']['kind']})\n{body}{image}"


class MetricsPrinter:
    """The dry run's carbon: prints each interval's metric lines instead of sending them."""

    def __init__(self, out: TextIO, *, fmt: str = "text"):
        self._out = out
        self._fmt = fmt

    def submit(self, lines: Sequence[str]) -> None:
        for line in lines:
            if self._fmt == "json":
                name, value, stamp = line.split(" ")
                record = {
                    "action": "send_metric",
                    "metric": name,
                    "value": float(value),
                    "timestamp": int(stamp),
                }
                self._out.write(json.dumps(record, sort_keys=True) + "\n")
            else:
                self._out.write(f"[dry-run] metric       {line}\n")
        self._out.flush()

    def status(self) -> dict[str, Any]:
        return {"target": "dry-run"}

    def close(self, timeout: float | None = None) -> None:
        pass
