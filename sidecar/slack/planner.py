"""From a stored event to the Slack actions it calls for: routing and rendering, no I/O.

Skyline's semantics (``alert_slack`` in mirage/mirage_alerters.py and analyzer/alerters.py): an
alert goes to every channel of ``SLACK_OPTS['channels'][alert[0]]`` (else ``default_channel``),
and only the first of them carries the thread that lifecycle events reply to (Skyline replies
in its default channel whatever the alert's: the sidecar keeps to the alert's own thread). An
alert Skyline logged as muted in its cycle is not posted. A lifecycle event finds its thread by
the alert key (metric, anomaly timestamp), for fp events through the features-profile registry's
parent chain. The channel posts Skyline makes (learnt automatically, disabled, bulk validated)
go out at once; a thread reply whose thread is not known yet waits for the grace period (files
are read concurrently, so webapp.log can be read ahead of mirage.log), then is recorded as
unthreaded. A waiting event never holds back another one.

Why one module of this size: it is one function per Skyline event kind, each a page at most,
sharing the thread look-ups (registry chain, families, the cluster search); routing lives in
:mod:`sidecar.slack.routing` and the texts in :mod:`sidecar.slack.render`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from parsers.alerts import MUTE_CYCLE, SLACK_ANOMALOUS
from parsers.events import (
    AnomaliesLabelled,
    AnomalyAlert,
    BoundaryAlert,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
    LayersCreated,
    SkylineSelfRequest,
    SlackThread,
    TrainingDataViewed,
)
from sidecar.config.logtime import log_epoch, log_zone
from sidecar.config.options import Config
from sidecar.model import (
    ADD_REACTION,
    POST_MESSAGE,
    POST_REPLY,
    Action,
    Origin,
    Profile,
    SearchState,
    Thread,
)
from sidecar.slack import graph, render
from sidecar.slack.routing import route, route_boundary, search_channels
from sidecar.slack.threads import ThreadSearch

MAX_PARENT_CHAIN = 64
#: Skyline copies DISABLED into threads younger than a week (ionosphere_backend.py:5890-5897)
DISABLED_THREAD_MAX_AGE = 604800
#: a waiting event looks for its thread again this often, until its grace period is over
RECHECK_SECONDS = 2.0
#: an alert Skyline's own Slack is posting waits at most this long for the thread (adopted)
#: or the muted line that alert_slack logs after it
SKYLINE_POSTS_HOLD = 30.0
#: a lifecycle event looks for at most this many alert keys in Slack
MAX_SEARCHES = 4
#: a view this close to Ionosphere's own request for the same page is that request
SELF_REQUEST_WINDOW = timedelta(seconds=120)


class Knowledge(Protocol):
    def thread(self, metric: str, anomaly_timestamp: int) -> Thread | None: ...
    def profile(self, fp_id: int) -> Profile | None: ...
    def logged_times(self, kind: str, metric: str, anomaly_timestamp: int) -> list[datetime]: ...
    def muted_times(self, app: str, metric: str) -> list[datetime]: ...
    def threads_between(self, start: int, end: int) -> list[Thread]: ...
    def thread_search(self, metric: str, anomaly_timestamp: int) -> dict[str, object] | None: ...


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    profiles: tuple[Profile, ...] = ()
    threads: tuple[Thread, ...] = ()
    #: not decided yet: look again at this time (waiting for an alert's thread); None: decided
    wait_until: float | None = None
    #: (from the planner of one kind) the thread is not known yet: plan_event sets the wait
    needs_thread: bool = False
    note: str = ""
    #: cannot be planned as configured (an alert that routes nowhere): it stays pending, is
    #: reported, and is planned again at the next start
    error: str | None = None
    #: alert threads to look for in Slack (a cluster: the alert may be another host's)
    searches: tuple[ThreadSearch, ...] = ()


def alert_key(alert: AnomalyAlert, timezone: str | None = None) -> tuple[str, int]:
    """The thread key. v1 lines carry no anomaly timestamp: the prefix time (in Skyline's
    zone, ``[skyline] timezone``) stands in."""
    if alert.anomaly_timestamp is not None:
        return alert.metric, int(alert.anomaly_timestamp)
    return alert.metric, log_epoch(alert.logged_at, log_zone(timezone))


def muted(alert: AnomalyAlert, known: Knowledge) -> bool:
    """Skyline does not alert a muted metric (mute_alerts_on, slack-effects.md 6): its alert
    line is marked when the muted line came first, and a muted line of the same app and metric
    within the alert cycle counts whichever came first (smtp logs it from a child process)."""
    if alert.muted:
        return True
    return any(
        abs(at - alert.logged_at) <= MUTE_CYCLE for at in known.muted_times(alert.app, alert.metric)
    )


def plan_event(
    event: Event,
    known: Knowledge,
    config: Config,
    *,
    ingested_at: float,
    now: float,
    post: bool = True,
) -> Plan:
    """Decide what one event means in Slack. ``post=False`` (a backfill that only records)
    keeps the registry and adopted threads but plans no action and never waits."""
    planner = _PLANNERS.get(type(event))
    if planner is None:
        return Plan(note="not a Slack event")
    lookups = _Lookups(known)
    plan = planner(event, lookups, config)
    if not post:
        adopted = tuple(t for t in plan.threads if t.origin == Origin.ADOPTED)
        return Plan(profiles=plan.profiles, threads=adopted, note="recorded only")
    if plan.needs_thread and config.clustered and type(event) in _SEARCHED:
        searched = _search_slack(lookups.missed, known, config, now, ingested_at)
        if searched is not None:
            return replace(searched, actions=plan.actions, profiles=plan.profiles)
    if plan.needs_thread:
        grace = config.slack.lifecycle_grace_seconds
        if isinstance(event, AnomalyAlert):
            grace = min(grace, SKYLINE_POSTS_HOLD)
        deadline = ingested_at + grace
        if now < deadline:
            # What needs no thread (a channel post) goes now; its id is the same when the
            # event is planned again, so it is posted once.
            return Plan(
                actions=plan.actions,
                profiles=plan.profiles,
                wait_until=min(deadline, now + RECHECK_SECONDS),
                note="waiting for thread",
            )
        # Grace is over: plan again without waiting.
        plan = planner(event, known, config, final=True)
    return plan


# -- threads in Slack (a cluster) -------------------------------------------------------------


class _Lookups:
    """The planner's view of what is known, recording the alert keys it found no thread for."""

    def __init__(self, known: Knowledge):
        self._known = known
        self.missed: dict[tuple[str, int], None] = {}

    def thread(self, metric: str, anomaly_timestamp: int) -> Thread | None:
        thread = self._known.thread(metric, anomaly_timestamp)
        if thread is None:
            self.missed[(metric, anomaly_timestamp)] = None
        return thread

    def __getattr__(self, name: str) -> Any:  # the rest of Knowledge, as it is
        return getattr(self._known, name)


