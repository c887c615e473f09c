"""LogParser: one Skyline app log's bytes in, events out; incremental and chunking-independent.

Each app has one compiled prefilter (the Framer's ``select`` mode): only records whose first
line carries a keyword some rule needs reach Python, continuation lines never do, and bin-script
and gunicorn lines are told apart by the framer. Every pattern starts with the literal ``' :: '``
that ends Skyline's prefix (``"%(asctime)s :: %(process)s :: %(message)s"``, agent.py:103), so
the regex engine scans for a literal; the exact rules then run on the message (parsers/alerts.py,
webapp.py, ionosphere.py quote the format string and source line of each). A line the rules stop
reading (the webapp's ``request argument`` once requests log their URL, v3+) is then not
selected either: the events are the same, only faster.
"""

from __future__ import annotations

import re

from parsers.alerts import AlertRules
from parsers.boundary import BoundaryRules
from parsers.common import Ctx, Line, ParseStats, PrefixTimes, RecentIds, Rules
from parsers.events import Event
from parsers.framing import Framer, Record
from parsers.ionosphere import IonosphereRules
from parsers.webapp import WebappRules

APPS = ("analyzer", "mirage", "webapp", "ionosphere", "boundary")

# analyzer.log and mirage.log share the alerters (alerters.py / mirage_alerters.py) and most
# alert lines; the keywords of parsers/alerts.py:
_ALERT_SELECT = (
    rb" :: (?:"
    rb"alert_slack(?: - (?:SLACK_ENABLED is False|anomalous metric :: |the slack_thread_ts is "
    rb"|slack group is )| :: added Panorama slack_thread_ts hash key)"
    rb"|(?:smtp_)?trigger_alert :: alert: "
    rb"|sent \S+ alert: For "
    rb"|added Panorama slack_thread_ts Redis key - "
    rb"|waterfall alerting on "
    rb"|alert_(?:smtp|slack|pagerduty|http|htpp|sms) - \S+ is muted, not alerting"
)
SELECTORS: dict[str, re.Pattern[bytes]] = {
    # + the analyzer's bare alert lines and their cancels (parsers/alerts.py)
    "analyzer": re.compile(
        _ALERT_SELECT + rb"|triggering alert |error :: failed to trigger_alert |alert_paused for )"
    ),
    "mirage": re.compile(_ALERT_SELECT + rb")"),
    # the keywords of parsers/webapp.py
    "webapp": re.compile(
        rb" :: (?:"
        rb"request argument - "  # v1/v2 only: dropped at the first request URL line (below)
        rb"|request\.url: \S*/ionosphere(?:\?|\s)"  # /ionosphere requests only
        rb"|/ionosphere get_user_details\(\) with "
        rb"|(?:starting|completed) ionosphere request_id: "
        rb"|metric_id looked up base_name: "
        rb"|slack_updated for training_data_viewed "
        rb"|create_features_profile :: (?:\w+ :: requested for |learn_full_duration_days "
        rb"|new ionosphere fp_id: |fp_id - \d+ - features profile dir created "
        rb"|disposing of any engine)"
        rb"|adding work to Redis ionosphere\.learn\.work set - "
        rb"|fp_learn is False "
        rb"|disabling fp ids - "
        rb"|validated (?:fp_id - |all the enabled, unvalidated )"
        rb"|\d+ features profiles found that need validating for "
        rb"|features_profiles_to_validate - \["
        rb"|new ionosphere layer_id: "
        rb"|label_anomalies (?:metrics_list - |namespaces_list - "
        rb"|:: determine metric ids for label anomalies )"
        rb")"
    ),
    # the keywords of parsers/ionosphere.py
    "ionosphere": re.compile(
        rb" :: (?:learn :: (?:processing |training_data URL - |[^:\n]+ :: new generation )"
        rb"|create_features_profile :: determined the anomaly metric_timestamp as - )"
    ),
    # the keywords of parsers/boundary.py
    "boundary": re.compile(
        rb" :: (?:alert sent :: |test alert to |alert_(?:smtp|slack) - \S+ is muted, not alerting)"
    ),
}

#: Literals every line a selector selects holds one of: the framer only searches the lines
#: holding one (bytes.find runs at memory speed; the selectors start with the ' :: ' that every
#: line has twice). Each alternative of _ALERT_SELECT and the analyzer's holds 'alert', but
#: 'added Panorama slack_thread_ts Redis key - '.
_ALERT_NEEDLES = (b"alert", b"Panorama slack_thread_ts Redis key - ")
NEEDLES: dict[str, tuple[bytes, ...]] = {"analyzer": _ALERT_NEEDLES, "mirage": _ALERT_NEEDLES}

