"""Safe to leave running unattended: each bad input through the real command line, one clear
line, a non-zero exit where the command fails, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.support import skyline_lines as lines
from tests.support.fakeslack import FakeSlack

REPO = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 26, 13, 0, 0)
TOKEN = "xoxb-test"


def cli(
    *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SLACK_BOT_TOKEN", "SKYLINE_SIDECAR_CONFIG", "CREDENTIALS_DIRECTORY")
    }
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        capture_output=True,
        text=True,
        env=base | {"PYTHONPATH": str(REPO)} | (env or {}),
        timeout=120,
        **kw,
    )  # type: ignore[call-overload]


def one_clear_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    [line] = out.stderr.strip().splitlines()
    return line


def alert_line(metric: str, ts: int, namespace: str = "stats") -> str:
    data = lines.mirage_metric("v5", 87.5, metric, ts)
    return lines.line(
        AT, 4242, lines.slack_disabled(lines.alert_tuple(namespace, "slack", 3600, 168), data)
    )


def setup(tmp: Path, base_url: str, slack_opts: str) -> Path:
    """A Skyline settings.py (ALERTS, SLACK_OPTS) and a config naming it; mirage.log has one
    alert in the 'stats' namespace."""
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "mirage.log").write_text(alert_line("stats.web01.cpu.user", 1795698600))
    (tmp / "settings.py").write_text(
        f"LOG_PATH = {str(logs)!r}\nSLACK_ENABLED = False\n"
        "ALERTS = (('stats', 'slack', 3600, 168),)\n"
        f"SLACK_OPTS = {slack_opts}\n"
    )
    config = tmp / "config.toml"
    config.write_text(
        f'[skyline]\nsettings_py = "{tmp / "settings.py"}"\napps = ["mirage"]\n'
        f'[slack]\nbase_url = "{base_url}"\n'
        f'[state]\npath = "{tmp / "state" / "state.sqlite"}"\n'
    )
    return config


def run(config: Path, *extra: str, seconds: float = 3) -> subprocess.CompletedProcess[str]:
    return cli(
        "run",
        "--config",
        str(config),
        "--from-start",
        "--exit-after",
        str(seconds),
        *extra,
        env={"SLACK_BOT_TOKEN": TOKEN},
    )


def status(config: Path) -> dict:
    out = cli("status", "--config", str(config), "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# -- no silent drops ------------------------------------------------------------------------


def test_an_alert_that_routes_nowhere_is_an_error_and_is_kept(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Skyline's placeholder default channel and no channel for 'stats': check fails naming
    the namespace and the key; run reports it in status and keeps the alert; once the
    configuration is fixed, the next start posts it, once."""
    settings_opts = "{'default_channel': 'YOUR_default_slack_channel', 'channels': {}}"
    config = setup(tmp_path, fake_slack.base_url, settings_opts)
    out = cli("check", "--offline", "--config", str(config))
    assert out.returncode == 1
    assert "ALERTS namespace 'stats'" in out.stdout
    assert "SLACK_OPTS['channels']['stats']" in out.stdout

    assert run(config).returncode == 0
    data = status(config)
    [problem] = data["problems"]
    assert "routes to no channel" in problem["message"] and problem["since"]
    assert data["events_waiting"] == 1 and fake_slack.messages("#skyline") == []
    text = cli("status", "--config", str(config)).stdout
    assert "routes to no channel" in text and "last error: none" not in text

    settings = tmp_path / "settings.py"
    settings.write_text(settings.read_text().replace("YOUR_default_slack_channel", "#skyline"))
    assert run(config).returncode == 0
    assert len(fake_slack.messages("#skyline")) == 1
    assert status(config)["problems"] == []
    assert run(config, seconds=1).returncode == 0
    assert len(fake_slack.messages("#skyline")) == 1  # exactly once


