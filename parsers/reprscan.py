"""The alert and metric reprs of Skyline's alert lines, read at C speed for the shapes Skyline
writes, without building what the parser does not read.

Skyline logs ``'alert: %s, metric: %s' % (str(alert), str(metric))`` (analyzer.py:7859,
mirage.py:5838, alerters.py:1761): ``str()`` of a list or tuple of strings, numbers, None, nan,
flat lists and flat dicts. One compiled grammar per repr checks the whole text with
``re.fullmatch`` (the regex engine, not Python bytecode, walks the hundreds of characters of
the alert config dict and the algorithm lists) and captures only the items the parser reads.

The grammar is a strict subset of what ``pyrepr.literal`` accepts, in Python's own repr
spelling (``', '`` and ``': '`` separators, quotes without escapes), and every value it yields
is the one ``literal`` gives for the same text: the callers then apply the same rules to it.
What the grammar does not cover (escapes, nested containers, objects, a numpy scalar other
than ``np.float64``, stray spaces) returns None: the caller falls back to the full parse.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from parsers.pyrepr import MAX_REPR

# Quotes without escapes, control characters or their own quote: a literal whose value is
# the text between the quotes.
_STR = r"""'[^'\\\x00-\x1f]*'|"[^"\\\x00-\x1f]*\""""
# Python's int and float literals as repr() writes them (no '1.', '.5', '1_000', '007').
_INT = r"-?(?:0|[1-9][0-9]{0,30})"
_NUM = _INT + r"(?:\.[0-9]+)?(?:[eE][-+]?[0-9]{1,4})?"
_SCALAR = rf"(?:{_STR}|{_NUM}|None|True|False|-?nan|-?inf)"
# numpy >= 2 logs a float from numpy as np.float64(87.5): read as the metric's value only
_VALUE = rf"(?:{_SCALAR}|np\.float64\((?:{_NUM}|-?nan|-?inf)\))"
# Containers: an item, then ', ' and another or the end (the grammar grows linearly with its
# depth, so it compiles in milliseconds).
_LIST = rf"\[(?:{_SCALAR}(?:, (?!\])|(?=\])))*\]"
_DICT = rf"\{{(?:{_SCALAR}: (?:{_SCALAR}|{_LIST})(?:, (?!\}})|(?=\}})))*\}}"
_ITEM = rf"(?:{_SCALAR}|{_LIST}|{_DICT})"
_STR_LIST = rf"\[(?:(?:{_STR})(?:, (?:{_STR}))*)?\]"

#: ('stats', 'slack', 3600) / ['stats', 'slack', 3600, 168, {config}, ['anomaly_id', 1]]
_ALERT = re.compile(rf"([\[(])({_STR}), ({_STR})(?:, {_ITEM})*([\])])")
#: [value, 'metric', timestamp, (full_duration,) [triggered], [run], (custom_algorithm_only)]
#: as v1-v5 write it (mirage.py:2631, analyzer.py:7859): groups 4-6 are full_duration and
#: the algorithm lists
_METRIC = re.compile(
    rf"\[({_VALUE}), ({_STR}), ({_SCALAR})"
    rf"(?:, ({_INT}))?(?:, ({_STR_LIST})(?:, ({_STR_LIST}))?)?(?:, {_SCALAR})?\]"
)
#: reprs longer than this are not remembered (the caches stay small whatever the lines)
CACHED_LEN = 4096
_STR_ITEM = re.compile(r"""'([^']*)'|"([^"]*)\"""")
_INT_TOKEN = re.compile(_INT)
_CONSTANTS: dict[str, Any] = {
    "None": None,
    "True": True,
    "False": False,
    "nan": math.nan,
    "-nan": -math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
}


def scalar(token: str) -> Any:
    """The value of one scalar token of the grammar (what ``literal`` gives for it)."""
    first = token[0]
    if first == "'" or first == '"':
        return token[1:-1]
    if token in _CONSTANTS:
        return _CONSTANTS[token]
    if first == "n":  # np.float64(...)
        return float(scalar(token[11:-1]))
    if _INT_TOKEN.fullmatch(token):
        return int(token)
    return float(token)


def alert_head(text: str) -> tuple[str, str] | None:
    """(alert[0], alert[1]) of an alert repr whose first two items are strings, or None."""
    # A storm logs the same few alert tuples (one per ALERTS entry) again and again.
    return _alert_head(text) if len(text) <= CACHED_LEN else _scan_alert(text)


def _scan_alert(text: str) -> tuple[str, str] | None:
    if len(text) > MAX_REPR:
        return None
    m = _ALERT.fullmatch(text)
    if m is None or m.group(1) + m.group(4) not in ("[]", "()"):
        return None
    return m.group(2)[1:-1], m.group(3)[1:-1]


_alert_head = lru_cache(maxsize=64)(_scan_alert)


MetricItems = tuple[Any, str, Any, "int | None", tuple[tuple[str, ...], ...]]


def metric_items(text: str) -> MetricItems | None:
    """A metric list as ``parse_metric_item`` reads it, or None: (items[0], items[1],
    items[2], full_duration: items[3] when it is an int, the lists of strings among the
    items after those)."""
    # Skyline logs each alert's metric list on two or three lines (trigger_alert, alert_slack)
    return _metric_items(text) if len(text) <= CACHED_LEN else _scan_metric(text)


def _scan_metric(text: str) -> MetricItems | None:
    if len(text) > MAX_REPR:
        return None
    m = _METRIC.fullmatch(text)
    if m is None:
        return _scan_other_metric(text)
    duration, triggered, run = m.group(4, 5, 6)
    lists = tuple(str_list(x) for x in (triggered, run) if x is not None)
    return (
        scalar(m.group(1)),
        m.group(2)[1:-1],
        scalar(m.group(3)),
        int(duration) if duration else None,
        lists,
    )


def _scan_other_metric(text: str) -> MetricItems | None:
    """A metric list of any other shape of the grammar, its items read one by one."""
    metric_any, rest_item, is_str_list = _other_patterns()
    m = metric_any.fullmatch(text)
    if m is None:
        return None
    full_duration = None
    lists = []
    for n, item in enumerate(rest_item.finditer(m.group(4))):
        token = item.group(1)
        if n == 0 and _INT_TOKEN.fullmatch(token):
            full_duration = int(token)
        elif token[0] == "[" and is_str_list.fullmatch(token):
            lists.append(str_list(token))
    return (scalar(m.group(1)), m.group(2)[1:-1], scalar(m.group(3)), full_duration, tuple(lists))


@lru_cache(maxsize=1)
def _other_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled when first needed (Skyline's own shapes never need them)."""
    return (
        re.compile(rf"\[({_VALUE}), ({_STR}), ({_SCALAR})((?:, {_ITEM})*)\]"),
        re.compile(f", ({_ITEM})"),
        re.compile(_STR_LIST),
    )


_metric_items = lru_cache(maxsize=16)(_scan_metric)


def str_list(token: str) -> tuple[str, ...]:
    """The strings of a list token that holds only strings."""
    # The algorithm lists are the same few lists in every alert line.
    return _str_list(token) if len(token) <= CACHED_LEN else _split_str_list(token)


def _split_str_list(token: str) -> tuple[str, ...]:
    if token == "[]":
        return ()
    if '"' not in token:  # all quoted with ': their items hold no ' and are split by "', '"
        return tuple(token[2:-2].split("', '"))
    return tuple(a or b for a, b in _STR_ITEM.findall(token))


_str_list = lru_cache(maxsize=64)(_split_str_list)
