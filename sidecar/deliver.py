"""Delivery from the durable outbox to Slack (or to the dry-run printer), exactly once.

Every action is marked in flight (committed) before its call. An action found in flight again (a
crash, a timeout, a dropped connection, a 5xx) may already be in Slack: before posting again the
deliverer looks for it by the action id carried in the message metadata. Reactions are naturally
idempotent (``already_reacted`` is success).

Failures: a 429 parks that channel for Retry-After (other channels go on; nothing sleeps);
5xx, timeouts and connection errors back off exponentially with jitter, retried until the
action is ``max_age`` old; a revoked or invalid token halts delivery (nothing dropped, health
reports it, the token is re-checked every few minutes); a refusal of one action (channel not
found, not in channel, archived, too long) fails that action with the reason; a parent message
that is gone is replaced by a top-level post that re-anchors the thread.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from sidecar.channels import ChannelDirectory
from sidecar.planner import ADD_REACTION, POST_MESSAGE
from sidecar.ratelimit import Limiter
from sidecar.slack import (
    Ambiguous,
    Fatal,
    Gateway,
    Posted,
    RateLimited,
    Rejected,
    SlackFailure,
    ThreadGone,
    action_metadata,
)
from sidecar.store import INFLIGHT, Action, Store

log = structlog.get_logger("sidecar.deliver")

BACKOFF_BASE, BACKOFF_CAP = 2.0, 300.0
#: Slack does not know the channel (yet): look again this often (the bot may be invited later)
UNKNOWN_CHANNEL_RETRY = 60.0
AUTH_RECHECK = 300.0
#: how far back (seconds before the action was created) to look for an earlier post
LOOKBACK = 120.0


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    ratelimited: int = 0
    errors: list[str] = field(default_factory=list)


def _scope(action: Action) -> str:
    """Problems with one channel are reported, and cleared, under the channel planned."""
    return f"channel {action.channel}"


class UnknownChannel(SlackFailure):
    def __init__(self, channel: str):
        super().__init__(f"channel {channel} not found in Slack (not in conversations.list:"
                         " does it exist, and is the bot in it if it is private?)")


class Deliverer:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        *,
        limiter: Limiter | None = None,
        max_age: float = 172800.0,
        channel_ids: Callable[[str], str | None] = lambda name: None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        auth_recheck: float = AUTH_RECHECK,
    ):
        self.store = store
        self.gateway = gateway
        self.limiter = limiter or Limiter()
        self.max_age = max_age
        #: explicit ids from the configuration win; other names are resolved through Slack
        self.channels = ChannelDirectory(store, gateway.list_channels, explicit=channel_ids)
        self._clock = clock
        self._rng = rng or random.Random()
        self.auth_recheck = auth_recheck
        self.halted: str | None = None
        #: scopes of the problems on record (some may be left from before a restart)
        self._problems = {p["scope"] for p in store.problems()}
        self._halted_at = 0.0

    # -- the loop's entry point -----------------------------------------------------------------
    def run_once(self, budget: float = 2.0) -> DeliveryStats:
        """Deliver what is due and allowed by the pacing, for at most ``budget`` seconds."""
        stats = DeliveryStats()
        if self.halted and not self._recheck_auth():
            return stats
        start = time.monotonic()
        for action in self.store.due_actions(self._clock(), limit=500):
            if time.monotonic() - start > budget or self.halted:
                break
            self._deliver(action, stats)
        return stats

    def next_ready_in(self) -> float | None:
        """Seconds until a pending action may go (for the main loop's sleep), None if idle.

        Actions waiting for their thread's first post do not count: that post's own wait does.
        """
        if self.halted:
            return self.auth_recheck
        now_mono, now = time.monotonic(), self._clock()
        waits = [
            max(a.next_attempt_at - now, self.limiter.ready_at(self._key(a)) - now_mono, 0.0)
            for a in self.store.due_actions(now + 3600.0, limit=50)
            if self._thread_of(a) is not None
        ]
        return min(waits) if waits else None

    # -- one action ---------------------------------------------------------------------------
    def _deliver(self, action: Action, stats: DeliveryStats) -> None:
        now = self._clock()
        if now - action.created_at > self.max_age:
            self.store.mark_failed(action, f"gave up after {self.max_age:g}s: {action.last_error}")
            stats.failed += 1
            return
        thread = self._thread_of(action)
        if thread is None:
            return  # its thread is not posted yet: it waits, no attempt counted
        key = self._key(action)
        if not self.limiter.try_acquire(key):
            return
        channel, thread_ts = thread
        channel_id = self._resolve(action, channel, thread_ts, stats)
        if channel_id is None:
            return
        try:
            posted = self._perform(action, channel_id, thread_ts)
        except RateLimited as exc:
            self.limiter.park(key, exc.retry_after)
            self.store.mark_retry(action, now + exc.retry_after, str(exc), state=action.state)
            stats.ratelimited += 1
        except Ambiguous as exc:
            delay = self._backoff(action.attempts)
            self.store.mark_retry(action, now + delay, str(exc), state=INFLIGHT)
            self._report("slack", f"Slack unreachable or failing: {exc}; retrying")
            log.warning("slack call failed, will retry", action=action.id, channel=channel,
                        error=str(exc), retry_in=round(delay, 1))
            stats.retried += 1
        except Fatal as exc:
            self._halt(action, exc, stats)
        except Rejected as exc:
            if str(exc) == "channel_not_found":
                # A cached id gone stale (the channel was deleted or made private): list the
                # channels again and retry; the name may now be another channel's.
                self.channels.forget(channel_id)
                self.store.mark_retry(action, now + self._backoff(action.attempts + 1),
                                      f"{channel}: channel_not_found", state=action.state)
                self._report(_scope(action), f"{action.action} to {channel}:"
                             " channel_not_found, will look the channel up again")
                log.warning("slack channel not found, looking it up again", action=action.id,
                            channel=channel)
                stats.retried += 1
                return
            self.store.mark_failed(action, str(exc))
            self._report(_scope(action), f"{action.action} to {channel} failed: {exc}")
            log.error("slack refused an action", action=action.id, channel=channel,
                      error=str(exc))
            stats.failed += 1
        else:
            self._done(action, posted)
            stats.delivered += 1

    def _resolve(self, action: Action, channel: str, thread_ts: str | None,
                 stats: DeliveryStats) -> str | None:
        """The channel id to call, or None after recording why not (the action waits).

        Nothing was sent to Slack when this fails, so the action keeps its state.
        """
        now = self._clock()
        try:
            if thread_ts is not None and self._posted(action):
                return channel  # our own thread: the id Slack answered its post with
            if channel_id := self.channels.id_for(channel):
                return channel_id
            raise UnknownChannel(channel)
        except UnknownChannel as exc:
            self.store.mark_retry(action, now + UNKNOWN_CHANNEL_RETRY, str(exc),
                                  state=action.state)
            self._report(_scope(action), f"{action.action}: {exc}")
            log.error("slack channel not found, will look again", action=action.id,
                      channel=channel, retry_in=UNKNOWN_CHANNEL_RETRY)
            stats.retried += 1
        except RateLimited as exc:
            self.store.mark_retry(action, now + exc.retry_after, str(exc), state=action.state)
            stats.ratelimited += 1
        except Ambiguous as exc:
            delay = self._backoff(action.attempts + 1)
            self.store.mark_retry(action, now + delay, f"conversations.list: {exc}",
                                  state=action.state)
            self._report("slack", f"Slack unreachable or failing (conversations.list): {exc};"
                                  " retrying")
            log.warning("cannot list Slack's channels, will retry", channel=channel,
                        error=str(exc), retry_in=round(delay, 1))
            stats.retried += 1
        except Fatal as exc:
            self._halt(action, exc, stats)
        except Rejected as exc:
            self.store.mark_retry(action, now + UNKNOWN_CHANNEL_RETRY, str(exc),
                                  state=action.state)
            self._report(_scope(action), f"{action.action} to {channel}: {exc}")
            stats.retried += 1
        return None

    def _halt(self, action: Action, exc: SlackFailure, stats: DeliveryStats) -> None:
        self.halted, self._halted_at = str(exc), time.monotonic()
        self.store.mark_retry(action, self._clock(), str(exc), state=action.state)
        self._report("slack", f"delivery halted: {exc}")
        log.error("slack token unusable, delivery halted", error=str(exc))
        stats.errors.append(str(exc))

    def _perform(self, action: Action, channel: str, thread_ts: str | None) -> Posted | None:
        if action.action == ADD_REACTION:
            assert thread_ts is not None and action.reaction
            self.store.mark_inflight(action)
            self.gateway.react(channel, thread_ts, action.reaction,
                               metadata=action_metadata(action.id, action.event_id))
            return None
        if action.state == INFLIGHT or action.attempts > 0:
            found = self._find_earlier(action, channel, thread_ts)
            if found is not None:
                return found
        self.store.mark_inflight(action)
        metadata = action_metadata(action.id, action.event_id)
        try:
            return self.gateway.post(channel, action.text or "", thread_ts=thread_ts,
                                     metadata=metadata)
        except ThreadGone as exc:
            key = action.thread_key
            if thread_ts is None or key is None:
                raise Rejected(str(exc)) from None
            # The parent is gone: post top-level; that message anchors the thread from now on.
            posted = self.gateway.post(channel, action.text or "", thread_ts=None,
                                       metadata=metadata)
            self.store.reanchor_thread(key, posted.channel, posted.ts)
            log.warning("thread was gone, re-anchored", channel=posted.channel, reason=str(exc))
            return posted

    def _find_earlier(self, action: Action, channel_id: str,
                      thread_ts: str | None) -> Posted | None:
        return self.gateway.find_post(channel_id, action.id, thread_ts=thread_ts,
                                      oldest=action.created_at - LOOKBACK)

    def _thread_of(self, action: Action) -> tuple[str, str | None] | None:
        """The channel (name or id) and thread ts to use, or None while the thread has no ts."""
        if action.action == POST_MESSAGE:
            return action.channel, None
        key = action.thread_key
        thread = self.store.thread(*key) if key else None
        if thread is None or thread.ts is None:
            return None
        return thread.channel, thread.ts

    def _posted(self, action: Action) -> bool:
        """Our own thread: its channel is the id Slack answered the post with."""
        key = action.thread_key
        thread = self.store.thread(*key) if key else None
        return thread is not None and thread.origin == "posted"

    def _report(self, scope: str, message: str) -> None:
        """A problem `status` shows until it is over (`_over`)."""
        self.store.record_error(scope, message)
        self._problems.add(scope)

    def _over(self, *scopes: str) -> None:
        for scope in self._problems.intersection(scopes):
            self.store.clear_problem(scope)
            self._problems.discard(scope)

    def _done(self, action: Action, posted: Posted | None) -> None:
        self.store.mark_done(action, posted.channel if posted else None,
                             posted.ts if posted else None)
        self._over("slack", _scope(action))
        log.info("delivered", action=action.action, channel=posted.channel if posted else None,
                 event_id=action.event_id)

    def _recheck_auth(self) -> bool:
        if time.monotonic() - self._halted_at < self.auth_recheck:
            return False
        try:
            self.gateway.auth_test()
        except SlackFailure as exc:
            self._halted_at = time.monotonic()
            log.error("slack token still unusable", error=str(exc))
            return False
        log.info("slack token works again, delivery resumed")
        self.halted = None
        return True

    def _backoff(self, attempts: int) -> float:
        delay = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
        return delay * self._rng.uniform(0.8, 1.2)

    @staticmethod
    def _key(action: Action) -> str:
        # Messages are paced per channel; reactions share one workspace-wide bucket.
        return "reactions" if action.action == ADD_REACTION else f"chat:{action.channel}"
