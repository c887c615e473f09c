"""The deliverer against an in-memory Slack (tests/support/memory_gateway.py): the outbox's
promises (exactly once, 429 parking, replies after their thread) with fake clocks, no HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from parsers.events import TrainingDataViewed
from sidecar.config.options import Config
from sidecar.model import DONE, INFLIGHT
from sidecar.pipeline import plan_pending
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import Ambiguous, RateLimited
from sidecar.slack.pacing import Limiter
from sidecar.state.store import Store
from tests.support.memory_gateway import MemoryGateway
from tests.support.slack_pipeline import METRIC, TS, alert, lifecycle, make_config, with_slack
from tests.support.store_queries import actions


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def env(tmp_path) -> Iterator[tuple[Store, Config, MemoryGateway, Clock, Clock]]:
    config = make_config(tmp_path)
    store = Store.open(config.state.path)
    gateway = MemoryGateway({"skyline": "C0SKYLINE", "ops": "C0OPS"})
    yield store, config, gateway, Clock(time.time()), Clock(1000.0)
    store.close()


def deliverer(store: Store, gateway: MemoryGateway, wall: Clock, mono: Clock) -> Deliverer:
    return Deliverer(
        store,
        gateway,
        limiter=Limiter.uniform(100.0, 100.0, clock=mono),
        clock=wall,
        rng=random.Random(1),
    )


def posts(gateway: MemoryGateway) -> list[tuple[str, str]]:
    return [c for c in gateway.calls if c[0] == "post"]


@pytest.mark.parametrize("reached_slack", [True, False])
def test_a_post_that_failed_ambiguously_is_in_slack_exactly_once(env, reached_slack):
    store, config, gateway, wall, mono = env
    gateway.fail("post", Ambiguous("TimeoutError: timed out"), applied=reached_slack)
    store.ingest([alert()], None)
    plan_pending(store, config)
    d = deliverer(store, gateway, wall, mono)

    stats = d.run_once()
    assert stats.retried == 1 and stats.delivered == 0
    [action] = actions(store)
    assert action.state == INFLIGHT  # it may be in Slack: looked for before posting again
    assert d.run_once().delivered == 0  # backing off: not due yet

    wall.now += 600
    mono.now += 600
    assert d.run_once().delivered == 1
    assert len(gateway.in_channel("#skyline")) == 1
    assert ("find_post", "C0SKYLINE") in gateway.calls
    assert len(posts(gateway)) == (1 if reached_slack else 2)
    [action] = actions(store)
    assert action.state == DONE
    assert store.thread(METRIC, TS).ts == gateway.in_channel("#skyline")[0].ts


def test_a_429_parks_its_channel_only_until_retry_after(env):
    store, config, gateway, wall, mono = env
    config = with_slack(config, channels=(("stats.web01", ("#ops",)),))
    store.ingest(
        [
            alert(namespace="stats"),
            alert(ts=TS + 60, namespace="stats"),
            alert(ts=TS + 120, namespace="stats.web01"),
        ],
        None,
    )
    plan_pending(store, config)
    gateway.fail("post", RateLimited(30.0))
    d = deliverer(store, gateway, wall, mono)

    stats = d.run_once()
    # The 429 parks #skyline (its second alert is not tried); #ops is not held back.
    assert (stats.ratelimited, stats.delivered) == (1, 1)
    assert len(gateway.in_channel("#ops")) == 1 and gateway.in_channel("#skyline") == []
    assert len(posts(gateway)) == 2

    wall.now += 10
    mono.now += 10
    assert d.run_once().delivered == 0 and len(posts(gateway)) == 2  # still parked

    wall.now += 21
    mono.now += 21
    delivered = d.run_once().delivered
    assert delivered >= 1  # the pace after a 429 is slower: the second may wait its turn
    wall.now += 5
    mono.now += 5
    assert delivered + d.run_once().delivered == 2
    assert [
        m.text.count(str(ts)) > 0
        for m, ts in zip(gateway.in_channel("#skyline"), (TS, TS + 60), strict=True)
    ] == [True, True]


def test_replies_and_reactions_wait_for_their_thread_and_land_in_it(env):
    store, config, gateway, wall, mono = env
    store.ingest(
        [alert(), lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS, user="admin")],
        None,
    )
    plan_pending(store, config)
    gateway.fail("post", Ambiguous("HTTP 503"))  # the alert's post fails first
    d = deliverer(store, gateway, wall, mono)

    d.run_once()
    assert gateway.messages == [] and len(posts(gateway)) == 1  # nothing went to no thread
    assert not any(c[0] == "react" for c in gateway.calls)

    wall.now += 600
    mono.now += 600
    d.run_once()
    parent, *replies = gateway.in_channel("#skyline")
    assert parent.thread_ts is None and replies
    assert all(r.thread_ts == parent.ts for r in replies)
    assert parent.reactions == [
        config.slack.message_on_training_data_viewed_reaction_emoji.strip(":")
    ]
    assert all(a.state == DONE for a in actions(store))
