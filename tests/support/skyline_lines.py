"""Skyline log lines built from Skyline's own format strings, per version.

Each builder returns a message (the text after the prefix) rendered with ``%`` from the format
string it quotes, so logs made from these builders look exactly like Skyline's. ``line()`` adds
the prefix. Sources: github earthgecko/skyline; "v5" is HEAD 1baec4a2 (v5.0.0-alpha) and the line
numbers are HEAD's unless a tag is named. Reference tags per version:

    v1 = v1.3.1   v2 = v2.0.0   v3 = v3.0.4   v4 = v4.0.0   v5 = HEAD

Builders take ``version`` only where the wording or a repr's shape differs between versions.
"""

# Builders render with % from the quoted format strings, exactly as Skyline does:
# ruff: noqa: UP031
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

VERSIONS = ("v1", "v2", "v3", "v4", "v5")

TRIGGERED = [
    "histogram_bins",
    "first_hour_average",
    "stddev_from_average",
    "grubbs",
    "ks_test",
    "median_absolute_deviation",
    "stddev_from_moving_average",
]
ALGORITHMS_RUN = [
    "histogram_bins",
    "first_hour_average",
    "stddev_from_average",
    "grubbs",
    "ks_test",
    "mean_subtraction_cumulation",
    "median_absolute_deviation",
    "stddev_from_moving_average",
    "least_squares",
]
MATCHED_BY_V2 = {
    "absolute_match": False,
    "matched_in_namespace": True,
    "matched_namespace": "stats",
    "matched_in_elements": False,
    "matched_in_namespace_elements": None,
    "matched_by_regex": False,
    "matched_regex": None,
}


def _v(version: str) -> int:
    if version not in VERSIONS:
        raise ValueError(f"unknown version {version!r}")
    return int(version[1])


# -- the prefix and other line shapes ------------------------------------------------------
def line(ts: datetime, pid: int, msg: str) -> str:
    """A whole line: Skyline's formatter, skyline/analyzer/agent.py:103 (all versions):
    ``"%(asctime)s :: %(process)s :: %(message)s"``, ``datefmt="%Y-%m-%d %H:%M:%S"``."""
    return "%s :: %s :: %s\n" % (ts.strftime("%Y-%m-%d %H:%M:%S"), pid, msg)


def bin_line(ts: datetime, pid: int, app: str, msg: str) -> str:
    """bin/<app>.d's own lines, bin/analyzer.d:238:
    ``echo "$(date +"%Y-%m-%d %H:%M:%S") :: $PID :: ${SERVICE_NAME}.d :: log management done"``."""
    return line(ts, pid, "%s.d :: %s" % (app, msg))


def gunicorn_line(ts: datetime, pid: int, level: str, msg: str) -> str:
    """gunicorn's errorlog in webapp.log (skyline/webapp/gunicorn.py:114), its own format."""
    return "[%s +0000] [%s] [%s] %s\n" % (ts.strftime("%Y-%m-%d %H:%M:%S"), pid, level, msg)