def _search_slack(
    keys: Iterable[tuple[str, int]],
    known: Knowledge,
    config: Config,
    now: float,
    ingested_at: float,
) -> Plan | None:
    """A lifecycle event with no local thread: its alert may be in Slack (another host's post,
    Skyline's own). The search is asked for (every time: a cached miss is repeated once it is
    old) and waited for, whatever the grace period, until it has been made; None once every
    key's search is a miss made since the event arrived or a cached one (then the no-thread
    rules apply). Of a long features-profile lineage only the oldest keys are looked for: the
    alert is the root; later generations carry their own work timestamps."""
    ttl = config.sidecar.thread_search_miss_seconds
    searches, waiting = [], False
    for metric, ts in sorted(keys, key=lambda k: k[1])[:MAX_SEARCHES]:
        channels = search_channels(metric, config)
        if not channels:
            continue
        searches.append(ThreadSearch(metric, ts, channels))
        state = known.thread_search(metric, ts) or {}
        searched_at = float(str(state.get("searched_at") or 0.0))
        fresh_miss = state.get("state") == SearchState.MISS and (
            searched_at >= ingested_at or now - searched_at < ttl
        )
        waiting = waiting or not fresh_miss
    if not waiting:
        return None
    return Plan(
        searches=tuple(searches),
        wait_until=now + RECHECK_SECONDS,
        note="looking for the thread in Slack",
    )


