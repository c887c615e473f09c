"""The alert texts against Skyline's own format strings (earthgecko/skyline HEAD 1baec4a2).

Each expected text is built here the way Skyline builds its ``initial_comment``, from the format
string quoted with its source line, never from the sidecar's output. The one deliberate
difference: the sidecar escapes ``&``, ``<`` and ``>`` of log-derived values and URLs for
mrkdwn (``esc`` below).
"""

# Skyline's texts are built with % from its format strings:
# ruff: noqa: UP031
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from parsers import AnomalyAlert, BoundaryAlert, LogParser
from sidecar.config.options import DEFAULT_GRAPH_SETTINGS, SkylineOptions
from sidecar.slack import render
from sidecar.slack.planner import alert_key
from tests.support import skyline_lines as L

# analyzer/alerters.py:1933-1935, :1929-1931 (graph title)
ANALYZER_TITLE = "*%s %s - ALERT* on %s at %s hours - %s"
ANALYZER_GRAPH_TITLE = "%s %s - ALERT at %s hours - %s"
# mirage/mirage_alerters.py:2040, :2047-2053, :2035 (graph title)
MIRAGE_TITLE = "*%s %s* - %s at %s days - %s"
MIRAGE_LEVEL_SHIFT = "*%s %s - Level shift* on %s at %s days - %s"
MIRAGE_GRAPH_TITLE = "%s %s - %s days - %s"
# boundary/boundary_alerters.py:833-835, :830-832 (graph title)
BOUNDARY_TITLE = "*%s %s - ALERT* %s %s %s times on %s - %s"
BOUNDARY_GRAPH_TITLE = "%s %s - ALERT %s %s %s times - %s"
# analyzer/alerters.py:2001, mirage/mirage_alerters.py:2155 (colorList=%s)
LINK = "%s://%s:%s/%s?from=%s&until=%s&target=cactiStyle(%s,%%27si%%27)%s%s&colorList=%s"
# boundary/boundary_alerters.py:872-945: GRAPHITE_PORT != '' and == ''
BOUNDARY_LINK = (
    "%s://%s:%s/%s/?from=%s&until=%s&target=cactiStyle(%s,%%27si%%27)%s%s&colorList=orange"
)
BOUNDARY_LINK_NO_PORT = (
    "%s://%s/%s/?from=%s&until=%s&target=cactiStyle(%s,%%27si%%27)%s%s&colorList=orange"
)
# analyzer/alerters.py:2211-2213, mirage/mirage_alerters.py:2384-2386
IONOSPHERE_LINK = "%s/%s?timestamp=%s&metric=%s"
# mirage/mirage_alerters.py:2497
QUICK_TRAIN = "&api_train_request=true&add_fp=true&learn=false&label=none&format=json"

URL = "https://skyline.example.com"
HOST = "graphite.example.com"
METRIC = "stats.web01.cpu.user"
TS = 1795698600  # Thu Nov 26 13:10:00 2026 UTC
LOGGED = datetime(2026, 11, 26, 13, 15, 16)


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def opts(**kw: object) -> SkylineOptions:
    base: dict[str, object] = {"url": URL, "graphite_url": f"http://{HOST}:80", "timezone": "UTC"}
    return SkylineOptions(**(base | kw))  # type: ignore[arg-type]


def local(ts: int, zone: str = "UTC") -> datetime:
    """What ``datetime.fromtimestamp(ts)`` gives on a server in ``zone``."""
    return datetime.fromtimestamp(ts, ZoneInfo(zone))


def slack_time(at: datetime) -> str:
    """alerters.py:1973-1978: strftime('%c') (the C locale) + ' ' + strftime('%Z', gmtime())."""
    return "%s %s" % (at.strftime("%c"), "GMT")


def graphite(at: datetime) -> str:
    return at.strftime("%H:%M_%Y%m%d")


