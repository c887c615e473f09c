"""Generate the fixture logs tests/corpus/<version>/<app>.log and their expected.jsonl.

    .venv/bin/python -m tests.corpus.make_corpus        # from the repository root; rewrites them

Every line comes from a tests/support/skyline_lines.py builder (Skyline's own format strings) and
every expected event is built from the same values that rendered its lines, so the expectations are
not the parser's output copied back. Between the events: tracebacks (blank lines inside and at the
end), interleaved pids, other sub-apps' lines, bin-script and gunicorn lines, invalid UTF-8 and
near-miss lines that must produce nothing. tests/test_parsers_corpus.py checks that these files are
what this script generates and that ``skyline-sidecar parse --format json`` on each version
directory prints exactly expected.jsonl (run from inside that directory).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from parsers.events import (
    AlertMuted,
    AnomaliesLabelled,
    AnomalyAlert,
    BoundaryAlert,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
    LayersCreated,
    SlackThread,
    Source,
    TrainingDataViewed,
    ValidatedProfile,
)
from tests.support import skyline_lines as L

HERE = Path(__file__).resolve().parent

APP_ORDER = ("analyzer", "mirage", "webapp", "ionosphere", "boundary")
START = {
    "v1": datetime(2019, 6, 3, 9, 0, 0),
    "v2": datetime(2020, 9, 1, 10, 0, 0),
    "v3": datetime(2022, 6, 1, 11, 0, 0),
    "v4": datetime(2023, 7, 3, 12, 0, 0),
    "v5": datetime(2026, 11, 26, 13, 0, 0),
}
SKYLINE_URL = "https://skyline.example.com"
THREAD = "%s.123456"
CHANNEL = "C0123456789"
# pids as in the catalogue's SYNTH lines
A_RUN, A_SPIN, A_SMTP, A_MANAGER, A_BASH = 12345, 12399, 12410, 12366, 31337
M_RUN, M_SPIN, M_SMTP, M_VORTEX = 23456, 23499, 23510, 23488
W_ONE, W_TWO, W_FEATURES = 3120441, 3120442, 3120502
I_MAIN, I_SPIN, I_LEARN, I_LEARN2 = 2230011, 2230150, 2240915, 2241020
B_RUN, B_SPIN = 1950001, 1950077


def epoch(at: datetime) -> int:
    """Server local time is UTC in the corpus."""
    return int(at.replace(tzinfo=UTC).timestamp())


def num(version: str) -> int:
    return int(version[1])


class Log:
    """One app log being written, with the events a parser must find in it, in emission order."""

    def __init__(self, version: str, app: str):
        self.version, self.app = version, app
        self.name = f"{app}.log"
        self.now = START[version]
        self.data = bytearray()
        self.next_line = 1
        self.records: dict[int, tuple[datetime, int, str]] = {}
        self.expected: list[tuple[int, int, Event]] = []
        self._ids: set[str] = set()

    def tick(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def add(self, pid: int, msg: str) -> int:
        """A Skyline record (msg may span lines); returns its first line's number."""
        first = self.next_line
        self.records[first] = (self.now, pid, msg.split("\n", 1)[0])
        self.raw(L.line(self.now, pid, msg))
        return first

    def add_bytes(self, pid: int, msg: bytes) -> int:
        """A one-line record whose message is not valid UTF-8 (read back with U+FFFD)."""
        first = self.next_line
        self.records[first] = (self.now, pid, msg.decode("utf-8", "replace"))
        self.raw(L.line(self.now, pid, "").encode()[:-1] + msg + b"\n")
        return first

    def raw(self, text: str | bytes) -> int:
        first = self.next_line
        data = text.encode("utf-8") if isinstance(text, str) else text
        self.data += data
        self.next_line += data.count(b"\n")
        return first

    def expect(
        self, cls: type[Event], at: int, emit: int | None = None, again: bool = False, **fields: Any
    ) -> None:
        """The event read from line ``at``, emitted when line ``emit`` (default ``at``) is read.

        ``again``: this line says what an earlier line said (one alert, several lines): it must
        be the same event (same id) and it is not emitted twice. Any other id collision is a bug.
        """
        logged_at, pid, msg = self.records[at]
        event = cls(
            app=self.app,
            logged_at=logged_at,
            pid=pid,
            message=msg,
            source=Source(self.name, at),
            **fields,
        )
        if again != (event.event_id in self._ids):
            raise AssertionError(
                f"{self.version}/{self.name}:{at}: {'no' if again else 'an'} "
                f"earlier event with the id of {event}"
            )
        if not again:
            self._ids.add(event.event_id)
            self.expected.append((emit or at, len(self.expected), event))

    def events(self) -> list[Event]:
        return [event for _, _, event in sorted(self.expected, key=lambda x: x[:2])]


# -- shared noise --------------------------------------------------------------------------
def traceback_record(log: Log, pid: int, then: str) -> None:
    """logger.error(traceback.format_exc()) then an error line, as Skyline does."""
    log.add(pid, L.traceback_text().rstrip("\n") + "\n")
    log.add(pid, then)


def restart(log: Log, app: str) -> None:
    """bin/<app>.d lines around a restart (bin/analyzer.d:207, :238)."""
    log.add(A_BASH, f"{app}.d :: process removed log.wait file, starting log management")
    log.tick()
    log.add(A_BASH, f"{app}.d :: log management done")
    # A bin-script line that happens to carry event-like text is still never an event.
    log.add(A_BASH, f"{app}.d :: sent slack alert: For stats.fake.bin_line")


def invalid_utf8(log: Log, pid: int, what: str) -> None:
    log.raw(
        L.line(log.now, pid, f"{what} stats.caf").rstrip("\n").encode() + b"\xe9\xff\xfe.metric\n"
    )


