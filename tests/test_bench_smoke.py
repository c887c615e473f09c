"""The benchmarks (tests/bench) on tiny sizes: they run and their figures are sane.

No timing assertions (shared, noisy machines): only that every figure is there, ratios are
positive and the event counts agree with what the log generator wrote.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest


def bench(name: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for key, value in {"BENCH_REPEAT": "1", **env}.items():
        monkeypatch.setenv(key, value)
    return importlib.import_module(f"tests.bench.{name}")


def has(figures: dict[str, object], keys: str) -> None:
    missing = set(keys.split()) - set(figures)
    assert not missing, f"missing figures: {sorted(missing)}"


@pytest.mark.parametrize("app", ["analyzer", "mirage", "webapp", "ionosphere"])
def test_generated_logs_hold_the_events_the_generator_counted(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    genlogs = bench("genlogs", monkeypatch)
    parse = bench("bench_parse", monkeypatch)
    from parsers import SELECTORS, LogParser
    from parsers.framing import Framer

    path = tmp_path / f"{app}.log"
    written = genlogs.write_log(path, app, 1 << 20, event_every=500)
    parser = LogParser(app, str(path))
    data = path.read_bytes()
    events = parser.feed(data) + parser.finish()
    assert written.events > 0
    assert len(events) == written.events
    assert parser.stats.lines == written.lines == data.count(b"\n")
    assert sorted({e.kind for e in events}) == sorted(written.kinds)
    # grep's ERE selects exactly the lines the parser's prefilter selects: the one it starts
    # with and the one it settles on for this log (they differ where it narrows it)
    for pattern in {SELECTORS[app], parse.prefilter(app, path)}:
        framer = Framer(select=pattern)
        framer.feed(data)
        framer.finish()
        ere = parse.to_ere(pattern.pattern.decode())
        assert parse.grep_count(ere, path)[1] == framer.stats.records > 0


def test_prefilter_to_ere(monkeypatch: pytest.MonkeyPatch) -> None:
    to_ere = bench("bench_parse", monkeypatch).to_ere
    assert to_ere(r" :: (?:a\d+|b(?:c|d)??) \S*/x(?:\?|\s)") == (
        r" :: (a[0-9]+|b(c|d)?) \S*/x(\?|([[:space:]]|$))"
    )
    assert to_ere(r"[^:\n]+ [? \n][\]\-^x]") == r"[^:]+ ([? ]|$)[]x^-]"
    with pytest.raises(ValueError):
        to_ere(r"(?=lookahead)")
    with pytest.raises(ValueError):
        to_ere(r"\bword")


def test_bench_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench("bench_parse", monkeypatch, BENCH_PARSE_MB="2", BENCH_STORM_MB="1").run()
    has(
        figures,
        "app grep_pattern ordinary_parse_time_to_grep storm_parse_mb_s "
        "storm_backfill_share rss_ok events_match",
    )
    for name in ("ordinary", "storm"):
        keys = (
            "file_mb lines grep_mb_s parse_mb_s ratio_parse_time_to_grep startup_seconds "
            "startup_share parser_mb_s backfill_mb_s events_written events_parsed "
            "parse_events events_stored rss_parse_command_mib rss_backfill_mib "
            "rss_parser_full_mib rss_after_import_mib"
        )
        has(figures, " ".join(f"{name}_{key}" for key in keys.split(" ")))
        column = {k[len(name) + 1 :]: v for k, v in figures.items() if k.startswith(name + "_")}
        assert column["grep_mb_s"] > 0 and column["parse_mb_s"] > 0 < column["backfill_mb_s"]
        assert column["startup_share"] > 0 and column["parse_cpu_s"] > 0
        assert (
            column["events_written"]
            == column["events_parsed"]
            == column["parse_events"]
            == column["events_stored"]
            > 0
        )
        assert 0 < column["rss_after_import_mib"] <= column["rss_parser_full_mib"] < 1024
    # the storm holds an event every few dozen lines, the ordinary log one every ~2,000
    assert figures["storm_lines_per_event"] * 10 < figures["ordinary_lines_per_event"]
    assert "grep -c -E ' :: (" in figures["grep_pattern"]


def test_bench_backfill(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench("bench_backfill", monkeypatch, BENCH_BACKFILL_MB="8").run()
    has(
        figures,
        "files gzip_files data_mb cat_mb_s backfill_mb_s ratio_backfill_to_cat "
        "events_written events_stored",
    )
    assert figures["files"] == 24 and figures["gzip_files"] == 2
    assert figures["ratio_backfill_to_cat"] > 0
    assert figures["events_stored"] == figures["events_written"] > 0
    assert figures["files_failed"] == 0


def test_bench_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench(
        "bench_daemon",
        monkeypatch,
        BENCH_IDLE_SECONDS="1",
        BENCH_LATENCY_N="5",
        BENCH_SETTLE_SECONDS="0.5",
    ).run()
    has(
        figures,
        "idle_cpu_percent latency_p50_ms latency_p95_ms latency_p99_ms "
        "latency_max_ms latency_stored",
    )
    assert figures["idle_cpu_percent"] >= 0
    assert figures["latency_stored"] == 5 and figures["latency_missed"] == 0
    assert 0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"] <= figures["latency_max_ms"]
    assert figures["daemon_exit"] == 0


def test_bench_storm(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench(
        "bench_storm", monkeypatch, BENCH_STORM_CHANNELS="2", BENCH_STORM_PER_CHANNEL="3"
    ).run()
    for variant in ("burst2", "strict"):
        keys = (
            "seconds",
            "ratio_to_floor",
            "http_429",
            "http_429_seen_by_daemon",
            "pace_per_channel",
            "ok",
        )
        has(figures, " ".join(f"{variant}_{k}" for k in keys))
        assert figures[f"{variant}_posted"] == 6
        assert figures[f"{variant}_lost"] == figures[f"{variant}_duplicated"] == 0
        assert figures[f"{variant}_ratio_to_floor"] > 0
        # The daemon counted every 429 Slack answered, and status showed it.
        assert figures[f"{variant}_http_429_seen_by_daemon"] == figures[f"{variant}_http_429"]
        assert sorted(figures[f"{variant}_pace_per_channel"]) == ["chat:#storm0", "chat:#storm1"]
        assert figures[f"{variant}_daemon_exit"] == 0
    # Slack grants no burst in the strict variant: each channel's burst of 2 met one 429.
    assert figures["strict_http_429"] >= 2


def test_bench_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench("bench_metrics", monkeypatch, BENCH_ACTIONS="200").run()
    has(figures, "actions interval_ms counts_ms ratio_to_counts")
    assert figures["actions"] == 200
    assert figures["interval_ms"] > 0 and figures["counts_ms"] > 0


def test_startup_bench_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = bench("bench_startup", monkeypatch, BENCH_STARTUP_RUNS="2").run()
    has(figures, "python_pass_ms help_ms parse_ms help_ratio parse_ratio import_click_ratio")
    assert figures["help_ratio"] > 0 and figures["parse_ratio"] > 0