def alert(app: str = "analyzer", **kw: object) -> AnomalyAlert:
    base: dict[str, object] = {
        "app": app,
        "logged_at": LOGGED,
        "pid": 1,
        "message": "m",
        "metric": METRIC,
        "anomaly_timestamp": TS,
        "alerter": "slack",
        "value": 87.5,
        "context": "Mirage" if app == "mirage" else "Analyzer",
    }
    if app == "mirage":
        base |= {"full_duration": 604800, "second_order_resolution_seconds": 604800}
    return AnomalyAlert(**(base | kw))  # type: ignore[arg-type]


def analyzer_expected(a: AnomalyAlert, o: SkylineOptions, zone: str = "UTC") -> str:
    """alerters.py:2314: ``slack_title + ' :: <' + link + '|graphite image link>\\n*Ionosphere
    training dir* :: <' + ionosphere_link + '|training data link> :: for anomaly at ' +
    slack_time_string``."""
    hours = int(o.full_duration / 3600)
    title = ANALYZER_TITLE % ("Skyline", "Analyzer", a.metric, hours, str(a.value))
    graph_title = ANALYZER_GRAPH_TITLE % ("Skyline", "Analyzer", hours, str(a.value))
    link = LINK % (
        "http",
        HOST,
        "80",
        "render",
        graphite(local(TS - o.full_duration, zone)),
        graphite(local(TS, zone)),
        a.metric,
        DEFAULT_GRAPH_SETTINGS,
        "&title=" + quote(graph_title, safe=""),
        "orange",
    )
    ionosphere_link = IONOSPHERE_LINK % (URL, "ionosphere", TS, a.metric)
    return (
        esc(title) + " :: <" + esc(link) + "|graphite image link>\n*Ionosphere training dir*"
        " :: <"
        + esc(ionosphere_link)
        + "|training data link> :: for anomaly at "
        + slack_time(local(TS, zone))
    )


def test_analyzer_text_is_skylines() -> None:
    a = alert()
    text = render.alert_text(a, opts(), anomaly_timestamp=TS)
    assert text == analyzer_expected(a, opts())
    # the reference's own example (slack-effects.md section 1.2), escaped for mrkdwn
    assert text.startswith(
        "*Skyline Analyzer - ALERT* on stats.web01.cpu.user at 24 hours - 87.5"
        " :: <http://graphite.example.com:80/render?from=13:10_20261125&amp;"
        "until=13:10_20261126&amp;target=cactiStyle(stats.web01.cpu.user,"
        "%27si%27)&amp;width=588"
    )
    assert text.endswith("|training data link> :: for anomaly at Thu Nov 26 13:10:00 2026 GMT")


def test_times_are_the_servers_local_time_in_the_configured_zone() -> None:
    a, o = alert(), opts(timezone="America/New_York")
    text = render.alert_text(a, o, anomaly_timestamp=TS)
    assert text == analyzer_expected(a, o, zone="America/New_York")
    assert "from=08:10_20261125&amp;until=08:10_20261126" in text
    assert text.endswith("for anomaly at Thu Nov 26 08:10:00 2026 GMT")  # glibc's label


def test_c_time_pads_the_day_like_strftime_c() -> None:
    at = datetime(2026, 12, 5, 9, 3, 7)
    assert render.c_time(at) == at.strftime("%c") == "Sat Dec  5 09:03:07 2026"


def test_analyzer_hours_follow_full_duration() -> None:
    a, o = alert(), opts(full_duration=172800)
    assert render.alert_text(a, o, anomaly_timestamp=TS) == analyzer_expected(a, o)


def mirage_expected(
    a: AnomalyAlert, title: str, graph_title: str, colour: str = "orange", days: int = 7
) -> str:
    """mirage_alerters.py:2479-2499: the title and link, the training dir and the Quick train."""
    seconds = days * 86400
    link = LINK % (
        "http",
        HOST,
        "80",
        "render",
        graphite(local(TS - seconds)),
        graphite(local(TS)),
        a.metric,
        DEFAULT_GRAPH_SETTINGS,
        "&title=" + quote(graph_title, safe=""),
        colour,
    )
    ionosphere_link = IONOSPHERE_LINK % (URL, "ionosphere", TS, a.metric)
    comment = (
        esc(title) + " :: <" + esc(link) + "|graphite image link>\n*Ionosphere training"
        " dir* :: <"
        + esc(ionosphere_link)
        + "|training data link> :: for anomaly at "
        + slack_time(local(TS))
    )
    return (
        comment
        + " :: *Quick train* :: <"
        + esc(ionosphere_link + QUICK_TRAIN)
        + "|quick train link>"
        + " (at "
        + str(days)
        + " day only, no learning)"
    )