# -- alerts ------------------------------------------------------------------------------------


def _plan_alert(alert: AnomalyAlert, known: Knowledge, config: Config, final: bool = False) -> Plan:
    if alert.alerter not in config.slack.alerters:
        return Plan(note=f"{alert.alerter} alerts are not posted (alerters)")
    if muted(alert, known):
        return Plan(note="muted: Skyline logged the metric as muted in this alert cycle")
    key = alert_key(alert, config.skyline.timezone)
    if known.thread(*key) is not None:
        return Plan(note="alert already has a thread")
    if alert.message.startswith(SLACK_ANOMALOUS) and not final:
        # Skyline's own Slack is posting it: its thread line (adopted) or its muted line
        # follows in this pid
        return Plan(needs_thread=True)
    channels = route(alert, config)
    if not channels:
        ns = alert.alert_namespace or "(no ALERTS namespace)"
        return Plan(
            note="no channel",
            error=(
                f"alert {alert.metric} @ {key[1]} (ALERTS namespace {ns!r}) routes to no channel:"
                f" set SLACK_OPTS['channels'][{ns!r}] or SLACK_OPTS['default_channel'], then"
                " restart"
            ),
        )
    text = render.alert_text(alert, config.skyline, anomaly_timestamp=key[1])
    graph_url = render.alert_graph_url(alert, config.skyline, anomaly_timestamp=key[1])
    spec = _graph_spec(alert.metric, key[1], alert.app, graph_url, config)
    actions = tuple(
        Action(
            id=action_id(alert.event_id, POST_MESSAGE, channel),
            event_id=alert.event_id,
            action=POST_MESSAGE,
            channel=channel,
            thread_metric=key[0],
            thread_anomaly_timestamp=key[1],
            text=text,
            creates_thread=(i == 0),
            graph=spec,
        )
        for i, channel in enumerate(channels)
    )
    # The thread is reserved now, so a second alerter's line for the same anomaly finds it.
    pending = Thread(key[0], key[1], channels[0], None, alert.event_id, Origin.POSTED)
    return Plan(actions=actions, threads=(pending,), note=f"alert to {', '.join(channels)}")


