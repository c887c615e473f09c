"""Realistic Skyline app logs of a given size, with the number of events a parser must find.

Every event line comes from a tests/support/skyline_lines.py builder (Skyline's own format
strings, v5 wording) and the noise between events is what a busy Skyline writes all day:
analyzer runs (spin_process children with a new pid every run, the run summary, ``alerts checked``),
metrics_manager housekeeping, Mirage checks that end ``not anomalous``, webapp API and
/ionosphere page requests from several gevent workers, Ionosphere feature-profile matches and
learn work items that are not ready yet, and ``logger.error(traceback.format_exc())`` records
with their continuation lines. Some noise lines carry prefilter keywords without being events
(``alerts checked``, the run summary, Mirage check file names, ``request ::``, learn work
items), as in real logs, so the parser's Python path is exercised and not only its prefilter.

Events come in "episodes" (an alert is several lines: ``triggering alert``, the alerter's
detail line, ``trigger_alert``; a training data view is a request's lines and the view marker)
at about one event per ``event_every`` lines. The number of events of each episode is known by
construction (see the ``*_episode`` methods), so ``GenStats.events`` is what a correct parser
returns: benchmarks compare it with the parser's count.

    stats = write_log(Path("/tmp/mirage.log"), "mirage", 50 << 20)
    files = write_log_dir(Path("/tmp/logs"), 1 << 30)    # 4 apps x 6 days, 2 of them gzipped

Also a command: ``python -m tests.bench.genlogs OUT_DIR --mb 100 [--app mirage]``.
"""

from __future__ import annotations

import argparse
import calendar
import os
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tests.support import skyline_lines as L

APPS = ("analyzer", "mirage", "webapp", "ionosphere")
#: share of a log dir's bytes per app (analyzer and mirage write the most)
APP_WEIGHTS = {"analyzer": 0.35, "mirage": 0.35, "webapp": 0.15, "ionosphere": 0.15}
EVENT_EVERY = 2000
SKYLINE_URL = "https://skyline.example.com"
MIB = 1 << 20

HOSTS = [f"{kind}{i:02d}" for kind in ("web", "db", "cache", "queue", "lb") for i in range(1, 21)]
SERIES = [
    "cpu.user",
    "cpu.system",
    "cpu.iowait",
    "mem.free",
    "mem.cached",
    "disk.used",
    "disk.io.read_bytes",
    "net.eth0.rx_bytes",
    "net.eth0.tx_bytes",
    "load.1min",
    "nginx.requests",
    "redis.connected_clients",
]


@dataclass
class GenStats:
    """What was written to one file (before any gzip) and the events a parser must find."""

    path: Path
    app: str
    bytes: int = 0
    lines: int = 0
    records: int = 0
    events: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def _dt(sec: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=sec)


class _Out:
    """Buffered writer that stamps records with a log time spread evenly over [start, end]
    (by bytes written, advanced by ``tick`` between blocks of records)."""

    def __init__(self, path: Path, size: int, start: datetime, end: datetime):
        self.f = open(path, "w", encoding="ascii", newline="\n")  # noqa: SIM115 - close()
        self.size = max(size, 1)
        self.t0 = calendar.timegm(start.timetuple())
        self.span = max(int((end - start).total_seconds()), 1)
        self.buf: list[str] = []
        self.buffered = 0
        self.written = 0
        self.lines = 0
        self.records = 0
        self._sec = -1
        self.stamp = ""
        self.tick()

    @property
    def nbytes(self) -> int:
        return self.written + self.buffered

    @property
    def now(self) -> int:
        """The log time (epoch seconds, the log's local time read as UTC) of the next record."""
        return self._sec

    def tick(self) -> None:
        sec = self.t0 + self.span * self.nbytes // self.size
        if sec != self._sec:
            self._sec = sec
            self.stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))

    def rec(self, pid: int, msg: str) -> None:
        """One record: ``msg`` may hold newlines (continuation lines)."""
        text = f"{self.stamp} :: {pid} :: {msg}\n"
        self.buf.append(text)
        self.buffered += len(text)
        self.records += 1
        self.lines += 1 + msg.count("\n")
        if self.buffered > 4 * MIB:
            self.flush()

    def raw(self, text: str) -> None:
        """Lines without Skyline's prefix (gunicorn's error log, raw stderr)."""
        self.buf.append(text)
        self.buffered += len(text)
        self.records += 1
        self.lines += text.count("\n")

    def flush(self) -> None:
        self.f.write("".join(self.buf))
        self.written += self.buffered
        self.buf, self.buffered = [], 0

    def close(self) -> None:
        self.flush()
        self.f.close()


