"""The pipeline's one step, ingest -> plan -> deliver, and the one loop that drains it.

``run`` (the daemon's service loop), ``backfill`` and the tests all go through :class:`Pipeline`:
the daemon calls :meth:`Pipeline.step` between its sleeps; ``backfill --post`` and the tests call
:meth:`Pipeline.drain`, which repeats the step until nothing is left to plan or deliver.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from parsers.events import AnomalyAlert, SlackThread
from sidecar.config.options import Config
from sidecar.slack.deliver import Deliverer, DeliveryStats
from sidecar.slack.planner import plan_event
from sidecar.state.store import Store

if TYPE_CHECKING:
    from sidecar.ingest import Ingestor

log = structlog.get_logger("sidecar.pipeline")

#: events planned per read of the store; a full batch means there may be more to read
PLAN_BATCH = 500
#: an event that cannot be planned as configured waits for the next start
UNTIL_RESTART = float("inf")
#: far enough ahead to count every waiting event (but not those kept for the next start)
_ANY_WAIT = 1e12
_PLAN_ORDER = {SlackThread: 0, AnomalyAlert: 1}


def plan_pending(
    store: Store,
    config: Config,
    *,
    post: bool = True,
    after_seq: int = 0,
    clock: Callable[[], float] = time.time,
    batch_size: int = PLAN_BATCH,
) -> int:
    """Turn every stored, unplanned event whose wait is over into outbox actions; returns how
    many were planned (not those still waiting).

    ``after_seq`` limits this to events stored after that point (a backfill's own events).
    """
    count = 0
    while True:
        now = clock()
        batch = store.unplanned(now, limit=batch_size, after_seq=after_seq)
        if not batch:
            return count
        # Skyline's own threads first (an alert they belong to is not posted again), then
        # alerts, so a lifecycle event in the same batch finds its thread; each in the order
        # Skyline logged them, whichever file was read first.
        batch.sort(key=lambda item: (_PLAN_ORDER.get(type(item[0]), 2), item[0].logged_at))
        for event, ingested_at in batch:
            plan = plan_event(event, store, config, ingested_at=ingested_at, now=now, post=post)
            if plan.error is not None:
                store.record_plan(event.event_id, (), wait_until=UNTIL_RESTART)
                store.record_error("route", plan.error)
                log.error("cannot post", event_id=event.event_id, error=plan.error)
                continue
            store.record_plan(
                event.event_id,
                plan.actions,
                profiles=plan.profiles,
                threads=plan.threads,
                wait_until=plan.wait_until,
                searches=plan.searches,
            )
            if plan.actions:
                log.info(
                    "planned",
                    event_id=event.event_id,
                    kind=event.kind,
                    metric=getattr(event, "metric", None),
                    actions=len(plan.actions),
                    note=plan.note,
                )
            count += 1 if plan.wait_until is None else 0
        if len(batch) < batch_size:
            return count


@dataclass
class StepResult:
    ingested: int = 0
    planned: int = 0
    delivery: DeliveryStats = field(default_factory=DeliveryStats)

    @property
    def delivered(self) -> int:
        return self.delivery.delivered


class Pipeline:
    """Owns the order of the work: what the logs have new is stored (the ingestor, if any),
    stored events are planned into the outbox, and the outbox is delivered as paced.

    ``post=False`` plans without actions (a backfill that only records); ``after_seq`` plans
    only the events stored after that point.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        deliverer: Deliverer | None = None,
        *,
        ingestor: Ingestor | None = None,
        post: bool = True,
        after_seq: int = 0,
    ):
        self.store = store
        self.config = config
        self.deliverer = deliverer
        self.ingestor = ingestor
        self.post = post
        self.after_seq = after_seq

    def plan(self) -> int:
        return plan_pending(self.store, self.config, post=self.post, after_seq=self.after_seq)

    def step(self) -> StepResult:
        """One pass: ingest, plan, deliver what is due. A ``StoreError`` propagates: nothing of
        the failed part was committed, and the next step retries it."""
        result = StepResult()
        if self.ingestor is not None:
            result.ingested = self.ingestor.run_once()
        result.planned = self.plan()
        if self.deliverer is not None:
            result.delivery = self.deliverer.run_once()
        return result

    def idle(self) -> bool:
        """Nothing left: no action to deliver, no event waiting to be planned (those kept for
        the next start aside)."""
        return self.store.counts()["outbox_pending"] == 0 and not self.store.unplanned(
            _ANY_WAIT, limit=1, after_seq=self.after_seq
        )

    def next_ready_in(self) -> float | None:
        """Seconds until the deliverer has something to do, None if nothing is pending."""
        return None if self.deliverer is None else self.deliverer.next_ready_in()

    def drain(
        self,
        *,
        deadline: float | None = None,
        stop_when_halted: bool = False,
        progress: Callable[[int], None] | None = None,
        progress_every: float = 10.0,
        max_sleep: float = 1.0,
        idle_sleep: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Step until :meth:`idle`; True then. False at ``deadline`` (monotonic), or once
        delivery is halted (a revoked token) if ``stop_when_halted``. ``progress`` is told the
        number of pending actions every ``progress_every`` seconds."""
        reported = float("-inf")
        while True:
            self.step()
            if self.idle():
                return True
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return False
            if stop_when_halted and self.deliverer is not None and self.deliverer.halted:
                return False
            if progress is not None and now - reported > progress_every:
                progress(self.store.counts()["outbox_pending"])
                reported = now
            wait = self.next_ready_in()
            sleep(idle_sleep if wait is None else min(max(wait, 0.01), max_sleep))
