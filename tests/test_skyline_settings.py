"""Reading Skyline's settings.py by its AST, never by running it."""

from __future__ import annotations

import math
import runpy
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.config.skyline_settings import SettingsError, parse_file, parse_settings, read_settings

DATA = Path(__file__).parent / "data" / "settings"
DEFAULT = DATA / "default_settings.py"
EDITED = DATA / "edited_settings.py"
HOSTILE = DATA / "hostile_settings.py"
MARKERS = [
    Path(f"/tmp/skyline-sidecar-test-pwned-{name}")
    for name in ("system", "open", "if", "try", "def", "import", "eval")
]


def settings_of(source: str) -> dict:
    return parse_settings(source).values


@pytest.mark.parametrize("path", [DEFAULT, EDITED], ids=["default", "edited"])
def test_side_effect_free_fixtures_read_exactly_as_python_runs_them(path: Path) -> None:
    executed = {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}
    parsed = parse_file(path)
    assert parsed.values == executed
    assert parsed.skipped == ()


def test_default_settings_as_skyline_ships_them() -> None:
    settings = read_settings(DEFAULT)
    assert settings["LOG_PATH"] == "/var/log/skyline"
    assert settings["GRAPHITE_HOST"] == "YOUR_GRAPHITE_HOST.example.com"
    assert settings["GRAPHITE_PORT"] == "80"
    # Derived values: concatenation, names, % formatting, arithmetic, lists of names.
    assert settings["GRAPH_URL"] == (
        "http://YOUR_GRAPHITE_HOST.example.com:80/render?width=1400&from=-7hour&target="
    )
    assert settings["CARBON_HOST"] == "YOUR_GRAPHITE_HOST.example.com"
    assert settings["CANARY_METRIC"] == "skyline.horizon.YOUR_HOSTNAME.worker.metrics_received"
    assert settings["METRICS_INACTIVE_AFTER"] == 82800
    assert settings["SKYLINE_FEEDBACK_NAMESPACES"] == [
        "YOUR_HOSTNAME",
        "YOUR_GRAPHITE_HOST.example.com",
    ]
    assert settings["REDIS_PASSWORD"] is None
    assert settings["ALERTS"] == (
        ("skyline", "smtp", 1800),
        ("skyline_test.alerters.test", "smtp|http_alerter-mock_api_alerter_receiver", 1),
        ("horizon.test.udp", "smtp|http_alerter-mock_api_alerter_receiver", 1),
        ("skyline_test.alerters.test", "slack", 1),
    )
    opts = settings["SLACK_OPTS"]
    assert opts["bot_user_oauth_access_token"] == "YOUR_slack_bot_user_oauth_access_token"
    assert list(opts["channels"]) == ["skyline", "skyline_test.alerters.test", "horizon.udp.test"]
    assert opts["channels"]["horizon.udp.test"] == ("#skyline", "#testing")


def test_edited_settings() -> None:
    settings = read_settings(EDITED)
    # The later assignment wins, and os.path.join of known strings is evaluated.
    assert settings["LOG_PATH"] == "/data/skyline/logs"
    assert settings["MIRAGE_CHECK_PATH"] == "/opt/skyline/mirage/check"
    assert settings["FLUX_TORNADO_URL"] == "http://127.0.0.1:8000/tornado"
    channels = settings["SLACK_OPTS"]["channels"]
    assert channels["stats.web.*.requests"] == "#web-ops"  # ('#web-ops') is a str
    assert channels["carbon"] == ["#graphite", "#skyline"]
    assert "os" not in settings  # an import binds a module, which is not a setting


def test_hostile_settings_are_never_executed() -> None:
    for marker in MARKERS:
        marker.unlink(missing_ok=True)
    parsed = parse_file(HOSTILE)
    assert [m for m in MARKERS if m.exists()] == []
    settings = parsed.values
    assert settings["SKYLINE_URL"] == "https://skyline.example.net"
    assert settings["ALERTS"] == (("skyline", "slack", 1800),)
    # LOG_PATH is rebound inside an `if` we do not run: its earlier value may be wrong, so none.
    assert "LOG_PATH" not in settings
    assert "SERVER_METRICS_NAME" not in settings
    assert "GRAPHITE_HOST" not in settings
    # The dict keeps what it can; the entries built by code are left out and reported.
    assert settings["SLACK_OPTS"] == {
        "channels": {"skyline": ("#skyline",)},
        "default_channel": "#skyline",
    }
    assert set(parsed.skipped) >= {
        "LOG_PATH",
        "SERVER_METRICS_NAME",
        "GRAPHITE_HOST",
        "SLACK_OPTS['bot_user_oauth_access_token']",
        "SLACK_OPTS['thread_updates']",
    }


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.py"
    path.write_text("LOG_PATH = '/var/log/skyline'\n\nGRAPHITE_PORT = '80'\nSKYLINE_URL = = 'x'\n")
    with pytest.raises(SettingsError, match=rf"^{path}:4: Skyline settings are not valid Python"):
        read_settings(path)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=rf"^{tmp_path}/nope.py: cannot read"):
        read_settings(tmp_path / "nope.py")


