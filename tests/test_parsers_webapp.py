"""webapp.log rules: views, fp created / disabled / validated, per version and under gevent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from parsers import (
    FeaturesProfileCreated,
    FeaturesProfileDisabled,
    FeaturesProfilesValidated,
    LogParser,
    TrainingDataViewed,
    ValidatedProfile,
)
from parsers.events import Event
from tests.support import skyline_lines as L

T = datetime(2026, 11, 26, 13, 15, 16)
M, M2 = "stats.web01.cpu.user", "stats.web02.mem.free"
TS, TS2 = 1795698600, 1795695000
W1, W2 = 3120441, 3120442
BASE = "https://skyline.example.com"


def run(*lines: str, finish: bool = True) -> list[Event]:
    parser = LogParser("webapp", "webapp.log")
    events = parser.feed("".join(lines).encode())
    return events + parser.finish() if finish else events


class Web:
    """Lines of a webapp.log being written, request by request as each version logs them."""

    def __init__(self, version: str = "v5"):
        self.version, self.now, self.lines = version, T, []

    def add(self, pid: int, msg: str, dt: int = 0) -> None:
        self.now += timedelta(seconds=dt)
        self.lines.append(L.line(self.now, pid, msg))

    def request(self, pid: int, url: str, user: str | None = "admin", rid: str = "") -> None:
        n = int(self.version[1])
        if n >= 3:
            self.add(pid, L.check_auth_request(url))
        if user:
            self.add(pid, L.get_user_details(user, 1))
        if n >= 4:
            self.add(pid, L.starting_request(self.version, rid or url[-12:], url))
        if n >= 3:
            self.add(pid, L.request_url(url))
        for arg in url.split("?", 1)[1].split("&"):
            self.add(pid, L.request_argument(*arg.split("=", 1)))

    def viewed(self, pid: int, metric: str | None = None, metric_id: int = 271) -> None:
        if metric and int(self.version[1]) >= 4:
            self.add(pid, f"metric_id looked up base_name: {metric} and got metric_id: {metric_id}")
        self.add(pid, L.training_data_viewed(False))

    def events(self) -> list[Event]:
        return run(*self.lines)


def url(**args: object) -> str:
    return f"{BASE}/ionosphere?" + "&".join(f"{k}={v}" for k, v in args.items())


# -- training data viewed ------------------------------------------------------------------
@pytest.mark.parametrize("version", L.VERSIONS)
def test_view_per_version(version: str) -> None:
    web = Web(version)
    web.request(W1, url(timestamp=TS, metric=M))
    web.add(W1, L.getting_anomaly_id(f"{BASE}/panorama?metric={M}&from_timestamp=1"))
    web.add(W1, L.check_auth_request(f"{BASE}/panorama?metric={M}&from_timestamp=1"))
    web.viewed(W1, M)
    [event] = web.events()
    assert isinstance(event, TrainingDataViewed)
    assert (event.metric, event.anomaly_timestamp, event.metric_id, event.user) == (
        M,
        TS,
        None,
        "admin",
    )
    assert event.message == "slack_updated for training_data_viewed False"


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_interleaved_views_in_one_gevent_worker(version: str) -> None:
    web = Web(version)
    a, b = url(timestamp=TS, metric=M), url(timestamp=TS2, metric=M2)
    web.request(W1, a, rid="a" * 64)
    web.request(W1, b, user="ops", rid="b" * 64)
    web.viewed(W1, M)  # the first request got there first
    web.add(W1, L.completed_request("a" * 64, 2.0))
    web.viewed(W1, M2)
    events = web.events()
    assert [(e.metric, e.anomaly_timestamp, e.user) for e in events] == [
        (M, TS, "admin"),
        (M2, TS2, "ops"),
    ]
    assert events[0].event_id != events[1].event_id  # same second, same pid, same marker text


def test_labelled_metric_view_by_metric_id() -> None:
    web = Web("v5")
    web.request(W2, url(timestamp=TS, metric_id=1234))
    web.viewed(W2, "labelled_metrics.1234", metric_id=1234)
    [event] = web.events()
    assert (event.metric, event.metric_id, event.anomaly_timestamp) == (None, 1234, TS)


@pytest.mark.parametrize("version", ["v2", "v3", "v5"])
def test_requests_that_are_not_views_are_not_taken_for_one(version: str) -> None:
    web = Web(version)
    web.request(W1, url(timestamp=TS, metric=M, fp_view="true", fp_id=1234))
    web.request(W1, url(timestamp=TS, metric=M, calc_features="true"))
    web.add(W1, L.check_auth_request(f"{BASE}/panorama?metric={M}&timestamp={TS}"))
    web.add(W1, L.request_url(f"{BASE}/ionosphere_features_profile?metric={M}&timestamp={TS}"))
    web.viewed(W1, M)
    parser = LogParser("webapp")
    assert parser.feed("".join(web.lines).encode()) == []
    assert parser.stats.unattributed == 1


def test_a_marker_takes_only_a_recent_request() -> None:
    web = Web("v3")
    web.request(W1, url(timestamp=TS, metric=M))
    web.add(W1, L.metric_id_is(271), dt=601)
    web.viewed(W1)
    assert web.events() == []


# -- features profile created --------------------------------------------------------------
def create(
    web: Web,
    fp_id: int,
    learn: str | None,
    pid: int = W1,
    metric: str = M,
    ts: int = TS,
    context: str = "training_data",
) -> None:
    web.request(pid, url(timestamp=ts, metric=metric, add_fp="true", learn=learn or "true"))
    web.add(pid, L.fp_requested(context, metric, ts, 7))
    web.add(pid, L.learn_full_duration_days(30))
    web.add(pid, L.new_fp_id(fp_id))
    web.add(pid, L.fp_dir_created(fp_id, L.fp_profile_dir(metric, ts)))
    web.add(pid, L.disposing_engine())
    web.add(pid, L.engine_dispose())
    if learn == "true":
        web.add(pid, L.learn_work_added("learn_fp_human", ts, metric, fp_id, 0))
    elif learn == "false":
        web.add(pid, L.fp_learn_false())


@pytest.mark.parametrize("version", L.VERSIONS)
def test_created_with_and_without_learn(version: str) -> None:
    web = Web(version)
    create(web, 1234, "true")
    create(web, 1235, "false", pid=W2, metric=M2, ts=TS2)
    events = web.events()
    assert [
        (e.fp_id, e.metric, e.anomaly_timestamp, e.user_id, e.learn, e.learn_days) for e in events
    ] == [(1234, M, TS, 7, True, 30), (1235, M2, TS2, 7, False, 30)]
    assert all(isinstance(e, FeaturesProfileCreated) for e in events)
    assert all(
        e.message.startswith("create_features_profile :: new ionosphere fp_id: ") for e in events
    )


def test_created_with_ionosphere_learn_off_ends_at_the_next_line_or_at_finish() -> None:
    web = Web("v5")
    create(web, 1236, None)
    parser = LogParser("webapp")
    assert parser.feed("".join(web.lines).encode()) == []
    requested = next(i for i, x in enumerate(web.lines) if "requested for" in x)
    assert parser.safe_offset <= len("".join(web.lines[:requested]).encode())  # held back
    [event] = parser.feed(L.line(T, W1, L.completed_request("r", 1.0)).encode())
    assert (event.fp_id, event.learn) == (1236, False)
    # the same at the end of the input
    [last] = run(*web.lines)
    assert last.event_id == event.event_id


def test_created_interleaved_creates_are_told_apart_by_fp_dir_and_work_item() -> None:
    lines = [
        L.line(T, W1, L.fp_requested("training_data", M, TS, 1)),
        L.line(T, W1, L.fp_requested("training_data", M2, TS2, 2)),
        L.line(T, W1, L.fp_dir_created(11, L.fp_profile_dir(M, TS))),
        L.line(T, W1, L.fp_dir_created(12, L.fp_profile_dir(M2, TS2))),
        L.line(T, W1, L.learn_work_added("learn_fp_human", TS2, M2, 12, 0)),
        L.line(T, W1, L.learn_work_added("learn_fp_human", TS, M, 11, 0)),
    ]
    events = run(*lines)
    assert [(e.fp_id, e.metric, e.user_id, e.learn) for e in events] == [
        (12, M2, 2, True),
        (11, M, 1, True),
    ]


def test_learn_work_line_alone_is_a_creation() -> None:
    [event] = run(L.line(T, W1, L.learn_work_added("learn_fp_human", TS, M, 99, 0)))
    assert (event.fp_id, event.metric, event.anomaly_timestamp, event.learn, event.user_id) == (
        99,
        M,
        TS,
        True,
        None,
    )


@pytest.mark.parametrize("context", ["ionosphere_learn", "ionosphere_echo", "features_profiles"])
def test_creates_of_other_contexts_are_no_webapp_creation(context: str) -> None:
    web = Web("v5")
    create(web, 1240, "false", context=context)
    assert web.events() == []


def test_create_that_made_no_fp_is_no_event() -> None:
    lines = [
        L.line(T, W1, L.fp_requested("training_data", M, TS, 1)),
        L.line(T, W1, L.disposing_engine()),
        L.line(T + timedelta(seconds=300), W2, L.completed_request("r", 1.0)),
    ]
    parser = LogParser("webapp")
    assert parser.feed("".join(lines).encode()) + parser.finish() == []
    assert parser.safe_offset == len("".join(lines).encode())  # dropped by age, not held


# -- disabled / validated ------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1", "v3", "v5"])
def test_disabled_with_its_request(version: str) -> None:
    web = Web(version)
    web.request(W1, url(fp_view="true", timestamp=TS, metric=M, disable_fp=1234))
    web.add(W1, L.disable_fp_is_set(1234))
    web.add(W1, L.disabling_fp_ids([1234, 1240]))
    web.add(W1, L.backend_disabling_fp_ids([1234, 1240]))
    web.add(W1, L.updated_enabled(1234))
    [event] = web.events()
    assert isinstance(event, FeaturesProfileDisabled)
    assert (event.fp_ids, event.metric, event.anomaly_timestamp) == ((1234, 1240), M, TS)
    # without the request (started before what was read): the fp ids alone
    [bare] = run(L.line(T, W2, L.disabling_fp_ids([7])))
    assert (bare.fp_ids, bare.metric, bare.anomaly_timestamp) == ((7,), None, None)


def test_validated_one() -> None:
    web = Web("v4")
    web.request(W2, url(fp_view="true", fp_id=1251, metric=M, validate_fp="true"))
    web.add(W2, L.validating_fp_ip(1251))
    web.add(W2, L.validated_fp_id(1251))
    [event] = web.events()
    assert isinstance(event, FeaturesProfilesValidated)
    assert (event.fp_ids, event.metric, event.validated_count, event.profiles) == (
        (1251,),
        M,
        1,
        (),
    )


def test_validated_in_bulk() -> None:
    rows = [L.validate_row(1251, 271, M, TS, 1240, 2), L.validate_row(1252, 271, M, TS + 60, 0, 0)]
    lines = [
        L.line(T, W1, L.features_profiles_to_validate(rows)),
        L.line(T, W2, L.features_profiles_to_validate([L.validate_row(9, 300, M2, TS, 1, 1)])),
        L.line(T, W1, L.fps_found_to_validate(2, M, 271)),
        L.line(T, W1, L.updated_validated_all(271)),
        L.line(T, W1, L.validated_all(271)),
        L.line(T, W1, L.features_profiles_to_validate([])),
        L.line(T, W1, L.fps_found_listing(0, M)),
    ]
    [event] = run(*lines)
    assert (event.fp_ids, event.metric, event.metric_id, event.validated_count) == (
        (1251, 1252),
        M,
        271,
        2,
    )
    assert event.profiles == (
        ValidatedProfile(
            fp_id=1251, metric=M, anomaly_timestamp=TS, parent_fp_id=1240, generation=2
        ),
        ValidatedProfile(
            fp_id=1252, metric=M, anomaly_timestamp=TS + 60, parent_fp_id=None, generation=0
        ),
    )
    # the list line cut (over-long) or unreadable: the event stands without profiles
    cut = L.features_profiles_to_validate(rows)[:-40]
    parser = LogParser("webapp")
    events = parser.feed(
        "".join([L.line(T, W1, cut), L.line(T, W1, L.validated_all(271))]).encode()
    )
    assert [(e.metric_id, e.profiles, e.validated_count) for e in events] == [(271, (), None)]
    assert parser.stats.bad_values == 1


NEAR_MISSES = [
    "slack_updated for validated features profiles True",
    L.fps_found_listing(3, M),
    L.backend_disabling_fp_ids([1, 2]),
    L.updated_validated_all(271),
    L.generation_info_days(30),
    L.fp_pending_key(M, TS),
    "create_features_profile :: fp_id - 1234 - training data copied to /x/1795698600",
    L.slack_post_message(
        "#skyline",
        "1.2",
        "*TRAINED - not anomalous* - features profile id 1"
        "\nslack_updated for training_data_viewed True",
    ),
    "api?airgap_filled - request argument - metric=stats.x",
]


def test_near_misses_make_nothing() -> None:
    lines = [L.line(T, W1, msg) for msg in NEAR_MISSES]
    lines += [
        L.gunicorn_line(T, W1, "ERROR", L.validated_fp_id(5)),
        L.bin_line(T, 999, "webapp", L.disabling_fp_ids([5])),
        "  " + L.validated_fp_id(5) + "\n",
    ]
    assert run(*lines) == []


def test_created_released_by_age_is_not_emitted_again_by_its_late_learn_line() -> None:
    lines = [
        L.line(T, W1, L.fp_requested("training_data", M, TS, 1)),
        L.line(T, W1, L.new_fp_id(55)),
        L.line(T + timedelta(seconds=121), W2, L.request_argument("a", "b")),
        L.line(T + timedelta(seconds=122), W1, L.learn_work_added("learn_fp_human", TS, M, 55, 0)),
    ]
    events = run(*lines)
    assert [(e.fp_id, e.learn, e.source.line) for e in events] == [(55, False, 2)]


@pytest.mark.parametrize("version", ["v3", "v4", "v5"])
def test_a_request_holds_safe_offset_until_it_is_answered(version: str) -> None:
    web = Web(version)
    web.request(W1, url(timestamp=TS, metric=M))
    parser = LogParser("webapp")
    parser.feed("".join(web.lines).encode())
    # its lines (user, request id, URL) are re-read on resume: the marker still needs them
    assert parser.safe_offset <= len(web.lines[0]) + len(web.lines[1])
    marker = L.line(T, W1, L.training_data_viewed(False))
    [event] = parser.feed(marker.encode())
    assert (event.metric, event.user) == (M, "admin")
    assert parser.safe_offset == len("".join([*web.lines, marker]))  # answered: let go