def traceback_text(error: str = "KeyError: 'slack'", chained: bool = True) -> str:
    """``logger.error(traceback.format_exc())``: the text ends with a newline, so the record ends
    with an empty line; a chained exception has a blank line inside (catalogue §6)."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/skyline/github/skyline/skyline/mirage/mirage_alerters.py", line 2662, '
        "in alert_slack\n"
        "    slack_file_upload = sc.files_upload_v2(\n"
        "                        ^^^^^^^^^^^^^^^^^^^\n"
        f"{error}\n"
    )
    if chained:
        text += (
            "\nDuring handling of the above exception, another exception occurred:\n\n"
            "Traceback (most recent call last):\n"
            '  File "/opt/skyline/github/skyline/skyline/analyzer/analyzer.py", line 7863, in run\n'
            "    trigger_alert(alert, metric, context)\n"
            f"{error}\n"
        )
    return text


# -- reprs ---------------------------------------------------------------------------------
def alert_tuple(
    namespace: str, alerter: str, expiration: int = 3600, hours: int | None = None
) -> tuple[Any, ...]:
    """A settings.ALERTS tuple (all versions; the only form in v1)."""
    return (
        (namespace, alerter, expiration)
        if hours is None
        else (namespace, alerter, expiration, hours)
    )


def alert_list(
    namespace: str,
    alerter: str,
    expiration: int = 3600,
    hours: int = 0,
    alert_id: str = "internal-2",
    extra: Sequence[Any] = (),
) -> list[Any]:
    """An alert from get_external_alert_configs (v2.0.0+): [ns, alerter, expiry, hours, {config}]
    + extra items such as ['anomaly_id', 98765] (analyzer.py:7859, mirage.py:5838)."""
    config = {
        "id": alert_id,
        "alerter": alerter,
        "namespace": namespace,
        "expiration": expiration,
        "second_order_resolution": hours * 3600,
        "inactive_after": 7200,
        "type": "internal",
    }
    return [namespace, alerter, expiration, hours, config, *extra]


def analyzer_metric(
    version: str,
    value: float,
    metric: str,
    ts: int,
    triggered: Sequence[str] = TRIGGERED,
    run: Sequence[str] = ALGORITHMS_RUN,
) -> list[Any]:
    """The analyzer's anomalous metric list (catalogue §9): [value, base_name, ts] to v2.0.0,
    + [triggered_algorithms, algorithms_run] from v3.0.0."""
    if _v(version) <= 2:
        return [value, metric, ts]
    return [value, metric, ts, list(triggered), list(run)]


def mirage_metric(
    version: str,
    value: float,
    metric: str,
    ts: int,
    seconds: int = 604800,
    triggered: Sequence[str] = TRIGGERED,
    run: Sequence[str] = ALGORITHMS_RUN,
    custom_algorithm_only: Any = None,
) -> list[Any]:
    """Mirage's anomalous metric list (catalogue §9): [value, base_name, ts] to v2.0.0; 6 items
    [.., seconds, triggered, run] in v3/v4; v5 adds custom_algorithm_only (mirage.py:2631)."""
    if _v(version) <= 2:
        return [value, metric, ts]
    items = [value, metric, ts, seconds, list(triggered), list(run)]
    return [*items, custom_algorithm_only] if _v(version) >= 5 else items


def validate_row(
    fp_id: int,
    metric_id: int,
    metric: str,
    anomaly_timestamp: int,
    parent_id: int,
    generation: int,
    full_duration: int = 2592000,
) -> list[Any]:
    """A features_profiles_to_validate row, ionosphere_backend.py:8342 (v2.0.0+; 19 items)."""
    return [
        fp_id,
        metric_id,
        metric,
        full_duration,
        anomaly_timestamp,
        parent_id,
        full_duration,
        anomaly_timestamp - 3600,
        "2026-11-27 14:20:05",
        "https://skyline.example.com/ionosphere_images?image=fp.png",
        "2026-11-26 14:16:31",
        "https://skyline.example.com/ionosphere_images?image=parent.png",
        0,
        "https://skyline.example.com/ionosphere_images?image=learn.png",
        "https://skyline.example.com/ionosphere_images?image=parent_learn.png",
        604800,
        full_duration,
        generation,
        max(generation - 1, 0),
    ]


# -- analyzer / mirage: alerts -------------------------------------------------------------
def slack_disabled(alert: Any, metric: Any) -> str:
    """alerters.py:1761, mirage_alerters.py:1839 (v1.3.0+; v1.3.1 alerters.py:1165)."""
    return (
        "alert_slack - SLACK_ENABLED is False, not slack alerting for anomalous metric :: "
        "alert: %s, metric: %s" % (str(alert), str(metric))
    )


def slack_anomalous(alert: Any, metric: Any) -> str:
    """alerters.py:1817, mirage_alerters.py:1881: 'alert_slack - anomalous metric :: alert: %s,
    metric: %s' (Skyline's own Slack is on)."""
    return "alert_slack - anomalous metric :: alert: %s, metric: %s" % (str(alert), str(metric))


def analyzer_trigger_alert(
    alert: Any, metric: Any, context: str = "Analyzer", smtp: bool = False
) -> str:
    """analyzer.py:7865 / :7871 (v2.0.0+): '[smtp_]trigger_alert :: alert: %s, metric: %s,
    context: %s'."""
    name = "smtp_trigger_alert" if smtp else "trigger_alert"
    return "%s :: alert: %s, metric: %s, context: %s" % (name, str(alert), str(metric), context)


