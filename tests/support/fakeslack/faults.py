"""Fault injection for the fake Slack: scripted failures per method, outages."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from tests.support.fakeslack.state import (
    _FAULT_KWARGS,
    FaultKind,
    _Fault,
    _html_reply,
    _json_reply,
    _ratelimited_reply,
    _Reply,
)


class _Faults:
    """Scripted faults (:meth:`inject`) and outages, applied around each call."""

    # ------------------------------------------------------------------ fault injection

    def inject(self, method: str, fault: FaultKind, times: int = 1, **kw: Any) -> None:
        """Script ``fault`` for the next ``times`` calls of ``method`` (FIFO per method).

        kwargs: ``ratelimited``: ``retry_after`` (int s, default 1); ``slow``: ``seconds``
        (required), ``phase`` ("before": sleep, then act; "after": act, then answer late);
        ``error``: ``error`` (the code, required), ``perform`` (act anyway, like
        ``fatal_error``; default False).
        """
        if method not in self._handlers and method != "upload":  # "upload": the upload URL
            raise ValueError(f"unknown method {method!r}")
        allowed = _FAULT_KWARGS.get(fault)
        if allowed is None:
            raise ValueError(f"unknown fault {fault!r}")
        if unknown := set(kw) - allowed:
            raise ValueError(f"{fault} takes no {sorted(unknown)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        entry = _Fault(kind=fault, remaining=times, **kw)
        if fault == "slow" and (entry.seconds <= 0 or entry.phase not in {"before", "after"}):
            raise ValueError("slow needs seconds > 0 and phase 'before' or 'after'")
        if fault == "error" and not kw.get("error"):
            raise ValueError("error needs error=<code>")
        if fault == "ratelimited" and int(entry.retry_after) < 0:
            raise ValueError("retry_after must be >= 0")
        with self._lock:
            self._faults.setdefault(method, deque()).append(entry)

    def pending_faults(self, method: str) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults.get(method, ()))

    def outage(self, seconds: float) -> None:
        """Answer every call with HTTP 503 (HTML) for ``seconds`` of the fake's clock."""
        with self._lock:
            self._down_until = self._clock() + seconds

    def down(self) -> None:
        with self._lock:
            self._down_until = math.inf

    def up(self) -> None:
        with self._lock:
            self._down_until = None

    def _pop_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_before(fault: _Fault | None) -> _Reply | None:
        """Faults that answer without touching the workspace."""
        if fault is None:
            return None
        if fault.kind in {"http_500", "http_503"}:
            return _html_reply(int(fault.kind.removeprefix("http_")))
        if fault.kind == "ratelimited":
            return _ratelimited_reply(int(fault.retry_after))
        if fault.kind == "drop_before":
            return _Reply(None)
        if fault.kind == "error" and not fault.perform:
            return _json_reply({"ok": False, "error": fault.error})
        return None

    @staticmethod
    def _fault_after(fault: _Fault | None, reply: _Reply) -> _Reply:
        """Faults that let the action happen and then spoil the answer."""
        if fault is None:
            return reply
        if fault.kind == "drop_after_store":
            return _Reply(None)
        if fault.kind == "slow" and fault.phase == "after":
            reply.delay = fault.seconds
        if fault.kind == "error":
            return _json_reply({"ok": False, "error": fault.error})
        return reply
