"""Backfill throughput against `cat` / `gzip -dc` of the same files, into a fresh SQLite store.

A generated Skyline LOG_PATH (tests/bench/genlogs.py): 4 apps (analyzer, mirage, webapp,
ionosphere) x 6 days, ``<app>.log.YYYY-MM-DD`` for 5 past days plus the live ``<app>.log``,
the oldest analyzer and mirage days gzipped. Baseline: ``cat`` of the plain files plus
``gzip -dc`` of the gzipped ones (to /dev/null), seconds summed. Sidecar: ``run_backfill`` of
``backfill_files(log_dir, apps)`` into a fresh ``Store.open`` database (record only, no Slack).
Both timed BENCH_REPEAT times (default 3), alternating, best of each; MB/s are of the
uncompressed log bytes. Events stored must equal the events the generator wrote.

Size: BENCH_BACKFILL_MB (MiB of uncompressed logs in all, default 1024), BENCH_REPEAT.
BENCH_PROFILE=1 prints a cProfile of one more backfill (not timed).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import subprocess
import time
from pathlib import Path

from sidecar.service.logs import configure_logging
from sidecar.state.store import Store
from sidecar.tail.history import BackfillResult, backfill_files, run_backfill
from tests.bench.bench_parse import env_number, tmp_dir
from tests.bench.genlogs import APPS, MIB, GenStats, write_log_dir

_cache: dict[int, dict[Path, GenStats]] = {}


def log_dir(size: int) -> tuple[Path, dict[Path, GenStats]]:
    """The generated LOG_PATH of ``size`` bytes, made once per process."""
    path = tmp_dir() / f"backfill-{size}" / "logs"
    if size not in _cache:
        _cache[size] = write_log_dir(path, size)
    return path, _cache[size]


def cat_files(plain: list[Path], gz: list[Path]) -> float:
    start = time.perf_counter()
    if plain:
        subprocess.run(["cat", *map(str, plain)], stdout=subprocess.DEVNULL, check=True)
    if gz:
        subprocess.run(["gzip", "-dc", *map(str, gz)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def backfill(logs: Path, db: Path) -> tuple[float, BackfillResult, int]:
    """One backfill into a new database at ``db``: (seconds, result, events in the store)."""
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    store = Store.open(db)
    try:
        start = time.perf_counter()
        result = run_backfill(store, backfill_files(logs, APPS))
        elapsed = time.perf_counter() - start
        stored = store.counts()["events"]
    finally:
        store.close()
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    return elapsed, result, stored


def profile(logs: Path, db: Path) -> str:
    prof = cProfile.Profile()
    prof.runcall(backfill, logs, db)
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(20)
    return text.getvalue()


def run() -> dict[str, object]:
    size = int(env_number("BENCH_BACKFILL_MB", 1024) * MIB)
    repeat = max(1, int(env_number("BENCH_REPEAT", 3)))
    configure_logging(level="warning")
    load = os.getloadavg()[0]
    logs, files = log_dir(size)
    plain = sorted(p for p in files if p.suffix != ".gz")
    gz = sorted(p for p in files if p.suffix == ".gz")
    data = sum(s.bytes for s in files.values())
    on_disk = sum(p.stat().st_size for p in files)
    written = sum(s.events for s in files.values())
    db = logs.parent / "state.sqlite"

    cat_times, backfill_times = [], []
    result, stored = BackfillResult(), 0
    for _ in range(repeat):  # alternate, so machine noise hits both sides alike
        cat_times.append(cat_files(plain, gz))
        seconds, result, stored = backfill(logs, db)
        backfill_times.append(seconds)
    cat_s, backfill_s = min(cat_times), min(backfill_times)

    if os.environ.get("BENCH_PROFILE"):
        print(profile(logs, db), flush=True)

    mib = data / MIB
    return {
        "load_1min": round(load, 2),
        "files": len(files),
        "gzip_files": len(gz),
        "data_mb": round(mib, 1),
        "on_disk_mb": round(on_disk / MIB, 1),
        "lines": sum(s.lines for s in files.values()),
        "cat_seconds": round(cat_s, 3),
        "cat_mb_s": round(mib / cat_s, 1),
        "backfill_seconds": round(backfill_s, 3),
        "backfill_mb_s": round(mib / backfill_s, 1),
        "ratio_backfill_to_cat": round(cat_s / backfill_s, 4),
        "events_written": written,
        "events_stored": stored,
        "events_new": result.events_new,
        "events_match": stored == written,
        "files_read": len(result.by_action("read")),
        "files_failed": len(result.by_action("failed")),
        "repeat": repeat,
        "cat_runs_s": [round(t, 3) for t in cat_times],
        "backfill_runs_s": [round(t, 2) for t in backfill_times],
    }