def mirage_trigger_alert(
    alert: Any, metric: Any, seconds: int, context: str = "Mirage", smtp: bool = False
) -> str:
    """mirage.py:5849 / :5860 (v2.0.0+): '[smtp_]trigger_alert :: alert: %s, metric: %s,
    second_order_resolution_seconds: %s, context: %s'."""
    name = "smtp_trigger_alert" if smtp else "trigger_alert"
    return "%s :: alert: %s, metric: %s, second_order_resolution_seconds: %s, context: %s" % (
        name,
        str(alert),
        str(metric),
        str(seconds),
        context,
    )


def test_trigger_alert(alert: Any, metric: Any, context: str = "Analyzer") -> str:
    """analyzer.py:8066: 'trigger_alert :: test_alert - alert: %s, metric: %s, context: %s'."""
    return "trigger_alert :: test_alert - alert: %s, metric: %s, context: %s" % (
        str(alert),
        str(metric),
        context,
    )


def triggering_alert(version: str, metric: str, value: float, alerter: str) -> str:
    """analyzer.py:7778 (since v1.1): 'triggering alert :: %s %s via %s - matched by %s';
    matched_by is 'regex' / 'substring' in v1 (v1.3.1 analyzer.py:1851), a dict from v2.0.0."""
    matched_by = "substring" if _v(version) == 1 else MATCHED_BY_V2
    return "triggering alert :: %s %s via %s - matched by %s" % (metric, value, alerter, matched_by)


def triggering_alert_full_duration(metric: str, value: float, alerter: str) -> str:
    """analyzer.py:7550: 'triggering alert ENABLE_FULL_DURATION_ALERTS :: %s %s via %s'."""
    return "triggering alert ENABLE_FULL_DURATION_ALERTS :: %s %s via %s" % (metric, value, alerter)


def failed_to_trigger_alert(metric: str, value: float, alerter: str) -> str:
    """analyzer.py:7895: 'error :: failed to trigger_alert :: %s %s via %s'."""
    return "error :: failed to trigger_alert :: %s %s via %s" % (metric, value, alerter)


def trigger_alert_error(trace: str) -> str:
    """analyzer.py:7894: 'error :: trigger_alert - %s' % traceback.format_exc() (multi-line)."""
    return "error :: trigger_alert - %s" % trace


def sent_alert(alerter: str, metric: str) -> str:
    """mirage.py:5869 (since v1.1): 'sent %s alert: For %s'."""
    return "sent %s alert: For %s" % (alerter, metric)


def negate_alert_sent(metric: str) -> str:
    """mirage.py:6266: 'negate alert sent: For %s' (not an alert)."""
    return "negate alert sent: For %s" % metric


def could_not_send(alerter: str, metric: str, err: str) -> str:
    """mirage.py:5883: 'error :: could not send %s alert for %s: %s'."""
    return "error :: could not send %s alert for %s: %s" % (alerter, metric, err)


def checking_for_alerts() -> str:
    """analyzer.py:7144: 'checking for alerts'."""
    return "checking for alerts"


def alerts_checked() -> str:
    """analyzer.py:7915 (v2.0.0+): 'alerts checked'."""
    return "alerts checked"


def total_anomalies(count: int) -> str:
    """analyzer.py:8644, mirage.py:6321: 'total anomalies    :: %s'."""
    return "total anomalies    :: %s" % count


def seconds_to_run(seconds: float) -> str:
    """analyzer.py:8641: 'seconds to run     :: %.2f'."""
    return "seconds to run     :: %.2f" % seconds


def added_mirage_check(metric: str, value: float, hours: int) -> str:
    """analyzer.py:4524: 'added mirage check :: %s,%s,%s' (no timestamp)."""
    return "added mirage check :: %s,%s,%s" % (metric, value, hours)


