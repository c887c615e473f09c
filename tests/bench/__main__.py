"""Run the benchmarks: ``python -m tests.bench [NAME ...]``; results also go to bench-results/.

Each benchmark measures the sidecar and a baseline (grep, cat, the rate limit's floor) in the
same run, since these machines are shared and noisy, and reports the ratio.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BENCHES = ["parse", "backfill", "daemon", "delivery", "storm", "images", "metrics", "startup"]


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    results = {}
    for name in names:
        module = importlib.import_module(f"tests.bench.bench_{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        started = time.monotonic()
        figures = module.run()
        figures["bench_seconds"] = round(time.monotonic() - started, 1)
        results[name] = figures
        for key, value in figures.items():
            print(f"   {key}: {value}")
        (out_dir / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
