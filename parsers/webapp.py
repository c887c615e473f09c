"""webapp.log: training data viewed, features profiles created, disabled and validated.

Format strings are quoted with their source at earthgecko/skyline HEAD 1baec4a2 (v5) and the
tags where they first appear or changed; every rule matches the record's first line only.

The webapp runs gevent workers: many requests interleave under one pid, and most lines do not
say which request they belong to. So the rules prefer lines that carry their own fields, and
keep a short list of the /ionosphere requests each pid has open (its URL or, before v3, its
``request argument`` lines). Logging never yields to another greenlet, so lines a request logs
one after the other (user, request id, URL) are adjacent in its pid.

Every line whose state may still make an event holds safe_offset (see common.AgeQueue): an open
request until it is answered, completed or MAX_REQUEST_AGE old; the small per-pid state (user,
request id, looked-up metric, validate lists) for MAX_PENDING_AGE. A parser resumed at
safe_offset therefore rebuilds the same state and makes the same events.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parsers.common import (
    AgeQueue,
    Ctx,
    Line,
    PidTable,
    Rules,
    Sweeps,
    as_int,
    earliest,
    url_args,
)
from parsers.events import (
    AnomaliesLabelled,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfilesValidated,
    LayersCreated,
    TrainingDataViewed,
    ValidatedProfile,
)
from parsers.framing import Record
from parsers.pyrepr import literal_or_none

MAX_REQUESTS_PER_PID = 16
MAX_CREATIONS_PER_PID = 8
MAX_VALIDATE_LISTS_PER_PID = 4
MAX_VALIDATE_ROWS = 10_000
#: a request older than this (log time) is not taken for a training data view marker
MAX_REQUEST_AGE = timedelta(seconds=600)

# -- requests ------------------------------------------------------------------------------
# ('request :: %s', webapp.py:959, is not read: logged by check_auth for every request, and an
# /ionosphere request logs its URL again in 'request.url: %s', after its user line.)
# skyline/webapp/webapp.py:7940 (v1.3.0+):
#   '/ionosphere get_user_details() with %s returned user id %s'
USER = re.compile(r"/ionosphere get_user_details\(\) with (.*) returned user id (\d+)$")
# skyline/webapp/webapp.py:7952 (v5): 'starting ionosphere request_id: %s for %s'
# v4.0.0:skyline/webapp/webapp.py:6417: 'starting ionosphere request_id: %s'
STARTING = re.compile(r"starting ionosphere request_id: (\w+)(?: for (\S+))?$")
# skyline/webapp/webapp.py:7955 (v3.0.0+): 'request.url: %s'
REQUEST_URL = re.compile(r"request\.url: (\S+)$")
# skyline/webapp/webapp.py:7994 and :10316 (two loops; v2.0.0:skyline/webapp/webapp.py:2250):
#   'request argument - %s=%s'
ARGUMENT = re.compile(r"request argument - ([^=\s]+)=(.*)$")
# skyline/webapp/webapp.py:8429 (and 30 early returns; v4.0.0+):
#   'completed ionosphere request_id: %s, took: %s seconds'
COMPLETED = re.compile(r"completed ionosphere request_id: (\w+), took: ")

# -- training data viewed ------------------------------------------------------------------
# skyline/webapp/webapp.py:12778 (v4.0.0+):
#   'metric_id looked up base_name: %s and got metric_id: %s'
#   Logged by the viewing request just before the marker, with no greenlet switch in between
#   while Skyline's Slack is off (webapp_update_slack_thread returns at once): names the metric.
LOOKED_UP = re.compile(r"metric_id looked up base_name: (\S+) and got metric_id: (\S+)$")
# skyline/webapp/webapp.py:12845 (v1.2.16+): 'slack_updated for training_data_viewed %s'
#   Logged for every training data page view (context training_data, no fp_id, not
#   calc_features: webapp.py:12834-12844), whatever Skyline's Slack settings.
VIEWED = re.compile(r"slack_updated for training_data_viewed (\S+)$")

# -- features profile created --------------------------------------------------------------
# skyline/ionosphere_functions.py:655 (v1.3.0+):
#   'create_features_profile :: %s :: requested for %s at %s by user id %s'
#   (context, base_name, requested_timestamp, user_id); the webapp's context is training_data
REQUESTED = re.compile(
    r"create_features_profile :: (\w+) :: requested for (\S+) at (\d+) by user id (\S+)$"
)
# skyline/ionosphere_functions.py:894:
#   'create_features_profile :: learn_full_duration_days     :: %s days'
LEARN_DAYS = re.compile(r"create_features_profile :: learn_full_duration_days +:: (\d+) days$")
# skyline/ionosphere_functions.py:1170: 'create_features_profile :: new ionosphere fp_id: %s'
NEW_FP = re.compile(r"create_features_profile :: new ionosphere fp_id: (\d+)$")
# skyline/ionosphere_functions.py:1528:
#   'create_features_profile :: fp_id - %s - features profile dir created - %s'
#   (IONOSPHERE_PROFILES_FOLDER/<metric with . as />/<requested_timestamp>)
FP_DIR = re.compile(
    r"create_features_profile :: fp_id - (\d+) - features profile dir created - (.+)$"
)
# skyline/ionosphere_functions.py:1960: 'create_features_profile :: disposing of any engine'
#   The last line of a successful create before the learn decision (also logged on some early
#   error paths, before any fp id).
DISPOSING = "create_features_profile :: disposing of any engine"
# skyline/ionosphere_functions.py:2015 (v1.1+; learn=true):
#   'adding work to Redis ionosphere.learn.work set - [\'Soft\', \'%s\', %s, \'%s\', %s, %s]
#    to make a learn features profile later'
#   (job, requested_timestamp, base_name, fp_id, generation)
LEARN_WORK = re.compile(
    r"adding work to Redis ionosphere\.learn\.work set - (\[.*\])"
    r" to make a learn features profile later$"
)
# skyline/ionosphere_functions.py:1986 (learn=false):
#   'fp_learn is False not adding an item to Redis ionosphere.learn.work set'
NO_LEARN = "fp_learn is False not adding an item to Redis ionosphere.learn.work set"

# -- disabled / validated ------------------------------------------------------------------
# skyline/webapp/webapp.py:11626 (v1.3.0+): 'disabling fp ids - %s' (the fp and its progeny);
#   ionosphere_backend.py:5587 logs '%s disabling fp ids - %s' with a function_str before it.
DISABLING = re.compile(r"disabling fp ids - (\[.*)$")
# skyline/webapp/webapp.py:11598 (v1.3.0+): 'validated fp_id - %s'
VALIDATED_ONE = re.compile(r"validated fp_id - (\d+)$")
# skyline/webapp/ionosphere_backend.py:8344:
#   '%s :: features_profiles_to_validate - %s'
#   (function_str 'ionoshere_backend.py :: get_feature_profiles_validate', [[fp_id, metric_id,
#   metric, full_duration, anomaly_timestamp, parent_id, ..., fp_generation, parent_generation]])
#   The list may be cut (an over-long line): matched open-ended, then read or counted bad.
TO_VALIDATE = re.compile(
    r"\S+ :: get_feature_profiles_validate :: features_profiles_to_validate - (\[.*)$"
)
# skyline/webapp/webapp.py:8680:
#   '%s features profiles found that need validating for %s with metric_id %s'
FOUND = re.compile(
    r"(\d+) features profiles found that need validating for (\S+) with metric_id (\d+)$"
)
# skyline/webapp/webapp.py:8694:
#   'validated all the enabled, unvalidated features profiles for metric_id - %s'
VALIDATED_ALL = re.compile(
    r"validated all the enabled, unvalidated features profiles for metric_id - (\d+)$"
)

# -- layers created ------------------------------------------------------------------------
# skyline/webapp/ionosphere_backend.py:3985 (create_ionosphere_layers, v1.1.3+):
#   'new ionosphere layer_id: %s', logged by the '/ionosphere?...&add_fp_layer=true&fp_id=%s'
#   request (webapp.py:12231-12250) that then updates Slack with 'layers_created'.
NEW_LAYER = re.compile(r"new ionosphere layer_id: (\d+)$")

# -- anomalies labelled --------------------------------------------------------------------
# skyline/webapp/webapp.py:6977 and :6981 (the /panorama?label_anomalies=true request, v3.0.0+):
#   'label_anomalies metrics_list - %s', 'label_anomalies namespaces_list - %s' (lists of str)
LABEL_LIST = re.compile(r"label_anomalies (metrics|namespaces)_list - (\[.*\])$")
# skyline/webapp/ionosphere_backend.py:9197-9199 (label_anomalies, called right after them):
#   'label_anomalies :: determine metric ids for label anomalies between %s and %s with label %s'
LABELLING = re.compile(
    r"label_anomalies :: determine metric ids for label anomalies between (\d+) and (\d+)"
    r" with label (.*)$"
)

#: arguments of /ionosphere requests that are not a training data page view
NOT_A_VIEW = frozenset(
    {
        "fp_view",
        "fp_id",
        "calc_features",
        "add_fp",
        "saved_training_data",
        "fp_validate",
        "validate_fp",
        "disable_fp",
        "features_profiles",
        "fp_search",
        "fp_matches",
        "add_fp_layer",
        "edit_fp_layers",
        "save_training_data",
    }
)
_FALSE = frozenset({"", "false", "none", "0", "no"})


def _set(args: dict[str, str], key: str) -> bool:
    return key in args and args[key].strip().lower() not in _FALSE


def _is_ionosphere(path: str) -> bool:
    return path.rstrip("/").endswith("/ionosphere")


@dataclass(eq=False)  # compared by identity: one per line
class _Request:
    """One /ionosphere request of a pid, as far as its lines tell."""

    at: datetime
    args: dict[str, str]
    url: str | None = None
    #: its hold in WebappRules._requests (0: none)
    key: int = 0
    #: the holds of the lines it took its user and request id from, let go with it
    borrowed: list[int] = field(default_factory=list)
    rid: str | None = None
    user: str | None = None
    #: the start line it was last seen on: 2 'starting ... request_id', 3 'request.url:'
    stage: int = 0
    consumed: bool = False

    def view(self) -> tuple[str | None, int, int | None] | None:
        """(metric, anomaly timestamp, metric_id) if this request is a training data page view."""
        if any(_set(self.args, key) for key in NOT_A_VIEW):
            return None
        ts = as_int(self.args.get("timestamp"))
        metric = self.args.get("metric") or None
        metric_id = as_int(self.args.get("metric_id"))
        if ts is None or (metric is None and metric_id is None):
            return None
        return metric, ts, metric_id


@dataclass(eq=False)  # compared by identity: one per line
class _Creation:
    """A features profile being created by the webapp (create_features_profile lines)."""

    line: Line
    metric: str
    timestamp: int
    user_id: int | None
    learn_days: int | None = None
    fp_id: int | None = None
    #: the line the fp id was first logged on: the event's line, whatever line completes it
    fp_line: Line | None = None
    closing: bool = False
    key: int = 0


@dataclass(eq=False)  # compared by identity: one per line
class _Held:
    """A value of a pid's state learnt from one line, which holds safe_offset until the value
    is used up (or MAX_PENDING_AGE)."""

    value: Any
    key: int = 0


@dataclass
class _PidState:
    requests: list[_Request] = field(default_factory=list)
    #: the user of the last get_user_details line, for the request it starts
    user: _Held | None = None
    #: a user line was just logged: the next argument line starts a request (v1/v2)
    new_request: bool = False
    #: v4 'starting ionosphere request_id: %s' (no URL): its URL is the next request.url line
    awaiting_rid: _Held | None = None
    #: (metric, metric_id) of the last 'metric_id looked up base_name' line
    viewing: _Held | None = None
    creations: list[_Creation] = field(default_factory=list)
    #: metric_id -> profiles listed / (count, metric) found, for 'validated all' (bulk)
    to_validate: OrderedDict[int, _Held] = field(default_factory=OrderedDict)
    found: OrderedDict[int, _Held] = field(default_factory=OrderedDict)
    #: (metrics, namespaces) of the label_anomalies request being answered
    labelling: _Held | None = None


class WebappRules(Rules):
    def __init__(self, ctx: Ctx):
        super().__init__(ctx)
        self._pids: PidTable[_PidState] = PidTable(_PidState, self._evicted)
        self._queue: AgeQueue[_Creation] = AgeQueue()
        self._requests: AgeQueue[tuple[int, _Request]] = AgeQueue(MAX_REQUEST_AGE)
        #: (pid, field of _PidState, dict key or None, the value held)
        self._held: AgeQueue[tuple[int, str, int | None, _Held]] = AgeQueue()
        self._sweeps = Sweeps(self._queue, self._requests, self._held)
        self._released: list[Event] = []
        #: a v3+ log: 'request argument' lines are not read (see _switch_to_urls)
        self.url_mode = False
        #: a v5 log: 'request.url' lines are not read either
        self.starting_urls = False

    # -- Rules -------------------------------------------------------------------------------
    def handle(self, line: Line) -> list[Event]:
        out: list[Event] = []
        if self._sweeps.due(line.at):
            for creation in self._queue.expired(line.at):
                out += self._expire(creation)
            for pid, request in self._requests.expired(line.at):
                self._drop_request(pid, request)
            for item in self._held.expired(line.at):
                self._forget(*item)
        rec = line.rec
        msg = rec.message
        state = self._pids.get(rec.pid)
        if state.creations and msg != NO_LEARN and not LEARN_WORK.match(msg):
            # No learn decision right after 'disposing of any engine': IONOSPHERE_LEARN is off.
            for creation in [c for c in state.creations if c.closing]:
                out += self._created(state, creation, learn=False)
        out += self._dispatch(line, msg, state)
        if self._released:
            out += self._released
            self._released = []
        return out

    def finish(self) -> list[Event]:
        out: list[Event] = []
        for creation in self._queue.drain():
            state = self._pids.peek(creation.line.pid)
            if state is not None and creation in state.creations:
                state.creations.remove(creation)
            if creation.fp_id is not None:
                out.append(self._created_event(creation, learn=False))
        return out

    def held_from(self) -> Record | None:
        return earliest(self._queue, self._requests, self._held)

    def tracked_pids(self) -> int:
        return len(self._pids)

    # -- held state --------------------------------------------------------------------------
    def _keep(self, line: Line, name: str, value: Any, sub: int | None = None) -> _Held:
        """``value`` becomes the pid's ``name`` (or ``name[sub]``); its line is held."""
        held = _Held(value)
        held.key = self._held.add(line, (line.pid, name, sub, held))
        return held

    def _used(self, held: _Held | None, request: _Request | None = None) -> Any:
        """The value, used up: its line is let go now, or with the request that took it."""
        if held is None:
            return None
        if request is not None:
            request.borrowed.append(held.key)
        else:
            self._held.discard(held.key)
        return held.value

    def _forget(self, pid: int, name: str, sub: int | None, held: _Held) -> None:
        state = self._pids.peek(pid)
        if state is None:
            return
        slot = getattr(state, name)
        if isinstance(slot, dict):
            if slot.get(sub) is held:
                del slot[sub]
        elif slot is held:
            setattr(state, name, None)

    def _take_user(self, state: _PidState, request: _Request) -> str | None:
        user: str | None = self._used(state.user, request)
        state.user, state.new_request = None, False
        return user

    def _add_request(self, line: Line, state: _PidState, request: _Request) -> None:
        request.key = self._requests.add(line, (line.pid, request))
        state.requests.append(request)
        if len(state.requests) > MAX_REQUESTS_PER_PID:
            self._drop_request(line.pid, state.requests[0])

    def _put(self, table: OrderedDict[int, _Held], key: int, held: _Held) -> None:
        """A bounded table of held values: what it replaces or pushes out is let go."""
        self._used(table.pop(key, None))
        table[key] = held
        while len(table) > MAX_VALIDATE_LISTS_PER_PID:
            self._used(table.popitem(last=False)[1])

    def _let_go(self, request: _Request) -> None:
        """The request makes no more events: its lines are let go."""
        self._requests.discard(request.key)
        for key in request.borrowed:
            self._held.discard(key)
        request.borrowed.clear()

    def _drop_request(self, pid: int, request: _Request) -> None:
        self._let_go(request)
        state = self._pids.peek(pid)
        if state is not None and request in state.requests:
            state.requests.remove(request)

    def _dispatch(self, line: Line, msg: str, state: _PidState) -> list[Event]:
        word = msg.split(" ", 1)[0]  # every rule's line starts its own way
        if word == "request":
            if m := ARGUMENT.match(msg):
                self._argument(line, state, m.group(1), m.group(2))
        elif word == "request.url:":
            if not self.starting_urls and (m := REQUEST_URL.match(msg)):
                awaiting, state.awaiting_rid = state.awaiting_rid, None
                rid = awaiting.value if awaiting is not None else None
                request = self._url_line(line, state, m.group(1), stage=3, rid=rid)
                self._used(awaiting, request)
        elif word == "/ionosphere":
            if m := USER.match(msg):
                self._used(state.user)  # a user line nobody took: let go
                state.user, state.new_request = self._keep(line, "user", m.group(1)), True
        elif word == "starting":
            if (m := STARTING.match(msg)) and m.group(2):
                # v5: the URL comes with the request id; its 'request.url' line adds nothing,
                # and a request's 'starting' line always comes first (webapp.py:7952-7955)
                self.starting_urls = True
                self._url_line(line, state, m.group(2), stage=2, rid=m.group(1))
            elif m:
                self._used(state.awaiting_rid)
                state.awaiting_rid = self._keep(line, "awaiting_rid", m.group(1))
        elif word == "completed":
            if m := COMPLETED.match(msg):
                for request in [r for r in state.requests if r.rid == m.group(1)]:
                    self._drop_request(line.pid, request)
        elif word == "metric_id":
            if m := LOOKED_UP.match(msg):
                self._used(state.viewing)
                state.viewing = self._keep(line, "viewing", (m.group(1), m.group(2)))
        elif word == "slack_updated":
            return self._viewed(line, state) if VIEWED.match(msg) else []
        else:
            return self._features_profile(line, msg, state)
        return []

    # -- requests ----------------------------------------------------------------------------
    def _url_line(
        self, line: Line, state: _PidState, url: str, stage: int, rid: str | None = None
    ) -> _Request | None:
        """'starting ... request_id: %s for %s' (stage 2, v5) or 'request.url: %s' (stage 3):
        a new /ionosphere request, or the same one's next start line (same URL)."""
        if not _is_ionosphere(url.split("?", 1)[0]):
            return None  # /panorama, /ionosphere_features_profile self-requests, other pages
        if not self.url_mode:
            self._switch_to_urls()
        request = next(
            (
                r
                for r in reversed(state.requests)
                if r.url == url and r.stage < stage and not r.consumed
            ),
            None,
        )
        if request is None:
            request = _Request(line.at, args=url_args(url)[1], url=url)
            self._add_request(line, state, request)
        request.stage = stage
        request.rid = rid or request.rid
        # user line, request id and URL are logged back to back by one request
        request.user = self._take_user(state, request) or request.user
        return request

    def _switch_to_urls(self) -> None:
        """A v3+ log: requests log their URL before their arguments, which are not read again
        (LogParser then stops selecting them). Requests made of arguments so far go: a parser
        resumed in the middle of a v3+ log reads arguments only until its first URL line, and
        its markers come after it, so both parsers make the same events."""
        self.url_mode = True
        for pid, state in self._pids.items():
            for request in [r for r in state.requests if r.url is None]:
                self._drop_request(pid, request)

    def _argument(self, line: Line, state: _PidState, key: str, value: str) -> None:
        if self.url_mode:
            return
        latest = state.requests[-1] if state.requests else None
        if latest is not None and latest.url is not None and not state.new_request:
            return  # the URL already told us (v3+); these lines add nothing
        if (
            state.new_request
            or latest is None
            or latest.consumed
            or latest.url is not None
            or latest.args.get(key, value) != value
        ):
            request = _Request(line.at, args={key: value})
            request.user = self._take_user(state, request)
            self._add_request(line, state, request)
        else:
            latest.args[key] = value

    def _viewed(self, line: Line, state: _PidState) -> list[Event]:
        request = _viewing_request(state)
        self._used(state.viewing)
        state.viewing = None
        view = request.view() if request is not None else None  # never None for its request
        if request is None or view is None:
            self.ctx.stats.unattributed += 1
            return []
        request.consumed = True
        self._let_go(request)  # answered: it makes no other event
        metric, ts, metric_id = view
        return [
            TrainingDataViewed(
                **self.ctx.fields(line),
                metric=metric,
                anomaly_timestamp=ts,
                metric_id=metric_id,
                user=request.user,
            )
        ]

    # -- features profiles -------------------------------------------------------------------
    def _features_profile(self, line: Line, msg: str, state: _PidState) -> list[Event]:
        if msg.startswith("create_features_profile :: "):
            return self._create_line(line, msg, state)
        if m := LEARN_WORK.match(msg):
            return self._learn_work(line, m.group(1), state)
        if msg == NO_LEARN:
            creation = _last(state, lambda c: c.closing) or _last(state, lambda c: c.fp_id)
            return self._created(state, creation, learn=False) if creation else []
        if m := DISABLING.match(msg):
            return self._disabled(line, m.group(1), state)
        if m := VALIDATED_ONE.match(msg):
            return self._validated_one(line, int(m.group(1)), state)
        if m := TO_VALIDATE.match(msg):
            self._to_validate(line, m.group(1), state)
        elif m := FOUND.match(msg):
            metric_id = int(m.group(3))
            self._put(
                state.found,
                metric_id,
                self._keep(line, "found", (int(m.group(1)), m.group(2)), metric_id),
            )
        elif m := VALIDATED_ALL.match(msg):
            return self._validated_all(line, int(m.group(1)), state)
        elif m := NEW_LAYER.match(msg):
            return self._layers(line, int(m.group(1)), state)
        elif m := LABEL_LIST.match(msg):
            self._label_list(line, m.group(1), m.group(2), state)
        elif m := LABELLING.match(msg):
            return self._labelled(line, m, state)
        return []

    def _label_list(self, line: Line, which: str, text: str, state: _PidState) -> None:
        items = literal_or_none(text)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.ctx.stats.bad_values += 1
            return
        held = state.labelling
        if which == "metrics" or held is None:  # metrics are logged first: a new request
            self._used(held)
            held = state.labelling = self._keep(line, "labelling", ((), ()))
        metrics = held.value[0]
        held.value = (tuple(items), ()) if which == "metrics" else (metrics, tuple(items))

    def _labelled(self, line: Line, m: re.Match[str], state: _PidState) -> list[Event]:
        metrics, namespaces = self._used(state.labelling) or ((), ())
        state.labelling = None
        return [
            AnomaliesLabelled(
                **self.ctx.fields(line),
                start_timestamp=int(m.group(1)),
                end_timestamp=int(m.group(2)),
                label=m.group(3),
                metrics=metrics,
                namespaces=namespaces,
            )
        ]

    def _layers(self, line: Line, layer_id: int, state: _PidState) -> list[Event]:
        """The add_fp_layer request of this pid that made the layer."""
        request = next(
            (
                r
                for r in reversed(state.requests)
                if _set(r.args, "add_fp_layer") and not r.consumed
            ),
            None,
        )
        fp_id = as_int(request.args.get("fp_id")) if request is not None else None
        if request is None or fp_id is None:
            self.ctx.stats.unattributed += 1
            return []
        request.consumed = True
        self._let_go(request)
        label = request.args.get("fp_layer_label")
        return [
            LayersCreated(
                **self.ctx.fields(line),
                fp_id=fp_id,
                layer_id=layer_id,
                metric=request.args.get("metric") or None,
                anomaly_timestamp=as_int(request.args.get("timestamp")),
                label=label[:255] if label is not None else None,
            )
        ]

    def _create_line(self, line: Line, msg: str, state: _PidState) -> list[Event]:
        if m := REQUESTED.match(msg):
            if m.group(1) == "training_data":  # not ionosphere_learn / ionosphere_echo*
                new = _Creation(line, m.group(2), int(m.group(3)), as_int(m.group(4)))
                new.key = self._queue.add(line, new)
                state.creations.append(new)
                if len(state.creations) > MAX_CREATIONS_PER_PID:
                    return self._expire(state.creations[0])
        elif m := LEARN_DAYS.match(msg):
            creation = _last(state, lambda c: c.fp_id is None and c.learn_days is None)
            if creation is not None:
                creation.learn_days = int(m.group(1))
        elif m := NEW_FP.match(msg):
            creation = _last(state, lambda c: c.fp_id is None)
            if creation is not None:
                creation.fp_id, creation.fp_line = int(m.group(1)), line
        elif m := FP_DIR.match(msg):
            fp_id, path = int(m.group(1)), m.group(2).rstrip("/")
            if _last(state, lambda c: c.fp_id == fp_id) is None:
                creation = _last(
                    state,
                    lambda c: (
                        c.fp_id is None
                        and path.endswith(f"/{c.metric.replace('.', '/')}/{c.timestamp}")
                    ),
                )
                if creation is not None:
                    creation.fp_id, creation.fp_line = fp_id, line
        elif msg == DISPOSING:
            creation = _last(state, lambda c: c.fp_id is not None and not c.closing)
            if creation is not None:
                creation.closing = True
        return []

    def _learn_work(self, line: Line, text: str, state: _PidState) -> list[Event]:
        work = literal_or_none(text)
        if not isinstance(work, list | tuple) or len(work) < 5:
            self.ctx.stats.bad_values += 1
            return []
        ts, metric, fp_id = as_int(work[2]), work[3], as_int(work[4])
        if ts is None or fp_id is None or not isinstance(metric, str):
            self.ctx.stats.bad_values += 1
            return []
        creation = _last(state, lambda c: c.fp_id == fp_id) or _last(
            state, lambda c: (c.metric, c.timestamp) == (metric, ts)
        )
        if creation is None:
            # The request started before what we read: this line alone says what was made.
            creation = _Creation(line, metric, ts, None, fp_id=fp_id, fp_line=line)
            return [self._created_event(creation, learn=True)]
        creation.fp_id = creation.fp_id or fp_id
        creation.fp_line = creation.fp_line or line
        return self._created(state, creation, learn=True)

    def _created(self, state: _PidState, creation: _Creation, learn: bool) -> list[Event]:
        if creation in state.creations:
            state.creations.remove(creation)
        self._queue.discard(creation.key)
        return [self._created_event(creation, learn)]

    def _created_event(self, creation: _Creation, learn: bool) -> FeaturesProfileCreated:
        assert creation.fp_id is not None
        return FeaturesProfileCreated(
            **self.ctx.fields(creation.fp_line or creation.line),
            fp_id=creation.fp_id,
            metric=creation.metric,
            anomaly_timestamp=creation.timestamp,
            user_id=creation.user_id,
            learn=learn,
            learn_days=creation.learn_days,
        )

    def _expire(self, creation: _Creation) -> list[Event]:
        """Released by age or by the per-pid cap: emitted if it got an fp id, else dropped."""
        self._queue.discard(creation.key)
        state = self._pids.peek(creation.line.pid)
        if state is not None and creation in state.creations:
            state.creations.remove(creation)
        return [self._created_event(creation, learn=False)] if creation.fp_id is not None else []

    def _evicted(self, _pid: int, state: _PidState) -> None:
        self.ctx.stats.evicted_pids += 1
        for request in state.requests:
            self._let_go(request)
        for creation in state.creations:
            self._queue.discard(creation.key)
            if creation.fp_id is not None:
                self._released.append(self._created_event(creation, learn=False))
        state.creations.clear()

    # -- disabled / validated ----------------------------------------------------------------
    def _disabled(self, line: Line, text: str, state: _PidState) -> list[Event]:
        ids = _int_list(literal_or_none(text))
        if not ids:
            self.ctx.stats.bad_values += 1
            return []
        # The request that asked for it: '...&disable_fp=<the first id>' (webapp.py:11619-11626)
        asked = [r for r in reversed(state.requests) if r.args.get("disable_fp") == str(ids[0])]
        request = next((r for r in asked if "timestamp" in r.args), asked[0] if asked else None)
        args = request.args if request is not None else {}
        return [
            FeaturesProfileDisabled(
                **self.ctx.fields(line),
                fp_ids=ids,
                metric=args.get("metric") or None,
                anomaly_timestamp=as_int(args.get("timestamp")),
            )
        ]

    def _validated_one(self, line: Line, fp_id: int, state: _PidState) -> list[Event]:
        asked = next(
            (
                r
                for r in reversed(state.requests)
                if _set(r.args, "validate_fp") and r.args.get("fp_id", str(fp_id)) == str(fp_id)
            ),
            None,
        )
        metric = asked.args.get("metric") or None if asked is not None else None
        return [
            FeaturesProfilesValidated(
                **self.ctx.fields(line), fp_ids=(fp_id,), metric=metric, validated_count=1
            )
        ]

    def _to_validate(self, line: Line, text: str, state: _PidState) -> None:
        rows = literal_or_none(text)
        if not isinstance(rows, list) or not rows:
            if rows is None:
                self.ctx.stats.bad_values += 1
            return  # [] is logged again after validating: keep the list from before
        by_metric: dict[int, list[ValidatedProfile]] = {}
        for row in rows[:MAX_VALIDATE_ROWS]:
            profile, metric_id = _validated_profile(row)
            if profile is not None and metric_id is not None:
                by_metric.setdefault(metric_id, []).append(profile)
        for metric_id, profiles in by_metric.items():
            self._put(
                state.to_validate,
                metric_id,
                self._keep(line, "to_validate", tuple(profiles), metric_id),
            )

    def _validated_all(self, line: Line, metric_id: int, state: _PidState) -> list[Event]:
        listed, found = state.to_validate.pop(metric_id, None), state.found.pop(metric_id, None)
        profiles: tuple[ValidatedProfile, ...] = self._used(listed) or ()
        count, metric = self._used(found) or (None, None)
        return [
            FeaturesProfilesValidated(
                **self.ctx.fields(line),
                fp_ids=tuple(p.fp_id for p in profiles),
                metric=metric or (profiles[0].metric if profiles else None),
                metric_id=metric_id,
                validated_count=count if count is not None else (len(profiles) or None),
                profiles=profiles,
            )
        ]


