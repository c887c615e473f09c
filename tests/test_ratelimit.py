"""The limiter on its own, with a hand-moved clock: pacing, parking, learning, workspace tiers."""

from __future__ import annotations

import math
import random

import pytest

from sidecar.slack.pacing import DECREASE, QUIET, Limiter, Pace
from tests.support.fakeslack import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=100.0)


def limiter(clock: ManualClock, **kw) -> Limiter:
    return Limiter(
        {"chat": Pace(1.0, 2.0), "reactions": Pace(0.5, 3.0)},
        {"chat": Pace(5.0, 10.0)},
        clock=clock,
        **kw,
    )


def take_all(lim: Limiter, key: str) -> int:
    n = 0
    while lim.try_acquire(key):
        n += 1
    return n


def test_a_fresh_key_allows_its_burst_then_its_rate(clock):
    lim = limiter(clock)
    assert take_all(lim, "chat:#a") == 2
    assert lim.ready_at("chat:#a") == pytest.approx(101.0)
    clock.advance(1.0)
    assert take_all(lim, "chat:#a") == 1
    assert take_all(lim, "reactions") == 3  # its own class, its own pace
    assert lim.ready_at("reactions") == pytest.approx(103.0)


def test_a_429_parks_for_exactly_retry_after_and_slows_that_key_only(clock):
    lim = limiter(clock)
    lim.try_acquire("chat:#a")
    lim.park("chat:#a", 3.0)
    assert lim.ready_at("chat:#a") == pytest.approx(103.0)
    clock.advance(2.999)
    assert not lim.try_acquire("chat:#a")
    assert lim.try_acquire("chat:#b")
    clock.advance(0.001)
    pace = lim.pacing()
    assert pace["chat:#a"].rate == pytest.approx(DECREASE)
    assert pace["chat:#a"].burst == 1.0
    assert pace["chat:#a"].ratelimited == 1
    assert pace["chat:#b"].rate == 1.0 and pace["chat:#b"].ratelimited == 0
    # Parked for 3 s at the lowered rate: one call, not a burst.
    assert take_all(lim, "chat:#a") == 1