# -- analyzer.log --------------------------------------------------------------------------
def analyzer_log(v: str) -> Log:
    log = Log(v, "analyzer")
    n = num(v)
    restart(log, "analyzer")
    log.add(A_RUN, "starting analyzer run")
    log.add(A_MANAGER, "metrics_manager :: 43 external_settings from cache None")
    invalid_utf8(log, A_MANAGER, "metrics_manager :: skipping")

    m1, m2, m3, m4, m5 = (f"stats.web0{i}.cpu.user" for i in range(1, 6))
    ts1 = epoch(log.now) - 60
    v1, v2, v3 = 87.5, 12.25, 3.0

    def metric(value: float, name: str, ts: int) -> list[Any]:
        return L.analyzer_metric(v, value, name, ts)

    def alert(alerter: str, **kw: Any) -> Any:
        return (
            L.alert_tuple("stats", alerter, 3600)
            if n == 1
            else L.alert_list("stats", alerter, 3600, 0, **kw)
        )

    def fields(
        value: float | None,
        name: str,
        ts: int | None,
        alerter: str,
        namespace: str | None = "stats",
        context: str = "Analyzer",
        detail: bool = True,
    ) -> dict[str, Any]:
        return dict(
            metric=name,
            anomaly_timestamp=ts,
            alerter=alerter,
            value=value,
            alert_namespace=namespace if detail else None,
            triggered_algorithms=tuple(L.TRIGGERED) if detail and n >= 3 else (),
            algorithms_run=tuple(L.ALGORITHMS_RUN) if detail and n >= 3 else (),
            context=context,
        )

    # spin_process: the anomalies, handed on (only 'added ionosphere check' has the timestamp)
    log.tick()
    log.add(A_SPIN, "spin_process started")
    log.add(A_SPIN, L.added_check("ionosphere", m1, ts1))
    log.add(
        A_SPIN, f"added panorama anomaly file :: /opt/skyline/panorama/check/{ts1 + 5}.{m1}.txt"
    )
    log.add(A_SPIN, L.added_mirage_check(m3, v3, 168))
    log.add(A_SPIN, L.not_anomalous(v, m5, 1.0))  # a Mirage line shape: never an alert here

    log.tick()
    log.add(A_RUN, L.checking_for_alerts())
    # smtp: v2+ logs smtp_trigger_alert once the child is done; v1 logs nothing else.
    smtp_triggering = log.add(A_RUN, L.triggering_alert(v, m1, v1, "smtp"))
    log.add(
        A_SMTP,
        "alert_smtp - will send to primary_recipient :: ops@example.org, cc_recipients :: False",
    )
    if n >= 2:
        at = log.add(
            A_RUN,
            L.analyzer_trigger_alert(
                alert("smtp", alert_id="internal-0"), metric(v1, m1, ts1), smtp=True
            ),
        )
        log.expect(AnomalyAlert, at, **fields(v1, m1, ts1, "smtp"))
    log.add(A_SPIN, L.added_check("crucible", m4, ts1))  # another pid in between
    # slack with Skyline's Slack off: THE line, then (v2+) trigger_alert after the alerter
    slack_triggering = log.add(A_RUN, L.triggering_alert(v, m1, v1, "slack"))
    if n == 1:  # the smtp alert's dispatch is over: it is released with the timestamp known
        log.expect(
            AnomalyAlert,
            smtp_triggering,
            emit=slack_triggering,
            **fields(v1, m1, None, "smtp", detail=False),
        )  # no line tells its time
    at = log.add(A_RUN, L.slack_disabled(alert("slack"), metric(v1, m1, ts1)))
    log.expect(AnomalyAlert, at, **fields(v1, m1, ts1, "slack"))
    if n >= 2:
        at = log.add(A_RUN, L.analyzer_trigger_alert(alert("slack"), metric(v1, m1, ts1)))
        log.expect(AnomalyAlert, at, again=True, **fields(v1, m1, ts1, "slack"))  # the same alert
    if n >= 3:  # http_alerter gets the anomaly id appended to its alert
        http = "http_alerter-external_endpoint"
        log.add(A_RUN, L.triggering_alert(v, m1, v1, http))
        log.add(A_RUN, "determined anomaly_id as 98765, appending to alert")
        at = log.add(
            A_RUN,
            L.analyzer_trigger_alert(
                alert(
                    http,
                    alert_id="internal-4",
                    extra=(["anomaly_id", 98765], ["anomalyScore", 0.7777777777777778]),
                ),
                metric(v1, m1, ts1),
            ),
        )
        log.expect(AnomalyAlert, at, **fields(v1, m1, ts1, http))
    # the alerter raised: Skyline did not alert, neither does the parser
    log.add(A_RUN, L.triggering_alert(v, m2, v2, "pagerduty"))
    log.add(A_RUN, L.trigger_alert_error(L.traceback_text("KeyError: 'pagerduty'")))
    log.add(A_RUN, L.failed_to_trigger_alert(m2, v2, "pagerduty"))
    # ENABLE_FULL_DURATION_ALERTS: an alert with no detail line and no timestamp anywhere
    full_duration = log.add(A_RUN, L.triggering_alert_full_duration(m3, v3, "smtp"))
    # near misses
    log.add(A_RUN, L.not_alerting_ionosphere(m5))
    log.add(A_RUN, f"not alerting - skipping Mirage metric - {m3}")
    released = None  # the next 'triggering alert' ends the ENABLE_FULL_DURATION_ALERTS dispatch
    if n >= 3:  # a paused alert: 'triggering alert' is logged, then no alerter is called
        released = log.add(A_RUN, L.triggering_alert(v, m5, v2, "slack"))
        log.expect(
            AnomalyAlert, full_duration, emit=released, **fields(v3, m3, None, "smtp", detail=False)
        )
        log.add(A_RUN, L.alert_paused("slack", m5, ts1 + 3600))
    if n >= 4:
        at = log.add(A_RUN, L.muted("slack", m5))
        log.expect(AlertMuted, at, metric=m5, alerter="slack")
        at = log.add(A_RUN, L.muted("pagerduty", m5))
        log.expect(AlertMuted, at, metric=m5, alerter="pagerduty")
    log.add(A_RUN, L.slack_disabled("<function alert at 0x7f>", "[[[garbage"))  # unreadable
    traceback_record(log, A_RUN, "error :: alerters - alert_slack - getattr error")
    log.add(
        A_MANAGER,
        L.slack_post_message(
            "#skyline",
            None,
            "*Skyline - NOTICE* - muting expired\n"
            + L.analyzer_trigger_alert(alert("slack"), metric(v1, m4, ts1))
            + "\n"
            + L.sent_alert("slack", m4),
        ),
    )
    if n >= 2:  # invalid UTF-8 inside an event line: read with U+FFFD, the event stands
        bad = L.slack_disabled(alert("slack", alert_id="internal-@@"), metric(v2, m5, ts1))
        at = log.add_bytes(A_RUN, bad.encode().replace(b"@@", b"\xff\xc3"))
        # (v4+: the muted lines above are this alert's cycle)
        log.expect(AnomalyAlert, at, muted=n >= 4, **fields(v2, m5, ts1, "slack"))
    if n >= 3:  # a nan value is logged as nan: the alert stands, its value is unknown
        log.tick()
        at = log.add(A_RUN, L.slack_disabled(alert("slack"), metric(math.nan, m4, ts1)))
        log.expect(AnomalyAlert, at, **fields(None, m4, ts1, "slack"))
    if n >= 3:  # a waterfall alert (v3+, analyzer.py:6935): Mirage did not check it in time
        log.tick()
        log.add(
            A_RUN,
            L.waterfall_alerting(
                "analyzer",
                m3,
                [
                    m3,
                    ts1,
                    v3,
                    ts1 + 5,
                    [
                        m3,
                        v3,
                        ts1 - 86400,
                        ts1,
                        L.ALGORITHMS_RUN,
                        L.TRIGGERED,
                        "analyzer",
                        "analyzer",
                        "skyline-1",
                        ts1 + 5,
                    ],
                ],
            ),
        )
        at = log.add(A_RUN, L.slack_disabled(alert("slack"), metric(v3, m3, ts1)))
        log.expect(AnomalyAlert, at, waterfall=True, **fields(v3, m3, ts1, "slack"))
    log.tick()
    if n >= 2:
        log.add(A_RUN, L.alerts_checked())
    log.add(A_RUN, L.seconds_to_run(2.25))
    log.add(A_RUN, L.total_anomalies(3))
    log.add(A_RUN, "anomaly breakdown  :: {'histogram_bins': 1, 'grubbs': 1}")

    # Skyline's own Slack on (after a restart): the alert and the thread it got
    log.tick(60)
    restart(log, "analyzer")
    ts6 = epoch(log.now) - 60
    m6 = "stats.db01.disk.used"
    log.add(A_RUN, L.checking_for_alerts())
    triggering = log.add(A_RUN, L.triggering_alert(v, m6, v2, "slack"))
    if released is None:  # v1/v2: held until this pid's next alert
        log.expect(
            AnomalyAlert,
            full_duration,
            emit=triggering,
            **fields(v3, m3, None, "smtp", detail=False),
        )
    at = log.add(A_RUN, L.slack_anomalous(alert("slack"), metric(v2, m6, ts6)))
    log.expect(AnomalyAlert, at, **fields(v2, m6, ts6, "slack"))
    log.add(
        A_RUN,
        "alert_slack - interpolated Ionosphere Graphite image :: "
        f"/opt/skyline/ionosphere/data/{ts6}/stats/db01/disk/used/{m6}.analyzer.graphite.24h.png",
    )
    log.add(A_RUN, L.sent_slack_message())
    thread = THREAD % (ts6 + 22)
    log.tick()
    if n == 5:
        at = log.add(A_RUN, L.slack_thread_ts(thread))
        log.expect(SlackThread, at, metric=m6, anomaly_timestamp=ts6, thread_ts=thread)
        at = log.add(A_RUN, L.panorama_thread_hash(m6, ts6, thread))
        log.expect(SlackThread, at, again=True, metric=m6, anomaly_timestamp=ts6, thread_ts=thread)
    else:
        at = log.add(A_RUN, L.slack_group_thread_ts(CHANNEL, thread, as_bytes=n == 3))
        log.expect(
            SlackThread, at, metric=m6, anomaly_timestamp=ts6, thread_ts=thread, channel=CHANNEL
        )
    at = log.add(A_RUN, L.panorama_thread_key(m6, ts6, thread.encode() if n == 3 else thread))
    log.expect(SlackThread, at, again=True, metric=m6, anomaly_timestamp=ts6, thread_ts=thread)
    log.add(
        A_RUN, f"added Panorama alert Redis key - panorama.alert.{ts6}.{m6} - {[m6, ts6, ts6 + 75]}"
    )
    if n >= 2:
        at = log.add(A_RUN, L.analyzer_trigger_alert(alert("slack"), metric(v2, m6, ts6)))
        log.expect(AnomalyAlert, at, again=True, **fields(v2, m6, ts6, "slack"))
    # a slack_thread_ts line with no alert_slack before it in its pid: no thread to tie it to
    log.add(A_SPIN, L.slack_thread_ts(THREAD % ts6))
    if n == 5:  # a prefix whose time is no real time is no event
        log.raw(
            "2026-13-45 99:99:99 :: {} :: {}\n".format(
                A_RUN, L.slack_disabled(alert("slack"), metric(v1, m5, ts6))
            )
        )
    log.add(A_RUN, L.alerts_checked() if n >= 2 else L.total_anomalies(1))
    return log


