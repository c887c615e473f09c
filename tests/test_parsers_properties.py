"""LogParser properties: events and ids never depend on chunking; safe_offset; bounded state."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import APPS, MAX_PIDS, LogParser
from parsers.common import MAX_HELD, AgeQueue
from parsers.framing import MAX_LINE
from tests.support import skyline_lines as L

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("v*/*.log"))
T = datetime(2026, 11, 26, 13, 15, 16)
M = "stats.web01.cpu.user"


def parse(app: str, parts: list[bytes]) -> tuple[list[dict], list[int]]:
    """Events (as dicts, ids and sources included) and safe_offset after every feed."""
    parser = LogParser(app, "x.log")
    events, offsets = [], []
    for part in parts:
        events += parser.feed(part)
        offsets.append(parser.safe_offset)
    events += parser.finish()
    return [e.to_dict() for e in events], offsets


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@PROPERTY
@given(st.sampled_from(FILES), st.lists(st.integers(min_value=0), min_size=1, max_size=40))
def test_corpus_events_do_not_depend_on_chunking(path: Path, cuts: list[int]) -> None:
    data = path.read_bytes()
    app = path.stem
    whole, _ = parse(app, [data])
    parts = split(data, cuts)  # mid-line and mid-UTF-8 sequence cuts included
    events, offsets = parse(app, parts)
    assert events == whole
    assert offsets == sorted(offsets) and offsets[-1] <= len(data)


def _lines(draw: st.DrawFn) -> tuple[int, bytes]:
    """Event lines of every app, near misses and noise, in any order, pids mixed."""
    pid = draw(st.sampled_from([1, 2, 3]))
    seconds = draw(st.integers(0, 900))
    at = T + timedelta(seconds=seconds)
    ts = 1795698600 + draw(st.integers(0, 2)) * 60
    alerter = draw(st.sampled_from(["slack", "smtp"]))
    v = draw(st.sampled_from(L.VERSIONS))
    metric = L.mirage_metric(v, 87.5, M, ts)
    url = f"https://s/ionosphere?timestamp={ts}&metric={M}"
    msg = draw(
        st.sampled_from(
            [
                L.slack_disabled(L.alert_list("stats", alerter), metric),
                L.mirage_trigger_alert(L.alert_list("stats", alerter), metric, 604800),
                L.triggering_alert(v, M, 87.5, alerter),
                L.sent_alert(alerter, M),
                L.failed_to_trigger_alert(M, 87.5, alerter),
                L.alert_paused(alerter, M, ts),
                L.alerts_checked(),
                L.added_check("ionosphere", M, ts),
                L.slack_anomalous(L.alert_tuple("stats", "slack"), metric),
                L.slack_thread_ts(f"{ts}.000100"),
                L.check_auth_request(url),
                L.get_user_details("admin", 1),
                L.starting_request(v, f"r{pid}", url),
                L.request_url(url),
                L.request_argument("timestamp", str(ts)),
                L.request_argument("metric", M),
                L.completed_request(f"r{pid}", 1.0),
                L.training_data_viewed(False),
                L.fp_requested("training_data", M, ts, 1),
                L.new_fp_id(1000 + pid),
                L.fp_dir_created(1000 + pid, L.fp_profile_dir(M, ts)),
                L.disposing_engine(),
                L.learn_work_added("learn_fp_human", ts, M, 1000 + pid, 0),
                L.fp_learn_false(),
                L.disabling_fp_ids([1000 + pid]),
                L.validated_fp_id(1000 + pid),
                L.learn_checking(L.learn_work_item("learn_fp_human", ts, M, 1, 0)),
                L.learn_new_generation("human generated", 1, 1000 + pid, 30, 1),
                L.trigger_alert_error(L.traceback_text()),
            ]
        )
    )
    return seconds, L.line(at, pid, msg).encode()


@PROPERTY
@given(st.sampled_from(APPS), st.data())
def test_mixed_lines_do_not_depend_on_chunking_or_on_resuming(
    app: str, data: st.DataObject
) -> None:
    drawn = data.draw(st.lists(st.composite(_lines)(), max_size=40))
    lines = [x for _, x in sorted(drawn, key=lambda x: x[0])]  # log time goes forward
    noise = data.draw(st.lists(st.binary(max_size=20), max_size=5))
    blob = b"".join(lines + noise)
    cuts = data.draw(st.lists(st.integers(min_value=0), max_size=30))
    whole = parse(app, [blob])[0]
    assert parse(app, split(blob, cuts))[0] == whole
    # killed after any line, resumed at safe_offset: see the corpus property below
    cut = len(b"".join(lines[: data.draw(st.integers(0, len(lines)))]))
    first = LogParser(app, "x.log")
    before = [e.to_dict() for e in first.feed(blob[:cut])]
    resumed = LogParser(app, "x.log", offset=first.safe_offset, line_no=first.line_no)
    after = [e.to_dict() for e in resumed.feed(blob[first.safe_offset :]) + resumed.finish()]
    expected = {e["event_id"]: e for e in whole}
    seen = {e["event_id"] for e in before}
    assert {e["event_id"] for e in before + after} == set(expected)
    for event in before + [e for e in after if e["event_id"] not in seen]:
        assert event == expected[event["event_id"]]


@pytest.mark.parametrize(
    ("app", "msg", "pids"),
    [
        # a cheap state-making line per pid, per rules (mirage's rules are analyzer's)
        ("analyzer", L.triggering_alert("v5", M, 1.0, "smtp"), 100_000),
        ("webapp", L.request_argument("timestamp", "1795698600"), 100_000),
        ("ionosphere", L.determined_anomaly_timestamp(1795698600), 100_000),
        # lines held without per-pid state: a flood within the hold time is capped too
        ("mirage", L.added_check("ionosphere", M, 1795698600), MAX_HELD + 5000),
        ("webapp", L.get_user_details("admin", 1), MAX_HELD + 5000),
    ],
)
def test_state_stays_bounded_however_many_pids(app: str, msg: str, pids: int) -> None:
    parser = LogParser(app)
    prefix = T.strftime("%Y-%m-%d %H:%M:%S").encode()
    events = parser.feed(
        b"".join(b"%s :: %d :: %s\n" % (prefix, pid, msg.encode()) for pid in range(pids))
    )
    per_pid = app != "mirage"
    assert parser.tracked_pids == (MAX_PIDS if per_pid else 0)
    assert parser.stats.evicted_pids == (pids - MAX_PIDS if per_pid else 0)
    held = [v for v in vars(parser._rules).values() if isinstance(v, AgeQueue)]
    assert held and all(len(q) <= MAX_HELD + 1 for q in held)
    if app == "analyzer":  # held-back alerts of evicted pids are emitted, not lost
        assert len(events) == pids - MAX_PIDS
        assert len(parser.finish()) == MAX_PIDS


def test_event_line_after_an_over_long_line_is_found_in_any_chunking() -> None:
    long = L.line(T, 7, L.slack_post_message("#skyline", None, "x" * (MAX_LINE + 10)))
    event = L.line(T, 8, L.slack_disabled(L.alert_list("stats", "slack"), [1.0, M, 1795698600]))
    data = (long + event + long.rstrip("\n")).encode()  # the last one unterminated
    for size in (len(data), MAX_LINE, 65536, 999_983):
        parser = LogParser("mirage")
        events = []
        for i in range(0, len(data), size):
            events += parser.feed(data[i : i + size])
        events += parser.finish()
        assert [(e.metric, e.source.line) for e in events] == [(M, 2)]
        assert parser.stats.truncated_lines == 2 and parser.stats.lines == 3


def test_resuming_at_safe_offset_loses_no_held_back_event() -> None:
    metric = L.mirage_metric("v5", 1.0, M, 1795698600)
    lines = [
        L.line(
            T,
            1,
            L.mirage_trigger_alert(
                L.alert_list("stats", "smtp", 3600, 168), metric, 604800, smtp=True
            ),
        ),
        L.line(T, 2, L.sent_alert("pagerduty", "stats.other")),
        L.line(T, 1, L.sent_alert("smtp", M)),
    ]
    data = "".join(lines).encode()
    whole = parse("mirage", [data])[0]
    first = LogParser("mirage", "x.log")
    assert len(first.feed(data[: -len(lines[2])])) == 2
    # held back to the line that told the timestamp its 'sent' line still needs
    assert (first.safe_offset, first.line_no) == (0, 1)
    resumed = LogParser("mirage", "x.log", offset=first.safe_offset, line_no=first.line_no)
    again = [e.to_dict() for e in resumed.feed(data[first.safe_offset :]) + resumed.finish()]
    assert again == whole and whole[0]["anomaly_timestamp"] == 1795698600
    assert resumed.safe_offset == len(data)


@PROPERTY
@given(st.sampled_from(FILES), st.integers(min_value=0))
def test_a_parser_resumed_at_safe_offset_makes_the_same_events(path: Path, cut: int) -> None:
    """Kill the reader anywhere, resume at the last safe_offset: every event of the whole read
    was made before the cut or is made after it with the same id and fields. (One made before
    may be made again, with its id: the store ignores it.)"""
    data = path.read_bytes()
    cut %= len(data) + 1
    whole, _ = parse(path.stem, [data])
    first = LogParser(path.stem, "x.log")
    before = [e.to_dict() for e in first.feed(data[:cut])]
    resumed = LogParser(path.stem, "x.log", offset=first.safe_offset, line_no=first.line_no)
    after = [e.to_dict() for e in resumed.feed(data[first.safe_offset :]) + resumed.finish()]
    expected = {e["event_id"]: e for e in whole}
    assert {e["event_id"] for e in before + after} == set(expected)
    seen = {e["event_id"] for e in before}
    for event in before + [e for e in after if e["event_id"] not in seen]:
        assert event == expected[event["event_id"]]  # the same fields, not only the same id
