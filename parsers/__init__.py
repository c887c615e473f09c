"""Parsers for Skyline's app logs: pure functions from bytes to events, no I/O of their own."""

from parsers.common import MAX_PIDS, ParseStats
from parsers.events import (
    EVENT_TYPES,
    AlertMuted,
    AnomaliesLabelled,
    AnomalyAlert,
    BoundaryAlert,
    Event,
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfileLearnt,
    FeaturesProfilesValidated,
    LayersCreated,
    SkylineSelfRequest,
    SlackThread,
    Source,
    TrainingDataViewed,
    ValidatedProfile,
    event_from_dict,
)
from parsers.logparser import APPS, SELECTORS, LogParser

__all__ = [
    "APPS",
    "EVENT_TYPES",
    "MAX_PIDS",
    "SELECTORS",
    "AlertMuted",
    "AnomaliesLabelled",
    "AnomalyAlert",
    "BoundaryAlert",
    "Event",
    "FeaturesProfileCreated",
    "FeaturesProfileDisabled",
    "FeaturesProfileLearnt",
    "FeaturesProfilesValidated",
    "LayersCreated",
    "LogParser",
    "ParseStats",
    "SkylineSelfRequest",
    "SlackThread",
    "Source",
    "TrainingDataViewed",
    "ValidatedProfile",
    "event_from_dict",
]
