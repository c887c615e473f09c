"""Alert threads found in Slack (a Skyline cluster): the searches the planner asks for, made.

A lifecycle event with no local thread asks for a search (``thread_searches`` in the store). The
finder reads each wanted channel's conversations.history from the anomaly timestamp forward,
over ``thread_search_hours``, at most ``thread_search_pages`` pages of :data:`PAGE` messages a
channel, for the message that carries the key (:mod:`sidecar.slack.threads`), and stores what it
finds as the thread (origin "found"), or a miss, which the planner does not repeat for
``thread_search_miss_seconds``. Each page takes a token of the limiter's ``history`` bucket;
a 429 parks it. A search Slack keeps failing is given up (a miss) after :data:`GIVE_UP`.

Before an alert is posted, :meth:`ThreadFinder.already_posted` reads one page of the channel's
history for the same alert posted by another host (adopted instead of posted again).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import structlog

from sidecar.config.options import SidecarOptions
from sidecar.model import Origin, Thread
from sidecar.slack.channels import ChannelDirectory
from sidecar.slack.gateway import (
    Ambiguous,
    Fatal,
    Gateway,
    Posted,
    RateLimited,
    Rejected,
    SlackFailure,
)
from sidecar.slack.pacing import Limiter
from sidecar.slack.threads import find_in
from sidecar.state.store import Store

log = structlog.get_logger("sidecar.slack.finder")

#: messages a page (Slack recommends at most 200)
PAGE = 200
#: the look for another host's post of an alert: one page, this many messages
DEDUP_PAGE = 100
#: a search Slack keeps failing (5xx, timeouts) is given up this long after it was first asked
GIVE_UP = 120.0
#: after a failure, the finder waits this long before its next call
FAILURE_PAUSE = 5.0
KEY = "history"


class _OutOfTokens(Exception):
    """The history bucket is empty (or parked): the search is made later, from the start."""


class ThreadFinder:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        limiter: Limiter,
        channels: ChannelDirectory,
        options: SidecarOptions,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.gateway = gateway
        self.limiter = limiter
        self.channels = channels
        self.options = options
        self._clock = clock
        self._paused_until = 0.0
        self._made = 0  # Slack calls of the search under way
        #: Slack calls made (for the measurements in the README and tests)
        self.calls = 0

    def run_once(self) -> int:
        """Make the searches that are due, as far as the pacing allows. Returns how many."""
        now = self._clock()
        if now < self._paused_until:
            return 0
        done = 0
        for row in self.store.due_searches(now, self.options.thread_search_miss_seconds):
            key = (str(row["metric"]), int(row["anomaly_timestamp"]))
            try:
                found, calls = self._search(key, json.loads(row["channels"]))
            except _OutOfTokens:
                return done
            except SlackFailure as exc:
                self._failed(row, key, exc, now)
                if isinstance(exc, (RateLimited, Ambiguous)):
                    return done
                continue
            self.store.search_done(key, found, calls, self._clock())
            log.info(
                "thread found in Slack" if found else "no thread in Slack",
                metric=key[0],
                anomaly_timestamp=key[1],
                calls=calls,
                channel=found.channel if found else None,
            )
            done += 1
        return done

    def already_posted(self, metric: str, anomaly_timestamp: int, channel_id: str) -> Posted | None:
        """Another host's post of this alert in the channel (one page of its newest history
        since the anomaly), or None. Raises the gateway's failures; the caller took the
        ``history`` token."""
        messages, _ = self._page(
            channel_id, oldest=anomaly_timestamp, latest=None, cursor=None, limit=DEDUP_PAGE
        )
        ts = find_in(messages, (metric, anomaly_timestamp))
        return Posted(channel=channel_id, ts=ts) if ts else None

    # -- one search -----------------------------------------------------------------------------
    def _search(self, key: tuple[str, int], channels: list[str]) -> tuple[Thread | None, int]:
        """(the thread, the Slack calls made). A channel Slack does not know or lets the bot not
        read is skipped; the first channel with the message wins."""
        self._made = 0
        for name in channels:
            channel_id = self.channels.id_for(name)
            if channel_id is None:
                continue
            try:
                ts = self._find(channel_id, key)
            except Rejected as exc:  # not_in_channel, channel_not_found: nothing to read there
                log.warning("cannot read a channel's history", channel=name, error=str(exc))
                continue
            if ts is not None:
                return Thread(key[0], key[1], channel_id, ts, None, Origin.FOUND), self._made
        return None, self._made

    def _find(self, channel_id: str, key: tuple[str, int]) -> str | None:
        """The ts of the alert's message within the window, paging at most the page cap."""
        oldest = float(key[1])
        latest = oldest + self.options.thread_search_hours * 3600.0
        cursor: str | None = None
        for _ in range(self.options.thread_search_pages):
            if not self.limiter.try_acquire(KEY):
                raise _OutOfTokens
            messages, cursor = self._page(
                channel_id, oldest=oldest, latest=latest, cursor=cursor, limit=PAGE
            )
            if (ts := find_in(messages, key)) is not None:
                return ts
            if cursor is None:
                break
        return None

    def _page(self, channel_id: str, **kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
        self.calls += 1
        self._made += 1
        try:
            page = self.gateway.history(channel_id, **kwargs)
        except RateLimited as exc:
            self.limiter.park(KEY, exc.retry_after)
            raise
        self.limiter.accepted(KEY)
        return page

    def _failed(
        self, row: dict[str, Any], key: tuple[str, int], exc: SlackFailure, now: float
    ) -> None:
        """A search Slack did not answer: made again later, given up (a miss) after GIVE_UP."""
        pause = exc.retry_after if isinstance(exc, RateLimited) else FAILURE_PAUSE
        self._paused_until = now + pause
        first = float(row.get("first_requested_at") or now)
        if isinstance(exc, Fatal) or now - first >= GIVE_UP:
            self.store.search_done(key, None, self._made, now)
            log.warning(
                "thread search given up", metric=key[0], anomaly_timestamp=key[1], error=str(exc)
            )
        else:
            log.warning(
                "thread search failed, will retry", metric=key[0], error=str(exc), retry_in=pause
            )