def test_later_unknown_assignment_forgets_the_earlier_value() -> None:
    parsed = parse_settings("import socket\nHOST = 'a'\nHOST = socket.gethostname()\n")
    assert "HOST" not in parsed.values
    assert parsed.skipped == ("HOST",)  # modules are not settings: `socket` is not reported


def test_names_local_to_functions_and_classes_do_not_shadow_settings() -> None:
    source = (
        "LOG_PATH = '/logs'\n"
        "def f():\n    LOG_PATH = 'local'\n"
        "class C:\n    LOG_PATH = 'attr'\n"
        "X = [LOG_PATH for LOG_PATH in 'ab']\n"
    )
    assert settings_of(source)["LOG_PATH"] == "/logs"


def test_statements_that_bind_names_we_cannot_follow() -> None:
    source = (
        "A = 1\nB = 2\nC = 3\nD = 4\nE = 5\n"
        "A += 1\n"
        "B, C = 7, 8\n"
        "for D in range(3):\n    pass\n"
        "del E\n"
        "F: int = 6\n"
    )
    assert settings_of(source) == {"F": 6}


SUBSCRIPTS = """
SLACK_OPTS = {'default_channel': 'YOUR_default_slack_channel', 'channels': {'a': ('#a',)}}
BOUNDARY_SLACK_OPTS = SLACK_OPTS
SLACK_OPTS['default_channel'] = '#ops'
SLACK_OPTS['channels']['b'] = '#b'
LIMITS = [1, 2]
LIMITS[-1] = 3
CHANNEL = SLACK_OPTS.get('default_channel')
"""


def test_item_assignments_are_followed_as_python_runs_them(tmp_path: Path) -> None:
    path = tmp_path / "settings.py"
    path.write_text(SUBSCRIPTS)
    executed = {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}
    parsed = parse_file(path)
    assert parsed.values == {k: v for k, v in executed.items() if k != "CHANNEL"}
    assert parsed.values["SLACK_OPTS"]["channels"] == {"a": ("#a",), "b": "#b"}
    # .get() changes nothing, but its result is not evaluated.
    assert parsed.skipped == ("CHANNEL",)


def test_code_that_may_change_a_setting_forgets_it() -> None:
    source = (
        "SLACK_OPTS = {'channels': {}}\nALERTS = ()\nSKIP = ['a']\nKEEP = 'x'\n"
        "SLACK_OPTS['channels'].update(load())\n"
        "if True:\n    ALERTS += (('x', 'slack', 1),)\n"
        "SKIP.append('b')\n"
        "LOWER = KEEP.lower()\n"
    )
    parsed = parse_settings(source)
    assert parsed.values == {"KEEP": "x"}  # a str method cannot change KEEP
    assert parsed.skipped == ("SLACK_OPTS", "ALERTS", "SKIP", "LOWER")


def test_unknown_names_and_calls_are_skipped_not_errors() -> None:
    source = "A = UNDEFINED\nB = len('x')\nC = 'a' * 3\nD = {**{}}\nE = -'x'\nF = 'ok'\n"
    assert settings_of(source) == {"F": "ok"}


def test_format_that_would_allocate_gigabytes_is_refused_quickly() -> None:
    start = time.monotonic()
    values = settings_of("A = '%999999999d' % 1\nB = '%*d' % (999999999, 1)\nC = '%5d' % 1\n")
    assert time.monotonic() - start < 1
    assert values == {"C": "    1"}


literals = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children)
        | st.lists(children).map(tuple)
        | st.dictionaries(st.text() | st.integers(), children)
    ),
    max_leaves=20,
)


@given(literals)
def test_any_literal_round_trips(value: object) -> None:
    assert settings_of(f"SETTING = {value!r}\n") == {"SETTING": value}


@given(st.text(), st.text())
def test_string_concatenation_and_names(a: str, b: str) -> None:
    values = settings_of(f"A = {a!r}\nB = A + {b!r}\nC = '%s/%s' % (A, B)\n")
    assert values == {"A": a, "B": a + b, "C": f"{a}/{a + b}"}


def test_negative_and_float_arithmetic() -> None:
    assert settings_of("A = 2.5\nB = -A\nC = A - 1\n") == {"A": 2.5, "B": -2.5, "C": 1.5}
    assert math.isinf(settings_of("A = 1e999\n")["A"])
