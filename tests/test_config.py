"""load_config: TOML over Skyline's settings.py over defaults, and where the token comes from."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from sidecar.config.options import (
    Config,
    ConfigError,
    Secret,
    SkylineOptions,
    SlackOptions,
    StateOptions,
    load_config,
)

DATA = Path(__file__).parent / "data" / "settings"
DEFAULT = DATA / "default_settings.py"
EDITED = DATA / "edited_settings.py"
HOSTILE = DATA / "hostile_settings.py"
EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"
EDITED_TOKEN = "xoxb-1111111111-2222222222222-AbCdEfGhIjKlMnOpQrStUvWx"


def write_toml(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def settings_toml(tmp_path: Path, settings: Path, extra: str = "") -> Path:
    return write_toml(tmp_path, f'[skyline]\nsettings_py = "{settings}"\n{extra}')


def config_error(path: Path | None = None, **kwargs) -> ConfigError:
    kwargs.setdefault("environ", {})
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)
    return info.value


# -- no configuration at all -----------------------------------------------------------------


def test_no_file_no_environment_gives_defaults() -> None:
    config = load_config(environ={})
    assert config == Config(SkylineOptions(), SlackOptions(), StateOptions(), None, None)
    assert config.skyline.log_dir == Path("/var/log/skyline")
    assert config.state.path == Path("/var/lib/skyline-slack-sidecar/state.sqlite")
    assert config.slack.channels_for("anything") == ()


def test_config_path_from_environment_and_argument_wins(tmp_path: Path) -> None:
    from_env = write_toml(tmp_path, '[skyline]\nlog_dir = "/env"\n', "env.toml")
    from_arg = write_toml(tmp_path, '[skyline]\nlog_dir = "/arg"\n', "arg.toml")
    environ = {"SKYLINE_SIDECAR_CONFIG": str(from_env)}
    assert load_config(environ=environ).skyline.log_dir == Path("/env")
    assert load_config(environ=environ).source == from_env
    assert load_config(from_arg, environ=environ).skyline.log_dir == Path("/arg")


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    err = config_error(tmp_path / "missing.toml")
    assert str(err) == f"{tmp_path}/missing.toml: config file not found"


# -- Skyline's settings.py -------------------------------------------------------------------


def test_settings_as_skyline_ships_them(tmp_path: Path) -> None:
    config = load_config(settings_toml(tmp_path, DEFAULT), environ={})
    assert config.token is None  # 'YOUR_slack_bot_user_oauth_access_token'
    slack = config.slack
    assert slack.default_channel is None
    assert slack.default_channel_id is None
    assert slack.channel_ids == ()  # every id is a YOUR_ placeholder
    assert slack.channels == (
        ("skyline", ("#skyline",)),
        ("skyline_test.alerters.test", ("#skyline",)),
        ("horizon.udp.test", ("#skyline", "#testing")),
    )
    assert slack == dataclasses.replace(SlackOptions(), channels=slack.channels)
    skyline = config.skyline
    assert skyline.settings_py == DEFAULT
    assert skyline.log_dir == Path("/var/log/skyline")
    assert skyline.url == "https://skyline.example.com"
    assert skyline.graphite_url is None  # YOUR_GRAPHITE_HOST.example.com
    assert skyline.alerts == (
        ("skyline", "smtp"),
        ("skyline_test.alerters.test", "smtp|http_alerter-mock_api_alerter_receiver"),
        ("horizon.test.udp", "smtp|http_alerter-mock_api_alerter_receiver"),
        ("skyline_test.alerters.test", "slack"),
    )


def test_settings_edited_for_production(tmp_path: Path) -> None:
    config = load_config(settings_toml(tmp_path, EDITED), environ={})
    assert config.token is not None and config.token.reveal() == EDITED_TOKEN
    assert config.token_source == f"{EDITED} SLACK_OPTS['bot_user_oauth_access_token']"
    slack = config.slack
    assert slack.channels == (
        ("skyline", ("#skyline",)),
        ("stats.web.*.requests", ("#web-ops",)),  # ('#web-ops') is one channel, not 8
        ("carbon", ("#graphite", "#skyline")),
    )
    assert slack.channel_ids == (("#skyline", "C0SKYLINE1"), ("#web-ops", "C0WEBOPS12"))
    assert (slack.default_channel, slack.default_channel_id) == ("#skyline", "C0SKYLINE1")
    assert slack.icon_emoji == ":skyline:"
    assert slack.message_on_training_data_viewed is False
    assert slack.message_on_validated_features_profiles is False
    assert slack.message_on_features_profile_created_reaction_emoji == "+1"
    skyline = config.skyline
    assert skyline.log_dir == Path("/data/skyline/logs")  # the later os.path.join assignment
    assert skyline.url == "https://skyline.example.org"  # trailing slash dropped
    assert skyline.graphite_url == "https://graphite.example.org:8443"
    assert skyline.alerts[3:5] == (
        ("skyline", "slack"),
        ("stats.web.*.requests", "slack"),
    )


def test_hostile_settings_are_read_without_running_them(tmp_path: Path) -> None:
    markers = list(Path("/tmp").glob("skyline-sidecar-test-pwned-*"))
    for marker in markers:
        marker.unlink()
    config = load_config(settings_toml(tmp_path, HOSTILE), environ={})
    assert list(Path("/tmp").glob("skyline-sidecar-test-pwned-*")) == []
    assert config.skyline.url == "https://skyline.example.net"
    assert config.skyline.log_dir == Path("/var/log/skyline")  # LOG_PATH is unknowable: default
    assert config.slack.channels == (("skyline", ("#skyline",)),)
    # built by eval(): unknowable, so read as missing: Skyline's default for a missing switch
    assert config.slack.thread_updates is False
    assert config.token is None


def test_settings_path_from_environment_when_the_toml_names_none(tmp_path: Path) -> None:
    config = load_config(environ={"SKYLINE_SETTINGS_PY": str(EDITED)})
    assert config.skyline.settings_py == EDITED
    assert config.slack.default_channel == "#skyline"
    toml = settings_toml(tmp_path, DEFAULT)
    assert load_config(toml, environ={"SKYLINE_SETTINGS_PY": str(EDITED)}).skyline.settings_py == (
        DEFAULT
    )


def test_graphite_url_without_port(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text("GRAPHITE_HOST = 'graphite'\nGRAPHITE_PORT = ''\n")
    config = load_config(environ={"SKYLINE_SETTINGS_PY": str(settings)})
    assert config.skyline.graphite_url == "http://graphite"


def test_relative_log_path_in_settings_resolves_against_settings_dir(tmp_path: Path) -> None:
    settings = tmp_path / "skyline" / "settings.py"
    settings.parent.mkdir()
    settings.write_text("LOG_PATH = 'logs'\n")
    config = load_config(environ={"SKYLINE_SETTINGS_PY": str(settings)})
    assert config.skyline.log_dir == tmp_path / "skyline" / "logs"


# -- the TOML file ---------------------------------------------------------------------------


def test_toml_overrides_settings(tmp_path: Path) -> None:
    toml = settings_toml(
        tmp_path,
        EDITED,
        'log_dir = "/srv/skyline/logs"\n'
        'url = ""\n'  # an empty string unsets SKYLINE_URL
        'apps = ["analyzer", "mirage"]\n'
        "[slack]\n"
        'default_channel = "#alerts"\n'
        "thread_updates = false\n"
        'message_on_features_profile_learnt_reaction_emoji = ":white_check_mark:"\n'
        "lifecycle_grace_seconds = 60\n"
        "[slack.channels]\n"
        '"stats.web.*.requests" = ["#web", "#ops"]\n'
        'skyline = "#alerts"\n',
    )
    config = load_config(toml, environ={})
    assert config.skyline.log_dir == Path("/srv/skyline/logs")
    assert config.skyline.url is None
    assert config.skyline.apps == ("analyzer", "mirage")
    assert config.skyline.graphite_url == "https://graphite.example.org:8443"  # not overridden
    slack = config.slack
    assert slack.default_channel == "#alerts"
    assert slack.default_channel_id == "C0SKYLINE1"  # from settings.py
    assert slack.thread_updates is False
    assert slack.message_on_features_profile_learnt_reaction_emoji == "white_check_mark"
    assert slack.lifecycle_grace_seconds == 60.0
    # The TOML table replaces SLACK_OPTS['channels'] as a whole, in the file's order.
    assert slack.channels == (("stats.web.*.requests", ("#web", "#ops")), ("skyline", ("#alerts",)))
    assert config.token is not None and config.token.reveal() == EDITED_TOKEN


def test_relative_paths_resolve_against_the_toml_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("xoxb-from-file\n")
    (tmp_path / "skyline").mkdir()
    (tmp_path / "skyline" / "settings.py").write_text("LOG_PATH = '/x'\n")
    toml = write_toml(
        tmp_path,
        '[skyline]\nsettings_py = "skyline/settings.py"\nlog_dir = "logs"\n'
        '[slack]\ntoken_file = "token"\n[state]\npath = "state.sqlite"\n',
    )
    monkeypatch.chdir("/")  # so that a path resolved against the cwd would be wrong
    config = load_config(toml, environ={})
    assert config.skyline.settings_py == tmp_path / "skyline" / "settings.py"
    assert config.skyline.log_dir == tmp_path / "logs"
    assert config.slack.token_file == tmp_path / "token"
    assert config.state.path == tmp_path / "state.sqlite"
    assert config.token is not None and config.token.reveal() == "xoxb-from-file"


def test_overrides_win_over_the_toml_and_none_means_not_given(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, '[skyline]\nlog_dir = "/toml"\n[state]\npath = "/toml.sqlite"\n')
    config = load_config(
        toml,
        environ={},
        overrides={"skyline": {"log_dir": Path("/flag")}, "state": {"path": None}},
    )
    assert config.skyline.log_dir == Path("/flag")
    assert config.state.path == Path("/toml.sqlite")
    err = config_error(toml, overrides={"slack": {"thread_updates": "yes"}})
    assert str(err) == (
        "<overrides>: [slack].thread_updates: expected a boolean (true or false), got str 'yes'"
    )


def test_example_config_is_valid_and_state_lives_in_the_state_directory() -> None:
    config = load_config(EXAMPLE, environ={}, overrides={"skyline": {"settings_py": DEFAULT}})
    assert config.state.path == Path("/var/lib/skyline-slack-sidecar/state.sqlite")
    text = EXAMPLE.read_text()
    assert 'settings_py = "/opt/skyline/github/skyline/skyline/settings.py"' in text


def test_every_key_commented_in_the_example_is_a_real_key(tmp_path: Path) -> None:
    # Uncomment `# key = value` and `# [table]` lines: the result must load.
    uncommented = re.sub(
        r"^# (\[[a-z_.]+\]|\"?[a-z_.]+\"? = .+)$", r"\1", EXAMPLE.read_text(), flags=re.M
    )
    assert uncommented.count("\n# ") < EXAMPLE.read_text().count("\n# ")
    uncommented = uncommented.replace(
        "/opt/skyline/github/skyline/skyline/settings.py", str(DEFAULT)
    ).replace("/etc/skyline-slack-sidecar/slack-token", str(tmp_path / "token"))
    (tmp_path / "token").write_text("xoxb-example")
    config = load_config(write_toml(tmp_path, uncommented), environ={})
    assert config.slack.default_channel == "#skyline"
    assert config.slack.channels[1] == ("skyline_test.alerters.test", ("#skyline", "#testing"))
    assert config.skyline.graphite_url == "http://graphite.example.com:80"


# -- errors: one clear message each, naming file, key and what was expected -------------------


def test_broken_toml_reports_line_and_column(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, '[skyline]\nlog_dir = "/var/log/skyline"\napps = [analyzer]\n')
    err = config_error(toml)
    assert str(err) == f"{toml}: line 3, column 9: invalid TOML: Invalid value"


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, '[slack]\nchanels = {skyline = "#skyline"}\n')
    assert str(config_error(toml)) == (
        f"{toml}: [slack].chanels: unknown key; did you mean 'channels'?"
    )


def test_unknown_table(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "[graphite]\nhost = 'x'\n")
    err = config_error(toml)
    assert (err.file, err.key) == (str(toml), "graphite")
    assert "unknown table; expected one of: skyline, slack, state" in str(err)


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[slack]\nthread_updates = 'yes'", "[slack].thread_updates", "a boolean (true or false)"),
        ("[skyline]\napps = 'analyzer'", "[skyline].apps", "a non-empty array of strings"),
        ("[skyline]\napps = ['analyzer', 3]", "[skyline].apps[1]", "a non-empty string"),
        ("[skyline]\napps = ['../etc']", "[skyline].apps", "Skyline app names"),
        ("[skyline]\nurl = 'skyline.example.com'", "[skyline].url", "an http:// or https:// URL"),
        ("[slack]\nlifecycle_grace_seconds = -1", "[slack].lifecycle_grace_seconds", ">= 0"),
        ("[slack]\nmax_retry_age_seconds = nan", "[slack].max_retry_age_seconds", ">= 0"),
        ("[slack]\nchannels = ['#skyline']", "[slack].channels", "a table (mapping) of namespace"),
        (
            "[slack.channels]\nskyline_test.alerters.test = '#skyline'",
            "[slack].channels['skyline_test']",
            'quote dotted namespaces: "a.b.c"',
        ),
        ("[slack.channels]\nskyline = []", "[slack].channels['skyline']", "a non-empty array"),
        ("[slack.channel_ids]\n'#skyline' = 1", "[slack].channel_ids['#skyline']", "a non-empty"),
        ("[state]\npath = 1", "[state].path", "a non-empty string"),
        ("skyline = 1", "skyline", "a [skyline] table"),
    ],
)
def test_wrong_type(tmp_path: Path, toml: str, key: str, expected: str) -> None:
    path = write_toml(tmp_path, toml + "\n")
    err = config_error(path)
    assert (err.file, err.key) == (str(path), key)
    assert str(err).startswith(f"{path}: {key}: expected ")
    assert expected in str(err)


@pytest.mark.parametrize(
    "toml",
    [
        '[slack]\ntoken = "xoxb-123-secret"\n',
        '[slack]\nbot_user_oauth_access_token = "xoxb-123-secret"\n',
        'token = "xoxb-123-secret"\n',
    ],
)
def test_token_in_the_toml_is_refused_without_echoing_it(tmp_path: Path, toml: str) -> None:
    err = config_error(write_toml(tmp_path, toml))
    assert "never put the token in the config file; use the SLACK_BOT_TOKEN" in str(err)
    assert "secret" not in str(err)


def test_wrong_type_messages_do_not_echo_tokens(tmp_path: Path) -> None:
    err = config_error(write_toml(tmp_path, '[slack]\napps = 1\nicon_emoji = ["xoxb-1-secret"]\n'))
    assert "secret" not in str(err)


@pytest.mark.parametrize("kind", ["missing", "directory", "empty"])
def test_unreadable_token_file(tmp_path: Path, kind: str) -> None:
    token = tmp_path / "token"
    if kind == "directory":
        token.mkdir()
    elif kind == "empty":
        token.write_text("\n")
    toml = write_toml(tmp_path, '[slack]\ntoken_file = "token"\n')
    err = config_error(toml)
    assert (err.file, err.key) == (str(toml), "[slack].token_file")
    assert str(token) in str(err)
    assert "expected a" in str(err)


def test_unreadable_credential(tmp_path: Path) -> None:
    (tmp_path / "slack-token").mkdir()
    err = config_error(environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert err.key == "$CREDENTIALS_DIRECTORY/slack-token"
    assert str(tmp_path / "slack-token") in str(err)


def test_missing_settings_py(tmp_path: Path) -> None:
    toml = settings_toml(tmp_path, tmp_path / "nope.py")
    err = config_error(toml)
    assert (err.file, err.key) == (str(toml), "[skyline].settings_py")
    assert f"{tmp_path}/nope.py is not a file" in str(err)


def test_settings_py_with_a_syntax_error(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text("LOG_PATH = '/var/log/skyline'\nSLACK_OPTS = {\n    'channels': ,\n}\n")
    toml = settings_toml(tmp_path, settings)
    err = config_error(toml)
    assert err.key == "[skyline].settings_py"
    assert f"{settings}:3: Skyline settings are not valid Python" in str(err)


@pytest.mark.parametrize(
    ("source", "key", "expected"),
    [
        ("SLACK_OPTS = {'thread_updates': 'yes'}", "SLACK_OPTS['thread_updates']", "a boolean"),
        ("SLACK_OPTS = {'channels': ['#skyline']}", "SLACK_OPTS['channels']", "a table (mapping)"),
        ("SLACK_OPTS = {'channels': {'a': 1}}", "SLACK_OPTS['channels']['a']", "a non-empty"),
        ("SLACK_OPTS = ('#skyline',)", "SLACK_OPTS", "a dict"),
        ("ALERTS = (('skyline', 'smtp'), ('x',))", "ALERTS[1]", "('namespace', 'alerter'"),
        ("LOG_PATH = 3", "LOG_PATH", "a non-empty string"),
        ("SKYLINE_URL = 'skyline.example.com'", "SKYLINE_URL", "an http:// or https:// URL"),
        ("GRAPHITE_HOST = 'g'\nGRAPHITE_PORT = 'eighty'", "GRAPHITE_PORT", "a port number"),
        ("GRAPHITE_HOST = 'g'\nGRAPHITE_PROTOCOL = 'ftp'", "GRAPHITE_PROTOCOL", "'http' or"),
    ],
)
def test_wrong_types_in_settings_py(tmp_path: Path, source: str, key: str, expected: str) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(source + "\n")
    err = config_error(environ={"SKYLINE_SETTINGS_PY": str(settings)})
    assert (err.file, err.key) == (str(settings), key)
    assert f": expected {expected}" in str(err)


def test_a_toml_override_spares_checking_the_settings_value_it_replaces(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text("SKYLINE_URL = 'not a url'\nSLACK_OPTS = {'thread_updates': 'yes'}\n")
    toml = settings_toml(tmp_path, settings, "url = 'https://s'\n[slack]\nthread_updates = true\n")
    config = load_config(toml, environ={})
    assert (config.skyline.url, config.slack.thread_updates) == ("https://s", True)


# -- the token -------------------------------------------------------------------------------


@pytest.fixture
def token_sources(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A TOML naming settings.py (token 'xoxb-settings') and a token_file; every other source."""
    settings = tmp_path / "settings.py"
    settings.write_text("SLACK_OPTS = {'bot_user_oauth_access_token': 'xoxb-settings'}\n")
    (tmp_path / "token").write_text("  xoxb-token-file\n\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "slack-token").write_text("xoxb-credential\n")
    toml = settings_toml(tmp_path, settings, '[slack]\ntoken_file = "token"\n')
    environ = {"SLACK_BOT_TOKEN": "xoxb-env", "CREDENTIALS_DIRECTORY": str(creds)}
    return toml, environ


def test_token_precedence(tmp_path: Path, token_sources: tuple[Path, dict[str, str]]) -> None:
    toml, environ = token_sources

    def token(**kwargs) -> tuple[str | None, str | None]:
        config = load_config(toml, **kwargs)
        return (config.token.reveal() if config.token else None), config.token_source

    assert token(environ=environ) == ("xoxb-env", "$SLACK_BOT_TOKEN")
    del environ["SLACK_BOT_TOKEN"]
    assert token(environ=environ) == ("xoxb-token-file", str(tmp_path / "token"))
    no_file = {"slack": {"token_file": None}}
    toml.write_text(toml.read_text().replace('token_file = "token"', ""))
    assert token(environ=environ, overrides=no_file) == (
        "xoxb-credential",
        "systemd credential slack-token",
    )
    environ["CREDENTIALS_DIRECTORY"] = str(tmp_path / "empty")  # no slack-token in it: next
    assert token(environ=environ)[0] == "xoxb-settings"
    settings = tmp_path / "settings.py"
    settings.write_text("SLACK_OPTS = {'bot_user_oauth_access_token': 'YOUR_slack_token'}\n")
    assert token(environ=environ) == (None, None)


def test_blank_environment_token_does_not_count(token_sources) -> None:
    toml, environ = token_sources
    environ["SLACK_BOT_TOKEN"] = " \n"
    assert load_config(toml, environ=environ).token == Secret("xoxb-token-file")


def test_config_repr_and_str_never_show_the_token(token_sources) -> None:
    toml, environ = token_sources
    config = load_config(toml, environ=environ)
    assert config.token is not None and config.token.reveal() == "xoxb-env"
    for text in (repr(config), str(config), f"{config}", f"{config.token}", repr(config.token)):
        assert "xoxb-env" not in text
    assert repr(config.token) == str(config.token) == "<redacted>"
    assert "xoxb-env" not in repr(dataclasses.asdict(config))


def test_secret_equality() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert len({Secret("a"), Secret("a")}) == 1


# -- channels --------------------------------------------------------------------------------


def test_channels_for_is_an_exact_lookup_of_the_alerts_namespace() -> None:
    slack = SlackOptions(
        default_channel="#skyline",
        channels=(("stats.web.*", ("#web", "#ops")), ("carbon", ("#graphite",))),
    )
    assert slack.channels_for("stats.web.*") == ("#web", "#ops")
    assert slack.channels_for("carbon") == ("#graphite",)
    # No pattern matching: the ALERTS namespace itself is the key, as in Skyline.
    assert slack.channels_for("stats.web.host1") == ("#skyline",)
    assert SlackOptions(channels=slack.channels).channels_for("nope") == ()


def test_channel_id_for() -> None:
    slack = SlackOptions(
        default_channel="#skyline",
        default_channel_id="C0DEFAULT1",
        channel_ids=(("#web", "C0WEBWEB12"), ("ops", "G0OPSOPS12")),
    )
    assert slack.channel_id_for("#web") == "C0WEBWEB12"
    assert slack.channel_id_for("web") == "C0WEBWEB12"  # with or without '#'
    assert slack.channel_id_for("#ops") == "G0OPSOPS12"
    assert slack.channel_id_for("#skyline") == "C0DEFAULT1"
    assert slack.channel_id_for("skyline") == "C0DEFAULT1"
    # Nothing is taken for an id from its shape: Slack resolves what the config does not give.
    assert slack.channel_id_for("C024BE91L") is None
    assert slack.channel_id_for("#unknown") is None
    assert SlackOptions(default_channel="#skyline").channel_id_for("#skyline") is None


def test_alert_text_settings_from_settings_py(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(
        "FULL_DURATION = 172800\nIONOSPHERE_ENABLED = False\nGRAPHITE_RENDER_URI = 'api/render'\n"
        "GRAPHITE_GRAPH_SETTINGS = '&width=800'\n"
        "CUSTOM_ALERT_OPTS = {'main_alert_title': 'Acme', 'analyzer_alert_heading': 'Fast',\n"
        "                     'append_environment': '', 'x': 1}\n"
        "HORIZON_SHARDS = {'skyline-1': 0, 'skyline-2': 1}\n"
    )
    skyline = load_config(settings_toml(tmp_path, settings), environ={}).skyline
    assert (skyline.full_duration, skyline.ionosphere_enabled) == (172800, False)
    assert (skyline.graphite_render_uri, skyline.graphite_graph_settings) == (
        "api/render",
        "&width=800",
    )
    assert skyline.custom_alert_opts == (
        ("main_alert_title", "Acme"),
        ("analyzer_alert_heading", "Fast"),
        ("append_environment", ""),
    )
    assert skyline.horizon_shards == (("skyline-1", 0), ("skyline-2", 1))
    assert skyline.hostname  # this host's name, as Skyline's uname()[1]
    assert skyline.timezone is None  # this host's local time
    toml = settings_toml(
        tmp_path,
        settings,
        "full_duration = 3600\nhostname = 'skyline-2'\n"
        "timezone = 'Europe/London'\n"
        "[skyline.custom_alert_opts]\nmain_alert_title = 'Ops'\n",
    )
    skyline = load_config(toml, environ={}).skyline
    assert (skyline.full_duration, skyline.hostname, skyline.timezone) == (
        3600,
        "skyline-2",
        "Europe/London",
    )
    assert skyline.custom_alert_opts == (("main_alert_title", "Ops"),)


def test_alert_text_options_are_checked(tmp_path: Path) -> None:
    err = config_error(write_toml(tmp_path, "[skyline]\ntimezone = 'Mars/Olympus'\n"))
    assert err.key == "[skyline].timezone" and "IANA" in err.problem
    err = config_error(write_toml(tmp_path, "[skyline]\nfull_duration = 0\n"))
    assert err.key == "[skyline].full_duration"
    err = config_error(write_toml(tmp_path, "[skyline.horizon_shards]\nh = 'one'\n"))
    assert err.key == "[skyline].horizon_shards['h']"


# -- Skyline's defaults for missing SLACK_OPTS keys (slack-effects.md 4.2) -------------------


def test_missing_slack_opts_switches_are_off_as_in_skyline(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(
        "SLACK_OPTS = {\n    'default_channel': '#skyline',\n    'thread_updates': True,\n"
        "    'message_on_features_profile_created': True,\n}\n"
    )
    slack = load_config(settings_toml(tmp_path, settings), environ={}).slack
    assert slack.thread_updates is True and slack.message_on_features_profile_created is True
    # Skyline reads every other switch as False when its key is missing ...
    assert slack.message_on_training_data_viewed is False
    assert slack.message_on_features_profile_learnt is False
    assert slack.message_on_features_profile_disabled is False
    assert slack.message_on_validated_features_profiles is False
    # ... and every emoji as its default.
    assert slack.message_on_training_data_viewed_reaction_emoji == "eyes"
    assert slack.message_on_features_profile_disabled_reaction_emoji == "x"
    assert slack.icon_emoji == ":chart_with_upwards_trend:"
    assert slack.message_on_single_validated_features_profile is False  # the sidecar's own
    # The TOML overrides settings.py.
    toml = settings_toml(
        tmp_path,
        settings,
        "[slack]\nmessage_on_features_profile_learnt = true\n"
        "message_on_single_validated_features_profile = true\n",
    )
    slack = load_config(toml, environ={}).slack
    assert slack.message_on_features_profile_learnt is True
    assert slack.message_on_single_validated_features_profile is True
    assert slack.message_on_features_profile_disabled is False


def test_without_settings_py_the_switches_are_skylines_shipped_ones(tmp_path: Path) -> None:
    slack = load_config(write_toml(tmp_path, "[slack]\ndefault_channel = '#s'\n"), environ={}).slack
    assert slack.thread_updates and slack.message_on_features_profile_disabled
    assert not slack.message_on_single_validated_features_profile


def test_timezone_is_an_iana_name(tmp_path: Path) -> None:
    config = load_config(write_toml(tmp_path, "[skyline]\ntimezone = 'Asia/Tokyo'\n"), environ={})
    assert config.skyline.timezone == "Asia/Tokyo"
    error = config_error(write_toml(tmp_path, "[skyline]\ntimezone = 'Mars/Olympus'\n"))
    assert "[skyline].timezone" in str(error) and "Mars/Olympus" in str(error)