def test_check_names_a_channel_that_does_not_exist_and_its_key(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    opts = "{'default_channel': '#skyline', 'channels': {'stats': ['#no-such-channel']}}"
    config = setup(tmp_path, fake_slack.base_url, opts)
    out = cli("check", "--config", str(config), env={"SLACK_BOT_TOKEN": TOKEN})
    assert out.returncode == 1, out.stdout
    [fail] = [x for x in out.stdout.splitlines() if x.startswith("FAIL")]
    assert "#no-such-channel" in fail and "SLACK_OPTS['channels']['stats']" in fail
    fake_slack.add_channel("no-such-channel", private=True, channel_id="G0PRIVATE")
    out = cli("check", "--config", str(config), env={"SLACK_BOT_TOKEN": TOKEN})
    assert out.returncode == 0, out.stdout
    assert "#no-such-channel (G0PRIVATE): bot is a member" in out.stdout


# -- status ---------------------------------------------------------------------------------


def test_status_tells_slack_unreachable_missing_logs_and_clears_when_over(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = setup(tmp_path, fake_slack.base_url, "{'default_channel': '#skyline'}")
    config.write_text(
        config.read_text().replace('apps = ["mirage"]', 'apps = ["mirage", "analyzer"]')
    )
    fake_slack.down()
    assert run(config).returncode == 0
    data = status(config)
    [problem] = data["problems"]
    assert problem["scope"] == "slack" and "unreachable" in problem["message"]
    assert data["retrying"] is True and data["outbox_pending"] + data["events_waiting"] >= 1
    assert any("analyzer.log: missing" in p for p in data["log_problems"])
    text = cli("status", "--config", str(config)).stdout
    assert "delivery: retrying" in text and "analyzer.log: missing" in text
    fake_slack.up()
    assert run(config).returncode == 0
    data = status(config)
    assert data["problems"] == [] and data["last_error"] is None
    assert len(fake_slack.messages("#skyline")) == 1


def test_status_shows_a_gzip_that_failed_part_way(tmp_path: Path) -> None:
    config = setup(tmp_path, "http://127.0.0.1:9/api/", "{'default_channel': '#skyline'}")
    rotated = tmp_path / "logs" / "mirage.log.2026-11-25"
    rotated.write_text("".join(alert_line(f"stats.m{i}", 1795600000 + i) for i in range(30000)))
    subprocess.run(["gzip", "-n", str(rotated)], check=True)
    gz = rotated.with_name(rotated.name + ".gz")
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])  # cut short
    out = cli("backfill", "--config", str(config), str(gz))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    data = status(config)
    [f] = data["files"]
    assert f["incomplete"] and f["lag_bytes"] is None
    assert any(str(gz) in p["scope"] for p in data["problems"])
    assert "read failed part way" in cli("status", "--config", str(config)).stdout


# -- token hygiene --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["env", "file"])
def test_a_token_with_a_line_break_is_refused_without_echoing_it(
    tmp_path: Path, where: str
) -> None:
    config = setup(tmp_path, "http://127.0.0.1:9/api/", "{'default_channel': '#skyline'}")
    secret = "xoxb-1234-abcd\nSECRETTAIL"
    env = {}
    if where == "env":
        env["SLACK_BOT_TOKEN"] = secret
    else:
        (tmp_path / "token").write_text(secret + "\n")
        config.write_text(
            config.read_text().replace(
                "[slack]\n", f'[slack]\ntoken_file = "{tmp_path / "token"}"\n'
            )
        )
    for command in (["check"], ["run", "--exit-after", "1"], ["status"]):
        out = cli(*command, "--config", str(config), env=env)
        line = one_clear_line(out)
        assert "whitespace or control characters" in line
        assert "SECRETTAIL" not in out.stdout + out.stderr
        assert "1234-abcd" not in out.stdout + out.stderr


def test_a_readable_token_file_is_warned_about(tmp_path: Path) -> None:
    config = setup(tmp_path, "http://127.0.0.1:9/api/", "{'default_channel': '#skyline'}")
    token = tmp_path / "token"
    token.write_text("xoxb-1-2\n")
    token.chmod(0o644)
    config.write_text(config.read_text().replace("[slack]\n", f'[slack]\ntoken_file = "{token}"\n'))
    out = cli("check", "--offline", "--config", str(config))
    assert f"warn  token file {token} is readable by others" in out.stdout
    token.chmod(0o600)
    assert "token file" not in cli("check", "--offline", "--config", str(config)).stdout


