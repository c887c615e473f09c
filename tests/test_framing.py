"""Record framing (parsers/framing.py): shapes, over-long lines, and properties on any bytes."""

from __future__ import annotations

from datetime import datetime
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.framing import APP, BIN, GUNICORN_LINE, MAX_LINE, ORPHAN, PREFIX, Framer, Record
from parsers.logparser import SELECTORS
from tests.support import skyline_lines as L

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
T = datetime(2026, 11, 26, 13, 15, 16)
ALERT = L.alert_list("stats", "slack", 3600, 168)
METRIC = L.mirage_metric("v5", 87.5, "stats.web01.cpu.user", 1795698600)

# Lines of every shape a Skyline log holds, as bytes (some without their newline).
SAMPLES = [
    L.line(T, 23456, L.mirage_trigger_alert(ALERT, METRIC, 604800)).encode(),
    L.line(T, 23456, L.slack_disabled(ALERT, METRIC)).encode(),
    L.line(T, 23456, L.sent_alert("slack", "stats.web01.cpu.user")).encode(),
    L.line(T, 3120441, L.training_data_viewed(False)).encode(),
    L.line(T, 3120441, L.request_argument("metric", "stats.wéb01")).encode(),
    L.line(T, 2240915, L.learn_new_generation("human generated", 1, 1240, 30, 1234)).encode(),
    L.line(T, 12345, L.trigger_alert_error(L.traceback_text())).encode(),
    L.bin_line(T, 31337, "analyzer", "sent slack alert: For x").encode(),
    L.gunicorn_line(T, 3120440, "INFO", "Booting worker with pid: 3120441").encode(),
    b'  File "/opt/skyline/skyline/mirage/mirage.py", line 5849, in run\n',
    b"\n",
    b"\r\n",
    b"trigger_alert :: alert: ['stats', 'slack'], metric: [1, 'm', 2], context: Analyzer\n",
    b"2026-11-26 13:15:16 :: 1 :: caf\xe9 \xff\xfe invalid utf-8\n",
    b"2026-11-26 13:15:16 :: 7 :: ",
    b"2026-11-26 13:15:16 :: ",
]

chunks = st.lists(st.one_of(st.sampled_from(SAMPLES), st.binary(max_size=30)), max_size=25)


def frame_bytes(data: bytes, offset: int = 0) -> list[Record]:
    """Frame a whole byte string; an unterminated last line is a line of its own."""
    framer = Framer(offset=offset)
    return framer.feed(data) + framer.finish()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def frame_in(parts: list[bytes], select=None) -> list:  # type: ignore[no-untyped-def]
    framer = Framer(select=select)
    out = []
    for part in parts:
        out += framer.feed(part)
    return out + framer.finish()


def key(rec) -> tuple:  # type: ignore[no-untyped-def]
    return rec.offset, rec.line_no, rec.origin, rec.logged_at, rec.pid, rec.message


# -- shapes --------------------------------------------------------------------------------
def test_records_kinds_and_continuations() -> None:
    data = b"orphan first\n" + SAMPLES[6] + SAMPLES[7] + SAMPLES[8] + SAMPLES[0]
    records = frame_bytes(data)
    assert [r.origin for r in records] == [ORPHAN, APP, BIN, GUNICORN_LINE, APP]
    traceback = records[1]
    assert traceback.message == "error :: trigger_alert - Traceback (most recent call last):"
    assert traceback.continuation[-1] == ""  # format_exc() ends with a newline
    assert "" in traceback.continuation[:-1]  # chained exceptions: a blank line inside
    assert traceback.pid == 12345 and traceback.logged_at == "2026-11-26 13:15:16"
    assert b"".join(r.raw for r in records) == data
    assert [r.line_no for r in records] == [
        1,
        2,
        2 + SAMPLES[6].count(b"\n"),
        3 + SAMPLES[6].count(b"\n"),
        4 + SAMPLES[6].count(b"\n"),
    ]


def test_partial_line_waits_and_finish_frames_it() -> None:
    framer = Framer()
    assert framer.feed(SAMPLES[0][:50]) == []
    assert framer.safe_offset == 0
    assert framer.feed(SAMPLES[0][50:]) == []  # complete line, but its record may continue
    records = framer.flush()
    assert [r.message for r in records] == [SAMPLES[0][32:-1].decode()]
    assert framer.safe_offset == len(SAMPLES[0])
    tail = b"2026-11-26 13:15:17 :: 9 :: no newline yet"
    assert framer.feed(tail) == []
    last = framer.finish()
    assert [r.message for r in last] == ["no newline yet"]
    assert framer.safe_offset == len(SAMPLES[0]) + len(tail) and framer.line_no == 3


def test_invalid_utf8_is_replaced_and_counted() -> None:
    framer = Framer()
    records = framer.feed(SAMPLES[13]) + framer.finish()
    assert records[0].message == "caf\ufffd \ufffd\ufffd invalid utf-8"
    assert framer.stats.invalid_utf8_lines == 1