# -- mirage.log ----------------------------------------------------------------------------
def mirage_log(v: str) -> Log:
    log = Log(v, "mirage")
    n = num(v)
    restart(log, "mirage")
    log.add(M_RUN, "starting mirage run")
    m1, m2, m3 = "stats.web01.cpu.user", "stats.web02.mem.free", "stats.web03.net.rx"
    labelled = "labelled_metrics.1234"
    ts1 = epoch(log.now) - 60
    value, seconds = 87.5, 604800

    def metric(val: float, name: str, ts: int) -> list[Any]:
        return L.mirage_metric(v, val, name, ts, seconds)

    def alert(alerter: str) -> Any:
        return (
            L.alert_tuple("stats", alerter, 3600, 168)
            if n == 1
            else L.alert_list("stats", alerter, 3600, 168)
        )

    def fields(
        val: float | None,
        name: str,
        ts: int,
        alerter: str,
        context: str = "Mirage",
        sors: int | None = None,
        detail: bool = True,
    ) -> dict[str, Any]:
        shaped = detail and n >= 3
        return dict(
            metric=name,
            anomaly_timestamp=ts,
            alerter=alerter,
            value=val,
            alert_namespace="stats" if detail else None,
            triggered_algorithms=tuple(L.TRIGGERED) if shaped else (),
            algorithms_run=tuple(L.ALGORITHMS_RUN) if shaped else (),
            full_duration=seconds if shaped else None,
            second_order_resolution_seconds=sors,
            context=context,
        )

    # spin_process: the second-order analysis
    log.tick()
    log.add(M_SPIN, L.check_file(m1, ts1))
    log.add(M_SPIN, f"analyzing :: {m1} at {seconds} seconds")
    if n >= 5:
        log.add(M_SPIN, L.added_anomaly(metric(value, m1, ts1)))
    log.add(M_SPIN, L.anomaly_detected(v, m1, value))
    log.add(M_SPIN, L.not_anomalous(v, m3, 1.5))
    log.add(
        M_VORTEX,
        f"mirage_vortex :: request_id: a1b2c3, training_data_url: {SKYLINE_URL}"
        f"/ionosphere?timestamp={ts1}&metric={labelled}&vortex_results=true",
    )

    # run(): slack with Skyline's Slack off, then smtp
    log.tick()
    log.add(M_RUN, f"not an Ionosphere metric checking whether to alert - {m1}")
    if n >= 2:
        at = log.add(M_RUN, L.mirage_trigger_alert(alert("slack"), metric(value, m1, ts1), seconds))
        log.expect(AnomalyAlert, at, **fields(value, m1, ts1, "slack", sors=seconds))
    at = log.add(M_RUN, L.slack_disabled(alert("slack"), metric(value, m1, ts1)))
    log.expect(AnomalyAlert, at, again=n >= 2, **fields(value, m1, ts1, "slack"))
    at = log.add(M_RUN, L.sent_alert("slack", m1))
    log.expect(AnomalyAlert, at, again=True, **fields(value, m1, ts1, "slack", detail=False))
    if n >= 2:
        at = log.add(
            M_RUN, L.mirage_trigger_alert(alert("smtp"), metric(value, m1, ts1), seconds, smtp=True)
        )
        log.expect(AnomalyAlert, at, **fields(value, m1, ts1, "smtp", sors=seconds))
    log.add(
        M_SMTP,
        "alert_smtp - will send to primary_recipient :: ops@example.org, cc_recipients :: False",
    )
    if n >= 5:
        log.add(M_SMTP, f"alert_smtp - set key mirage.smtp.alerted.{ts1}.{m1}")
    traceback_record(
        log,
        M_SMTP,
        "error :: alert_smtp - could not send email to "
        "primary_recipient :: ops@example.org, cc_recipients :: False",
    )
    at = log.add(M_RUN, L.sent_alert("smtp", m1))  # v1: the only smtp line, no timestamp
    log.expect(
        AnomalyAlert,
        at,
        again=n >= 2,
        **fields(None, m1, ts1 if n >= 2 else None, "smtp", detail=False),
    )
    invalid_utf8(log, M_SPIN, "stale check ::")

    # near misses
    log.tick()
    log.add(M_RUN, L.alert_key_exists("slack", m1))
    log.add(M_RUN, L.not_alerting_ionosphere(m2))
    log.add(M_RUN, L.negate_alert_sent(m3))
    log.add(M_RUN, L.could_not_send("slack", m3, "'NoneType' object is not subscriptable"))
    log.add(M_RUN, L.alert_paused("slack", m3, ts1 + 3600))
    log.add(M_RUN, L.bot_token_not_configured())
    if n >= 4:
        at = log.add(M_SMTP, L.muted("smtp", m3))
        log.expect(AlertMuted, at, metric=m3, alerter="smtp")
        at = log.add(M_RUN, L.muted("slack", m3))
        log.expect(AlertMuted, at, metric=m3, alerter="slack")

    if n >= 3:  # Ionosphere found no match and handed the alert back to Mirage
        ts2 = epoch(log.tick(30)) - 120
        log.add(
            M_RUN,
            "Ionosphere alerts requested emptying ionosphere_unique_metrics so Mirage will alert",
        )
        at = log.add(
            M_RUN,
            L.mirage_trigger_alert(
                alert("slack"), metric(value, m2, ts2), seconds, context="Ionosphere"
            ),
        )
        log.expect(
            AnomalyAlert, at, **fields(value, m2, ts2, "slack", context="Ionosphere", sors=seconds)
        )
        at = log.add(M_RUN, L.slack_disabled(alert("slack"), metric(value, m2, ts2)))
        log.expect(AnomalyAlert, at, again=True, **fields(value, m2, ts2, "slack"))
    if n >= 4:  # labelled (Prometheus) metrics alert as labelled_metrics.<id>
        ts3 = epoch(log.tick()) - 60
        at = log.add(
            M_RUN, L.mirage_trigger_alert(alert("slack"), metric(1.92, labelled, ts3), seconds)
        )
        log.expect(AnomalyAlert, at, **fields(1.92, labelled, ts3, "slack", sors=seconds))
    if n >= 5:  # a metric name that is not ASCII
        ts4 = epoch(log.tick()) - 60
        name = "stats.wéb04.cpu.user"
        at = log.add(M_RUN, L.mirage_trigger_alert(alert("slack"), metric(4.5, name, ts4), seconds))
        log.expect(AnomalyAlert, at, **fields(4.5, name, ts4, "slack", sors=seconds))

    # Skyline's own Slack on: the alert, then the thread ts lines of the same pid
    log.tick(60)
    ts5 = epoch(log.now) - 60
    at = log.add(M_RUN, L.slack_anomalous(alert("slack"), metric(value, m3, ts5)))
    log.expect(AnomalyAlert, at, **fields(value, m3, ts5, "slack"))
    log.add(M_SPIN, L.check_file(m1, ts5))  # interleaved pid
    log.add(M_RUN, L.sent_slack_message())
    thread = THREAD % (ts5 + 22)
    log.tick()
    if n == 5:
        at = log.add(M_RUN, L.slack_thread_ts(thread))
        log.expect(SlackThread, at, metric=m3, anomaly_timestamp=ts5, thread_ts=thread)
        at = log.add(M_RUN, L.panorama_thread_hash(m3, ts5, thread))
        log.expect(SlackThread, at, again=True, metric=m3, anomaly_timestamp=ts5, thread_ts=thread)
    else:
        at = log.add(M_RUN, L.slack_group_thread_ts(CHANNEL, thread))
        log.expect(
            SlackThread, at, metric=m3, anomaly_timestamp=ts5, thread_ts=thread, channel=CHANNEL
        )
        second = THREAD % (ts5 + 23)  # a second channel of the namespace: its own thread
        at = log.add(M_RUN, L.slack_group_thread_ts("C0999999999", second))
        log.expect(
            SlackThread,
            at,
            metric=m3,
            anomaly_timestamp=ts5,
            thread_ts=second,
            channel="C0999999999",
        )
    at = log.add(M_RUN, L.panorama_thread_key(m3, ts5, thread))
    log.expect(SlackThread, at, again=True, metric=m3, anomaly_timestamp=ts5, thread_ts=thread)
    at = log.add(M_RUN, L.sent_alert("slack", m3))
    log.expect(AnomalyAlert, at, again=True, **fields(value, m3, ts5, "slack", detail=False))
    if n >= 4:
        muted_cycles(log, metric, alert, fields)
    log.add(M_RUN, L.total_anomalies(2))
    return log


