"""Skyline's log prefix times as epoch seconds: the one place that knows their time zone.

Skyline's formatter writes ``%(asctime)s`` with ``time.localtime``: the Skyline server's local
time, naive, no zone. Anomaly timestamps and Slack ts are epoch seconds. Converting with this
process's own zone (``time.mktime``) would make a thread key depend on how the daemon was started
(``TZ=``), so the zone is explicit: ``[skyline] timezone``, else the machine's ``/etc/localtime``.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALTIME = Path("/etc/localtime")


class ZoneError(ValueError):
    """A time zone name that is not in the tz database."""


@lru_cache(maxsize=8)
def log_zone(name: str | None) -> tzinfo:
    """The zone Skyline's prefix times are in: ``name`` (IANA, e.g. ``Europe/London``), else
    the machine's zone (not this process's ``TZ``), else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ZoneError(
                f"unknown time zone {name!r} (expected an IANA name such as"
                " 'Europe/London' or 'UTC')"
            ) from exc
    try:
        with LOCALTIME.open("rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return UTC


def log_epoch(logged_at: datetime, zone: tzinfo) -> int:
    """A log prefix time (naive, Skyline's local time) as epoch seconds."""
    if logged_at.tzinfo is None:
        logged_at = logged_at.replace(tzinfo=zone)
    return int(logged_at.timestamp())
