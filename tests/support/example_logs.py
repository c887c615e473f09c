"""Generate examples/skyline-logs/<app>.log: the small Skyline LOG_PATH that ``make demo`` replays.

    .venv/bin/python -m tests.support.example_logs      # from the repository root; rewrites them

Skyline v5 wording, 2026-11-26 (server time UTC). Every message comes from a
tests/support/skyline_lines.py builder (Skyline's own format strings), so there is one source of
truth for Skyline's wording. examples/demo.py, which must not import tests/, appends its live lines
from templates it takes out of the committed logs (the Mirage alert of 13:11, the training data
view of 13:12, the features profile creation of 13:15); tests/test_demo.py keeps the committed
logs equal to what this module generates.

What the logs hold, besides the noise Skyline writes (bin script and gunicorn lines, run summaries,
not-anomalous and not-alerting lines, tracebacks, smtp alerts):

* three Slack alerts, Skyline's own Slack off (``SLACK_ENABLED is False``):
  - Mirage, ``stats.web01.cpu.user`` at 13:10:00 (ALERTS namespace ``stats.web``),
  - Analyzer, ``stats.db01.disk.used`` at 13:15:00 (``stats.db``),
  - Mirage, ``stats.cache01.evictions`` at 13:41:00 (``stats``);
* a Boundary alert, ``stats.web02.requests`` greater_than 1000 3 times at 13:25:07
  (BOUNDARY_SLACK_OPTS channels), and one of a metric muted with mute_alerts_on, not posted;
* the whole features-profile lifecycle of the first one: training data viewed (webapp, 13:12),
  features profile 1234 created with learn (webapp, 13:15), learnt as 1240 (ionosphere learn,
  14:16), 1240 validated (webapp, 14:20), the metric's remaining unvalidated profiles validated
  in bulk (webapp, 14:22), 1234 disabled with its progeny 1240 (webapp, 15:02).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support import skyline_lines as L

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "examples" / "skyline-logs"

APPS = ("analyzer", "mirage", "webapp", "ionosphere", "boundary")
SKYLINE_URL = "https://skyline.example.com"
SECONDS = 604800  # Mirage's SECOND_ORDER_RESOLUTION_HOURS = 168
LEARN_DAYS = 30

#: (pid, message): one Skyline log record
Msg = tuple[int, str]

# pids, as in the catalogue's SYNTH sequences
A_RUN, A_SPIN, A_SMTP, A_MANAGER = 12345, 12399, 12410, 12366
M_RUN, M_SPIN, M_SMTP = 23456, 23499, 23510
W_MASTER, W_ONE, W_TWO, W_FEATURES = 3120440, 3120441, 3120442, 3120502
I_MAIN, I_SPIN, I_LEARN = 2230011, 2230150, 2240915
B_RUN = 1950001
BASH = 31337

# The alert whose lifecycle the logs tell: metric, anomaly timestamp, metric id, fp ids.
WEB01 = "stats.web01.cpu.user"
WEB01_TS = 1795698600  # 2026-11-26 13:10:00 UTC
WEB01_ID = 271
FP_HUMAN, FP_LEARNT = 1234, 1240
DB01, DB01_TS = "stats.db01.disk.used", 1795698900  # 13:15:00
CACHE01, CACHE01_TS = "stats.cache01.evictions", 1795700460  # 13:41:00
# Boundary (BOUNDARY_METRICS alerters 'smtp|slack'): an alert at 13:25:07, a muted metric
WEB02_REQ, WEB02_REQ_VALUE = "stats.web02.requests", 1250.0
MUTED_METRIC = "stats.web03.requests"

# settings.ALERTS, as get_external_alert_configs numbers them: (namespace, alerter) -> id.
# 'stats.web' and 'stats' have SECOND_ORDER_RESOLUTION_HOURS = 168 (Mirage alerts), 'stats.db'
# none (Analyzer alerts).
ALERT_IDS = {
    ("stats.web", "smtp"): "internal-0",
    ("stats.web", "slack"): "internal-1",
    ("stats.db", "smtp"): "internal-2",
    ("stats.db", "slack"): "internal-3",
    ("stats", "slack"): "internal-4",
}


def epoch(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp())


def url(path: str = "ionosphere", **args: Any) -> str:
    return f"{SKYLINE_URL}/{path}?" + "&".join(f"{k}={v}" for k, v in args.items())


def request_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- line sequences ----------------------------------------------------------
def mirage_analysis(metric: str, ts: int, value: float, *, spin: int = M_SPIN) -> Iterator[Msg]:
    """Mirage's spin_process finds the anomaly at SECOND_ORDER_RESOLUTION_HOURS."""
    data = L.mirage_metric("v5", value, metric, ts, SECONDS)
    yield spin, L.check_file(metric, ts)
    yield spin, f"retrieved data :: for {metric} at {SECONDS} seconds"
    yield spin, f"analyzing :: {metric} at {SECONDS} seconds"
    yield spin, L.added_anomaly(data)
    yield spin, L.anomaly_detected("v5", metric, value)


