"""The production install, as the README gives it: build the wheel from a clean copy of the
checkout, install it into a fresh venv outside the checkout, and run the installed console
script. The rest of the suite imports the editable checkout, so only this test sees a module or
data file missing from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
PACKAGES = ("sidecar", "parsers")

pytestmark = pytest.mark.slow


def _clean_env(home: Path) -> dict[str, str]:
    """Nothing of the checkout leaks in: no PYTHONPATH, no config or token from the caller."""
    drop = {
        "PYTHONPATH",
        "SKYLINE_SIDECAR_CONFIG",
        "SKYLINE_SETTINGS_PY",
        "SLACK_BOT_TOKEN",
        "CREDENTIALS_DIRECTORY",
        "VIRTUAL_ENV",
    }
    return {k: v for k, v in os.environ.items() if k not in drop} | {"HOME": str(home)}


@pytest.fixture(scope="module")
def installed() -> Iterator[tuple[Path, Path, str]]:
    """(the installed skyline-sidecar, a scratch directory outside the checkout, build output)."""
    scratch = Path(tempfile.mkdtemp(prefix="sidecar-install-"))
    assert REPO not in scratch.parents
    try:
        src = scratch / "src"
        shutil.copytree(
            REPO,
            src,
            ignore=shutil.ignore_patterns(
                ".git",
                ".venv",
                "build",
                "*.egg-info",
                "__pycache__",
                ".pytest_cache",
                ".hypothesis",
                ".ruff_cache",
                ".mypy_cache",
                "bench-results",
                "*.sqlite*",
            ),
        )
        env = _clean_env(scratch)
        built = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-w",
                str(scratch / "dist"),
                str(src),
            ],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert built.returncode == 0, built.stdout + built.stderr
        [wheel] = (scratch / "dist").glob("skyline_slack_sidecar-*.whl")
        venv.create(scratch / "venv", with_pip=True)
        py = scratch / "venv" / "bin" / "python"
        inst = subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", str(wheel)],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert inst.returncode == 0, inst.stdout + inst.stderr
        yield scratch / "venv" / "bin" / "skyline-sidecar", scratch, built.stdout + built.stderr
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(cli: Path, scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    work = scratch / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [str(cli), *args],
        cwd=work,
        env=_clean_env(scratch),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wheel_holds_every_module_and_builds_without_deprecation_warnings(
    installed: tuple[Path, Path, str],
) -> None:
    _, scratch, output = installed
    [wheel] = (scratch / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        p.relative_to(REPO).as_posix() for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")
    }
    assert modules and modules <= names, sorted(modules - names)
    assert "deprecat" not in output.lower(), output


def test_installed_help_runs_every_command(installed: tuple[Path, Path, str]) -> None:
    cli, scratch, _ = installed
    top = run(cli, scratch, "--help")
    assert top.returncode == 0, top.stderr
    for command in ("run", "backfill", "status", "check", "parse"):
        assert command in top.stdout
        sub = run(cli, scratch, command, "--help")
        assert sub.returncode == 0 and "Usage:" in sub.stdout, sub.stderr


def test_installed_parse_reads_the_example_logs(installed: tuple[Path, Path, str]) -> None:
    cli, scratch, _ = installed
    logs = sorted((EXAMPLES / "skyline-logs").glob("*.log"))
    done = run(cli, scratch, "parse", "--format", "json", *map(str, logs))
    assert done.returncode == 0, done.stderr
    kinds = {json.loads(line)["kind"] for line in done.stdout.splitlines()}
    assert "anomaly_alert" in kinds and "features_profile_created" in kinds


def test_installed_check_offline_accepts_the_example_config(
    installed: tuple[Path, Path, str],
    tmp_path: Path,
) -> None:
    """examples/config.toml as shipped, with the paths it names moved into a scratch tree."""
    cli, scratch, _ = installed
    settings = tmp_path / "settings.py"
    settings.write_text(
        f"LOG_PATH = {str(tmp_path / 'logs')!r}\nSLACK_ENABLED = False\n"
        "ALERTS = (('stats', 'slack', 3600),)\n"
        "SLACK_OPTS = {'default_channel': '#skyline'}\n"
    )
    (tmp_path / "logs").mkdir()
    text = (EXAMPLES / "config.toml").read_text()
    text = text.replace("/opt/skyline/github/skyline/skyline/settings.py", str(settings))
    text = text.replace("/var/lib/skyline-slack-sidecar", str(tmp_path / "state"))
    assert str(settings) in text and str(tmp_path / "state") in text
    config = tmp_path / "config.toml"
    config.write_text(text)
    done = run(cli, scratch, "check", "--offline", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout


def test_installed_demo_dry_run(installed: tuple[Path, Path, str], tmp_path: Path) -> None:
    """The demo's configuration and logs, run by the installed script: intended actions only."""
    cli, scratch, _ = installed
    shutil.copy(EXAMPLES / "demo.toml", tmp_path / "demo.toml")
    shutil.copytree(EXAMPLES / "skyline-logs", tmp_path / "skyline-logs")
    done = run(
        cli,
        scratch,
        "run",
        "--config",
        str(tmp_path / "demo.toml"),
        "--dry-run",
        "--from-start",
        "--format",
        "json",
        "--exit-after",
        "4",
    )
    assert done.returncode == 0, done.stderr
    actions = [json.loads(line) for line in done.stdout.splitlines()]
    assert {a["action"] for a in actions} >= {"post_message", "post_reply", "add_reaction"}
    assert not (tmp_path / "state").exists()  # a dry run writes nothing


def test_the_readme_install_and_the_unit_agree() -> None:
    """The user, the paths and the credential the unit uses are the ones the README installs,
    and the README checks as the service user."""
    unit = (REPO / "systemd" / "skyline-slack-sidecar.service").read_text()
    readme = (REPO / "README.md").read_text()
    install = readme[readme.index("## Install beside Skyline") :]
    install = install[: install.index("\n## ", 10)]
    values = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1].isalpha()
    )
    binary, _, rest = values["ExecStart"].partition(" ")
    config = rest.split("--config ")[1].split()[0]
    name, source = values["LoadCredential"].split(":")
    assert name == "slack-token" and source in install
    assert binary.startswith("/opt/skyline-slack-sidecar/.venv/") and config in install
    assert f"-o {values['User']}" in install and f"-g {values['Group']}" in install
    assert f"/var/lib/{values['StateDirectory']}" in install
    assert f"sudo -u {values['User']} .venv/bin/skyline-sidecar check" in install
    assert f"SupplementaryGroups={values['SupplementaryGroups']}" in install
