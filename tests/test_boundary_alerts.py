"""Boundary alerts: routing by BOUNDARY_SLACK_OPTS and delivery from boundary.log to Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from parsers import LogParser
from parsers.events import TrainingDataViewed
from sidecar.config.options import load_config
from sidecar.slack.planner import plan_event
from sidecar.slack.routing import route_boundary
from sidecar.state.store import Store
from tests.support import skyline_lines as L
from tests.support.slack_pipeline import deliverer_for, drain, lifecycle, make_config, with_slack

AT = datetime(2026, 11, 26, 13, 15, 16)
METRIC = "stats.web01.cpu.user"


def config_with(tmp_path: Path, table: tuple[tuple[str, tuple[str, ...]], ...]):  # type: ignore[no-untyped-def]
    return with_slack(make_config(tmp_path), boundary_channels=table)


@pytest.mark.parametrize(
    ("table", "metric", "channels"),
    [
        # boundary_alerters.py:1068-1078: every key that re.match()es the metric
        (
            (("stats\\.web", ("#web",)), ("stats", ("#ops",)), ("carbon", ("#x",))),
            METRIC,
            ("#web", "#ops"),
        ),
        # :1065-1067 then :1082-1087: a metric that is a key gets the channels of every key that
        # matched_or_regexed_in_list matches, itself and its substrings among them
        (
            ((METRIC, ("#exact",)), ("web01", ("#web",)), ("carbon", ("#x",))),
            METRIC,
            ("#exact", "#web"),
        ),
        # no regex match: substring, dotted elements, then regex (search) of matched_or_regexed
        ((("cpu.user", ("#cpu",)),), METRIC, ("#cpu",)),
        ((("user.web01", ("#elements",)),), METRIC, ("#elements",)),
        # :1099-1101: nothing matches, no alert (no default channel for Boundary)
        ((("carbon", ("#x",)),), METRIC, ()),
        # an invalid regex key is skipped, the same channel twice is posted once
        (
            (("stats[", ("#bad",)), ("stats", ("#ops", "#web")), ("stats.web01", ("#web",))),
            METRIC,
            ("#ops", "#web"),
        ),
    ],
)
def test_route_boundary_as_skyline(tmp_path: Path, table, metric: str, channels) -> None:  # type: ignore[no-untyped-def]
    assert route_boundary(metric, config_with(tmp_path, table)) == channels


def test_boundary_slack_opts_from_settings_py(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(
        "BOUNDARY_SLACK_OPTS = {\n"
        "    'bot_user_oauth_access_token': 'YOUR_slack_bot_user_oauth_access_token',\n"
        "    'channels': {'skyline': ('#general',), 'stats.web': ('#web', '#ops')},\n"
        "    'icon_emoji': ':chart_with_upwards_trend:',\n}\n"
        "BOUNDARY_SMTP_OPTS = {'graphite_previous_hours': 7}\n"
    )
    toml = tmp_path / "c.toml"
    toml.write_text(f"[skyline]\nsettings_py = '{settings}'\n")
    config = load_config(toml, environ={})
    assert config.slack.boundary_channels == (
        ("skyline", ("#general",)),
        ("stats.web", ("#web", "#ops")),
    )
    assert config.skyline.boundary_graphite_previous_hours == 7
    assert route_boundary("stats.web01.cpu", config) == ("#web", "#ops")
    # [slack.boundary_channels] in the TOML file wins, in its order
    toml.write_text(
        f"[skyline]\nsettings_py = '{settings}'\n"
        "[slack.boundary_channels]\n'stats' = '#b'\n'skyline' = ['#a']\n"
    )
    assert load_config(toml, environ={}).slack.boundary_channels == (
        ("stats", ("#b",)),
        ("skyline", ("#a",)),
    )


def boundary_events(*msgs: str, pid: int = 4242):  # type: ignore[no-untyped-def]
    data = "".join(L.line(AT, pid, m) for m in msgs).encode()
    parser = LogParser("boundary", "/var/log/skyline/boundary.log")
    return parser.feed(data) + parser.finish()


@pytest.fixture
def setup(tmp_path, fake_slack):  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, fake_slack.base_url)
    config = with_slack(config, boundary_channels=(("stats", ("#boundary", "#ops")),))
    config = replace(config, skyline=replace(config.skyline, timezone="UTC"))
    fake_slack.add_channel("#boundary")
    fake_slack.add_channel("#ops")
    store = Store.open(config.state.path)
    yield fake_slack, config, store
    store.close()


def test_boundary_alert_reaches_every_channel_once_unthreaded(setup) -> None:  # type: ignore[no-untyped-def]
    fake, config, store = setup
    events = boundary_events(
        L.boundary_alert_sent("v5", METRIC, 87.5, "smtp", "greater_than"),
        L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than"),
        L.boundary_alert_sent("v5", METRIC, 87.5, "syslog", "greater_than"),
    )
    ts = int(AT.timestamp())
    store.ingest(
        [*events, lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=ts, user="admin")],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    for channel in ("#boundary", "#ops"):
        [message] = fake.messages(channel)
        assert message.text.startswith(
            "*Skyline Boundary - ALERT* GREATER_THAN 100 3 times on stats.web01.cpu.user - 87.5"
            " :: <http://graphite.example.com/render/?from=13:15_20261125"
        )
        assert message.text.endswith("\nFor anomaly at Thu Nov 26 13:15:16 2026 GMT")
        assert fake.replies(channel, message.ts) == []
    assert fake.messages("#skyline") == []  # no default channel for Boundary; the view: no thread
    assert store.thread(METRIC, ts) is None


def test_muted_boundary_alerts_are_not_posted_and_unmatched_ones_are_errors(setup) -> None:  # type: ignore[no-untyped-def]
    fake, config, store = setup
    muted = boundary_events(
        L.boundary_muted("smtp", METRIC),
        L.boundary_alert_sent("v5", METRIC, 87.5, "slack", "greater_than"),
    )
    elsewhere = boundary_events(L.boundary_alert_sent("v5", "carbon.x", 1.0, "slack", "less_than"))
    plans = [plan_event(e, store, config, ingested_at=0.0, now=0.0) for e in (*muted, *elsewhere)]
    assert [p.actions for p in plans] == [(), ()]
    assert "muted" in plans[0].note and plans[0].error is None
    assert "BOUNDARY_SLACK_OPTS" in (plans[1].error or "")  # an error, kept until fixed
    store.ingest([*muted, *elsewhere], None)
    drain(store, config, deliverer_for(store, config))
    assert fake.messages("#boundary") == fake.messages("#ops") == []


def test_boundary_test_alert_is_posted_with_its_marker(setup) -> None:  # type: ignore[no-untyped-def]
    fake, config, store = setup
    store.ingest(boundary_events(L.boundary_test_alert("slack", METRIC)), None)
    drain(store, config, deliverer_for(store, config))
    [message] = fake.messages("#boundary")
    assert message.text.startswith(
        f"*TEST* - *Skyline Boundary - ALERT* TESTING 1 0 times on {METRIC} - 1 :: <"
    )