def muted_cycles(
    log: Log,
    metric: Callable[..., Any],
    alert: Callable[[str], Any],
    fields: Callable[..., dict[str, Any]],
) -> None:
    """mute_alerts_on (v4+): smtp (a child process, first) logs the metric muted, the slack
    alert of the same cycle is marked muted; minutes later, unmuted, the next alert is not.
    With Skyline's own Slack on, alert_slack logs it muted after its detail line."""
    m = "stats.web05.disk.used"
    ts = epoch(log.tick(120)) - 60
    at = log.add(M_SMTP, L.muted("smtp", m))
    log.expect(AlertMuted, at, metric=m, alerter="smtp")
    log.tick()
    at = log.add(M_RUN, L.slack_disabled(alert("slack"), metric(3.5, m, ts)))
    log.expect(AnomalyAlert, at, muted=True, **fields(3.5, m, ts, "slack"))
    later = epoch(log.tick(300)) - 60
    at = log.add(M_RUN, L.slack_disabled(alert("slack"), metric(4.5, m, later)))
    log.expect(AnomalyAlert, at, **fields(4.5, m, later, "slack"))
    on = epoch(log.tick(300)) - 60
    at = log.add(M_RUN, L.slack_anomalous(alert("slack"), metric(5.5, m, on)))
    log.expect(AnomalyAlert, at, **fields(5.5, m, on, "slack"))
    at = log.add(M_RUN, L.muted("slack", m))
    log.expect(AlertMuted, at, metric=m, alerter="slack", anomaly_timestamp=on)


