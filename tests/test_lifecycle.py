"""The features-profile lifecycle as Skyline posts it: logs in (Skyline's own lines, parsed),
planned, delivered through slack_sdk to FakeSlack. Learnt generations, disabled families,
muted metrics, waiting events that hold nothing back, and time zones."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from parsers import LogParser
from parsers.events import (
    AlertMuted,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
)
from sidecar.config.logtime import log_epoch, log_zone
from sidecar.pipeline import plan_pending
from sidecar.slack.planner import alert_key
from sidecar.state.store import Store
from tests.support import skyline_lines as L
from tests.support.slack_pipeline import (
    METRIC,
    TS,
    alert,
    deliverer_for,
    drain,
    lifecycle,
    make_config,
    with_slack,
)
from tests.support.store_queries import actions

URL = "https://skyline.example.com"
T0 = datetime(2026, 11, 26, 13, 10, 14)
LATER_TS = TS + 90000  # a later check's timestamp: what a learn_fp_learnt work item carries


def fp_link(fp_id: int) -> str:
    return f"{URL}/ionosphere?fp_view=true&amp;fp_id={fp_id}&amp;metric={METRIC}"


def parse(app: str, *records: tuple[datetime, int, str]) -> list[Event]:
    """Skyline's lines for ``app``, as it writes them, through the real parser."""
    parser = LogParser(app, f"{app}.log")
    text = "".join(L.line(at, pid, msg) for at, pid, msg in records)
    return parser.feed(text.encode()) + parser.finish()


def mirage_alert(at: datetime, ts: int = TS, metric: str = METRIC) -> tuple[datetime, int, str]:
    return (
        at,
        23456,
        L.slack_disabled(
            L.alert_list("stats", "slack", 3600, 168), L.mirage_metric("v5", 87.5, metric, ts)
        ),
    )


def webapp_created(at: datetime, fp_id: int) -> list[tuple[datetime, int, str]]:
    link = (
        f"{URL}/ionosphere?timestamp={TS}&metric={METRIC}&requested_timestamp={TS}"
        "&add_fp=true&learn=true"
    )
    pid = 3120441
    return [
        (at, pid, L.request_url(link)),
        (at, pid, L.fp_requested("training_data", METRIC, TS, 1)),
        (at, pid, L.learn_full_duration_days(30)),
        (at, pid, L.new_fp_id(fp_id)),
        (at, pid, L.fp_dir_created(fp_id, L.fp_profile_dir(METRIC, TS))),
        (at, pid, L.learn_work_added("learn_fp_human", TS, METRIC, fp_id, 0)),
    ]


def learnt(
    at: datetime,
    job: str,
    ts: int,
    parent: int,
    parent_generation: int,
    fp_id: int,
    pid: int = 2240915,
) -> list[tuple[datetime, int, str]]:
    """ionosphere.log: the learn child's work item, then the new generation."""
    item = L.learn_work_item(job, ts, METRIC, parent, parent_generation)
    context = "human generated" if job == "learn_fp_human" else "automatically generated"
    return [
        (at, pid, L.learn_checking(item)),
        (at, pid, L.learn_processing(job, METRIC, item)),
        (at, pid, L.determined_anomaly_timestamp(ts)),
        (at, pid, L.learn_new_generation(context, parent_generation + 1, fp_id, 30, parent)),
    ]


def disabled(at: datetime, ids: list[int]) -> list[tuple[datetime, int, str]]:
    pid = 3120442
    link = f"{URL}/ionosphere?fp_view=true&timestamp={TS}&metric={METRIC}&disable_fp={ids[0]}"
    return [
        (at, pid, L.request_url(link)),
        (at, pid, L.disable_fp_is_set(ids[0])),
        (at, pid, L.disabling_fp_ids(ids)),
    ]


@pytest.fixture
def setup(tmp_path, fake_slack) -> Iterator[tuple]:
    config = make_config(tmp_path, fake_slack.base_url)
    store = Store.open(config.state.path)
    yield fake_slack, config, store
    store.close()


# -- the lineage: created -> learnt gen 1 -> learnt gen 2 -> disabled family ------------------


