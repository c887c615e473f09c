"""Slack texts for events: pure functions, Skyline's own wording.

Every value that comes from a log line is escaped for mrkdwn (``&``, ``<``, ``>``), so a metric
named ``<!channel>`` is shown as text and can never ping anyone; links are built from
percent-encoded values.

Why one module of this size: every text Skyline posts, each beside the format string and
source line it reproduces, so the whole of Skyline's wording can be read (and checked) in one
place.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from urllib.parse import quote, urlsplit

from parsers.events import (
    AnomalyAlert,
    BoundaryAlert,
    FeaturesProfileCreated,
    FeaturesProfileLearnt,
    LayersCreated,
    TrainingDataViewed,
)
from sidecar.config.logtime import log_epoch, log_zone
from sidecar.config.options import SkylineOptions

LABELLED_PREFIX = "labelled_metrics."


def escape(value: object) -> str:
    """mrkdwn escaping, the three characters Slack asks for and nothing else."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """``<url|label>``; the URL's own ``&`` are escaped as Slack expects inside mrkdwn."""
    return f"<{escape(url)}|{escape(label)}>"


def _q(value: object) -> str:
    return quote(str(value), safe=".:_-")


def fp_url(base_url: str | None, fp_id: int, metric: str | None) -> str | None:
    """ionosphere_functions.py:1641 ``%s/ionosphere?fp_view=true&fp_id=%s&metric=%s``."""
    if not base_url:
        return None
    url = f"{base_url.rstrip('/')}/ionosphere?fp_view=true&fp_id={int(fp_id)}"
    return url + (f"&metric={_q(metric)}" if metric else "")


def validate_url(base_url: str | None, metric: str) -> str | None:
    """ionosphere_functions.py:1856, the *Please validate this* link."""
    if not base_url:
        return None
    return (
        f"{base_url.rstrip('/')}/ionosphere?fp_validate=true&metric={_q(metric)}"
        "&validated_equals=false&limit=0&order=DESC"
    )


# -- alert texts ---------------------------------------------------------------------------
# Skyline HEAD's forms (earthgecko/skyline 1baec4a2), quoted in the docstrings with their source
# lines; see README "The alert text" for what is reproduced and what the logs cannot give.

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Mirage's usual second order resolution (7 days), for alert lines that do not carry it
MIRAGE_DEFAULT_SECONDS = 604800
#: mirage_alerters.py:2497
QUICK_TRAIN = "&api_train_request=true&add_fp=true&learn=false&label=none&format=json"
#: alerters.py:1894-1907, mirage_alerters.py:1976-1995: the contexts CUSTOM_ALERT_OPTS renames
_HEADINGS = {
    "Analyzer": "analyzer_alert_heading",
    "Mirage": "mirage_alert_heading",
    "Ionosphere": "ionosphere_alert_heading",
    "Vortex": "vortex_alert_heading",
}


def c_time(at: datetime) -> str:
    """``strftime('%c')`` in the C locale Skyline runs with (``%a %b %e %H:%M:%S %Y``), e.g.
    ``Thu Nov 26 13:10:00 2026``, whatever the sidecar's own locale."""
    return f"{_DAYS[at.weekday()]} {_MONTHS[at.month - 1]} {at.day:2d} {at:%H:%M:%S} {at.year}"


def server_zone(opts: SkylineOptions) -> tzinfo:
    """The zone of Skyline's server (``[skyline] timezone``, else the machine's)."""
    return log_zone(opts.timezone)


def server_local(ts: float, zone: tzinfo) -> datetime:
    """``datetime.fromtimestamp(ts)`` as Skyline's server computes it: naive local time."""
    return datetime.fromtimestamp(ts, zone).replace(tzinfo=None)


def slack_time_string(at: datetime) -> str:
    """alerters.py:1973-1978 ``'%s %s' % (fromtimestamp(ts).strftime('%c'), strftime('%Z',
    gmtime()))``: the zone label is glibc's ``GMT`` whatever the server's zone (section 9)."""
    return f"{c_time(at)} GMT"


