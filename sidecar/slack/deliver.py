"""Delivery from the durable outbox to Slack (or to the dry-run printer), exactly once.

Every action is marked in flight (committed) before its call. An action found in flight again (a
crash, a timeout, a dropped connection, a 5xx) may already be in Slack: before posting again the
deliverer looks for it by the action id carried in the message metadata. Reactions are naturally
idempotent (``already_reacted`` is success).

An alert with a graph is an upload (files.getUploadURLExternal, the bytes,
files.completeUploadExternal with the alert text as its comment), its file name carrying the
action id. The graph is waited for (the PNG Skyline's smtp alerter writes, then Graphite) by
leaving the action not due, so nothing else waits. The file id is committed before the upload;
after a failure files.info tells whether Slack completed it (then its share is awaited, never a
second upload) or not; the history is searched for the file name too. Slack shares the file a
moment after completing it: the message ts (the thread) is polled for, again without waiting.

Failures: a 429 parks that channel for Retry-After and slows its pace (other channels go on;
nothing sleeps; see sidecar.slack.pacing);
5xx, timeouts and connection errors back off exponentially with jitter, retried until the
action is ``max_age`` old; a revoked or invalid token halts delivery (nothing dropped, health
reports it, the token is re-checked every few minutes); a refusal of one action (channel not
found, not in channel, archived, too long) fails that action with the reason; a parent message
that is gone is replaced by a top-level post that re-anchors the thread.

Why one module of this size: it is the outbox's one state machine (in flight, retry, park,
halt, done) with its three ways of reaching Slack (post, upload and its share, reaction),
which share every failure path; the Slack calls themselves are in :mod:`sidecar.slack.gateway`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import structlog

from sidecar.config.options import SidecarOptions
from sidecar.model import ADD_REACTION, INFLIGHT, PENDING, POST_MESSAGE, Action, Origin
from sidecar.slack import graph
from sidecar.slack.channels import ChannelDirectory
from sidecar.slack.finder import ThreadFinder
from sidecar.slack.gateway import (
    Ambiguous,
    Fatal,
    Gateway,
    NotCompleted,
    Posted,
    RateLimited,
    Rejected,
    SlackFailure,
    ThreadGone,
    action_metadata,
)
from sidecar.slack.pacing import KeyPace, Limiter
from sidecar.slack.threads import alert_payload
from sidecar.state.store import Store

log = structlog.get_logger("sidecar.slack.deliver")

BACKOFF_BASE, BACKOFF_CAP = 2.0, 300.0
#: Slack does not know the channel (yet): look again this often (the bot may be invited later)
UNKNOWN_CHANNEL_RETRY = 60.0
AUTH_RECHECK = 300.0
#: how far back (seconds before the action was created) to look for an earlier post
LOOKBACK = 120.0
#: how often a missing graph is looked for again, and a completed upload's share polled for
IMAGE_POLL, SHARE_POLL = 0.5, 0.5
#: after this long without a share in files.info, the channel history is searched as well
SHARE_HISTORY_AFTER = 10.0
#: Skyline's wording when it has no image (analyzer/alerters.py:2530-2535; double spaces)
NO_GRAPH = "  ::  error :: there was no graph image to upload"


class _Later(Exception):
    """The action is not ready (its graph, its share): look again at ``at``; no attempt used."""

    def __init__(self, at: float, reason: str):
        super().__init__(reason)
        self.at = at


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
        super().__init__(
            f"channel {channel} not found in Slack (not in conversations.list:"
            " does it exist, and is the bot in it if it is private?)"
        )


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
        image_wait: float = 20.0,
        fetcher: graph.Fetcher | graph.DescribingFetcher | None = None,
        upload_settle: float = 15.0,
        attend: Callable[[Action], None] | None = None,
        sidecar: SidecarOptions | None = None,
        clustered: bool = False,
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
        self.image_wait = image_wait
        self._fetcher = fetcher or graph.Fetcher()
        #: an upload whose completion files.info does not show is begun afresh after this
        self.upload_settle = upload_settle
        #: action id -> when to look again (a graph or a share awaited): memory, not the
        #: database, so polling costs no commit; after a restart everything is looked at anew
        self._later: dict[str, float] = {}
        #: told of each action just before the Slack calls made for it (the dry run's printer
        #: describes the action it prints from this; the gateway calls carry no context)
        self._attend = attend or (lambda action: None)
        self.sidecar = sidecar or SidecarOptions()
        #: a Skyline cluster: threads are looked for in Slack, alerts checked for another
        #: host's post before they are posted
        self.clustered = clustered
        self.finder = ThreadFinder(
            store, gateway, self.limiter, self.channels, self.sidecar, clock=clock
        )

    # -- the loop's entry point -----------------------------------------------------------------
    def run_once(self, budget: float = 2.0) -> DeliveryStats:
        """Deliver what is due and allowed by the pacing, for at most ``budget`` seconds."""
        stats = DeliveryStats()
        if self.halted and not self._recheck_auth():
            return stats
        start, now = time.monotonic(), self._clock()
        if self.clustered:
            self._search_threads()
        # Actions awaiting a graph are skipped here; at most ``image_wait`` (plus a Graphite
        # fetch) after their creation they go, so a page of them holds the rest back no longer.
        for action in self.store.due_actions(now, limit=500):
            if time.monotonic() - start > budget or self.halted:
                break
            if self._later.get(action.id, 0.0) > now:
                continue
            self._deliver(action, stats)
        return stats

    def _search_threads(self) -> None:
        """The thread searches the planner asked for; a failure is the finder's to handle."""
        try:
            self.finder.run_once()
        except SlackFailure as exc:  # listing the channels failed: searched again later
            log.warning("thread search failed", error=str(exc))

    def pacing(self) -> dict[str, KeyPace]:
        """Per limiter key (``chat:<channel>``, ``reactions``, ``files``, ...): the pace allowed
        now, its ceiling and the 429s Slack answered since start (see :meth:`Limiter.pacing`)."""
        return self.limiter.pacing()

    def next_ready_in(self) -> float | None:
        """Seconds until a pending action may go (for the main loop's sleep), None if idle.

        Actions waiting for their thread's first post do not count: that post's own wait does.
        """
        if self.halted:
            return self.auth_recheck
        now_mono, now = time.monotonic(), self._clock()
        waits = [
            max(
                a.next_attempt_at - now,
                self._later.get(a.id, 0.0) - now,
                self.limiter.ready_at(*self._limits(a, self._key(a))) - now_mono,
                0.0,
            )
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
            self._later.pop(action.id, None)
            return
        thread = self._thread_of(action)
        if thread is None:
            return  # its thread is not posted yet: it waits, no attempt counted
        key = self._key(action)
        channel, thread_ts = thread
        uploads = self._uploads(action)
        try:
            image = self._image(action, now) if uploads else None
        except _Later as later:
            self._later[action.id] = later.at
            return
        if uploads and image is None and action.file_id is None:
            key = f"chat:{action.channel}"  # no graph: the text alert is a post
        # Polling for an upload's share (files.info) is not a post: it is not paced.
        if action.file_id is None and not self.limiter.try_acquire(*self._limits(action, key)):
            return
        channel_id = self._resolve(action, channel, thread_ts, stats)
        if channel_id is None:
            return
        try:
            if self._needs_dedup(action) and self._adopt_other_post(action, channel_id):
                stats.delivered += 1
                self.limiter.accepted(key)
                return
            if uploads:
                posted = self._perform_upload(action, channel_id, image)
            else:
                posted = self._perform(action, channel_id, thread_ts)
        except _Later as later:
            self._later[action.id] = later.at
            return
        except RateLimited as exc:
            self.limiter.park(key, exc.retry_after)
            self.store.mark_retry(action, now + exc.retry_after, str(exc), state=action.state)
            stats.ratelimited += 1
        except Ambiguous as exc:
            delay = self._backoff(action.attempts)
            self.store.mark_retry(action, now + delay, str(exc), state=INFLIGHT)
            self._report("slack", f"Slack unreachable or failing: {exc}; retrying")
            log.warning(
                "slack call failed, will retry",
                action=action.id,
                channel=channel,
                error=str(exc),
                retry_in=round(delay, 1),
            )
            stats.retried += 1
        except Fatal as exc:
            self._halt(action, exc, stats)
        except Rejected as exc:
            if str(exc) == "channel_not_found":
                # A cached id gone stale (the channel was deleted or made private): list the
                # channels again and retry; the name may now be another channel's.
                self.channels.forget(channel_id)
                self.store.mark_retry(
                    action,
                    now + self._backoff(action.attempts + 1),
                    f"{channel}: channel_not_found",
                    state=action.state,
                )
                self._report(
                    _scope(action),
                    f"{action.action} to {channel}:"
                    " channel_not_found, will look the channel up again",
                )
                log.warning(
                    "slack channel not found, looking it up again",
                    action=action.id,
                    channel=channel,
                )
                stats.retried += 1
                return
            self.store.mark_failed(action, str(exc))
            self._report(_scope(action), f"{action.action} to {channel} failed: {exc}")
            log.error("slack refused an action", action=action.id, channel=channel, error=str(exc))
            stats.failed += 1
        else:
            self.limiter.accepted(key)
            self._done(action, posted)
            stats.delivered += 1
        self._later.pop(action.id, None)

    def _resolve(
        self, action: Action, channel: str, thread_ts: str | None, stats: DeliveryStats
    ) -> str | None:
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
            self.store.mark_retry(action, now + UNKNOWN_CHANNEL_RETRY, str(exc), state=action.state)
            self._report(_scope(action), f"{action.action}: {exc}")
            log.error(
                "slack channel not found, will look again",
                action=action.id,
                channel=channel,
                retry_in=UNKNOWN_CHANNEL_RETRY,
            )
            stats.retried += 1
        except RateLimited as exc:
            self.store.mark_retry(action, now + exc.retry_after, str(exc), state=action.state)
            stats.ratelimited += 1
        except Ambiguous as exc:
            delay = self._backoff(action.attempts + 1)
            self.store.mark_retry(
                action, now + delay, f"conversations.list: {exc}", state=action.state
            )
            self._report(
                "slack", f"Slack unreachable or failing (conversations.list): {exc}; retrying"
            )
            log.warning(
                "cannot list Slack's channels, will retry",
                channel=channel,
                error=str(exc),
                retry_in=round(delay, 1),
            )
            stats.retried += 1
        except Fatal as exc:
            self._halt(action, exc, stats)
        except Rejected as exc:
            self.store.mark_retry(action, now + UNKNOWN_CHANNEL_RETRY, str(exc), state=action.state)
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
        self._attend(action)
        if action.action == ADD_REACTION:
            assert thread_ts is not None and action.reaction
            self.store.mark_inflight(action)
            self.gateway.react(channel, thread_ts, action.reaction)
            return None
        if self._needs_lookup(action):
            found = self._find_earlier(action, channel, thread_ts)
            if found is not None:
                return found
        self.store.mark_inflight(action)
        metadata = self._metadata(action)
        try:
            return self.gateway.post(
                channel, action.text or "", thread_ts=thread_ts, metadata=metadata
            )
        except ThreadGone as exc:
            key = action.thread_key
            if thread_ts is None or key is None:
                raise Rejected(str(exc)) from None
            # The parent is gone: post top-level; that message anchors the thread from now on.
            posted = self.gateway.post(
                channel, action.text or "", thread_ts=None, metadata=metadata
            )
            self.store.reanchor_thread(key, posted.channel, posted.ts)
            log.warning("thread was gone, re-anchored", channel=posted.channel, reason=str(exc))
            return posted

    def _limits(self, action: Action, key: str) -> tuple[str, ...]:
        """The limiter keys a delivery attempt draws from: its own (``key``), its channel's for an
        upload (Slack shares the file as a message there), and the look-up's."""
        channel = (f"chat:{action.channel}",) if key == "files" else ()
        lookup = self._needs_lookup(action) or self._needs_dedup(action)
        return (key, *channel, *(("history",) if lookup else ()))

    def _needs_dedup(self, action: Action) -> bool:
        """An alert never tried yet, in a cluster: another host may have posted it."""
        return (
            self.clustered
            and self.sidecar.alert_dedup
            and action.action == POST_MESSAGE
            and action.thread_key is not None
            and action.state == PENDING
            and action.attempts == 0
            and action.file_id is None
        )

    def _adopt_other_post(self, action: Action, channel_id: str) -> bool:
        """Another host's post of this alert in the channel becomes this action's result (and
        the thread, origin "found"): nothing is posted again."""
        key = action.thread_key
        assert key is not None
        try:
            found = self.finder.already_posted(key[0], key[1], channel_id)
        except RateLimited as exc:  # the history bucket is parked; the post waits for it
            raise _Later(self._clock() + exc.retry_after, str(exc)) from None
        except (Ambiguous, Rejected) as exc:
            # Nothing was posted; the check is best effort: post rather than hold the alert.
            log.warning(
                "cannot check for another host's post, posting",
                metric=key[0],
                channel=channel_id,
                error=str(exc),
            )
            return False
        if found is None:
            return False
        self.store.mark_done(action, found.channel, found.ts, origin=Origin.FOUND)
        self._over("slack", _scope(action))
        log.info(
            "alert already posted by another host, adopted",
            metric=key[0],
            anomaly_timestamp=key[1],
            channel=found.channel,
            ts=found.ts,
        )
        return True

    @staticmethod
    def _needs_lookup(action: Action) -> bool:
        """A post that may already be in Slack (in flight: a crash, a timeout, a 5xx) looks for
        itself first (conversations.history/.replies). A 429 or a refused token is no such
        doubt: Slack did nothing, and the action went back to its earlier state."""
        return action.action != ADD_REACTION and action.state == INFLIGHT

    def _metadata(self, action: Action) -> dict[str, object]:
        """An alert post also carries its key and this host, for other hosts' searches."""
        key = action.thread_key
        extra = (
            alert_payload(key[0], key[1], self.sidecar.name)
            if action.action == POST_MESSAGE and key is not None
            else {}
        )
        return action_metadata(action.id, action.event_id, **extra)

    # -- alerts with a graph ------------------------------------------------------------------
    @staticmethod
    def _uploads(action: Action) -> bool:
        return action.action == POST_MESSAGE and action.graph is not None

    def _image(self, action: Action, now: float) -> graph.Image | None:
        """The graph to upload; ``_Later`` while it may still come; None: post the text."""
        if action.file_id is not None or action.graph is None:
            return None  # already uploading: the file is Slack's now
        spec = graph.GraphSpec.from_json(action.graph)
        found = graph.find_png(spec)
        if isinstance(found, graph.Image):
            return found
        reason = found
        if spec.ionosphere_dir and now - action.created_at < self.image_wait:
            raise _Later(now + IMAGE_POLL, f"waiting for the graph: {reason}")
        if spec.graphite_url:
            fetched = self._fetcher.get(spec.graphite_url, graph.graphite_name(spec))
            if fetched is None:
                raise _Later(now + IMAGE_POLL, "fetching the graph from Graphite")
            if isinstance(fetched, graph.Image):
                return fetched
            reason = f"{reason}; {fetched}"
        else:
            reason = f"{reason}; no Graphite configured"
        log.warning(
            "no graph image, posting the text alert",
            action=action.id,
            metric=spec.metric,
            reason=reason,
        )
        return None

    def _perform_upload(
        self, action: Action, channel_id: str, image: graph.Image | None
    ) -> Posted | None:
        self._attend(action)
        if action.file_id is not None:
            return self._await_share(action, channel_id)
        if image is None:
            # _perform looks for an earlier post (or upload) of this action itself.
            return self._perform(
                replace(action, text=(action.text or "") + NO_GRAPH), channel_id, None
            )
        if action.state == INFLIGHT or action.attempts > 0:
            found = self._find_earlier(action, channel_id, None)
            if found is not None:
                return found
        action = self.store.mark_inflight(action)
        now = self._clock()
        recorded: list[str] = []

        def record(file_id: str) -> None:
            self.store.set_file(action, file_id, now)
            recorded.append(file_id)

        try:
            file_id = self.gateway.upload(
                channel_id,
                image,
                filename=upload_name(image.name, action.id),
                title=image.name,
                comment=action.text or "",
                on_file_id=record,
            )
        except NotCompleted:
            self.store.set_file(action, None, None)  # nothing reached the channel
            raise
        except (Rejected, Fatal) as exc:
            if recorded or (isinstance(exc, Fatal) and str(exc) != "missing_scope"):
                raise
            # files.getUploadURLExternal refused this file (its size, its type) or the token
            # lacks files:write: the text alert, rather than nothing (or a halt).
            log.warning(
                "slack refused the graph, posting the text alert",
                action=action.id,
                error=str(exc),
                source=image.source,
            )
            return self._perform(
                replace(action, text=(action.text or "") + NO_GRAPH), channel_id, None
            )
        log.info(
            "graph uploaded", action=action.id, file=file_id, source=image.source, bytes=image.size
        )
        raise _Later(now + SHARE_POLL, "waiting for Slack to share the file")

    def _await_share(self, action: Action, channel_id: str) -> Posted:
        """The completed upload's message, once Slack shows it; ``_Later`` until then."""
        now = self._clock()
        assert action.file_id is not None
        waited = now - (action.file_at or action.created_at)
        share = self.gateway.file_share(action.file_id, channel_id)
        if share is not None and share.posted is not None:
            return share.posted
        if share is None or waited >= SHARE_HISTORY_AFTER:
            found = self._find_earlier(action, channel_id, None)
            if found is not None:
                return found
        if (share is None or not share.completed) and waited >= self.upload_settle:
            # Slack never completed it (a crash or a failure before the share): begin again.
            log.warning(
                "upload was not completed, uploading again", action=action.id, file=action.file_id
            )
            self.store.set_file(action, None, None)
            raise _Later(now, "upload not completed")
        delay = SHARE_POLL if waited < SHARE_HISTORY_AFTER else min(30.0, waited / 4)
        raise _Later(now + delay, "waiting for Slack to share the file")

    def _find_earlier(
        self, action: Action, channel_id: str, thread_ts: str | None
    ) -> Posted | None:
        return self.gateway.find_post(
            channel_id, action.id, thread_ts=thread_ts, oldest=action.created_at - LOOKBACK
        )

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
        return thread is not None and thread.origin == Origin.POSTED

    def _report(self, scope: str, message: str) -> None:
        """A problem `status` shows until it is over (`_over`)."""
        self.store.record_error(scope, message)
        self._problems.add(scope)

    def _over(self, *scopes: str) -> None:
        for scope in self._problems.intersection(scopes):
            self.store.clear_problem(scope)
            self._problems.discard(scope)

    def _done(self, action: Action, posted: Posted | None) -> None:
        self.store.mark_done(
            action, posted.channel if posted else None, posted.ts if posted else None
        )
        self._over("slack", _scope(action))
        log.info(
            "delivered",
            action=action.action,
            channel=posted.channel if posted else None,
            event_id=action.event_id,
        )

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
        # Messages are paced per channel; reactions and uploads each share a workspace bucket.
        if action.action == ADD_REACTION:
            return "reactions"
        return "files" if Deliverer._uploads(action) else f"chat:{action.channel}"


def upload_name(name: str, action_id: str) -> str:
    """The uploaded file's name: Skyline's PNG name with the action id, which is how an upload
    is recognised in the channel's history after a failure."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{action_id}.{ext}" if dot else f"{name}.{action_id}"