def added_check(app: str, metric: str, ts: int) -> str:
    """skyline_functions.py:1476: 'added %s check :: %s,%s' (v1.1+)."""
    return "added %s check :: %s,%s" % (app, metric, ts)


def check_file(metric: str, ts: int) -> str:
    """mirage.py:1124: 'debug :: added metric_name %s from check file - %s'."""
    return "debug :: added metric_name %s from check file - %s" % (
        str(["metric_name", metric]),
        "/opt/skyline/mirage/check/%s.%s.txt" % (ts, metric),
    )


def added_anomaly(data: Any) -> str:
    """mirage.py:2639 (v5): 'added anomaly to %s, data: %s'."""
    return "added anomaly to %s, data: %s" % ("mirage.anomalous_metrics", str(data))


def anomaly_detected(version: str, metric: str, value: float) -> str:
    """mirage.py:2796 (v3.0.0+, two spaces before '(at');
    v1/v2 (v2.0.0 mirage.py:1078): 'anomaly detected  :: %s with %s'."""
    if _v(version) <= 2:
        return "anomaly detected  :: %s with %s" % (metric, value)
    return (
        "anomaly detected :: %s with %s  (at SECOND_ORDER_RESOLUTION_HOURS), %s "
        "(at FULL_DURATION)" % (metric, value, value)
    )


def not_anomalous(version: str, metric: str, value: float) -> str:
    """mirage.py:2598 (v3.0.0+); v1/v2: 'not anomalous     :: %s with %s'."""
    if _v(version) <= 2:
        return "not anomalous     :: %s with %s" % (metric, value)
    return (
        "not anomalous :: %s with %s (at full duration), %s (at SECOND_ORDER_RESOLUTION_HOURS)"
        % (metric, value, value)
    )


def alert_key_exists(alerter: str, metric: str) -> str:
    """mirage.py:6081: 'alert Redis key %s exists not alerting for %s'."""
    return "alert Redis key %s exists not alerting for %s" % (
        "mirage.last_alert.%s.%s" % (alerter, metric),
        metric,
    )


def alert_paused(alerter: str, metric: str, until: int) -> str:
    """analyzer.py:7803, mirage.py:5651: 'alert_paused for %s %s until %s'."""
    return "alert_paused for %s %s until %s" % (alerter, metric, until)


def muted(alerter: str, metric: str) -> str:
    """alerters.py:2347, mirage_alerters.py:2573 (v4.0.0+): 'alert_<alerter> - %s is muted, not
    alerting'; smtp: alerters.py:1424, mirage_alerters.py:1623, boundary_alerters.py:485
    (logged by the smtp child, first in the cycle); 'alert_htpp' (sic):
    boundary_alerters.py:1322."""
    return "alert_%s - %s is muted, not alerting" % (alerter, metric)


def not_alerting_ionosphere(metric: str) -> str:
    """analyzer.py:7608, mirage.py:5263: 'not alerting - Ionosphere metric - %s'."""
    return "not alerting - Ionosphere metric - %s" % metric


def bot_token_not_configured() -> str:
    """mirage_alerters.py:1853: 'alert_slack - bot_user_oauth_access_token is not configured, not
    sending alert'."""
    return "alert_slack - bot_user_oauth_access_token is not configured, not sending alert"


def sent_slack_message() -> str:
    """alerters.py:2387, mirage_alerters.py:2677: 'alert_slack - sent slack message'."""
    return "alert_slack - sent slack message"


def slack_thread_ts(thread_ts: str) -> str:
    """alerters.py:2420, mirage_alerters.py:2710 (v5 only): 'alert_slack - the slack_thread_ts
    is %s'."""
    return "alert_slack - the slack_thread_ts is %s" % thread_ts


def slack_group_thread_ts(group: str, thread_ts: str, as_bytes: bool = False) -> str:
    """v4.0.0 mirage_alerters.py:2233 / :2280 (v1.2.16 to v4): 'alert_slack - slack group is %s
    and the slack_thread_ts is %s'; the first branch logs ts.encode('utf-8') (b'...' on py3)."""
    value = thread_ts.encode() if as_bytes else thread_ts
    return "alert_slack - slack group is %s and the slack_thread_ts is %s" % (group, str(value))