def encode_graphite_metric_name(metric: str) -> str:
    """skyline_functions.py:2872 (``%2F`` -> ``%252F``, ``+`` -> ``%2B``, ``%3A`` -> ``%253A``),
    and ``|``, which would end the Slack link early."""
    return (
        metric.replace("%2F", "%252F")
        .replace("+", "%2B")
        .replace("%3A", "%253A")
        .replace("|", "%7C")
    )


def graphite_link(
    opts: SkylineOptions,
    metric: str,
    start: datetime,
    end: datetime,
    graph_title: str,
    colour: str = "orange",
    *,
    boundary: bool = False,
) -> str | None:
    """Skyline's graph link, None without a Graphite host.

    Analyzer/Mirage (alerters.py:2001, mirage_alerters.py:2155):
    ``'%s://%s:%s/%s?from=%s&until=%s&target=cactiStyle(%s,%%27si%%27)%s%s&colorList=%s'``,
    the port defaulting to 80/443 (skyline_functions.py:2393-2400). Boundary
    (boundary_alerters.py:872-945) puts ``/`` before ``?`` and drops ``:<port>`` when
    GRAPHITE_PORT is ''. ``start``/``end`` are server-local times.
    """
    if not opts.graphite_url:
        return None
    url = urlsplit(opts.graphite_url)
    uri = opts.graphite_render_uri
    if boundary and url.port is None:
        base = f"{url.scheme}://{url.hostname}/{uri}/"
    else:
        port = url.port or (80 if url.scheme == "http" else 443)
        base = f"{url.scheme}://{url.hostname}:{port}/{uri}" + ("/" if boundary else "")
    return (
        f"{base}?from={start:%H:%M_%Y%m%d}&until={end:%H:%M_%Y%m%d}"
        f"&target=cactiStyle({encode_graphite_metric_name(metric)},%27si%27)"
        f"{opts.graphite_graph_settings}&title={quote(graph_title, safe='')}"
        f"&colorList={colour}"
    )


def ionosphere_url(
    opts: SkylineOptions, metric: str, anomaly_timestamp: int, id_param: str = "metric_id"
) -> str | None:
    """``'%s/%s?timestamp=%s&metric=%s'`` (SKYLINE_URL, ionosphere_link_path, ts, metric;
    alerters.py:2211-2213, mirage_alerters.py:2384-2386). A labelled metric is linked by its id:
    ``metric=<id>`` from Analyzer (alerters.py:2224-2226), ``metric_id=<id>`` from Mirage
    (mirage_alerters.py:2397-2399)."""
    if not opts.url:
        return None
    path = dict(opts.custom_alert_opts).get("ionosphere_link_path", "ionosphere")
    base = f"{opts.url.rstrip('/')}/{path}?timestamp={int(anomaly_timestamp)}"
    if metric.startswith(LABELLED_PREFIX):
        return f"{base}&{id_param}={_q(metric[len(LABELLED_PREFIX) :])}"
    return f"{base}&metric={_q(metric)}"


def _main_title(opts: SkylineOptions) -> str:
    return dict(opts.custom_alert_opts).get("main_alert_title", "Skyline")


def _titles(opts: SkylineOptions, context: str) -> tuple[str, str]:
    """(main_alert_title, the app's heading) from CUSTOM_ALERT_OPTS. Test alerts' lowercase
    contexts are no key: they print as they are (section 1.1)."""
    key = _HEADINGS.get(context)
    heading = dict(opts.custom_alert_opts).get(key, context) if key else context
    return _main_title(opts), heading


def _value(value: float | None) -> str:
    """``str(metric[0])``: ``87.5``, ``100.0``, ``1e-05``."""
    return "unknown" if value is None else str(value)


