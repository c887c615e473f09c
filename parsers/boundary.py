"""boundary.log: Boundary's alerts (BoundaryAlert).

Boundary logs no alert repr; with Skyline's Slack off (alert_slack returns silently,
boundary_alerters.py:685-686) the evidence of a Slack alert is the line boundary.py writes after
``trigger_alert`` returned, whatever alert_slack did. Paused alerts and alerts whose
``last_alert`` key exists log other lines instead (``alert_paused for``, boundary.py:2194;
``last_alert cache_key - %s exists``, :2215; ``%s key exists, but %s does not``, :2238) and no
``alert sent``, so they make no event. Format strings are quoted with their source at
earthgecko/skyline HEAD 1baec4a2 (v5) and the tags where they changed.

Muting (HEAD only, added 2023-09-13): an alerter of a muted metric logs ``alert_<alerter> - %s
is muted, not alerting`` and returns, then boundary.py logs ``alert sent`` all the same. The
smtp alerter runs first for ``'smtp|slack'`` alerters (and the slack one says it only when
Skyline's Slack is on), in the same process: a muted line marks the pid's next ``alert sent``
lines for that metric, for MAX_MUTE_AGE of log, and holds safe_offset meanwhile, so a parser
resumed after it still knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from parsers.common import Ctx, Line, PidHeldRules
from parsers.events import BoundaryAlert, Event

# skyline/boundary/boundary.py:2276-2278 (v3.0.4+; the sms branch :2273 and the syslog lines
#   :2330-2343 'alert sent :: %s - %s - via syslog - %s %s %s times' share the shape):
#   'alert sent :: %s - %s - via %s - %s %s %s times'
#   (base_name, str(datapoint), alerter, algorithm, str(metric_trigger), str(alert_threshold))
# v2.0.0:skyline/boundary/boundary.py:1316, v1.3.1:…:1085:
#   'alert sent :: %s - %s - via %s - %s' (base_name, datapoint, alerter, algorithm)
ALERT_SENT = re.compile(r"alert sent :: (\S+) - (\S+) - via (\S+) - (\S+)(?: (\S+) (\S+) times)?$")
# skyline/boundary/boundary.py:1682 (v1.1+): 'test alert to %s for %s' (test_alerter, metric),
#   then trigger_alert(test_alerter, 1, metric_name, 10, 1, 'testing', int(time()), 0) (:1688):
#   datapoint 1, trigger 1, algorithm 'testing', threshold 0; no 'alert sent' line follows.
TEST_ALERT = re.compile(r"test alert to (\S+) for (\S+)$")
# skyline/boundary/boundary_alerters.py:485 'alert_smtp - %s is muted, not alerting' (logs
#   use_base_name), :749 'alert_slack - %s is muted, not alerting' (metric_name)
MUTED = re.compile(r"alert_(?:smtp|slack) - (\S+) is muted, not alerting$")

#: a muted line speaks for the alerts of the same dispatch (its smtp alert may take seconds)
MAX_MUTE_AGE = timedelta(seconds=120)


@dataclass
class _Muted:
    #: metric -> the held line's key in the age queue
    metrics: dict[str, int] = field(default_factory=dict)


class BoundaryRules(PidHeldRules[_Muted, str]):
    """boundary.log: a pid's muted lines are held for its alerts of the same dispatch."""

    def __init__(self, ctx: Ctx):
        super().__init__(ctx, _Muted, MAX_MUTE_AGE)

    def handle(self, line: Line) -> list[Event]:
        self._sweep(line.at)
        msg = line.message
        if m := ALERT_SENT.match(msg):
            metric, value, alerter, algorithm, trigger, threshold = m.groups()
            state = self._pids.peek(line.pid)
            return [
                BoundaryAlert(
                    **self.ctx.fields(line),
                    metric=metric,
                    alerter=alerter,
                    value=value,
                    algorithm=algorithm,
                    trigger=trigger,
                    threshold=threshold,
                    muted=state is not None and metric in state.metrics,
                )
            ]
        if m := TEST_ALERT.match(msg):
            return [
                BoundaryAlert(
                    **self.ctx.fields(line),
                    metric=m.group(2),
                    alerter=m.group(1),
                    value="1",
                    algorithm="testing",
                    trigger="1",
                    threshold="0",
                    test_alert=True,
                )
            ]
        if m := MUTED.match(msg):
            state = self._pids.get(line.pid)
            metric = m.group(1)
            self._held.discard(state.metrics.pop(metric, 0))
            state.metrics[metric] = self._held.add(line, (line.pid, metric))
        return []

    def _expired(self, pid: int, metric: str) -> None:
        state = self._pids.peek(pid)
        if state is not None:
            state.metrics.pop(metric, None)

    def _evicted(self, pid: int, state: _Muted) -> None:
        super()._evicted(pid, state)
        for key in state.metrics.values():
            self._held.discard(key)
