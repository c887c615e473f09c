"""The one place that knows the names of Skyline's log files.

``<app>.log`` is the live log; midnight rotation renames it ``<app>.log.YYYY-MM-DD``, which an
operator's logrotate may compress to ``<app>.log.YYYY-MM-DD.gz``; the bin script's restart
handshake keeps the previous content in ``<app>.log.last`` (and writes ``.new``, ``.lock``,
``.wait`` around it). The tailer follows live and rotated files, backfill reads all four kinds,
and ``parse`` only needs the app a file belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from parsers.logparser import APPS

__all__ = ["FOLLOWED", "LIVE", "LogName", "app_from_path", "followed_app", "parse_name"]

LIVE, ROTATED, GZIP, LAST = "live", "rotated", "gzip", "last"
#: the kinds the tailer follows (a file keeps being written under either name)
FOLLOWED = (LIVE, ROTATED)

_NAME = re.compile(
    r"(?P<app>.+?)\.log"
    r"(?:\.(?P<date>\d{4}-\d{2}-\d{2})(?P<gz>\.gz)?|(?P<last>\.last)|(?P<other>\..+))?"
)


@dataclass(frozen=True)
class LogName:
    app: str
    kind: str  # live | rotated | gzip | last
    day: date | None


def parse_name(name: str, apps: Sequence[str] | None = None) -> LogName | None:
    """``mirage.log.2026-11-25.gz`` -> LogName("mirage", "gzip", 2026-11-25); None for a name
    that is none of the four kinds (``.new``, ``.lock``, an impossible date...) or whose app is
    not in ``apps``."""
    m = _NAME.fullmatch(name)
    if m is None or m["other"] or (apps is not None and m["app"] not in apps):
        return None
    if m["last"]:
        return LogName(m["app"], LAST, None)
    if m["date"] is None:
        return LogName(m["app"], LIVE, None)
    try:
        day = date.fromisoformat(m["date"])
    except ValueError:
        return None
    return LogName(m["app"], GZIP if m["gz"] else ROTATED, day)


def followed_app(name: str, apps: Sequence[str]) -> str | None:
    """The app whose live or rotated log ``name`` is, or None (.last, .gz, access logs...)."""
    parsed = parse_name(name, apps)
    return parsed.app if parsed is not None and parsed.kind in FOLLOWED else None


def app_from_path(path: str) -> str | None:
    """The Skyline app (one of ``parsers.APPS``) whose log ``path`` is, whatever follows
    ``.log`` (``webapp.log.new`` too); None otherwise.

    >>> app_from_path("/var/log/skyline/mirage.log.2026-11-25")
    'mirage'
    >>> app_from_path("webapp.access.log") is None
    True
    """
    m = _NAME.fullmatch(PurePath(path).name)
    return m["app"] if m is not None and m["app"] in APPS else None
