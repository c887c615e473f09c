"""Configuration: an optional TOML file layered over Skyline's own ``settings.py``.

Precedence, lowest first: built-in defaults < Skyline's settings.py (LOG_PATH, SKYLINE_URL,
ALERTS, GRAPHITE_*, SLACK_OPTS) < the TOML file < ``overrides`` (command-line flags). A Skyline
user can therefore point ``[skyline].settings_py`` at settings.py and configure nothing else.

The Slack token never comes from the TOML file. It is taken, first found, from ``$SLACK_BOT_TOKEN``,
``[slack].token_file``, ``$CREDENTIALS_DIRECTORY/slack-token`` (systemd ``LoadCredential=``) or
``SLACK_OPTS['bot_user_oauth_access_token']`` in settings.py.

Why one module of this size: it is the one table of every key (its section, its parser, its
settings.py name and Skyline's default) and the code that layers them; split, a key's
meaning would be spread over several files.
"""

from __future__ import annotations

import hmac
import math
import os
import re
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from sidecar.config.logtime import ZoneError, log_zone
from sidecar.config.skyline_settings import SettingsError, read_settings

__all__ = [
    "Config",
    "ConfigError",
    "MetricsOptions",
    "Secret",
    "SkylineOptions",
    "SlackOptions",
    "StateOptions",
    "load_config",
]

CONFIG_ENV = "SKYLINE_SIDECAR_CONFIG"
SETTINGS_ENV = "SKYLINE_SETTINGS_PY"
TOKEN_ENV = "SLACK_BOT_TOKEN"
CREDENTIAL_NAME = "slack-token"
DEFAULT_LOG_DIR = Path("/var/log/skyline")
DEFAULT_STATE_PATH = Path("/var/lib/skyline-slack-sidecar/state.sqlite")
#: settings.py:176
DEFAULT_GRAPH_SETTINGS = "&width=588&height=308&bgcolor=000000&fontBold=true&fgcolor=C0C0C0"
#: boundary.log is read for Boundary's alerts (boundary.py:2276-2278)
DEFAULT_APPS = ("analyzer", "mirage", "webapp", "ionosphere", "boundary")

_APP_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9-]+")
_TOKEN_KEYS = frozenset({"token", "bot_token", "slack_token", "bot_user_oauth_access_token"})
_TOKEN_HELP = (
    "never put the token in the config file; use the SLACK_BOT_TOKEN environment variable, "
    "[slack].token_file or the systemd credential 'slack-token' (LoadCredential=)"
)