def panorama_thread_key(metric: str, ts: int, thread_ts: str) -> str:
    """alerters.py:2631, mirage_alerters.py:2921 (v1.2.16+): 'added Panorama slack_thread_ts
    Redis key - %s - %s' (key, [base_name, metric_timestamp, str(slack_thread_ts)])."""
    key = "panorama.slack_thread_ts.%s.%s" % (ts, metric)
    return "added Panorama slack_thread_ts Redis key - %s - %s" % (
        key,
        str([metric, ts, str(thread_ts)]),
    )


def panorama_thread_hash(metric: str, ts: int, thread_ts: str) -> str:
    """alerters.py:2600, mirage_alerters.py:2890 (after v4.0.0): 'alert_slack :: added Panorama
    slack_thread_ts hash key - %s - %s'."""
    value = {"metric": metric, "timestamp": ts, "slack_thread_ts": thread_ts}
    return "alert_slack :: added Panorama slack_thread_ts hash key - %s - %s" % (
        thread_ts,
        str(value),
    )


def slack_post_message(channel: str, thread: str | None, text: str) -> str:
    """slack_functions.py:187: 'slack_post_message :: posted message to channel %s, thread %s -
    %s' (the text may hold newlines)."""
    return "slack_post_message :: posted message to channel %s, thread %s - %s" % (
        channel,
        str(thread),
        text,
    )


# -- webapp: requests ----------------------------------------------------------------------
def check_auth_request(url: str) -> str:
    """webapp.py:959 (v3.0.0+, every authenticated request): 'request :: %s'."""
    return "request :: %s" % url


def get_user_details(user: str, user_id: int) -> str:
    """webapp.py:7940 (v1.3.0+): '/ionosphere get_user_details() with %s returned user id %s'."""
    return "/ionosphere get_user_details() with %s returned user id %s" % (user, user_id)


def starting_request(version: str, request_id: str, url: str) -> str:
    """webapp.py:7952 (v5): 'starting ionosphere request_id: %s for %s';
    v4.0.0 webapp.py:6417: 'starting ionosphere request_id: %s'."""
    if _v(version) == 4:
        return "starting ionosphere request_id: %s" % request_id
    return "starting ionosphere request_id: %s for %s" % (request_id, url)


def request_url(url: str) -> str:
    """webapp.py:7955 (v3.0.0+): 'request.url: %s'."""
    return "request.url: %s" % url


def request_argument(key: str, value: str) -> str:
    """webapp.py:7994, :10316 (v2.0.0 webapp.py:2250): 'request argument - %s=%s'."""
    return "request argument - %s=%s" % (key, value)


def completed_request(request_id: str, took: float) -> str:
    """webapp.py:8429 (v4.0.0+): 'completed ionosphere request_id: %s, took: %s seconds'."""
    return "completed ionosphere request_id: %s, took: %s seconds" % (request_id, took)


def getting_anomaly_id(url: str) -> str:
    """ionosphere_backend.py:1248: 'getting anomaly id from panorama: %s'."""
    return "getting anomaly id from panorama: %s" % url


def metric_id_is(metric_id: int) -> str:
    """webapp.py:12783: 'metric id is %s'."""
    return "metric id is %s" % metric_id


def training_data_viewed(updated: bool) -> str:
    """webapp.py:12845 (v1.2.16+): 'slack_updated for training_data_viewed %s'."""
    return "slack_updated for training_data_viewed %s" % updated


# -- webapp: features profiles -------------------------------------------------------------
def fp_requested(context: str, metric: str, ts: int, user_id: int) -> str:
    """ionosphere_functions.py:655 (v1.3.0+):
    'create_features_profile :: %s :: requested for %s at %s by user id %s'."""
    return "create_features_profile :: %s :: requested for %s at %s by user id %s" % (
        context,
        metric,
        ts,
        user_id,
    )


def fp_pending_key(metric: str, ts: int) -> str:
    """ionosphere_functions.py:615."""
    return (
        "create_features_profile :: created fp_pending.%s.%s Redis key with expiry of 60 "
        "seconds" % (ts, metric)
    )


