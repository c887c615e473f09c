"""`skyline-sidecar status` and `check`, run as a user runs them, against a fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sidecar.model import FileState
from sidecar.state.store import Store
from tests.support.slack_pipeline import alert, deliverer_for, drain, make_config
from tests.support.store_queries import save_file


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "SLACK_BOT_TOKEN"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "sidecar", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def write_config(tmp_path: Path, base_url: str, **slack: str) -> Path:
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    lines = ["[skyline]", f'log_dir = "{log_dir}"', "[slack]", f'base_url = "{base_url}"']
    lines += [f'{k} = "{v}"' for k, v in slack.items()]
    lines += ["[state]", f'path = "{tmp_path / "state.sqlite"}"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_status_reports_lag_outbox_threads_and_last_error(tmp_path, fake_slack):
    config = make_config(tmp_path, fake_slack.base_url)
    cfg_file = write_config(tmp_path, fake_slack.base_url, default_channel="#skyline")
    log = tmp_path / "logs" / "mirage.log"
    log.write_bytes(b"x" * 1000)
    st = log.stat()
    store = Store.open(config.state.path)
    save_file(
        store,
        FileState(
            key="k",
            path=str(log),
            app="mirage",
            dev=st.st_dev,
            inode=st.st_ino,
            head_hash="h",
            head_len=10,
            offset=400,
        ),
    )
    store.ingest([alert(), alert(ts=1), alert(ts=2, namespace="nowhere")], None)
    drain(store, config, deliverer_for(store, config))
    store.ingest([alert(ts=3)], None)
    store.record_error("slack", "something broke")
    store.close()

    out = cli("status", "--config", str(cfg_file), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["files"][0]["lag_bytes"] == 600 and data["files"][0]["offset"] == 400
    assert data["threads"] == 3 and data["events"] == 4 and data["events_waiting"] == 1
    assert data["last_error"]["message"] == "something broke"
    text = cli("status", "--config", str(cfg_file))
    assert "lag 600 B" in text.stdout and "threads: 3" in text.stdout


def test_status_shows_the_pace_per_channel_and_the_429s(tmp_path, fake_slack):
    config = make_config(tmp_path, fake_slack.base_url)
    cfg_file = write_config(tmp_path, fake_slack.base_url, default_channel="#skyline")
    store = Store.open(config.state.path)
    out = cli("status", "--config", str(cfg_file))
    assert "pace: no Slack calls yet" in out.stdout
    fake_slack.inject("chat.postMessage", "ratelimited", times=2, retry_after=1)
    store.ingest([alert(), alert(ts=1)], None)
    deliverer = deliverer_for(store, config, rate=1.0, burst=2)
    drain(store, config, deliverer)
    # What the daemon saves every few seconds (Daemon.save_pacing).
    store.save_pacing({k: p.as_dict() for k, p in deliverer.pacing().items()})
    store.close()

    data = json.loads(cli("status", "--config", str(cfg_file), "--format", "json").stdout)
    pace = data["pacing"]["keys"]["chat:#skyline"]
    assert pace["ratelimited"] == 2 and pace["ceiling"] == 1.0
    assert 0 < pace["rate"] < 1.0
    text = cli("status", "--config", str(cfg_file)).stdout
    assert f"pace chat:#skyline: {pace['rate']:g}/s of 1/s, 2 x 429" in text


def test_status_without_a_database_says_so(tmp_path):
    cfg_file = write_config(tmp_path, "http://127.0.0.1:9/api/")
    out = cli("status", "--config", str(cfg_file))
    assert out.returncode != 0 and "no state database" in out.stderr


def test_check_passes_with_a_working_token_and_member_channels(tmp_path, fake_slack):
    cid = fake_slack.channel_id("#skyline")
    cfg_file = write_config(
        tmp_path, fake_slack.base_url, default_channel="#skyline", default_channel_id=cid
    )
    (tmp_path / "logs" / "mirage.log").write_text("")
    out = cli("check", "--config", str(cfg_file), env={"SLACK_BOT_TOKEN": fake_slack.token})
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"#skyline ({cid}): bot is a member" in out.stdout
    assert fake_slack.token not in out.stdout + out.stderr


def test_check_fails_on_revoked_token_missing_logs_and_outside_channel(tmp_path, fake_slack):
    cid = fake_slack.add_channel("#outside", member=False)
    cfg_file = write_config(
        tmp_path, fake_slack.base_url, default_channel="#outside", default_channel_id=cid
    )
    out = cli("check", "--config", str(cfg_file), env={"SLACK_BOT_TOKEN": fake_slack.token})
    assert out.returncode == 1
    assert "the bot is not in the channel" in out.stdout
    fake_slack.revoke(fake_slack.token)
    out = cli("check", "--config", str(cfg_file), env={"SLACK_BOT_TOKEN": fake_slack.token})
    assert out.returncode == 1 and "token_revoked" in out.stdout
    (tmp_path / "logs").rmdir()
    out = cli("check", "--config", str(cfg_file), "--offline")
    assert out.returncode == 1 and "does not exist" in out.stdout


def test_check_covers_boundary_slack_opts_channels(tmp_path, fake_slack):
    cid = fake_slack.channel_id("#skyline")
    edge = fake_slack.add_channel("#edge", member=False)
    cfg_file = write_config(
        tmp_path, fake_slack.base_url, default_channel="#skyline", default_channel_id=cid
    )
    cfg_file.write_text(
        cfg_file.read_text().replace(
            "[state]\n", f'[slack.boundary_channels]\n"stats" = "{edge}"\n[state]\n'
        )
    )
    out = cli("check", "--config", str(cfg_file), env={"SLACK_BOT_TOKEN": fake_slack.token})
    assert out.returncode == 1
    assert (
        f"{edge} ({edge}, from BOUNDARY_SLACK_OPTS['channels']['stats']): the bot is not in"
        " the channel"
    ) in out.stdout


def test_broken_config_is_one_clear_error(tmp_path):
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text("[slack]\ndefault_channel = [\n")
    out = cli("check", "--config", str(cfg_file))
    assert out.returncode != 0
    assert str(cfg_file) in out.stderr and "Traceback" not in out.stderr


def test_run_without_a_token_explains_where_to_put_one(tmp_path):
    cfg_file = write_config(tmp_path, "http://127.0.0.1:9/api/", default_channel="#skyline")
    out = cli("run", "--config", str(cfg_file))
    assert out.returncode != 0 and "SLACK_BOT_TOKEN" in out.stderr and "--dry-run" in out.stderr


def test_check_fails_when_skylines_own_slack_is_on(tmp_path):
    settings = tmp_path / "settings.py"
    settings.write_text("SLACK_ENABLED = True\nLOG_PATH = '%s'\n" % (tmp_path / "logs"))
    cfg_file = write_config(tmp_path, "http://127.0.0.1:9/api/")
    cfg_file.write_text(
        cfg_file.read_text().replace("[skyline]\n", f'[skyline]\nsettings_py = "{settings}"\n')
    )
    out = cli("check", "--config", str(cfg_file), "--offline")
    assert out.returncode == 1 and "SLACK_ENABLED is True" in out.stdout
    settings.write_text(settings.read_text().replace("True", "False"))
    out = cli("check", "--config", str(cfg_file), "--offline")
    assert "Skyline's own Slack is off" in out.stdout


def test_check_names_the_file_scopes_graph_alerts_need(tmp_path, fake_slack):
    cid = fake_slack.channel_id("#skyline")
    cfg_file = write_config(
        tmp_path, fake_slack.base_url, default_channel="#skyline", default_channel_id=cid
    )
    cfg_file.write_text(
        cfg_file.read_text().replace(
            "[skyline]\n", f'[skyline]\nionosphere_data_folder = "{tmp_path}"\n'
        )
    )
    token = {"SLACK_BOT_TOKEN": fake_slack.token}
    out = cli("check", "--config", str(cfg_file), env=token)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "files:write: alert graphs can be uploaded" in out.stdout
    assert f"graphs from {tmp_path}" in out.stdout
    fake_slack.set_scopes(
        {"chat:write", "reactions:write", "channels:history", "channels:read", "files:write"}
    )
    out = cli("check", "--config", str(cfg_file), env=token)
    assert out.returncode == 0 and "lacks files:read" in out.stdout
    fake_slack.set_scopes({"chat:write", "reactions:write", "channels:history", "channels:read"})
    out = cli("check", "--config", str(cfg_file), env=token)
    assert out.returncode == 1 and "lacks files:write" in out.stdout