def test_files_the_sidecar_creates_are_0600_whatever_the_umask(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = setup(tmp_path, fake_slack.base_url, "{'default_channel': '#skyline'}")
    old = os.umask(0)
    try:
        assert run(config, seconds=2).returncode == 0
    finally:
        os.umask(old)
    made = sorted((tmp_path / "state").iterdir())
    assert {p.name for p in made} >= {"state.sqlite", "state.sqlite.lock"}
    for p in made:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_no_token_reaches_the_state_database(tmp_path: Path) -> None:
    """A Slack error that quotes the request (its Authorization header) is stored redacted."""
    from sidecar.state.store import Store
    from tests.support.slack_pipeline import alert

    store = Store.open(tmp_path / "s.sqlite")
    store.ingest([alert()], None)
    store.record_error("slack", "headers {'Authorization': 'Bearer xoxb-999-secret'}")
    store.record_error("x", "Bearer otherkind-secret")
    store.close()
    dump = "\n".join(sqlite3.connect(tmp_path / "s.sqlite").iterdump())
    assert "xoxb-<redacted>" in dump and "secret" not in dump


# -- the state database ---------------------------------------------------------------------


def damage(db: Path) -> None:
    with open(db, "r+b") as f:
        f.seek(4096 * 3)
        f.write(b"\xde\xad" * 6000)


def test_a_damaged_state_database_is_one_line_everywhere(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = setup(tmp_path, fake_slack.base_url, "{'default_channel': '#skyline'}")
    log = tmp_path / "logs" / "mirage.log"
    log.write_text("".join(alert_line(f"stats.m{i}", 1795600000 + i) for i in range(300)))
    assert cli("backfill", "--config", str(config)).returncode == 0
    db = tmp_path / "state" / "state.sqlite"
    damage(db)
    out = cli("check", "--offline", "--config", str(config))
    assert out.returncode == 1 and f"FAIL  state database {db} is damaged" in out.stdout
    for command in (
        ["run", "--exit-after", "1"],
        ["status"],
        ["backfill"],
        ["run", "--dry-run", "--exit-after", "1"],
    ):
        line = one_clear_line(
            cli(*command, "--config", str(config), env={"SLACK_BOT_TOKEN": TOKEN})
        )
        assert str(db) in line and "damaged" in line and "backfill" in line, (command, line)


def test_a_state_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    config = setup(tmp_path, "http://127.0.0.1:9/api/", "{'default_channel': '#skyline'}")
    (tmp_path / "state").write_text("a file, not a directory")
    for command in (["run", "--exit-after", "1"], ["backfill"]):
        line = one_clear_line(
            cli(*command, "--config", str(config), env={"SLACK_BOT_TOKEN": TOKEN})
        )
        assert "is a file, not a directory" in line, line
    out = cli("check", "--offline", "--config", str(config))
    assert out.returncode == 1 and "is a file, not a directory" in out.stdout


# -- the dry run ------------------------------------------------------------------------------


def reachable_by_anyone(*paths: Path) -> bool:
    return all(p.stat().st_mode & 0o005 for path in paths for p in (path, *path.parents))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user can reach (the test may drop to 'nobody')."""
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        path = Path(base).resolve()
        if all(p.stat().st_mode & 0o001 for p in (path, *path.parents)):
            break
    else:
        pytest.skip("no temp directory every user can reach")
    d = Path(tempfile.mkdtemp(dir=path))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_dry_run_is_read_only_and_works_for_a_reader(
    shared_dir: Path, fake_slack: FakeSlack
) -> None:
    config = setup(shared_dir, fake_slack.base_url, "{'default_channel': '#skyline'}")
    assert run(config, seconds=2).returncode == 0  # a real run leaves a database behind
    state = shared_dir / "state"
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.iterdir()}
    assert "state.sqlite-wal" not in before  # closed cleanly
    (shared_dir / "logs" / "mirage.log").write_text(alert_line("stats.new", 1795699999))
    preexec = None
    for p in [shared_dir, *shared_dir.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    state.chmod(0o555)  # a reader: may read the state directory, not write it
    if os.geteuid() == 0 and reachable_by_anyone(Path(sys.executable).resolve(), REPO):
        # Root writes anywhere: read as a user who may only read.
        def preexec() -> None:
            os.setgid(65534)
            os.setuid(65534)

    out = cli(
        "run",
        "--config",
        str(config),
        "--dry-run",
        "--exit-after",
        "2",
        "--format",
        "json",
        preexec_fn=preexec,
    )
    state.chmod(0o755)
    assert out.returncode == 0, out.stderr
    assert "stats.new" in out.stdout
    after = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.iterdir()}
    assert after == before
