"""``skyline-sidecar parse`` and sidecar/logfiles.open_log."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from sidecar.cli import main
from sidecar.tail.logfiles import open_log
from tests.support import skyline_lines as L

T = datetime(2026, 11, 26, 13, 15, 16)
M = "stats.web01.cpu.user"
ALERT_LINE = L.line(
    T,
    23456,
    L.mirage_trigger_alert(
        L.alert_list("stats", "slack", 3600, 168),
        L.mirage_metric("v5", 87.5, M, 1795698600),
        604800,
    ),
)
VIEW = L.line(
    T, 9, L.request_url(f"https://s/ionosphere?timestamp=1795698600&metric={M}")
) + L.line(T, 9, L.training_data_viewed(False))


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["parse", *args])


def test_text_output_is_one_readable_line_per_event(tmp_path: Path) -> None:
    log = tmp_path / "mirage.log"
    log.write_text(ALERT_LINE)
    result = invoke(str(log))
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    assert line.startswith("2026-11-26 13:15:16 mirage anomaly_alert pid=23456 metric=" + M)
    assert " anomaly_timestamp=1795698600 alerter=slack value=87.5 " in line
    assert line.endswith(f"context=Mirage test_alert=False waterfall=False at={log}:1")


def test_json_output_is_event_to_dict(tmp_path: Path) -> None:
    (tmp_path / "webapp.log.2026-11-25").write_text(VIEW)
    result = invoke("--format", "json", str(tmp_path / "webapp.log.2026-11-25"))
    [data] = [json.loads(x) for x in result.stdout.splitlines()]
    assert data["kind"] == "training_data_viewed" and data["metric"] == M
    assert data["source"] == {"path": str(tmp_path / "webapp.log.2026-11-25"), "line": 2}
    assert set(data) >= {"kind", "app", "logged_at", "pid", "anomaly_timestamp", "event_id"}


def test_gzip_is_read_by_its_magic_bytes_whatever_the_name(tmp_path: Path) -> None:
    named = tmp_path / "mirage.log.2026-11-25.gz"
    hidden = tmp_path / "mirage.log.2026-11-24"  # compressed, no .gz suffix
    for path in (named, hidden):
        path.write_bytes(gzip.compress(ALERT_LINE.encode()))
    plain = tmp_path / "mirage.log.x.gz"  # a .gz name on plain text
    plain.write_text(ALERT_LINE)
    result = invoke("--format", "json", str(named), str(hidden), str(plain))
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3


def test_unreadable_files_are_reported_and_the_others_parsed(tmp_path: Path) -> None:
    good = tmp_path / "mirage.log"
    good.write_text(ALERT_LINE)
    broken = tmp_path / "analyzer.log.1.gz"
    broken.write_bytes(gzip.compress(ALERT_LINE.encode() * 50)[:60])
    result = invoke(str(tmp_path / "analyzer.log"), str(broken), str(good), str(tmp_path))
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    errors = result.stderr.splitlines()
    assert (
        errors[0] == f"skyline-sidecar: cannot read {tmp_path / 'analyzer.log'}: "
        "No such file or directory"
    )
    assert errors[1].startswith(f"skyline-sidecar: cannot read {broken}: ")
    assert len(errors) == 3


def test_unknown_app_needs_app_option(tmp_path: Path) -> None:
    odd = tmp_path / "copy.txt"
    odd.write_text(VIEW)
    result = invoke(str(odd))
    assert result.exit_code == 1
    assert "cannot tell which Skyline app wrote" in result.stderr and "--app" in result.stderr
    ok = invoke("--app", "webapp", "--stats", str(odd))
    assert ok.exit_code == 0 and "training_data_viewed" in ok.stdout
    assert "events=1" in ok.stderr


def test_help_explains_with_an_example() -> None:
    result = CliRunner().invoke(main, ["parse", "--help"])
    assert result.exit_code == 0
    assert "skyline-sidecar parse --format json tests/corpus/v5/*.log" in result.output


def test_open_log_propagates_os_errors(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        open_log(str(tmp_path / "missing.log"))
    with pytest.raises(OSError):
        open_log(str(tmp_path))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with open_log(str(empty)) as f:
        assert f.read() == b""
