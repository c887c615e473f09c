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
from typing import Any

from parsers.pyrepr import MAX_REPR

# Quotes without escapes, control characters or their own quote: a literal whose value is
# the text between the quotes.
_STR = r"""'[^'\\\x00-\x1f]*'|"[^"\\\x00-\x1f]*\""""
# Python's int and float literals as repr() writes them (no '1.', '.5', '1_000', '007').
_INT = r"-?(?:0|[1-9][0-9]{0,30})"
_NUM = _INT + r"(?:\.[0-9]+)?(?:[eE][-+]?[0-9]{1,4})?"
_CONST = r"None|True|False|-?nan|-?inf"
_NP = r"np\.float64\((?:" + _NUM + r"|-?nan|-?inf)\)"  # numpy >= 2 scalars
_SCALAR = f"(?:{_STR}|{_NUM}|{_CONST}|{_NP})"
_LIST = rf"\[(?:{_SCALAR}(?:, {_SCALAR})*)?\]"
_DICT_VALUE = f"(?:{_SCALAR}|{_LIST})"
_DICT = rf"\{{(?:{_SCALAR}: {_DICT_VALUE}(?:, {_SCALAR}: {_DICT_VALUE})*)?\}}"
_ITEM = f"(?:{_SCALAR}|{_LIST}|{_DICT})"

#: ('stats', 'slack', 3600) / ['stats', 'slack', 3600, 168, {config}, ['anomaly_id', 1]]
_ALERT = re.compile(
    rf"\[({_STR}), ({_STR})(?:, {_ITEM})*\]|\(({_STR}), ({_STR})(?:, {_ITEM})*\)"
)
#: [value, 'metric', timestamp, (full_duration,) [triggered], [run], (custom_algorithm_only)]
_METRIC = re.compile(rf"\[({_SCALAR}), ({_STR}), ({_SCALAR})((?:, {_ITEM})*)\]")
_REST_ITEM = re.compile(f", ({_ITEM})")
_STR_LIST_TEXT = rf"\[(?:(?:{_STR})(?:, (?:{_STR}))*)?\]"
_STR_LIST = re.compile(_STR_LIST_TEXT)
#: the items after the third as v3-v5 write them (mirage.py:2631, analyzer.py:7859)
_REST = re.compile(
    rf"(?:, ({_INT}))?(?:, ({_STR_LIST_TEXT})(?:, ({_STR_LIST_TEXT}))?)?(?:, {_SCALAR})?"
)
_STR_ITEM = re.compile(r"""'([^']*)'|"([^"]*)\"""")
_INT_TOKEN = re.compile(_INT)
_CONSTANTS: dict[str, Any] = {
    "None": None, "True": True, "False": False,
    "nan": math.nan, "-nan": -math.nan, "inf": math.inf, "-inf": -math.inf,
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
    if len(text) > MAX_REPR:
        return None
    m = _ALERT.fullmatch(text)
    if m is None:
        return None
    if m.group(1) is not None:
        return m.group(1)[1:-1], m.group(2)[1:-1]
    return m.group(3)[1:-1], m.group(4)[1:-1]


def metric_items(text: str) -> tuple[Any, str, Any, int | None, list[tuple[str, ...]]] | None:
    """A metric list as ``parse_metric_item`` reads it, or None: (items[0], items[1],
    items[2], full_duration: items[3] when it is an int, the lists of strings among the
    items after those)."""
    if len(text) > MAX_REPR:
        return None
    m = _METRIC.fullmatch(text)
    if m is None:
        return None
    first, metric, timestamp = scalar(m.group(1)), m.group(2)[1:-1], scalar(m.group(3))
    rest = m.group(4)
    fast = _REST.fullmatch(rest)  # (full_duration,) (triggered, (run,)) (custom_algorithm_only)
    if fast is not None:
        duration, lists = fast.group(1), [str_list(x) for x in fast.group(2, 3) if x]
        return first, metric, timestamp, int(duration) if duration else None, lists
    full_duration = None
    lists = []
    for n, item in enumerate(_REST_ITEM.finditer(rest)):
        token = item.group(1)
        if n == 0 and _INT_TOKEN.fullmatch(token):
            full_duration = int(token)
        elif token[0] == "[" and _STR_LIST.fullmatch(token):
            lists.append(str_list(token))
    return first, metric, timestamp, full_duration, lists


def str_list(token: str) -> tuple[str, ...]:
    """The strings of a list token that holds only strings."""
    if token == "[]":
        return ()
    if '"' not in token:  # all quoted with ': their items hold no ' and are split by "', '"
        return tuple(token[2:-2].split("', '"))
    return tuple(a or b for a, b in _STR_ITEM.findall(token))
