from __future__ import annotations

import pytest

from synth.client import parse_retry_after
from synth.ratelimit import LimiterRegistry, RateLimiter, TokenBucket, parse_duration


class FakeClock:
    """Time that moves only when the limiter sleeps: pacing is checked exactly, without waiting."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def test_request_bucket_paces_evenly_without_a_burst():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=120, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(5):
        limiter.acquire()
        times.append(clock.now)
    assert [round(t - times[0], 6) for t in times] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_token_bucket_waits_for_big_requests_and_refunds_unused_tokens():
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, capacity=100.0, clock=clock)
    assert bucket.reserve(100) == 0.0
    assert bucket.reserve(50) == pytest.approx(5.0)  # 50 tokens at 10/s
    bucket.adjust(+50)  # the request used fewer tokens than reserved
    assert bucket.level == pytest.approx(0.0)
    assert bucket.reserve(500) == pytest.approx(10.0)  # larger than capacity: waits for a full bucket


def test_tokens_per_minute_limit_holds_requests_back():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=6000, tokens_per_minute=600, clock=clock, sleep=clock.sleep)
    limiter.acquire(100)  # bucket capacity is 10 s of tokens = 100
    start = clock.now
    limiter.acquire(100)
    assert clock.now - start == pytest.approx(10.0)
    limiter.settle(100, 40)  # 60 tokens were not used: the next request waits less
    start = clock.now
    limiter.acquire(100)
    assert clock.now - start == pytest.approx(4.0)


def test_pause_holds_every_request():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=6000, clock=clock, sleep=clock.sleep)
    limiter.pause(3.0)
    start = clock.now
    limiter.acquire()
    assert clock.now - start == pytest.approx(3.0)


def test_groq_headers_pause_when_a_quota_is_spent():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=6000, tokens_per_minute=6000, clock=clock, sleep=clock.sleep)
    limiter.observe_headers({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "7.5s"})
    start = clock.now
    limiter.acquire(1)
    assert clock.now - start >= 7.5
    limiter.observe_headers({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m2s"})
    start = clock.now
    limiter.acquire()
    assert clock.now - start == pytest.approx(62.0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("7.66s", 7.66),
        ("120ms", 0.12),
        ("1h2m", 3720.0),
        ("3", 3.0),
        ("", None),
        ("x", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None):
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_parse_retry_after_prefers_milliseconds():
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({}) is None


def test_registry_shares_one_limiter_per_model():
    reg = LimiterRegistry()
    a = reg.get("groq", "", "m", 30)
    assert reg.get("groq", "", "m", 30) is a and reg.get("groq", "", "other", 30) is not a


def test_zero_requests_per_minute_means_no_pacing():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        limiter.acquire()
    assert clock.now == 100.0


def test_token_limit_is_adopted_from_groq_headers_when_the_recipe_has_none():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=6000, clock=clock, sleep=clock.sleep)
    assert limiter.tokens is None
    limiter.observe_headers({"x-ratelimit-limit-tokens": "600", "x-ratelimit-remaining-tokens": "50"})
    assert limiter.tokens is not None and limiter.tokens.rate == 10.0
    start = clock.now
    limiter.acquire(100)  # 50 left, 100 wanted at 10 tokens/s
    assert clock.now - start == pytest.approx(5.0)