def test_mirage_text_is_skylines() -> None:
    a = alert("mirage")
    title = MIRAGE_TITLE % ("Skyline", "Mirage", METRIC, 7, "87.5")
    graph_title = MIRAGE_GRAPH_TITLE % ("Skyline", "Mirage", 7, "87.5")
    text = render.alert_text(a, opts(), anomaly_timestamp=TS)
    assert text == mirage_expected(a, title, graph_title)
    assert text.startswith(
        "*Skyline Mirage* - stats.web01.cpu.user at 7 days - 87.5 :: <http://"
        "graphite.example.com:80/render?from=13:10_20261119&amp;until=13:10_"
    )


@pytest.mark.parametrize(
    ("triggered", "title_fmt", "graph_fmt", "colour"),
    [
        # mirage_alerters.py:2047-2053 level shift
        (("adtk_level_shift",), MIRAGE_LEVEL_SHIFT, "%s", "orange"),
        # :2068-2070 '*SUSTAINED* - %s', graph 'SUSTAINED - %s', colour red (:2125-2132)
        (("mmzrmp",), "*SUSTAINED* - " + MIRAGE_TITLE, "SUSTAINED - %s", "red"),
        # :2063-2065 '*TEST* - %s - *TEST*', graph 'TEST - %s'
        (("testing",), "*TEST* - " + MIRAGE_TITLE + " - *TEST*", "TEST - %s", "orange"),
        (("grubbs", "decreased_percent_with_increasing_pair"), MIRAGE_TITLE, "%s", "red"),
    ],
)
def test_mirage_markers(
    triggered: tuple[str, ...], title_fmt: str, graph_fmt: str, colour: str
) -> None:
    a = alert("mirage", triggered_algorithms=triggered)
    title = title_fmt % ("Skyline", "Mirage", METRIC, 7, "87.5")
    graph_title = graph_fmt % (MIRAGE_GRAPH_TITLE % ("Skyline", "Mirage", 7, "87.5"))
    assert render.alert_text(a, opts(), anomaly_timestamp=TS) == mirage_expected(
        a, title, graph_title, colour
    )


def test_mirage_days_come_from_the_second_order_resolution() -> None:
    a = alert("mirage", second_order_resolution_seconds=None, full_duration=30 * 86400)
    title = MIRAGE_TITLE % ("Skyline", "Mirage", METRIC, 30, "87.5")
    graph_title = MIRAGE_GRAPH_TITLE % ("Skyline", "Mirage", 30, "87.5")
    assert render.alert_text(a, opts(), anomaly_timestamp=TS) == mirage_expected(
        a, title, graph_title, days=30
    )


def test_custom_alert_opts_headings_and_training_dir() -> None:
    custom = (
        ("main_alert_title", "Acme"),
        ("analyzer_alert_heading", "Fast"),
        ("mirage_alert_heading", "Slow"),
        ("ionosphere_alert_heading", "Learnt"),
        ("ionosphere_link_path", "train"),
    )
    o = opts(custom_alert_opts=custom)
    text = render.alert_text(alert(), o, anomaly_timestamp=TS)
    assert text.startswith(ANALYZER_TITLE % ("Acme", "Fast", METRIC, 24, "87.5") + " :: <")
    assert "&amp;title=Acme%20Fast%20-%20ALERT%20at%2024%20hours%20-%2087.5&amp;" in text
    # alerters.py:2316: a custom main title says '*Training dir*'
    training = esc(IONOSPHERE_LINK % (URL, "train", TS, METRIC))
    assert f"\n*Training dir* :: <{training}|training data link> :: for anomaly at " in text
    text = render.alert_text(alert("mirage", context="Ionosphere"), o, anomaly_timestamp=TS)
    assert text.startswith(MIRAGE_TITLE % ("Acme", "Learnt", METRIC, 7, "87.5"))
    # test alerts' lowercase context is printed as it is (analyzer.py:8179)
    text = render.alert_text(alert(context="analyzer"), o, anomaly_timestamp=TS)
    assert text.startswith(ANALYZER_TITLE % ("Acme", "analyzer", METRIC, 24, "87.5"))