def learn_full_duration_days(days: int) -> str:
    """ionosphere_functions.py:894:
    'create_features_profile :: learn_full_duration_days     :: %s days' (5 spaces)."""
    return "create_features_profile :: learn_full_duration_days     :: %s days" % days


def generation_info_days(days: int) -> str:
    """ionosphere_functions.py:1028 (not the learn days line):
    'create_features_profile :: generation info - learn_full_duration_days     :: %s'."""
    return "create_features_profile :: generation info - learn_full_duration_days     :: %s" % days


def new_fp_id(fp_id: int) -> str:
    """ionosphere_functions.py:1170: 'create_features_profile :: new ionosphere fp_id: %s'."""
    return "create_features_profile :: new ionosphere fp_id: %s" % fp_id


def fp_profile_dir(metric: str, ts: int) -> str:
    """IONOSPHERE_PROFILES_FOLDER/<metric with . as />/<ts> (settings.py default folder)."""
    return "/opt/skyline/ionosphere/features_profiles/%s/%s" % (metric.replace(".", "/"), ts)


def fp_dir_created(fp_id: int, directory: str) -> str:
    """ionosphere_functions.py:1528:
    'create_features_profile :: fp_id - %s - features profile dir created - %s'."""
    return "create_features_profile :: fp_id - %s - features profile dir created - %s" % (
        fp_id,
        directory,
    )


def disposing_engine() -> str:
    """ionosphere_functions.py:1960: 'create_features_profile :: disposing of any engine'."""
    return "create_features_profile :: disposing of any engine"


def engine_dispose() -> str:
    """ionosphere_functions.py:138: 'fp_create_engine_disposal :: calling engine.dispose()'."""
    return "fp_create_engine_disposal :: calling engine.dispose()"


def learn_work_added(job: str, ts: int, metric: str, fp_id: int, generation: int) -> str:
    """ionosphere_functions.py:2015 (v1.1+): 'adding work to Redis ionosphere.learn.work set -
    [\\'Soft\\', \\'%s\\', %s, \\'%s\\', %s, %s] to make a learn features profile later'."""
    return (
        "adding work to Redis ionosphere.learn.work set - ['Soft', '%s', %s, '%s', %s, %s] "
        "to make a learn features profile later" % (job, ts, metric, fp_id, generation)
    )


def fp_learn_false() -> str:
    """ionosphere_functions.py:1986."""
    return "fp_learn is False not adding an item to Redis ionosphere.learn.work set"


def disabling_fp_ids(ids: Sequence[int]) -> str:
    """webapp.py:11626 (v1.3.0+): 'disabling fp ids - %s'."""
    return "disabling fp ids - %s" % str(list(ids))


def backend_disabling_fp_ids(ids: Sequence[int]) -> str:
    """ionosphere_backend.py:5587: '%s disabling fp ids - %s' (function_str first)."""
    return "%s disabling fp ids - %s" % (
        "ionoshere_backend.py :: disable_features_profile_and_progeny",
        str(list(ids)),
    )


def new_layer_id(layer_id: int) -> str:
    """ionosphere_backend.py:3985 (create_ionosphere_layers, v1.1.3+):
    'new ionosphere layer_id: %s'."""
    return "new ionosphere layer_id: %s" % layer_id


def label_list(which: str, items: Sequence[str]) -> str:
    """webapp.py:6977 / :6981 (v3.0.4+): 'label_anomalies metrics_list - %s',
    'label_anomalies namespaces_list - %s' (the comma-split request argument)."""
    return "label_anomalies %s_list - %s" % (which, str(list(items)))


def label_anomalies(start: int, end: int, label: str) -> str:
    """ionosphere_backend.py:9197-9199 (v3.0.4+): 'label_anomalies :: determine metric ids for
    label anomalies between %s and %s with label %s'."""
    return (
        "label_anomalies :: determine metric ids for label anomalies between %s and %s with"
        " label %s" % (start, end, label)
    )