class _App:
    """Noise blocks and event episodes of one app; ``serial`` keeps metrics/fp ids unique."""

    def __init__(self, out: _Out, rng: random.Random, serial: int):
        self.o = out
        self.rng = rng
        self.serial = serial
        self.pid = 10000 + rng.randrange(50000)
        self.kinds: Counter[str] = Counter()

    def next_pid(self) -> int:
        self.pid = self.pid + self.rng.randint(1, 40)
        if self.pid > 4_000_000:
            self.pid = 3000
        return self.pid

    def metric(self) -> str:
        return f"stats.{self.rng.choice(HOSTS)}.{self.rng.choice(SERIES)}"

    def unique_metric(self) -> str:
        """A metric no other episode of this generation uses (ids stay distinct)."""
        self.serial += 1
        return f"stats.{self.rng.choice(HOSTS)}-{self.serial:07d}.{self.rng.choice(SERIES)}"

    def traceback(self, pid: int, then: str) -> None:
        err = self.rng.choice(
            [
                "KeyError: 'slack'",
                "ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
                "ValueError: too many values to unpack (expected 2)",
            ]
        )
        self.o.rec(pid, L.traceback_text(err, chained=self.rng.random() < 0.5))
        self.o.rec(pid, then)

    def noise(self) -> None:
        raise NotImplementedError

    def episode(self) -> int:
        raise NotImplementedError


class _Analyzer(_App):
    def __init__(self, out: _Out, rng: random.Random, serial: int):
        super().__init__(out, rng, serial)
        self.main = self.next_pid()
        self.manager = self.next_pid()
        self.run = 0

    def noise(self) -> None:
        o, r = self.o, self.rng
        self.run += 1
        metrics = r.randint(6000, 6400)
        if self.run % 3 == 0:
            for _ in range(r.randint(8, 24)):
                o.rec(self.manager, r.choice(MANAGER_LINES) % (r.randint(1, 9000), self.metric()))
        o.rec(self.main, "starting 2 of 2 spin_process/es")
        for _ in range(2):
            spin = self.next_pid()
            o.rec(spin, "spin_process started")
            o.rec(spin, f"assigned_metrics count: {metrics // 2}")
            o.rec(spin, f"unique_metrics count: {metrics}")
            for _ in range(r.randint(6, 16)):
                o.rec(spin, r.choice(SPIN_LINES) % (self.metric(), r.randint(1, 9999)))
            if r.random() < 0.2:
                o.rec(spin, L.added_check("ionosphere", self.metric(), o.now - 60))
            if r.random() < 0.05:
                self.traceback(spin, "error :: spin_process - failed to get metric timeseries")
            o.rec(spin, f"spin_process completed in {r.uniform(4, 12):.2f} seconds")
        o.rec(self.main, L.checking_for_alerts())
        o.rec(self.main, L.alerts_checked())
        o.rec(self.main, f"2 spin_process/es completed in {r.uniform(4, 12):.2f} seconds")
        o.rec(self.main, L.seconds_to_run(r.uniform(4, 12)))
        o.rec(self.main, f"total metrics      :: {metrics}")
        o.rec(self.main, f"total analyzed     :: {metrics - r.randint(900, 1500)}")
        o.rec(self.main, L.total_anomalies(0))
        o.rec(
            self.main,
            f"exception stats    :: {{'Stale': {r.randint(50, 300)}, "
            f"'Boring': {r.randint(600, 1200)}, 'TooShort': {r.randint(0, 40)}}}",
        )
        o.rec(self.main, "anomaly breakdown  :: {}")
        o.rec(self.main, f"sleeping {r.uniform(40, 56):.2f} seconds due to low run time...")

    def episode(self) -> int:
        """One slack alert (Skyline's own Slack off: 1 event; on: the alert + its thread, 2),
        sometimes also an smtp alert (+1)."""
        o, r = self.o, self.rng
        m, value, ts = self.unique_metric(), round(r.uniform(1, 500), 2), o.now - 60
        metric = L.analyzer_metric("v5", value, m, ts)
        slack = L.alert_list("stats", "slack", 3600, 0)
        o.rec(self.main, L.checking_for_alerts())
        o.rec(self.main, L.triggering_alert("v5", m, value, "slack"))
        events = 1
        if r.random() < 0.3:  # Skyline's own Slack on: it posts and logs the thread
            thread = f"{ts + 22}.{r.randrange(10**6):06d}"
            o.rec(self.main, L.slack_anomalous(slack, metric))
            o.rec(self.main, L.sent_slack_message())
            o.rec(self.main, L.slack_thread_ts(thread))
            o.rec(self.main, L.panorama_thread_hash(m, ts, thread))
            o.rec(self.main, L.panorama_thread_key(m, ts, thread))
            self.kinds["slack_thread"] += 1
            events += 1
        else:
            o.rec(self.main, L.slack_disabled(slack, metric))
        o.rec(self.main, L.analyzer_trigger_alert(slack, metric))  # the same alert again
        self.kinds["anomaly_alert"] += 1
        if r.random() < 0.3:
            o.rec(self.main, L.triggering_alert("v5", m, value, "smtp"))
            o.rec(
                self.next_pid(),
                "alert_smtp - will send to primary_recipient :: "
                "ops@example.org, cc_recipients :: False",
            )
            smtp = L.alert_list("stats", "smtp", 3600, 0, alert_id="internal-0")
            o.rec(self.main, L.analyzer_trigger_alert(smtp, metric, smtp=True))
            self.kinds["anomaly_alert"] += 1
            events += 1
        o.rec(self.main, L.alerts_checked())
        o.rec(self.main, L.total_anomalies(1))
        return events


