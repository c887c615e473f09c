"""Kill -9 the delivering process at random instants, restart it: every action is in Slack once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from parsers.events import FeaturesProfileCreated, TrainingDataViewed
from sidecar.state.store import Store
from tests.support.fakeslack import FakeSlack
from tests.support.pngs import training_png
from tests.support.slack_pipeline import METRIC, TS, alert, lifecycle

WORKER = Path(__file__).with_name("delivery_worker.py")


def events():
    out = []
    for i in range(12):
        ts = TS + 60 * i
        out += [
            alert(ts=ts),
            lifecycle(TrainingDataViewed, metric=METRIC, anomaly_timestamp=ts, user=f"u{i}"),
            lifecycle(FeaturesProfileCreated, fp_id=1000 + i, metric=METRIC, anomaly_timestamp=ts),
        ]
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "names_only"), [(1, False), (2, True), (3, True)])
def test_kill_9_during_delivery_never_duplicates_or_loses(tmp_path, seed, names_only):
    """With ids configured, and with names only (Skyline's SLACK_OPTS as shipped): then the id
    comes from conversations.list, and the exactly-once check and reactions still work."""
    rng = random.Random(seed)
    db = tmp_path / "state.sqlite"
    store = Store.open(db)
    store.ingest(events(), None)
    store.close()
    with FakeSlack(post_rate=None) as fake:
        cid = fake.add_channel("#skyline")
        # Slow answers widen the window between Slack storing a post and us recording it.
        fake.inject("chat.postMessage", "slow", times=6, seconds=0.3, phase="after")
        # Dropped connections after Slack stored the post or the reaction.
        fake.inject("chat.postMessage", "drop_after_store", times=2)
        fake.inject("reactions.add", "drop_after_store", times=2)
        args = [sys.executable, str(WORKER), str(db), fake.base_url, "-" if names_only else cid]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        kills = 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            proc = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
            if kills < 8:
                time.sleep(rng.uniform(0.05, 0.8))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.wait()
                continue
            assert proc.wait(timeout=60) == 0
            break
        parents = fake.messages("#skyline")
        payloads = Counter(m.metadata["event_payload"]["action_id"] for m in parents)
        assert len(parents) == 12 and max(payloads.values()) == 1
        for p in parents:
            replies = fake.replies("#skyline", p.ts)
            assert len(replies) == 2, [r.text for r in replies]
            assert fake.reactions("#skyline", p.ts) == {"eyes": 1, "thumbsup": 1}
        assert kills >= 1
        assert (len(fake.calls_to("conversations.list")) > 0) == names_only
        assert fake.pending_faults("chat.postMessage") == fake.pending_faults("reactions.add") == 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5])
def test_kill_9_during_graph_uploads_never_uploads_twice(tmp_path, seed):
    """Each alert's PNG is uploaded into the channel once, whatever instant the process dies at
    (between the upload URL and the bytes, after Slack completed the upload and before we
    recorded it, while the share is awaited); the lifecycle still lands in its thread."""
    rng = random.Random(seed)
    db, folder = tmp_path / "state.sqlite", tmp_path / "ionosphere"
    past = time.time() - 60
    for i in range(12):
        png = training_png(folder, TS + 60 * i, METRIC, "mirage", 168)
        os.utime(png, (past, past))
    store = Store.open(db)
    store.ingest(events(), None)
    store.close()
    with FakeSlack(post_rate=None, share_delay=0.3) as fake:
        cid = fake.add_channel("#skyline")
        fake.inject("files.completeUploadExternal", "slow", times=6, seconds=0.3, phase="after")
        args = [sys.executable, str(WORKER), str(db), fake.base_url, cid, str(folder)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        kills = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            proc = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
            if kills < 8:
                time.sleep(rng.uniform(0.1, 1.2))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.wait()
                continue
            assert proc.wait(timeout=90) == 0
            break
        parents = fake.messages("#skyline")
        assert len(parents) == 12 and all(p.files and len(p.files) == 1 for p in parents)
        shared = [f for f in fake.files() if f["shares"]]
        assert len(shared) == 12 and all(len(f["shares"][cid]) == 1 for f in shared)
        for p in parents:
            assert len(fake.replies("#skyline", p.ts)) == 2
            assert fake.reactions("#skyline", p.ts) == {"eyes": 1, "thumbsup": 1}
        assert kills >= 1