#: webapp.log of v3+ (requests log their URL before their arguments, webapp.py:7955): the
#: same keywords without 'request argument', set once WebappRules.url_mode is on
WEBAPP_URL_SELECT = re.compile(
    SELECTORS["webapp"].pattern.replace(rb"request argument - |", b"", 1)
)
#: webapp.log of v5 ('starting ionosphere request_id: %s for %s', webapp.py:7952): neither
#: 'request argument' nor 'request.url' lines, once WebappRules.starting_urls is on
WEBAPP_V5_SELECT = re.compile(
    WEBAPP_URL_SELECT.pattern.replace(rb"request\.url: \S*/ionosphere(?:\?|\s)|", b"", 1)
)
_RULES: dict[str, type[Rules]] = {
    "analyzer": AlertRules,
    "mirage": AlertRules,
    "webapp": WebappRules,
    "ionosphere": IonosphereRules,
    "boundary": BoundaryRules,
}


class LogParser:
    """Incremental parser of one Skyline app log.

    ``feed`` takes bytes in any chunking (only whole lines are framed); ``finish`` says the input
    ended and also parses an unterminated last line. Events depend only on the bytes, never on
    how they were chunked. Correlation state (per pid, per request) is bounded.
    """

    def __init__(self, app: str, path: str = "", *, offset: int = 0, line_no: int = 1):
        if app not in APPS:
            raise ValueError(f"unknown Skyline app {app!r}; expected one of {', '.join(APPS)}")
        self.app = app
        self.path = path
        self._framer = Framer(
            offset=offset, line_no=line_no, select=SELECTORS[app], needles=NEEDLES.get(app, ())
        )
        self._stats = ParseStats()
        self._rules = _RULES[app](Ctx(app, path, self._stats))
        self._recent = RecentIds()
        self._time = PrefixTimes()

    def feed(self, data: bytes) -> list[Event]:
        return self._parse(self._framer.feed(data))

    def finish(self) -> list[Event]:
        events = self._parse(self._framer.finish())
        return events + self._unique(self._rules.finish())

    @property
    def safe_offset(self) -> int:
        """Everything before this offset was consumed: resuming here loses no event.

        The framer's offset, or the first line whose state may still make an event: an event
        held back for the line that completes it, an open request, a remembered timestamp
        (common.AgeQueue; at most minutes of log). A parser resumed here rebuilds that state,
        so it makes the events still to come, and again any already made, with the same ids.
        """
        held = self._rules.held_from()
        offset = self._framer.safe_offset
        return min(offset, held.offset) if held is not None else offset

    @property
    def line_no(self) -> int:
        """The line number at ``safe_offset``."""
        held = self._rules.held_from()
        offset = self._framer.safe_offset
        if held is not None and held.offset < offset:
            return held.line_no
        return self._framer.line_no

    @property
    def stats(self) -> ParseStats:
        framing = self._framer.stats
        stats = self._stats
        stats.bytes, stats.lines, stats.records = framing.bytes, framing.lines, framing.records
        stats.invalid_utf8_lines = framing.invalid_utf8_lines
        stats.truncated_lines = framing.truncated_lines
        return stats

    @property
    def tracked_pids(self) -> int:
        """How many pids have correlation state (at most parsers.common.MAX_PIDS)."""
        return self._rules.tracked_pids()

    def _parse(self, records: list[Record]) -> list[Event]:
        events: list[Event] = []
        handle, times = self._rules.handle, self._time
        for rec in records:
            at = times(rec.logged_at)
            if at is None:
                self._stats.bad_timestamps += 1
                continue
            made = handle(Line(rec, at))
            if made:
                events += self._unique(made)
        # What the webapp rules stop reading, the framer stops selecting.
        if getattr(self._rules, "starting_urls", False):
            self._framer.select = WEBAPP_V5_SELECT
        elif getattr(self._rules, "url_mode", False):
            self._framer.select = WEBAPP_URL_SELECT
        return events

    def _unique(self, events: list[Event]) -> list[Event]:
        out = []
        for event in events:
            if self._recent.seen(event.event_id):
                self._stats.duplicates += 1
            else:
                out.append(event)
        self._stats.events += len(out)
        return out