def _shard_suffix(opts: SkylineOptions) -> str:
    """``' - from ' + this_host + ' (shard ' + str(HORIZON_SHARD) + ')'``
    (alerters.py:2332-2333); nothing if this host has no shard (Skyline would not start)."""
    shard = dict(opts.horizon_shards).get(opts.hostname or "")
    if not opts.horizon_shards or shard is None:
        return ""
    return f" - from {escape(opts.hostname)} (shard {shard})"


def _graph_part(url: str | None) -> str:
    """``' :: <' + link + '|graphite image link>'``; nothing without a Graphite host."""
    return f" :: {link(url, 'graphite image link')}" if url else ""


def _training_part(opts: SkylineOptions, url: str | None, when: str, main: str) -> str:
    """alerters.py:2314-2328, mirage_alerters.py:2479-2492."""
    if opts.ionosphere_enabled and url:
        label = "*Ionosphere training dir*" if main == "Skyline" else "*Training dir*"
        return f"\n{label} :: {link(url, 'training data link')} :: for anomaly at {when}"
    return f"\nFor anomaly at {when}"


def alert_seconds(alert: AnomalyAlert, opts: SkylineOptions) -> int:
    """The period an alert's graph shows: Mirage's second order resolution, Analyzer's
    FULL_DURATION."""
    if alert.app == "mirage":
        return int(
            alert.second_order_resolution_seconds or alert.full_duration or MIRAGE_DEFAULT_SECONDS
        )
    return int(opts.full_duration)


def alert_text(alert: AnomalyAlert, opts: SkylineOptions, *, anomaly_timestamp: int) -> str:
    """Skyline's ``initial_comment`` of an Analyzer or Mirage alert (the upload's comment)."""
    if alert.app == "mirage":
        return _mirage_text(alert, opts, anomaly_timestamp)
    return _analyzer_text(alert, opts, anomaly_timestamp)


def alert_graph_url(
    alert: AnomalyAlert, opts: SkylineOptions, *, anomaly_timestamp: int
) -> str | None:
    """The Graphite render URL of an alert's graph link (None for labelled metrics)."""
    if alert.metric.startswith(LABELLED_PREFIX):
        return None
    if alert.app == "mirage":
        _, graph_title, colour = _mirage_titles(alert, opts)
    else:
        _, graph_title = _analyzer_titles(alert, opts)
        colour = "orange"
    return _window_link(alert, opts, anomaly_timestamp, graph_title, colour)


def _window_link(
    alert: AnomalyAlert, opts: SkylineOptions, ts: int, graph_title: str, colour: str
) -> str | None:
    zone = server_zone(opts)
    start = server_local(ts - alert_seconds(alert, opts), zone)
    return graphite_link(opts, alert.metric, start, server_local(ts, zone), graph_title, colour)


def _analyzer_titles(alert: AnomalyAlert, opts: SkylineOptions) -> tuple[str, str]:
    """alerters.py:1933-1935 ``'*%s %s - ALERT* on %s at %s hours - %s'``, graph title
    ``'%s %s - ALERT at %s hours - %s'`` (1929-1931); WATERFALL (1954-1955); TEST
    (1958-1960)."""
    main, heading = _titles(opts, alert.context or "Analyzer")
    hours, value = int(opts.full_duration / 3600), _value(alert.value)
    title = f"*{main} {heading} - ALERT* on {alert.metric} at {hours} hours - {value}"
    graph_title = f"{main} {heading} - ALERT at {hours} hours - {value}"
    if alert.waterfall:
        # every 'ALERT', and a literal %20 that quote() encodes again (section 9 item 7)
        title = title.replace("ALERT", "WATERFALL ALERT")
        graph_title = graph_title.replace("ALERT", "WATERFALL%20ALERT")
    if alert.test_alert:
        title, graph_title = f"*TEST* - {title}", f"TEST - {graph_title}"
    return title, graph_title


