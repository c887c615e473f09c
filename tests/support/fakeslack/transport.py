"""The fake Slack's HTTP side: request bodies decoded as Slack does, the threaded server
and its handler, which hands each call to :class:`FakeSlack`."""

from __future__ import annotations

import json
import socketserver
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from tests.support.fakeslack.state import (
    JSON,
    MAX_BODY_BYTES,
    _ApiError,
    _json_reply,
    _Reply,
)

if TYPE_CHECKING:
    from tests.support.fakeslack.fake import FakeSlack


def _parse_body(content_type: str, body: bytes) -> JSON:
    """Decode a request body into params; raises _ApiError like Slack's input checks."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise _ApiError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise _ApiError("invalid_json")
        return parsed
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _ApiError("invalid_form_data") from exc


def _parse_multipart(content_type: str, body: bytes) -> JSON:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise _ApiError("invalid_form_data")
    params: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name:
            params[str(name)] = payload.decode("utf-8", errors="replace")
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # concurrent-client tests open many sockets at once
    block_on_close = False  # stop() waits for in-flight handlers itself, with a bound

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a DNS lookup that can stall for
        # seconds in sandboxes; nothing here needs the server's host name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that never sends its body must not pin a thread forever
    server_version = "FakeSlack/1.0"
    _quiet_errors: ClassVar[tuple[type[BaseException], ...]] = (ConnectionError, TimeoutError)

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the fake's ``calls`` is the record."""

    def handle(self) -> None:
        # The client may have given up (timeout tests): there is nobody left to answer.
        with suppress(*self._quiet_errors):
            super().handle()

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        fake = self.server.fake
        with fake._idle:
            fake._in_flight += 1
        try:
            yield
        finally:
            with fake._idle:
                fake._in_flight -= 1
                fake._idle.notify_all()

    def _serve(self) -> None:
        fake = self.server.fake
        with self._tracked():
            parts = urlsplit(self.path)
            method = parts.path.removeprefix("/api/") if parts.path.startswith("/api/") else ""
            try:
                if parts.path.startswith("/upload/v1/") and self.command == "POST":
                    reply = self._upload(fake, parts.path.removeprefix("/upload/v1/"))
                else:
                    reply = self._dispatch(fake, method, parts.query)
            except self._quiet_errors:
                raise
            except Exception:
                reply = fake._server_bug()
            self._send(reply)

    def _dispatch(self, fake: FakeSlack, method: str, query: str) -> _Reply:
        params: JSON = dict(parse_qsl(query, keep_blank_values=True))
        try:
            params.update(self._read_body())
        except _ApiError as err:
            status = int(err.extra.pop("status", 200))
            reply = _json_reply({"ok": False, "error": err.code}, status)
            return fake._record(method, params, reply)
        body_token = params.pop("token", None)  # never keep secrets in the call log
        token = self._bearer() or (None if body_token is None else str(body_token))
        return fake._handle(method, params, token)

    def _upload(self, fake: FakeSlack, key: str) -> _Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            return _Reply(413, b"Request Entity Too Large", content_type="text/plain")
        body = self.rfile.read(length) if length else b""
        return fake._receive_upload(key, self.headers.get("Content-Type", ""), body)

    def _read_body(self) -> JSON:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise _ApiError("invalid_form_data", status=400) from exc
        if length < 0 or length > MAX_BODY_BYTES:
            raise _ApiError("request_too_large", status=413)
        body = self.rfile.read(length) if length else b""
        return _parse_body(self.headers.get("Content-Type", ""), body)

    def _bearer(self) -> str | None:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None

    def _send(self, reply: _Reply) -> None:
        if reply.delay:
            self.server.fake._stopping.wait(reply.delay)
        self.close_connection = True
        if reply.status is None:
            return  # drop: the server closes the socket with no status line at all
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