def test_three_generations_and_the_disabled_family_land_in_the_alerts_thread(setup):
    fake, config, store = setup
    config = with_slack(config, lifecycle_grace_seconds=300.0)
    events = (
        parse("mirage", mirage_alert(T0))
        + parse("webapp", *webapp_created(T0 + timedelta(minutes=5), 1234))
        + parse(
            "ionosphere",
            *learnt(T0 + timedelta(hours=1), "learn_fp_human", TS, 1234, 0, 1240),
            *learnt(
                T0 + timedelta(hours=26), "learn_fp_learnt", LATER_TS, 1240, 1, 1251, pid=2241020
            ),
        )
        + parse("webapp", *disabled(T0 + timedelta(hours=27), [1234, 1240, 1251]))
    )
    gen2 = next(e for e in events if isinstance(e, FeaturesProfileLearnt) and e.generation == 2)
    assert gen2.anomaly_timestamp == LATER_TS  # not the alert's: found through the registry
    store.ingest(events, None)
    start = time.monotonic()
    drain(store, config, deliverer_for(store, config))
    assert time.monotonic() - start < 10  # at once: nothing waited for its grace period

    parent, *posts = fake.messages("#skyline")
    replies = [m.text for m in fake.replies("#skyline", parent.ts)]
    dis = (
        f"*DISABLED* - features profile id 1234 and 2 related features profiles were disabled"
        f" for {METRIC} via webapp - {fp_link(1234)}"
    )
    assert replies == [
        f"*TRAINED - not anomalous* - features profile id 1234 was created for {METRIC} via"
        f" webapp - {fp_link(1234)} AND set to *LEARN* at 30 days",
        f"*LEARNING - not anomalous at 30 days* - features profile id 1240 was created using 30"
        f" days data for {METRIC} via ionosphere - {fp_link(1240)}",
        f"*LEARNT - not anomalous* - features profile id 1251 was created for {METRIC} via"
        f" ionosphere - {fp_link(1251)}",
        dis,
    ]
    validate = (
        f"{URL}/ionosphere?fp_validate=true&amp;metric={METRIC}&amp;validated_equals=false"
        "&amp;limit=0&amp;order=DESC"
    )
    assert [m.text for m in posts] == [
        f"*Skyline Ionosphere LEARNT* - features profile id 1251 for {METRIC} was learnt by"
        f" ionosphere - {fp_link(1251)} - *Please validate this* at {validate}",
        dis,
    ]
    assert fake.reactions("#skyline", parent.ts) == {"thumbsup": 1, "heavy_check_mark": 1, "x": 1}
    assert store.profile(1251).anomaly_timestamp == TS  # the registry now knows its origin


def test_a_later_generation_finds_the_thread_of_a_previous_run(setup, tmp_path):
    fake, config, store = setup
    store.ingest(
        parse("mirage", mirage_alert(T0))
        + parse("webapp", *webapp_created(T0 + timedelta(minutes=5), 1234))
        + parse(
            "ionosphere", *learnt(T0 + timedelta(hours=1), "learn_fp_human", TS, 1234, 0, 1240)
        ),
        None,
    )
    drain(store, config, deliverer_for(store, config))
    store.close()
    # a new process, a new parser: only the state database remembers the lineage
    store = Store.open(config.state.path)
    try:
        store.ingest(
            parse(
                "ionosphere",
                *learnt(T0 + timedelta(hours=26), "learn_fp_learnt", LATER_TS, 1240, 1, 1251),
            ),
            None,
        )
        drain(
            store, with_slack(config, lifecycle_grace_seconds=300.0), deliverer_for(store, config)
        )
    finally:
        store.close()
    parent = fake.messages("#skyline")[0]
    texts = [m.text for m in fake.replies("#skyline", parent.ts)]
    assert texts[-1].startswith("*LEARNT - not anomalous* - features profile id 1251 was created")