class ConfigError(Exception):
    """Invalid configuration. The message names the file, the key and what was expected."""

    def __init__(self, file: str | Path, key: str | None, problem: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class Secret:
    """A string that does not show itself in ``repr``, ``str``, f-strings or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


@dataclass(frozen=True)
class SkylineOptions:
    log_dir: Path = DEFAULT_LOG_DIR
    apps: tuple[str, ...] = DEFAULT_APPS
    #: SKYLINE_URL, for training-data links.
    url: str | None = None
    #: e.g. "http://graphite.example.com:80"; from GRAPHITE_PROTOCOL/HOST/PORT when not given.
    graphite_url: str | None = None
    settings_py: Path | None = None
    #: (namespace pattern, alerter) from settings.ALERTS, in order.
    alerts: tuple[tuple[str, str], ...] = ()
    #: GRAPHITE_RENDER_URI and GRAPHITE_GRAPH_SETTINGS, for the graph link of an alert.
    graphite_render_uri: str = "render"
    graphite_graph_settings: str = DEFAULT_GRAPH_SETTINGS
    #: FULL_DURATION in seconds: Analyzer's "at <h> hours" and its graph's period.
    full_duration: int = 86400
    #: IONOSPHERE_ENABLED: alerts carry the training data link (else "For anomaly at"), and
    #: Skyline's smtp alerter leaves each alert's graph PNG in IONOSPHERE_DATA_FOLDER.
    ionosphere_enabled: bool = True
    ionosphere_data_folder: Path | None = None
    #: CUSTOM_ALERT_OPTS: main_alert_title, <app>_alert_heading, ionosphere_link_path.
    custom_alert_opts: tuple[tuple[str, str], ...] = ()
    #: HORIZON_SHARDS (host -> shard) and the Skyline host's name, for the shard suffix.
    horizon_shards: tuple[tuple[str, int], ...] = ()
    hostname: str | None = None
    #: BOUNDARY_SMTP_OPTS['graphite_previous_hours']: Boundary's graph period (else FULL_DURATION).
    boundary_graphite_previous_hours: int | None = None
    #: The IANA zone Skyline's server runs in: its log prefix times, alert times and Graphite
    #: from/until are server-local. None: the machine's /etc/localtime (the sidecar runs beside
    #: Skyline).
    timezone: str | None = None


@dataclass(frozen=True)
class SlackOptions:
    """Skyline's SLACK_OPTS, with Skyline's key names and defaults, plus the sidecar's own keys."""

    default_channel: str | None = None
    default_channel_id: str | None = None
    #: ALERTS namespace -> channels, in order. A bare string value is one channel.
    channels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: channel name -> channel id.
    channel_ids: tuple[tuple[str, str], ...] = ()
    #: BOUNDARY_SLACK_OPTS['channels']: metric name or pattern -> channels, in order.
    boundary_channels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    icon_emoji: str = ":chart_with_upwards_trend:"
    thread_updates: bool = True
    message_on_training_data_viewed: bool = True
    message_on_training_data_viewed_reaction_emoji: str = "eyes"
    message_on_features_profile_created: bool = True
    message_on_features_profile_created_reaction_emoji: str = "thumbsup"
    message_on_features_profile_learnt: bool = True
    message_on_features_profile_learnt_reaction_emoji: str = "heavy_check_mark"
    message_on_features_profile_disabled: bool = True
    message_on_features_profile_disabled_reaction_emoji: str = "x"
    message_on_validated_features_profiles: bool = True
    #: Sidecar switch: also post a single profile's validation (Skyline posts only bulk ones).
    message_on_single_validated_features_profile: bool = False
    base_url: str = "https://slack.com/api/"
    #: ALERTS alerter names that mean "post this to Slack".
    alerters: tuple[str, ...] = ("slack",)
    token_file: Path | None = None
    #: How long a lifecycle event waits for its alert's thread.
    lifecycle_grace_seconds: float = 300.0
    #: Give up retrying a delivery after this age.
    max_retry_age_seconds: float = 172800.0
    #: Alerts are the graph image with the text as its comment, as Skyline posts them.
    graph_images: bool = True
    #: How long an alert waits for the PNG Skyline's smtp alerter writes (Analyzer gives its
    #: smtp child up to 15 s, analyzer.py:5601-5622) before asking Graphite.
    image_wait_seconds: float = 20.0

    def channels_for(self, namespace: str) -> tuple[str, ...]:
        """The channels for an ALERTS namespace, as Skyline resolves them.

        Skyline looks the alert's namespace (``alert[0]``) up verbatim in SLACK_OPTS['channels']
        and falls back to the default channel.
        """
        for pattern, channels in self.channels:
            if pattern == namespace:
                return channels
        return (self.default_channel,) if self.default_channel else ()

    def channel_id_for(self, name: str) -> str | None:
        """The channel id the configuration gives for *name* (``#skyline``), or None."""
        ids = dict(self.channel_ids)
        # '#skyline' and 'skyline' name the same channel; settings.py uses both spellings.
        for candidate in (name, name[1:] if name.startswith("#") else "#" + name):
            if candidate in ids:
                return ids[candidate]
            if self.default_channel_id and candidate == self.default_channel:
                return self.default_channel_id
        return None  # resolved through Slack (conversations.list), never guessed


@dataclass(frozen=True)
class StateOptions:
    path: Path = DEFAULT_STATE_PATH


CARBON_PORT = 2003


@dataclass(frozen=True)
class MetricsOptions:
    """The sidecar's own health sent to carbon (Graphite's plaintext protocol)."""

    enabled: bool = True
    #: (host, port); None: nowhere to send, metrics are off.
    carbon: tuple[str, int] | None = None
    #: None: ``skyline.slack_sidecar.<SERVER_METRICS_NAME or short hostname>``; see `path`.
    prefix: str | None = None
    interval_seconds: float = 60.0
    #: Bound on connecting and on writing one interval's lines.
    timeout_seconds: float = 5.0
    #: Skyline's SERVER_METRICS_NAME, for the default prefix.
    server_metrics_name: str | None = None

    @property
    def path(self) -> str:
        """The prefix in use, Skyline style (``skyline.<app>.<SERVER_METRICS_NAME>``)."""
        if self.prefix is not None:
            return self.prefix
        name = self.server_metrics_name or socket.gethostname().split(".")[0] or "localhost"
        # Dots kept: Skyline puts SERVER_METRICS_NAME into its own paths verbatim.
        parts = [re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in name.split(".") if p]
        return ".".join(["skyline", "slack_sidecar", *parts])

    @property
    def active(self) -> bool:
        return self.enabled and self.carbon is not None

    @property
    def target(self) -> str | None:
        if self.carbon is None:
            return None
        host, port = self.carbon
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class SidecarOptions:
    """This sidecar's own identity and its search for threads in Slack (a Skyline cluster:
    one sidecar per host, one Slack; README "A Skyline cluster")."""

    #: The host this sidecar speaks for, in `status`, logs, metrics and message metadata.
    #: None: the short host name.
    host: str | None = None
    #: How far after an anomaly the alert's message is looked for in a channel's history.
    thread_search_hours: float = 24.0
    #: At most this many pages of conversations.history (200 messages each) per channel.
    thread_search_pages: int = 5
    #: A search that found nothing is not repeated for this long.
    thread_search_miss_seconds: float = 300.0
    #: A Skyline cluster: look for alert threads in Slack (lifecycle events with no local
    #: thread, alerts another host may have posted). None: on when HORIZON_SHARDS names more
    #: than one host.
    cluster: bool | None = None
    #: In a cluster, before posting an alert, look (one page of history) for the same alert
    #: posted by another host, and adopt it.
    alert_dedup: bool = True

    @property
    def name(self) -> str:
        return self.host or short_hostname()


def short_hostname() -> str:
    return socket.gethostname().split(".")[0] or "localhost"


@dataclass(frozen=True)
class Config:
    skyline: SkylineOptions
    slack: SlackOptions
    state: StateOptions
    #: Never printed: ``repr``/``str`` give '<redacted>', ``.reveal()`` the value.
    token: Secret | None
    #: The TOML file read, if any.
    source: Path | None
    #: Where the token came from, e.g. "$SLACK_BOT_TOKEN"; for `config check` style output.
    token_source: str | None = field(default=None, compare=False)
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    sidecar: SidecarOptions = field(default_factory=SidecarOptions)

    @property
    def clustered(self) -> bool:
        """Threads are looked for in Slack: ``[sidecar] cluster``, else HORIZON_SHARDS has more
        than one host."""
        if self.sidecar.cluster is not None:
            return self.sidecar.cluster
        return len(self.skyline.horizon_shards) > 1


def load_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the effective `Config`.

    *path* is the ``--config`` argument; without it ``$SKYLINE_SIDECAR_CONFIG`` is used, and
    without either there is no TOML file. *overrides* has the TOML file's shape
    (``{"skyline": {"log_dir": ...}}``) and wins over it; relative paths in it resolve against
    the working directory. Raises `ConfigError`.
    """
    if path is None and environ.get(CONFIG_ENV):
        path = environ[CONFIG_ENV]
    source = Path(path).absolute() if path is not None else None
    given: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    origin: dict[str, str] = {}  # "[section].key" -> the file (or "<overrides>") that set it
    layers = [(str(source), _read_toml(source), source.parent)] if source else []
    if overrides:
        layers.append(("<overrides>", _drop_none(overrides), Path.cwd()))
    for file, doc, base in layers:
        for section, values in _parse_layer(doc, file, base).items():
            given[section].update(values)
            origin.update(dict.fromkeys((f"[{section}].{key}" for key in values), file))

    # settings.py: TOML/overrides, else the environment, else none at all.
    settings_py = given["skyline"].get("settings_py")
    settings_key = "[skyline].settings_py"
    if settings_py is None and environ.get(SETTINGS_ENV):
        settings_py, settings_key = Path(environ[SETTINGS_ENV]).absolute(), f"${SETTINGS_ENV}"
    from_settings, settings_token = (
        _settings_layer(settings_py, settings_key, given, origin.get(settings_key, "<environment>"))
        if settings_py
        else ({"skyline": {}, "slack": {}}, None)
    )

    def merged(section: str) -> dict[str, Any]:
        return {**from_settings.get(section, {}), **given[section]}

    skyline_values = merged("skyline")
    if skyline_values.get("horizon_shards") and not skyline_values.get("hostname"):
        # Skyline's shard suffix names its own host (uname()[1], alerters.py:143-151); the
        # sidecar runs beside it.
        skyline_values["hostname"] = os.uname().nodename
    skyline = SkylineOptions(**{**skyline_values, "settings_py": settings_py})
    slack = SlackOptions(**merged("slack"))
    state = StateOptions(**given["state"])
    sidecar = SidecarOptions(**given["sidecar"])
    metrics_values = merged("metrics")
    if sidecar.host and not metrics_values.get("server_metrics_name"):
        # the metrics' default path names the host this sidecar speaks for
        metrics_values["server_metrics_name"] = sidecar.host
    metrics = MetricsOptions(**metrics_values)
    token, token_source = _find_token(
        slack.token_file, settings_token, settings_py, environ, origin.get("[slack].token_file", "")
    )
    return Config(skyline, slack, state, token, source, token_source, metrics, sidecar)


# -- TOML ------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(path, None, "config file not found") from e
    except OSError as e:
        raise ConfigError(path, None, f"cannot read config file: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(path, None, f"config file is not UTF-8: {e}") from e
    except tomllib.TOMLDecodeError as e:
        # tomllib says "Invalid value (at line 3, column 9)": put the position first.
        m = re.match(r"(.*) \(at line (\d+), column (\d+)\)$", str(e))
        where = f"line {m[2]}, column {m[3]}: " if m else ""
        raise ConfigError(path, None, f"{where}invalid TOML: {m[1] if m else e}") from e


@dataclass(frozen=True)
class _Where:
    file: str
    key: str
    base: Path | None  # relative paths resolve against this

    def error(self, expected: str, value: Any) -> ConfigError:
        return ConfigError(self.file, self.key, f"expected {expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    text = _TOKEN.sub(lambda m: m[0][:4] + "-<redacted>", repr(value))
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _string(value: Any, where: _Where) -> str:
    if not isinstance(value, str) or not value:
        raise where.error("a non-empty string", value)
    return value


def _optional_string(value: Any, where: _Where) -> str | None:
    # TOML has no null: an empty string unsets a value inherited from settings.py.
    if not isinstance(value, str):
        raise where.error("a string", value)
    return value or None


def _boolean(value: Any, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise where.error("a boolean (true or false)", value)
    return value


def _seconds(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise where.error("a number of seconds >= 0", value)
    if not math.isfinite(value):
        raise where.error("a finite number of seconds", value)
    return float(value)


def _path(value: Any, where: _Where) -> Path:
    path = Path(value if isinstance(value, os.PathLike) else _string(value, where))
    return path if path.is_absolute() or where.base is None else where.base / path


def _url(value: Any, where: _Where) -> str | None:
    url = _optional_string(value, where)
    if url is not None and not re.match(r"^https?://[^/\s]+", url):
        raise where.error("an http:// or https:// URL", value)
    return url.rstrip("/") if url else None


def _base_url(value: Any, where: _Where) -> str:
    url = _url(value, where)
    if url is None:
        raise where.error("an http:// or https:// URL", value)
    return url + "/"  # slack_sdk appends method names to it verbatim


def _timezone(value: Any, where: _Where) -> str:
    name = _string(value, where)
    try:
        log_zone(name)
    except ZoneError as exc:
        raise ConfigError(where.file, where.key, str(exc)) from exc
    return name


def _emoji(value: Any, where: _Where) -> str:
    name = _string(value, where).strip(":")  # reactions.add wants a bare name: ':eyes:' -> 'eyes'
    if not name:
        raise where.error("an emoji name such as 'eyes'", value)
    return name


def _strings(value: Any, where: _Where) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise where.error("a non-empty array of strings", value)
    for i, item in enumerate(value):
        _string(item, _Where(where.file, f"{where.key}[{i}]", where.base))
    return tuple(dict.fromkeys(value))  # drop duplicates, keep order


def _apps(value: Any, where: _Where) -> tuple[str, ...]:
    apps = _strings(value, where)
    for app in apps:
        if not _APP_NAME.match(app):  # it becomes part of a file name: <log_dir>/<app>.log
            raise where.error("Skyline app names such as 'analyzer'", app)
    return apps


def _channels(value: Any, where: _Where) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise where.error("a table (mapping) of namespace = channel or [channels]", value)
    result: list[tuple[str, tuple[str, ...]]] = []
    for namespace, channels in value.items():
        item = _Where(where.file, f"{where.key}[{namespace!r}]", where.base)
        if isinstance(channels, Mapping):
            # `a.b = "#x"` unquoted is a nested table in TOML, and the order would be lost.
            raise item.error(
                'a channel name or array of names (quote dotted namespaces: "a.b.c" = ...)',
                channels,
            )
        if isinstance(channels, str):  # Skyline's ('#skyline') is a string: one channel
            result.append((namespace, (_string(channels, item),)))
        else:
            result.append((namespace, _strings(channels, item)))
    return tuple(result)


def _channel_ids(value: Any, where: _Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise where.error("a table (mapping) of channel name = channel id", value)
    return tuple(
        (name, _string(cid, _Where(where.file, f"{where.key}[{name!r}]", where.base)))
        for name, cid in value.items()
    )


def _text(value: Any, where: _Where) -> str:
    if not isinstance(value, str):
        raise where.error("a string", value)
    return value


def _positive_int(value: Any, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise where.error("a whole number > 0", value)
    return value


def _string_table(value: Any, where: _Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise where.error("a table (mapping) of name = string", value)
    return tuple(
        (key, _text(item, _Where(where.file, f"{where.key}[{key!r}]", where.base)))
        for key, item in value.items()
    )


def _shards(value: Any, where: _Where) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, Mapping):
        raise where.error("a table (mapping) of host name = shard number", value)
    out = []
    for host, shard in value.items():
        item = _Where(where.file, f"{where.key}[{host!r}]", where.base)
        if isinstance(shard, bool) or not isinstance(shard, int):
            raise item.error("a shard number", shard)
        out.append((str(host), shard))
    return tuple(out)


def _carbon(value: Any, where: _Where) -> tuple[str, int] | None:
    """``host:port``, ``host`` (port 2003) or ``[v6addr]:port``; an empty string: none."""
    text = _optional_string(value, where)
    if text is None:
        return None
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?|([^\s:/\[\]]+)(?::(\d{1,5}))?", text)
    port = int((m[2] or m[4] or CARBON_PORT) if m else 0)
    if m is None or not 0 < port < 65536:
        raise where.error('"host:port" such as "graphite.example.com:2003"', value)
    return (m[1] or m[3], port)


def _prefix(value: Any, where: _Where) -> str:
    prefix = _string(value, where).strip(".")
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", prefix):
        raise where.error("a Graphite path such as 'skyline.slack_sidecar.host1'", value)
    return prefix


def _positive_seconds(value: Any, where: _Where) -> float:
    seconds = _seconds(value, where)
    if seconds <= 0:
        raise where.error("a number of seconds > 0", value)
    return seconds


_Parser = Callable[[Any, _Where], Any]
# Keys with the same name in the TOML file's tables; [slack] mirrors Skyline's SLACK_OPTS.
_SECTIONS: dict[str, dict[str, _Parser]] = {
    "skyline": {
        "log_dir": _path,
        "apps": _apps,
        "url": _url,
        "graphite_url": _url,
        "settings_py": _path,
        "graphite_render_uri": _text,
        "graphite_graph_settings": _text,
        "full_duration": _positive_int,
        "ionosphere_enabled": _boolean,
        "custom_alert_opts": _string_table,
        "horizon_shards": _shards,
        "hostname": _optional_string,
        "boundary_graphite_previous_hours": _positive_int,
        "timezone": _timezone,
        "ionosphere_data_folder": _path,
    },
    "slack": {
        "default_channel": _optional_string,
        "default_channel_id": _optional_string,
        "channels": _channels,
        "channel_ids": _channel_ids,
        "boundary_channels": _channels,
        "icon_emoji": _string,
        **{
            f.name: _emoji if f.name.endswith("_emoji") else _boolean
            for f in fields(SlackOptions)
            if f.name.startswith(("thread_", "message_on_"))
        },
        "base_url": _base_url,
        "alerters": _strings,
        "token_file": _path,
        "lifecycle_grace_seconds": _seconds,
        "max_retry_age_seconds": _seconds,
        "graph_images": _boolean,
        "image_wait_seconds": _seconds,
    },
    "state": {"path": _path},
    "sidecar": {
        "host": _optional_string,
        "thread_search_hours": _positive_seconds,
        "thread_search_pages": _positive_int,
        "thread_search_miss_seconds": _seconds,
        "cluster": _boolean,
        "alert_dedup": _boolean,
    },
    "metrics": {
        "enabled": _boolean,
        "carbon": _carbon,
        "prefix": _prefix,
        "interval_seconds": _positive_seconds,
        "timeout_seconds": _positive_seconds,
    },
}


def _parse_layer(doc: Mapping[str, Any], file: str, base: Path) -> dict[str, dict[str, Any]]:
    """Validate one TOML-shaped layer into {section: {field: typed value}}."""
    layer: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    for section, table in doc.items():
        if section in _TOKEN_KEYS:
            raise ConfigError(file, section, _TOKEN_HELP)
        if section not in _SECTIONS:
            raise _unknown(file, section, list(_SECTIONS))
        if not isinstance(table, Mapping):
            raise _Where(file, section, base).error(f"a [{section}] table", table)
        known = _SECTIONS[section]
        for key, value in table.items():
            name = f"[{section}].{key}"
            if key in _TOKEN_KEYS:
                raise ConfigError(file, name, _TOKEN_HELP)
            if key not in known:
                raise _unknown(file, name, list(known), key)
            layer[section][key] = known[key](value, _Where(file, name, base))
    return layer


def _unknown(file: str, name: str, known: list[str], key: str | None = None) -> ConfigError:
    what = "key" if key else "table"
    if close := get_close_matches(key or name, known, n=1):
        return ConfigError(file, name, f"unknown {what}; did you mean {close[0]!r}?")
    return ConfigError(file, name, f"unknown {what}; expected one of: {', '.join(known)}")


def _drop_none(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Command-line flags that were not given arrive as None: they override nothing."""
    return {
        section: {k: v for k, v in table.items() if v is not None}
        if isinstance(table, Mapping)
        else table
        for section, table in overrides.items()
    }


# -- Skyline's settings.py -------------------------------------------------------------------


def _is_placeholder(value: Any) -> bool:
    """Skyline ships 'YOUR_slack_bot_user_oauth_access_token' and friends: unset."""
    return isinstance(value, str) and (not value.strip() or value.upper().startswith("YOUR_"))


def _settings_layer(
    path: Path, key: str, given: dict[str, dict[str, Any]], config_file: str
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The options Skyline's settings.py provides, except those *given* already overrides.

    Returns ({section: {field: value}}, bot token or None).
    """
    if not path.is_file():
        raise ConfigError(config_file, key, f"expected Skyline's settings.py, {path} is not a file")
    try:
        settings = read_settings(path)
    except SettingsError as e:
        raise ConfigError(config_file, key, str(e)) from e
    file = str(path)

    def value(name: str, parse: _Parser, *, relative_to: Path | None = None) -> Any:
        raw = settings.get(name)
        if raw is None or _is_placeholder(raw):
            return None
        return parse(raw, _Where(file, name, relative_to))

    skyline: dict[str, Any] = {}
    if "log_dir" not in given["skyline"] and (
        log_dir := value("LOG_PATH", _path, relative_to=path.parent)
    ):
        skyline["log_dir"] = log_dir
    if "url" not in given["skyline"] and (url := value("SKYLINE_URL", _url)):
        skyline["url"] = url
    if "graphite_url" not in given["skyline"] and (graphite := _graphite_url(settings, file)):
        skyline["graphite_url"] = graphite
    if "ionosphere_data_folder" not in given["skyline"] and (
        folder := value("IONOSPHERE_DATA_FOLDER", _path, relative_to=path.parent)
    ):
        skyline["ionosphere_data_folder"] = folder
    if "ALERTS" in settings:
        skyline["alerts"] = _alerts(settings["ALERTS"], _Where(file, "ALERTS", None))
    skyline.update(_alert_text_settings(settings, file, given["skyline"]))

    opts = settings.get("SLACK_OPTS", {})
    if not isinstance(opts, Mapping):
        raise _Where(file, "SLACK_OPTS", None).error("a dict", opts)
    slack: dict[str, Any] = {}
    for name, parse in _SECTIONS["slack"].items():
        raw = opts.get(name)
        if name in _SKYLINE_SWITCHES and name not in given["slack"] and name not in opts:
            slack[name] = False  # Skyline's default for a missing key
            continue
        # Only Skyline's own SLACK_OPTS keys; the sidecar's additions live in the TOML file.
        if name in given["slack"] or name in _SIDECAR_ONLY or raw is None or _is_placeholder(raw):
            continue
        where = _Where(file, f"SLACK_OPTS[{name!r}]", None)
        if name == "channel_ids" and isinstance(raw, Mapping):
            raw = {k: v for k, v in raw.items() if not _is_placeholder(v)}
        slack[name] = parse(raw, where)

    boundary = settings.get("BOUNDARY_SLACK_OPTS")
    if (
        isinstance(boundary, Mapping)
        and boundary.get("channels")
        and "boundary_channels" not in given["slack"]
    ):
        where = _Where(file, "BOUNDARY_SLACK_OPTS['channels']", None)
        slack["boundary_channels"] = _channels(boundary["channels"], where)
    metrics = _settings_metrics(settings, file, given["metrics"])

    token = opts.get("bot_user_oauth_access_token")
    if token is not None and not isinstance(token, str):
        key = "SLACK_OPTS['bot_user_oauth_access_token']"
        raise ConfigError(file, key, f"expected a string, got {type(token).__name__}")
    token = None if token is None or _is_placeholder(token) else token.strip()
    return {"skyline": skyline, "slack": slack, "metrics": metrics}, token


def _settings_metrics(
    settings: Mapping[str, Any], file: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Where Skyline sends its own metrics, and its SERVER_METRICS_NAME for the prefix.

    Skyline's order: SKYLINE_METRICS_CARBON_HOST, else CARBON_HOST, else GRAPHITE_HOST; the port
    SKYLINE_METRICS_CARBON_PORT, else CARBON_PORT, else 2003.
    """

    def first(*names: str) -> tuple[str, Any] | None:
        for name in names:
            raw = settings.get(name)
            if raw not in (None, "") and not _is_placeholder(raw):
                return name, raw
        return None

    metrics: dict[str, Any] = {}
    host = first("SKYLINE_METRICS_CARBON_HOST", "CARBON_HOST", "GRAPHITE_HOST")
    if "carbon" not in given and host is not None:
        if not isinstance(host[1], str) or not re.fullmatch(r"[^\s/\[\]]+", host[1]):
            raise _Where(file, host[0], None).error("a host name", host[1])
        port = first("SKYLINE_METRICS_CARBON_PORT", "CARBON_PORT") or ("", CARBON_PORT)
        if isinstance(port[1], bool) or not re.fullmatch(r"\d{1,5}", str(port[1])):
            raise _Where(file, port[0], None).error("a port number such as 2003", port[1])
        metrics["carbon"] = (host[1], int(port[1]))
    server = first("SERVER_METRICS_NAME")
    if server is not None and isinstance(server[1], str):
        metrics["server_metrics_name"] = server[1]
    return metrics


_SIDECAR_ONLY = frozenset(
    {
        "base_url",
        "alerters",
        "token_file",
        "lifecycle_grace_seconds",
        "max_retry_age_seconds",
        "message_on_single_validated_features_profile",
        "graph_images",
        "image_wait_seconds",
    }
)

#: SLACK_OPTS switches Skyline reads with ``.get(key, False)`` or a KeyError caught as False
#: (slack-effects.md 4.2): a settings.py that leaves one out turns it off.
_SKYLINE_SWITCHES = (
    frozenset(
        f.name
        for f in fields(SlackOptions)
        if f.type == "bool" and f.name.startswith(("thread_updates", "message_on_"))
    )
    - _SIDECAR_ONLY
)


# settings.py name -> [skyline] key, for what Skyline's alert texts show
_ALERT_TEXT_SETTINGS: dict[str, str] = {
    "GRAPHITE_RENDER_URI": "graphite_render_uri",
    "GRAPHITE_GRAPH_SETTINGS": "graphite_graph_settings",
    "FULL_DURATION": "full_duration",
    "IONOSPHERE_ENABLED": "ionosphere_enabled",
    "CUSTOM_ALERT_OPTS": "custom_alert_opts",
    "HORIZON_SHARDS": "horizon_shards",
}


def _alert_text_settings(
    settings: Mapping[str, Any], file: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """The settings the alert texts use (section 1.1 of Skyline's Slack reference)."""
    out: dict[str, Any] = {}
    for name, key in _ALERT_TEXT_SETTINGS.items():
        raw = settings.get(name)
        if key in given or raw is None:
            continue
        if name == "CUSTOM_ALERT_OPTS" and isinstance(raw, Mapping):
            # 'append_environment' and friends: only the string options matter here
            raw = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
        if name == "FULL_DURATION" and isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        out[key] = _SECTIONS["skyline"][key](raw, _Where(file, name, None))
    smtp = settings.get("BOUNDARY_SMTP_OPTS")
    hours = smtp.get("graphite_previous_hours") if isinstance(smtp, Mapping) else None
    if hours is not None and "boundary_graphite_previous_hours" not in given:
        where = _Where(file, "BOUNDARY_SMTP_OPTS['graphite_previous_hours']", None)
        out["boundary_graphite_previous_hours"] = _positive_int(as_whole(hours), where)
    return out


def as_whole(value: Any) -> Any:
    """Skyline does int() on some settings: '7' and 7.0 are 7."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _graphite_url(settings: Mapping[str, Any], file: str) -> str | None:
    host = settings.get("GRAPHITE_HOST")
    if not isinstance(host, str) or _is_placeholder(host):
        return None
    protocol = settings.get("GRAPHITE_PROTOCOL") or "http"
    if protocol not in ("http", "https"):
        raise _Where(file, "GRAPHITE_PROTOCOL", None).error("'http' or 'https'", protocol)
    port = settings.get("GRAPHITE_PORT")
    if port in (None, ""):
        return f"{protocol}://{host}"
    if isinstance(port, bool) or not re.fullmatch(r"\d{1,5}", str(port)):
        raise _Where(file, "GRAPHITE_PORT", None).error("a port number such as '80'", port)
    return f"{protocol}://{host}:{port}"


def _alerts(value: Any, where: _Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list | tuple):
        raise where.error("a tuple of alert tuples", value)
    alerts = []
    for i, alert in enumerate(value):
        if not (
            isinstance(alert, list | tuple)
            and len(alert) >= 2
            and isinstance(alert[0], str)
            and isinstance(alert[1], str)
        ):
            raise _Where(where.file, f"ALERTS[{i}]", None).error(
                "('namespace', 'alerter', expiration[, hours])", alert
            )
        alerts.append((alert[0], alert[1]))
    return tuple(alerts)


# -- the token -------------------------------------------------------------------------------


def _find_token(
    token_file: Path | None,
    settings_token: str | None,
    settings_py: Path | None,
    environ: Mapping[str, str],
    config_file: str,
) -> tuple[Secret | None, str | None]:
    if token := environ.get(TOKEN_ENV, "").strip():
        return _checked_token(token, "<environment>", f"${TOKEN_ENV}"), f"${TOKEN_ENV}"
    if token_file is not None:
        return _read_token(token_file, config_file, "[slack].token_file"), str(token_file)
    if creds := environ.get("CREDENTIALS_DIRECTORY"):
        path = Path(creds) / CREDENTIAL_NAME
        if path.exists():
            where = f"$CREDENTIALS_DIRECTORY/{CREDENTIAL_NAME}"
            return _read_token(path, str(path), where), f"systemd credential {CREDENTIAL_NAME}"
    if settings_token:
        key = "SLACK_OPTS['bot_user_oauth_access_token']"
        return _checked_token(settings_token, str(settings_py), key), f"{settings_py} {key}"
    return None, None


def token_file_exposed(path: Path | None) -> str | None:
    """A warning when the token file can be read by its group or others, else None."""
    try:
        mode = path.stat().st_mode & 0o777 if path is not None else 0
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return f"token file {path} is readable by others (mode {mode:04o}): chmod 0600 it"


def _checked_token(token: str, file: str, key: str) -> Secret:
    """A token is one word: whitespace or a control character inside it (a two-line file, a
    pasted line break) would end up in an HTTP header. Refused without echoing it."""
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ConfigError(
            file,
            key,
            "the Slack token contains whitespace or control characters"
            " (a line break?); it must be the token alone, on one line",
        )
    return Secret(token)


def _read_token(path: Path, file: str, key: str) -> Secret:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ConfigError(file, key, f"expected a readable token file, {path}: {reason}") from e
    if not token:
        raise ConfigError(file, key, f"expected a Slack token in {path}, the file is empty")
    return _checked_token(token, file, key)
