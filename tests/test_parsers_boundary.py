"""boundary.log: Boundary's alerts, from lines built with Skyline's own format strings."""

# Skyline's lines are rendered with % from its format strings:
# ruff: noqa: UP031

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from parsers import BoundaryAlert, LogParser
from parsers.events import Event, event_from_dict
from sidecar.tail.names import app_from_path
from tests.support import skyline_lines as L

T0 = datetime(2026, 11, 26, 13, 15, 16)
PID = 4242
METRIC = "stats.web01.cpu.user"


def at(seconds: int, msg: str, pid: int = PID) -> str:
    return L.line(T0 + timedelta(seconds=seconds), pid, msg)


def run(*lines: str) -> list[Event]:
    parser = LogParser("boundary", "boundary.log")
    return parser.feed("".join(lines).encode()) + parser.finish()


def test_boundary_log_is_a_followed_app() -> None:
    assert app_from_path("/var/log/skyline/boundary.log.2026-11-25") == "boundary"


@pytest.mark.parametrize("version", ["v3", "v4", "v5"])
def test_alert_sent_line_is_the_alert(version: str) -> None:
    [event] = run(at(0, L.boundary_alert_sent(version, METRIC, 87.5, "slack", "greater_than")))
    assert isinstance(event, BoundaryAlert)
    assert (
        event.metric,
        event.alerter,
        event.value,
        event.algorithm,
        event.trigger,
        event.threshold,
        event.muted,
        event.test_alert,
    ) == (METRIC, "slack", "87.5", "greater_than", "100", "3", False, False)
    assert event.logged_at == T0
    assert event_from_dict(event.to_dict()) == event


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_old_lines_carry_no_trigger_or_threshold(version: str) -> None:
    [event] = run(at(0, L.boundary_alert_sent(version, METRIC, 87.5, "slack", "less_than")))
    assert (event.algorithm, event.trigger, event.threshold) == ("less_than", None, None)


def test_value_is_the_text_skyline_logged() -> None:
    [event] = run(at(0, L.boundary_alert_sent("v5", METRIC, 1e-05, "slack", "less_than", 0.5, 1)))
    assert (event.value, event.trigger) == ("1e-05", "0.5")


def test_every_alerter_has_its_own_event_and_syslog_is_not_slack() -> None:
    events = run(
        at(0, L.boundary_alert_sent("v5", METRIC, 87.5, "smtp", "greater_than")),
        at(0, L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than")),
        at(0, L.boundary_alert_sent("v5", METRIC, 87.5, "syslog", "greater_than")),
    )
    assert [e.alerter for e in events] == ["smtp", "slack", "syslog"]
    assert len({e.event_id for e in events}) == 3


def test_paused_and_last_alert_lines_are_no_alert() -> None:
    assert (
        run(
            at(0, L.boundary_alert_paused("slack", METRIC, 1795702200)),
            at(1, L.boundary_last_alert_exists("slack", METRIC, "greater_than")),
            at(
                2,
                "%s key exists, but %s does not - not alerting"
                % (f"panorama.last_check.boundary.{METRIC}", "last_alert.boundary.slack.x.y"),
            ),
            at(3, "error :: alert failed :: %s - %s - via %s - %s" % (METRIC, 87.5, "slack", "x")),
        )
        == []
    )


def test_test_alert_line_is_a_testing_alert() -> None:
    [event] = run(at(0, L.boundary_test_alert("slack", METRIC)))
    # trigger_alert(test_alerter, 1, metric_name, 10, 1, 'testing', int(time()), 0)
    assert (event.value, event.algorithm, event.trigger, event.threshold, event.test_alert) == (
        "1",
        "testing",
        "1",
        "0",
        True,
    )


def test_muted_line_marks_the_alerts_of_its_pid_and_metric() -> None:
    events = run(
        at(0, L.boundary_muted("smtp", METRIC)),
        at(1, L.boundary_alert_sent("v5", METRIC, 87.5, "smtp", "greater_than")),
        at(2, L.boundary_alert_sent("v5", "stats.other", 1.0, "slack", "greater_than")),
        at(2, L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than"), pid=PID + 1),
        at(3, L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than")),
        # a later cycle, long after: the mute line spoke for its own dispatch only
        at(600, L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "less_than")),
    )
    assert [(e.metric, e.alerter, e.pid, e.muted) for e in events] == [
        (METRIC, "smtp", PID, True),
        ("stats.other", "slack", PID, False),
        (METRIC, "slack", PID + 1, False),
        (METRIC, "slack", PID, True),
        (METRIC, "slack", PID, False),
    ]


def test_a_parser_resumed_at_safe_offset_still_knows_the_mute() -> None:
    data = (
        at(0, L.boundary_muted("slack", METRIC))
        + at(1, L.boundary_alert_sent("v5", "stats.other", 1.0, "slack", "greater_than"))
        + at(2, L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than"))
    ).encode()
    first_two = data[: data.index(b"\n", data.index(b"\n") + 1) + 1]
    parser = LogParser("boundary", "boundary.log")
    parser.feed(first_two)
    assert parser.safe_offset == 0  # the mute line is held
    resumed = LogParser("boundary", "boundary.log", offset=parser.safe_offset)
    events = resumed.feed(data[parser.safe_offset :]) + resumed.finish()
    assert [(e.metric, e.muted) for e in events] == [("stats.other", False), (METRIC, True)]


def test_near_misses_make_nothing() -> None:
    assert (
        run(
            at(0, "alert sent :: %s - %s - via %s" % (METRIC, 87.5, "slack")),
            at(1, "boundary.d :: alert sent :: x - 1 - via slack - y 1 1 times"),
            at(2, "alert_slack - anomalous metric :: metric: %s - %s" % (METRIC, "greater_than")),
            at(3, "alert_smtp - no_email is set in BOUNDARY_SMTP_OPTS, not executing SMTP command"),
        )
        == []
    )