class _Mirage(_App):
    def __init__(self, out: _Out, rng: random.Random, serial: int):
        super().__init__(out, rng, serial)
        self.main = self.next_pid()

    def noise(self) -> None:
        o, r = self.o, self.rng
        if r.random() < 0.5:  # a check: the check file, its variables, not anomalous
            spin, m, value = self.next_pid(), self.metric(), round(r.uniform(0, 300), 3)
            ts = o.now - 60
            o.rec(spin, L.check_file(m, ts))
            for name, var in (
                ("metric", m),
                ("value", value),
                ("hours_to_resolve", 168),
                ("metric_timestamp", ts),
                ("added_by", "analyzer"),
                ("added_at", ts + 7),
            ):
                o.rec(spin, f"debug :: metric variable - {name} - {var}")
            o.rec(spin, f"retrieved {r.randint(9000, 10080)} datapoints from Graphite for {m}")
            o.rec(spin, f"analyzing :: {m} at 604800 seconds")
            o.rec(spin, f"debug :: {r.randint(9000, 10080)} datapoints in timeseries for {m}")
            o.rec(spin, f"debug :: run_selected_algorithm took {r.uniform(0.1, 3):.4f} seconds")
            o.rec(spin, L.not_anomalous("v5", m, value))
            o.rec(spin, f"removed check file - /opt/skyline/mirage/check/{o.now - 60}.{m}.txt")
            if r.random() < 0.03:
                self.traceback(spin, "error :: failed to load timeseries from Redis")
        for _ in range(r.randint(4, 14)):
            o.rec(self.main, r.choice(MIRAGE_LINES) % (r.randint(0, 400), self.metric()))
        if r.random() < 0.2:
            o.rec(self.main, L.total_anomalies(0))

    def episode(self) -> int:
        """An anomaly confirmed at 7 days: one slack alert (3 lines, 1 event), sometimes smtp
        too (+1)."""
        o, r = self.o, self.rng
        spin, m, ts = self.next_pid(), self.unique_metric(), o.now - 60
        value, seconds = round(r.uniform(1, 500), 2), 604800
        metric = L.mirage_metric("v5", value, m, ts, seconds)
        o.rec(spin, L.check_file(m, ts))
        o.rec(spin, f"analyzing :: {m} at {seconds} seconds")
        o.rec(spin, L.added_anomaly(metric))
        o.rec(spin, L.anomaly_detected("v5", m, value))
        o.rec(self.main, f"not an Ionosphere metric checking whether to alert - {m}")
        slack = L.alert_list("stats", "slack", 3600, 168)
        o.rec(self.main, L.mirage_trigger_alert(slack, metric, seconds))
        o.rec(self.main, L.slack_disabled(slack, metric))
        o.rec(self.main, L.sent_alert("slack", m))
        self.kinds["anomaly_alert"] += 1
        events = 1
        if r.random() < 0.4:
            smtp = L.alert_list("stats", "smtp", 3600, 168)
            o.rec(self.main, L.mirage_trigger_alert(smtp, metric, seconds, smtp=True))
            o.rec(
                self.next_pid(),
                "alert_smtp - will send to primary_recipient :: "
                "ops@example.org, cc_recipients :: False",
            )
            self.kinds["anomaly_alert"] += 1
            events += 1
        o.rec(self.main, L.total_anomalies(1))
        return events


