"""Recognising an alert's message in Slack by its key (metric, anomaly timestamp): pure.

A Skyline cluster runs one sidecar per host against one Slack, so the thread a lifecycle event
belongs to may have been posted by another host (or by Skyline's own Slack). Every alert message
shows its key in one of two ways:

* a text post by a sidecar carries it in its message ``metadata`` (``event_payload`` ``metric``
  and ``anomaly_timestamp``, next to the action id, see :func:`alert_payload`);
* every alert, a file share (which cannot carry metadata) or Skyline's own post included, shows
  the training data link ``<SKYLINE_URL>/<ionosphere_link_path>?timestamp=<ts>&metric=<metric>``
  (``metric_id=<id>`` for a labelled metric from Mirage), mrkdwn-escaped (``&amp;``).

The I/O (conversations.history, pacing, the miss cache) is in :mod:`sidecar.slack.finder`.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sidecar.slack.gateway import METADATA_TYPE
from sidecar.slack.render import LABELLED_PREFIX

#: a ``<url|label>`` or ``<url>`` link in mrkdwn
_LINK = re.compile(r"<([^<>|\s]+)(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class ThreadSearch:
    """Look for the alert message of (metric, anomaly timestamp) in these channels."""

    metric: str
    anomaly_timestamp: int
    channels: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int]:
        return self.metric, self.anomaly_timestamp


def alert_payload(metric: str, anomaly_timestamp: int, host: str) -> dict[str, Any]:
    """What an alert post adds to its metadata payload: its key, and the host that posted it."""
    return {"metric": metric, "anomaly_timestamp": int(anomaly_timestamp), "host": host}


def message_keys(msg: Mapping[str, Any]) -> set[tuple[str, int]]:
    """The alert keys a top-level message carries (metadata, training data links); none for a
    thread reply (history lists broadcast replies too)."""
    ts, thread_ts = msg.get("ts"), msg.get("thread_ts")
    if thread_ts is not None and thread_ts != ts:
        return set()
    keys = link_keys(str(msg.get("text") or ""))
    meta = msg.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") == METADATA_TYPE and "metric" in payload:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            keys.add((str(payload["metric"]), int(payload["anomaly_timestamp"])))
    return keys


def link_keys(text: str) -> set[tuple[str, int]]:
    """The (metric, anomaly timestamp) of every training data link in ``text``."""
    keys: set[tuple[str, int]] = set()
    for url in _LINK.findall(text):
        query = parse_qs(urlsplit(html.unescape(url)).query)
        stamp = query.get("timestamp", [""])[0]
        if not stamp.isdigit():
            continue
        if metric := query.get("metric", [""])[0]:
            keys.add((metric, int(stamp)))
            if metric.isdigit():  # Analyzer links a labelled metric by its id
                keys.add((LABELLED_PREFIX + metric, int(stamp)))
        if metric_id := query.get("metric_id", [""])[0]:
            keys.add((LABELLED_PREFIX + metric_id, int(stamp)))
    return keys


def find_in(messages: Iterable[Mapping[str, Any]], key: tuple[str, int]) -> str | None:
    """The ts of the oldest message among ``messages`` that carries ``key``, or None."""
    found = [str(m["ts"]) for m in messages if m.get("ts") and key in message_keys(m)]
    return min(found, key=float) if found else None
