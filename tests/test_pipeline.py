"""The pipeline step and its drain loop (sidecar/pipeline.py) over a real store and an
in-memory Slack: planning goes on past a full batch, drain stops when there is nothing left or
when delivery is halted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sidecar.config.options import Config
from sidecar.pipeline import Pipeline, plan_pending
from sidecar.slack.deliver import Deliverer
from sidecar.slack.gateway import Fatal
from sidecar.slack.pacing import Limiter
from sidecar.state.store import Store
from tests.support.memory_gateway import MemoryGateway
from tests.support.slack_pipeline import TS, alert, make_config
from tests.support.store_queries import actions


@pytest.fixture
def env(tmp_path) -> Iterator[tuple[Store, Config, MemoryGateway]]:
    config = make_config(tmp_path)
    store = Store.open(config.state.path)
    yield store, config, MemoryGateway()
    store.close()


def test_planning_reads_batch_after_batch_until_none_is_full(env):
    store, config, _ = env
    store.ingest([alert(ts=TS + 60 * i) for i in range(7)], None)
    assert plan_pending(store, config, batch_size=3) == 7
    assert len(actions(store)) == 7


def test_drain_steps_until_every_action_is_delivered(env):
    store, config, gateway = env
    store.ingest([alert(ts=TS + 60 * i) for i in range(4)], None)
    pipeline = Pipeline(store, config, Deliverer(store, gateway, limiter=Limiter.unpaced()))
    assert not pipeline.idle()
    assert pipeline.drain(sleep=lambda _: None)
    assert pipeline.idle() and len(gateway.in_channel("#skyline")) == 4


def test_drain_gives_up_when_delivery_is_halted_and_keeps_the_outbox(env):
    store, config, gateway = env
    store.ingest([alert()], None)
    gateway.fail("post", Fatal("token_revoked"))
    deliverer = Deliverer(store, gateway, limiter=Limiter.unpaced())
    pipeline = Pipeline(store, config, deliverer)
    assert not pipeline.drain(stop_when_halted=True, sleep=lambda _: None)
    assert deliverer.halted == "token_revoked"
    assert store.counts()["outbox_pending"] == 1 and gateway.messages == []
