"""ionosphere.log: features profiles learnt by Ionosphere's learn process.

The learn child process (learn.py) works through its work items one after the other, so the
lines of one pid are one item's story: the work item (job, the ORIGINAL anomaly timestamp,
metric, parent fp, parent generation), then the new generation line that names the new fp.
The work item line holds safe_offset until its fp is made, the next item, or MAX_WORK_AGE.
Format strings are quoted with their source at earthgecko/skyline HEAD 1baec4a2 (v5); they are
unchanged since v1.1 (checked at v1.2.17, v1.3.1, v2.0.0, v3.0.4, v4.0.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from parsers.common import Ctx, Line, PidHeldRules, as_int
from parsers.events import Event, FeaturesProfileLearnt, SkylineSelfRequest
from parsers.pyrepr import literal_or_none

# skyline/ionosphere/learn.py:806 (v1.1+): 'learn :: processing %s for %s - %s'
#   (job, base_name, the work item ['Soft', job, anomaly_timestamp, base_name, parent_fp_id,
#   parent_generation]); logged for the item learn works on, after 'learn :: checking work item
#   - %s' (learn.py:644), which is logged for every item, ready or not, so is not read.
PROCESSING = re.compile(r"learn :: processing \S+ for \S+ - (\[.*\])$")
# skyline/ionosphere_functions.py:1050:
#   'create_features_profile :: determined the anomaly metric_timestamp as - %s'
DETERMINED = re.compile(
    r"create_features_profile :: determined the anomaly metric_timestamp as - (\d+)$"
)
# skyline/ionosphere/learn.py:1990: 'learn :: %s :: new generation %s features profile with id %s
#   using %s days data based on the human generated parent feature profile with id %s'
#   (profile_context 'human generated' / 'automatically generated', generation, fp_id,
#   learn_full_duration_days, learn_parent_id); the wording is fixed, also for automatic ones.
NEW_GENERATION = re.compile(
    r"learn :: (.+?) :: new generation (\d+) features profile with id (\d+) using (\S+) days data"
    r" based on the human generated parent feature profile with id (\d+)$"
)

# skyline/ionosphere/learn.py:1844: 'learn :: training_data URL - %s', with the URL
#   '%s/ionosphere?timestamp=%s&metric=%s' (SKYLINE_URL, metric_timestamp, base_name) that the
#   learn_fp_learnt job then GETs itself (learn.py:1841-1877): not a person's view.
SELF_REQUEST = re.compile(
    r"learn :: training_data URL - \S*/ionosphere\?timestamp=(\d+)&metric=(\S+)$"
)


#: a learn work item is tied to the lines of its pid for this long (features are calculated
#: in between)
MAX_WORK_AGE = timedelta(seconds=600)


@dataclass(eq=False)  # compared by identity: one per work item
class _Work:
    job: str | None = None
    metric: str | None = None
    anomaly_timestamp: int | None = None
    determined_timestamp: int | None = None
    key: int = 0


class IonosphereRules(PidHeldRules[_Work, _Work]):
    """ionosphere.log: a pid's learn work item is held until its features profile is made."""

    def __init__(self, ctx: Ctx):
        super().__init__(ctx, _Work, MAX_WORK_AGE)

    def handle(self, line: Line) -> list[Event]:
        self._sweep(line.at)
        msg = line.message
        if m := PROCESSING.match(msg):
            self._work_item(line, m.group(1))
        elif m := DETERMINED.match(msg):
            self._work(line).determined_timestamp = int(m.group(1))
        elif m := NEW_GENERATION.match(msg):
            return [self._learnt(line, m)]
        elif m := SELF_REQUEST.match(msg):
            return [
                SkylineSelfRequest(
                    **self.ctx.fields(line), metric=m.group(2), anomaly_timestamp=int(m.group(1))
                )
            ]
        return []

    def _work(self, line: Line) -> _Work:
        """The pid's work, held from this line if it had none."""
        work = self._pids.get(line.pid)
        if not work.key:
            work.key = self._held.add(line, (line.pid, work))
        return work

    def _work_item(self, line: Line, text: str) -> None:
        item = literal_or_none(text)
        if not isinstance(item, list | tuple) or len(item) < 4:
            self.ctx.stats.bad_values += 1
            return
        self._done(line.pid)  # the previous item is over
        work = self._work(line)
        work.job = item[1] if isinstance(item[1], str) else None
        work.anomaly_timestamp = as_int(item[2])
        work.metric = item[3] if isinstance(item[3], str) else None

    def _done(self, pid: int) -> _Work:
        """The pid's work, forgotten (its fp is made or the next item is taken)."""
        work = self._pids.peek(pid) or _Work()
        self._held.discard(work.key)
        self._pids.drop(pid)
        return work

    def _learnt(self, line: Line, m: re.Match[str]) -> FeaturesProfileLearnt:
        work = self._done(line.pid)
        return FeaturesProfileLearnt(
            **self.ctx.fields(line),
            fp_id=int(m.group(3)),
            parent_fp_id=int(m.group(5)),
            generation=int(m.group(2)),
            metric=work.metric,
            anomaly_timestamp=work.anomaly_timestamp or work.determined_timestamp,
            learn_days=as_int(m.group(4)),
            job=work.job,
        )

    def _expired(self, pid: int, work: _Work) -> None:
        if self._pids.peek(pid) is work:
            self._pids.drop(pid)  # forgotten, as by a parser resumed after its hold

    def _evicted(self, pid: int, work: _Work) -> None:
        super()._evicted(pid, work)
        self._held.discard(work.key)