def disable_fp_is_set(fp_id: int) -> str:
    """webapp.py:11624: 'disable_fp is set to %s'."""
    return "disable_fp is set to %s" % fp_id


def updated_enabled(fp_id: int) -> str:
    """ionosphere_backend.py:5709: 'updated enabled for %s to 0'."""
    return "updated enabled for %s to 0" % fp_id


def validated_fp_id(fp_id: int) -> str:
    """webapp.py:11598 (v1.3.0+): 'validated fp_id - %s'."""
    return "validated fp_id - %s" % fp_id


def validating_fp_ip(fp_id: int) -> str:
    """webapp.py:11587 (sic): 'validating - fp_ip %s'."""
    return "validating - fp_ip %s" % fp_id


def features_profiles_to_validate(rows: Sequence[Any]) -> str:
    """ionosphere_backend.py:8344: '%s :: features_profiles_to_validate - %s'."""
    return "%s :: features_profiles_to_validate - %s" % (
        "ionoshere_backend.py :: get_feature_profiles_validate",
        str(list(rows)),
    )


def fps_found_to_validate(count: int, metric: str, metric_id: int) -> str:
    """webapp.py:8680:
    '%s features profiles found that need validating for %s with metric_id %s'."""
    return "%s features profiles found that need validating for %s with metric_id %s" % (
        count,
        metric,
        metric_id,
    )


def fps_found_listing(count: int, metric: str) -> str:
    """webapp.py:8712: '%s features profiles found that need validating for %s' (page listing)."""
    return "%s features profiles found that need validating for %s" % (count, metric)


def validated_all(metric_id: int) -> str:
    """webapp.py:8694:
    'validated all the enabled, unvalidated features profiles for metric_id - %s'."""
    return "validated all the enabled, unvalidated features profiles for metric_id - %s" % metric_id


def updated_validated_all(metric_id: int) -> str:
    """ionosphere_backend.py:5241 (backend, not the event line)."""
    return (
        "updated validated for all enabled, unvalidated features profiles for metric_id - %s"
        % metric_id
    )


# -- ionosphere: learn ---------------------------------------------------------------------
def learn_work_item(
    job: str, ts: int, metric: str, parent_fp_id: int, parent_generation: int
) -> list[Any]:
    """The learn work list ['Soft', job, ts, metric, parent fp, parent generation]."""
    return ["Soft", job, ts, metric, parent_fp_id, parent_generation]


def learn_child_pid(pid: int) -> str:
    """learn.py:525: 'learn :: child_process_pid - %s'."""
    return "learn :: child_process_pid - %s" % pid


def learn_checking(item: Sequence[Any]) -> str:
    """learn.py:644 (v1.1+): 'learn :: checking work item - %s'."""
    return "learn :: checking work item - %s" % str(list(item))


def learn_not_ready() -> str:
    """learn.py:800: 'learn :: this work is not ready'."""
    return "learn :: this work is not ready"


def learn_ready(age: int) -> str:
    """learn.py:804: 'learn :: this work is ready - work_age - %s'."""
    return "learn :: this work is ready - work_age - %s" % age


def learn_processing(job: str, metric: str, item: Sequence[Any]) -> str:
    """learn.py:806 (v1.1+): 'learn :: processing %s for %s - %s'."""
    return "learn :: processing %s for %s - %s" % (job, metric, str(list(item)))


def determined_anomaly_timestamp(ts: int) -> str:
    """ionosphere_functions.py:1050:
    'create_features_profile :: determined the anomaly metric_timestamp as - %s'."""
    return "create_features_profile :: determined the anomaly metric_timestamp as - %s" % ts


def learn_new_generation(
    context: str, generation: int, fp_id: int, days: int, parent_fp_id: int
) -> str:
    """learn.py:1990 (v1.1+): 'learn :: %s :: new generation %s features profile with id %s using
    %s days data based on the human generated parent feature profile with id %s'."""
    return (
        "learn :: %s :: new generation %s features profile with id %s using %s days data "
        "based on the human generated parent feature profile with id %s"
        % (context, generation, fp_id, days, parent_fp_id)
    )