def _url(path: str = "ionosphere", **args: object) -> str:
    return f"{SKYLINE_URL}/{path}?" + "&".join(f"{k}={a}" for k, a in args.items())


class _Webapp(_App):
    def __init__(self, out: _Out, rng: random.Random, serial: int):
        super().__init__(out, rng, serial)
        self.workers = [self.next_pid() for _ in range(4)]
        out.raw(L.gunicorn_line(_dt(out.now), self.pid, "INFO", "Starting gunicorn 23.0.0"))
        self.fp_id = serial

    def request(self, pid: int, link: str, rid: str, user: str = "admin") -> None:
        """The lines a v5 /ionosphere request logs before its work (webapp.py:959-7994)."""
        o = self.o
        o.rec(pid, L.check_auth_request(link))
        o.rec(pid, L.get_user_details(user, 1 if user == "admin" else 2))
        o.rec(pid, L.starting_request("v5", rid, link))
        o.rec(pid, L.request_url(link))
        args = [a.split("=", 1) for a in link.split("?", 1)[1].split("&")]
        for _ in range(2):
            for key, value in args:
                o.rec(pid, L.request_argument(key, value))

    def rid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}{self.rng.getrandbits(128):032x}"

    def noise(self) -> None:
        o, r = self.o, self.rng
        pid = r.choice(self.workers)
        if r.random() < 0.05:  # a features profile page: an /ionosphere request, no event
            rid, m = self.rid(), self.metric()
            self.request(pid, _url(fp_view="true", fp_id=r.randint(1000, 9000), metric=m), rid)
            o.rec(
                pid,
                "ionoshere_backend.py :: features_profile_progeny getting the features "
                f"profile ids of the progeny of fp_id {r.randint(1000, 9000)}",
            )
            o.rec(pid, L.completed_request(rid, round(r.uniform(0.2, 4), 3)))
        else:  # API / panorama requests
            link = r.choice(API_URLS) % (self.metric(), o.now - r.randint(0, 86400))
            o.rec(pid, L.check_auth_request(link))
            for _ in range(r.randint(3, 10)):
                o.rec(pid, r.choice(WEBAPP_LINES) % (self.metric(), r.randint(0, 9999)))
        if r.random() < 0.02:
            self.traceback(pid, "error :: Webapp could not get metric id from Redis key")
            o.raw(L.gunicorn_line(_dt(o.now), pid, "ERROR", "Error handling request /api"))

    def episode(self) -> int:
        """A training data page view (1 event), often followed by a features profile created
        from it with learn=true (+1)."""
        o, r = self.o, self.rng
        pid, m, ts = r.choice(self.workers), self.unique_metric(), o.now - r.randint(600, 7200)
        link, rid = _url(timestamp=ts, metric=m), self.rid()
        self.request(pid, link, rid)
        o.rec(
            pid,
            L.getting_anomaly_id(
                _url(
                    "panorama",
                    metric=m,
                    from_timestamp=ts - 120,
                    until_timestamp=ts + 120,
                    panorama_anomaly_id="true",
                )
            ),
        )
        o.rec(pid, f"debug :: panorama anomaly data: [[98765, '{m}', 12.5, {ts}, 604800]]")
        o.rec(pid, f"metric_id looked up base_name: {m} and got metric_id: 271")
        o.rec(pid, L.metric_id_is(271))
        o.rec(pid, L.training_data_viewed(False))
        o.rec(pid, L.completed_request(rid, round(r.uniform(1, 4), 3)))
        self.kinds["training_data_viewed"] += 1
        if r.random() < 0.5:
            return 1
        self.fp_id += 1
        link, rid = (
            _url(
                timestamp=ts,
                metric=m,
                requested_timestamp=ts,
                add_fp="true",
                learn="true",
                label="none",
            ),
            self.rid(),
        )
        self.request(pid, link, rid)
        o.rec(pid, L.fp_pending_key(m, ts))
        o.rec(pid, L.fp_requested("training_data", m, ts, 1))
        o.rec(pid, L.learn_full_duration_days(30))
        o.rec(pid, L.generation_info_days(30))
        o.rec(pid, "create_features_profile :: determined db metric id: 271")
        o.rec(pid, L.new_fp_id(self.fp_id))
        o.rec(pid, L.fp_dir_created(self.fp_id, L.fp_profile_dir(m, ts)))
        o.rec(pid, L.disposing_engine())
        o.rec(pid, L.engine_dispose())
        o.rec(pid, L.learn_work_added("learn_fp_human", ts, m, self.fp_id, 0))
        o.rec(pid, L.completed_request(rid, round(r.uniform(2, 6), 3)))
        self.kinds["features_profile_created"] += 1
        return 2