def test_ionosphere_disabled_says_for_anomaly_at_and_has_no_quick_train() -> None:
    o = opts(ionosphere_enabled=False)
    for app in ("analyzer", "mirage"):
        text = render.alert_text(alert(app), o, anomaly_timestamp=TS)
        # alerters.py:2328, mirage_alerters.py:2492 (capital F)
        assert text.endswith("|graphite image link>\nFor anomaly at " + slack_time(local(TS)))


def test_without_skyline_url_or_graphite_the_parts_are_left_out() -> None:
    text = render.alert_text(
        alert("mirage"), opts(url=None, graphite_url=None), anomaly_timestamp=TS
    )
    assert text == (
        MIRAGE_TITLE % ("Skyline", "Mirage", METRIC, 7, "87.5")
        + "\nFor anomaly at "
        + slack_time(local(TS))
    )


def test_analyzer_test_alert_from_its_log_line() -> None:
    # analyzer.py:8175: alert = (metric_name, test_alerter, 10, {'test alert': True}),
    # metric = (1, metric_name, int(time()))
    line = L.line(
        LOGGED,
        12345,
        L.slack_anomalous((METRIC, "slack", 10, {"test alert": True}), (1, METRIC, TS)),
    )
    parser = LogParser("analyzer", "analyzer.log")
    [event] = parser.feed(line.encode()) + parser.finish()
    assert isinstance(event, AnomalyAlert) and event.test_alert
    text = render.alert_text(event, opts(), anomaly_timestamp=TS)
    # alerters.py:1958-1960 '*TEST* - %s'; the value is str(1), the int Skyline logged
    assert text.startswith(
        "*TEST* - " + ANALYZER_TITLE % ("Skyline", "Analyzer", METRIC, 24, "1") + " :: <"
    )
    graph_title = "TEST - " + ANALYZER_GRAPH_TITLE % ("Skyline", "Analyzer", 24, "1")
    assert "&amp;title=" + quote(graph_title, safe="") + "&amp;" in text


@pytest.mark.parametrize(
    ("value", "shown"), [(87.5, "87.5"), (100.0, "100.0"), (1e-05, "1e-05"), (None, "unknown")]
)
def test_value_is_str_of_the_logged_float(value: float | None, shown: str) -> None:
    text = render.alert_text(alert(value=value), opts(), anomaly_timestamp=TS)
    assert text.startswith(ANALYZER_TITLE % ("Skyline", "Analyzer", METRIC, 24, shown))


def test_labelled_metrics_link_none_and_their_id() -> None:
    labelled = "labelled_metrics.1234"
    text = render.alert_text(alert(metric=labelled), opts(), anomaly_timestamp=TS)
    # alerters.py:2010-2011 link = 'None'; :2224-2226 metric=<id>
    assert " :: <None|graphite image link>\n" in text
    assert esc(IONOSPHERE_LINK % (URL, "ionosphere", TS, "1234")) + "|training data link>" in text
    text = render.alert_text(alert("mirage", metric=labelled), opts(), anomaly_timestamp=TS)
    # mirage_alerters.py:2397-2399 metric_id=<id>
    assert esc(f"{URL}/ionosphere?timestamp={TS}&metric_id=1234") + "|training data link>" in text


def test_shard_suffix_ends_every_text() -> None:
    o = opts(horizon_shards=(("skyline-1", 0), ("skyline-2", 1)), hostname="skyline-2")
    suffix = " - from " + "skyline-2" + " (shard " + str(1) + ")"  # alerters.py:2332-2333
    assert (
        render.alert_text(alert(), o, anomaly_timestamp=TS)
        == analyzer_expected(alert(), o) + suffix
    )
    assert render.alert_text(alert("mirage"), o, anomaly_timestamp=TS).endswith(
        "no learning)" + suffix
    )
    assert render.boundary_text(boundary(), o).endswith(" GMT" + suffix)
    no_shard = opts(horizon_shards=(("skyline-1", 0),), hostname="elsewhere")
    assert render.alert_text(alert(), no_shard, anomaly_timestamp=TS).endswith(" GMT")


