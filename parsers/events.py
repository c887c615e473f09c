"""The events the parsers find in Skyline's logs: plain frozen dataclasses.

Every event knows the app whose log it came from, the prefix time (server local time, naive,
one-second resolution, as Skyline's formatter writes it) and the pid that wrote the line. Its
``event_id`` is derived from its content alone, so the same event read twice (after a restart
rewrite of the log, a crash, or a backfill over files already tailed) has the same id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar

#: json.dumps(identity, separators=(",", ":"), default=str), without making an encoder per call
_IDENTITY_JSON = json.JSONEncoder(separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event was read: not part of its identity."""

    path: str
    line: int
    offset: int = 0


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    #: fields that make two lines the same event (see ``identity``)
    app: str
    logged_at: datetime
    pid: int
    #: the record's first line after the prefix (the log message itself)
    message: str = field(repr=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    #: fields ``to_dict`` leaves out when false: shown only when they say something
    hidden_when_false: ClassVar[frozenset[str]] = frozenset()

    def identity(self) -> tuple[Any, ...]:
        """What makes this event unique; by default the log line itself."""
        return (self.kind, self.app, self.logged_at.isoformat(sep=" "), self.pid, self.message)

    @cached_property  # computed once: dedup, storage and output all ask for it
    def event_id(self) -> str:
        raw = _IDENTITY_JSON.encode(self.identity())
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data: ``kind``, the fields, ``source`` and ``event_id``."""
        data: dict[str, Any] = {"kind": self.kind}
        for name in _data_fields(type(self)):
            value = getattr(self, name)
            if not value and name in self.hidden_when_false:
                continue
            if isinstance(value, datetime):
                value = value.isoformat(sep=" ")
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        data["event_id"] = self.event_id
        if self.source is not None:
            data["source"] = {"path": self.source.path, "line": self.source.line}
        return data

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``, byte for byte, without building the dict: the parse
        command writes thousands of these a second in an alert storm."""
        parts = ['{"kind": ', encode_basestring_ascii(self.kind)]
        hidden = self.hidden_when_false
        keys = _JSON_KEYS.get(type(self)) or _json_keys(type(self))
        for name, key in keys:
            value = getattr(self, name)
            if not value and name in hidden:
                continue
            parts.append(key)
            parts.append(_JSON_VALUE.get(type(value), json.dumps)(value))
        parts.append(', "event_id": ')
        parts.append(encode_basestring_ascii(self.event_id))
        if self.source is not None:
            parts.append(', "source": {"path": ')
            parts.append(encode_basestring_ascii(self.source.path))
            parts.append(', "line": ')
            parts.append(_JSON_VALUE.get(type(self.source.line), json.dumps)(self.source.line))
            parts.append("}")
        parts.append("}")
        return "".join(parts)


#: per event class, the fields ``to_dict`` writes (dataclasses.fields is slow to ask per event)
_FIELDS: dict[type[Event], tuple[str, ...]] = {}


def _data_fields(cls: type[Event]) -> tuple[str, ...]:
    """The fields ``to_dict`` writes, in order."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "source")
    return names


#: per event class: (field, the JSON text before its value) for each field ``to_dict`` writes
_JSON_KEYS: dict[type[Event], tuple[tuple[str, str], ...]] = {}


def _json_keys(cls: type[Event]) -> tuple[tuple[str, str], ...]:
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]  # as _data_fields
    keys = _JSON_KEYS[cls] = tuple((name, f", {encode_basestring_ascii(name)}: ") for name in names)
    return keys


def _json_float(value: float) -> str:
    return repr(value) if math.isfinite(value) else json.dumps(value)  # NaN, Infinity


def _json_tuple(value: tuple[Any, ...]) -> str:
    try:  # the tuples of names (algorithms, metrics) at C speed
        return "[" + ", ".join(map(encode_basestring_ascii, value)) + "]"
    except TypeError:  # an item that is not a str
        return json.dumps(value)  # a tuple is written as a list, like to_dict's list(value)


#: the JSON text ``json.dumps`` writes for a value of each exact type (``to_dict``'s conversions
#: included); any other type goes to ``json.dumps`` itself
_JSON_VALUE: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    bool: {True: "true", False: "false"}.__getitem__,
    type(None): {None: "null"}.__getitem__,
    float: _json_float,
    datetime: lambda value: encode_basestring_ascii(value.isoformat(sep=" ")),
    tuple: _json_tuple,
}


@dataclass(frozen=True, kw_only=True)
class AnomalyAlert(Event):
    """Skyline decided to alert on an anomaly through one alerter (slack, smtp, ...)."""

    kind: ClassVar[str] = "anomaly_alert"
    metric: str
    anomaly_timestamp: int | None
    alerter: str
    value: float | None = None
    #: the ALERTS namespace pattern that matched (``alert[0]``); None on v1 lines
    alert_namespace: str | None = None
    triggered_algorithms: tuple[str, ...] = ()
    algorithms_run: tuple[str, ...] = ()
    full_duration: int | None = None
    second_order_resolution_seconds: int | None = None
    #: Analyzer / Mirage / Ionosphere / Vortex
    context: str | None = None
    #: Skyline's test alert: ``alert[3]`` is ``{'test alert': True}`` (analyzer.py:8175)
    test_alert: bool = False
    #: a ``waterfall alerting on`` line for it came first (its Redis key lives 300 s)
    waterfall: bool = False
    #: Skyline logged the metric muted (mute_alerts_on) just before, in this alert cycle
    muted: bool = False

    hidden_when_false: ClassVar[frozenset[str]] = frozenset({"muted"})

    def identity(self) -> tuple[Any, ...]:
        # One anomaly seen through several lines (SLACK_ENABLED, trigger_alert, sent ... alert)
        # is one alert per alerter. v1 lines carry no anomaly timestamp: fall back to the line.
        if self.anomaly_timestamp is None:
            return (self.kind, self.metric, self.alerter, self.app, str(self.logged_at), self.pid)
        return (self.kind, self.metric, self.anomaly_timestamp, self.alerter)


@dataclass(frozen=True, kw_only=True)
class BoundaryAlert(Event):
    """Boundary alerted on a metric through one alerter (boundary.log, ``alert sent ::``).

    Boundary's alert is about the time it was sent (its graph ends then): there is no anomaly
    timestamp. The values keep the text Skyline logged (``str(datapoint)``), as its title shows
    them. Every line is its own alert: the default identity (the line itself).
    """

    kind: ClassVar[str] = "boundary_alert"
    metric: str
    alerter: str
    value: str
    algorithm: str
    #: the metric's trigger value and alert threshold; None on v1/v2 lines, which omit them
    trigger: str | None = None
    threshold: str | None = None
    #: an ``alert_smtp``/``alert_slack - <metric> is muted`` line came first: Skyline did not post
    muted: bool = False
    #: ``test alert to <alerter> for <metric>`` (boundary.py:1682): algorithm 'testing'
    test_alert: bool = False


@dataclass(frozen=True, kw_only=True)
class AlertMuted(Event):
    """An alerter did not alert because the metric is muted (``mute_alerts_on``, v4+):
    ``alert_<alerter> - <metric> is muted, not alerting``."""

    kind: ClassVar[str] = "alert_muted"
    metric: str
    alerter: str
    #: known when the pid was sending this metric's alert (alert_slack, Skyline's Slack on)
    anomaly_timestamp: int | None = None
    muted: bool = True


@dataclass(frozen=True, kw_only=True)
class SlackThread(Event):
    """Skyline posted the alert itself and logged the thread it got."""

    kind: ClassVar[str] = "slack_thread"
    metric: str
    anomaly_timestamp: int
    thread_ts: str
    #: channel id or name when the line says it (v1-v4 'slack group is %s')
    channel: str | None = None

    def identity(self) -> tuple[Any, ...]:
        return (self.kind, self.metric, self.anomaly_timestamp, self.thread_ts)


@dataclass(frozen=True, kw_only=True)
class TrainingDataViewed(Event):
    """A person opened the training data page of an anomaly (webapp.log)."""

    kind: ClassVar[str] = "training_data_viewed"
    metric: str | None
    anomaly_timestamp: int
    #: labelled metrics are linked as ``metric_id=`` instead of ``metric=``
    metric_id: int | None = None
    user: str | None = None

    def identity(self) -> tuple[Any, ...]:
        # The marker line is the same text for every view ('slack_updated for
        # training_data_viewed False'): two pages viewed in one second by one gevent worker
        # differ only in what was viewed.
        return (*Event.identity(self), self.metric, self.metric_id, self.anomaly_timestamp)


@dataclass(frozen=True, kw_only=True)
class FeaturesProfileCreated(Event):
    """A features profile was created from an anomaly's training data (webapp.log)."""

    kind: ClassVar[str] = "features_profile_created"
    fp_id: int
    metric: str
    anomaly_timestamp: int
    user_id: int | None = None
    learn: bool = False
    learn_days: int | None = None

    def identity(self) -> tuple[Any, ...]:
        # One features profile, one event: its lines (new fp_id, dir created, learn work) are
        # spread over a request, and the parser may complete it from any of them.
        return (self.kind, self.app, self.fp_id)


@dataclass(frozen=True, kw_only=True)
class LayersCreated(Event):
    """Ionosphere layers were added to a features profile from its page (webapp.log)."""

    kind: ClassVar[str] = "layers_created"
    fp_id: int
    layer_id: int
    #: the request's ``metric`` and ``timestamp`` (the fp page's own timestamp)
    metric: str | None = None
    anomaly_timestamp: int | None = None
    #: ``fp_layer_label`` as requested (Skyline cuts it to 255 characters)
    label: str | None = None

    def identity(self) -> tuple[Any, ...]:
        return (self.kind, self.app, self.layer_id)


@dataclass(frozen=True, kw_only=True)
class AnomaliesLabelled(Event):
    """Anomalies were labelled from the Panorama page (webapp.log): every anomaly between the
    two timestamps of the metrics or namespaces given."""

    kind: ClassVar[str] = "anomalies_labelled"
    start_timestamp: int
    end_timestamp: int
    label: str
    metrics: tuple[str, ...] = ()
    #: SQL LIKE patterns as Skyline uses them ('stats.web' means 'stats.web.%')
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FeaturesProfileLearnt(Event):
    """Ionosphere's learn process made a new generation of a features profile."""

    kind: ClassVar[str] = "features_profile_learnt"
    fp_id: int
    parent_fp_id: int
    generation: int
    metric: str | None
    #: the ORIGINAL alert's anomaly timestamp (from the learn work item)
    anomaly_timestamp: int | None
    learn_days: int | None = None
    #: learn_fp_human, learn_fp_learnt, learn_fp_automatic, ...
    job: str | None = None


@dataclass(frozen=True, kw_only=True)
class FeaturesProfileDisabled(Event):
    """A features profile and its progeny were disabled (webapp.log)."""

    kind: ClassVar[str] = "features_profile_disabled"
    fp_ids: tuple[int, ...]
    metric: str | None = None
    anomaly_timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class ValidatedProfile:
    """One row of Skyline's ``features_profiles_to_validate`` list."""

    fp_id: int
    metric: str
    anomaly_timestamp: int
    parent_fp_id: int | None
    generation: int | None


@dataclass(frozen=True, kw_only=True)
class FeaturesProfilesValidated(Event):
    """Features profiles were validated: one by id, or all of a metric's in bulk (webapp.log)."""

    kind: ClassVar[str] = "features_profiles_validated"
    fp_ids: tuple[int, ...] = ()
    metric: str | None = None
    metric_id: int | None = None
    validated_count: int | None = None
    #: what the bulk page listed before validating (fp -> metric, anomaly, parent)
    profiles: tuple[ValidatedProfile, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = Event.to_dict(self)
        data["profiles"] = [dataclasses.asdict(p) for p in self.profiles]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass(frozen=True, kw_only=True)
class SkylineSelfRequest(Event):
    """Ionosphere's learn process requesting a training data page itself (ionosphere.log):
    the view webapp.log shows for it is Skyline's own request, not a person's."""

    kind: ClassVar[str] = "skyline_self_request"
    metric: str
    anomaly_timestamp: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        AnomalyAlert,
        BoundaryAlert,
        AlertMuted,
        SlackThread,
        TrainingDataViewed,
        FeaturesProfileCreated,
        FeaturesProfileLearnt,
        FeaturesProfileDisabled,
        FeaturesProfilesValidated,
        SkylineSelfRequest,
        LayersCreated,
        AnomaliesLabelled,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``Event.to_dict`` output (as stored in the state database)."""
    cls = EVENT_TYPES[data["kind"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "logged_at":
            value = datetime.fromisoformat(value)
        elif f.name == "profiles":
            value = tuple(ValidatedProfile(**p) for p in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    src = data.get("source")
    if src:
        kwargs["source"] = Source(path=src["path"], line=src["line"])
    return cls(**kwargs)
