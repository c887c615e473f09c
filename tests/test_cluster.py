"""A Skyline cluster, one Slack: two sidecar daemons (``python -m sidecar run``), each with its own
log directory and state database, against one fake Slack. The host that logs a lifecycle event
is not the host that posted the alert: its sidecar finds the alert's thread in Slack."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.fakeslack import FakeSlack
from tests.support.skyline_sim import SkylineApp, wait_for
from tests.test_daemon import SKYLINE_URL, start, webapp_create, webapp_view
from tests.test_status_check import cli

METRIC = "stats.web01.cpu.user"
VIEWED = "The training data page has been reviewed"

pytestmark = pytest.mark.slow


@dataclass
class Host:
    """One Skyline host: its logs (mirage, webapp), its sidecar's config, state and process."""

    name: str
    root: Path
    fake: FakeSlack
    stack: ExitStack
    settings: dict[str, object] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        (self.root / "logs").mkdir(parents=True)
        self.mirage = self.stack.enter_context(SkylineApp(self.root / "logs", "mirage"))
        self.webapp = self.stack.enter_context(SkylineApp(self.root / "logs", "webapp"))

    @property
    def db(self) -> Path:
        return self.root / "state.sqlite"

    def config(self) -> Path:
        sidecar = {"host": self.name, "cluster": True, **self.settings}
        cfg = self.root / "config.toml"
        cfg.write_text(
            "[skyline]\n"
            f'log_dir = "{self.root / "logs"}"\n'
            f'url = "{SKYLINE_URL}"\n'
            "[slack]\n"
            f'base_url = "{self.fake.base_url}"\n'
            'default_channel = "#skyline"\n'
            "lifecycle_grace_seconds = 2\n"
            "[state]\n"
            f'path = "{self.db}"\n'
            "[sidecar]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in sidecar.items())
        )
        return cfg

    def start(self) -> None:
        self.proc = start(self.config(), self.fake, "--from-start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    def settled(self) -> bool:
        """Something read, nothing waiting: every event planned, every action delivered."""
        return (
            self.query("SELECT COUNT(*) > 0 FROM events") == [(1,)]
            and self.query("SELECT COUNT(*) FROM events WHERE planned = 0") == [(0,)]
            and self.query("SELECT COUNT(*) FROM outbox WHERE state != 'done'") == [(0,)]
        )


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeSlack, Host, Host]]:
    with FakeSlack() as fake, ExitStack() as stack:
        fake.add_channel("#skyline")
        a = Host("host-a", tmp_path / "a", fake, stack)
        b = Host("host-b", tmp_path / "b", fake, stack)
        try:
            yield fake, a, b
        finally:
            a.stop()
            b.stop()


def history_calls(fake: FakeSlack) -> int:
    return len(fake.calls_to("conversations.history"))


def thread_texts(fake: FakeSlack) -> list[str]:
    parent = fake.messages("#skyline")[0]
    return [m.text for m in fake.replies("#skyline", parent.ts)]


def recent_ts() -> int:
    """An anomaly a few minutes ago: Slack's (the fake's) message ts are wall-clock times."""
    return int(time.time()) - 300