def test_accepted_calls_win_the_rate_back_but_never_above_the_ceiling(clock):
    lim = limiter(clock)
    lim.try_acquire("chat:#a")
    for _ in range(3):
        lim.park("chat:#a", 1.0)
    low = lim.pacing()["chat:#a"].rate
    assert low == pytest.approx(DECREASE**3)
    rates = []
    for _ in range(200):
        lim.accepted("chat:#a")
        rates.append(lim.pacing()["chat:#a"].rate)
    assert rates == sorted(rates) and rates[0] > low
    assert rates[-1] <= 1.0 and rates[-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("key", ["reactions", "files", "history"])
def test_workspace_buckets_learn_alike(key):
    clock = ManualClock()
    lim = Limiter(clock=clock)  # Slack's own ceilings
    assert lim.try_acquire(key)
    ceiling = lim.pacing()[key].ceiling
    lim.park(key, 2.0)
    pace = lim.pacing()[key]
    assert pace.rate == pytest.approx(ceiling * DECREASE) and pace.burst == 1.0
    assert pace.ceiling == ceiling and pace.ratelimited == 1 and pace.parked_seconds == 2.0
    lim.accepted(key)
    assert pace.rate < lim.pacing()[key].rate < pace.ceiling
    assert "chat:#a" not in lim.pacing()  # only what was used


def test_the_rate_has_a_floor(clock):
    lim = limiter(clock)
    for _ in range(50):
        lim.park("chat:#a", 1.0)
    assert lim.pacing()["chat:#a"].rate == pytest.approx(0.25)
    assert lim.pacing()["chat:#a"].ratelimited == 50


def test_a_quiet_key_is_back_at_its_ceiling_with_its_burst(clock):
    lim = limiter(clock)
    lim.park("chat:#a", 1.0)
    clock.advance(QUIET - 1)
    assert lim.pacing()["chat:#a"].burst == 1.0
    clock.advance(1)
    pace = lim.pacing()["chat:#a"]
    assert (pace.rate, pace.burst, pace.ratelimited) == (1.0, 2.0, 1)
    assert take_all(lim, "chat:#a") == 2


def test_many_channels_at_once_share_the_workspace_bucket(clock):
    lim = limiter(clock)
    sent = sum(take_all(lim, f"chat:#c{i}") for i in range(20))
    assert sent == 10  # the workspace burst, not 20 channels x 2
    clock.advance(1.0)
    assert sum(take_all(lim, f"chat:#c{i}") for i in range(20)) == 5
    assert lim.pacing()["chat"].ceiling == 5.0


def test_acquiring_is_all_or_nothing(clock):
    lim = limiter(clock)
    for i in range(5):
        take_all(lim, f"chat:#c{i}")  # the workspace bucket is empty now
    assert not lim.try_acquire("chat:#fresh")
    clock.advance(0.4)  # two workspace tokens back: #fresh did not lose its own two
    assert take_all(lim, "chat:#fresh") == 2
    take_all(lim, "reactions")
    clock.advance(1.0)
    assert not lim.try_acquire("chat:#other", "reactions")
    assert take_all(lim, "chat:#other") == 2


def test_several_keys_wait_for_the_slowest(clock):
    lim = limiter(clock)
    take_all(lim, "reactions")
    take_all(lim, "chat:#a")
    assert lim.ready_at("chat:#a", "reactions") == pytest.approx(102.0)
    lim.park("chat:#a", 5.0)
    assert lim.ready_at("chat:#a", "reactions") == pytest.approx(105.0)


def test_unpaced_never_waits_and_uniform_paces_every_class_alike(clock):
    free = Limiter.unpaced()
    assert all(free.try_acquire("chat:#a", "reactions") for _ in range(10_000))
    free.park("chat:#a", 30.0)
    assert free.pacing() == {}
    even = Limiter.uniform(2.0, 1.0, clock=clock)
    assert take_all(even, "files") == take_all(even, "chat:#a") == 1
    assert even.ready_at("files") == pytest.approx(100.5)


def storm(adaptive: bool, *, burst: float, seed: int, n: int = 60) -> tuple[float, int]:
    """n posts to one channel against a strict Slack (1/s, no burst), with network jitter;
    returns (seconds taken, 429s). Time is simulated, so this is exact and repeatable."""
    rng = random.Random(seed)
    clock = ManualClock(start=0.0)
    lim = Limiter({"chat": Pace(1.0, burst)}, {}, clock=clock)
    if not adaptive:  # the old behaviour: a 429 parks, the pace never changes
        lim.accepted = lambda key: None  # type: ignore[method-assign]
        park = lim.park

        def fixed_park(key: str, seconds: float) -> None:
            park(key, seconds)
            b = lim._buckets[key]
            b.rate, b.burst = b.ceiling.rate, b.ceiling.burst

        lim.park = fixed_park  # type: ignore[method-assign]
    tokens, stamp = 1.0, 0.0
    sent = limited = 0
    while sent < n:  # send when allowed, a little late (the loop oversleeps)
        clock.advance(max(0.0, lim.ready_at("chat:#a") - clock()) + rng.uniform(0.0, 0.004))
        assert lim.try_acquire("chat:#a")
        arrival = clock() + rng.uniform(0.001, 0.012)  # request latency
        tokens, stamp = min(1.0, tokens + (arrival - stamp)), arrival  # Slack's bucket
        clock.advance(arrival + 0.002 - clock())
        if tokens >= 1.0:
            tokens -= 1.0
            sent += 1
            lim.accepted("chat:#a")
        else:
            limited += 1
            lim.park("chat:#a", max(1, math.ceil(1.0 - tokens)))
    return clock(), limited


@pytest.mark.parametrize("seed", range(5))
def test_against_a_strict_slack_learning_avoids_the_429_storm(seed):
    fixed_time, fixed_429 = storm(False, burst=2.0, seed=seed)
    learnt_time, learnt_429 = storm(True, burst=2.0, seed=seed)
    assert learnt_429 <= 4 < fixed_429
    assert learnt_time < fixed_time
    assert learnt_time < 1.25 * 59
