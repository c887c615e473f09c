"""Where Skyline routes an alert (pure): SLACK_OPTS for Analyzer and Mirage, BOUNDARY_SLACK_OPTS
for Boundary, and the channels a cluster searches for an alert's thread."""

from __future__ import annotations

import re
from collections.abc import Sequence

from parsers.events import AnomalyAlert
from sidecar.config.options import Config


def route(alert: AnomalyAlert, config: Config) -> tuple[str, ...]:
    """The channels an alert goes to, Skyline's way: an exact lookup of the ALERTS namespace
    that matched; v1 lines name none, so the first ALERTS pattern matching the metric stands in."""
    namespace = alert.alert_namespace
    if namespace is None:
        namespace = matching_namespace(alert.metric, [ns for ns, _ in config.skyline.alerts])
    if namespace is None:
        default = config.slack.default_channel
        return (default,) if default else ()
    return config.slack.channels_for(namespace)


def matching_namespace(metric: str, namespaces: Sequence[str]) -> str | None:
    """As Skyline v1 matched ALERTS (analyzer.py: ``re.compile(alert[0]).match(metric)``, then
    substring), the first pattern that matches."""
    for ns in namespaces:
        try:
            if re.match(ns, metric):
                return ns
        except re.error:
            pass
        if ns in metric:
            return ns
    return None


def route_boundary(metric: str, config: Config) -> tuple[str, ...]:
    """BOUNDARY_SLACK_OPTS['channels'] as boundary_alerters.py:1059-1101 resolves them: the
    channels of every key that ``re.match``es the metric (unless the metric is itself a key);
    if none, of every key that ``matched_or_regexed_in_list`` matches (the metric itself, a
    substring, its dotted elements, a regex). No match is no alert (no default channel).
    Skyline de-duplicates through ``set()``; the sidecar keeps the table's order."""
    table = config.slack.boundary_channels
    collected: list[str] = []
    if all(key != metric for key, _ in table):
        for key, channels in table:
            if _regex_match(key, metric):
                collected += channels
    if not collected:
        for key, channels in table:
            if matched_or_regexed(metric, key):
                collected += channels
    return tuple(dict.fromkeys(collected))


def _regex_match(pattern: str, metric: str) -> bool:
    try:
        return re.match(pattern, metric) is not None
    except re.error:
        return False


def matched_or_regexed(metric: str, pattern: str) -> bool:
    """matched_or_regexed_in_list.py for one pattern: equal, a substring, all of its dotted
    elements among the metric's, or a regex that matches."""
    if pattern == metric or pattern in metric:
        return True
    elements = pattern.split(".")
    if len(set(metric.split(".")) & set(elements)) == len(elements):
        return True
    return _regex_match(pattern, metric)


def search_channels(metric: str, config: Config) -> tuple[str, ...]:
    """Where an alert of ``metric`` would have been posted: the channels of the first ALERTS
    namespace that matches it (as route() does for v1 lines), and the default channel."""
    namespace = matching_namespace(metric, [ns for ns, _ in config.skyline.alerts])
    channels = config.slack.channels_for(namespace) if namespace is not None else ()
    default = (config.slack.default_channel,) if config.slack.default_channel else ()
    return tuple(dict.fromkeys((*channels, *default)))
