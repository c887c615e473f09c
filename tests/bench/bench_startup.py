"""Start-up time of ``skyline-sidecar --help`` and ``parse`` against bare ``python -c pass``.

Each command is started BENCH_STARTUP_RUNS times (default 20), alternating with the baseline,
and the medians are compared (target: within 8x of bare Python; click alone costs about 4x).
The installed console script is what an operator runs; ``python -m sidecar`` stands in for it
here (the same imports).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "skyline-logs" / "mirage.log"
COMMANDS = {
    "pass": ["-c", "pass"],
    "help": ["-m", "sidecar", "--help"],
    "parse": ["-m", "sidecar", "parse", str(LOG)],
    "click": ["-c", "import click"],
}


def _once(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run() -> dict[str, float]:
    runs = int(os.environ.get("BENCH_STARTUP_RUNS", "20"))
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, args in COMMANDS.items():
            times[name].append(_once(args))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["pass"]
    return {
        "python_pass_ms": round(base * 1000, 1),
        "help_ms": round(median["help"] * 1000, 1),
        "parse_ms": round(median["parse"] * 1000, 1),
        "help_ratio": round(median["help"] / base, 2),
        "parse_ratio": round(median["parse"] / base, 2),
        "import_click_ratio": round(median["click"] / base, 2),
        "runs": runs,
    }
