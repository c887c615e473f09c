"""The data every layer shares: file offsets, threads, the features-profile registry, outbox
actions, and the enums naming their kinds and states. Plain data, no I/O.

The enums are ``StrEnum``s: a member *is* its string, so what is stored in SQLite, compared
with a string or written as JSON stays byte-identical to the bare strings used before.
"""

from dataclasses import dataclass
from enum import StrEnum


class ActionKind(StrEnum):
    """Which Slack call an outbox action makes."""

    POST_MESSAGE = "post_message"
    POST_REPLY = "post_reply"
    ADD_REACTION = "add_reaction"


class OutboxState(StrEnum):
    """Where an outbox action is: PENDING -> INFLIGHT (committed before the call) -> DONE or
    FAILED; a retry goes back to PENDING (or stays INFLIGHT when the call may have happened)."""

    PENDING = "pending"
    INFLIGHT = "inflight"
    DONE = "done"
    FAILED = "failed"


class Origin(StrEnum):
    """How the sidecar knows an alert's thread: it posted the alert, adopted a thread that
    Skyline's own Slack alerter logged, or found the alert in Slack."""

    POSTED = "posted"
    ADOPTED = "adopted"
    #: another sidecar's post (a cluster) or Skyline's, found in Slack's history
    FOUND = "found"


class SearchState(StrEnum):
    """A search of Slack's history for an alert's thread (a cluster)."""

    PENDING = "pending"
    FOUND = "found"
    MISS = "miss"


# The members by their short names, for call sites that read better without the class.
POST_MESSAGE = ActionKind.POST_MESSAGE
POST_REPLY = ActionKind.POST_REPLY
ADD_REACTION = ActionKind.ADD_REACTION
PENDING = OutboxState.PENDING
INFLIGHT = OutboxState.INFLIGHT
DONE = OutboxState.DONE
FAILED = OutboxState.FAILED


@dataclass(frozen=True)
class FileState:
    """One generation of a log file and how far it has been read.

    A generation is identified by (device, inode) checked against a hash of its first bytes; the
    anchor is a hash of the bytes just before ``offset``, so the offset can be verified by content.
    """

    key: str
    path: str
    app: str
    dev: int
    inode: int
    head_hash: str
    head_len: int
    offset: int = 0
    line_no: int = 1
    anchor_hash: str = ""
    anchor_len: int = 0
    size: int = 0
    mtime: float = 0.0
    finished: bool = False


@dataclass(frozen=True)
class Thread:
    """The Slack thread of one anomaly (metric, anomaly timestamp): where replies go."""

    metric: str
    anomaly_timestamp: int
    channel: str
    ts: str | None
    alert_event_id: str | None
    origin: Origin


@dataclass(frozen=True)
class Profile:
    """The features-profile registry row: which alert a features profile belongs to."""

    fp_id: int
    metric: str | None
    anomaly_timestamp: int | None
    parent_fp_id: int | None
    generation: int | None


@dataclass(frozen=True)
class Action:
    """One intended Slack call, derived from one event."""

    id: str
    event_id: str
    action: ActionKind
    channel: str
    thread_metric: str | None = None
    thread_anomaly_timestamp: int | None = None
    text: str | None = None
    reaction: str | None = None
    #: the first channel's alert post anchors the thread of (metric, anomaly_timestamp)
    creates_thread: bool = False
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    created_at: float = 0.0
    seq: int = 0
    result_ts: str | None = None
    result_channel: str | None = None
    #: an alert with a graph: where to find it (sidecar.slack.graph.GraphSpec as JSON)
    graph: str | None = None
    #: the Slack file being uploaded (recorded before the upload) and when that began
    file_id: str | None = None
    file_at: float | None = None

    @property
    def thread_key(self) -> tuple[str, int] | None:
        if self.thread_metric is None or self.thread_anomaly_timestamp is None:
            return None
        return (self.thread_metric, self.thread_anomaly_timestamp)