def _viewing_request(state: _PidState) -> _Request | None:
    """Which of the pid's open requests logged this training data view marker.

    Its unanswered page views (of the last MAX_REQUEST_AGE), narrowed to the metric the request
    just looked up (v4+). With request ids (v4+) finished requests are gone, so the oldest open
    one is the one that got this far first; without them (v1-v3) a request that failed early
    never leaves, so the most recent is the safer guess.
    """
    views = [r for r in state.requests if not r.consumed and r.view() is not None]
    if state.viewing is not None:
        metric, metric_id = state.viewing.value
        same = [
            r
            for r in views
            if r.args.get("metric") in (metric, None)
            and r.args.get("metric_id") in (metric_id, None)
        ]
        views = same or views
    if not views:
        return None
    return views[0] if all(r.rid is not None for r in views) else views[-1]


def _last(state: _PidState, wanted: Any) -> _Creation | None:
    return next((c for c in reversed(state.creations) if wanted(c)), None)


def _int_list(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        return ()
    ids = tuple(i for i in (as_int(v) for v in value) if i is not None)
    return ids if len(ids) == len(value) else ()


def _validated_profile(row: Any) -> tuple[ValidatedProfile | None, int | None]:
    """A features_profiles_to_validate row (ionosphere_backend.py:8342) and its metric_id."""
    if not isinstance(row, list | tuple) or len(row) < 6:
        return None, None
    fp_id, metric_id, ts = as_int(row[0]), as_int(row[1]), as_int(row[4])
    if fp_id is None or metric_id is None or ts is None or not isinstance(row[2], str):
        return None, None
    parent = as_int(row[5])
    return ValidatedProfile(
        fp_id=fp_id,
        metric=row[2],
        anomaly_timestamp=ts,
        parent_fp_id=parent or None,  # 0: a human made it, it has no parent
        generation=as_int(row[17]) if len(row) > 17 else None,
    ), metric_id
