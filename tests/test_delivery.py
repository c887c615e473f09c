"""Planning and delivery end to end: real store, slack_sdk's real WebClient, FakeSlack over HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from parsers.events import (
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
    SkylineSelfRequest,
    SlackThread,
    TrainingDataViewed,
)
from sidecar.model import FAILED, PENDING
from sidecar.pipeline import plan_pending
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import WebGateway
from sidecar.slack.pacing import Limiter
from sidecar.state.store import Store
from tests.support.fakeslack import FakeSlack
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
from tests.support.store_queries import actions, last_error


@pytest.fixture
def setup(tmp_path, fake_slack):
    config = make_config(tmp_path, fake_slack.base_url)
    store = Store.open(config.state.path)
    yield fake_slack, config, store
    store.close()


def test_alert_then_every_lifecycle_event_lands_in_its_thread(setup):
    fake, config, store = setup
    fake.add_channel("#ops")
    config = with_slack(config, channels=(("stats", ("#skyline", "#ops")),))
    events = [
        alert(),
        lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS, user="admin"),
        lifecycle(
            FeaturesProfileCreated,
            fp_id=1234,
            metric=METRIC,
            anomaly_timestamp=TS,
            user_id=1,
            learn=True,
            learn_days=30,
        ),
        lifecycle(
            FeaturesProfileLearnt,
            app="ionosphere",
            fp_id=1240,
            parent_fp_id=1234,
            generation=1,
            metric=METRIC,
            anomaly_timestamp=TS,
            learn_days=30,
            job="learn_fp_human",
        ),
        lifecycle(FeaturesProfileDisabled, fp_ids=(1234, 1240)),
        lifecycle(FeaturesProfilesValidated, fp_ids=(1240,), validated_count=1),
    ]
    store.ingest(events, None)
    drain(store, config, deliverer_for(store, config))

    parent, *posts = fake.messages("#skyline")
    assert len(fake.messages("#ops")) == 1
    assert f"{METRIC} at 7 days - 87.5" in parent.text
    assert f"ionosphere?timestamp={TS}&amp;metric={METRIC}|training data link" in parent.text
    replies = [m.text for m in fake.replies("#skyline", parent.ts)]
    fp_link = (
        "https://skyline.example.com/ionosphere?fp_view=true&amp;fp_id={}&amp;metric=" + METRIC
    )
    assert replies[0] == "The training data page has been reviewed"
    assert replies[1] == (
        "*TRAINED - not anomalous* - features profile id 1234 was created for"
        f" {METRIC} via webapp - {fp_link.format(1234)} AND set to *LEARN* at"
        " 30 days"
    )
    assert replies[2] == (
        "*LEARNING - not anomalous at 30 days* - features profile id 1240 was"
        f" created using 30 days data for {METRIC} via ionosphere - " + fp_link.format(1240)
    )
    disabled = (
        "*DISABLED* - features profile id 1234 and 1 related features profile were"
        f" disabled for {METRIC} via webapp - {fp_link.format(1234)}"
    )
    assert replies[3] == disabled
    # One channel post per disable action; a single validation is Skyline-silent.
    assert [m.text for m in posts] == [disabled]
    assert len(replies) == 4
    assert fake.reactions("#skyline", parent.ts) == {
        "eyes": 1,
        "thumbsup": 1,
        "heavy_check_mark": 1,
        "x": 1,
    }
    # Only the first channel gets the thread.
    assert fake.replies("#ops", fake.messages("#ops")[0].ts) == []


def test_a_metric_name_can_never_ping_the_channel(setup):
    fake, config, store = setup
    store.ingest([alert(metric="<!channel>.cpu&<@U123>")], None)
    drain(store, config, deliverer_for(store, config))
    text = fake.messages("#skyline")[0].text
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;.cpu&amp;&lt;@U123&gt;" in text


def test_routing_follows_slack_opts_channels_exactly(setup):
    fake, config, store = setup
    fake.add_channel("#web")
    config = with_slack(config, channels=(("stats.web01", ("#web",)),))
    store.ingest(
        [
            alert(namespace="stats.web01"),
            alert(ts=TS + 60, namespace="stats"),
            alert(ts=TS + 120, namespace=None),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    assert len(fake.messages("#web")) == 1
    # 'stats' has no key of its own (no prefix matching): default_channel, as Skyline does.
    assert len(fake.messages("#skyline")) == 2


def test_alerters_setting_decides_which_alerts_are_posted(setup):
    fake, config, store = setup
    store.ingest([alert(alerter="smtp"), alert(alerter="slack")], None)
    drain(store, config, deliverer_for(store, config))
    assert len(fake.messages("#skyline")) == 1  # the smtp alert of the same anomaly: no post


def test_lifecycle_event_before_its_alert_waits_for_the_thread(setup):
    fake, config, store = setup
    config = with_slack(config, lifecycle_grace_seconds=60.0)
    store.ingest([lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS)], None)
    plan_pending(store, config)
    assert store.counts()["events_waiting"] == 1 and actions(store) == []
    store.ingest([alert()], None)
    # The thread now exists: the waiting event finds it when it looks again, long before
    # its grace period is over.
    start = time.monotonic()
    drain(store, config, deliverer_for(store, config))
    assert time.monotonic() - start < 10
    parent = fake.messages("#skyline")[0]
    assert [m.text for m in fake.replies("#skyline", parent.ts)] == [
        "The training data page has been reviewed"
    ]


def test_after_the_grace_period_channel_events_go_to_the_channel(setup):
    fake, config, store = setup
    store.ingest(
        [
            lifecycle(FeaturesProfileDisabled, fp_ids=(77,), metric=METRIC),
            lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    texts = [m.text for m in fake.messages("#skyline")]
    # Skyline posts DISABLED to the channel; a view without a thread is only recorded.
    assert len(texts) == 1 and texts[0].startswith(
        "*DISABLED* - features profile id 77 and 0 related features profiles were disabled"
    )


def test_slack_thread_from_skyline_is_adopted_not_reposted(setup):
    fake, config, store = setup
    cid = fake.channel_id("#skyline")
    parent_ts = fake.seed_message("#skyline", "Skyline's own alert")
    config = with_slack(config, default_channel_id=cid)
    store.ingest(
        [
            lifecycle(
                SlackThread, app="mirage", metric=METRIC, anomaly_timestamp=TS, thread_ts=parent_ts
            ),
            alert(),
            lifecycle(FeaturesProfileCreated, fp_id=1, metric=METRIC, anomaly_timestamp=TS),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    assert [m.ts for m in fake.messages("#skyline")] == [parent_ts]
    assert len(fake.replies("#skyline", parent_ts)) == 1
    assert fake.reactions("#skyline", parent_ts) == {"thumbsup": 1}


def test_ratelimit_storm_is_obeyed_and_everything_lands_once(setup):
    fake, config, store = setup
    fake.inject("chat.postMessage", "ratelimited", times=3, retry_after=1)
    store.ingest([alert(ts=TS + i) for i in range(4)], None)
    start = time.monotonic()
    drain(store, config, deliverer_for(store, config, rate=1.0, burst=2))
    assert len(fake.messages("#skyline")) == 4
    # Each 429 parked the channel for Retry-After: no immediate hammering.
    assert time.monotonic() - start >= 2.5
    assert len(fake.calls_to("chat.postMessage")) == 4 + 3


@pytest.mark.parametrize(
    "fault,kw",
    [
        ("drop_after_store", {}),
        ("slow", {"seconds": 3.0, "phase": "after"}),
    ],
)
def test_ambiguous_failure_is_checked_in_slack_before_posting_again(setup, fault, kw):
    fake, config, store = setup
    config = with_slack(config, default_channel_id=fake.channel_id("#skyline"))
    fake.inject("chat.postMessage", fault, **kw)
    store.ingest([alert()], None)
    d = deliverer_for(store, config, timeout=1.0)
    d._backoff = lambda attempts: 0.0  # retry at once; the check is what matters here
    drain(store, config, d)
    assert len(fake.messages("#skyline")) == 1
    assert len(fake.calls_to("conversations.history")) >= 1
    assert store.thread(METRIC, TS).ts == fake.messages("#skyline")[0].ts


def test_ambiguous_failure_of_a_reply_is_checked_among_the_replies(setup):
    fake, config, store = setup
    config = with_slack(config, default_channel_id=fake.channel_id("#skyline"))
    store.ingest([alert()], None)
    d = deliverer_for(store, config, timeout=1.0)
    d._backoff = lambda attempts: 0.0
    drain(store, config, d)
    fake.inject("chat.postMessage", "drop_after_store")
    store.ingest([lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS)], None)
    drain(store, config, d)
    parent = fake.messages("#skyline")[0]
    assert len(fake.replies("#skyline", parent.ts)) == 1
    assert len(fake.calls_to("conversations.replies")) >= 1


def test_outage_with_5xx_is_retried_until_slack_is_back(setup):
    fake, config, store = setup
    fake.down()
    store.ingest([alert()], None)
    d = deliverer_for(store, config)
    d._backoff = lambda attempts: 0.05
    for _ in range(5):
        plan_pending(store, config)
        d.run_once()
        time.sleep(0.06)
    assert fake.messages("#skyline") == []
    # Names only: the channel's id cannot be listed either; each round tries again.
    assert len(fake.calls_to("conversations.list")) >= 2
    assert "conversations.list" in (actions(store)[0].last_error or "")
    fake.up()
    drain(store, config, d)
    assert len(fake.messages("#skyline")) == 1


def test_revoked_token_halts_delivery_and_loses_nothing(setup):
    fake, config, store = setup
    fake.deactivate()
    store.ingest([alert(ts=TS + i) for i in range(3)], None)
    d = deliverer_for(store, config, auth_recheck=0.2)
    plan_pending(store, config)
    stats = d.run_once()
    assert d.halted == "account_inactive" and stats.delivered == 0
    assert store.counts()["outbox_pending"] == 3
    assert "delivery halted" in last_error(store)["message"]
    fake.activate()
    time.sleep(0.25)
    drain(store, config, d)
    assert d.halted is None and len(fake.messages("#skyline")) == 3


def test_refused_actions_are_failed_with_the_reason(setup):
    fake, config, store = setup
    fake.add_channel("#archived", archived=True)
    fake.add_channel("#outside", member=False)
    config = with_slack(
        config, channels=(("a", ("#archived",)), ("o", ("#outside",)), ("n", ("#nowhere",)))
    )
    store.ingest(
        [alert(namespace="a"), alert(ts=TS + 1, namespace="o"), alert(ts=TS + 2, namespace="n")],
        None,
    )
    d = deliverer_for(store, config)
    for _ in range(3):
        plan_pending(store, config)
        d.run_once()
    failed = {a.channel: a.last_error for a in actions(store, FAILED)}
    assert failed == {"#outside": "not_in_channel"}
    # Not in Slack's channel list (archived, or no such channel): kept, retried, reported; it
    # goes out once the channel is there (created, unarchived, the bot invited).
    waiting = {a.channel: a.last_error or "" for a in actions(store, PENDING)}
    assert set(waiting) == {"#archived", "#nowhere"}
    assert all("not found in Slack" in e for e in waiting.values())
    assert "#nowhere" in last_error(store)["message"]
    assert len(fake.calls_to("conversations.list")) == 1  # at most one listing a minute


def test_thread_gone_posts_top_level_and_reanchors(setup):
    fake, config, store = setup
    config = with_slack(config, default_channel_id=fake.channel_id("#skyline"))
    store.ingest(
        [
            lifecycle(
                SlackThread,
                app="mirage",
                metric=METRIC,
                anomaly_timestamp=TS,
                thread_ts="1795600000.000100",
            ),  # a parent that does not exist (deleted)
            lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS),
            lifecycle(FeaturesProfileCreated, fp_id=5, metric=METRIC, anomaly_timestamp=TS),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    msgs = fake.messages("#skyline")
    assert [m.text for m in msgs] == ["The training data page has been reviewed"]
    assert store.thread(METRIC, TS).ts == msgs[0].ts
    assert len(fake.replies("#skyline", msgs[0].ts)) == 1  # the TRAINED reply went under it
    assert fake.reactions("#skyline", msgs[0].ts) == {"eyes": 1, "thumbsup": 1}


def test_switches_off_mean_no_updates(setup):
    fake, config, store = setup
    config = with_slack(config, message_on_training_data_viewed=False)
    store.ingest(
        [alert(), lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS)], None
    )
    drain(store, config, deliverer_for(store, config))
    parent = fake.messages("#skyline")[0]
    assert fake.replies("#skyline", parent.ts) == []
    config = with_slack(config, thread_updates=False)
    store.ingest(
        [lifecycle(FeaturesProfileCreated, fp_id=9, metric=METRIC, anomaly_timestamp=TS)], None
    )
    drain(store, config, deliverer_for(store, config))
    assert fake.replies("#skyline", parent.ts) == []


def test_pacing_keeps_to_the_channel_limit(tmp_path):
    with FakeSlack(post_rate=2.0, post_burst=2) as fake:
        fake.add_channel("#skyline")
        config = make_config(tmp_path, fake.base_url)
        store = Store.open(config.state.path)
        store.ingest([alert(ts=TS + i) for i in range(8)], None)
        drain(store, config, deliverer_for(store, config, rate=1.8, burst=2))
        assert len(fake.messages("#skyline")) == 8
        assert fake.ratelimited_count == 0


def storm_setup(tmp_path, fake: FakeSlack, channels: int, per_channel: int):
    """``per_channel`` alerts to each of ``channels`` channels (#c0, #c1, ...), all planned."""
    names = [f"#c{i}" for i in range(channels)]
    ids = {name: fake.add_channel(name) for name in names}
    config = with_slack(
        make_config(tmp_path, fake.base_url),
        channels=tuple((f"ns{i}", (name,)) for i, name in enumerate(names)),
    )
    store = Store.open(config.state.path)
    store.ingest(
        [
            alert(metric=f"ns{i % channels}.m{i}.cpu", ts=TS + i, namespace=f"ns{i % channels}")
            for i in range(channels * per_channel)
        ],
        None,
    )
    return config, store, ids


def posted_once(fake: FakeSlack, total: int) -> bool:
    ids = [m.metadata["event_payload"]["action_id"] for m in fake.all_messages()]
    return len(ids) == len(set(ids)) == total


def test_pacing_learns_from_a_strict_slack_and_everything_lands_once(tmp_path):
    # Slack grants no burst here: the limiter's burst of 2 gets each channel one 429, after
    # which that channel goes slower and with no burst; the pace then creeps back up.
    with FakeSlack(post_rate=1.0, post_burst=1) as fake:
        config, store, ids = storm_setup(tmp_path, fake, channels=3, per_channel=5)
        gateway = WebGateway(config.token.reveal(), config.slack.base_url, timeout=5)
        deliverer = Deliverer(store, gateway, limiter=Limiter())
        drain(store, config, deliverer, timeout=60)
        assert posted_once(fake, 15)
        assert all(len(fake.messages(name)) == 5 for name in ids)
        pacing = deliverer.pacing()
        for name, cid in ids.items():
            seen = fake.ratelimited_by_channel.get(cid, 0)
            assert pacing[f"chat:{name}"].ratelimited == seen  # every 429 was counted
            assert 1 <= seen <= 2  # learnt after the first: no 429 storm
            assert pacing[f"chat:{name}"].rate < pacing[f"chat:{name}"].ceiling == 1.0
        # A 429 is no doubt about whether Slack posted: no look-up before posting again.
        assert fake.calls_to("conversations.history") == []
        store.close()


@pytest.mark.parametrize("workspace_bucket", [True, False])
def test_many_channels_at_once_stay_under_the_workspace_limit(tmp_path, workspace_bucket):
    limits = {"chat.postMessage": (5.0, 12)}  # the limiter's own: 5 a second, 10 at once
    with FakeSlack(post_rate=1.0, post_burst=2, method_limits=limits) as fake:
        config, store, _ = storm_setup(tmp_path, fake, channels=16, per_channel=1)
        gateway = WebGateway(config.token.reveal(), config.slack.base_url, timeout=5)
        limiter = Limiter() if workspace_bucket else Limiter.uniform(1.0, 2.0)
        drain(store, config, Deliverer(store, gateway, limiter=limiter), timeout=60)
        assert posted_once(fake, 16)
        # 16 channels at once is 16 posts in a moment: over the workspace's burst of 12.
        assert (fake.ratelimited_count == 0) is workspace_bucket
        store.close()


def test_ionospheres_own_request_for_the_page_is_not_a_view(setup):
    fake, config, store = setup
    learn_at = datetime(2026, 11, 26, 14, 16, 30)
    store.ingest(
        [
            alert(),
            lifecycle(
                SkylineSelfRequest,
                app="ionosphere",
                metric=METRIC,
                anomaly_timestamp=TS,
                logged_at=learn_at,
            ),
            # the webapp logs the request a second later: Skyline's own, no reply
            lifecycle(
                TrainingDataViewed,
                metric=METRIC,
                anomaly_timestamp=TS,
                user="admin",
                logged_at=learn_at + timedelta(seconds=1),
            ),
            # a person an hour later: a reply
            lifecycle(
                TrainingDataViewed,
                metric=METRIC,
                anomaly_timestamp=TS,
                user="ops",
                logged_at=learn_at + timedelta(hours=1),
            ),
        ],
        None,
    )
    drain(store, config, deliverer_for(store, config))
    parent = fake.messages("#skyline")[0]
    assert [m.text for m in fake.replies("#skyline", parent.ts)] == [
        "The training data page has been reviewed"
    ]


def test_names_only_resolve_through_conversations_list_and_reactions_land(tmp_path):
    """Skyline's shipped SLACK_OPTS: channel names, no ids. Ids come from Slack's own list (a
    private channel, an id of no familiar shape), are cached in the state database, and
    replies, reactions and the exactly-once check all use them."""
    with FakeSlack(post_rate=None) as fake:
        fake.add_channel("#skyline")
        private = fake.add_channel("ops-private", private=True, channel_id="G7")
        for i in range(3):  # more than one page
            fake.add_channel(f"other{i}")
        config = with_slack(
            make_config(tmp_path, fake.base_url), channels=(("stats", ("#ops-private", "skyline")),)
        )
        store = Store.open(config.state.path)
        store.ingest(
            [
                alert(),
                lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS, user="admin"),
            ],
            None,
        )
        fake.inject("chat.postMessage", "drop_after_store")  # the first post is ambiguous
        drain(store, config, deliverer_for(store, config))
        [parent] = fake.messages(private)
        assert len(fake.messages("#skyline")) == 1
        assert len(fake.replies(private, parent.ts)) == 1
        assert fake.reactions(private, parent.ts) == {"eyes": 1}
        history = fake.calls_to("conversations.history")
        assert history and {c.params["channel"] for c in history} <= {
            private,
            fake.channel_id("skyline"),
        }
        assert store.channels()["ops-private"] == "G7"
        assert len(fake.calls_to("conversations.list")) == 1
        # A restart resolves from the cache: no new listing.
        store.ingest([alert(ts=TS + 60)], None)
        drain(store, config, deliverer_for(store, config))
        assert len(fake.messages(private)) == 2
        assert len(fake.calls_to("conversations.list")) == 1
        store.close()


def test_channel_not_found_lists_the_channels_again(tmp_path):
    """A cached id gone stale (the channel deleted and made again under its name): Slack says
    channel_not_found, the list is read again and the post goes to the new channel."""
    with FakeSlack(post_rate=None) as fake:
        old = fake.add_channel("#skyline")
        config = make_config(tmp_path, fake.base_url)
        store = Store.open(config.state.path)
        store.ingest([alert()], None)
        d = deliverer_for(store, config)
        drain(store, config, d)
        fake.delete_channel(old)
        new = fake.add_channel("#skyline")
        store.ingest([alert(ts=TS + 60)], None)
        d.channels._min_refresh = 0.0  # no minute's wait between listings in a test
        drain(store, config, d)
        assert len(fake.messages(new)) == 1
        assert store.channels()["skyline"] == new
        assert len(fake.calls_to("conversations.list")) == 2
        store.close()
