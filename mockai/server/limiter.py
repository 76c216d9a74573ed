"""Token-bucket rate limits per API key and model, with OpenAI's x-ratelimit-* headers and 429 texts.

Each (key, model) pair has two buckets, requests and tokens. Each holds up to its per-minute limit and
refills continuously at limit/60 per second, as OpenAI's do: at 500 RPM one request later the real API
answers `x-ratelimit-reset-requests: 120ms` (1/(500/60) s). `RateLimiter.check` either takes one request
and the token estimate from both buckets, or takes nothing and returns the 429 in `Decision.error`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import NamedTuple

from mockai import errors, settings
from mockai.errors import OpenAIError, UsageError, org_id

EPSILON = 1e-9
"""Slack for float refills, so a client that waits exactly the advertised time is let through."""


@dataclass(frozen=True)
class Limits:
    """Requests per minute and tokens per minute for one (key, model) bucket pair."""

    rpm: int
    tpm: int

    def __post_init__(self) -> None:
        _validate("rpm", self.rpm)
        _validate("tpm", self.tpm)


def _validate(name: str, value: object) -> None:
    """Reject a limit that is not a whole number >= 1, naming it (as every setting is checked)."""
    settings.check(name, value)


DEFAULT_LIMITS = Limits(rpm=30_000, tpm=150_000_000)
"""The headers a high-tier key sees. Not enforced until limits are set: a fast suite must never hit them."""


class Decision(NamedTuple):
    """The limiter's answer: headers for the response, and the 429 to answer instead when `error` is set.
    (A named tuple: one is made for every request, at a third of a frozen dataclass's cost.)"""

    headers: Mapping[str, str]
    error: OpenAIError | None = None

    @property
    def allowed(self) -> bool:
        """True when the request was admitted and its cost taken from the buckets."""
        return self.error is None


class _Bucket:
    """The two levels left for one (key, model), and when they were last refilled."""

    __slots__ = ("limits", "requests", "tokens", "stamp")

    def __init__(self, limits: Limits, stamp: float) -> None:
        self.limits = limits
        self.requests = float(limits.rpm)
        self.tokens = float(limits.tpm)
        self.stamp = stamp

    def refill(self, now: float) -> None:
        """Add what has flowed in since the last refill, capped at the limits."""
        elapsed = now - self.stamp
        if elapsed > 0:
            rpm, tpm = self.limits.rpm, self.limits.tpm
            self.requests = min(float(rpm), self.requests + elapsed * rpm / 60)
            self.tokens = min(float(tpm), self.tokens + elapsed * tpm / 60)
            self.stamp = now


class RateLimiter:
    """RPM and TPM token buckets per (API key, model), thread-safe, LRU-bounded, on an injectable clock."""

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        models: Mapping[str, Limits] | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        max_buckets: int = 4096,
        enforce: bool = True,
    ) -> None:
        self._initial = (limits, dict(models or {}), enforce)
        self.enforce = enforce
        """When False, headers count down but nothing is refused (the default until limits are set)."""
        self._default = limits
        self._models: dict[str, tuple[int | None, int | None]] = {}
        self._now = now
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[tuple[str | None, str], _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self.reset(limits=True)

    def set_limits(self, rpm: int | None = None, tpm: int | None = None, model: str | None = None) -> None:
        """Change the default limits, or those of one model id or glob ("gpt-4*"); empties every bucket."""
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None:
                _validate(name, value)
        with self._lock:
            self.enforce = True
            if model is None:
                self._default = Limits(rpm or self._default.rpm, tpm or self._default.tpm)
            else:
                old_rpm, old_tpm = self._models.get(model, (None, None))
                self._models[model] = (rpm or old_rpm, tpm or old_tpm)
            self._buckets.clear()

    def limits_for(self, model: str) -> Limits:
        """The limits that apply to `model` (exact id, else longest matching glob, else the default)."""
        with self._lock:
            return self._resolve(model)

    def reset(self, *, limits: bool = False) -> None:
        """Empty all buckets so every key starts full; with `limits=True` also undo `set_limits`."""
        with self._lock:
            self._buckets.clear()
            if limits:
                self._default = self._initial[0]
                self.enforce = self._initial[2]
                self._models = {m: (v.rpm, v.tpm) for m, v in self._initial[1].items()}

    def __len__(self) -> int:
        """How many (key, model) buckets are held (at most `max_buckets`)."""
        return len(self._buckets)

    def check(self, key: str | None, model: str, tokens: int) -> Decision:
        """Admit one request costing `tokens` (prompt + max completion) and take its cost, or refuse it."""
        if tokens < 0:
            raise UsageError(f"mockai: a request cannot cost {tokens} tokens; pass prompt + max completion.")
        now = self._now()
        with self._lock:
            bucket = self._bucket(key, model, now)
            bucket.refill(now)
            limits, requests, left = bucket.limits, bucket.requests, bucket.tokens
            if tokens > limits.tpm:
                refusal: str | None = "too_large"
            elif requests + EPSILON < 1:
                refusal = "requests"
            elif left + EPSILON < tokens:
                refusal = "tokens"
            else:
                refusal = None
            if refusal is None or not self.enforce:
                refusal = None
                bucket.requests = requests = max(0.0, requests - 1)
                bucket.tokens = left = max(0.0, left - tokens)
        headers = _headers(limits, requests, left)
        if refusal is None:
            return Decision(headers)
        error = _refusal(refusal, key, model, tokens, limits, requests, left, headers)
        return Decision(error.headers, error)

    def peek(self, key: str | None, model: str) -> dict[str, str]:
        """The x-ratelimit-* headers as they stand, taking nothing (for answers that cost no quota)."""
        now = self._now()
        with self._lock:
            bucket = self._buckets.get((key, model))
            if bucket is None:
                limits = self._resolve(model)
                return _headers(limits, limits.rpm, limits.tpm)
            bucket.refill(now)
            return _headers(bucket.limits, bucket.requests, bucket.tokens)

    def _bucket(self, key: str | None, model: str, now: float) -> _Bucket:
        """The buckets of (key, model), new ones full; evicts the least recently used beyond the cap."""
        buckets = self._buckets
        bucket = buckets.get((key, model))
        if bucket is not None:
            buckets.move_to_end((key, model))
            return bucket
        bucket = buckets[(key, model)] = _Bucket(self._resolve(model), now)
        if len(buckets) > self._max_buckets:
            buckets.popitem(last=False)
        return bucket

    def _resolve(self, model: str) -> Limits:
        """Per-model fields set for `model` (or its longest matching glob); unset fields from the default."""
        override = self._models.get(model)
        if override is None:
            globs = [p for p in self._models if any(c in p for c in "*?[") and fnmatchcase(model, p)]
            if not globs:
                return self._default
            override = self._models[max(globs, key=len)]
        rpm, tpm = override
        return Limits(rpm or self._default.rpm, tpm or self._default.tpm)


def _headers(limits: Limits, requests: float, tokens: float) -> dict[str, str]:
    """The six x-ratelimit-* headers for levels `requests` and `tokens` left."""
    rpm, tpm = limits.rpm, limits.tpm
    return {
        "x-ratelimit-limit-requests": str(rpm),
        "x-ratelimit-limit-tokens": str(tpm),
        "x-ratelimit-remaining-requests": str(int(requests + EPSILON)),
        "x-ratelimit-remaining-tokens": str(int(tokens + EPSILON)),
        "x-ratelimit-reset-requests": go_duration(int((rpm - requests) * 60_000 / rpm + 0.5)),
        "x-ratelimit-reset-tokens": go_duration(int((tpm - tokens) * 60_000 / tpm + 0.5)),
    }


def _refusal(
    kind: str,
    key: str | None,
    model: str,
    tokens: int,
    limits: Limits,
    requests: float,
    left: float,
    headers: dict[str, str],
) -> OpenAIError:
    """The 429 for a refused request; waits are rounded up to whole ms so retrying after them succeeds."""
    org = org_id(key)
    if kind == "too_large":
        return errors.request_too_large(model, org, limits.tpm, tokens, headers)
    limit, level, need = (limits.rpm, requests, 1) if kind == "requests" else (limits.tpm, left, tokens)
    wait_ms = max(1, math.ceil((need - level) * 60_000 / limit - 1e-6))
    retry = {"retry-after": str(max(1, math.ceil(wait_ms / 1000))), "retry-after-ms": str(wait_ms)}
    used = limit - int(level + EPSILON)
    wait = go_duration(wait_ms)
    return errors.rate_limit_reached(model, org, kind, limit, used, need, wait, {**headers, **retry})


@lru_cache(maxsize=4096)
def go_duration(ms: int) -> str:
    """Whole milliseconds as Go's Duration.String() prints them (0s, 120ms, 8.64s, 6m0s), as OpenAI does."""
    if ms < 1000:
        return f"{ms}ms" if ms > 0 else "0s"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, frac = divmod(rest, 1000)
    sec = f"{seconds}.{frac:03d}".rstrip("0") if frac else str(seconds)
    if hours:
        return f"{hours}h{minutes}m{sec}s"
    return f"{minutes}m{sec}s" if minutes else f"{sec}s"