def mirage_alert(
    metric: str, ts: int, value: float, namespace: str, alert_id: str, *, run: int = M_RUN
) -> Iterator[Msg]:
    """Mirage's run() alerts through slack with Skyline's own Slack off (mirage.py:5849, then
    mirage_alerters.py:1839, then mirage.py:5869). ``alert_id``: the ALERTS entry (ALERT_IDS)."""
    alert = L.alert_list(namespace, "slack", 3600, 168, alert_id=alert_id)
    data = L.mirage_metric("v5", value, metric, ts, SECONDS)
    yield run, f"not an Ionosphere metric checking whether to alert - {metric}"
    yield run, L.mirage_trigger_alert(alert, data, SECONDS)
    yield run, L.slack_disabled(alert, data)
    yield run, L.sent_alert("slack", metric)


def request(pid: int, link: str, user: str = "admin", user_id: int = 1) -> Iterator[Msg]:
    """The lines a v5 /ionosphere request logs before its work (webapp.py:959-7994)."""
    yield pid, L.check_auth_request(link)
    yield pid, L.get_user_details(user, user_id)
    yield pid, L.starting_request("v5", request_id(link), link)
    yield pid, L.request_url(link)
    args = [a.split("=", 1) for a in link.split("?", 1)[1].split("&")]
    for _ in range(2):  # webapp.py:7994 and the validation loop at :10316
        for key, value in args:
            yield pid, L.request_argument(key, value)


def training_data_view(
    metric: str, ts: int, metric_id: int, *, user: str = "admin", user_id: int = 1, pid: int = W_ONE
) -> Iterator[Msg]:
    """A training data page view with Skyline's Slack off: the marker says False."""
    link = url(timestamp=ts, metric=metric)
    yield from request(pid, link, user, user_id)
    yield (
        pid,
        L.getting_anomaly_id(
            url(
                "panorama",
                metric=metric,
                from_timestamp=ts - 120,
                until_timestamp=ts + 120,
                panorama_anomaly_id="true",
            )
        ),
    )
    yield pid, f"metric_id looked up base_name: {metric} and got metric_id: {metric_id}"
    yield pid, L.metric_id_is(metric_id)
    yield pid, L.training_data_viewed(False)
    yield pid, L.completed_request(request_id(link), 2.318)


def features_profile_created(
    metric: str,
    ts: int,
    fp_id: int,
    metric_id: int,
    *,
    user: str = "admin",
    user_id: int = 1,
    pid: int = W_ONE,
    features_pid: int = W_FEATURES,
) -> Iterator[Msg]:
    """A features profile created from the training data page with learn=true
    (ionosphere_functions.py:615-2015)."""
    link = url(
        timestamp=ts,
        metric=metric,
        requested_timestamp=ts,
        add_fp="true",
        learn="true",
        label="none",
    )
    directory = L.fp_profile_dir(metric, ts)
    yield from request(pid, link, user, user_id)
    yield (
        features_pid,
        (
            f"features_profile :: training data feature profile creation requested "
            f"for {metric} at {ts}"
        ),
    )
    yield pid, L.fp_pending_key(metric, ts)
    yield pid, L.fp_requested("training_data", metric, ts, user_id)
    yield pid, L.learn_full_duration_days(LEARN_DAYS)
    yield pid, L.generation_info_days(LEARN_DAYS)
    yield pid, f"create_features_profile :: determined db metric id: {metric_id}"
    yield pid, L.new_fp_id(fp_id)
    yield pid, L.fp_dir_created(fp_id, directory)
    yield pid, f"create_features_profile :: fp_id - {fp_id} - training data copied to {directory}"
    yield pid, L.disposing_engine()
    yield pid, L.engine_dispose()
    yield pid, L.learn_work_added("learn_fp_human", ts, metric, fp_id, 0)