def _analyzer_text(alert: AnomalyAlert, opts: SkylineOptions, ts: int) -> str:
    title, graph_title = _analyzer_titles(alert, opts)
    labelled = alert.metric.startswith(LABELLED_PREFIX)
    # a labelled metric's link is the string 'None' (alerters.py:2010-2011)
    url = "None" if labelled else _window_link(alert, opts, ts, graph_title, "orange")
    when = slack_time_string(server_local(ts, server_zone(opts)))
    main = _main_title(opts)
    training = ionosphere_url(opts, alert.metric, ts, id_param="metric")
    if alert.waterfall and opts.ionosphere_enabled:
        # alerters.py:2318-2324: no training data for Analyzer's waterfall alerts
        which = "Analyzer waterfall" if main == "Skyline" else "waterfall"
        part = f"\nNo training data is available for {which} alerts :: for anomaly at {when}"
    else:
        part = _training_part(opts, training, when, main)
    return escape(title) + _graph_part(url) + part + _shard_suffix(opts)


def _mirage_titles(alert: AnomalyAlert, opts: SkylineOptions) -> tuple[str, str, str]:
    """(title, graph title, colour). mirage_alerters.py:2040 ``'*%s %s* - %s at %s days - %s'``;
    level shift ``'*%s %s - Level shift* on %s at %s days - %s'`` (2047-2053); TEST
    ``'*TEST* - %s - *TEST*'`` (2063-2065); SUSTAINED ``'*SUSTAINED* - %s'`` (2068-2070);
    WATERFALL ``' (*WATERFALL*)'`` (2093-2094); graph
    title ``'%s %s - %s days - %s'`` (2035); red for mmzrmp and
    decreased_percent_with_increasing_pair (2125-2132)."""
    main, heading = _titles(opts, alert.context or "Mirage")
    days = int(int(alert_seconds(alert, opts) / 3600) / 24)
    value, triggered = _value(alert.value), alert.triggered_algorithms
    if "adtk_level_shift" in triggered:
        title = f"*{main} {heading} - Level shift* on {alert.metric} at {days} days - {value}"
    else:
        title = f"*{main} {heading}* - {alert.metric} at {days} days - {value}"
    graph_title = f"{main} {heading} - {days} days - {value}"
    if tuple(triggered) == ("testing",):
        title, graph_title = f"*TEST* - {title} - *TEST*", f"TEST - {graph_title}"
    if "mmzrmp" in triggered:
        title, graph_title = f"*SUSTAINED* - {title}", f"SUSTAINED - {graph_title}"
    if alert.waterfall:  # 2080-2094
        title, graph_title = f"{title} (*WATERFALL*)", f"{graph_title} (WATERFALL)"
    red = "mmzrmp" in triggered or "decreased_percent_with_increasing_pair" in triggered
    return title, graph_title, "red" if red else "orange"


def _mirage_text(alert: AnomalyAlert, opts: SkylineOptions, ts: int) -> str:
    title, graph_title, colour = _mirage_titles(alert, opts)
    labelled = alert.metric.startswith(LABELLED_PREFIX)
    url = "None" if labelled else _window_link(alert, opts, ts, graph_title, colour)
    when = slack_time_string(server_local(ts, server_zone(opts)))
    main = _main_title(opts)
    training = ionosphere_url(opts, alert.metric, ts, id_param="metric_id")
    text = escape(title) + _graph_part(url) + _training_part(opts, training, when, main)
    if opts.ionosphere_enabled and training:
        # mirage_alerters.py:2496-2499 (HEAD, 2024-01-05)
        days = int(int(alert_seconds(alert, opts) / 3600) / 24)
        text += (
            f" :: *Quick train* :: {link(training + QUICK_TRAIN, 'quick train link')}"
            f" (at {days} day only, no learning)"
        )
    return text + _shard_suffix(opts)


def boundary_hours(opts: SkylineOptions) -> float:
    """BOUNDARY_SMTP_OPTS['graphite_previous_hours'], else FULL_DURATION in hours
    (boundary_alerters.py:136-145)."""
    return opts.boundary_graphite_previous_hours or opts.full_duration / 60 / 60