def echo_new_generation(generation: int, fp_id: int, parent_fp_id: int) -> str:
    """echo.py:592: 'ionosphere_echo :: new generation %s features profile with id %s
    settings.FULL_DURATION created from parent feature profile with id %s' (not learnt)."""
    return (
        "ionosphere_echo :: new generation %s features profile with id %s "
        "settings.FULL_DURATION created from parent feature profile with id %s"
        % (generation, fp_id, parent_fp_id)
    )


def learn_failed(context: str) -> str:
    """learn.py:1986: 'error :: learn :: %s :: create_features_profile failed'."""
    return "error :: learn :: %s :: create_features_profile failed" % context


# -- boundary.log --------------------------------------------------------------------------
def boundary_alert_sent(
    version: str,
    metric: str,
    datapoint: Any,
    alerter: str,
    algorithm: str,
    trigger: Any = 100,
    threshold: Any = 3,
) -> str:
    """boundary.py:2276-2278 (v3.0.4+; :2330-2343 for syslog, :2273 for sms):
    'alert sent :: %s - %s - via %s - %s %s %s times' (base_name, str(datapoint), alerter,
    algorithm, str(metric_trigger), str(alert_threshold)); v2.0.0:boundary.py:1316,
    v1.3.1:…:1085: 'alert sent :: %s - %s - via %s - %s' (base_name, datapoint, alerter,
    algorithm)."""
    if _v(version) <= 2:
        return "alert sent :: %s - %s - via %s - %s" % (metric, datapoint, alerter, algorithm)
    return "alert sent :: %s - %s - via %s - %s %s %s times" % (
        metric,
        str(datapoint),
        alerter,
        algorithm,
        str(trigger),
        str(threshold),
    )


def boundary_test_alert(alerter: str, metric: str) -> str:
    """boundary.py:1682 (v1.1+): 'test alert to %s for %s' (test_alerter, metric_name)."""
    return "test alert to %s for %s" % (alerter, metric)


def boundary_muted(alerter: str, metric: str) -> str:
    """boundary_alerters.py:485 (alert_smtp), :749 (alert_slack) (HEAD, 2023-09-13):
    'alert_<alerter> - %s is muted, not alerting'."""
    return "alert_%s - %s is muted, not alerting" % (alerter, metric)


def boundary_alert_paused(alerter: str, metric: str, until: int) -> str:
    """boundary.py:2194: 'alert_paused for %s %s until %s' (alerter, base_name, paused until)."""
    return "alert_paused for %s %s until %s" % (alerter, metric, str(until))


def boundary_last_alert_exists(
    alerter: str, metric: str, algorithm: str, alerter_id: Any = 0
) -> str:
    """boundary.py:2215: "last_alert cache_key - %s exists not sending alert for %s"
    (last_alert.boundary.<alerter>.<metric>.<algorithm>, alerter_id)."""
    return "last_alert cache_key - %s exists not sending alert for %s" % (
        "last_alert.boundary.%s.%s.%s" % (alerter, metric, algorithm),
        str(alerter_id),
    )


def boundary_alert_failed(metric: str, datapoint: Any, alerter: str, algorithm: str) -> str:
    """boundary.py:2290: 'error :: alert failed :: %s - %s - via %s - %s'."""
    return "error :: alert failed :: %s - %s - via %s - %s" % (
        metric,
        str(datapoint),
        alerter,
        algorithm,
    )


def boundary_slack_anomalous(metric: str, algorithm: str) -> str:
    """boundary_alerters.py:712 (Skyline's Slack on only): 'alert_slack - anomalous metric ::
    metric: %s - %s'."""
    return "alert_slack - anomalous metric :: metric: %s - %s" % (metric, algorithm)


def waterfall_alerting(app: str, metric: str, item: Sequence[Any] | None = None) -> str:
    """analyzer.py:6935 'waterfall alerting on %s - %s' (base_name, the waterfall item
    [metric, ts, value, added_at, panorama data]); mirage.py:4998 'waterfall alerting on %s'."""
    if app == "mirage":
        return "waterfall alerting on %s" % metric
    return "waterfall alerting on %s - %s" % (metric, str(list(item or [])))
