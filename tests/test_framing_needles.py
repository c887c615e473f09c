"""The framer's needle search (parsers.logparser.NEEDLES) selects exactly the lines the selector
regex alone selects: same records, same line numbers, same stats, in any chunking."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.framing import Framer, Record
from parsers.logparser import NEEDLES, SELECTORS
from tests.support import skyline_lines as L

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CORPUS = Path(__file__).parent / "corpus"
T = datetime(2026, 11, 26, 13, 15, 16)
M = "stats.web01.cpu.user"
ALERT = L.alert_list("stats", "slack", 3600, 168)
METRIC = L.mirage_metric("v5", 87.5, M, 1795698600)

# Every line the alert selectors select, near misses, and lines holding a needle elsewhere.
MESSAGES = [
    L.slack_disabled(ALERT, METRIC),
    L.slack_anomalous(ALERT, METRIC),
    L.mirage_trigger_alert(ALERT, METRIC, 604800),
    L.mirage_trigger_alert(ALERT, METRIC, 604800, smtp=True),
    L.analyzer_trigger_alert(ALERT, METRIC),
    L.triggering_alert("v5", M, 87.5, "slack"),
    L.triggering_alert_full_duration(M, 87.5, "smtp"),
    L.failed_to_trigger_alert(M, 87.5, "smtp"),
    L.alert_paused("slack", M, 1795698900),
    L.sent_alert("smtp", M),
    L.negate_alert_sent(M),
    L.slack_thread_ts("1795698622.000100"),
    L.slack_group_thread_ts("alerts", "1795698622.000100", as_bytes=True),
    L.panorama_thread_key(M, 1795698600, "1795698622.000100"),
    L.panorama_thread_hash(M, 1795698600, "1795698622.000100"),
    L.checking_for_alerts(),
    L.alerts_checked(),
    L.not_alerting_ionosphere(M),
    "alerting alert_slack",
    "x :: alert_slack - the slack_thread_ts is 1.2",
    "debug :: added Panorama slack_thread_ts Redis key - nothing",
]


def lines(draw: st.DrawFn) -> bytes:
    msg = draw(st.sampled_from(MESSAGES))
    shape = draw(st.sampled_from(["app", "app", "app", "bin", "bare", "cut", "crlf", "lf"]))
    if shape == "bin":
        return L.bin_line(T, 31337, "mirage", msg).encode()
    if shape == "bare":
        return (msg + "\n").encode()
    text = L.line(T, draw(st.integers(1, 4_000_000)), msg).encode()
    if shape == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if shape == "crlf":
        return text.replace(b"\n", b"\r\n")
    return text + b"\n" if shape == "lf" else text


def frame(app: str, parts: list[bytes], needles: bool) -> tuple[list[Record], object]:
    framer = Framer(select=SELECTORS[app], needles=NEEDLES[app] if needles else ())
    out: list[Record] = []
    for part in parts:
        out += framer.feed(part)
    out += framer.finish()
    return out, framer.stats


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def test_alert_apps_use_needles() -> None:
    assert set(NEEDLES) == {"analyzer", "mirage"}


def test_corpus_logs_frame_alike() -> None:
    for app in NEEDLES:
        for path in sorted(CORPUS.glob(f"v*/{app}.log")):
            data = path.read_bytes()
            with_needles = frame(app, [data], True)
            assert with_needles[0], path
            assert with_needles == frame(app, [data], False), path


@PROPERTY
@given(
    st.sampled_from(sorted(NEEDLES)),
    st.lists(st.composite(lines)(), max_size=30),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_any_lines_frame_alike(app: str, chunks: list[bytes], cuts: list[int]) -> None:
    data = b"".join(chunks)
    whole = frame(app, [data], False)
    assert frame(app, split(data, cuts), True) == whole