# -- over-long lines -----------------------------------------------------------------------
LONG = b"2026-11-26 13:15:16 :: 5 :: " + b"x" * (MAX_LINE + 5000) + b"\n"
AFTER = SAMPLES[2]


def test_long_line_truncated_counted_framed_in_any_chunking() -> None:
    data = SAMPLES[1] + LONG + AFTER
    expected = None
    for size in (len(data), MAX_LINE + 1, 65536, 100_003):
        framer = Framer()
        records = []
        for i in range(0, len(data), size):
            records += framer.feed(data[i : i + size])
        records += framer.finish()
        assert framer.stats.truncated_lines == 1
        assert [r.origin for r in records] == [APP, APP, APP]
        long = records[1]
        assert len(long.raw) == MAX_LINE + 1 and long.offset == len(SAMPLES[1])
        assert long.end == len(SAMPLES[1]) + len(LONG)  # its true end
        assert records[2].offset == len(SAMPLES[1]) + len(LONG) and records[2].line_no == 3
        assert framer.safe_offset == len(data)
        if expected is None:
            expected = [key(r) for r in records]
        assert [key(r) for r in records] == expected


def test_long_line_in_select_mode_and_unterminated_at_finish() -> None:
    sel = SELECTORS["mirage"]
    data = LONG.replace(b"x" * 20, b"sent slack alert: For", 1) + AFTER + LONG[:-1]
    for size in (len(data), 70_000):
        framer = Framer(select=sel)
        records = []
        for i in range(0, len(data), size):
            records += framer.feed(data[i : i + size])
        records += framer.finish()
        assert framer.stats.truncated_lines == 2
        assert [r.line_no for r in records] == [2]  # the long line does not match at its start
        assert records[0].message == "sent slack alert: For stats.web01.cpu.user"
        assert framer.safe_offset == len(data) and framer.stats.lines == 3


# -- properties ----------------------------------------------------------------------------
@PROPERTY
@given(
    chunks,
    st.lists(st.integers(min_value=0), max_size=8),
    st.sampled_from([None, *SELECTORS.values()]),
)
def test_framing_never_raises_and_ignores_chunking(
    parts: list[bytes], cuts: list[int], select
) -> None:  # type: ignore[no-untyped-def]
    data = b"".join(parts)
    whole = frame_in([data], select)
    assert [key(r) for r in frame_in(split(data, cuts), select)] == [key(r) for r in whole]
    offsets = [r.offset for r in whole]
    assert offsets == sorted(offsets) and all(r.end > r.offset for r in whole)


@PROPERTY
@given(chunks)
def test_reframing_the_raw_bytes_is_lossless(parts: list[bytes]) -> None:
    data = b"".join(parts)
    records = frame_bytes(data)
    assert b"".join(r.raw for r in records) == data
    again = frame_bytes(b"".join(r.raw for r in records))
    assert [(key(r), r.raw, r.continuation) for r in again] == [
        (key(r), r.raw, r.continuation) for r in records
    ]


@PROPERTY
@given(chunks, st.sampled_from(sorted(SELECTORS)), st.lists(st.integers(min_value=0), max_size=5))
def test_select_mode_is_full_mode_filtered_on_first_lines(
    parts: list[bytes], app: str, cuts: list[int]
) -> None:
    data = b"".join(parts)
    sel = SELECTORS[app]
    wanted = []
    for rec in frame_bytes(data):
        first = rec.raw.split(b"\n", 1)[0]
        m = PREFIX.match(first)
        if rec.origin == APP and m and sel.search(first, m.end() - 4):
            wanted.append(key(rec))
    assert [key(r) for r in frame_in(split(data, cuts), sel)] == wanted


@PROPERTY
@given(chunks, st.lists(st.integers(min_value=0), max_size=8), st.sampled_from(sorted(SELECTORS)))
def test_over_long_lines_in_any_chunking_with_a_small_max_line(
    parts: list[bytes], cuts: list[int], app: str
) -> None:
    """MAX_LINE made tiny, so that most lines are over-long: still chunking-independent, the
    select mode still full mode filtered, every cut line counted once."""
    data = b"".join(parts)
    with patch("parsers.framing.MAX_LINE", 40):
        whole = frame_in([data])
        pieces = split(data, cuts)
        assert [key(r) for r in frame_in(pieces)] == [key(r) for r in whole]
        sel = SELECTORS[app]
        wanted = []
        for rec in whole:
            first = rec.raw.split(b"\n", 1)[0]
            m = PREFIX.match(first)
            if rec.origin == APP and m and sel.search(first, m.end() - 4):
                wanted.append(key(rec))
        assert [key(r) for r in frame_in(pieces, sel)] == wanted
        framer = Framer()
        for piece in pieces:
            framer.feed(piece)
        framer.finish()
        longest = max((len(x) for x in data.split(b"\n")), default=0)
        assert (framer.stats.truncated_lines > 0) == (longest > 40)
        assert framer.safe_offset == len(data)
