"""Client-side rate limiting: token buckets for requests/min and tokens/min, one limiter per model.

    limiter = RateLimiter(requests_per_minute=30, tokens_per_minute=6000)
    limiter.acquire(estimated_tokens)        # blocks until this request may be sent
    limiter.settle(estimated_tokens, used)   # correct the token bucket once usage is known
    limiter.observe_headers(headers)         # Groq's x-ratelimit-* headers
    limiter.pause(retry_after)               # after a 429: every worker waits

The request bucket holds one request, so requests are paced evenly at the limit instead of bursting at
start: a server that counts requests over any window then never sees more than the limit, which is
what lets a job run at ~100% of its quota with zero 429s (bench/bench_synth.py measures it).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    """Refills at ``rate`` units/s up to ``capacity``; ``reserve`` may go into debt and returns the wait.

    Reservations are made under a lock and waited out by the caller, so concurrent workers queue in
    order with exact spacing and none of them spins.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be > 0")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._level = capacity
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._last) * self.rate)
        self._last = now

    def reserve(self, amount: float = 1.0) -> float:
        """Take ``amount`` and return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            # A request bigger than the bucket waits for a full bucket, then runs into debt.
            need = min(amount, self.capacity)
            wait = 0.0 if self._level >= need else (need - self._level) / self.rate
            self._level -= amount
            return wait

    def adjust(self, delta: float) -> None:
        """Give back (positive) or take (negative) units after the fact, e.g. estimated vs. used tokens."""
        with self._lock:
            self._refill(self._clock())
            self._level = min(self.capacity, self._level + delta)

    def cap(self, level: float) -> None:
        """Lower the level to what the server says is left (never raise it: the client may know better)."""
        with self._lock:
            self._refill(self._clock())
            self._level = min(self._level, level)

    @property
    def level(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._level


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float | None:
    """Groq's reset durations such as ``2m59.56s``, ``7.66s``, ``120ms``, ``1h2m``; plain numbers are seconds."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


class RateLimiter:
    """Requests/min and tokens/min for one model, shared by every worker thread of every job using it."""

    def __init__(
        self,
        requests_per_minute: float,
        tokens_per_minute: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._clock = clock
        self._sleep = sleep
        # requests_per_minute <= 0: no pacing (local generation and recorded answers have no quota).
        self.requests = (
            TokenBucket(requests_per_minute / 60.0, 1.0, clock) if requests_per_minute > 0 else None
        )
        # Ten seconds of tokens may go at once: big generation requests would otherwise never fit.
        self.tokens = (
            TokenBucket(tokens_per_minute / 60.0, max(1.0, tokens_per_minute / 6.0), clock)
            if tokens_per_minute > 0
            else None
        )
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (a 429's Retry-After, or a quota that the server says is spent)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def _wait_pause(self) -> None:
        while True:
            with self._lock:
                left = self._paused_until - self._clock()
            if left <= 0:
                return
            self._sleep(left)

    def acquire(self, estimated_tokens: float = 0.0) -> float:
        """Block until one request of about ``estimated_tokens`` may be sent; returns seconds waited."""
        start = self._clock()
        self._wait_pause()
        wait = self.requests.reserve(1.0) if self.requests is not None else 0.0
        if self.tokens is not None and estimated_tokens > 0:
            wait = max(wait, self.tokens.reserve(estimated_tokens))
        if wait > 0:
            self._sleep(wait)
        self._wait_pause()
        waited = self._clock() - start
        with self._lock:
            self.waited_s += waited
        return waited

    def settle(self, estimated_tokens: float, used_tokens: float) -> None:
        if self.tokens is not None and estimated_tokens > 0:
            self.tokens.adjust(estimated_tokens - used_tokens)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Follow Groq's ``x-ratelimit-*`` headers: sync the token bucket, pause when a quota is spent."""
        if not headers:
            return
        limit_tokens = _number(headers.get("x-ratelimit-limit-tokens"))
        if limit_tokens and self.tokens is None:
            # No tokens/min in the recipe: adopt the server's (Groq's limit-tokens is per minute).
            with self._lock:
                if self.tokens is None:
                    self.tokens = TokenBucket(limit_tokens / 60.0, max(1.0, limit_tokens / 6.0), self._clock)
        remaining_tokens = _number(headers.get("x-ratelimit-remaining-tokens"))
        if remaining_tokens is not None:
            if self.tokens is not None:
                self.tokens.cap(remaining_tokens)
            if remaining_tokens <= 0:
                self.pause(parse_duration(headers.get("x-ratelimit-reset-tokens", "")) or 1.0)
        remaining_requests = _number(headers.get("x-ratelimit-remaining-requests"))
        if remaining_requests is not None and remaining_requests <= 0:
            self.pause(parse_duration(headers.get("x-ratelimit-reset-requests", "")) or 1.0)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


class LimiterRegistry:
    """One limiter per (backend, endpoint, model) for a run: two jobs on one model share its quota."""

    def __init__(self) -> None:
        self._limiters: dict[tuple[str, str, str], RateLimiter] = {}
        self._lock = threading.Lock()

    def get(
        self,
        backend: str,
        endpoint: str,
        model: str,
        requests_per_minute: float,
        tokens_per_minute: float = 0.0,
    ) -> RateLimiter:
        key = (backend, endpoint, model)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = RateLimiter(requests_per_minute, tokens_per_minute)
            return limiter
