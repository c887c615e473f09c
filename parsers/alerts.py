"""analyzer.log and mirage.log: alerts (AnomalyAlert) and Skyline's own Slack threads (SlackThread).

Format strings are quoted with their source at earthgecko/skyline HEAD 1baec4a2 (v5) and the
tags where they first appear or changed. Every rule matches the record's first line only.

Alert lines come in two kinds:

* detail lines carry the alert repr and the metric list, so (metric, anomaly timestamp,
  alerter) are all known: ``alert_slack - SLACK_ENABLED is False ...`` (THE line while Skyline's
  own Slack is off), ``alert_slack - anomalous metric ::``, ``trigger_alert ::`` and
  ``smtp_trigger_alert ::``;
* bare lines name metric and alerter but no timestamp: ``triggering alert ::`` (analyzer, logged
  just before the alerter runs), ``triggering alert ENABLE_FULL_DURATION_ALERTS ::`` and ``sent %s
  alert: For %s`` (mirage, logged just after). v1 has little else.

A Mirage ``sent %s alert: For %s`` line takes the timestamp of the ``trigger_alert ::`` line
of the same alerter and metric logged before it by its pid (v2+); v1 alerters other than slack
log no such line, and give an alert without a timestamp. That detail line holds safe_offset
until its ``sent`` line (or MAX_PENDING_AGE), so a parser resumed there learns the same
timestamp again. ``sent slack alert`` is no event: every slack alert logs its alert_slack line.
``alert_slack - anomalous metric ::`` (Skyline's own Slack on) holds until the line that ends
its alerter (Mirage ``sent slack alert``, the analyzer's ``trigger_alert``), for the thread ts
lines logged in between.

An analyzer ``triggering alert`` is held back until the detail line of the same alert (then it
is that line's event), a line saying Skyline did not send it after all (alerter raised, alert
paused: no event), or the end of that alert's dispatch (the pid's next ``triggering alert``,
MAX_PENDING_AGE of log, or the end of the input): one event either way, as v2+ logs a detail or
cancel line for each and v1 smtp alerts log nothing else. (The run summary that ends the loop
is not read: one line per run for every user, for v1 smtp alerts only.)
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
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
    as_float,
    as_int,
    earliest,
)
from parsers.events import AlertMuted, AnomalyAlert, Event, SlackThread
from parsers.framing import Record
from parsers.pyrepr import ReprError, literal, literal_or_none
from parsers.reprscan import alert_head, metric_items

PID_MEMO_CAP = 64
MAX_PENDING_PER_PID = 16

DEFAULT_CONTEXT = {"analyzer": "Analyzer", "mirage": "Mirage"}

# -- detail lines --------------------------------------------------------------------------
# skyline/analyzer/alerters.py:1761, skyline/mirage/mirage_alerters.py:1839 (v1.3.0+):
#   'alert_slack - SLACK_ENABLED is False, not slack alerting for anomalous metric :: alert: %s,
#    metric: %s'
SLACK_DISABLED = (
    "alert_slack - SLACK_ENABLED is False, not slack alerting for anomalous metric :: alert: "
)
# skyline/analyzer/alerters.py:1817, skyline/mirage/mirage_alerters.py:1881 (v1.2.0+):
#   'alert_slack - anomalous metric :: alert: %s, metric: %s'
SLACK_ANOMALOUS = "alert_slack - anomalous metric :: alert: "
# skyline/analyzer/analyzer.py:7859/7865/8555 (v2.0.0+):
#   'trigger_alert :: alert: %s, metric: %s, context: %s'
# skyline/analyzer/analyzer.py:7871: 'smtp_trigger_alert :: alert: %s, metric: %s, context: %s'
# skyline/mirage/mirage.py:5838/5849 (v2.0.0+):
#   'trigger_alert :: alert: %s, metric: %s, second_order_resolution_seconds: %s, context: %s'
# skyline/mirage/mirage.py:5860: 'smtp_trigger_alert :: alert: %s, ... context: %s'
TRIGGER = "trigger_alert :: alert: "
SMTP_TRIGGER = "smtp_trigger_alert :: alert: "
# skyline/analyzer/analyzer.py:8175: a test alert is ``(metric, alerter, 10, {'test alert': True})``
#   (alerters.py:1779-1790 reads alert[3]); a metric list never holds this text.
TEST_ALERT = "{'test alert': True}"

# -- bare lines ----------------------------------------------------------------------------
# skyline/analyzer/analyzer.py:7778 (since v1.1): 'triggering alert :: %s %s via %s - matched by %s'
#   (metric[1], metric[0], alert[1], matched_by); matched_by is a str in v1, a dict from v2.0.0
TRIGGERING = re.compile(r"triggering alert :: (\S+) (\S+) via (\S+) - matched by ")
# skyline/analyzer/analyzer.py:7550: 'triggering alert ENABLE_FULL_DURATION_ALERTS :: %s %s via %s'
#   An alert: trigger_alert()/smtp_trigger_alert() is called right after it (analyzer.py:7551-7555)
#   for Mirage metrics when ENABLE_FULL_DURATION_ALERTS is set; no trigger_alert line follows.
TRIGGERING_FULL_DURATION = re.compile(
    r"triggering alert ENABLE_FULL_DURATION_ALERTS :: (\S+) (\S+) via (\S+)$"
)
# skyline/analyzer/analyzer.py:7895: 'error :: failed to trigger_alert :: %s %s via %s'
# skyline/analyzer/analyzer.py:7571:
#   'error :: failed to trigger_alert ENABLE_FULL_DURATION_ALERTS :: %s %s via %s'
#   The alerter raised: the held-back alert is dropped (Skyline did not alert either).
FAILED_TRIGGER = re.compile(
    r"error :: failed to trigger_alert (?:ENABLE_FULL_DURATION_ALERTS )?:: (\S+) (\S+) via (\S+)$"
)
# skyline/analyzer/analyzer.py:7803 (v3.0.0+): 'alert_paused for %s %s until %s' (alerter,
#   metric, until): logged after 'triggering alert ::' and the alerter is then not called.
ALERT_PAUSED = re.compile(r"alert_paused for (\S+) (\S+) until ")
# skyline/mirage/mirage.py:5869 (since v1.1): 'sent %s alert: For %s' (alert[1], metric[1]),
#   logged after the alerter returned; 'negate alert sent: For %s' (mirage.py:6266) does not
#   start with 'sent '.
SENT = re.compile(r"sent (\S+) alert: For (\S+)$")

# -- waterfall alerts ----------------------------------------------------------------------
# skyline/analyzer/analyzer.py:6935 'waterfall alerting on %s - %s' (base_name, the waterfall
#   item [metric, ts, value, ...]), then setex('analyzer.waterfall.alert.<ts>.<base_name>', 300)
#   (:6936-6938), which alert_slack reads (alerters.py:1944-1955);
# skyline/mirage/mirage.py:4998 'waterfall alerting on %s' (base_name), key
#   'mirage.waterfall.alert.<ts>.<base_name>' for 300 s (:4999-5001, mirage_alerters.py:2080).
#   'waterfall alerting for mirage metric check - ...' lines are not these.
WATERFALL = re.compile(r"waterfall alerting on (\S+)(?: - \[\S+, (\d+),)?")
WATERFALL_KEY_AGE = timedelta(seconds=300)

# -- Skyline's own Slack thread ------------------------------------------------------------
# skyline/analyzer/alerters.py:2631, skyline/mirage/mirage_alerters.py:2921 (v1.2.16+):
#   'added Panorama slack_thread_ts Redis key - %s - %s'
#   (panorama.slack_thread_ts.<ts>.<metric>, [metric, ts, str(thread_ts)])
THREAD_KEY = re.compile(
    r"added Panorama slack_thread_ts Redis key - panorama\.slack_thread_ts\.(\d+)\.(\S+)"
    r" - (\[.*\])$"
)
# skyline/analyzer/alerters.py:2600, skyline/mirage/mirage_alerters.py:2890 (after v4.0.0):
#   'alert_slack :: added Panorama slack_thread_ts hash key - %s - %s'
#   (thread_ts, {'metric': m, 'timestamp': ts, 'slack_thread_ts': thread_ts})
THREAD_HASH = re.compile(
    r"alert_slack :: added Panorama slack_thread_ts hash key - \S+ - (\{.*\})$"
)
# skyline/analyzer/alerters.py:2420, skyline/mirage/mirage_alerters.py:2710 (v5):
#   'alert_slack - the slack_thread_ts is %s'
THREAD_TS = re.compile(r"alert_slack - the slack_thread_ts is (\S+)$")
# v4.0.0:skyline/mirage/mirage_alerters.py:2233/2280, v4.0.0:skyline/analyzer/alerters.py:2337
#   (v1.2.16 to v4; dead code in v5):
#   'alert_slack - slack group is %s and the slack_thread_ts is %s'
#   The first branch logs slack_thread_ts.encode('utf-8'): b'...' on Python 3.
THREAD_GROUP = re.compile(r"alert_slack - slack group is (\S+) and the slack_thread_ts is (\S+)$")

# -- muted metrics (mute_alerts_on) --------------------------------------------------------
# skyline/analyzer/alerters.py:1424 (smtp), 1579 (pagerduty), 2347 (slack);
# skyline/mirage/mirage_alerters.py:1623, 1760, 2573, 2962, 3695; boundary_alerters.py:485, 750
# ('alert_htpp', sic, 1322) (v4.0.0+): '<alerter> - %s is muted, not alerting'. smtp runs
# first, in a child process, and logs it even while SLACK_ENABLED is False.
MUTED = re.compile(r"alert_(\w+) - (\S+) is muted, not alerting$")
#: the muted line and the alert it silences are one alert cycle: this close in log time
MUTE_CYCLE = timedelta(seconds=60)

_THREAD_TS_VALUE = re.compile(r"\d+\.\d+")
# First two items of an alert repr when it is no literal (an object in the config dict).
_ALERT_HEAD = re.compile(r"""[\[(]\s*(['"])(.*?)\1\s*,\s*(['"])(.*?)\3""")
# First three items of a metric list when it is no literal.
_METRIC_HEAD = re.compile(
    r"""\[\s*([^,\[\]]*?)\s*,\s*(['"])(.+?)\2\s*,\s*(\d+(?:\.\d+)?)\s*[,\]]"""
)


@dataclass(frozen=True, slots=True)
class MetricItem:
    """Skyline's anomalous metric list: [value, base_name, ts, (full_duration,) triggered, run]."""

    metric: str
    timestamp: int
    value: float | None
    full_duration: int | None = None
    triggered: tuple[str, ...] = ()
    run: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertDetail:
    """What a detail line says: the alert (namespace, alerter) and the anomalous metric."""

    namespace: str | None
    alerter: str
    item: MetricItem
    context: str | None
    second_order_resolution_seconds: int | None


def split_alert_line(body: str) -> tuple[str, str, str | None, str | None] | None:
    """``<alert>, metric: <metric>[, second_order_resolution_seconds: <s>][, context: <c>]``.

    The alert repr may hold anything (nested config dicts); the metric list and what follows
    never hold these separators, so the last occurrences split the line.
    """
    i = body.rfind(", metric: ")
    if i < 0:
        return None
    alert, rest = body[:i], body[i + len(", metric: ") :]
    context = sors = None
    j = rest.rfind(", context: ")
    if j >= 0:
        rest, context = rest[:j], rest[j + len(", context: ") :].strip()
    k = rest.rfind(", second_order_resolution_seconds: ")
    if k >= 0:
        rest, sors = rest[:k], rest[k + len(", second_order_resolution_seconds: ") :]
    return alert, rest, sors, context


def parse_alert(text: str) -> tuple[str | None, str] | None:
    """(namespace, alerter) of ``('stats', 'slack', 3600, 168)`` / ``['stats', 'slack', ...]``."""
    head = alert_head(text)  # the shapes Skyline writes, at C speed (parsers/reprscan.py)
    return head if head is not None else parse_alert_fully(text)


def parse_metric_item(text: str) -> MetricItem | None:
    """The metric list of an alert line, whichever version's shape (see the catalogue §9)."""
    scanned = metric_items(text)  # the shapes Skyline writes, at C speed (parsers/reprscan.py)
    if scanned is None:
        return parse_metric_item_fully(text)
    first, metric, timestamp, full_duration, lists = scanned
    ts = as_int(timestamp)
    if ts is None or not metric:
        return None
    return MetricItem(
        # an int datapoint stays an int, as in the full parse below
        metric=metric,
        timestamp=ts,
        value=first if type(first) is int else as_float(first),
        full_duration=full_duration,
        triggered=lists[0] if lists else (),
        run=lists[1] if len(lists) > 1 else (),
    )


def parse_alert_fully(text: str) -> tuple[str | None, str] | None:
    """parse_alert through the full parse (pyrepr.literal), and a regex when that fails."""
    try:
        alert = literal(text)
    except ReprError:
        m = _ALERT_HEAD.match(text.strip())
        return (m.group(2), m.group(4)) if m and m.group(4) else None
    if not isinstance(alert, list | tuple) or len(alert) < 2 or not isinstance(alert[1], str):
        return None
    return (alert[0] if isinstance(alert[0], str) else None), alert[1]


def parse_metric_item_fully(text: str) -> MetricItem | None:
    """parse_metric_item through the full parse (pyrepr.literal), and a regex when that fails."""
    try:
        items = literal(text)
    except ReprError:
        return _metric_head(text)
    if not isinstance(items, list | tuple) or len(items) < 3 or not isinstance(items[1], str):
        return None
    ts = as_int(items[2])
    if ts is None or not items[1]:
        return None
    rest = list(items[3:])
    full_duration = None
    if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
        full_duration = rest.pop(0)  # Mirage: the second order resolution in seconds
    lists = [
        tuple(x) for x in rest if isinstance(x, list | tuple) and all(isinstance(a, str) for a in x)
    ]
    return MetricItem(
        # an int datapoint stays an int: Skyline's text shows str(value), '1' not '1.0'
        metric=items[1],
        timestamp=ts,
        value=items[0] if type(items[0]) is int else as_float(items[0]),
        full_duration=full_duration,
        triggered=lists[0] if lists else (),
        run=lists[1] if len(lists) > 1 else (),
    )


def _metric_head(text: str) -> MetricItem | None:
    m = _METRIC_HEAD.match(text.strip())
    ts = as_int(m.group(4)) if m else None
    if m is None or ts is None:
        return None
    return MetricItem(metric=m.group(3), timestamp=ts, value=as_float(m.group(1)))


def parse_detail(body: str, alerter: str | None) -> AlertDetail | None:
    """A detail line's body after ``alert: ``; ``alerter`` when the line itself names it."""
    parts = split_alert_line(body)
    if parts is None:
        return None
    alert_text, metric_text, sors, context = parts
    alert = parse_alert(alert_text)
    item = parse_metric_item(metric_text)
    if item is None:
        return None
    if alert is not None:
        namespace, alerter = alert[0], alerter or alert[1]
    elif alerter is None:
        return None
    else:
        namespace = None
    return AlertDetail(
        namespace=namespace,
        alerter=alerter,
        item=item,
        context=context or None,
        second_order_resolution_seconds=as_int(sors) if sors is not None else None,
    )


def thread_ts_value(raw: Any) -> str | None:
    """A Slack ts as logged, without the ``b'...'`` of a bytes value; None if it is no ts."""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > 3 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        text = text[2:-1]
    return text if _THREAD_TS_VALUE.fullmatch(text) else None


@dataclass(eq=False)  # compared by identity: one per line
class _Pending:
    """A bare 'triggering alert' line waiting for its detail line or the end of the dispatch."""

    line: Line
    metric: str
    alerter: str
    value: float | None
    key: int = 0


@dataclass(eq=False)  # compared by identity: one per line
class _Told:
    """What a detail line told its pid (an alert's timestamp, the alert alert_slack sends),
    kept while its line is held: until the line that ends that alert's alerter."""

    metric: str
    timestamp: int
    key: int = 0


@dataclass
class _PidState:
    #: (metric, alerter) -> the detail line of the alert being sent (Mirage, for 'sent')
    told: OrderedDict[tuple[str, str], _Told] = field(default_factory=OrderedDict)
    pending: list[_Pending] = field(default_factory=list)
    #: the alert alert_slack is sending in this pid, for the thread ts lines that follow
    slack: _Told | None = None


class AlertRules(Rules):
    """The analyzer.log / mirage.log rules (both apps share alerters and line formats)."""

    def __init__(self, ctx: Ctx):
        super().__init__(ctx)
        self._pids: PidTable[_PidState] = PidTable(_PidState, self._evicted)
        self._queue: AgeQueue[_Pending] = AgeQueue()
        #: detail lines whose alert is still being sent: (pid, what they told)
        self._told: AgeQueue[tuple[int, _Told]] = AgeQueue()
        #: (metric, anomaly timestamp or None) of waterfall lines, held while their key lives
        self._waterfalls: AgeQueue[tuple[str, int | None]] = AgeQueue(WATERFALL_KEY_AGE)
        self._waterfall_keys: dict[tuple[str, int | None], int] = {}
        #: muted lines, held for their alert cycle (a resumed parser re-reads them)
        self._muted_lines: AgeQueue[str] = AgeQueue(MUTE_CYCLE)
        self._sweeps = Sweeps(self._queue, self._told, self._waterfalls, self._muted_lines)
        self._released: list[Event] = []
        self._mirage = ctx.app == "mirage"
        self._default_context = DEFAULT_CONTEXT.get(ctx.app, ctx.app.capitalize())
        self._by_word: dict[str, Callable[[Line, str], list[Event]]] = {
            "alert_slack": self._alert_slack,
            "trigger_alert": self._trigger_alert,
            "smtp_trigger_alert": self._trigger_alert,
            "triggering": self._triggering,
            "error": self._error,
            "alert_paused": self._paused,
            "sent": self._sent,
            "added": self._thread,
            "waterfall": self._waterfall,
            **dict.fromkeys(
                ("alert_smtp", "alert_pagerduty", "alert_http", "alert_htpp", "alert_sms"),
                self._muted,
            ),
        }
        #: metric -> (its held muted line, when this log last said it is muted)
        self._mutes: dict[str, tuple[int, datetime]] = {}

    # -- Rules -------------------------------------------------------------------------------
    def handle(self, line: Line) -> list[Event]:
        out: list[Event] = []
        if self._sweeps.due(line.at):
            for p in self._queue.expired(line.at):
                self._forget(p)
                out.append(self._alert_event(p))
            for pid, told in self._told.expired(line.at):
                self._untell(pid, told)
            for key in self._waterfalls.expired(line.at):
                self._waterfall_keys.pop(key, None)
            for metric in self._muted_lines.expired(line.at):
                self._mutes.pop(metric, None)  # a newer line of the metric replaced its own
        msg = line.message
        rule = self._by_word.get(msg.split(" ", 1)[0])  # every rule's line starts its own way
        if rule is not None:
            out += rule(line, msg)
        if self._released:
            out += self._released
            self._released = []
        return out

    def finish(self) -> list[Event]:
        out: list[Event] = [self._alert_event(p) for p in self._queue.drain()]
        for _, state in self._pids.items():
            state.pending.clear()
        return out

    def held_from(self) -> Record | None:
        return earliest(self._queue, self._told, self._waterfalls, self._muted_lines)

    def tracked_pids(self) -> int:
        return len(self._pids)

    # -- detail lines ------------------------------------------------------------------------
    def _alert_slack(self, line: Line, msg: str) -> list[Event]:
        if msg.startswith(SLACK_DISABLED):
            return self._detail(line, msg[len(SLACK_DISABLED) :], "slack")
        if msg.startswith(SLACK_ANOMALOUS):
            return self._detail(line, msg[len(SLACK_ANOMALOUS) :], "slack", sending_slack=True)
        if msg.endswith(" is muted, not alerting"):
            return self._muted(line, msg)
        return self._thread(line, msg)

    def _trigger_alert(self, line: Line, msg: str) -> list[Event]:
        for prefix in (TRIGGER, SMTP_TRIGGER):
            if msg.startswith(prefix):
                return self._detail(line, msg[len(prefix) :], None)
        return []

    def _detail(
        self, line: Line, body: str, alerter: str | None, sending_slack: bool = False
    ) -> list[Event]:
        detail = parse_detail(body, alerter)
        if detail is None:
            self.ctx.stats.bad_values += 1
            return []
        item = detail.item
        state = self._pids.get(line.pid)
        # The bare 'triggering alert' line of this same alert is this event.
        for p in [
            p for p in state.pending if (p.metric, p.alerter) == (item.metric, detail.alerter)
        ]:
            self._drop(state, p)
        if self._mirage and detail.alerter != "slack":
            # its 'sent' line comes after the alerter: tell it the timestamp
            told = self._tell(line, item)
            self._close(state, state.told.pop((item.metric, detail.alerter), None))
            state.told[(item.metric, detail.alerter)] = told
            while len(state.told) > PID_MEMO_CAP:
                self._close(state, state.told.popitem(last=False)[1])
        elif (
            not self._mirage
            and alerter is None
            and detail.alerter == "slack"
            and state.slack is not None
            and state.slack.metric == item.metric
        ):
            # the analyzer logs trigger_alert after the alerter: alert_slack is over
            self._close(state, state.slack)
        if sending_slack:
            self._close(state, state.slack)
            state.slack = self._tell(line, item)
        return [
            AnomalyAlert(
                **self.ctx.fields(line),
                metric=item.metric,
                anomaly_timestamp=item.timestamp,
                alerter=detail.alerter,
                value=item.value,
                alert_namespace=detail.namespace,
                triggered_algorithms=item.triggered,
                algorithms_run=item.run,
                full_duration=item.full_duration,
                second_order_resolution_seconds=detail.second_order_resolution_seconds,
                context=detail.context or self._default_context,
                test_alert=TEST_ALERT in body,
                waterfall=bool(self._waterfall_keys)
                and (
                    (item.metric, item.timestamp) in self._waterfall_keys
                    or (item.metric, None) in self._waterfall_keys
                ),
                muted=self._was_muted(item.metric, line.at),
            )
        ]

    def _waterfall(self, line: Line, msg: str) -> list[Event]:
        if m := WATERFALL.match(msg):
            key = (m.group(1), as_int(m.group(2)) if m.group(2) else None)
            self._waterfalls.discard(self._waterfall_keys.pop(key, 0))
            self._waterfall_keys[key] = self._waterfalls.add(line, key)
        return []

    def _tell(self, line: Line, item: MetricItem) -> _Told:
        told = _Told(item.metric, item.timestamp)
        told.key = self._told.add(line, (line.pid, told))
        return told

    def _close(self, state: _PidState, told: _Told | None) -> None:
        """The alert a detail line told of is sent: its line is let go."""
        if told is None:
            return
        self._told.discard(told.key)
        if state.slack is told:
            state.slack = None
        for key in [k for k, v in state.told.items() if v is told]:
            del state.told[key]

    def _untell(self, pid: int, told: _Told) -> None:
        """Its line is let go by age: forgotten, as a parser resumed later would not know it."""
        state = self._pids.peek(pid)
        if state is not None:
            self._close(state, told)

    # -- bare lines --------------------------------------------------------------------------
    def _triggering(self, line: Line, msg: str) -> list[Event]:
        m = TRIGGERING.match(msg) or TRIGGERING_FULL_DURATION.match(msg)
        if m is None:
            return []
        state = self._pids.get(line.pid)
        # The previous alert of this pid's loop is dispatched: release what it left held back.
        out = self._release(state)
        # held until its dispatch ends: its event needs the message, never the raw bytes
        held = Line(line.rec._replace(raw=b""), line.at)
        pending = _Pending(held, m.group(1), m.group(3), as_float(m.group(2)))
        pending.key = self._queue.add(line, pending)
        state.pending.append(pending)
        if len(state.pending) > MAX_PENDING_PER_PID:
            out.append(self._alert_event(state.pending[0]))
            self._drop(state, state.pending[0])
        return out

    def _sent(self, line: Line, msg: str) -> list[Event]:
        m = SENT.match(msg)
        if m is None:
            return []
        alerter, metric = m.group(1), m.group(2)
        state = self._pids.peek(line.pid)
        if alerter == "slack":
            # Every slack alert logs its own alert_slack line (SLACK_ENABLED is False, or
            # anomalous metric), which is its event: this one only ends the alerter.
            if state is not None and state.slack is not None and state.slack.metric == metric:
                self._close(state, state.slack)
            return []
        told = state.told.get((metric, alerter)) if state is not None else None
        event = self._bare_event(
            line, metric, alerter, None, told.timestamp if told is not None else None
        )
        if state is not None:
            self._close(state, told)
        return [event]

    def _error(self, line: Line, msg: str) -> list[Event]:
        if m := FAILED_TRIGGER.match(msg):
            self._cancel(line, m.group(1), m.group(3))
        return []

    def _paused(self, line: Line, msg: str) -> list[Event]:
        if m := ALERT_PAUSED.match(msg):
            self._cancel(line, m.group(2), m.group(1))
        return []

    def _bare_event(
        self,
        line: Line,
        metric: str,
        alerter: str,
        value: float | None,
        timestamp: int | None = None,
    ) -> AnomalyAlert:
        return AnomalyAlert(
            **self.ctx.fields(line),
            metric=metric,
            anomaly_timestamp=timestamp,
            alerter=alerter,
            value=value,
            context=self._default_context,
            muted=self._was_muted(metric, line.at),
        )

    def _alert_event(self, p: _Pending) -> AnomalyAlert:
        """A 'triggering alert' with no detail line: no line of the dispatch told its time."""
        return self._bare_event(p.line, p.metric, p.alerter, p.value)

    # -- held-back alerts --------------------------------------------------------------------
    def _release(self, state: _PidState) -> list[Event]:
        out: list[Event] = []
        for p in list(state.pending):
            out.append(self._alert_event(p))
            self._drop(state, p)
        return out

    def _cancel(self, line: Line, metric: str, alerter: str) -> None:
        """Skyline did not alert after all (alerter raised, alert paused): neither do we."""
        state = self._pids.peek(line.pid)
        if state is None:
            return
        for p in list(state.pending):
            if (p.metric, p.alerter) == (metric, alerter):
                self._drop(state, p)

    def _drop(self, state: _PidState, p: _Pending) -> None:
        state.pending.remove(p)
        self._queue.discard(p.key)

    def _forget(self, p: _Pending) -> None:
        """An expired item leaves its pid's list too (the caller emits it)."""
        state = self._pids.peek(p.line.pid)
        if state is not None and p in state.pending:
            state.pending.remove(p)

    def _evicted(self, _pid: int, state: _PidState) -> None:
        self.ctx.stats.evicted_pids += 1
        for p in list(state.pending):
            self._released.append(self._alert_event(p))
            self._queue.discard(p.key)
        state.pending.clear()
        for told in [*state.told.values(), state.slack]:
            if told is not None:
                self._told.discard(told.key)

    # -- muted metrics -----------------------------------------------------------------------
    def _muted(self, line: Line, msg: str) -> list[Event]:
        """A muted line: an event of its own, and remembered for the alert lines of the cycle."""
        m = MUTED.match(msg)
        if m is None:
            return []
        alerter, metric = m.group(1), m.group(2)
        if metric in self._mutes:
            self._muted_lines.discard(self._mutes[metric][0])
        self._mutes[metric] = (self._muted_lines.add(line, metric), line.at)
        timestamp = None
        state = self._pids.peek(line.pid)
        if (
            alerter == "slack"
            and state is not None
            and state.slack is not None
            and state.slack.metric == metric
        ):
            timestamp = state.slack.timestamp
            self._close(state, state.slack)  # alert_slack returns: no thread follows
        return [
            AlertMuted(
                **self.ctx.fields(line), metric=metric, alerter=alerter, anomaly_timestamp=timestamp
            )
        ]

    def _was_muted(self, metric: str, at: datetime) -> bool:
        """Whether this log said the metric is muted in the cycle of an alert line at ``at``."""
        held = self._mutes.get(metric)
        return held is not None and abs(at - held[1]) <= MUTE_CYCLE

    # -- Slack threads -----------------------------------------------------------------------
    def _thread(self, line: Line, msg: str) -> list[Event]:
        metric: Any
        ts: Any
        channel = None
        if m := THREAD_KEY.match(msg):
            value = literal_or_none(m.group(3))
            if not isinstance(value, list | tuple) or len(value) < 3:
                self.ctx.stats.bad_values += 1
                return []
            metric, ts, thread = value[0], value[1], value[2]
        elif m := THREAD_HASH.match(msg):
            value = literal_or_none(m.group(1))
            if not isinstance(value, dict):
                self.ctx.stats.bad_values += 1
                return []
            metric, ts, thread = (value.get(k) for k in ("metric", "timestamp", "slack_thread_ts"))
        elif m := THREAD_TS.match(msg):
            thread, metric, ts = m.group(1), *self._sending_slack(line)
        elif m := THREAD_GROUP.match(msg):
            channel, thread = m.group(1), m.group(2)
            metric, ts = self._sending_slack(line)
        else:
            return []
        if metric is None:
            self.ctx.stats.unattributed += 1
            return []
        thread_ts, anomaly_ts = thread_ts_value(thread), as_int(ts)
        if thread_ts is None or anomaly_ts is None or not isinstance(metric, str) or not metric:
            self.ctx.stats.bad_values += 1
            return []
        return [
            SlackThread(
                **self.ctx.fields(line),
                metric=metric,
                anomaly_timestamp=anomaly_ts,
                thread_ts=thread_ts,
                channel=channel,
            )
        ]

    def _sending_slack(self, line: Line) -> tuple[str | None, int | None]:
        """The alert that the alert_slack running in this pid is sending, if it was seen."""
        state = self._pids.peek(line.pid)
        if state is None or state.slack is None:
            return None, None
        return state.slack.metric, state.slack.timestamp