def test_lifecycle_events_on_the_other_host_land_in_the_alerts_thread(cluster):
    fake, a, b = cluster
    ts = recent_ts()
    a.start()
    b.start()
    a.mirage.alert(METRIC, ts)
    assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=30)
    assert wait_for(a.settled, timeout=30)
    before, first_call = history_calls(fake), len(fake.calls)
    # host B's webapp serves the training data page and the features profile for it
    webapp_view(b.webapp, METRIC, ts, "admin")
    webapp_create(b.webapp, 1234, METRIC, ts)
    assert wait_for(lambda: len(thread_texts(fake)) == 2, timeout=30), thread_texts(fake)
    assert wait_for(b.settled, timeout=30)
    parent = fake.messages("#skyline")[0]
    assert len(fake.messages("#skyline")) == 1  # nothing top-level from host B
    texts = thread_texts(fake)
    assert texts[0] == VIEWED and texts[1].startswith("*TRAINED - not anomalous*")
    assert fake.reactions("#skyline", parent.ts) == {"eyes": 1, "thumbsup": 1}
    # B found it once (the second event used the thread stored by the first search)
    assert b.query("SELECT origin, ts FROM threads") == [("found", parent.ts)]
    assert b.query("SELECT state, calls FROM thread_searches") == [("found", 1)]
    assert history_calls(fake) - before == 1
    # what host B's two events cost in all: the search, the channel list (once per host, then
    # cached), a reply and a reaction each
    assert Counter(c.method for c in fake.calls[first_call:]) == {
        "conversations.history": 1,
        "conversations.list": 1,
        "chat.postMessage": 2,
        "reactions.add": 2,
    }
    # the alert post names its key and its host in the metadata
    payload = parent.metadata["event_payload"]
    assert (payload["metric"], payload["anomaly_timestamp"], payload["host"]) == (
        METRIC,
        ts,
        "host-a",
    )


def test_the_same_alert_logged_on_both_hosts_is_posted_once(cluster):
    fake, a, b = cluster
    ts = recent_ts()
    a.start()
    b.start()
    a.mirage.alert(METRIC, ts)
    assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=30)
    before = history_calls(fake)
    b.mirage.alert(METRIC, ts)  # a shard move: host B logs the same anomaly's alert
    assert wait_for(lambda: b.query("SELECT origin FROM threads") == [("found",)], timeout=30)
    assert wait_for(b.settled, timeout=30)
    (parent,) = fake.messages("#skyline")
    assert b.query("SELECT ts FROM threads") == [(parent.ts,)]
    assert history_calls(fake) - before == 1  # one page, before posting
    # and B's lifecycle events for it go to A's thread
    webapp_view(b.webapp, METRIC, ts, "admin")
    assert wait_for(lambda: thread_texts(fake) == [VIEWED], timeout=30)
    assert wait_for(lambda: fake.reactions("#skyline", parent.ts) == {"eyes": 1}, timeout=30)
    assert len(fake.messages("#skyline")) == 1


@pytest.mark.parametrize("victim", ["poster", "finder"])
def test_a_kill_9_of_either_host_loses_and_repeats_nothing(cluster, victim):
    fake, a, b = cluster
    ts = recent_ts()
    a.start()
    b.start()
    a.mirage.alert(METRIC, ts)
    assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=30)
    webapp_view(b.webapp, METRIC, ts, "admin")
    host = a if victim == "poster" else b
    host.kill9()  # B may be mid-search, or done: either way its events land once
    webapp_create(b.webapp, 1234, METRIC, ts)
    if victim == "finder":
        b.start()
    assert wait_for(lambda: len(thread_texts(fake)) == 2, timeout=30), thread_texts(fake)
    assert wait_for(b.settled, timeout=30)
    time.sleep(1.0)  # nothing more comes
    (parent,) = fake.messages("#skyline")
    assert [t.split(" - ")[0] for t in thread_texts(fake)] == [VIEWED, "*TRAINED"]
    assert fake.reactions("#skyline", parent.ts) == {"eyes": 1, "thumbsup": 1}


def test_a_long_history_is_paged_and_the_page_cap_bounds_the_search(cluster):
    fake, a, b = cluster
    ts = recent_ts()
    a.start()
    a.mirage.alert(METRIC, ts)
    assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=30)
    a.stop()
    for i in range(450):  # a busy channel: the alert is on the third page (200 a page)
        fake.seed_message("#skyline", f"chatter {i} ionosphere?timestamp={ts}")
    b.settings = {"thread_search_pages": 2}
    b.start()
    webapp_view(b.webapp, METRIC, ts, "admin")
    assert wait_for(lambda: b.query("SELECT state FROM thread_searches") == [("miss",)], timeout=30)
    assert wait_for(b.settled, timeout=30)
    # two pages read, no alert on them: a miss, and the event goes unthreaded (nothing posted)
    assert b.query("SELECT state, calls FROM thread_searches") == [("miss", 2)]
    assert thread_texts(fake) == [] and len(fake.messages("#skyline")) == 451
    b.stop()
    b.settings = {"thread_search_pages": 5, "thread_search_miss_seconds": 0}
    b.start()
    webapp_create(b.webapp, 1234, METRIC, ts)
    assert wait_for(lambda: len(thread_texts(fake)) == 1, timeout=30)
    assert wait_for(b.settled, timeout=30)
    assert b.query("SELECT state, calls FROM thread_searches") == [("found", 5)]  # 2 + 3
    assert len(fake.messages("#skyline")) == 451


