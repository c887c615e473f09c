"""The alert repr scanner (parsers/reprscan.py) gives what the full parse gives, or steps aside.

Reference: ``parse_alert_fully`` / ``parse_metric_item_fully`` (pyrepr.literal, then a regex
when that fails). Texts: Python's own repr of the shapes Skyline logs (skyline_lines.py), of
random values of those shapes (quotes, backslashes, control and non-ASCII characters, nan,
huge numbers, numpy 2 scalars), and those texts cut or spliced, and plain garbage.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.alerts import (
    parse_alert,
    parse_alert_fully,
    parse_metric_item,
    parse_metric_item_fully,
)
from parsers.reprscan import alert_head, metric_items
from tests.support import skyline_lines as L

# damaged texts make ast warn of invalid escapes ('\,'): the full parse's business, not ours
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(alphabet=st.sampled_from(list("ab.-_ 0'\"\\,:[](){}#\n\x00é€N")), max_size=12)
floats = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40), floats, texts)
flat_lists = st.lists(scalars, max_size=4)
str_lists = st.lists(texts, max_size=4)
dicts = st.dictionaries(texts, st.one_of(scalars, flat_lists), max_size=4)
items = st.one_of(scalars, flat_lists, str_lists, dicts, st.tuples(texts, texts))


def numpy_repr(value: Any, numpy: bool) -> str:
    """repr() as Skyline's Python writes it; numpy 2 spells floats ``np.float64(1.5)``."""
    if isinstance(value, float) and numpy:
        return f"np.float64({value!r})"
    if isinstance(value, list):
        return "[" + ", ".join(numpy_repr(v, numpy) for v in value) + "]"
    return repr(value)


@st.composite
def alert_texts(draw: st.DrawFn) -> str:
    alert = [draw(texts), draw(texts), *draw(st.lists(items, max_size=5))]
    return repr(tuple(alert) if draw(st.booleans()) else alert)


@st.composite
def metric_texts(draw: st.DrawFn) -> str:
    value = draw(st.one_of(floats, st.integers(-5, 10**20), st.none(), texts))
    ts = draw(st.one_of(st.integers(0, 2**40), floats, texts, st.none()))
    rest = draw(st.lists(items, max_size=5))
    if draw(st.booleans()):
        rest = [draw(st.integers(-5, 10**6)), draw(str_lists), draw(str_lists), *rest[:1]]
    return numpy_repr([value, draw(texts), ts, *rest], draw(st.booleans()))


@st.composite
def damaged(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    text = draw(base)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(texts) + text[at + draw(st.integers(0, 3)) :]


def same_metric(text: str) -> None:
    assert repr(parse_metric_item(text)) == repr(parse_metric_item_fully(text))


@PROPERTY
@given(st.one_of(alert_texts(), damaged(alert_texts()), texts))
def test_alert_head_is_the_full_parse(text: str) -> None:
    assert parse_alert(text) == parse_alert_fully(text)


@PROPERTY
@given(st.one_of(metric_texts(), damaged(metric_texts()), texts))
def test_metric_item_is_the_full_parse(text: str) -> None:
    same_metric(text)


def test_the_scanner_reads_every_shape_skyline_writes() -> None:
    """Every version's alert and metric reprs take the fast path (else it would be no faster)."""
    alerts = [
        ("stats", "slack", 3600),
        ("stats", "slack", 3600, 168),
        L.alert_list("stats", "slack", 3600, 168),
        L.alert_list(
            "stats",
            "http_alerter-x",
            3600,
            0,
            extra=[["anomaly_id", 98765], ["anomalyScore", 0.7777777777777778]],
        ),
    ]
    for alert in alerts:
        text = str(alert)
        assert alert_head(text) == (alert[0], alert[1])
        assert parse_alert(text) == parse_alert_fully(text)
    metrics = [
        L.analyzer_metric("v1", 87.5, "stats.web01.cpu.user", 1795697941),
        L.analyzer_metric("v5", 87.5, "stats.web01.cpu.user", 1795697941),
        L.mirage_metric("v4", 1.92, "labelled_metrics.1234", 1795697941),
        L.mirage_metric("v5", math.nan, "stats.wéb04.cpu.user", 1795697941),
        L.mirage_metric("v5", 4, "it's.a.metric", 1795697941, custom_algorithm_only=True),
    ]
    for metric in metrics:
        for text in (str(metric), numpy_repr(metric, numpy=True)):
            assert metric_items(text) is not None, text
            same_metric(text)


def test_what_the_scanner_does_not_cover_goes_to_the_full_parse() -> None:
    for text in (
        "['stats', 'slack', <function alert at 0x7f>]",  # no literal: the regex fallback
        "['st\\'ats', 'slack', 3600]",  # an escape
        "['stats', 'slack'], ['x']",  # a tuple of lists, not an alert
        "['stats', 'slack', [[1]]]",  # nested deeper than Skyline writes
        " ['stats', 'slack']",
    ):
        assert alert_head(text) is None
        assert parse_alert(text) == parse_alert_fully(text)
    for text in (
        "[87.5, 'm', 1795697941, np.int64(7)]",
        "[87.5, 'm', 1795697941, [[1]]]",
        "[87.5, 'm', 17956979.]",
        "[87.5, 'm', 007]",
        "[-None, 'm', 1795697941, 5, []]",
    ):
        assert metric_items(text) is None
        same_metric(text)
