"""analyzer.log / mirage.log rules: AnomalyAlert and SlackThread, per version, and near misses."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from parsers import AnomalyAlert, LogParser, SlackThread
from parsers.alerts import parse_metric_item, thread_ts_value
from parsers.events import AlertMuted, Event
from tests.support import skyline_lines as L

T = datetime(2026, 11, 26, 13, 15, 16)
M = "stats.web01.cpu.user"
TS = 1795698600
RUN, OTHER = 12345, 12399


def run(app: str, *lines: str, finish: bool = True) -> list[Event]:
    parser = LogParser(app, f"{app}.log")
    events = parser.feed("".join(lines).encode())
    return events + parser.finish() if finish else events


def at(seconds: int, msg: str, pid: int = RUN) -> str:
    return L.line(T + timedelta(seconds=seconds), pid, msg)


def alert_for(version: str, alerter: str, hours: int = 0) -> object:
    return (
        L.alert_tuple("stats", alerter, 3600)
        if version == "v1"
        else L.alert_list("stats", alerter, 3600, hours)
    )


@pytest.mark.parametrize("version", L.VERSIONS)
@pytest.mark.parametrize("app", ["analyzer", "mirage"])
def test_slack_enabled_false_line_is_the_slack_alert(app: str, version: str) -> None:
    metric = (L.analyzer_metric if app == "analyzer" else L.mirage_metric)(version, 87.5, M, TS)
    [event] = run(app, at(0, L.slack_disabled(alert_for(version, "slack"), metric)))
    assert isinstance(event, AnomalyAlert)
    assert (event.metric, event.anomaly_timestamp, event.alerter) == (M, TS, "slack")
    assert event.value == 87.5 and event.alert_namespace == "stats"
    assert event.context == app.capitalize() and event.pid == RUN and event.logged_at == T
    assert event.source is not None and (event.source.path, event.source.line) == (f"{app}.log", 1)
    shaped = version not in ("v1", "v2")
    assert event.triggered_algorithms == (tuple(L.TRIGGERED) if shaped else ())
    assert event.algorithms_run == (tuple(L.ALGORITHMS_RUN) if shaped else ())
    assert event.full_duration == (604800 if shaped and app == "mirage" else None)


@pytest.mark.parametrize("version", ["v2", "v3", "v4", "v5"])
def test_trigger_alert_lines(version: str) -> None:
    metric = L.mirage_metric(version, 2.5, M, TS)
    events = run(
        "mirage",
        at(
            0,
            L.mirage_trigger_alert(
                alert_for(version, "pagerduty", 168), metric, 604800, context="Ionosphere"
            ),
        ),
        at(1, L.mirage_trigger_alert(alert_for(version, "smtp", 168), metric, 604800, smtp=True)),
    )
    assert [(e.alerter, e.context, e.second_order_resolution_seconds) for e in events] == [
        ("pagerduty", "Ionosphere", 604800),
        ("smtp", "Mirage", 604800),
    ]
    metric = L.analyzer_metric(version, 2.5, M, TS)
    events = run("analyzer", at(0, L.analyzer_trigger_alert(alert_for(version, "syslog"), metric)))
    assert [(e.alerter, e.context, e.anomaly_timestamp) for e in events] == [
        ("syslog", "Analyzer", TS)
    ]


def test_one_alert_through_several_lines_has_one_id() -> None:
    alert, metric = L.alert_list("stats", "slack", 3600, 168), L.mirage_metric("v5", 1.0, M, TS)
    lines = [
        at(0, L.mirage_trigger_alert(alert, metric, 604800)),
        at(1, L.slack_disabled(alert, metric)),
        at(2, L.sent_alert("slack", M)),
    ]
    alone = [run("mirage", line) for line in lines[:2]]
    assert alone[0][0].event_id == alone[1][0].event_id
    assert alone[0][0].message != alone[1][0].message
    parser = LogParser("mirage")
    events = parser.feed("".join(lines).encode()) + parser.finish()
    assert [e.event_id for e in events] == [alone[0][0].event_id]
    assert parser.stats.duplicates == 1  # and 'sent slack alert' is no event of its own
    # ... but never merged with another alerter's alert of the same anomaly, nor told its time
    smtp = run("mirage", lines[0], at(3, L.sent_alert("smtp", M)))
    assert [(e.alerter, e.anomaly_timestamp) for e in smtp] == [("slack", TS), ("smtp", None)]


def test_alerter_is_what_the_line_says() -> None:
    # alert_slack is running: it is a slack alert whatever the tuple says
    [event] = run("analyzer", at(0, L.slack_disabled(("stats", "smtp", 3600), [1.0, M, TS])))
    assert event.alerter == "slack"


# -- bare lines: v1 and the analyzer's 'triggering alert' ----------------------------------
def test_v1_smtp_alert_is_released_by_the_next_alert_of_its_pid() -> None:
    lines = [
        at(0, L.added_check("ionosphere", M, TS), pid=OTHER),  # not read in analyzer.log
        at(1, L.triggering_alert("v1", M, 87.5, "smtp")),
        at(2, L.seconds_to_run(1.5)),
    ]
    assert run("analyzer", *lines, finish=False) == []  # held: the run summary is not read
    [event] = run(
        "analyzer", *lines, at(3, L.triggering_alert("v1", "stats.x", 1.0, "smtp")), finish=False
    )
    assert (event.alerter, event.anomaly_timestamp, event.value) == ("smtp", None, 87.5)
    assert event.message.startswith("triggering alert :: ") and event.source.line == 2


def test_mirage_sent_line_is_told_by_its_alerts_detail_line_which_it_lets_go() -> None:
    alert, metric = L.alert_list("stats", "smtp", 3600, 168), L.mirage_metric("v2", 1.0, M, TS)
    detail = at(0, L.mirage_trigger_alert(alert, metric, 604800, smtp=True))
    parser = LogParser("mirage")
    assert len(parser.feed(detail.encode())) == 1
    assert parser.safe_offset == 0  # held: its 'sent' line needs the timestamp it tells
    sent = at(15, L.sent_alert("smtp", M))
    assert parser.feed(sent.encode()) == []  # the same alert: one event
    assert parser.safe_offset == len(detail + sent)  # let go once its alert is sent
    # a v1 smtp alert has no detail line: its time is not known
    [v1] = run(
        "mirage",
        at(0, L.added_check("ionosphere", M, TS), pid=OTHER),
        at(30, L.sent_alert("smtp", M)),
    )
    assert (v1.alerter, v1.anomaly_timestamp, v1.value) == ("smtp", None, None)


def test_bare_alert_without_any_timestamp_is_still_an_alert() -> None:
    [event] = run("analyzer", at(0, L.triggering_alert("v1", M, 87.5, "smtp")))
    assert event.anomaly_timestamp is None and event.alerter == "smtp"
    [twin] = run("analyzer", at(0, L.triggering_alert("v1", M, 87.5, "smtp")))
    assert twin.event_id == event.event_id  # the line itself is the identity


def test_triggering_alert_is_released_by_the_next_one_by_age_or_at_the_end() -> None:
    first = at(0, L.triggering_alert("v1", M, 1.0, "smtp"))
    parser = LogParser("analyzer")
    assert parser.feed(first.encode()) == []
    assert parser.safe_offset == 0 and parser.line_no == 1  # held back: re-read on resume
    [released] = parser.feed(at(1, L.triggering_alert("v1", "stats.other", 2.0, "smtp")).encode())
    assert released.metric == M
    assert parser.safe_offset == len(first)
    # nothing else of that pid for two minutes of log: released
    [aged] = parser.feed(at(200, L.alert_paused("slack", "stats.y", TS), pid=OTHER).encode())
    assert aged.metric == "stats.other"
    assert parser.finish() == []


@pytest.mark.parametrize(
    "cancel",
    [
        L.failed_to_trigger_alert(M, 1.0, "slack"),
        L.alert_paused("slack", M, TS + 3600),
    ],
)
def test_triggering_alert_that_skyline_did_not_send(cancel: str) -> None:
    assert (
        run(
            "analyzer",
            at(0, L.triggering_alert("v5", M, 1.0, "slack")),
            at(1, cancel),
            at(2, L.alerts_checked()),
        )
        == []
    )
    # only the alert it names is cancelled
    events = run("analyzer", at(0, L.triggering_alert("v5", M, 1.0, "smtp")), at(1, cancel))
    assert [e.alerter for e in events] == ["smtp"]


def test_triggering_alert_followed_by_its_detail_line_is_that_event() -> None:
    metric = L.analyzer_metric("v5", 1.0, M, TS)
    events = run(
        "analyzer",
        at(0, L.triggering_alert("v5", M, 1.0, "slack")),
        at(1, L.slack_disabled(L.alert_list("stats", "slack"), metric)),
        at(2, L.analyzer_trigger_alert(L.alert_list("stats", "slack"), metric)),
        at(3, L.triggering_alert_full_duration("stats.mirage.metric", 5.0, "smtp")),
    )
    assert [(e.metric, e.anomaly_timestamp, e.source.line) for e in events] == [
        (M, TS, 2),
        ("stats.mirage.metric", None, 4),
    ]


def test_mirage_sent_line_uses_the_timestamp_its_own_pid_was_told() -> None:
    alert = L.alert_tuple("stats", "slack", 3600, 168)
    events = run(
        "mirage",
        at(0, L.slack_disabled(alert, [1.0, M, TS])),
        at(0, L.slack_disabled(alert, [1.0, M, TS + 60]), pid=OTHER),
        at(1, L.sent_alert("slack", M)),
        at(2, L.sent_alert("slack", M), pid=OTHER),
    )
    assert [(e.pid, e.anomaly_timestamp) for e in events] == [(RUN, TS), (OTHER, TS + 60)]


# -- reprs ---------------------------------------------------------------------------------
def test_nan_inf_and_numpy_reprs() -> None:
    alert = L.alert_list("stats", "slack")
    events = run(
        "analyzer",
        at(0, L.slack_disabled(alert, [math.nan, M, TS, ["grubbs"], ["grubbs"]])),
        at(1, L.slack_disabled(alert, [-math.inf, "stats.b", TS])),
        at(
            2,
            L.slack_disabled(
                alert, f"[np.float64(87.5), 'stats.c', np.int64({TS}), [np.str_('grubbs')], []]"
            ),
        ),
    )
    assert [(e.metric, e.value, e.anomaly_timestamp) for e in events] == [
        (M, None, TS),
        ("stats.b", None, TS),
        ("stats.c", 87.5, TS),
    ]
    assert events[2].triggered_algorithms == ("grubbs",)


@pytest.mark.parametrize(
    "metric",
    [
        "[[[garbage",
        "[1.0, 'm']",
        "[1.0, 'm', 'not a time']",
        "None",
        "[1, 2, 3]",
        "[" * 5000 + "]" * 5000,
        "[1.0, '%s', 1]" % ("m" * 100),
        "__import__('os').system('x')",
        "[1.0, 'm', 10**10**10]",
        "[1.0, 'm', 9" + "9" * 5000 + "]",
    ],
)
def test_unreadable_metric_lists_make_no_event(metric: str) -> None:
    parser = LogParser("analyzer")
    line = at(0, L.slack_disabled(L.alert_list("stats", "slack"), metric))
    events = parser.feed(line.encode()) + parser.finish()
    assert all(e.metric == "m" * 100 for e in events)  # only the odd but valid one
    assert parser.stats.bad_values == (0 if events else 1)


def test_alert_repr_that_is_no_literal_still_names_its_alerter() -> None:
    [event] = run(
        "mirage",
        at(
            0,
            L.slack_disabled(
                "['stats', 'slack', 3600, 168, {'hook': <function f at 0x7f>}]", [1.0, M, TS]
            ),
        ),
    )
    assert (event.alert_namespace, event.alerter) == ("stats", "slack")
    assert parse_metric_item("[nan, 'm', 17, <object>]") is not None  # first items suffice


# -- Skyline's own Slack threads -----------------------------------------------------------
def test_slack_thread_lines_per_version() -> None:
    alert, metric = L.alert_list("stats", "slack"), L.analyzer_metric("v5", 1.0, M, TS)
    thread = "1795698622.123456"
    events = run(
        "analyzer",
        at(0, L.slack_anomalous(alert, metric)),
        at(1, L.sent_slack_message()),
        at(2, L.slack_thread_ts(thread)),
        at(3, L.slack_group_thread_ts("C01", "1795698623.000001", as_bytes=True)),
        at(4, L.panorama_thread_hash(M, TS, thread)),
        at(5, L.panorama_thread_key(M, TS, thread)),
    )
    threads = [e for e in events if isinstance(e, SlackThread)]
    assert [(t.metric, t.anomaly_timestamp, t.thread_ts, t.channel) for t in threads] == [
        (M, TS, thread, None),
        (M, TS, "1795698623.000001", "C01"),
    ]
    # the self-contained lines alone
    [key] = run("mirage", at(0, L.panorama_thread_key("stats.x", TS, "b'1.5'")))
    assert (key.metric, key.anomaly_timestamp, key.thread_ts) == ("stats.x", TS, "1.5")
    [hashed] = run("mirage", at(0, L.panorama_thread_hash("stats.y", TS, "2.5")))
    assert (hashed.metric, hashed.thread_ts) == ("stats.y", "2.5")


def test_thread_ts_without_the_alert_of_its_pid_is_no_event() -> None:
    parser = LogParser("mirage")
    metric = L.mirage_metric("v5", 1.0, M, TS)
    lines = [
        at(0, L.slack_anomalous(L.alert_list("stats", "slack"), metric), pid=OTHER),
        at(1, L.slack_thread_ts("1795698622.123456")),
    ]
    events = parser.feed("".join(lines).encode())
    assert not any(isinstance(e, SlackThread) for e in events)
    assert parser.stats.unattributed == 1
    assert thread_ts_value("0") is None and thread_ts_value("None") is None
    assert thread_ts_value(b"17.5") == "17.5"


# -- muted metrics (mute_alerts_on, v4+) -------------------------------------------------------
@pytest.mark.parametrize("version", ["v4", "v5"])
@pytest.mark.parametrize("app", ["analyzer", "mirage"])
def test_a_metric_muted_in_the_cycle_marks_its_alert(app: str, version: str) -> None:
    metric = L.analyzer_metric if app == "analyzer" else L.mirage_metric
    smtp_child = RUN + 65
    events = run(
        app,
        at(0, L.muted("smtp", M), pid=smtp_child),
        at(1, L.slack_disabled(alert_for(version, "slack"), metric(version, 1.0, M, TS))),
        # minutes later, the mute expired: the next alert is not muted
        at(400, L.slack_disabled(alert_for(version, "slack"), metric(version, 2.0, M, TS + 400))),
    )
    muted_line, first, second = events
    assert isinstance(muted_line, AlertMuted) and muted_line.to_dict()["muted"] is True
    assert (muted_line.metric, muted_line.alerter, muted_line.pid) == (M, "smtp", smtp_child)
    assert isinstance(first, AnomalyAlert) and first.muted and first.to_dict()["muted"] is True
    assert isinstance(second, AnomalyAlert) and not second.muted
    assert "muted" not in second.to_dict()


def test_another_metric_muted_does_not_mark_the_alert() -> None:
    events = run(
        "mirage",
        at(0, L.muted("smtp", M + ".other")),
        at(1, L.slack_disabled(alert_for("v5", "slack"), L.mirage_metric("v5", 1.0, M, TS))),
    )
    assert [type(e) for e in events] == [AlertMuted, AnomalyAlert] and not events[1].muted


@pytest.mark.parametrize("alerter", ["slack", "smtp", "pagerduty", "http", "htpp", "sms"])
def test_every_alerters_muted_line_is_read(alerter: str) -> None:
    [event] = run("mirage", at(0, L.muted(alerter, M)))
    assert isinstance(event, AlertMuted) and (event.metric, event.alerter) == (M, alerter)


def test_skylines_own_slack_logs_muted_after_the_alert_line() -> None:
    alert, metric = L.alert_list("stats", "slack"), L.mirage_metric("v5", 1.0, M, TS)
    events = run("mirage", at(0, L.slack_anomalous(alert, metric)), at(0, L.muted("slack", M)))
    assert isinstance(events[0], AnomalyAlert) and not events[0].muted
    assert isinstance(events[1], AlertMuted) and events[1].anomaly_timestamp == TS


# -- near misses ---------------------------------------------------------------------------
NEAR_MISSES = [
    L.not_anomalous("v5", M, 1.0),
    L.not_anomalous("v1", M, 1.0),
    L.anomaly_detected("v5", M, 1.0),
    L.anomaly_detected("v2", M, 1.0),
    L.alert_key_exists("slack", M),
    L.alert_paused("slack", M, TS),
    L.not_alerting_ionosphere(M),
    L.bot_token_not_configured(),
    L.failed_to_trigger_alert(M, 1.0, "slack"),
    L.negate_alert_sent(M),
    L.could_not_send("slack", M, "boom"),
    L.added_mirage_check(M, 1.0, 168),
    L.trigger_alert_error(L.traceback_text()),
    L.sent_slack_message(),
    L.sent_alert("slack", M),  # ends alert_slack, whose own line is the event
    L.test_trigger_alert(L.alert_list("stats", "slack"), [1.0, M, TS]),
    L.slack_post_message("#skyline", None, "x\n" + L.sent_alert("slack", M)),
    "error :: alert_slack - failed to send slack message",
    f"alert_slack - {M} is muted, not alerting (sic)",
    f"waterfall alerting on {M}",
    "Ionosphere alerts requested emptying ionosphere_unique_metrics so Mirage will alert",
    "resend_queue item :: alert: ['stats', 'http_alerter-x'], metric: [1.0, 'm', 1]",
]


@pytest.mark.parametrize("app", ["analyzer", "mirage"])
def test_near_misses_make_nothing(app: str) -> None:
    lines = [at(i, msg) for i, msg in enumerate(NEAR_MISSES)]
    lines.append(L.bin_line(T, 999, app, L.sent_alert("slack", M)))  # bin script lines
    lines.append(L.traceback_text() + L.sent_alert("slack", M) + "\n")  # continuation lines
    assert run(app, *lines) == []


@pytest.mark.parametrize("app", ["analyzer", "mirage"])
def test_alert_slack_line_holds_until_the_end_of_its_alerter(app: str) -> None:
    alert, metric = L.alert_list("stats", "slack"), [1.0, M, TS]
    lines = [at(0, L.slack_anomalous(alert, metric)), at(5, L.slack_thread_ts("17.5"))]
    end = (
        at(6, L.analyzer_trigger_alert(alert, metric))
        if app == "analyzer"
        else at(6, L.sent_alert("slack", M))
    )
    parser = LogParser(app)
    events = parser.feed("".join(lines).encode())
    assert [e.kind for e in events] == ["anomaly_alert", "slack_thread"]
    assert parser.safe_offset == 0  # a resumed parser must see which alert the thread is of
    assert parser.feed(end.encode()) == []
    assert parser.safe_offset == len("".join([*lines, end]))
    # after it, a thread ts line is no longer tied to that alert
    assert parser.feed(at(7, L.slack_thread_ts("18.5")).encode()) == []
    assert parser.stats.unattributed == 1


def test_waterfall_alerting_line_marks_the_alerts_of_its_key() -> None:
    ts = 1795698600
    item = [
        M,
        ts,
        87.5,
        ts + 5,
        [
            M,
            87.5,
            ts - 86400,
            ts,
            L.ALGORITHMS_RUN,
            L.TRIGGERED,
            "analyzer",
            "analyzer",
            "skyline-1",
            ts + 5,
        ],
    ]
    alert = alert_for("v5", "slack")
    events = run(
        "analyzer",
        at(0, L.waterfall_alerting("analyzer", M, item)),
        at(1, L.slack_disabled(alert, L.analyzer_metric("v5", 87.5, M, ts))),
        at(1, L.slack_disabled(alert, L.analyzer_metric("v5", 87.5, M, ts + 60))),  # other key
        at(2, L.slack_disabled(alert, L.analyzer_metric("v5", 87.5, "stats.other", ts))),
        # the key has expired (300 s): the smtp alert of the same anomaly is no waterfall
        at(
            400,
            L.analyzer_trigger_alert(
                alert_for("v5", "smtp"), L.analyzer_metric("v5", 87.5, M, ts), smtp=True
            ),
        ),
    )
    assert [(e.metric, e.anomaly_timestamp, e.waterfall) for e in events] == [  # type: ignore[attr-defined]
        (M, ts, True),
        (M, ts + 60, False),
        ("stats.other", ts, False),
        (M, ts, False),
    ]
    # mirage.py:4998 names the metric only
    events = run(
        "mirage",
        at(0, L.waterfall_alerting("mirage", M)),
        at(0, f"waterfall alerting for mirage metric check - stats.other at {ts}"),
        at(1, L.slack_disabled(alert_for("v5", "slack", 168), L.mirage_metric("v5", 87.5, M, ts))),
        at(
            1,
            L.slack_disabled(
                alert_for("v5", "slack", 168), L.mirage_metric("v5", 87.5, "stats.other", ts)
            ),
        ),
    )
    assert [e.waterfall for e in events] == [True, False]  # type: ignore[attr-defined]


def test_waterfall_line_holds_safe_offset_while_its_key_lives() -> None:
    parser = LogParser("mirage", "mirage.log")
    parser.feed(at(0, L.waterfall_alerting("mirage", M)).encode())
    assert parser.safe_offset == 0
    parser.feed(at(301, L.sent_alert("smtp", "stats.other")).encode())
    assert parser.safe_offset > 0