class _Ionosphere(_App):
    def __init__(self, out: _Out, rng: random.Random, serial: int):
        super().__init__(out, rng, serial)
        self.main = self.next_pid()
        self.fp_id = serial

    def noise(self) -> None:
        o, r = self.o, self.rng
        o.rec(self.main, "starting 1 of 1 spin_process/es")
        spin, m = self.next_pid(), self.metric()
        o.rec(
            spin,
            "loading metric variables from import - metric_check_file - "
            f"/opt/skyline/ionosphere/check/{o.now - 60}.{m}.txt",
        )
        for _ in range(r.randint(3, 10)):
            o.rec(spin, r.choice(IONOSPHERE_LINES) % (m, r.randint(1000, 9000)))
        o.rec(
            spin,
            r.choice(
                [
                    f"not anomalous - features profile match - {m}",
                    f"anomalous - no features profile matched - {m}",
                ]
            ),
        )
        if r.random() < 0.03:
            self.traceback(spin, "error :: ionosphere - failed to calculate features")
        o.rec(
            self.main, f"ionosphere :: 1 spin_process/es completed in {r.uniform(1, 3):.2f} seconds"
        )
        if r.random() < 0.2:  # the learn child finds a work item that is not ready
            learn = self.next_pid()
            o.rec(learn, L.learn_child_pid(learn))
            item = L.learn_work_item(
                "learn_fp_human", o.now - 600, self.metric(), r.randint(1000, 9000), 0
            )
            o.rec(learn, L.learn_checking(item))
            o.rec(learn, L.learn_not_ready())

    def episode(self) -> int:
        """The learn child makes a new generation from a human-made profile: 1 event."""
        o, r = self.o, self.rng
        learn, m, ts = self.next_pid(), self.unique_metric(), o.now - 86400
        parent, self.fp_id = self.fp_id + 1, self.fp_id + 2
        item = L.learn_work_item("learn_fp_human", ts, m, parent, 0)
        o.rec(learn, L.learn_child_pid(learn))
        o.rec(learn, L.learn_checking(item))
        o.rec(learn, L.learn_ready(r.randint(3600, 7200)))
        o.rec(learn, L.learn_processing("learn_fp_human", m, item))
        o.rec(learn, "learn :: human generated :: generation limit OK at 1")
        o.rec(learn, L.fp_requested("ionosphere_learn", m, o.now, 1))
        o.rec(learn, L.determined_anomaly_timestamp(ts))
        o.rec(learn, L.new_fp_id(self.fp_id))
        o.rec(learn, L.learn_new_generation("human generated", 1, self.fp_id, 30, parent))
        self.kinds["features_profile_learnt"] += 1
        return 1


MANAGER_LINES = [
    "metrics_manager :: %s external_settings from cache %s",
    "metrics_manager :: %s metrics in namespace, last checked %s",
    "metrics_manager :: set Redis hash key analyzer.metrics_manager.hash_key.metrics_data_"
    "sparsity.%s - %s",
    "metrics_manager :: %s boundary metrics, smtp_alerter_metrics includes %s",
    "metrics_manager :: determined %s unique_base_names, example %s",
    "metrics_manager :: flux.last.metric_timestamp %s for %s",
]
SPIN_LINES = [
    "debug :: metric %s - %s datapoints not anomalous",
    "skipping stale metric %s - last timestamp %s seconds ago",
    "debug :: %s - run_selected_algorithm took %s ms",
    "not alerting - Ionosphere metric - %s (%s)",
    "added mirage check :: %s,%s,168",
    "debug :: %s boring with %s unique values",
]
MIRAGE_LINES = [
    "run :: %s check files found, last check %s",
    "mirage_labelled_metrics :: %s labelled metrics, last %s",
    "debug :: surfaced %s metrics from Redis, first %s",
    "vortex :: %s results pending, last %s",
    "run :: no checks to process, %s checked, last %s",
]
API_URLS = [
    SKYLINE_URL + "/api?graphite_metric=%s&from_timestamp=%s&until_timestamp=now",
    SKYLINE_URL + "/panorama?metric=%s&from_timestamp=%s&panorama_anomaly_id=true",
    SKYLINE_URL + "/api?metric=%s&timestamp=%s&get_anomaly_id=true",
]
WEBAPP_LINES = [
    "api :: graphite_metric %s from_timestamp %s",
    "panorama :: getting anomalies for %s, limit %s",
    "get_anomalies :: %s anomalies found, %s",
    "debug :: webapp_update_slack_thread - %s - %s - not slack",
    "api :: returning json for %s (%s items)",
]
IONOSPHERE_LINES = [
    "calculating features for %s - %s datapoints",
    "debug :: fp_id %s - minmax scaled features_sum %s",
    "checking features profile %s ids %s",
    "debug :: echo - %s - fp_id %s not a match",
]