def test_an_alert_posted_after_the_window_is_not_found(cluster):
    fake, a, b = cluster
    ts = int(time.time()) - 3 * 86400  # the window (24 h from the anomaly) ended 2 days ago
    a.start()
    b.start()
    a.mirage.alert(METRIC, ts)
    assert wait_for(lambda: len(fake.messages("#skyline")) == 1, timeout=30)
    before = history_calls(fake)
    webapp_view(b.webapp, METRIC, ts, "admin")
    assert wait_for(lambda: b.query("SELECT state FROM thread_searches") == [("miss",)], timeout=30)
    assert wait_for(b.settled, timeout=30)
    assert thread_texts(fake) == [] and len(fake.messages("#skyline")) == 1
    assert history_calls(fake) - before == 1  # one empty page: the search gave up at once


def test_skylines_own_alert_is_found_by_its_training_link_and_a_miss_is_not_repeated(cluster):
    """Skyline's own Slack (or a file share, which carries no metadata): the alert is known
    by the training data link in its text. A burst of events with no alert searches once."""
    fake, _, b = cluster
    ts = recent_ts()
    link = f"{SKYLINE_URL}/ionosphere?timestamp={ts}&amp;metric={METRIC}"
    parent_ts = fake.seed_message(
        "#skyline",
        f"*Skyline Mirage alert* - {METRIC} ...\n*Ionosphere training dir* :: "
        f"<{link}|training data link> :: for anomaly at ...",
        user="UBOT0SKYLINE",
    )
    b.settings = {"thread_search_miss_seconds": 600}
    b.start()
    webapp_view(b.webapp, METRIC, ts, "admin")
    assert wait_for(lambda: thread_texts(fake) == [VIEWED], timeout=30)
    assert wait_for(b.settled, timeout=30)
    assert fake.reactions("#skyline", parent_ts) == {"eyes": 1}
    before = history_calls(fake)
    other = "stats.web02.cpu.user"  # never alerted to Slack: viewed, two profiles made
    webapp_view(b.webapp, other, ts, "admin")
    webapp_create(b.webapp, 2001, other, ts)
    webapp_create(b.webapp, 2002, other, ts)
    burst = f"SELECT COUNT(*), SUM(planned) FROM events WHERE metric = '{other}'"
    assert wait_for(lambda: b.query(burst) == [(3, 3)], timeout=30), b.query(burst)
    assert history_calls(fake) - before == 1
    assert len(fake.messages("#skyline")) == 1


def test_status_and_logs_say_which_host_they_speak_for(cluster):
    fake, _, b = cluster
    b.start()
    webapp_view(b.webapp, METRIC, recent_ts(), "admin")  # nothing in Slack: a miss
    assert wait_for(lambda: b.query("SELECT state FROM thread_searches") == [("miss",)], timeout=30)
    b.stop()
    out = cli("status", "--config", str(b.config())).stdout
    assert out.splitlines()[0] == "host: host-b (cluster: threads looked for in Slack)"
    assert "thread searches in Slack: 1 miss; 1 history calls" in out
    data = json.loads(cli("status", "--config", str(b.config()), "--format", "json").stdout)
    assert (data["host"], data["clustered"]) == ("host-b", True)
    # the daemon's log lines (JSON under systemd) name the host
    run = cli(
        "run",
        "--config",
        str(b.config()),
        "--dry-run",
        "--exit-after",
        "0.5",
        env={"SLACK_BOT_TOKEN": fake.token},
    )
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert lines and all(line.get("host") == "host-b" for line in lines), run.stderr
