"""Parser throughput against `grep -c -E` of the parser's own prefilter, and its peak memory.

One generated Skyline log (tests/bench/genlogs.py: about one event per 2,000 lines amid run
lines, metrics_manager / Mirage check lines, not-anomalous lines, tracebacks, many pids) is read
by ``LC_ALL=C grep -c -E`` with the app's prefilter regex (parsers.SELECTORS, translated to
POSIX ERE: the same keywords, so grep does the same prefilter work; if the parser narrows its
prefilter once it knows the log's Skyline version, the narrowed one) and by ``LogParser`` fed in
1 MiB chunks. Both are timed BENCH_REPEAT times (default 3), alternating, best of each; the file
is in the page cache for both. Target: parser speed >= 0.33 x grep's. Peak RSS (VmHWM) is
measured in a child process that only parses, for a quarter of the file and for all of it
(target < 64 MiB, the two within 4 MiB: memory must not grow with the log). The parser's
event count must equal the number of events the generator wrote.

Sizes: BENCH_PARSE_MB (MiB, default 200), BENCH_PARSE_APP (default mirage; analyzer, webapp,
ionosphere), BENCH_REPEAT. BENCH_PROFILE=1 prints a cProfile of one parser pass (not timed).
"""

from __future__ import annotations

import atexit
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from parsers import SELECTORS, LogParser
from tests.bench.genlogs import MIB, GenStats, write_log

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 1 << 20
RATIO_TARGET = 0.33
RSS_TARGET_MIB = 64

_cache: dict[tuple[str, int], tuple[Path, GenStats]] = {}
_tmp: Path | None = None


def tmp_dir() -> Path:
    """One temporary directory per process, shared by the benches, removed at exit."""
    global _tmp
    if _tmp is None:
        _tmp = Path(tempfile.mkdtemp(prefix="sidecar-bench-"))
        atexit.register(shutil.rmtree, _tmp, True)
    return _tmp


def env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def log_file(app: str, size: int) -> tuple[Path, GenStats]:
    """The generated log of ``size`` bytes, made once per process."""
    key = (app, size)
    if key not in _cache:
        path = tmp_dir() / f"parse-{size}" / f"{app}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        _cache[key] = (path, write_log(path, app, size))
    return _cache[key]


def prefilter(app: str, path: Path | None = None) -> re.Pattern[bytes]:
    """The app's prefilter regex (parsers.SELECTORS); with ``path``, the one the parser settles
    on for that log after reading its first MiBs (it may narrow it once it knows the Skyline
    version, e.g. for a webapp.log of v3+)."""
    selector = SELECTORS[app]
    if path is not None:
        _, _, parser = parse_file(app, path, limit=4 * MIB)
        framer = getattr(parser, "_framer", None)  # the Framer's public ``select``, if any
        selector = getattr(framer, "select", None) or selector
    return selector


def ere(app: str, path: Path | None = None) -> str:
    """``prefilter(app, path)`` as a POSIX ERE for ``LC_ALL=C grep -E``: the same keywords and
    structure, so grep does the prefilter's work; see ``to_ere``."""
    pattern = prefilter(app, path).pattern
    return to_ere(pattern.decode() if isinstance(pattern, bytes) else pattern)


# Escapes outside brackets: Python's -> ERE (GNU grep has \w \W \S; \s may also match the
# newline in Python, which grep never sees: there it is the end of the line).
_ESCAPES = {"d": "[0-9]", "D": "[^0-9]", "w": "\\w", "W": "\\W", "S": "\\S",
            "s": "([[:space:]]|$)", "n": "$", "r": "\r", "t": "\t"}
# Escapes inside brackets: (members, can match a newline)
_CLASS_ESCAPES = {"d": ("0-9", False), "w": ("[:alnum:]_", False), "s": ("[:space:]", True),
                  "n": ("", True), "r": ("\r", False), "t": ("\t", False)}


