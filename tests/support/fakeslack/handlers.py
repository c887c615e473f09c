"""The fake Slack's Web API methods (``_api_<method>``), on the workspace state."""

from __future__ import annotations

import base64
import binascii
import copy
import time
from email.parser import BytesParser
from email.policy import HTTP

from tests.support.fakeslack.state import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    CONVERSATION_TYPES,
    JSON,
    MAX_ATTACHMENTS,
    MAX_BLOCKS,
    MAX_TEXT_CHARS,
    PRIVATE_LIST_SCOPE,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    _ApiError,
    _Channel,
    _channel_id,
    _File,
    _Msg,
    _param_bool,
    _param_json,
    _param_limit,
    _param_str,
    _parse_list,
    _parse_metadata,
    _PendingShare,
    _Reply,
    _ts_micros,
    _valid_reaction_name,
)


class _ApiMethods:
    """One method per Slack Web API call the sidecar makes."""

    # ------------------------------------------------------------------ API methods

    def _api_auth_test(self, params: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _api_chat_post_message(self, params: JSON) -> JSON:
        channel = self._channel_for_write(params, names=True)
        text = _param_str(params, "text") or _param_str(params, "markdown_text")
        blocks = _parse_list(params, "blocks", "invalid_blocks", MAX_BLOCKS, "invalid_blocks")
        attachments = _parse_list(
            params, "attachments", "invalid_attachments", MAX_ATTACHMENTS, "too_many_attachments"
        )
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if len(text) > MAX_TEXT_CHARS:
            raise _ApiError("msg_too_long")
        metadata = _parse_metadata(params)
        parent = self._thread_parent(channel, _param_str(params, "thread_ts"))
        msg = _Msg(
            ts=self._next_ts(),
            text=text,
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            metadata=metadata,
            blocks=blocks or None,
            attachments=attachments or None,
            reply_broadcast=parent is not None and _param_bool(params, "reply_broadcast"),
        )
        self._store(channel, msg, parent)
        rendered = self._render(msg, with_metadata=True)
        return {"ok": True, "channel": channel.id, "ts": msg.ts, "message": rendered}

    def _api_reactions_add(self, params: JSON) -> JSON:
        channel = self._channel_for_write(params, names=False)
        ts = _param_str(params, "timestamp")
        if not ts:
            raise _ApiError("no_item_specified")
        name = _param_str(params, "name").strip()
        if not _valid_reaction_name(name):
            raise _ApiError("invalid_name")
        msg = channel.by_ts.get(ts)
        if msg is None:
            raise _ApiError("message_not_found")
        users = msg.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise _ApiError("already_reacted")
        users.append(BOT_USER_ID)
        return {"ok": True}

    def _api_conversations_history(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=True)
        inclusive = _param_bool(params, "inclusive")
        oldest = self._ts_bound(params, "oldest", 0)
        latest = self._ts_bound(params, "latest", None)

        def in_window(msg: _Msg) -> bool:
            key = _ts_micros(msg.ts)
            above = key >= oldest if inclusive else key > oldest
            below = latest is None or (key <= latest if inclusive else key < latest)
            return above and below

        newest_first = [m for m in reversed(channel.timeline) if in_window(m)]
        return self._paginate(newest_first, params, newest_first=True)

    @staticmethod
    def _ts_bound(params: JSON, key: str, default: int | None) -> int | None:
        raw = _param_str(params, key)
        if not raw:
            return default
        try:
            return _ts_micros(raw)
        except ValueError as exc:
            raise _ApiError(f"invalid_ts_{key}") from exc

    def _api_conversations_replies(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=True)
        msg = channel.by_ts.get(_param_str(params, "ts"))
        if msg is None:
            raise _ApiError("thread_not_found")
        parent = channel.by_ts[msg.thread_ts] if msg.thread_ts else msg
        return self._paginate([parent, *parent.replies], params, newest_first=False)

    def _api_conversations_info(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=False)
        return {"ok": True, "channel": self._channel_info(channel)}

    def _api_conversations_list(self, params: JSON) -> JSON:
        raw = _param_str(params, "types") or "public_channel"
        types = {t.strip() for t in raw.split(",") if t.strip()}
        if not types or not types <= CONVERSATION_TYPES:
            raise _ApiError("invalid_types")
        if "private_channel" in types and PRIVATE_LIST_SCOPE not in self._scopes:
            raise _ApiError("missing_scope", needed=PRIVATE_LIST_SCOPE)
        exclude_archived = _param_bool(params, "exclude_archived")
        listed = [
            c
            for _, c in sorted(self._channels.items())
            if ("private_channel" if c.is_private else "public_channel") in types
            and (c.is_member or not c.is_private)
            and not (exclude_archived and c.is_archived)
        ]
        if cursor := _param_str(params, "cursor"):
            try:
                after = base64.b64decode(cursor, validate=True).decode().removeprefix("id:")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise _ApiError("invalid_cursor") from exc
            listed = [c for c in listed if c.id >= after]
        limit = _param_limit(params)
        page, rest = listed[:limit], listed[limit:]
        return {
            "ok": True,
            "channels": [self._channel_info(c) for c in page],
            "response_metadata": {
                "next_cursor": base64.b64encode(f"id:{rest[0].id}".encode()).decode()
                if rest
                else ""
            },
        }

    @staticmethod
    def _channel_info(channel: _Channel) -> JSON:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_member": channel.is_member,
            "is_archived": channel.is_archived,
        }

    def _api_files_upload(self, params: JSON) -> JSON:
        raise _ApiError("method_deprecated")

    def _api_files_get_upload_url_external(self, params: JSON) -> JSON:
        name = _param_str(params, "filename")
        try:
            length = int(_param_str(params, "length"))
        except ValueError as exc:
            raise _ApiError("invalid_arguments") from exc
        if not name or length < 1:
            raise _ApiError("invalid_arguments")
        file_id = "F" + _channel_id(len(self._files) + 1)[2:].rjust(10, "0")
        key = base64.urlsafe_b64encode(f"{file_id}:{time.time_ns()}".encode()).decode()
        self._files[file_id] = _File(file_id, name, length, int(time.time()))
        self._upload_keys[key] = file_id
        url = f"http://127.0.0.1:{self.port}/upload/v1/{key}"
        return {"ok": True, "upload_url": url, "file_id": file_id}

    def _receive_upload(self, key: str, content_type: str, body: bytes) -> _Reply:
        """The upload URL: raw bytes (or a multipart part named ``file``)."""
        with self._lock:
            file_id = self._upload_keys.get(key)
            fault = self._pop_fault("upload")
            if fault is not None and fault.kind in {"http_500", "http_503", "drop_before"}:
                reply = self._fault_before(fault) or _Reply(None)
            elif file_id is None or self._files[file_id].completed:
                reply = _Reply(404, b"Not Found", content_type="text/plain")
            else:
                if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
                    head = f"Content-Type: {content_type}\r\n\r\n".encode()
                    message = BytesParser(policy=HTTP).parsebytes(head + body)
                    parts = [
                        p
                        for p in message.iter_parts()
                        if p.get_param("name", header="content-disposition") == "file"
                    ]
                    body = (parts[0].get_payload(decode=True) or b"") if parts else b""
                self._files[file_id].data = body
                reply = _Reply(200, f"OK - {len(body)}".encode(), content_type="text/plain")
            return self._record("upload", {"file_id": file_id, "bytes": len(body)}, reply)

    def _api_files_complete_upload_external(self, params: JSON) -> JSON:
        entries = _param_json(params, "files", "invalid_arguments")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        files = []
        for entry in entries:
            f = self._files.get(str((entry or {}).get("id", "")))
            if f is None or f.data is None:
                raise _ApiError("file_not_found")
            files.append((f, str(entry.get("title") or f.name)))
        channel = None
        if _param_str(params, "channel_id"):
            channel = self._channel_for_write({"channel": params["channel_id"]}, names=False)
        parent = self._thread_parent(channel, _param_str(params, "thread_ts")) if channel else None
        for f, title in files:
            f.completed, f.title = True, title
        if channel is not None:
            comment = _param_str(params, "initial_comment")
            msg = _Msg(ts=self._next_ts(), text=comment, user=BOT_USER_ID, bot_id=BOT_ID)
            for f, _ in files:
                self._pending_shares.append(
                    _PendingShare(time.monotonic() + self._share_delay, channel, msg, parent, f)
                )
            msg.files = [f.render() for f, _ in files]
        return {"ok": True, "files": [{"id": f.id, "title": t} for f, t in files]}

    def _publish_shares(self) -> None:
        """Shares whose delay is over become visible (history, files.info, inspection)."""
        now = time.monotonic()
        due = [p for p in self._pending_shares if p.visible_at <= now]
        if not due:
            return
        self._pending_shares = [p for p in self._pending_shares if p.visible_at > now]
        for p in due:
            p.file.shares.setdefault(p.channel.id, []).append(p.msg.ts)
            if p.msg.ts not in p.channel.by_ts:
                p.msg.files = [f.render() for f in self._files_of(p.msg)]
                self._store(p.channel, p.msg, p.parent)

    def _files_of(self, msg: _Msg) -> list[_File]:
        return [self._files[f["id"]] for f in msg.files or [] if f["id"] in self._files]

    def _api_files_info(self, params: JSON) -> JSON:
        f = self._files.get(_param_str(params, "file"))
        if f is None or not f.completed:
            raise _ApiError("file_not_found")
        out = f.render()
        public = {
            cid: [
                {"ts": ts, "channel_name": self._channels[cid].name, "reply_count": 0} for ts in tss
            ]
            for cid, tss in f.shares.items()
        }
        out["shares"] = {"public": public} if public else {}
        out["channels"] = sorted(f.shares)
        return {"ok": True, "file": out}

    def files(self) -> list[JSON]:
        """Every file (completed or not) with its shares, for assertions."""
        with self._lock:
            self._publish_shares()
            return [
                f.render()
                | {"completed": f.completed, "shares": copy.deepcopy(f.shares), "data": f.data}
                for f in self._files.values()
            ]

    def _api_chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._channel_for_read(params, member=False)
        msg = channel.by_ts.get(_param_str(params, "message_ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}
