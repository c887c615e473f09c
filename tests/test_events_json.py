"""``Event.to_json`` writes exactly ``json.dumps(event.to_dict())``, the reference serialization."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import APPS, LogParser
from parsers.events import (
    AnomalyAlert,
    Event,
    FeaturesProfileDisabled,
    FeaturesProfilesValidated,
    Source,
    TrainingDataViewed,
    ValidatedProfile,
)
from sidecar.tail.names import app_from_path
from tests.bench.genlogs import write_log

CORPUS = Path(__file__).parent / "corpus"
T = datetime(2026, 11, 26, 13, 15, 16)


def events_of(path: Path, app: str) -> list[Event]:
    parser = LogParser(app, str(path))
    return parser.feed(path.read_bytes()) + parser.finish()


def assert_same_json(events: list[Event]) -> None:
    for event in events:
        assert event.to_json() == json.dumps(event.to_dict()), event


def test_every_corpus_event_of_every_kind() -> None:
    events = [
        e
        for path in sorted(CORPUS.glob("v*/*.log"))
        for e in events_of(path, app_from_path(str(path)) or "")
    ]
    assert len({e.kind for e in events}) >= 9
    assert any(isinstance(e, AnomalyAlert) and e.muted for e in events)
    assert any(isinstance(e, AnomalyAlert) and not e.muted for e in events)
    assert any(isinstance(e, FeaturesProfilesValidated) and e.profiles for e in events)
    assert_same_json(events)


def test_generated_storms_of_every_app(tmp_path: Path) -> None:
    for app in APPS:
        if app == "boundary":
            continue  # genlogs writes the four apps of a LOG_PATH
        path = tmp_path / f"{app}.log"
        written = write_log(path, app, 1 << 20, event_every=20)
        events = events_of(path, app)
        assert len(events) == written.events > 0
        assert_same_json(events)


names = st.text(min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    metric=names,
    message=st.text(max_size=200),
    alerter=names,
    value=st.none() | st.floats() | st.floats(allow_nan=True, allow_infinity=True),
    timestamp=st.none() | st.integers(min_value=-(2**70), max_value=2**70),
    algorithms=st.lists(names, max_size=5).map(tuple),
    namespace=st.none() | names,
    flags=st.tuples(st.booleans(), st.booleans()),
    source=st.none() | st.builds(Source, path=names, line=st.integers(0, 10**9)),
)
def test_anomaly_alerts_of_any_content(
    metric: str,
    message: str,
    alerter: str,
    value: float | None,
    timestamp: int | None,
    algorithms: tuple[str, ...],
    namespace: str | None,
    flags: tuple[bool, bool],
    source: Source | None,
) -> None:
    alert = AnomalyAlert(
        app="mirage",
        logged_at=T,
        pid=1,
        message=message,
        metric=metric,
        anomaly_timestamp=timestamp,
        alerter=alerter,
        value=value,
        alert_namespace=namespace,
        triggered_algorithms=algorithms,
        algorithms_run=algorithms[::-1],
        test_alert=flags[0],
        muted=flags[1],
        source=source,
    )
    assert_same_json([alert])


def test_values_of_other_types_and_overridden_to_dict() -> None:
    events: list[Event] = [
        FeaturesProfileDisabled(
            app="webapp", logged_at=T, pid=2, message='fp "1" é', fp_ids=(1, 2, 3), metric=None
        ),
        FeaturesProfileDisabled(app="webapp", logged_at=T, pid=2, message="", fp_ids=()),
        TrainingDataViewed(
            app="webapp",
            logged_at=T,
            pid=3,
            message="\x00\n\t\\",
            metric="\u2603.\U0001f600",
            anomaly_timestamp=0,
            user="a'b",
        ),
        FeaturesProfilesValidated(
            app="webapp",
            logged_at=T,
            pid=4,
            message="m",
            fp_ids=(7,),
            profiles=(
                ValidatedProfile(
                    fp_id=7, metric="x", anomaly_timestamp=1, parent_fp_id=None, generation=0
                ),
            ),
            source=Source(path="/var/log/skyline/webapp.log", line=9),
        ),
    ]
    assert_same_json(events)