def _boundary_titles(alert: BoundaryAlert, opts: SkylineOptions) -> tuple[str, str]:
    """boundary_alerters.py:833-835 ``'*%s %s - ALERT* %s %s %s times on %s - %s'`` and graph
    title ``'%s %s - ALERT %s %s %s times - %s'`` (830-832); TEST for algorithm 'testing'
    (838-840). v1/v2 lines carry no trigger and threshold: v2.0.0's
    ``'*%s %s - ALERT* %s on %s at %s hours - %s'`` (v2.0.0:boundary_alerters.py:594)."""
    main = _main_title(opts)
    heading = dict(opts.custom_alert_opts).get("boundary_alert_heading", "Boundary")
    algo = alert.algorithm.upper()
    if alert.trigger is None or alert.threshold is None:
        hours = boundary_hours(opts)  # str(): 24.0 from FULL_DURATION / 60 / 60
        title = (
            f"*{main} {heading} - ALERT* {algo} on {alert.metric} at {hours} hours - {alert.value}"
        )
        graph_title = f"{main} {heading} - ALERT {algo} at {hours} hours - {alert.metric}"
    else:
        times = f"{algo} {alert.trigger} {alert.threshold} times"
        title = f"*{main} {heading} - ALERT* {times} on {alert.metric} - {alert.value}"
        graph_title = f"{main} {heading} - ALERT {times} - {alert.metric}"
    if alert.algorithm == "testing":
        title, graph_title = f"*TEST* - {title}", f"TEST - {graph_title}"
    return title, graph_title


def boundary_graph_url(alert: BoundaryAlert, opts: SkylineOptions) -> str | None:
    """Boundary's graph link: ``graphite_previous_hours`` up to the time it alerted, which is the
    line's time (``until_timestamp = int(time())``, boundary_alerters.py:845-849)."""
    zone = server_zone(opts)
    until = log_epoch(alert.logged_at, zone)
    start = server_local(until - int(boundary_hours(opts) * 60 * 60), zone)
    return graphite_link(
        opts, alert.metric, start, alert.logged_at, _boundary_titles(alert, opts)[1], boundary=True
    )


def boundary_text(alert: BoundaryAlert, opts: SkylineOptions) -> str:
    """``slack_title + ' :: <' + link + '|graphite image link>\\nFor anomaly at ' +
    slack_time_string`` then the shard suffix (boundary_alerters.py:1188-1193); the time is
    when Boundary alerted. Boundary never adds a training link."""
    title = _boundary_titles(alert, opts)[0]
    when = slack_time_string(alert.logged_at)
    return (
        escape(title)
        + _graph_part(boundary_graph_url(alert, opts))
        + f"\nFor anomaly at {when}"
        + _shard_suffix(opts)
    )


def viewed_text(event: TrainingDataViewed) -> str:
    """ionosphere_backend.py:8879 ``'The training data page has been reviewed'`` (no viewer:
    Skyline names none)."""
    return "The training data page has been reviewed"


def created_text(event: FeaturesProfileCreated, skyline_url: str | None) -> str:
    """ionosphere_functions.py:1650 and :1653 (with learn), ``via webapp``."""
    url = _link_suffix(fp_url(skyline_url, event.fp_id, event.metric))
    text = (
        f"*TRAINED - not anomalous* - features profile id {event.fp_id} was created for"
        f" {escape(event.metric)} via webapp{url}"
    )
    if event.learn:
        days = event.learn_days if event.learn_days is not None else 30
        text += f" AND set to *LEARN* at {days} days"
    return text


def layers_text(event: LayersCreated, metric: str | None, skyline_url: str | None) -> str:
    """ionosphere_backend.py:8887 ``'*TRAINED layers* - with label - %s, layers were created on
    features profile id %s for %s - %s'`` (label, or None)."""
    name = escape(metric or "unknown metric")
    return (
        f"*TRAINED layers* - with label - {escape(event.label)}, layers were created on"
        f" features profile id {event.fp_id} for {name}"
        f"{_link_suffix(fp_url(skyline_url, event.fp_id, metric))}"
    )