def test_log_derived_values_are_escaped() -> None:
    bad = "stats.<!channel>&x"
    text = render.alert_text(alert(metric=bad), opts(), anomaly_timestamp=TS)
    assert "<!channel>" not in text and "stats.&lt;!channel&gt;&amp;x" in text
    assert text.count("<") == text.count(">") == 2  # the two links only
    text = render.boundary_text(boundary(metric=bad, value="<b>"), opts())
    assert "<!channel>" not in text and "&lt;b&gt;" in text


def test_graphite_metric_names_are_encoded_as_skyline_does() -> None:
    # skyline_functions.py:2872: %2F -> %252F, + -> %2B, %3A -> %253A; and | for Slack
    assert render.encode_graphite_metric_name("a%2Fb+c%3Ad|e") == "a%252Fb%2Bc%253Ad%7Ce"


def boundary(**kw: object) -> BoundaryAlert:
    base: dict[str, object] = {
        "app": "boundary",
        "logged_at": LOGGED,
        "pid": 4242,
        "message": "m",
        "metric": METRIC,
        "alerter": "slack",
        "value": "87.5",
        "algorithm": "greater_than",
        "trigger": "100",
        "threshold": "3",
    }
    return BoundaryAlert(**(base | kw))  # type: ignore[arg-type]


def boundary_expected(
    b: BoundaryAlert, link_fmt: str, host: tuple[str, ...], hours: float, zone: str = "UTC"
) -> str:
    """boundary_alerters.py:1188-1193: ``slack_title + ' :: <' + link + '|graphite image
    link>\\nFor anomaly at ' + slack_time_string``; the time is when Boundary alerted (time(),
    :845), the line's server-local time."""
    algo = b.algorithm.upper()
    title = BOUNDARY_TITLE % (
        "Skyline",
        "Boundary",
        algo,
        b.trigger,
        b.threshold,
        b.metric,
        b.value,
    )
    graph_title = BOUNDARY_GRAPH_TITLE % (
        "Skyline",
        "Boundary",
        algo,
        b.trigger,
        b.threshold,
        b.metric,
    )
    if b.algorithm == "testing":  # :838-840
        title, graph_title = "*TEST* - %s" % title, "TEST - %s" % graph_title
    until = int(b.logged_at.replace(tzinfo=ZoneInfo(zone)).timestamp())
    link = link_fmt % (
        *host,
        "render",
        graphite(local(until - int(hours * 3600), zone)),
        graphite(local(until, zone)),
        b.metric,
        DEFAULT_GRAPH_SETTINGS,
        "&title=" + quote(graph_title, safe=""),
    )
    return (
        esc(title)
        + " :: <"
        + esc(link)
        + "|graphite image link>\nFor anomaly at "
        + slack_time(local(until, zone))
    )


def test_boundary_text_is_skylines() -> None:
    b = boundary()
    text = render.boundary_text(b, opts())
    assert text == boundary_expected(b, BOUNDARY_LINK, ("http", HOST, "80"), 24)
    assert text.startswith(
        "*Skyline Boundary - ALERT* GREATER_THAN 100 3 times on "
        "stats.web01.cpu.user - 87.5 :: <http://graphite.example.com:80/"
        "render/?from=13:15_20261125&amp;until=13:15_20261126&amp;"
    )


def test_boundary_without_graphite_port_and_with_previous_hours() -> None:
    b = boundary()
    o = opts(
        graphite_url=f"http://{HOST}", boundary_graphite_previous_hours=7, timezone="Europe/Berlin"
    )
    assert render.boundary_text(b, o) == boundary_expected(
        b, BOUNDARY_LINK_NO_PORT, ("http", HOST), 7, zone="Europe/Berlin"
    )
    assert "from=06:15_20261126&amp;until=13:15_20261126" in render.boundary_text(b, o)