def test_layers_created_reply_with_the_viewed_emoji_as_skyline_does(setup):
    fake, config, store = setup
    link = (
        f"{URL}/ionosphere?fp_view=true&timestamp={TS}&metric={METRIC}&fp_id=1234"
        "&add_fp_layer=true&fp_layer_label=tuesday_pentest"
    )
    at = T0 + timedelta(hours=2)
    store.ingest(
        parse("mirage", mirage_alert(T0))
        + parse(
            "webapp",
            *webapp_created(T0 + timedelta(minutes=5), 1234),
            (at, 3120442, L.request_url(link)),
            (at, 3120442, L.new_layer_id(17)),
        ),
        None,
    )
    drain(store, config, deliverer_for(store, config))
    parent = fake.messages("#skyline")[0]
    assert fake.replies("#skyline", parent.ts)[-1].text == (
        "*TRAINED layers* - with label - tuesday_pentest, layers were created on features profile"
        f" id 1234 for {METRIC} - {fp_link(1234)}"
    )
    assert fake.reactions("#skyline", parent.ts) == {"thumbsup": 1, "eyes": 1}


def test_labelled_anomalies_reply_in_every_thread_of_the_range(setup):
    fake, config, store = setup
    names = [METRIC, "stats.web02.mem.free", "carbon.relays.a", "other.metric", "STATS.WEB09.MEM.x"]
    alerts = [mirage_alert(T0, ts=TS + 10 * i, metric=m) for i, m in enumerate(names)]
    alerts.append(mirage_alert(T0, ts=TS + 7200, metric=METRIC))  # outside the range
    at, pid = T0 + timedelta(hours=3), 3120441
    store.ingest(
        parse("mirage", *alerts)
        + parse(
            "webapp",
            (at, pid, L.label_list("metrics", [METRIC])),
            (at, pid, L.label_list("namespaces", ["stats.web0_.mem", "carbon"])),
            (at, pid, L.label_anomalies(TS - 60, TS + 3600, "pentest & <b>")),
        ),
        None,
    )
    drain(store, config, deliverer_for(store, config))
    labelled = {
        m.text.split(" at ")[0].split(" - ")[1]
        for m in fake.messages("#skyline")
        if [r.text for r in fake.replies("#skyline", m.ts)]
        == ["*LABELLED* - pentest &amp; &lt;b&gt;"]
    }
    assert labelled == {METRIC, "stats.web02.mem.free", "carbon.relays.a", "STATS.WEB09.MEM.x"}
    assert sum(len(fake.replies("#skyline", m.ts)) for m in fake.messages("#skyline")) == 4
    assert all(fake.reactions("#skyline", m.ts) == {} for m in fake.messages("#skyline"))


# -- a waiting event holds nothing back -----------------------------------------------------


