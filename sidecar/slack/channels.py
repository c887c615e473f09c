"""Channel names to ids: never guessed from a string's shape.

An explicit id in the configuration (``channel_ids``, ``default_channel_id``) wins. Otherwise the
name is looked up in Slack's own list (``conversations.list``: public and private channels the
bot can see, archived ones excluded), which is cached in the state database so a restart needs no
listing. An unknown name or a ``channel_not_found`` refreshes the list, at most once a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sidecar.state.store import Store

#: the least time between two listings (Slack: conversations.list is a Tier 2 method)
MIN_REFRESH = 60.0


def normalise(name: str) -> str:
    """'#Skyline' and 'skyline' are the same channel; Slack's names are lower case, no '#'."""
    return name.removeprefix("#").strip().lower()


class ChannelDirectory:
    def __init__(
        self,
        store: Store,
        lister: Callable[[], dict[str, str]],
        *,
        explicit: Callable[[str], str | None] = lambda name: None,
        clock: Callable[[], float] = time.monotonic,
        min_refresh: float = MIN_REFRESH,
    ):
        self._store = store
        self._lister = lister
        self._explicit = explicit
        self._clock = clock
        self._min_refresh = min_refresh
        self._refreshed_at: float | None = None
        self._names, self._ids = self._load()

    def id_for(self, channel: str) -> str | None:
        """The id of ``channel`` (a name, or an id Slack gave); None if Slack does not know it.

        May call Slack (a refresh): raises `sidecar.slack.gateway.SlackFailure` when that fails.
        """
        if found := self._explicit(channel) or self._cached(channel):
            return found
        if self._refreshed_at is not None and (
            self._clock() - self._refreshed_at < self._min_refresh
        ):
            return None
        self.refresh()
        return self._cached(channel)

    def forget(self, channel_id: str) -> None:
        """Slack said channel_not_found for ``channel_id``: list again at the next lookup."""
        self._names = {n: i for n, i in self._names.items() if i != channel_id}
        self._ids.discard(channel_id)
        self._refreshed_at = None

    def refresh(self) -> None:
        listing = self._lister()
        self._refreshed_at = self._clock()
        self._store.save_channels({normalise(n): cid for n, cid in listing.items()})
        self._names, self._ids = self._load()

    def _cached(self, channel: str) -> str | None:
        if channel in self._ids:
            return channel
        return self._names.get(normalise(channel))

    def _load(self) -> tuple[dict[str, str], set[str]]:
        names = self._store.channels()
        return names, set(names.values())