def test_boundary_test_alert_and_custom_heading() -> None:
    b = boundary(value="1", algorithm="testing", trigger="1", threshold="0", test_alert=True)
    assert render.boundary_text(b, opts()) == boundary_expected(
        b, BOUNDARY_LINK, ("http", HOST, "80"), 24
    )
    o = opts(custom_alert_opts=(("main_alert_title", "Acme"), ("boundary_alert_heading", "Edge")))
    assert render.boundary_text(boundary(), o).startswith(
        BOUNDARY_TITLE % ("Acme", "Edge", "GREATER_THAN", "100", "3", METRIC, "87.5")
    )


def test_boundary_v2_line_gets_v2_title() -> None:
    # v2.0.0:boundary/boundary_alerters.py:594 '*%s %s - ALERT* %s on %s at %s hours - %s'
    # with graphite_previous_hours = full_duration_in_hours = FULL_DURATION / 60 / 60 (24.0)
    text = render.boundary_text(boundary(trigger=None, threshold=None), opts())
    assert text.startswith(
        "*%s %s - ALERT* %s on %s at %s hours - %s"
        % ("Skyline", "Boundary", "GREATER_THAN", METRIC, 86400 / 60 / 60, "87.5")
        + " :: <"
    )
    text = render.boundary_text(
        boundary(trigger=None, threshold=None), opts(boundary_graphite_previous_hours=7)
    )
    assert text.startswith(
        "*%s %s - ALERT* %s on %s at %s hours - %s"
        % ("Skyline", "Boundary", "GREATER_THAN", METRIC, 7, "87.5")
        + " :: <"
    )


def test_analyzer_waterfall_alert() -> None:
    # alerters.py:1954-1955: replace('ALERT', 'WATERFALL ALERT') in the title, 'WATERFALL%20ALERT'
    # in the graph title (quote() then encodes the %); :2320-2322 no training data line
    text = render.alert_text(alert(waterfall=True), opts(), anomaly_timestamp=TS)
    title = (ANALYZER_TITLE % ("Skyline", "Analyzer", METRIC, 24, "87.5")).replace(
        "ALERT", "WATERFALL ALERT"
    )
    graph_title = (ANALYZER_GRAPH_TITLE % ("Skyline", "Analyzer", 24, "87.5")).replace(
        "ALERT", "WATERFALL%20ALERT"
    )
    assert text.startswith(title + " :: <")
    assert "&amp;title=" + quote(graph_title, safe="") + "&amp;" in text
    assert "WATERFALL%2520ALERT" in text
    assert text.endswith(
        "|graphite image link>\nNo training data is available for Analyzer "
        "waterfall alerts :: for anomaly at " + slack_time(local(TS))
    )
    custom = opts(custom_alert_opts=(("main_alert_title", "Acme"),))
    assert "\nNo training data is available for waterfall alerts :: for anomaly at " in (
        render.alert_text(alert(waterfall=True), custom, anomaly_timestamp=TS)
    )


def test_mirage_waterfall_alert_keeps_its_training_link() -> None:
    # mirage_alerters.py:2093-2094: slack_title + ' (*WATERFALL*)', graph title + ' (WATERFALL)'
    a = alert("mirage", waterfall=True)
    title = MIRAGE_TITLE % ("Skyline", "Mirage", METRIC, 7, "87.5") + " (*WATERFALL*)"
    graph_title = MIRAGE_GRAPH_TITLE % ("Skyline", "Mirage", 7, "87.5") + " (WATERFALL)"
    assert render.alert_text(a, opts(), anomaly_timestamp=TS) == mirage_expected(
        a, title, graph_title
    )


def test_an_alert_without_timestamp_is_about_its_lines_server_local_time() -> None:
    # v1 lines carry no anomaly timestamp: the prefix time (server-local) stands in
    a = alert(anomaly_timestamp=None)
    ts = alert_key(a, "America/New_York")[1]
    assert ts == int(LOGGED.replace(tzinfo=ZoneInfo("America/New_York")).timestamp())
    text = render.alert_text(a, opts(timezone="America/New_York"), anomaly_timestamp=ts)
    assert text.endswith("for anomaly at " + render.c_time(LOGGED) + " GMT")