def to_ere(regex: str) -> str:
    """Translate a Python regex to a GNU grep ERE that selects the same lines.

    grep sees one line at a time without its newline, while the framer searches whole chunks:
    whatever may match the newline that ends a line (``\\n``, ``\\s``, a class holding either)
    also matches the end of the line here, and a negated class drops the newline. ``(?:`` and
    ``(?P<name>`` become plain groups, lazy quantifiers greedy (same lines either way); any
    other ``(?`` construct is refused."""
    out: list[str] = []
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            e = regex[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
            elif e.isalnum():  # \b \A \Z \1 ...: no ERE of the same meaning
                _refuse(regex, i)
            else:
                out.append("\\" + e)
            i += 2
        elif c == "[":
            text, i = _bracket(regex, i)
            out.append(text)
        elif c == "(" and regex.startswith("(?", i):
            if regex.startswith("(?:", i):
                i += 3
            elif regex.startswith("(?P<", i):
                i = regex.index(">", i) + 1
            else:
                _refuse(regex, i)
            out.append("(")
        elif c == "?" and i and regex[i - 1] in "*+?}" and (i < 2 or regex[i - 2] != "\\"):
            i += 1  # lazy quantifier
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _refuse(regex: str, at: int) -> NoReturn:
    raise ValueError(f"no ERE for {regex[at:at + 12]!r} in the prefilter {regex!r}")


def _bracket(regex: str, i: int) -> tuple[str, int]:
    """``[...]`` at ``i`` -> (ERE text, index after it)."""
    j = i + 1
    negated = regex.startswith("^", j)
    j += negated
    literals: list[str] = []
    members: list[str] = []
    newline = False
    first = True
    while first or regex[j] != "]":
        first = False
        c = regex[j]
        if c == "\\":
            e = regex[j + 1]
            if e in _CLASS_ESCAPES:
                member, nl = _CLASS_ESCAPES[e]
                newline |= nl
                if member:
                    (literals if len(member) == 1 else members).append(member)
            elif e.isalnum():
                _refuse(regex, j)
            else:
                literals.append(e)
            j += 2
        elif regex.startswith("-", j + 1) and regex[j + 2] != "]":
            members.append(regex[j:j + 3])  # a range a-z
            j += 3
        else:
            literals.append(c)
            j += 1
    # POSIX bracket order: ']' first, '^' not first, '-' last.
    body = ("]" if "]" in literals else "") + "".join(
        x for x in literals if x not in "]^-") + "".join(members)
    body += ("^" if "^" in literals else "") + ("-" if "-" in literals else "")
    if negated:
        return f"[^{body}]", j + 1  # grep never sees the newline a Python class excludes
    if not body:
        return "$", j + 1
    return (f"([{body}]|$)" if newline else f"[{body}]"), j + 1


def grep_count(pattern: str, path: Path) -> tuple[float, int]:
    env = {**os.environ, "LC_ALL": "C"}
    start = time.perf_counter()
    out = subprocess.run(["grep", "-c", "-E", pattern, str(path)], env=env, check=False,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1) or out.stderr:
        raise RuntimeError(f"grep failed ({out.returncode}): {out.stderr.strip()}")
    return elapsed, int(out.stdout)


def parse_file(app: str, path: Path, limit: int | None = None) -> tuple[float, int, LogParser]:
    """Feed the file (up to ``limit`` bytes) in 1 MiB chunks: (seconds, events, the parser)."""
    start = time.perf_counter()
    parser = LogParser(app, str(path))
    events = 0
    left = limit if limit is not None else -1
    with open(path, "rb") as f:
        while left:
            chunk = f.read(CHUNK if left < 0 else min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk) if left > 0 else 0
            events += len(parser.feed(chunk))
    events += len(parser.finish())
    return time.perf_counter() - start, events, parser


# The child only imports the parser and parses: its peak RSS is the parser's footprint. VmHWM,
# not ru_maxrss: Linux carries the parent's RSS high-water mark over fork+exec into ru_maxrss.
_CHILD = """
import json, sys
from parsers import LogParser
def hwm():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
app, path, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = hwm()
parser = LogParser(app, path)
events = 0
with open(path, "rb") as f:
    while limit > 0:
        chunk = f.read(min(1 << 20, limit))
        if not chunk:
            break
        limit -= len(chunk)
        events += len(parser.feed(chunk))
events += len(parser.finish())
peak = hwm()
print(json.dumps({"base_kib": base, "peak_kib": peak, "events": events,
                  "bytes": parser.stats.bytes, "tracked_pids": parser.tracked_pids}))
"""


def peak_rss(app: str, path: Path, limit: int) -> dict[str, int]:
    """Peak RSS (KiB) of a fresh interpreter that imports the parser and parses ``limit``
    bytes of ``path``: after the imports (base) and at the end (peak)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, app, str(path), str(limit)],
                         check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"the parsing child failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def profile(app: str, path: Path) -> str:
    prof = cProfile.Profile()
    prof.runcall(parse_file, app, path)
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
    return text.getvalue()


def run() -> dict[str, object]:
    app = os.environ.get("BENCH_PARSE_APP") or "mirage"
    size = int(env_number("BENCH_PARSE_MB", 200) * MIB)
    repeat = max(1, int(env_number("BENCH_REPEAT", 3)))
    load = os.getloadavg()[0]
    path, written = log_file(app, size)
    mib = written.bytes / MIB
    source = hashlib.sha256(b"".join(
        f.read_bytes() for f in sorted((ROOT / "parsers").glob("*.py")))).hexdigest()[:12]
    pattern = ere(app, path)

    grep_times, parse_times = [], []
    selected = events = records = 0
    for _ in range(repeat):  # alternate, so machine noise hits both sides alike
        seconds, selected = grep_count(pattern, path)
        grep_times.append(seconds)
        seconds, events, parser = parse_file(app, path)
        parse_times.append(seconds)
        records = parser.stats.records
    grep_s, parse_s = min(grep_times), min(parse_times)

    small_limit = written.bytes // 4
    small = peak_rss(app, path, small_limit)
    full = peak_rss(app, path, written.bytes)
    growth = (full["peak_kib"] - small["peak_kib"]) / 1024

    if os.environ.get("BENCH_PROFILE"):
        print(profile(app, path), flush=True)

    ratio = (mib / parse_s) / (mib / grep_s)
    return {
        "app": app,
        "parsers_sha256": source,  # which parser code was measured (it changes often)
        "load_1min": round(load, 2),
        "file_mb": round(mib, 1),
        "lines": written.lines,
        "grep_pattern": f"LC_ALL=C grep -c -E '{pattern}' {app}.log",
        "prefilter_selected_lines": selected,
        "prefilter_selected_share": round(selected / max(written.lines, 1), 4),
        # the parser's own prefilter picked the same lines as grep: same prefilter work (up to
        # what it selects in its first MiB, before it may narrow its prefilter)
        "parser_selected_records": records,
        "prefilter_agrees": abs(records - selected) <= max(50, selected // 100),
        "grep_seconds": round(grep_s, 3),
        "grep_mb_s": round(mib / grep_s, 1),
        "grep_lines_s": round(written.lines / grep_s),
        "parser_seconds": round(parse_s, 3),
        "parser_mb_s": round(mib / parse_s, 1),
        "parser_lines_s": round(written.lines / parse_s),
        "ratio_parser_to_grep": round(ratio, 3),
        "ratio_target": RATIO_TARGET,
        "ratio_ok": ratio >= RATIO_TARGET,
        "events_written": written.events,
        "events_parsed": events,
        "events_match": events == written.events,
        "rss_after_import_mib": _mib(full["base_kib"]),
        "rss_peak_mib_quarter": _mib(small["peak_kib"]),
        "rss_quarter_file_mb": round(small_limit / MIB, 1),
        "rss_peak_mib_full": _mib(full["peak_kib"]),
        "rss_growth_mib": round(growth, 1),
        "rss_ok": full["peak_kib"] / 1024 < RSS_TARGET_MIB and abs(growth) < 4,
        "repeat": repeat,
        "grep_runs_s": [round(t, 3) for t in grep_times],
        "parser_runs_s": [round(t, 3) for t in parse_times],
    }
