"""From a stored event to the Slack actions it calls for: routing and rendering, no I/O.

Skyline's semantics (``alert_slack`` in mirage/mirage_alerters.py and analyzer/alerters.py): an
alert goes to every channel of ``SLACK_OPTS['channels'][alert[0]]`` (else ``default_channel``),
and only the first of them carries the thread that lifecycle events reply to. A lifecycle event
finds its thread by the alert key (metric, anomaly timestamp), through the features-profile
registry for fp events. One with no thread yet waits for the grace period (files are read
concurrently, so webapp.log can be read ahead of mirage.log); then the events Skyline itself
posts to the channel (disabled, validated, later learnt generations) go to the default channel,
and the others are recorded as unthreaded.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from parsers.events import (
    AnomalyAlert,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
    SkylineSelfRequest,
    SlackThread,
    TrainingDataViewed,
)
from sidecar import render
from sidecar.config import Config
from sidecar.store import Action, Profile, Thread

POST_MESSAGE, POST_REPLY, ADD_REACTION = "post_message", "post_reply", "add_reaction"
MAX_PARENT_CHAIN = 64
#: a waiting event looks for its thread again this often, until its grace period is over
RECHECK_SECONDS = 2.0
#: a view this close to Ionosphere's own request for the same page is that request
SELF_REQUEST_WINDOW = timedelta(seconds=120)


class Knowledge(Protocol):
    def thread(self, metric: str, anomaly_timestamp: int) -> Thread | None: ...
    def profile(self, fp_id: int) -> Profile | None: ...
    def logged_times(self, kind: str, metric: str, anomaly_timestamp: int) -> list[datetime]: ...


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    profiles: tuple[Profile, ...] = ()
    threads: tuple[Thread, ...] = ()
    #: not decided yet: look again at this time (waiting for an alert's thread)
    wait_until: float | None = None
    note: str = ""
    #: cannot be planned as configured (an alert that routes nowhere): it stays pending, is
    #: reported, and is planned again at the next start
    error: str | None = None


def alert_key(alert: AnomalyAlert) -> tuple[str, int]:
    """The thread key. v1 lines carry no anomaly timestamp: the prefix time stands in."""
    if alert.anomaly_timestamp is not None:
        return alert.metric, int(alert.anomaly_timestamp)
    return alert.metric, int(time.mktime(alert.logged_at.timetuple()))


def route(alert: AnomalyAlert, config: Config) -> tuple[str, ...]:
    """The channels an alert goes to, Skyline's way: an exact lookup of the ALERTS namespace
    that matched; v1 lines name none, so the first ALERTS pattern matching the metric stands in."""
    namespace = alert.alert_namespace
    if namespace is None:
        namespace = matching_namespace(alert.metric, [ns for ns, _ in config.skyline.alerts])
    if namespace is None:
        default = config.slack.default_channel
        return (default,) if default else ()
    return config.slack.channels_for(namespace)


def matching_namespace(metric: str, namespaces: Sequence[str]) -> str | None:
    """As Skyline v1 matched ALERTS (analyzer.py: ``re.compile(alert[0]).match(metric)``, then
    substring), the first pattern that matches."""
    for ns in namespaces:
        try:
            if re.match(ns, metric):
                return ns
        except re.error:
            pass
        if ns in metric:
            return ns
    return None


def plan_event(
    event: Event, known: Knowledge, config: Config, *, ingested_at: float, now: float,
    post: bool = True,
) -> Plan:
    """Decide what one event means in Slack. ``post=False`` (a backfill that only records)
    keeps the registry and adopted threads but plans no action and never waits."""
    planner = _PLANNERS.get(type(event))
    if planner is None:
        return Plan(note="not a Slack event")
    plan = planner(event, known, config)
    if not post:
        adopted = tuple(t for t in plan.threads if t.origin == "adopted")
        return Plan(profiles=plan.profiles, threads=adopted, note="recorded only")
    if plan.wait_until is not None:
        deadline = ingested_at + config.slack.lifecycle_grace_seconds
        if now < deadline:
            return Plan(profiles=plan.profiles, wait_until=min(deadline, now + RECHECK_SECONDS),
                        note="waiting for thread")
        # Grace is over: plan again without waiting.
        plan = planner(event, known, config, final=True)
    return plan


# -- alerts ------------------------------------------------------------------------------------


def _plan_alert(alert: AnomalyAlert, known: Knowledge, config: Config, final: bool = False) -> Plan:
    if alert.alerter not in config.slack.alerters:
        return Plan(note=f"{alert.alerter} alerts are not posted (alerters)")
    key = alert_key(alert)
    if known.thread(*key) is not None:
        return Plan(note="alert already has a thread")
    channels = route(alert, config)
    if not channels:
        ns = alert.alert_namespace or "(no ALERTS namespace)"
        return Plan(note="no channel", error=(
            f"alert {alert.metric} @ {key[1]} (ALERTS namespace {ns!r}) routes to no channel:"
            f" set SLACK_OPTS['channels'][{ns!r}] or SLACK_OPTS['default_channel'], then"
            " restart"))
    text = render.alert_text(
        alert, skyline_url=config.skyline.url, graphite=config.skyline.graphite_url,
        anomaly_timestamp=key[1],
    )
    actions = tuple(
        Action(
            id=action_id(alert.event_id, POST_MESSAGE, channel),
            event_id=alert.event_id, action=POST_MESSAGE, channel=channel,
            thread_metric=key[0], thread_anomaly_timestamp=key[1], text=text,
            creates_thread=(i == 0),
        )
        for i, channel in enumerate(channels)
    )
    # The thread is reserved now, so a second alerter's line for the same anomaly finds it.
    pending = Thread(key[0], key[1], channels[0], None, alert.event_id, "posted")
    return Plan(actions=actions, threads=(pending,), note=f"alert to {', '.join(channels)}")


def _plan_thread(event: SlackThread, known: Knowledge, config: Config, final: bool = False) -> Plan:
    if known.thread(event.metric, event.anomaly_timestamp) is not None:
        return Plan(note="thread already known")
    channel = event.channel or config.slack.default_channel
    if channel is None:
        return Plan(note="Skyline's thread cannot be adopted: no default channel")
    channel = config.slack.channel_id_for(channel) or channel
    thread = Thread(event.metric, event.anomaly_timestamp, channel, event.thread_ts,
                    event.event_id, "adopted")
    return Plan(threads=(thread,), note="adopted Skyline's thread")


# -- lifecycle ----------------------------------------------------------------------------------


def _replies(event: Event, thread: Thread, text: str, reactions: Sequence[str]) -> list[Action]:
    key = (thread.metric, thread.anomaly_timestamp)
    out = [Action(
        id=action_id(event.event_id, POST_REPLY, *map(str, key)), event_id=event.event_id,
        action=POST_REPLY, channel=thread.channel, thread_metric=key[0],
        thread_anomaly_timestamp=key[1], text=text,
    )]
    out += [
        Action(
            id=action_id(event.event_id, ADD_REACTION, *map(str, key), name),
            event_id=event.event_id, action=ADD_REACTION, channel=thread.channel,
            thread_metric=key[0], thread_anomaly_timestamp=key[1], reaction=name.strip(":"),
        )
        for name in reactions if name
    ]
    return out


def _channel_post(event: Event, config: Config, text: str) -> list[Action]:
    channel = config.slack.default_channel
    if channel is None:
        return []
    return [Action(
        id=action_id(event.event_id, POST_MESSAGE, channel), event_id=event.event_id,
        action=POST_MESSAGE, channel=channel, text=text,
    )]


def _updates_on(config: Config, switch: str) -> bool:
    return bool(config.slack.thread_updates and getattr(config.slack, switch))


def _plan_viewed(event: TrainingDataViewed, known: Knowledge, config: Config,
                 final: bool = False) -> Plan:
    if not _updates_on(config, "message_on_training_data_viewed"):
        return Plan(note="message_on_training_data_viewed is off")
    metric = event.metric or f"{render.LABELLED_PREFIX}{event.metric_id}"
    if any(abs(at - event.logged_at) <= SELF_REQUEST_WINDOW for at in known.logged_times(
            SkylineSelfRequest.kind, metric, event.anomaly_timestamp)):
        return Plan(note="Ionosphere's own request for the page (learn), not a person's view")
    thread = known.thread(metric, event.anomaly_timestamp)
    if thread is None:
        return _no_thread(final)
    emoji = config.slack.message_on_training_data_viewed_reaction_emoji
    return Plan(actions=tuple(_replies(event, thread, render.viewed_text(event), [emoji])),
                note="reply")


def _plan_created(event: FeaturesProfileCreated, known: Knowledge, config: Config,
                  final: bool = False) -> Plan:
    profile = Profile(event.fp_id, event.metric, event.anomaly_timestamp, None, 0)
    if not _updates_on(config, "message_on_features_profile_created"):
        return Plan(profiles=(profile,), note="message_on_features_profile_created is off")
    thread = known.thread(event.metric, event.anomaly_timestamp)
    if thread is None:
        return _no_thread(final, profiles=(profile,))
    emoji = config.slack.message_on_features_profile_created_reaction_emoji
    text = render.created_text(event, config.skyline.url)
    return Plan(actions=tuple(_replies(event, thread, text, [emoji])), profiles=(profile,),
                note="reply")


def origin_of(fp_id: int, known: Knowledge) -> tuple[str | None, int | None]:
    """Walk the parent chain of a features profile to the alert it came from."""
    seen: set[int] = set()
    current: int | None = fp_id
    while current is not None and current not in seen and len(seen) < MAX_PARENT_CHAIN:
        seen.add(current)
        p = known.profile(current)
        if p is None:
            return None, None
        if p.metric is not None and p.anomaly_timestamp is not None:
            return p.metric, p.anomaly_timestamp
        current = p.parent_fp_id
    return None, None


def _plan_learnt(event: FeaturesProfileLearnt, known: Knowledge, config: Config,
                 final: bool = False) -> Plan:
    metric, ts = event.metric, event.anomaly_timestamp
    if metric is None or ts is None:
        metric, ts = origin_of(event.parent_fp_id, known)
    profile = Profile(event.fp_id, metric, ts, event.parent_fp_id, event.generation)
    if not _updates_on(config, "message_on_features_profile_learnt"):
        return Plan(profiles=(profile,), note="message_on_features_profile_learnt is off")
    later = event.job != "learn_fp_human" and not (event.job is None and event.generation <= 1)
    thread = known.thread(metric, ts) if metric is not None and ts is not None else None
    actions: list[Action] = []
    if thread is not None:
        emojis = [config.slack.message_on_features_profile_created_reaction_emoji,
                  config.slack.message_on_features_profile_learnt_reaction_emoji]
        actions += _replies(event, thread, render.learnt_text(event, metric, config.skyline.url),
                            emojis)
    elif not final:
        return Plan(profiles=(profile,), wait_until=0.0)
    if later:
        # Skyline also tells the channel, thread or not (ionosphere_functions.py:1876-1891).
        actions += _channel_post(event, config,
                                 render.learnt_channel_text(event, metric, config.skyline.url))
    note = "reply" if thread is not None else ("channel" if actions else "unthreaded")
    return Plan(actions=tuple(actions), profiles=(profile,), note=note)


def _resolve(fp_ids: Sequence[int], known: Knowledge,
             fallback: tuple[str | None, int | None]) -> dict[int, tuple[str | None, int | None]]:
    out = {}
    for fp in fp_ids:
        metric, ts = origin_of(fp, known)
        out[fp] = (metric, ts) if metric is not None else fallback
    return out


def _group_by_thread(
    fp_ids: Sequence[int], known: Knowledge, fallback: tuple[str | None, int | None],
) -> tuple[list[tuple[Thread, tuple[int, ...]]], tuple[int, ...], str | None]:
    """Which fps belong to which known thread; the rest; the metric for messages."""
    threads: dict[tuple[str, int], list[int]] = {}
    found: dict[tuple[str, int], Thread] = {}
    rest: list[int] = []
    metric = fallback[0]
    for fp, (m, ts) in _resolve(fp_ids, known, fallback).items():
        metric = metric or m
        t = known.thread(m, ts) if m is not None and ts is not None else None
        if t is None:
            rest.append(fp)
            continue
        key = (t.metric, t.anomaly_timestamp)
        found[key] = t
        threads.setdefault(key, []).append(fp)
    return [(found[k], tuple(v)) for k, v in threads.items()], tuple(rest), metric


def _plan_disabled(event: FeaturesProfileDisabled, known: Knowledge, config: Config,
                   final: bool = False) -> Plan:
    if not _updates_on(config, "message_on_features_profile_disabled") or not event.fp_ids:
        return Plan(note="message_on_features_profile_disabled is off")
    groups, rest, metric = _group_by_thread(
        event.fp_ids, known, (event.metric, event.anomaly_timestamp))
    if rest and not final:
        return Plan(wait_until=0.0)
    emoji = config.slack.message_on_features_profile_disabled_reaction_emoji
    actions: list[Action] = []
    for thread, fps in groups:
        text = render.disabled_text(fps, thread.metric, config.skyline.url)
        actions += _replies(event, thread, text, [emoji])
    if rest:
        actions += _channel_post(event, config,
                                 render.disabled_text(rest, metric, config.skyline.url))
    return Plan(actions=tuple(actions), note="disabled")


def _plan_validated(event: FeaturesProfilesValidated, known: Knowledge, config: Config,
                    final: bool = False) -> Plan:
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
        text = render.validated_text(fp_ids, event.metric, bulk=True,
                                     count=event.validated_count)
        return Plan(actions=tuple(_channel_post(event, config, text)), profiles=profiles,
                    note="channel")
    groups, rest, metric = _group_by_thread(fp_ids, known, (event.metric, None))
    if rest and not final:
        return Plan(profiles=profiles, wait_until=0.0)
    actions: list[Action] = []
    for thread, fps in groups:
        actions += _replies(event, thread,
                            render.validated_text(fps, thread.metric, bulk=False), [])
    if rest:
        actions += _channel_post(event, config, render.validated_text(rest, metric, bulk=False))
    return Plan(actions=tuple(actions), profiles=profiles, note="validated")


def _no_thread(final: bool, profiles: tuple[Profile, ...] = ()) -> Plan:
    if final:
        return Plan(profiles=profiles, note="unthreaded: no alert thread known")
    return Plan(profiles=profiles, wait_until=0.0)


_PLANNERS = {
    AnomalyAlert: _plan_alert,
    SlackThread: _plan_thread,
    TrainingDataViewed: _plan_viewed,
    FeaturesProfileCreated: _plan_created,
    FeaturesProfileLearnt: _plan_learnt,
    FeaturesProfileDisabled: _plan_disabled,
    FeaturesProfilesValidated: _plan_validated,
}


def action_id(event_id: str, *parts: str) -> str:
    """Deterministic: planning the same event twice gives the same actions."""
    raw = "\x1f".join((event_id, *parts))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
