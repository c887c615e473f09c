"""Slack texts for events: pure functions, Skyline's own wording.

Every value that comes from a log line is escaped for mrkdwn (``&``, ``<``, ``>``), so a metric
named ``<!channel>`` is shown as text and can never ping anyone; links are built from
percent-encoded values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from parsers.events import (
    AnomalyAlert,
    FeaturesProfileCreated,
    FeaturesProfileLearnt,
    LayersCreated,
    TrainingDataViewed,
)

LABELLED_PREFIX = "labelled_metrics."


def escape(value: object) -> str:
    """mrkdwn escaping, the three characters Slack asks for and nothing else."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """``<url|label>``; the URL's own ``&`` are escaped as Slack expects inside mrkdwn."""
    return f"<{escape(url)}|{escape(label)}>"


def _q(value: object) -> str:
    return quote(str(value), safe=".:_-")


def training_data_url(base_url: str | None, metric: str, anomaly_timestamp: int) -> str | None:
    """Skyline's training data link (mirage_alerters.py:2384-2399): ``metric_id=`` for labelled
    metrics, ``metric=`` otherwise."""
    if not base_url:
        return None
    base = base_url.rstrip("/")
    if metric.startswith(LABELLED_PREFIX):
        metric_id = metric[len(LABELLED_PREFIX):]
        return f"{base}/ionosphere?timestamp={int(anomaly_timestamp)}&metric_id={_q(metric_id)}"
    return f"{base}/ionosphere?timestamp={int(anomaly_timestamp)}&metric={_q(metric)}"


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
    return (f"{base_url.rstrip('/')}/ionosphere?fp_validate=true&metric={_q(metric)}"
            "&validated_equals=false&limit=0&order=DESC")


def graphite_url(base: str | None, metric: str, anomaly_timestamp: int, seconds: int) -> str | None:
    """A Graphite render link over the analysed period, as Skyline's alert graphs show it."""
    if not base or metric.startswith(LABELLED_PREFIX):
        return None

    def fmt(ts: int) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M_%Y%m%d")

    return (f"{base.rstrip('/')}/render/?from={fmt(anomaly_timestamp - seconds)}"
            f"&until={fmt(anomaly_timestamp)}&target={_q(metric)}&tz=UTC")


def anomaly_time(anomaly_timestamp: int) -> str:
    return datetime.fromtimestamp(anomaly_timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def alert_seconds(alert: AnomalyAlert) -> int:
    """The period analysed: Mirage's second order resolution, else the full duration, else 24 h
    (Analyzer's FULL_DURATION default)."""
    return int(alert.second_order_resolution_seconds or alert.full_duration or 86400)


def alert_text(
    alert: AnomalyAlert,
    *,
    skyline_url: str | None,
    graphite: str | None,
    anomaly_timestamp: int,
    title: str = "Skyline",
) -> str:
    """The alert message, in the shape of Skyline's ``initial_comment``:
    ``'*%s %s* - %s at %s days - %s'`` (mirage_alerters.py:2040; labelled metrics 2058) then the
    training data link and the time of the anomaly (mirage_alerters.py:2487)."""
    context = alert.context or alert.app.capitalize()
    seconds = alert_seconds(alert)
    days = seconds // 86400 if seconds >= 86400 else round(seconds / 86400, 2)
    value = "unknown" if alert.value is None else f"{alert.value:g}"
    lines = [f"*{escape(title)} {escape(context)}* - {escape(alert.metric)} at {days} days"
             f" - {escape(value)}"]
    if alert.triggered_algorithms:
        algos = ", ".join(escape(a) for a in alert.triggered_algorithms)
        ran = f" of {len(alert.algorithms_run)}" if alert.algorithms_run else ""
        lines.append(f"*Triggered algorithms* ({len(alert.triggered_algorithms)}{ran}) :: {algos}")
    td = training_data_url(skyline_url, alert.metric, anomaly_timestamp)
    where = f" :: for anomaly at {anomaly_time(anomaly_timestamp)}"
    if td:
        lines.append(f"*Ionosphere training dir* :: {link(td, 'training data link')}{where}")
    else:
        lines.append(f"For anomaly at {anomaly_time(anomaly_timestamp)}")
    g = graphite_url(graphite, alert.metric, anomaly_timestamp, seconds)
    if g:
        lines.append(f"*Graphite* :: {link(g, 'graphite graph link')}")
    return "\n".join(lines)


def viewed_text(event: TrainingDataViewed) -> str:
    """ionosphere_backend.py:8879 ``'The training data page has been reviewed'`` (no viewer:
    Skyline names none)."""
    return "The training data page has been reviewed"


def created_text(event: FeaturesProfileCreated, skyline_url: str | None) -> str:
    """ionosphere_functions.py:1650 and :1653 (with learn), ``via webapp``."""
    url = _link_suffix(fp_url(skyline_url, event.fp_id, event.metric))
    text = (f"*TRAINED - not anomalous* - features profile id {event.fp_id} was created for"
            f" {escape(event.metric)} via webapp{url}")
    if event.learn:
        days = event.learn_days if event.learn_days is not None else 30
        text += f" AND set to *LEARN* at {days} days"
    return text


def layers_text(event: LayersCreated, metric: str | None, skyline_url: str | None) -> str:
    """ionosphere_backend.py:8887 ``'*TRAINED layers* - with label - %s, layers were created on
    features profile id %s for %s - %s'`` (label, or None)."""
    name = escape(metric or "unknown metric")
    return (f"*TRAINED layers* - with label - {escape(event.label)}, layers were created on"
            f" features profile id {event.fp_id} for {name}"
            f"{_link_suffix(fp_url(skyline_url, event.fp_id, metric))}")


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
        return (f"*LEARNING - not anomalous at {days} days* - features profile id {event.fp_id}"
                f" was created using {days} days data for {name} via ionosphere{url}")
    return (f"*LEARNT - not anomalous* - features profile id {event.fp_id} was created for"
            f" {name} via ionosphere{url}")


def learnt_channel_text(event: FeaturesProfileLearnt, metric: str | None,
                        skyline_url: str | None) -> str:
    """ionosphere_functions.py:1863 ``'*Skyline Ionosphere LEARNT* - features profile id %s for
    %s was learnt by %s - %s - *Please validate this* at %s'``."""
    name = escape(metric or "unknown metric")
    text = (f"*Skyline Ionosphere LEARNT* - features profile id {event.fp_id} for {name}"
            f" was learnt by ionosphere{_link_suffix(fp_url(skyline_url, event.fp_id, metric))}")
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
    return (f"*DISABLED* - features profile id {first} and {related} related {noun} were"
            f" disabled for {name} via webapp{_link_suffix(fp_url(skyline_url, first, metric))}")


def validated_text(fp_ids: tuple[int, ...], metric: str | None, *, bulk: bool,
                   count: int | None = None) -> str:
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