def _plan_boundary(
    alert: BoundaryAlert, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    """One post per channel, as Skyline's boundary alerter makes. Never a thread: Skyline
    records none for Boundary and no lifecycle event refers to one (README, Boundary)."""
    if alert.alerter not in config.slack.alerters:
        return Plan(note=f"{alert.alerter} alerts are not posted (alerters)")
    if alert.muted:
        return Plan(note=f"{alert.metric} is muted (mute_alerts_on): Boundary did not alert")
    channels = route_boundary(alert.metric, config)
    if not channels:
        return Plan(
            note="no channel",
            error=(
                f"boundary alert {alert.metric} routes to no channel: no"
                " BOUNDARY_SLACK_OPTS['channels'] key matches it; add one (or"
                " [slack.boundary_channels]), then restart"
            ),
        )
    text = render.boundary_text(alert, config.skyline)
    at = log_epoch(alert.logged_at, log_zone(config.skyline.timezone))
    spec = _graph_spec(
        alert.metric, at, "boundary", render.boundary_graph_url(alert, config.skyline), config
    )
    return Plan(
        actions=tuple(
            Action(
                id=action_id(alert.event_id, POST_MESSAGE, channel),
                event_id=alert.event_id,
                action=POST_MESSAGE,
                channel=channel,
                text=text,
                graph=spec,
            )
            for channel in channels
        ),
        note=f"boundary alert to {', '.join(channels)}",
    )


def _graph_spec(
    metric: str, anomaly_timestamp: int, app: str, graphite_url: str | None, config: Config
) -> str | None:
    """Where an alert's graph is to be found (JSON), None for a text-only alert. Boundary's graph
    always comes from Graphite (boundary_alerters.py:954-1002): it has no training data dir."""
    sky = config.skyline
    if not config.slack.graph_images:
        return None
    folder = sky.ionosphere_data_folder if sky.ionosphere_enabled and app != "boundary" else None
    if folder is None and graphite_url is None:
        return None
    return graph.spec_for(
        metric, anomaly_timestamp, app, ionosphere_dir=folder, graphite_url=graphite_url
    ).to_json()


def _plan_thread(event: SlackThread, known: Knowledge, config: Config, final: bool = False) -> Plan:
    if known.thread(event.metric, event.anomaly_timestamp) is not None:
        return Plan(note="thread already known")
    channel = event.channel or config.slack.default_channel
    if channel is None:
        return Plan(note="Skyline's thread cannot be adopted: no default channel")
    channel = config.slack.channel_id_for(channel) or channel
    thread = Thread(
        event.metric,
        event.anomaly_timestamp,
        channel,
        event.thread_ts,
        event.event_id,
        Origin.ADOPTED,
    )
    return Plan(threads=(thread,), note="adopted Skyline's thread")


# -- lifecycle ----------------------------------------------------------------------------------


def _replies(event: Event, thread: Thread, text: str, reactions: Sequence[str]) -> list[Action]:
    key = (thread.metric, thread.anomaly_timestamp)
    out = [
        Action(
            id=action_id(event.event_id, POST_REPLY, *map(str, key)),
            event_id=event.event_id,
            action=POST_REPLY,
            channel=thread.channel,
            thread_metric=key[0],
            thread_anomaly_timestamp=key[1],
            text=text,
        )
    ]
    out += [
        Action(
            id=action_id(event.event_id, ADD_REACTION, *map(str, key), name),
            event_id=event.event_id,
            action=ADD_REACTION,
            channel=thread.channel,
            thread_metric=key[0],
            thread_anomaly_timestamp=key[1],
            reaction=name.strip(":"),
        )
        for name in reactions
        if name
    ]
    return out


def _channel_post(event: Event, config: Config, text: str) -> list[Action]:
    channel = config.slack.default_channel
    if channel is None:
        return []
    return [
        Action(
            id=action_id(event.event_id, POST_MESSAGE, channel),
            event_id=event.event_id,
            action=POST_MESSAGE,
            channel=channel,
            text=text,
        )
    ]


def _updates_on(config: Config, switch: str) -> bool:
    return bool(config.slack.thread_updates and getattr(config.slack, switch))


def _plan_viewed(
    event: TrainingDataViewed, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    if not _updates_on(config, "message_on_training_data_viewed"):
        return Plan(note="message_on_training_data_viewed is off")
    metric = event.metric or f"{render.LABELLED_PREFIX}{event.metric_id}"
    if any(
        abs(at - event.logged_at) <= SELF_REQUEST_WINDOW
        for at in known.logged_times(SkylineSelfRequest.kind, metric, event.anomaly_timestamp)
    ):
        return Plan(note="Ionosphere's own request for the page (learn), not a person's view")
    thread = known.thread(metric, event.anomaly_timestamp)
    if thread is None:
        return _no_thread(final)
    emoji = config.slack.message_on_training_data_viewed_reaction_emoji
    return Plan(
        actions=tuple(_replies(event, thread, render.viewed_text(event), [emoji])), note="reply"
    )


def _plan_created(
    event: FeaturesProfileCreated, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    profile = Profile(event.fp_id, event.metric, event.anomaly_timestamp, None, 0)
    if not _updates_on(config, "message_on_features_profile_created"):
        return Plan(profiles=(profile,), note="message_on_features_profile_created is off")
    thread = known.thread(event.metric, event.anomaly_timestamp)
    if thread is None:
        return _no_thread(final, profiles=(profile,))
    emoji = config.slack.message_on_features_profile_created_reaction_emoji
    text = render.created_text(event, config.skyline.url)
    return Plan(
        actions=tuple(_replies(event, thread, text, [emoji])), profiles=(profile,), note="reply"
    )


def _plan_layers(
    event: LayersCreated, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    """Skyline gates it on the created switch and reacts with the viewed emoji
    (ionosphere_backend.py:8597-8606, 8950-8953)."""
    if not _updates_on(config, "message_on_features_profile_created"):
        return Plan(note="message_on_features_profile_created is off (layers)")
    thread, (metric, _) = thread_of(event.fp_id, known)
    if thread is None and event.metric is not None and event.anomaly_timestamp is not None:
        metric, thread = event.metric, known.thread(event.metric, event.anomaly_timestamp)
    if thread is None:
        return _no_thread(final)
    emoji = config.slack.message_on_training_data_viewed_reaction_emoji
    text = render.layers_text(event, metric or event.metric or thread.metric, config.skyline.url)
    return Plan(actions=tuple(_replies(event, thread, text, [emoji])), note="reply")


def thread_of(fp_id: int, known: Knowledge) -> tuple[Thread | None, tuple[str | None, int | None]]:
    """The alert thread of a features profile, through the registry's parent chain.

    A learnt generation >= 2 carries its own work timestamp, not the alert's, so the first
    ancestor-or-self whose (metric, anomaly timestamp) has a thread wins; without one, the
    profile's own key (the nearest known) is returned for the no-thread rules.
    """
    seen: set[int] = set()
    current: int | None = fp_id
    first: tuple[str | None, int | None] = (None, None)
    while current is not None and current not in seen and len(seen) < MAX_PARENT_CHAIN:
        seen.add(current)
        p = known.profile(current)
        if p is None:
            break
        if p.metric is not None and p.anomaly_timestamp is not None:
            if first == (None, None):
                first = (p.metric, p.anomaly_timestamp)
            thread = known.thread(p.metric, p.anomaly_timestamp)
            if thread is not None:
                return thread, (p.metric, p.anomaly_timestamp)
        current = p.parent_fp_id
    return None, first


def _plan_learnt(
    event: FeaturesProfileLearnt, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    thread, (metric, ts) = _learnt_thread(event, known)
    profile = Profile(event.fp_id, metric, ts, event.parent_fp_id, event.generation)
    if not _updates_on(config, "message_on_features_profile_learnt"):
        return Plan(profiles=(profile,), note="message_on_features_profile_learnt is off")
    actions: list[Action] = []
    if thread is not None:
        emojis = [
            config.slack.message_on_features_profile_created_reaction_emoji,
            config.slack.message_on_features_profile_learnt_reaction_emoji,
        ]
        actions += _replies(
            event, thread, render.learnt_text(event, metric, config.skyline.url), emojis
        )
    post: list[Action] = []
    if render.learnt_automatically(event):
        # Skyline also asks the channel to validate it, thread or not
        # (ionosphere_functions.py:1854-1890).
        post = _channel_post(
            event, config, render.learnt_channel_text(event, metric, config.skyline.url)
        )
    if thread is None and not final:
        return Plan(actions=tuple(post), profiles=(profile,), needs_thread=True)
    actions += post
    note = "reply" if thread is not None else ("channel" if actions else "unthreaded")
    return Plan(actions=tuple(actions), profiles=(profile,), note=note)


def _learnt_thread(
    event: FeaturesProfileLearnt,
    known: Knowledge,
) -> tuple[Thread | None, tuple[str | None, int | None]]:
    """The learnt profile's thread: its own key (generation 1 carries the alert's anomaly
    timestamp), else its parent's chain (later generations carry their own work timestamp)."""
    own = (event.metric, event.anomaly_timestamp)
    if own[0] is not None and own[1] is not None:
        thread = known.thread(own[0], own[1])
        if thread is not None:
            return thread, own
    thread, key = thread_of(event.parent_fp_id, known)
    if thread is not None:
        return thread, key
    return None, own if own[0] is not None and own[1] is not None else key


def _family_threads(
    fp_ids: Sequence[int],
    known: Knowledge,
    fallback: tuple[str | None, int | None],
) -> tuple[list[tuple[Thread, tuple[int, ...]]], tuple[int, ...], str | None]:
    """The known threads of a family of profiles (in first-seen order) with their profiles;
    the profiles without a thread; the metric for messages."""
    threads: dict[tuple[str, int], tuple[Thread, list[int]]] = {}
    rest: list[int] = []
    metric = fallback[0]
    for fp in fp_ids:
        thread, (m, _) = thread_of(fp, known)
        metric = metric or m
        if thread is None:
            rest.append(fp)
            continue
        key = (thread.metric, thread.anomaly_timestamp)
        threads.setdefault(key, (thread, []))[1].append(fp)
        metric = metric or thread.metric
    return [(t, tuple(fps)) for t, fps in threads.values()], tuple(rest), metric


def _thread_age(thread: Thread, at: int) -> float:
    """Seconds between a thread's post (its ts; the anomaly while it is not posted yet) and
    ``at``."""
    try:
        posted = float(thread.ts) if thread.ts else float(thread.anomaly_timestamp)
    except ValueError:
        posted = float(thread.anomaly_timestamp)
    return at - posted


def _plan_disabled(
    event: FeaturesProfileDisabled, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    """One channel post per disable action, naming the profile and counting its progeny, and
    the same text with the ``x`` reaction in the family's thread if it is younger than 7 days
    (ionosphere_backend.py:5835-5919, which does it once per profile)."""
    if not _updates_on(config, "message_on_features_profile_disabled") or not event.fp_ids:
        return Plan(note="message_on_features_profile_disabled is off")
    groups, _rest, metric = _family_threads(
        event.fp_ids, known, (event.metric, event.anomaly_timestamp)
    )
    if not groups and event.metric is not None and event.anomaly_timestamp is not None:
        # profiles the registry never saw: the request's own metric and timestamp
        asked = known.thread(event.metric, event.anomaly_timestamp)
        groups = [(asked, event.fp_ids)] if asked is not None else []
    text = render.disabled_text(event.fp_ids, metric, config.skyline.url)
    actions = _channel_post(event, config, text)
    if not groups and not final:
        # the family's alert may not be read yet: the thread copy waits, the post does not
        return Plan(actions=tuple(actions), needs_thread=True)
    emoji = config.slack.message_on_features_profile_disabled_reaction_emoji
    at = log_epoch(event.logged_at, log_zone(config.skyline.timezone))
    young = [t for t, _ in groups if _thread_age(t, at) <= DISABLED_THREAD_MAX_AGE]
    for thread in young:
        actions += _replies(event, thread, text, [emoji])
    note = f"channel and {len(young)} thread(s)" if young else "channel"
    return Plan(actions=tuple(actions), note=f"disabled: {note}")


def _plan_validated(
    event: FeaturesProfilesValidated, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    profiles = tuple(
        Profile(p.fp_id, p.metric, p.anomaly_timestamp, p.parent_fp_id, p.generation)
        for p in event.profiles
    )
    if not _updates_on(config, "message_on_validated_features_profiles"):
        return Plan(profiles=profiles, note="message_on_validated_features_profiles is off")
    fp_ids = event.fp_ids or tuple(p.fp_id for p in event.profiles)
    bulk = bool(event.profiles) or not event.fp_ids
    if bulk:
        # Skyline posts the bulk validation to the channel, no thread (ionosphere_backend.py:8634).
        text = render.validated_text(fp_ids, event.metric, bulk=True, count=event.validated_count)
        return Plan(
            actions=tuple(_channel_post(event, config, text)), profiles=profiles, note="channel"
        )
    if not config.slack.message_on_single_validated_features_profile:
        # Skyline posts nothing for one profile (webapp.py:11597).
        return Plan(profiles=profiles, note="single validation: Skyline posts none")
    groups, rest, metric = _family_threads(fp_ids, known, (event.metric, None))
    if rest and not final:
        return Plan(profiles=profiles, needs_thread=True)
    actions: list[Action] = []
    for thread, fps in groups:
        actions += _replies(
            event, thread, render.validated_text(fps, thread.metric, bulk=False), []
        )
    if rest:
        actions += _channel_post(event, config, render.validated_text(rest, metric, bulk=False))
    return Plan(actions=tuple(actions), profiles=profiles, note="validated")


def _plan_labelled(
    event: AnomaliesLabelled, known: Knowledge, config: Config, final: bool = False
) -> Plan:
    """A ``*LABELLED*`` reply, no reaction, in the thread of every anomaly labelled: those
    between the two timestamps whose metric is one of ``metrics`` or LIKE one of
    ``namespaces`` (ionosphere_backend.py:9180-9451; no switch but thread_updates)."""
    if not config.slack.thread_updates:
        return Plan(note="thread_updates is off")
    patterns = [_like(ns) for ns in event.namespaces]
    threads = [
        t
        for t in known.threads_between(event.start_timestamp, event.end_timestamp)
        if t.metric in event.metrics or any(p.fullmatch(t.metric) for p in patterns)
    ]
    text = render.labelled_text(event.label)
    actions = [a for t in threads for a in _replies(event, t, text, [])]
    return Plan(actions=tuple(actions), note=f"labelled in {len(threads)} thread(s)")


def _like(namespace: str) -> re.Pattern[str]:
    """Skyline's namespace match: ``metric LIKE '<ns>.%'`` (the namespace as given when it has
    a ``%``), case-insensitive as MySQL compares."""
    ns = namespace.rstrip(".")
    like = ns if "%" in ns else f"{ns}.%"
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in like)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _no_thread(final: bool, profiles: tuple[Profile, ...] = ()) -> Plan:
    if final:
        return Plan(profiles=profiles, note="unthreaded: no alert thread known")
    return Plan(profiles=profiles, needs_thread=True)


#: the events whose missing thread is looked for in Slack (lifecycle events)
_SEARCHED = frozenset(
    {
        TrainingDataViewed,
        FeaturesProfileCreated,
        FeaturesProfileLearnt,
        FeaturesProfileDisabled,
        LayersCreated,
        FeaturesProfilesValidated,
    }
)


class _EventPlanner(Protocol):
    """A planner of one event class (``event`` is of the class it is filed under)."""

    def __call__(
        self, event: Any, /, known: Knowledge, config: Config, final: bool = False
    ) -> Plan: ...


_PLANNERS: dict[type[Event], _EventPlanner] = {
    AnomalyAlert: _plan_alert,
    BoundaryAlert: _plan_boundary,
    SlackThread: _plan_thread,
    TrainingDataViewed: _plan_viewed,
    FeaturesProfileCreated: _plan_created,
    FeaturesProfileLearnt: _plan_learnt,
    FeaturesProfileDisabled: _plan_disabled,
    LayersCreated: _plan_layers,
    AnomaliesLabelled: _plan_labelled,
    FeaturesProfilesValidated: _plan_validated,
}


def action_id(event_id: str, *parts: str) -> str:
    """Deterministic: planning the same event twice gives the same actions."""
    raw = "\x1f".join((event_id, *parts))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
