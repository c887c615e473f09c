"""An alert's key (metric, anomaly timestamp) as Slack shows it: metadata and training links;
the planner's search for a missing thread; the [sidecar] settings."""

from __future__ import annotations

import socket
from dataclasses import replace

from parsers.events import TrainingDataViewed
from sidecar.config.options import SidecarOptions, SkylineOptions, load_config
from sidecar.model import Thread
from sidecar.slack import render
from sidecar.slack.gateway import action_metadata
from sidecar.slack.planner import plan_event
from sidecar.slack.threads import ThreadSearch, alert_payload, find_in, link_keys, message_keys
from sidecar.state.store import Store
from tests.support.slack_pipeline import METRIC, TS, alert, lifecycle, make_config


def alert_text(metric: str = METRIC, app: str = "mirage") -> str:
    """The alert text the sidecar (and Skyline) writes, as render makes it."""
    opts = SkylineOptions(url="https://skyline.example.com")
    event = replace(
        alert(metric=metric), app=app, context="Analyzer" if app == "analyzer" else "Mirage"
    )
    return render.alert_text(event, opts, anomaly_timestamp=TS)


def test_the_training_link_in_the_rendered_alert_text_gives_the_key():
    assert link_keys(alert_text()) == {(METRIC, TS)}


def test_a_metric_name_that_needs_escaping_is_read_back_exactly():
    odd = "stats.a&b<c>.d e"
    assert (odd, TS) in link_keys(alert_text(odd))


def test_labelled_metrics_are_linked_by_id():
    mirage = link_keys(alert_text("labelled_metrics.1234"))
    assert (render.LABELLED_PREFIX + "1234", TS) in mirage
    analyzer = link_keys(alert_text("labelled_metrics.1234", app="analyzer"))
    assert (render.LABELLED_PREFIX + "1234", TS) in analyzer


def test_other_links_carry_no_key():
    fp = render.fp_url("https://skyline.example.com", 12, METRIC)
    assert fp is not None
    assert link_keys(render.link(fp, "fp")) == set()
    assert link_keys(f"ionosphere?timestamp={TS}&metric={METRIC} (not a link)") == set()


def test_metadata_carries_the_key_of_a_text_post():
    meta = action_metadata("a1", "e1", **alert_payload(METRIC, TS, "host-a"))
    msg = {"ts": "1.000001", "text": "no link", "metadata": meta}
    assert message_keys(msg) == {(METRIC, TS)}
    foreign = {
        "ts": "1.000001",
        "text": "",
        "metadata": {"event_type": "other", "event_payload": meta["event_payload"]},
    }
    assert message_keys(foreign) == set()


def test_a_thread_reply_is_never_the_alert_and_the_oldest_post_wins():
    text = alert_text()
    reply = {"ts": "3.000000", "thread_ts": "2.000000", "text": text}
    messages = [reply, {"ts": "5.000000", "text": text}, {"ts": "4.000000", "text": text}]
    assert find_in(messages, (METRIC, TS)) == "4.000000"
    assert find_in([reply], (METRIC, TS)) is None


def test_the_planner_asks_for_a_search_and_waits_for_it_whatever_the_grace(tmp_path):
    config = make_config(tmp_path)  # grace 0: without a search the event is unthreaded at once
    store = Store.open(config.state.path)
    viewed = lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=TS)
    alone = plan_event(viewed, store, config, ingested_at=0.0, now=100.0)
    assert alone.wait_until is None and alone.searches == ()  # not a cluster
    clustered = replace(config, sidecar=SidecarOptions(cluster=True))
    plan = plan_event(viewed, store, clustered, ingested_at=0.0, now=100.0)
    assert plan.searches == (ThreadSearch(METRIC, TS, ("#skyline",)),)
    assert plan.wait_until is not None and plan.wait_until > 100.0
    store.record_plan(viewed.event_id, (), searches=plan.searches, wait_until=plan.wait_until)
    # a fresh miss: the no-thread rules again (grace over: unthreaded)
    store.search_done((METRIC, TS), None, 1, 100.0)
    after = plan_event(viewed, store, clustered, ingested_at=0.0, now=101.0)
    assert after.wait_until is None and after.note.startswith("unthreaded")
    # an event that came after the miss uses it while it is fresh ...
    later = plan_event(viewed, store, clustered, ingested_at=200.0, now=201.0)
    assert later.wait_until is None
    # ... and has it looked for again once it is old
    stale = plan_event(viewed, store, clustered, ingested_at=450.0, now=451.0)
    assert stale.searches and stale.wait_until is not None
    # a miss made after the event came answers it even when misses are not cached
    uncached = replace(
        clustered, sidecar=SidecarOptions(cluster=True, thread_search_miss_seconds=0.0)
    )
    assert plan_event(viewed, store, uncached, ingested_at=99.0, now=460.0).wait_until is None
    assert plan_event(viewed, store, uncached, ingested_at=101.0, now=460.0).searches
    # found: a reply in that thread
    store.search_done((METRIC, TS), Thread(METRIC, TS, "C1", "9.000001", None, "found"), 1, 102.0)
    found = plan_event(viewed, store, clustered, ingested_at=0.0, now=103.0)
    assert [a.action for a in found.actions] == ["post_reply", "add_reaction"]
    assert store.thread(METRIC, TS).origin == "found"


def test_sidecar_settings(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[skyline.horizon_shards]\nsky-1 = 0\nsky-2 = 1\n")
    config = load_config(cfg, environ={})
    assert config.clustered  # HORIZON_SHARDS with two hosts: a cluster
    assert config.sidecar.name == socket.gethostname().split(".")[0]
    cfg.write_text(
        "[sidecar]\nhost = 'sky-2'\ncluster = false\nthread_search_hours = 6\n"
        "thread_search_pages = 2\nthread_search_miss_seconds = 60\n"
    )
    config = load_config(cfg, environ={})
    assert not config.clustered
    assert config.sidecar.name == "sky-2"
    assert (
        config.sidecar.thread_search_hours,
        config.sidecar.thread_search_pages,
        config.sidecar.thread_search_miss_seconds,
    ) == (6.0, 2, 60.0)
    assert config.metrics.path == "skyline.slack_sidecar.sky-2"