def labelled_text(label: str) -> str:
    """ionosphere_backend.py:9428 ``'*LABELLED* - %s'``."""
    return f"*LABELLED* - {escape(label)}"


def learnt_automatically(event: FeaturesProfileLearnt) -> bool:
    """Not ``learn_fp_human``: Skyline words it LEARNT and asks the channel to validate it
    (learn.py:1816-1828); a v1 work item without a job counts by its generation."""
    if event.job is not None:
        return event.job != "learn_fp_human"
    return event.generation > 1


def learnt_text(event: FeaturesProfileLearnt, metric: str | None, skyline_url: str | None) -> str:
    """ionosphere_functions.py:1662 (``learn_fp_human``) and :1659 (automatic)."""
    name = escape(metric or "unknown metric")
    url = _link_suffix(fp_url(skyline_url, event.fp_id, metric))
    if not learnt_automatically(event):
        days = event.learn_days if event.learn_days is not None else 30
        return (
            f"*LEARNING - not anomalous at {days} days* - features profile id {event.fp_id}"
            f" was created using {days} days data for {name} via ionosphere{url}"
        )
    return (
        f"*LEARNT - not anomalous* - features profile id {event.fp_id} was created for"
        f" {name} via ionosphere{url}"
    )


def learnt_channel_text(
    event: FeaturesProfileLearnt, metric: str | None, skyline_url: str | None
) -> str:
    """ionosphere_functions.py:1863 ``'*Skyline Ionosphere LEARNT* - features profile id %s for
    %s was learnt by %s - %s - *Please validate this* at %s'``."""
    name = escape(metric or "unknown metric")
    text = (
        f"*Skyline Ionosphere LEARNT* - features profile id {event.fp_id} for {name}"
        f" was learnt by ionosphere{_link_suffix(fp_url(skyline_url, event.fp_id, metric))}"
    )
    v = validate_url(skyline_url, metric) if metric else None
    return text + (f" - *Please validate this* at {escape(v)}" if v else "")


def disabled_text(fp_ids: tuple[int, ...], metric: str | None, skyline_url: str | None) -> str:
    """ionosphere_backend.py:5827 ``'*DISABLED* - features profile id %s and %s related layers
    were disabled for %s via %s - %s'`` says it once per profile of the family; the sidecar
    says it once per disable action, counting the related profiles (the log has no layer
    count)."""
    first, related = fp_ids[0], len(fp_ids) - 1
    name = escape(metric or "unknown metric")
    noun = "features profile" if related == 1 else "features profiles"
    return (
        f"*DISABLED* - features profile id {first} and {related} related {noun} were"
        f" disabled for {name} via webapp{_link_suffix(fp_url(skyline_url, first, metric))}"
    )


def validated_text(
    fp_ids: tuple[int, ...], metric: str | None, *, bulk: bool, count: int | None = None
) -> str:
    """ionosphere_backend.py:8634 ``'*VALIDATED* - %s features profiles were validated for %s
    via the webapp'`` for the bulk page; a single validation (which Skyline does not post, and
    the sidecar only with ``message_on_single_validated_features_profile``) names its profile."""
    name = escape(metric or "unknown metric")
    if not bulk:
        ids = ", ".join(map(str, fp_ids))
        noun = "features profile id" if len(fp_ids) == 1 else "features profile ids"
        return f"*VALIDATED* - {noun} {ids} was validated for {name} via the webapp"
    n = count if count is not None else len(fp_ids)
    return f"*VALIDATED* - {n} features profiles were validated for {name} via the webapp"


def _link_suffix(url: str | None) -> str:
    """`` - <fp_link>``: Skyline writes the bare URL (Slack links it); none without SKYLINE_URL."""
    return f" - {escape(url)}" if url else ""