_APPS: dict[str, type[_App]] = {
    "analyzer": _Analyzer,
    "mirage": _Mirage,
    "webapp": _Webapp,
    "ionosphere": _Ionosphere,
}


def write_log(
    path: Path,
    app: str,
    size: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    seed: int = 0,
    serial: int = 0,
    event_every: int = EVENT_EVERY,
) -> GenStats:
    """Write about ``size`` bytes (a little more: whole records) of ``app``'s log to ``path``,
    log times spread over [start, end] (default: one day). ``serial`` starts the range of
    unique metric and fp ids: give files that are read into one store distinct ranges."""
    start = start or datetime(2026, 11, 25)
    end = end or start + timedelta(seconds=86399)
    rng = random.Random(f"{seed}:{app}:{serial}")
    out = _Out(Path(path), size, start, end)
    gen = _APPS[app](out, rng, serial)
    events = 0
    try:
        next_at = rng.randint(event_every // 2, event_every * 3 // 2)
        while out.nbytes < size:
            out.tick()  # one log time per block: a request's lines are not minutes apart
            if out.lines >= next_at:
                n = gen.episode()
                events += n
                next_at = out.lines + n * rng.randint(event_every // 2, event_every * 3 // 2)
            else:
                gen.noise()
    finally:
        out.close()
    return GenStats(Path(path), app, out.written, out.lines, out.records, events, gen.kinds)


def write_log_dir(
    log_dir: Path,
    total: int,
    *,
    apps: tuple[str, ...] = APPS,
    days: int = 6,
    today: date = date(2026, 11, 26),
    gzipped: tuple[tuple[str, int], ...] = (("analyzer", 5), ("mirage", 5)),
    seed: int = 0,
) -> dict[Path, GenStats]:
    """A Skyline LOG_PATH: per app ``<app>.log.YYYY-MM-DD`` for ``days - 1`` past days plus the
    live ``<app>.log``, ``total`` bytes split by APP_WEIGHTS; the (app, days ago) in
    ``gzipped`` are compressed (logrotate style, ``gzip -n``). Returns the final path of each
    file (``.gz`` included) and what was written to it (uncompressed)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    weight = sum(APP_WEIGHTS[a] for a in apps)
    files: dict[Path, GenStats] = {}
    serial = 0
    for app in apps:
        size = int(total * APP_WEIGHTS[app] / weight / days)
        for ago in range(days - 1, -1, -1):
            day = today - timedelta(days=ago)
            start = datetime(day.year, day.month, day.day)
            name = f"{app}.log" if ago == 0 else f"{app}.log.{day.isoformat()}"
            path = log_dir / name
            stats = write_log(
                path,
                app,
                size,
                start=start,
                end=start + timedelta(seconds=86399),
                seed=seed,
                serial=serial,
            )
            serial += 10_000_000
            if ago:  # a rotated file was last written at its midnight
                mtime = calendar.timegm((day + timedelta(days=1)).timetuple()) - 1
                os.utime(path, (mtime, mtime))
            if (app, ago) in gzipped:
                subprocess.run(["gzip", "-n", "-f", str(path)], check=True)
                path = path.with_name(path.name + ".gz")
            files[path] = stats
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--mb", type=float, default=100.0, help="MiB in all (default 100)")
    parser.add_argument("--app", choices=APPS, help="one <app>.log only (default: a log dir)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    size = int(args.mb * MIB)
    if args.app:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        files = {
            args.out_dir / f"{args.app}.log": write_log(
                args.out_dir / f"{args.app}.log", args.app, size, seed=args.seed
            )
        }
    else:
        files = write_log_dir(args.out_dir, size, seed=args.seed)
    for path, stats in files.items():
        print(f"{path}: {stats.bytes} bytes, {stats.lines} lines, {stats.events} events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
