"""ionosphere.log rules: FeaturesProfileLearnt from the learn process, per version."""

from __future__ import annotations

from datetime import datetime

import pytest

from parsers import FeaturesProfileLearnt, LogParser
from parsers.events import Event
from tests.support import skyline_lines as L

T = datetime(2026, 11, 26, 14, 16, 20)
M = "stats.web01.cpu.user"
TS = 1795698600
LEARN, OTHER = 2240915, 2230150


def run(*lines: str) -> list[Event]:
    parser = LogParser("ionosphere", "ionosphere.log")
    return parser.feed("".join(lines).encode()) + parser.finish()


@pytest.mark.parametrize("version", L.VERSIONS)  # the wording is the same since v1.1
def test_learnt_generation_with_its_work_item(version: str) -> None:
    item = L.learn_work_item("learn_fp_human", TS, M, 1234, 0)
    [event] = run(
        L.line(T, LEARN, L.learn_checking(L.learn_work_item("learn_fp_human", 1, "stats.x", 9, 0))),
        L.line(T, LEARN, L.learn_not_ready()),
        L.line(T, LEARN, L.learn_checking(item)),
        L.line(T, LEARN, L.learn_processing("learn_fp_human", M, item)),
        L.line(T, LEARN, L.fp_requested("ionosphere_learn", M, TS + 4000, 1)),
        L.line(T, OTHER, L.determined_anomaly_timestamp(TS - 999)),  # another process
        L.line(T, LEARN, L.determined_anomaly_timestamp(TS)),
        L.line(T, LEARN, L.new_fp_id(1240)),
        L.line(T, LEARN, L.learn_new_generation("human generated", 1, 1240, 30, 1234)),
    )
    assert isinstance(event, FeaturesProfileLearnt)
    assert (
        event.fp_id,
        event.parent_fp_id,
        event.generation,
        event.metric,
        event.anomaly_timestamp,
        event.learn_days,
        event.job,
    ) == (1240, 1234, 1, M, TS, 30, "learn_fp_human")
    assert event.source is not None and event.source.line == 9


def test_learnt_without_its_work_item_uses_the_determined_timestamp_or_nothing() -> None:
    [event] = run(
        L.line(T, LEARN, L.determined_anomaly_timestamp(TS)),
        L.line(T, LEARN, L.learn_new_generation("automatically generated", 2, 7, 30, 6)),
    )
    assert (event.metric, event.anomaly_timestamp, event.job, event.generation) == (
        None,
        TS,
        None,
        2,
    )
    [bare] = run(L.line(T, OTHER, L.learn_new_generation("human generated", 1, 8, 30, 7)))
    assert (bare.fp_id, bare.parent_fp_id, bare.metric, bare.anomaly_timestamp) == (
        8,
        7,
        None,
        None,
    )


def test_near_misses_make_nothing() -> None:
    assert (
        run(
            L.line(T, OTHER, L.echo_new_generation(1, 1239, 1234)),
            L.line(T, LEARN, L.learn_failed("human generated")),
            L.line(T, LEARN, L.learn_work_added("learn_fp_human", TS, M, 1, 0)),
            L.line(T, LEARN, L.fp_requested("ionosphere_learn", M, TS, 1)),
            L.line(T, LEARN, L.new_fp_id(5)),
            L.line(T, LEARN, "learn :: checking work item - [[[unreadable"),
            L.bin_line(T, 1, "ionosphere", L.learn_new_generation("human generated", 1, 2, 30, 1)),
        )
        == []
    )


def test_learns_own_training_data_request_is_recognised() -> None:
    # learn.py:1844 logs the URL it is about to GET itself (learn_fp_learnt jobs).
    url = f"https://skyline.example.com/ionosphere?timestamp={TS}&metric={M}"
    events = run(
        L.line(T, LEARN, f"learn :: training_data URL - {url}"),
        L.line(T, LEARN, "learn :: training_data URL - not a url"),
    )
    assert [(e.kind, e.metric, e.anomaly_timestamp) for e in events] == [
        ("skyline_self_request", M, TS)
    ]