# -- writing a log ---------------------------------------------------------------------------
class Log:
    """One app log being written at a moving clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 13, 0, 0)
        self.text: list[str] = []

    def at(self, hhmmss: str) -> None:
        h, m, s = map(int, hhmmss.split(":"))
        self.now = self.now.replace(hour=h, minute=m, second=s)

    def tick(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)

    def add(self, pid: int, msg: str) -> None:
        self.text.append(L.line(self.now, pid, msg))

    def extend(self, records: Iterable[Msg]) -> None:
        for pid, msg in records:
            self.add(pid, msg)

    def bin(self, app: str, msg: str) -> None:
        self.text.append(L.bin_line(self.now, BASH, app, msg))

    def gunicorn(self, level: str, msg: str, pid: int = W_MASTER) -> None:
        self.text.append(L.gunicorn_line(self.now, pid, level, msg))

    def traceback(self, pid: int, then: str) -> None:
        """logger.error(traceback.format_exc()) then the error line, as Skyline does."""
        self.add(pid, L.traceback_text())
        self.add(pid, then)

    def restarted(self, app: str) -> None:
        """bin/<app>.d start: its log management lines (bin/analyzer.d:207, :238)."""
        self.bin(app, "process removed log.wait file, starting log management")
        self.tick()
        self.bin(app, "log management done")

    def data(self) -> bytes:
        return "".join(self.text).encode("utf-8")


def analyzer_log() -> Log:
    log = Log()
    log.restarted("analyzer")
    log.add(A_RUN, "starting analyzer run")
    log.add(A_MANAGER, "metrics_manager :: 43 external_settings from cache None")

    def run_summary(anomalies: int, seconds: float) -> None:
        log.add(A_RUN, L.alerts_checked())
        log.add(A_RUN, L.seconds_to_run(seconds))
        log.add(A_RUN, L.total_anomalies(anomalies))

    # 13:10: stats.web01.cpu.user is anomalous at FULL_DURATION: handed to Mirage
    log.at("13:10:05")
    log.add(A_SPIN, "spin_process started")
    log.add(A_SPIN, L.added_mirage_check(WEB01, 87.5, 168))
    log.add(A_RUN, L.checking_for_alerts())
    log.add(A_RUN, f"not alerting - skipping Mirage metric - {WEB01}")
    run_summary(1, 2.31)

    # 13:16: stats.db01.disk.used, an Analyzer-only metric: smtp, then slack
    log.at("13:16:05")
    log.add(A_SPIN, "spin_process started")
    log.add(A_SPIN, L.added_check("ionosphere", DB01, DB01_TS))
    log.add(
        A_SPIN,
        f"added panorama anomaly file :: /opt/skyline/panorama/check/{DB01_TS + 65}.{DB01}.txt",
    )
    log.tick()
    data = L.analyzer_metric("v5", 93.2, DB01, DB01_TS)
    log.add(A_RUN, L.checking_for_alerts())
    log.add(A_RUN, L.triggering_alert("v5", DB01, 93.2, "smtp"))
    log.add(
        A_SMTP,
        "alert_smtp - will send to primary_recipient :: dba@example.org, cc_recipients :: False",
    )
    log.add(
        A_SMTP,
        f"added Panorama alert Redis key - panorama.alert.{DB01_TS}.{DB01} - "
        f"{[DB01, DB01_TS, DB01_TS + 67]}",
    )
    log.tick(2)
    log.add(
        A_RUN,
        L.analyzer_trigger_alert(
            L.alert_list("stats.db", "smtp", 3600, 0, alert_id=ALERT_IDS["stats.db", "smtp"]),
            data,
            smtp=True,
        ),
    )
    log.add(A_RUN, L.triggering_alert("v5", DB01, 93.2, "slack"))
    slack = L.alert_list("stats.db", "slack", 3600, 0, alert_id=ALERT_IDS["stats.db", "slack"])
    log.add(A_RUN, L.slack_disabled(slack, data))
    log.add(A_RUN, L.analyzer_trigger_alert(slack, data))
    run_summary(1, 3.02)

    # 13:17: a paused alert, nothing sent
    log.at("13:17:06")
    log.add(A_RUN, L.checking_for_alerts())
    log.add(A_RUN, L.alert_paused("slack", "stats.db02.disk.used", DB01_TS + 3600))
    run_summary(1, 2.87)

    # 13:30: metrics_manager housekeeping, 13:41: another metric handed to Mirage
    log.at("13:30:02")
    log.add(A_MANAGER, "metrics_manager :: 43 external_settings from cache None")
    log.at("13:41:05")
    log.add(A_SPIN, "spin_process started")
    log.add(A_SPIN, L.added_mirage_check(CACHE01, 15230.0, 168))
    log.add(A_RUN, L.checking_for_alerts())
    log.add(A_RUN, f"not alerting - skipping Mirage metric - {CACHE01}")
    run_summary(1, 2.44)
    return log


def mirage_log() -> Log:
    log = Log()
    log.restarted("mirage")
    log.add(M_RUN, "starting mirage run")

    # 13:11: stats.web01.cpu.user confirmed at 7 days: slack (THE alert) and smtp
    log.at("13:11:12")
    log.extend(mirage_analysis(WEB01, WEB01_TS, 87.5))
    log.add(M_SPIN, L.added_check("ionosphere", WEB01, WEB01_TS))
    log.add(M_SPIN, L.not_anomalous("v5", "stats.web02.mem.free", 41.0))
    log.tick(2)
    log.extend(mirage_alert(WEB01, WEB01_TS, 87.5, "stats.web", ALERT_IDS["stats.web", "slack"]))
    data = L.mirage_metric("v5", 87.5, WEB01, WEB01_TS, SECONDS)
    log.tick()
    log.add(
        M_RUN,
        L.mirage_trigger_alert(
            L.alert_list("stats.web", "smtp", 3600, 168, alert_id=ALERT_IDS["stats.web", "smtp"]),
            data,
            SECONDS,
            smtp=True,
        ),
    )
    log.add(
        M_SMTP,
        "alert_smtp - will send to primary_recipient :: ops@example.org, cc_recipients :: False",
    )
    log.add(M_RUN, L.sent_alert("smtp", WEB01))
    log.add(M_RUN, L.total_anomalies(1))

    # 13:12: the next check of the same anomaly: the alert key exists, no second alert
    log.at("13:12:13")
    log.extend(mirage_analysis(WEB01, WEB01_TS + 60, 86.1))
    log.tick()
    log.add(M_RUN, L.alert_key_exists("slack", WEB01))
    log.add(M_RUN, L.not_alerting_ionosphere("stats.web02.mem.free"))
    log.add(M_RUN, L.total_anomalies(1))

    # 13:20: the smtp alerter fails once
    log.at("13:20:14")
    log.traceback(
        M_SMTP,
        "error :: alert_smtp - could not send email to primary_recipient :: "
        "ops@example.org, cc_recipients :: False",
    )

    # 13:42: stats.cache01.evictions, matched only by the catch-all 'stats' namespace
    log.at("13:42:11")
    log.extend(mirage_analysis(CACHE01, CACHE01_TS, 15230.0))
    log.add(M_SPIN, L.not_anomalous("v5", "stats.web03.net.rx", 1.5))
    log.tick(2)
    log.extend(mirage_alert(CACHE01, CACHE01_TS, 15230.0, "stats", ALERT_IDS["stats", "slack"]))
    log.add(M_RUN, L.muted("slack", "stats.web03.net.rx"))
    log.add(M_RUN, L.total_anomalies(1))
    return log


def webapp_log() -> Log:
    log = Log()
    log.gunicorn("INFO", "Starting gunicorn 23.0.0")
    log.gunicorn("INFO", f"Listening at: http://127.0.0.1:1500 ({W_MASTER})")
    log.gunicorn("INFO", "Using worker: gevent")
    log.gunicorn("INFO", f"Booting worker with pid: {W_ONE}")
    log.gunicorn("INFO", f"Booting worker with pid: {W_TWO}")
    log.tick()
    log.bin("webapp", "log management done")

    # 13:05: someone looks at Panorama (not an event)
    log.at("13:05:41")
    log.add(W_TWO, L.check_auth_request(url("panorama", metric=DB01)))
    log.add(W_TWO, L.request_argument("metric", DB01))

    # 13:12: the training data page of the 13:10 alert (its Slack link) is viewed
    log.at("13:12:00")
    log.extend(training_data_view(WEB01, WEB01_TS, WEB01_ID))

    # 13:13: a request fails (traceback and gunicorn's own error line)
    log.at("13:13:30")
    log.traceback(
        W_TWO,
        "error :: Webapp could not get metric id from Redis key - "
        "panorama.mysql_ids.metrics.metric.stats.web09",
    )
    log.gunicorn("ERROR", "Error handling request /ionosphere", pid=W_TWO)

    # 13:15: a features profile is made from that training data, with learn
    log.at("13:15:16")
    log.extend(features_profile_created(WEB01, WEB01_TS, FP_HUMAN, WEB01_ID))
    log.add(
        W_ONE,
        L.completed_request(
            request_id(
                url(
                    timestamp=WEB01_TS,
                    metric=WEB01,
                    requested_timestamp=WEB01_TS,
                    add_fp="true",
                    learn="true",
                    label="none",
                )
            ),
            4.2,
        ),
    )

    # 14:20: the learnt profile is validated from its page
    log.at("14:20:10")
    link = url(fp_view="true", fp_id=FP_LEARNT, metric=WEB01, validate_fp="true")
    log.extend(request(W_TWO, link))
    log.add(W_TWO, L.validating_fp_ip(FP_LEARNT))
    log.add(W_TWO, f"updated validated for {FP_LEARNT}")
    log.add(W_TWO, L.validated_fp_id(FP_LEARNT))
    log.add(W_TWO, L.completed_request(request_id(link), 0.9))

    # 14:22: the metric's older unvalidated (generation 2 and 3) profiles, validated in bulk
    log.at("14:22:40")
    link = url(
        fp_validate="true",
        metric=WEB01,
        validated_equals="false",
        limit=0,
        order="DESC",
        validate_all="true",
        metric_id=WEB01_ID,
    )
    log.extend(request(W_ONE, link))
    older = WEB01_TS - 6 * 86400
    rows = [
        L.validate_row(1188, WEB01_ID, WEB01, older, 1180, 2),
        L.validate_row(1189, WEB01_ID, WEB01, older + 3600, 1188, 3),
    ]
    log.add(W_ONE, L.features_profiles_to_validate(rows))
    log.add(W_ONE, L.fps_found_to_validate(len(rows), WEB01, WEB01_ID))
    log.add(
        W_ONE,
        "ionoshere_backend.py :: validate_fp validating all enabled and unvalidated "
        f"features profiles for metric_id - {WEB01_ID}",
    )
    log.tick()
    log.add(W_ONE, L.updated_validated_all(WEB01_ID))
    log.add(W_ONE, L.validated_all(WEB01_ID))
    log.add(W_ONE, L.features_profiles_to_validate([]))
    log.add(W_ONE, "slack_updated for validated features profiles False")
    log.add(W_ONE, L.completed_request(request_id(link), 1.7))

    # 15:02: features profile 1234 is disabled, and with it its progeny (1240)
    log.at("15:02:10")
    base = url(fp_view="true", timestamp=WEB01_TS, metric=WEB01)
    log.add(W_ONE, f"base redirect_url - {base}")
    log.add(W_ONE, f"returned redirect on original request - {base}&disable_fp={FP_HUMAN}")
    log.tick()
    link = f"{base}&disable_fp={FP_HUMAN}"
    log.extend(request(W_ONE, link))
    log.add(
        W_ONE,
        "ionoshere_backend.py :: features_profile_progeny getting the features "
        f"profile ids of the progeny of fp_id {FP_HUMAN}",
    )
    log.add(W_ONE, L.disable_fp_is_set(FP_HUMAN))
    log.add(W_ONE, L.disabling_fp_ids([FP_HUMAN, FP_LEARNT]))
    log.add(W_ONE, L.backend_disabling_fp_ids([FP_HUMAN, FP_LEARNT]))
    log.add(W_ONE, L.updated_enabled(FP_HUMAN))
    log.add(W_ONE, L.updated_enabled(FP_LEARNT))
    log.add(W_ONE, L.completed_request(request_id(link), 1.1))
    return log


def ionosphere_log() -> Log:
    log = Log()
    log.restarted("ionosphere")
    log.add(I_MAIN, "starting 1 of 1 spin_process/es")
    log.add(
        I_SPIN,
        "loading metric variables from import - metric_check_file - "
        f"/opt/skyline/ionosphere/check/{WEB01_TS - 3600}.stats.web02.mem.free.txt",
    )
    log.add(I_SPIN, "not anomalous - features profile match - stats.web02.mem.free")
    log.add(I_MAIN, "ionosphere :: 1 spin_process/es completed in 1.35 seconds")

    # 14:16: the learn work item of features profile 1234 is ready (IONOSPHERE_LEARN, 3661 s)
    log.at("14:16:20")
    log.add(I_LEARN, L.learn_child_pid(I_LEARN))
    item = L.learn_work_item("learn_fp_human", WEB01_TS, WEB01, FP_HUMAN, 0)
    log.add(I_LEARN, L.learn_checking(item))
    log.add(I_LEARN, L.learn_ready(3661))
    log.add(I_LEARN, L.learn_processing("learn_fp_human", WEB01, item))
    log.at("14:16:31")
    log.add(I_LEARN, "learn :: human generated :: generation limit OK at 1")
    created = epoch(log.now)
    log.add(I_LEARN, L.fp_requested("ionosphere_learn", WEB01, created, 1))
    log.add(I_LEARN, L.determined_anomaly_timestamp(WEB01_TS))
    log.add(I_LEARN, L.new_fp_id(FP_LEARNT))
    log.add(I_LEARN, L.fp_dir_created(FP_LEARNT, L.fp_profile_dir(WEB01, created)))
    log.tick()
    log.add(I_LEARN, L.learn_new_generation("human generated", 1, FP_LEARNT, LEARN_DAYS, FP_HUMAN))
    log.add(I_MAIN, "ionosphere :: 1 spin_process/es completed in 12.61 seconds")
    return log


def boundary_alert(
    metric: str,
    value: float,
    algorithm: str,
    trigger: int,
    threshold: int,
    *,
    muted: bool = False,
    run: int = B_RUN,
) -> Iterator[Msg]:
    """Boundary alerts through 'smtp|slack' with Skyline's Slack off: alert_slack logs nothing,
    boundary.py logs 'alert sent' after each alerter (boundary.py:2276-2278). A muted metric's
    smtp alerter says so first (boundary_alerters.py:485)."""
    if muted:
        yield run, L.boundary_muted("smtp", metric)
    for alerter in ("smtp", "slack"):
        yield (
            run,
            L.boundary_alert_sent("v5", metric, value, alerter, algorithm, trigger, threshold),
        )
    yield run, L.boundary_alert_sent("v5", metric, value, "syslog", algorithm, trigger, threshold)


def boundary_log() -> Log:
    log = Log()
    log.restarted("boundary")
    log.add(B_RUN, "starting boundary run")
    log.at("13:24:07")
    log.add(B_RUN, L.boundary_alert_paused("slack", "stats.web01.requests", 1795702200))
    log.at("13:25:07")
    log.extend(boundary_alert(WEB02_REQ, WEB02_REQ_VALUE, "greater_than", 1000, 3))
    log.tick(2)
    log.add(B_RUN, L.boundary_last_alert_exists("slack", WEB02_REQ, "greater_than"))
    log.at("13:31:44")
    log.extend(boundary_alert(MUTED_METRIC, 3.0, "less_than", 5, 3, muted=True))
    log.add(B_RUN, L.seconds_to_run(0.87))  # a run summary line: no event
    return log


BUILDERS = {
    "analyzer": analyzer_log,
    "mirage": mirage_log,
    "webapp": webapp_log,
    "ionosphere": ionosphere_log,
    "boundary": boundary_log,
}


def build() -> dict[str, bytes]:
    """File name -> content, for every bundled log."""
    return {f"{app}.log": BUILDERS[app]().data() for app in APPS}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, content in build().items():
        (OUT / name).write_bytes(content)
        lines = content.count(b"\n")
        print(f"wrote {(OUT / name).relative_to(REPO)} ({lines} lines)")


if __name__ == "__main__":
    main()