# -- webapp.log ----------------------------------------------------------------------------
def url(path: str = "ionosphere", **args: Any) -> str:
    return f"{SKYLINE_URL}/{path}?" + "&".join(f"{k}={a}" for k, a in args.items())


def request(
    log: Log,
    pid: int,
    link: str,
    user: str | None = "admin",
    user_id: int = 1,
    rid: str | None = None,
) -> None:
    """The lines a /ionosphere request logs before its work, per version (webapp.py:959-7994)."""
    n = num(log.version)
    if n >= 3:
        log.add(pid, L.check_auth_request(link))
    if user is not None:
        log.add(pid, L.get_user_details(user, user_id))
    if n >= 4:
        log.add(pid, L.starting_request(log.version, rid or "0" * 64, link))
    if n >= 3:
        log.add(pid, L.request_url(link))
    args = [a.split("=", 1) for a in link.split("?", 1)[1].split("&")]
    for _ in range(2):  # webapp.py:7994 and the validation loop at :10316
        for key, value in args:
            log.add(pid, L.request_argument(key, value))


def rid_of(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def viewed(
    log: Log, pid: int, metric: str, ts: int, metric_id: int = 271, lookup: bool = True
) -> int:
    """The end of a training data page view: metric id, then the always-logged marker."""
    if num(log.version) >= 4 and lookup:
        log.add(pid, f"metric_id looked up base_name: {metric} and got metric_id: {metric_id}")
    log.add(pid, L.metric_id_is(metric_id))
    return log.add(pid, L.training_data_viewed(False))


def webapp_log(v: str) -> Log:
    log = Log(v, "webapp")
    n = num(v)
    log.raw(L.gunicorn_line(log.now, 3120440, "INFO", "Starting gunicorn 23.0.0"))
    log.raw(L.gunicorn_line(log.now, 3120440, "INFO", f"Booting worker with pid: {W_ONE}"))
    log.add(A_BASH, "webapp.d :: log management done")
    m1, m2 = "stats.web01.cpu.user", "stats.web02.mem.free"
    ts1, ts2 = epoch(log.now) - 3600, epoch(log.now) - 7200

    # 1. a training data page view, with Skyline's /panorama self-request in between
    log.tick()
    link = url(timestamp=ts1, metric=m1)
    rid = rid_of(link)
    request(log, W_ONE, link, rid=rid)
    panorama = url(
        "panorama",
        metric=m1,
        from_timestamp=ts1 - 120,
        until_timestamp=ts1 + 120,
        panorama_anomaly_id="true",
    )
    log.add(W_ONE, L.getting_anomaly_id(panorama))
    if n >= 3:
        log.add(W_TWO, L.check_auth_request(panorama))
        log.add(W_ONE, L.check_auth_request(panorama))
    log.add(W_TWO, L.request_argument("metric", m1))
    log.add(W_ONE, f"debug :: panorama anomaly data: [[98765, '{m1}', 12.5, {ts1}, 604800]]")
    at = viewed(log, W_ONE, m1, ts1)
    log.expect(TrainingDataViewed, at, metric=m1, anomaly_timestamp=ts1, user="admin")
    if n >= 4:
        log.add(W_ONE, L.completed_request(rid, 2.318))
    traceback_record(
        log,
        W_TWO,
        "error :: Webapp could not get metric id from Redis key - "
        "panorama.mysql_ids.metrics.metric.stats.web09",
    )
    log.raw(L.gunicorn_line(log.now, W_TWO, "ERROR", "Error handling request /ionosphere"))
    invalid_utf8(log, W_TWO, "request argument - metric=")

    # 2. requests of one worker interleaved: a features profile page (no marker), then views
    log.tick(30)
    fp_view = url(fp_view="true", fp_id=1234, metric=m1)
    request(log, W_ONE, fp_view, rid=rid_of(fp_view))
    log.add(
        W_ONE,
        "ionoshere_backend.py :: features_profile_progeny getting the features "
        "profile ids of the progeny of fp_id 1234",
    )
    if n >= 4:  # two views in flight in one gevent worker: each marker is its own request's
        a, b = url(timestamp=ts1, metric=m1), url(timestamp=ts2, metric=m2)
        request(log, W_ONE, a, rid=rid_of(a + "2"))
        request(log, W_ONE, b, user="ops", user_id=2, rid=rid_of(b))
        at = viewed(log, W_ONE, m1, ts1)
        log.expect(TrainingDataViewed, at, metric=m1, anomaly_timestamp=ts1, user="admin")
        log.add(W_ONE, L.completed_request(rid_of(a + "2"), 3.1))
        at = viewed(log, W_ONE, m2, ts2, metric_id=272)
        log.expect(TrainingDataViewed, at, metric=m2, anomaly_timestamp=ts2, user="ops")
        log.add(W_ONE, L.completed_request(rid_of(b), 3.4))
        # a labelled metric's training data link: metric_id= instead of metric=
        lab = url(timestamp=ts2, metric_id=1234)
        request(log, W_TWO, lab, rid=rid_of(lab))
        at = viewed(log, W_TWO, "labelled_metrics.1234", ts2, metric_id=1234)
        log.expect(
            TrainingDataViewed, at, metric=None, anomaly_timestamp=ts2, metric_id=1234, user="admin"
        )
        log.add(W_TWO, L.completed_request(rid_of(lab), 1.2))
    else:
        b = url(timestamp=ts2, metric=m2)
        request(log, W_ONE, b, user="ops", user_id=2)
        at = viewed(log, W_ONE, m2, ts2, metric_id=272)
        log.expect(TrainingDataViewed, at, metric=m2, anomaly_timestamp=ts2, user="ops")
    # calc_features: the page is rendered but Skyline logs no view marker for it
    calc = url(
        timestamp=ts1, metric=m1, requested_timestamp=ts1, calc_features="true", learn="true"
    )
    request(log, W_TWO, calc, rid=rid_of(calc))
    log.add(
        W_FEATURES,
        f"webapp_features_profile :: calculate_features_profile for {m1}, "
        f"requested_timestamp: {ts1}, context: training_data",
    )
    log.add(W_TWO, "slack_updated for validated features profiles True")  # another marker

    # 3. features profiles created: learn=true, learn=false (and, v5, IONOSPHERE_LEARN off)
    def create(
        fp_id: int, metric: str, ts: int, learn: str, user_id: int = 1, pid: int = W_ONE
    ) -> tuple[int, int]:
        link = url(
            timestamp=ts,
            metric=metric,
            requested_timestamp=ts,
            add_fp="true",
            learn=learn,
            label="none",
        )
        request(log, pid, link, rid=rid_of(link))
        log.add(
            W_FEATURES,
            f"features_profile :: training data feature profile creation "
            f"requested for {metric} at {ts}",
        )
        log.add(pid, L.fp_pending_key(metric, ts))
        log.add(pid, L.fp_requested("training_data", metric, ts, user_id))
        log.add(pid, L.learn_full_duration_days(30))
        log.add(pid, L.generation_info_days(30))
        log.add(pid, "create_features_profile :: determined db metric id: 271")
        first = log.add(pid, L.new_fp_id(fp_id))
        log.add(pid, L.fp_dir_created(fp_id, L.fp_profile_dir(metric, ts)))
        log.add(
            pid,
            f"create_features_profile :: fp_id - {fp_id} - training data copied to "
            + L.fp_profile_dir(metric, ts),
        )
        log.add(pid, L.disposing_engine())
        log.add(pid, L.engine_dispose())
        return first, rid_of(link)

    log.tick(60)
    first, _ = create(1234, m1, ts1, "true")
    at = log.add(W_ONE, L.learn_work_added("learn_fp_human", ts1, m1, 1234, 0))
    log.expect(
        FeaturesProfileCreated,
        first,
        emit=at,
        fp_id=1234,
        metric=m1,
        anomaly_timestamp=ts1,
        user_id=1,
        learn=True,
        learn_days=30,
    )
    log.tick()
    first, _ = create(1235, m2, ts2, "false", user_id=2, pid=W_TWO)
    at = log.add(W_TWO, L.fp_learn_false())
    log.expect(
        FeaturesProfileCreated,
        first,
        emit=at,
        fp_id=1235,
        metric=m2,
        anomaly_timestamp=ts2,
        user_id=2,
        learn=False,
        learn_days=30,
    )
    if n >= 5:  # IONOSPHERE_LEARN off: no learn line, the next line of the request ends it
        log.tick()
        first, link_rid = create(1236, m2, ts1, "true")
        at = log.add(W_ONE, L.completed_request(link_rid, 4.2))
        log.expect(
            FeaturesProfileCreated,
            first,
            emit=at,
            fp_id=1236,
            metric=m2,
            anomaly_timestamp=ts1,
            user_id=1,
            learn=False,
            learn_days=30,
        )
    # a create that found the profile already made: no new fp id, no event
    log.add(W_TWO, L.fp_requested("training_data", m1, ts1, 1))
    log.add(W_TWO, "create_features_profile :: a features profile already exists")
    log.add(W_TWO, L.disposing_engine())
    log.add(W_TWO, L.fp_requested("features_profiles", m1, ts1, 1))  # an fp page, not a create

    # layers added on a profile's page: the request names the profile and the label
    log.tick(300)
    lay = url(
        fp_view="true",
        timestamp=ts1,
        metric=m1,
        fp_id=1234,
        add_fp_layer="true",
        fp_layer_label="tuesday_pentest",
    )
    request(log, W_TWO, lay, rid=rid_of(lay))
    at = log.add(W_TWO, L.new_layer_id(17))
    log.expect(
        LayersCreated,
        at,
        fp_id=1234,
        layer_id=17,
        metric=m1,
        anomaly_timestamp=ts1,
        label="tuesday_pentest",
    )

    if n >= 3:  # anomalies labelled from the Panorama page (v3.0.4+)
        log.tick(60)
        lab = url(
            "panorama",
            label_anomalies="true",
            start_timestamp=ts1 - 60,
            end_timestamp=ts1 + 60,
            metrics=m1,
            namespaces="stats.web%,carbon",
            label="pentest",
        )
        request(log, W_ONE, lab, rid=rid_of(lab))
        log.add(W_ONE, L.label_list("metrics", [m1]))
        log.add(W_ONE, L.label_list("namespaces", ["stats.web%", "carbon"]))
        at = log.add(W_ONE, L.label_anomalies(ts1 - 60, ts1 + 60, "pentest"))
        log.expect(
            AnomaliesLabelled,
            at,
            start_timestamp=ts1 - 60,
            end_timestamp=ts1 + 60,
            label="pentest",
            metrics=(m1,),
            namespaces=("stats.web%", "carbon"),
        )
        log.add(
            W_ONE,
            "label_anomalies :: 1 of these anomalies were related to the specified "
            "metrics/namespaces",
        )

    # 4. disabled (the fp and its progeny), 5. validated one, then in bulk
    log.tick(300)
    dis = url(fp_view="true", timestamp=ts1, metric=m1, disable_fp=1234)
    request(log, W_ONE, dis, rid=rid_of(dis))
    log.add(W_ONE, L.disable_fp_is_set(1234))
    at = log.add(W_ONE, L.disabling_fp_ids([1234, 1240]))
    log.expect(FeaturesProfileDisabled, at, fp_ids=(1234, 1240), metric=m1, anomaly_timestamp=ts1)
    log.add(W_ONE, L.backend_disabling_fp_ids([1234, 1240]))
    log.add(W_ONE, L.updated_enabled(1234))
    log.add(W_ONE, L.updated_enabled(1240))

    log.tick(60)
    val = url(fp_view="true", fp_id=1251, metric=m1, validate_fp="true")
    request(log, W_TWO, val, rid=rid_of(val))
    log.add(W_TWO, L.validating_fp_ip(1251))
    at = log.add(W_TWO, L.validated_fp_id(1251))
    log.expect(FeaturesProfilesValidated, at, fp_ids=(1251,), metric=m1, validated_count=1)

    log.tick(60)
    bulk = url(
        fp_validate="true",
        metric=m1,
        validated_equals="false",
        limit=0,
        order="DESC",
        validate_all="true",
        metric_id=271,
    )
    request(log, W_ONE, bulk, rid=rid_of(bulk))
    ts3 = ts1 + 90000
    rows = [
        L.validate_row(1251, 271, m1, ts3, 1240, 2),
        L.validate_row(1252, 271, m1, ts3 + 3600, 1251, 3),
    ]
    log.add(W_ONE, L.features_profiles_to_validate(rows))
    log.add(W_TWO, L.features_profiles_to_validate([L.validate_row(1300, 300, m2, ts3, 0, 0)]))
    log.add(W_ONE, L.fps_found_to_validate(2, m1, 271))
    log.add(
        W_ONE,
        "ionoshere_backend.py :: validate_fp validating all enabled and unvalidated "
        "features profiles for metric_id - 271",
    )
    log.add(W_ONE, L.updated_validated_all(271))
    at = log.add(W_ONE, L.validated_all(271))
    log.expect(
        FeaturesProfilesValidated,
        at,
        fp_ids=(1251, 1252),
        metric=m1,
        metric_id=271,
        validated_count=2,
        profiles=(
            ValidatedProfile(
                fp_id=1251, metric=m1, anomaly_timestamp=ts3, parent_fp_id=1240, generation=2
            ),
            ValidatedProfile(
                fp_id=1252, metric=m1, anomaly_timestamp=ts3 + 3600, parent_fp_id=1251, generation=3
            ),
        ),
    )
    log.add(W_ONE, L.features_profiles_to_validate([]))
    log.add(W_ONE, L.fps_found_listing(0, m1))
    log.add(
        W_ONE,
        L.slack_post_message(
            "#skyline",
            None,
            f"*VALIDATED* - 2 features profiles were validated for {m1} via the webapp",
        ),
    )
    return log


# -- ionosphere.log ------------------------------------------------------------------------
def ionosphere_log(v: str) -> Log:
    log = Log(v, "ionosphere")
    m1 = "stats.web01.cpu.user"
    ts1 = epoch(log.now) - 86400
    log.add(I_MAIN, "starting 1 of 1 spin_process/es")
    log.add(
        I_SPIN,
        f"loading metric variables from import - metric_check_file - "
        f"/opt/skyline/ionosphere/check/{ts1}.{m1}.txt",
    )
    log.add(I_SPIN, f"not anomalous - features profile match - {m1}")
    log.add(I_SPIN, L.echo_new_generation(1, 1239, 1234))  # an echo fp: not learnt
    # learn child: one work item not ready yet, then a human parent's first generation
    log.tick()
    log.add(I_LEARN, L.learn_child_pid(I_LEARN))
    log.add(I_LEARN, L.learn_checking(L.learn_work_item("learn_fp_human", ts1 + 60, m1, 1999, 0)))
    log.add(I_LEARN, L.learn_not_ready())
    item = L.learn_work_item("learn_fp_human", ts1, m1, 1234, 0)
    log.add(I_LEARN, L.learn_checking(item))
    log.add(I_LEARN, L.learn_ready(3661))
    log.add(I_LEARN, L.learn_processing("learn_fp_human", m1, item))
    log.add(I_LEARN, "learn :: human generated :: generation limit OK at 1")
    created = epoch(log.tick(10))
    log.add(I_LEARN, L.fp_requested("ionosphere_learn", m1, created, 1))
    log.add(I_SPIN, L.determined_anomaly_timestamp(ts1 - 500))  # an echo fp in another pid
    log.add(I_LEARN, L.determined_anomaly_timestamp(ts1))
    log.add(I_LEARN, L.new_fp_id(1240))
    traceback_record(
        log,
        I_LEARN,
        "warning :: slack_post_reaction :: failed to post reaction "
        "to thread 1.2 - thumbsup - already_reacted",
    )
    at = log.add(I_LEARN, L.learn_new_generation("human generated", 1, 1240, 30, 1234))
    log.expect(
        FeaturesProfileLearnt,
        at,
        fp_id=1240,
        parent_fp_id=1234,
        generation=1,
        metric=m1,
        anomaly_timestamp=ts1,
        learn_days=30,
        job="learn_fp_human",
    )
    invalid_utf8(log, I_LEARN, "learn :: training_data URL -")
    # a later run: an automatically generated generation from the learnt one
    log.tick(3600)
    ts2 = epoch(log.now) - 4000
    item = L.learn_work_item("learn_fp_learnt", ts2, m1, 1240, 1)
    log.add(I_LEARN2, L.learn_checking(item))
    log.add(I_LEARN2, L.learn_processing("learn_fp_learnt", m1, item))
    log.add(I_LEARN2, L.learn_failed("automatically generated"))
    log.add(I_LEARN2, L.learn_checking(item))
    log.add(I_LEARN2, L.learn_processing("learn_fp_learnt", m1, item))
    log.add(I_LEARN2, L.determined_anomaly_timestamp(ts2))
    at = log.add(I_LEARN2, L.learn_new_generation("automatically generated", 2, 1251, 30, 1240))
    log.expect(
        FeaturesProfileLearnt,
        at,
        fp_id=1251,
        parent_fp_id=1240,
        generation=2,
        metric=m1,
        anomaly_timestamp=ts2,
        learn_days=30,
        job="learn_fp_learnt",
    )
    log.add(I_MAIN, "ionosphere :: 1 spin_process/es completed in 1.35 seconds")
    return log


# -- boundary.log --------------------------------------------------------------------------
def boundary_log(v: str) -> Log:
    log = Log(v, "boundary")
    n = num(v)
    restart(log, "boundary")
    log.add(B_RUN, "starting boundary run")
    m1, m2, m3 = "stats.web01.requests", "stats.web02.requests", "stats.web03.requests"

    def sent(
        metric: str,
        value: Any,
        alerter: str,
        algorithm: str,
        trigger: Any = 1000,
        threshold: Any = 3,
        muted: bool = False,
        pid: int = B_RUN,
    ) -> None:
        at = log.add(
            pid, L.boundary_alert_sent(v, metric, value, alerter, algorithm, trigger, threshold)
        )
        log.expect(
            BoundaryAlert,
            at,
            metric=metric,
            alerter=alerter,
            value=str(value),
            algorithm=algorithm,
            trigger=str(trigger) if n >= 3 else None,
            threshold=str(threshold) if n >= 3 else None,
            muted=muted,
        )

    # 'smtp|slack': each alerter's line after trigger_alert returned; syslog's own line
    log.tick()
    for alerter in ("smtp", "slack", "syslog"):
        sent(m1, 1250.0, alerter, "greater_than")
    # not sent: paused, last_alert key (no 'alert sent' line), an alerter that raised
    log.add(B_RUN, L.boundary_alert_paused("slack", m2, epoch(log.now) + 3600))
    log.add(B_RUN, L.boundary_last_alert_exists("slack", m1, "greater_than"))
    traceback_record(log, B_RUN, L.boundary_alert_failed(m2, 3.0, "slack", "less_than"))
    # another process and a value Skyline logged as 1e-05
    sent(m3, 1e-05, "slack", "less_than", 0.5, 1, pid=B_SPIN)
    # the test alert file (boundary.py:1682): trigger_alert(alerter, 1, metric, 10, 1, 'testing')
    log.tick()
    at = log.add(B_RUN, L.boundary_test_alert("slack", m1))
    log.expect(
        BoundaryAlert,
        at,
        metric=m1,
        alerter="slack",
        value="1",
        algorithm="testing",
        trigger="1",
        threshold="0",
        test_alert=True,
    )
    if n >= 5:  # mute_alerts_on (2023-09-13): smtp says so, then 'alert sent' all the same
        log.tick(60)
        log.add(B_RUN, L.boundary_muted("smtp", m2))
        sent(m2, 3.0, "smtp", "less_than", 5, 3, muted=True)
        sent(m2, 3.0, "slack", "less_than", 5, 3, muted=True)
        sent(m1, 1250.0, "slack", "greater_than", pid=B_SPIN)  # another pid: not muted
    # near misses: alert_slack's own line, a bin-script line
    log.add(B_RUN, L.boundary_slack_anomalous(m1, "greater_than"))
    log.add(A_BASH, f"boundary.d :: alert sent :: {m1} - 1.0 - via slack - x 1 1 times")
    invalid_utf8(log, B_RUN, "alert sent ::")
    return log


BUILDERS: dict[str, Callable[[str], Log]] = {
    "analyzer": analyzer_log,
    "mirage": mirage_log,
    "webapp": webapp_log,
    "ionosphere": ionosphere_log,
    "boundary": boundary_log,
}


def corpus() -> dict[str, bytes]:
    """Every file of the corpus: relative path -> content."""
    files: dict[str, bytes] = {}
    for version in L.VERSIONS:
        expected: list[str] = []
        for app in APP_ORDER:
            log = BUILDERS[app](version)
            files[f"{version}/{log.name}"] = bytes(log.data)
            expected += [json.dumps(event.to_dict()) for event in log.events()]
        files[f"{version}/expected.jsonl"] = "".join(x + "\n" for x in expected).encode()
    return files


def main() -> None:
    for rel, content in corpus().items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(content)} bytes)")


if __name__ == "__main__":
    main()
