"""The safe evaluator of Skyline's logged reprs, app_from_path and url_args."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.common import url_args
from parsers.pyrepr import MAX_REPR, ReprError, literal, literal_or_none
from sidecar.tail.names import app_from_path


def test_reprs_skyline_logs() -> None:
    assert literal("('stats', 'slack', 3600, 168)") == ("stats", "slack", 3600, 168)
    assert literal("['s', {'id': 'internal-2', 'n': None}, ['anomaly_id', 98765]]") == [
        "s",
        {"id": "internal-2", "n": None},
        ["anomaly_id", 98765],
    ]
    assert literal("[-1.5, +2, b'17.5', True]") == [-1.5, 2, b"17.5", True]
    value = literal(
        "[nan, inf, -inf, np.float64(87.5), np.int64(3), np.True_, "
        "numpy.bool_(False), np.str_('x')]"
    )
    assert math.isnan(value[0]) and value[1:3] == [math.inf, -math.inf]
    assert value[3:] == [87.5, 3, True, False, "x"]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "np.load('x')",
        "a.b",
        "[1, 2",
        "{**x}",
        "-'a'",
        "np.float64(1, 2)",
        "lambda: 1",
        "[" * 100 + "]" * 100,
        "9" * 5000,
        "x" * (MAX_REPR + 1),
        "np.int64('nan')",
        "[1 + 2]",
        "f'{x}'",
        "\x00",
    ],
)
def test_anything_else_is_a_repr_error(text: str) -> None:
    with pytest.raises(ReprError):
        literal(text)
    assert literal_or_none(text) is None


@pytest.mark.parametrize(
    ("path", "app"),
    [
        ("mirage.log", "mirage"),
        ("/var/log/skyline/mirage.log.2026-11-25", "mirage"),
        ("analyzer.log.2026-11-25.gz", "analyzer"),
        ("webapp.log.last", "webapp"),
        ("ionosphere.log", "ionosphere"),
        ("tests/corpus/v5/webapp.log", "webapp"),
        ("webapp.access.log", None),
        ("analyzer_batch.log", None),
        ("panorama.log", None),
        ("mirage.logfile", None),
        ("/var/log/skyline/", None),
        ("xmirage.log", None),
    ],
)
def test_app_from_path(path: str, app: str | None) -> None:
    assert app_from_path(path) == app


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab/?&=%+#:.20 ", max_size=40))
def test_url_args_decode_as_parse_qsl(tail: str) -> None:
    url = "https://skyline.example.com/" + tail
    parts = urlsplit(url)
    expected: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        expected.setdefault(key, value)
    assert url_args(url) == (parts.path, expected)
