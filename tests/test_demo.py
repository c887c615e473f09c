"""``make demo`` end to end: examples/demo.py runs the real sidecar (a dry run) on the bundled
Skyline logs while Skyline lines are appended; ``--format json`` makes its stdout one intended
Slack action per line. One run (about 10 s) serves every test of this module."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import demo  # examples/ is on pytest's pythonpath (pyproject.toml)
import pytest

from tests.support import example_logs as ex

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
BUNDLED = EXAMPLES / "skyline-logs"

SECONDS = 10
THREAD = {"metric": ex.WEB01, "anomaly_timestamp": ex.WEB01_TS}


def digests(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    actions: list[dict[str, Any]]
    bundled_before: dict[str, str]
    bundled_after: dict[str, str]
    workdir: Path

    def of(self, action: str, **where: Any) -> list[dict[str, Any]]:
        out = []
        for a in self.actions:
            event = a["event"]
            if a["action"] == action and all(
                (event.get(k[6:]) if k.startswith("event_") else a.get(k)) == v
                for k, v in where.items()
            ):
                out.append(a)
        return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    before = digests(BUNDLED)
    base = tmp_path_factory.mktemp("demo")
    workdir = base / "scratch"
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "demo.py"),
            "--format",
            "json",
            "--seconds",
            str(SECONDS),
            "--workdir",
            str(workdir),
        ],
        cwd=base,  # any directory will do
        capture_output=True,
        text=True,
        timeout=SECONDS + 40,
    )
    actions = [json.loads(line) for line in proc.stdout.splitlines()]
    return Run(proc, actions, before, digests(BUNDLED), workdir)


def test_runs_and_exits_by_itself(run: Run) -> None:
    assert run.proc.returncode == 0, run.proc.stderr
    assert run.actions, run.proc.stderr
    # the explanations and Skyline's writes are narrated on stderr in json mode
    assert "[skyline] mirage.log  half a line" in run.proc.stderr
    assert "The sidecar stopped (exit status 0)" in run.proc.stderr


def test_every_action_once(run: Run) -> None:
    seen = Counter(json.dumps(a, sort_keys=True) for a in run.actions)
    assert [a for a, n in seen.items() if n > 1] == []


def test_alerts_go_to_the_channels_of_their_namespace(run: Run) -> None:
    posted = Counter(
        (a["channel"], a["event"]["metric"])
        for a in run.of("post_message", event_kind="anomaly_alert")
    )
    assert posted == {
        ("#skyline", ex.WEB01): 1,
        ("#ops", ex.WEB01): 1,  # stats.web: both channels
        ("#database", ex.DB01): 1,  # stats.db (the analyzer alert; its smtp alert is not posted)
        ("#skyline", ex.CACHE01): 1,  # no channels entry for 'stats': default_channel
        ("#skyline", demo.LIVE_METRIC): 1,
        ("#ops", demo.LIVE_METRIC): 1,  # written live
    }
    first = run.of(
        "post_message", event_kind="anomaly_alert", channel="#skyline", event_metric=ex.WEB01
    )[0]
    assert first["thread"] is None
    assert f"metric={ex.WEB01}|training data link" in first["text"]
    assert "for anomaly at Thu Nov 26 13:10:00 2026 GMT" in first["text"]


def test_the_boundary_alert_goes_to_boundary_slack_opts_channels_unthreaded(run: Run) -> None:
    [boundary] = run.of("post_message", event_kind="boundary_alert")
    assert (boundary["channel"], boundary["event"]["metric"], boundary["thread"]) == (
        "#ops",
        ex.WEB02_REQ,
        None,
    )
    assert boundary["text"].startswith(
        f"*Skyline Boundary - ALERT* GREATER_THAN 1000 3 times on {ex.WEB02_REQ} - 1250.0 :: <"
    )
    assert boundary["text"].endswith("\nFor anomaly at Thu Nov 26 13:25:07 2026 GMT")
    # the muted metric's alert is not posted
    assert not [a for a in run.actions if a["event"]["metric"] == ex.MUTED_METRIC]


def test_thread_updates_only_in_the_first_channel(run: Run) -> None:
    in_threads = [a for a in run.actions if a["action"] in ("post_reply", "add_reaction")]
    assert in_threads
    assert {a["channel"] for a in in_threads} == {"#skyline"}
    assert {a["action"] for a in run.actions if a["channel"] == "#ops"} == {"post_message"}


@pytest.mark.parametrize(
    ("kind", "reactions", "text"),
    [
        ("training_data_viewed", ["eyes"], "The training data page has been reviewed"),
        (
            "features_profile_created",
            ["thumbsup"],
            f"features profile id {ex.FP_HUMAN} was created for {ex.WEB01} via webapp",
        ),
        (
            "features_profile_learnt",
            ["thumbsup", "heavy_check_mark"],
            f"features profile id {ex.FP_LEARNT} was created using 30 days data",
        ),
        (
            "features_profile_disabled",
            ["x"],
            f"features profile id {ex.FP_HUMAN} and 1 related features profile were disabled",
        ),
    ],
)
def test_lifecycle_of_the_bundled_alert_in_its_thread(
    run: Run, kind: str, reactions: list[str], text: str
) -> None:
    replies = run.of("post_reply", event_kind=kind, thread=THREAD)
    assert len(replies) == 1, run.actions
    assert replies[0]["channel"] == "#skyline"
    assert text in replies[0]["text"]
    added = run.of("add_reaction", event_kind=kind, thread=THREAD)
    assert sorted(a["reaction"] for a in added) == sorted(reactions)
    assert {a["channel"] for a in added} <= {"#skyline"}


def test_a_single_validation_is_silent_as_in_skyline(run: Run) -> None:
    assert run.of("post_reply", event_kind="features_profiles_validated") == []


def test_disabling_is_one_channel_message_and_its_thread_copy(run: Run) -> None:
    posts = run.of("post_message", event_kind="features_profile_disabled")
    assert [(p["channel"], p["thread"]) for p in posts] == [("#skyline", None)]
    [copy] = run.of("post_reply", event_kind="features_profile_disabled", thread=THREAD)
    assert copy["text"] == posts[0]["text"]


def test_bulk_validation_is_a_channel_message(run: Run) -> None:
    # Skyline posts a bulk validation to the channel, not in a thread.
    posts = run.of("post_message", event_kind="features_profiles_validated")
    assert [(p["channel"], p["thread"]) for p in posts] == [("#skyline", None)]
    assert f"2 features profiles were validated for {ex.WEB01}" in posts[0]["text"]


def test_the_alert_written_live_and_its_lifecycle(run: Run) -> None:
    [alert] = run.of(
        "post_message",
        event_kind="anomaly_alert",
        channel="#skyline",
        event_metric=demo.LIVE_METRIC,
    )
    thread = {"metric": demo.LIVE_METRIC, "anomaly_timestamp": alert["event"]["anomaly_timestamp"]}
    assert f"*Skyline Mirage* - {demo.LIVE_METRIC} at 7 days - {demo.LIVE_VALUE}" in alert["text"]

    [viewed] = run.of("post_reply", event_kind="training_data_viewed", thread=thread)
    assert viewed["text"] == "The training data page has been reviewed"  # Skyline names no one
    [created] = run.of("post_reply", event_kind="features_profile_created", thread=thread)
    assert f"features profile id {demo.LIVE_FP_ID} was created" in created["text"]
    reactions = [(a["event"]["kind"], a["reaction"]) for a in run.of("add_reaction", thread=thread)]
    assert sorted(reactions) == [
        ("features_profile_created", "thumbsup"),
        ("training_data_viewed", "eyes"),
    ]
    # the order a reader sees: the alert, then its replies
    assert run.actions.index(alert) < run.actions.index(viewed) < run.actions.index(created)


def test_the_half_written_line_is_whole_in_the_end(run: Run) -> None:
    mirage = (run.workdir / "skyline-logs" / "mirage.log").read_text()
    assert mirage.endswith("\n")
    triggers = [
        line
        for line in mirage.splitlines()
        if " :: trigger_alert :: " in line and f"'{demo.LIVE_METRIC}'" in line
    ]
    assert len(triggers) == 1
    assert triggers[0].endswith("context: Mirage")


def test_the_bundled_logs_are_untouched(run: Run) -> None:
    assert run.bundled_after == run.bundled_before
    assert set(run.bundled_before) == {f"{app}.log" for app in ex.APPS}


def test_the_bundled_logs_are_what_the_generator_makes() -> None:
    assert {name: hashlib.sha256(data).hexdigest() for name, data in ex.build().items()} == (
        digests(BUNDLED)
    ), "run: .venv/bin/python -m tests.support.example_logs"


def test_the_live_lines_are_made_from_the_bundled_alert() -> None:
    # demo.py does not import tests/: it re-tells the bundled logs' lines of this alert.
    assert (demo.BUNDLED_METRIC, demo.BUNDLED_TS, float(demo.BUNDLED_VALUE)) == (
        ex.WEB01,
        ex.WEB01_TS,
        87.5,
    )
    assert (demo.BUNDLED_METRIC_ID, demo.BUNDLED_FP_ID) == (ex.WEB01_ID, ex.FP_HUMAN)
    assert (demo.MIRAGE_RUN, demo.MIRAGE_SPIN, demo.WEBAPP_WORKER) == (
        ex.M_RUN,
        ex.M_SPIN,
        ex.W_ONE,
    )
    live = demo.Template(demo.LIVE_METRIC, ex.WEB01_TS + 3600, 97.4, 305, 1301, "ops", 2)
    webapp = "\n".join(live.lines("webapp", "13:15:16"))
    assert ex.WEB01 not in webapp and "1795698600" not in webapp
    assert f"training_data :: requested for {demo.LIVE_METRIC} at 1795702200 by user id 2" in (
        webapp
    )
    assert "new ionosphere fp_id: 1301" in webapp and "determined db metric id: 305" in webapp
