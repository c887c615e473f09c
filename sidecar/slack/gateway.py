"""The Slack edge: slack_sdk's WebClient behind three calls, with every failure classified.

slack_sdk retries nothing here (``retry_handlers=[]``): its default handler re-sends a request
whose connection dropped, which for ``chat.postMessage`` is exactly the duplicate to avoid. The
outbox decides about retries, and checks Slack (message metadata) before posting again after a
failure that may have reached Slack.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sidecar.slack.graph import Image

METADATA_TYPE = "skyline_sidecar_action"

#: the token cannot be used: stop delivering, keep everything, report unhealthy
FATAL_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "ekm_access_denied",
    }
)
#: the parent message is gone: post top-level and re-anchor the thread
THREAD_GONE_ERRORS = frozenset({"thread_not_found", "invalid_thread_ts"})


class SlackFailure(Exception):
    """Base of the classified failures; ``str()`` never contains the token."""


class RateLimited(SlackFailure):
    def __init__(self, retry_after: float):
        super().__init__(f"ratelimited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class Ambiguous(SlackFailure):
    """A timeout, dropped connection or 5xx: the call may or may not have reached Slack."""


class Fatal(SlackFailure):
    """The token is unusable (revoked, invalid, missing scope)."""


class Rejected(SlackFailure):
    """Slack refused this one action for good."""


class ThreadGone(SlackFailure):
    pass


class NotCompleted(Ambiguous):
    """An upload failed before files.completeUploadExternal was sent: nothing is in Slack."""


@dataclass(frozen=True)
class Posted:
    channel: str  # the channel id Slack answered with
    ts: str


@dataclass(frozen=True)
class FileShare:
    """What files.info says of an upload: completed (Slack has the file) and, once Slack has
    shared it (a moment after completion), its message in the channel."""

    completed: bool
    posted: Posted | None = None


class Gateway(Protocol):
    """What the deliverer needs of Slack: ``WebGateway`` (the Web API), ``PrintingGateway`` (the
    dry run), an in-memory one in the tests. Failures are raised as ``SlackFailure``s."""

    def post(
        self, channel: str, text: str, *, thread_ts: str | None, metadata: dict[str, Any]
    ) -> Posted: ...
    def react(self, channel_id: str, ts: str, name: str) -> None: ...
    def find_post(
        self, channel_id: str, action_id: str, *, thread_ts: str | None, oldest: float
    ) -> Posted | None: ...
    def auth_test(self) -> dict[str, Any]: ...
    def channel_info(self, channel_id: str) -> dict[str, Any]: ...
    def upload(
        self,
        channel_id: str,
        image: Image,
        *,
        filename: str,
        title: str,
        comment: str,
        on_file_id: Callable[[str], None],
    ) -> str: ...
    def file_share(self, file_id: str, channel_id: str) -> FileShare | None: ...
    def list_channels(self) -> dict[str, str]: ...
    def history(
        self,
        channel_id: str,
        *,
        oldest: float,
        latest: float | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]: ...


def action_metadata(action_id: str, event_id: str, **extra: Any) -> dict[str, Any]:
    """The metadata every post carries: the action id (how a post is found again after a
    failure) and, for an alert, its key and host (how other hosts find its thread)."""
    return {
        "event_type": METADATA_TYPE,
        "event_payload": {"action_id": action_id, "event_id": event_id, **extra},
    }


class WebGateway:
    """Slack's Web API through slack_sdk's real WebClient."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout: float = 10.0,
        icon_emoji: str | None = None,
        history_pages: int = 5,
    ):
        self._client = WebClient(
            token=token, base_url=base_url, timeout=int(timeout) or 1, retry_handlers=[]
        )
        self._icon = icon_emoji
        self._pages = history_pages
        self._timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"WebGateway(base_url={self._client.base_url!r})"

    def post(
        self, channel: str, text: str, *, thread_ts: str | None, metadata: dict[str, Any]
    ) -> Posted:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "metadata": metadata,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            kwargs["thread_ts"] = str(thread_ts)
        if self._icon:
            kwargs["icon_emoji"] = self._icon
        resp = self._call(self._client.chat_postMessage, **kwargs)
        return Posted(channel=str(resp["channel"]), ts=str(resp["ts"]))

    def react(self, channel_id: str, ts: str, name: str) -> None:
        """reactions.add; ``already_reacted`` is success (reactions are idempotent)."""
        try:
            self._call(
                self._client.reactions_add,
                channel=channel_id,
                timestamp=str(ts),
                name=name.strip(":"),
            )
        except Rejected as exc:
            if str(exc) != "already_reacted":
                raise

    def find_post(
        self, channel_id: str, action_id: str, *, thread_ts: str | None, oldest: float
    ) -> Posted | None:
        """Look for an earlier post of this action by its metadata, or for an upload by its file
        name (which carries the action id): history lists top-level messages only, so a thread
        reply is looked for among the parent's replies."""
        cursor = None
        for _ in range(self._pages):
            messages, cursor = self._page(
                channel_id,
                thread_ts=thread_ts,
                oldest=oldest,
                latest=None,
                cursor=cursor,
                limit=200,
            )
            for msg in messages:
                payload = (msg.get("metadata") or {}).get("event_payload") or {}
                names = [str(f.get("name") or "") for f in msg.get("files") or []]
                if payload.get("action_id") == action_id or any(action_id in n for n in names):
                    return Posted(channel=channel_id, ts=str(msg["ts"]))
            if not cursor:
                return None
        return None

    def history(
        self,
        channel_id: str,
        *,
        oldest: float,
        latest: float | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of conversations.history (newest first, metadata included) between
        ``oldest`` and ``latest``, and the cursor of the next page (None at the end)."""
        return self._page(
            channel_id, thread_ts=None, oldest=oldest, latest=latest, cursor=cursor, limit=limit
        )

    def _page(
        self,
        channel_id: str,
        *,
        thread_ts: str | None,
        oldest: float,
        latest: float | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a channel's history, or of a thread's replies with ``thread_ts``."""
        kwargs: dict[str, Any] = {
            "channel": channel_id,
            "include_all_metadata": True,
            "limit": limit,
        }
        if cursor:
            kwargs["cursor"] = cursor
        if thread_ts is None:
            kwargs["oldest"] = f"{max(oldest, 0):.6f}"
            if latest is not None:
                kwargs["latest"] = f"{latest:.6f}"
            resp = self._call(self._client.conversations_history, **kwargs)
        else:
            resp = self._call(self._client.conversations_replies, ts=str(thread_ts), **kwargs)
        next_cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
        return list(resp.get("messages") or []), next_cursor

    def upload(
        self,
        channel_id: str,
        image: Image,
        *,
        filename: str,
        title: str,
        comment: str,
        on_file_id: Callable[[str], None],
    ) -> str:
        """Slack's upload flow (what slack_sdk's files_upload_v2 does), in steps so the file id
        is recorded (``on_file_id``) before anything can be shared: files.getUploadURLExternal,
        the bytes POSTed to the upload URL, files.completeUploadExternal sharing it into the
        channel with the alert text as its comment. Returns the file id."""
        resp = self._call(
            self._client.files_getUploadURLExternal, filename=filename, length=image.size
        )
        file_id, url = str(resp["file_id"]), str(resp["upload_url"])
        on_file_id(file_id)
        self._post_bytes(url, image)
        self._call(
            self._client.files_completeUploadExternal,
            files=[{"id": file_id, "title": title}],
            channel_id=channel_id,
            initial_comment=comment,
        )
        return file_id

    def _post_bytes(self, url: str, image: Image) -> None:
        try:
            body = image.read()
        except OSError as exc:
            raise NotCompleted(f"graph unreadable: {exc.strerror or exc}") from None
        req = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/octet-stream"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as r:
                r.read()
        except (OSError, ValueError) as exc:  # HTTPError, URLError, timeouts, resets
            raise NotCompleted(f"file upload: {type(exc).__name__}: {exc}") from None

    def file_share(self, file_id: str, channel_id: str) -> FileShare | None:
        """files.info: the upload's message ts in the channel (``shares``), as Skyline reads it
        (analyzer/alerters.py:2394-2421). None when the token lacks files:read."""
        try:
            resp = self._call(self._client.files_info, file=file_id)
        except Rejected as exc:
            if str(exc) == "file_not_found":  # never completed (a deleted file stays refused)
                return FileShare(completed=False)
            raise
        except Fatal as exc:
            if str(exc) == "missing_scope":
                return None
            raise
        shares = (resp.get("file") or {}).get("shares") or {}
        for kind in ("public", "private"):
            for share in (shares.get(kind) or {}).get(channel_id) or []:
                if share.get("ts"):
                    return FileShare(True, Posted(channel=channel_id, ts=str(share["ts"])))
        return FileShare(completed=True)

    def auth_test(self) -> dict[str, Any]:
        return dict(self._call(self._client.auth_test).data)

    def scopes(self) -> set[str] | None:
        """The token's scopes (auth.test's X-OAuth-Scopes header), None if not told."""
        resp = self._call(self._client.auth_test)
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        raw = headers.get("x-oauth-scopes")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        return None if raw is None else {s.strip() for s in str(raw).split(",") if s.strip()}

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        return dict(self._call(self._client.conversations_info, channel=channel_id)["channel"])

    def list_channels(self) -> dict[str, str]:
        """name -> id of every channel the bot can see (public, and private ones it is in),
        archived ones excluded: ``conversations.list``, all pages."""
        found: dict[str, str] = {}
        cursor = None
        while True:
            kwargs: dict[str, Any] = {
                "types": "public_channel,private_channel",
                "exclude_archived": True,
                "limit": 999,
            }
            if cursor:
                kwargs["cursor"] = cursor
            try:
                resp = self._call(self._client.conversations_list, **kwargs)
            except Fatal as exc:
                if str(exc) != "missing_scope":
                    raise
                raise Fatal(
                    "conversations.list: missing_scope (the bot needs the channels:read"
                    " and groups:read scopes)"
                ) from None
            found.update({str(c["name"]): str(c["id"]) for c in resp.get("channels") or []})
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            raise classify_api_error(exc) from None
        except (OSError, TimeoutError, json.JSONDecodeError, ValueError) as exc:
            # URLError, socket.timeout, ConnectionResetError, RemoteDisconnected, bad bodies
            raise Ambiguous(f"{type(exc).__name__}: {exc}") from None


def classify_api_error(exc: SlackApiError) -> SlackFailure:
    resp = exc.response
    status = getattr(resp, "status_code", 200)
    data = getattr(resp, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if status == 429 or error in ("ratelimited", "rate_limited"):
        headers = getattr(resp, "headers", {}) or {}
        raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
        if isinstance(raw, list):
            raw = raw[0]
        try:
            after = max(float(raw), 1.0)
        except ValueError:
            after = 30.0
        return RateLimited(after)
    if status >= 500 or error in (
        "internal_error",
        "fatal_error",
        "request_timeout",
        "service_unavailable",
    ):
        return Ambiguous(error or f"HTTP {status}")
    if error in FATAL_ERRORS:
        return Fatal(error)
    if error in THREAD_GONE_ERRORS:
        return ThreadGone(error)
    # channel_not_found, not_in_channel, is_archived, msg_too_long, already_reacted, ...:
    # this one action cannot succeed as it is.
    return Rejected(error or f"HTTP {status}")