def test_a_waiting_event_never_blocks_an_unrelated_one(setup):
    fake, config, store = setup
    config = with_slack(config, lifecycle_grace_seconds=300.0)
    store.ingest(
        [
            alert(),
            lifecycle(
                FeaturesProfileCreated,
                fp_id=6101,
                metric=METRIC,
                anomaly_timestamp=TS,
                learn=True,
                learn_days=30,
            ),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    # a generation whose lineage is not read yet (another metric's profile): it waits ...
    store.ingest(
        [
            lifecycle(
                FeaturesProfileLearnt,
                app="ionosphere",
                fp_id=7002,
                parent_fp_id=7001,
                generation=2,
                metric="stats.other",
                anomaly_timestamp=LATER_TS,
                learn_days=30,
                job="learn_fp_learnt",
            ),
            # ... and a disable of a family whose thread is known is planned at once
            lifecycle(FeaturesProfileDisabled, fp_ids=(6101, 6111, 6120)),
        ],
        None,
    )
    deliverer = deliverer_for(store, config)
    plan_pending(store, config)
    assert store.counts()["events_waiting"] == 1
    parent = fake.messages("#skyline")[0]
    for _ in range(100):
        deliverer.run_once()
        replies = [m.text for m in fake.replies("#skyline", parent.ts)]
        if len(replies) == 2 and fake.reactions("#skyline", parent.ts).get("x"):
            break
        time.sleep(0.1)
    assert store.counts()["events_waiting"] == 1  # still waiting, nothing held back
    assert replies[-1].startswith("*DISABLED* - features profile id 6101 and 2 related")
    assert fake.reactions("#skyline", parent.ts)["x"] == 1


def test_channel_posts_do_not_wait_for_a_thread(setup):
    fake, config, store = setup
    config = with_slack(config, lifecycle_grace_seconds=300.0)
    store.ingest(
        [
            lifecycle(
                FeaturesProfileLearnt,
                app="ionosphere",
                fp_id=7002,
                parent_fp_id=7001,
                generation=2,
                metric=METRIC,
                anomaly_timestamp=LATER_TS,
                learn_days=30,
                job="learn_fp_learnt",
            ),
            lifecycle(FeaturesProfileDisabled, fp_ids=(7001, 7002)),
        ],
        None,
    )
    deliverer = deliverer_for(store, config)
    for _ in range(100):
        plan_pending(store, config)
        deliverer.run_once()
        if len(fake.messages("#skyline")) == 2:
            break
        time.sleep(0.1)
    texts = [m.text for m in fake.messages("#skyline")]
    assert texts[0].startswith("*Skyline Ionosphere LEARNT* - features profile id 7002")
    assert texts[1].startswith("*DISABLED* - features profile id 7001 and 1 related")
    assert store.counts()["events_waiting"] == 2  # their thread replies may still come
    # the alert is read late: the replies go to its thread, the posts are not repeated
    store.ingest(
        [
            alert(),
            lifecycle(FeaturesProfileCreated, fp_id=7001, metric=METRIC, anomaly_timestamp=TS),
        ],
        None,
    )
    drain(store, config, deliverer)
    *posts, parent = fake.messages("#skyline")
    assert [m.text for m in posts] == texts and f"{METRIC} at 7 days" in parent.text
    assert [m.text[:12] for m in fake.replies("#skyline", parent.ts)] == [
        "*TRAINED - n",
        "*LEARNT - no",
        "*DISABLED* -",
    ]


def test_disabled_thread_copy_only_while_the_thread_is_younger_than_a_week(setup):
    fake, config, store = setup
    old_ts = int(time.time()) - 30 * 86400
    store.ingest(
        [
            alert(ts=old_ts),
            lifecycle(FeaturesProfileCreated, fp_id=9, metric=METRIC, anomaly_timestamp=old_ts),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    parent = fake.messages("#skyline")[0]
    # disabled now: the thread was posted just now, so it is young: copy and x
    now = datetime.now().replace(microsecond=0)
    store.ingest([lifecycle(FeaturesProfileDisabled, fp_ids=(9,), logged_at=now)], None)
    drain(store, config, deliverer_for(store, config))
    assert fake.reactions("#skyline", parent.ts).get("x") == 1
    # disabled (logged) eight days after the thread was posted: the channel post only
    store.ingest(
        [lifecycle(FeaturesProfileDisabled, fp_ids=(9, 10), logged_at=now + timedelta(days=8))],
        None,
    )
    before = len(fake.replies("#skyline", parent.ts))
    drain(store, config, deliverer_for(store, config))
    assert len(fake.replies("#skyline", parent.ts)) == before
    assert fake.messages("#skyline")[-1].text.startswith(
        "*DISABLED* - features profile id 9 and 1 related features profile were disabled"
    )


def test_single_validation_is_silent_unless_switched_on(setup):
    fake, config, store = setup
    store.ingest(
        [
            alert(),
            lifecycle(FeaturesProfileCreated, fp_id=9, metric=METRIC, anomaly_timestamp=TS),
            lifecycle(FeaturesProfilesValidated, fp_ids=(9,), validated_count=1),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    parent = fake.messages("#skyline")[0]
    assert len(fake.replies("#skyline", parent.ts)) == 1  # the TRAINED reply only
    config = with_slack(config, message_on_single_validated_features_profile=True)
    store.ingest(
        [
            lifecycle(
                FeaturesProfilesValidated,
                fp_ids=(9,),
                validated_count=1,
                logged_at=T0 + timedelta(hours=1),
            )
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    assert fake.replies("#skyline", parent.ts)[-1].text.startswith(
        "*VALIDATED* - features profile id 9 was validated"
    )


def test_learnt_switch_off_posts_nothing_but_keeps_the_lineage(setup):
    fake, config, store = setup
    config = with_slack(config, message_on_features_profile_learnt=False)
    store.ingest(
        parse("mirage", mirage_alert(T0))
        + parse(
            "ionosphere",
            *learnt(T0 + timedelta(hours=1), "learn_fp_human", TS, 1234, 0, 1240),
            *learnt(
                T0 + timedelta(hours=26), "learn_fp_learnt", LATER_TS, 1240, 1, 1251, pid=2241020
            ),
        ),
        None,
    )
    drain(store, config, deliverer_for(store, config))
    assert len(fake.messages("#skyline")) == 1
    assert fake.replies("#skyline", fake.messages("#skyline")[0].ts) == []
    assert store.profile(1251).parent_fp_id == 1240


# -- muted metrics ----------------------------------------------------------------------------


@pytest.mark.parametrize("skyline_slack", ["off", "on"])
def test_a_muted_metric_is_never_posted_and_the_next_alert_is(setup, skyline_slack):
    fake, config, store = setup
    alert_list = L.alert_list("stats", "slack", 3600, 168)
    muted_at, later = T0, T0 + timedelta(minutes=10)
    if skyline_slack == "off":
        # smtp (a child process) first, then alert_slack's SLACK_ENABLED is False line
        cycle = [(muted_at, 23510, L.muted("smtp", METRIC)), mirage_alert(muted_at)]
    else:
        # Skyline's own Slack: alert_slack logs the alert, then that it is muted
        cycle = [
            (
                muted_at,
                23456,
                L.slack_anomalous(alert_list, L.mirage_metric("v5", 87.5, METRIC, TS)),
            ),
            (muted_at, 23456, L.muted("slack", METRIC)),
        ]
    events = parse("mirage", *cycle, mirage_alert(later, ts=TS + 600))
    assert any(isinstance(e, AlertMuted) for e in events)
    store.ingest(events, None)
    drain(store, config, deliverer_for(store, config))
    [posted] = fake.messages("#skyline")
    assert f"{METRIC} at 7 days" in posted.text and store.thread(METRIC, TS) is None
    assert store.thread(METRIC, TS + 600) is not None


def test_a_muted_line_read_in_a_later_batch_of_the_same_cycle_still_mutes(setup):
    fake, config, store = setup
    muted_alert = alert()  # its muted line is logged (and stored) after it
    store.ingest(
        [
            muted_alert,
            lifecycle(
                AlertMuted,
                app="mirage",
                metric=METRIC,
                alerter="smtp",
                logged_at=muted_alert.logged_at,
            ),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    assert fake.messages("#skyline") == []


@pytest.mark.parametrize("then", ["muted", "thread"])
def test_skylines_own_slack_alert_waits_for_the_line_that_follows_it(setup, then):
    fake, config, store = setup
    config = with_slack(config, lifecycle_grace_seconds=300.0)
    alert_list = L.alert_list("stats", "slack", 3600, 168)
    store.ingest(
        parse(
            "mirage",
            (T0, 23456, L.slack_anomalous(alert_list, L.mirage_metric("v5", 87.5, METRIC, TS))),
        ),
        None,
    )
    plan_pending(store, config)
    assert actions(store) == [] and store.counts()["events_waiting"] == 1
    # the next read brings what alert_slack logged next in that pid
    follow = (
        L.muted("slack", METRIC)
        if then == "muted"
        else L.panorama_thread_key(METRIC, TS, "1795698622.123456")
    )
    events = parse("mirage", (T0, 23456, follow))
    assert events
    store.ingest(events, None)
    drain(store, config, deliverer_for(store, config))
    assert fake.messages("#skyline") == []
    assert (store.thread(METRIC, TS) is None) == (then == "muted")


def test_lifecycle_of_a_muted_alert_follows_the_no_thread_rules(setup):
    fake, config, store = setup
    store.ingest(
        [
            *parse("mirage", (T0, 23510, L.muted("smtp", METRIC)), mirage_alert(T0)),
            lifecycle(FeaturesProfileCreated, fp_id=9, metric=METRIC, anomaly_timestamp=TS),
            lifecycle(FeaturesProfileDisabled, fp_ids=(9,)),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    # no alert, no thread: the TRAINED reply is only recorded, DISABLED goes to the channel
    assert [m.text[:12] for m in fake.messages("#skyline")] == ["*DISABLED* -"]


# -- time zones -------------------------------------------------------------------------------


@pytest.fixture
def process_tz() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_thread_keys_do_not_depend_on_the_daemons_time_zone(process_tz):
    at = datetime(2019, 6, 3, 9, 0, 3)
    v1 = alert(ts=None)
    v1 = type(v1)(**{**v1.__dict__, "logged_at": at, "anomaly_timestamp": None})
    # default: the machine's zone (/etc/localtime), whatever TZ the daemon was started with
    assert alert_key(v1) == (METRIC, log_epoch(at, log_zone(None)))
    assert alert_key(v1, "UTC") == (METRIC, 1559552403)
    assert alert_key(v1, "Europe/Berlin") == (METRIC, 1559552403 - 7200)
    assert time.mktime(at.timetuple()) == 1559552403 - 9 * 3600  # what the process zone says


# -- the lineage through kill -9 and restarts (the daemon as systemd runs it) ----------------


@pytest.mark.slow
def test_the_lineage_lands_in_its_thread_through_kill_9_and_restarts(tmp_path):
    from tests.support.fakeslack import FakeSlack
    from tests.support.skyline_sim import SkylineApp, wait_for
    from tests.test_daemon import start, webapp_create, write_config

    logs = tmp_path / "logs"
    logs.mkdir()
    with (
        FakeSlack() as fake,
        SkylineApp(logs, "mirage") as mirage,
        SkylineApp(logs, "webapp") as webapp,
        SkylineApp(logs, "ionosphere") as ionosphere,
    ):
        fake.add_channel("#skyline")
        cfg = write_config(tmp_path, fake, grace=60.0)
        proc = start(cfg, fake, "--from-start")

        def replies() -> list[str]:
            parents = fake.messages("#skyline")
            return [m.text for m in fake.replies("#skyline", parents[0].ts)] if parents else []

        def kill_and_restart() -> None:
            nonlocal proc
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = start(cfg, fake, "--from-start")

        def learn(job: str, ts: int, parent: int, generation: int, fp_id: int) -> None:
            for _, _, msg in learnt(T0, job, ts, parent, generation, fp_id):
                ionosphere.log(msg)

        try:
            mirage.alert(METRIC, TS)
            webapp_create(webapp, 1234, METRIC, TS)
            assert wait_for(lambda: len(replies()) == 1, timeout=30)
            kill_and_restart()
            learn("learn_fp_human", TS, 1234, 0, 1240)
            assert wait_for(lambda: len(replies()) == 2, timeout=30)
            kill_and_restart()
            learn("learn_fp_learnt", LATER_TS, 1240, 1, 1251)
            kill_and_restart()  # before or after it was read: either way, once
            for _, _, msg in disabled(T0, [1234, 1240, 1251]):
                webapp.log(msg)

            # well within the 60 s grace period: nothing waited for it
            def landed() -> bool:
                parents = fake.messages("#skyline")
                return (
                    len(replies()) == 4
                    and len(parents) == 3
                    and "x" in fake.reactions("#skyline", parents[0].ts)
                )

            assert wait_for(landed, timeout=45), (replies(), fake.messages("#skyline"))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        texts = replies()
        assert [t.split(" - ")[0] for t in texts] == [
            "*TRAINED",
            "*LEARNING",
            "*LEARNT",
            "*DISABLED*",
        ]
        assert "features profile id 1251 was created" in texts[2]
        parent, learnt_post, disabled_post = fake.messages("#skyline")
        assert learnt_post.text.startswith("*Skyline Ionosphere LEARNT* - features profile id 1251")
        assert disabled_post.text == texts[3]
        assert fake.reactions("#skyline", parent.ts) == {
            "thumbsup": 1,
            "heavy_check_mark": 1,
            "x": 1,
        }
