from __future__ import annotations

import re
import threading
import time

import pytest

from mockai.errors import UsageError, org_id
from mockai.server.limiter import DEFAULT_LIMITS, Decision, Limits, RateLimiter, go_duration

RATE_LIMITS_URL = "Visit https://platform.openai.com/account/rate-limits to learn more."


class FakeClock:
    """A monotonic clock the test moves by hand, so nothing sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(
    rpm: int = 10_000, tpm: int = 10_000_000, max_buckets: int = 4096
) -> tuple[RateLimiter, FakeClock]:
    """A limiter with these default limits on a fake clock, and the clock."""
    clock = FakeClock()
    return RateLimiter(Limits(rpm, tpm), now=clock, max_buckets=max_buckets), clock


def levels(decision: Decision) -> tuple[str, str, str, str]:
    h = decision.headers
    return (
        h["x-ratelimit-remaining-requests"],
        h["x-ratelimit-reset-requests"],
        h["x-ratelimit-remaining-tokens"],
        h["x-ratelimit-reset-tokens"],
    )


def test_one_request_reproduces_the_header_block_of_a_real_openai_response() -> None:
    limits, _ = limiter(rpm=500, tpm=30_000)

    decision = limits.check("sk-test", "gpt-4o-mini", 410)

    assert decision.allowed and decision.error is None
    assert decision.headers == {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-limit-tokens": "30000",
        "x-ratelimit-remaining-requests": "499",
        "x-ratelimit-remaining-tokens": "29590",
        "x-ratelimit-reset-requests": "120ms",
        "x-ratelimit-reset-tokens": "820ms",
    }


def test_reset_headers_round_to_the_nearest_millisecond_so_microseconds_read_0s_like_openai() -> None:
    limits, _ = limiter(rpm=30_000, tpm=150_000_000)

    assert levels(limits.check("sk-test", "gpt-4o-mini", 21)) == ("29999", "2ms", "149999979", "0s")


def test_headers_count_down_with_each_request_and_refill_continuously_over_time() -> None:
    limits, clock = limiter(rpm=3, tpm=300)

    assert levels(limits.check("k", "m", 50)) == ("2", "20s", "250", "10s")
    assert levels(limits.check("k", "m", 50)) == ("1", "40s", "200", "20s")
    assert levels(limits.check("k", "m", 50)) == ("0", "1m0s", "150", "30s")
    clock.advance(20)  # one request and 100 tokens flowed back in
    assert levels(limits.check("k", "m", 50)) == ("0", "1m0s", "200", "20s")
    clock.advance(3600)  # full again, never above the limit
    assert levels(limits.check("k", "m", 0)) == ("2", "20s", "300", "0s")


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (-5, "0s"),
        (1, "1ms"),
        (2, "2ms"),
        (20, "20ms"),
        (120, "120ms"),
        (999, "999ms"),
        (1000, "1s"),
        (1500, "1.5s"),
        (8640, "8.64s"),
        (20_000, "20s"),
        (59_999, "59.999s"),
        (60_000, "1m0s"),
        (61_001, "1m1.001s"),
        (360_000, "6m0s"),
        (432_000, "7m12s"),
        (1_185_394, "19m45.394s"),
        (3_600_000, "1h0m0s"),
        (3_723_000, "1h2m3s"),
        (90_000_050, "25h0m0.05s"),
    ],
)
def test_durations_print_as_go_duration_strings_like_openais_reset_headers(ms: int, text: str) -> None:
    assert go_duration(ms) == text


def test_an_empty_request_bucket_answers_openais_rpm_429_verbatim() -> None:
    limits, _ = limiter(rpm=3)
    for _ in range(3):
        assert limits.check("sk-test", "gpt-4o-mini", 10).allowed

    decision = limits.check("sk-test", "gpt-4o-mini", 10)

    error = decision.error
    assert error is not None and not decision.allowed
    assert error.body() == {
        "error": {
            "message": f"Rate limit reached for gpt-4o-mini in organization {org_id('sk-test')} on "
            "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. "
            f"{RATE_LIMITS_URL}",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert error.status == 429
    assert error.headers["retry-after"] == "20"
    assert error.headers["retry-after-ms"] == "20000"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert decision.headers == error.headers


def test_an_empty_token_bucket_answers_openais_tpm_429_with_the_exact_wait() -> None:
    limits, clock = limiter(tpm=200_000)
    assert limits.check("sk-test", "gpt-4o-mini", 195_869).allowed

    error = limits.check("sk-test", "gpt-4o-mini", 4412).error

    # 281 tokens short at 200000/min is 84.3 ms: the wait is rounded up so retrying after it succeeds.
    assert error is not None and error.status == 429
    assert error.message == (
        f"Rate limit reached for gpt-4o-mini in organization {org_id('sk-test')} on tokens per min (TPM): "
        f"Limit 200000, Used 195869, Requested 4412. Please try again in 85ms. {RATE_LIMITS_URL}"
    )
    assert (error.type, error.param, error.code) == ("tokens", None, "rate_limit_exceeded")
    assert error.headers["retry-after"] == "1"  # whole seconds, never below 1
    assert error.headers["retry-after-ms"] == "85"
    assert error.headers["x-ratelimit-remaining-tokens"] == "4131"
    clock.advance(0.085)
    assert limits.check("sk-test", "gpt-4o-mini", 4412).allowed


def test_a_refused_request_takes_nothing_and_waiting_retry_after_ms_lets_the_retry_through() -> None:
    limits, clock = limiter(rpm=2, tpm=1000)
    assert limits.check("k", "m", 600).allowed

    refused = limits.check("k", "m", 700)
    assert refused.error is not None and refused.error.type == "tokens"
    assert refused.headers["x-ratelimit-remaining-requests"] == "1"
    assert refused.headers["x-ratelimit-remaining-tokens"] == "400"
    assert limits.check("k", "m", 400).allowed  # the refusal consumed neither bucket

    wait_ms = int(limits.check("k", "m", 1).headers["retry-after-ms"])  # requests are checked first
    assert wait_ms == 30_000
    clock.advance(wait_ms / 1000)
    assert limits.check("k", "m", 1).allowed


def test_a_single_request_over_the_tpm_limit_is_too_large_and_has_no_retry_headers() -> None:
    limits, _ = limiter(tpm=30_000)

    decision = limits.check("sk-test", "gpt-4o", 34_307)

    error = decision.error
    assert error is not None and error.status == 429
    assert error.message == (
        f"Request too large for gpt-4o in organization {org_id('sk-test')} on tokens per min (TPM): "
        "Limit 30000, Requested 34307. The input or output tokens must be reduced in order to run "
        f"successfully. {RATE_LIMITS_URL}"
    )
    assert (error.type, error.param, error.code) == ("tokens", None, "rate_limit_exceeded")
    assert "retry-after" not in error.headers and "retry-after-ms" not in error.headers
    assert error.headers["x-ratelimit-remaining-tokens"] == "30000"
    assert limits.check("sk-test", "gpt-4o", 30_000).allowed  # exactly the limit still fits


def test_per_model_limits_match_exact_ids_before_the_longest_glob_and_fall_back_to_the_default() -> None:
    limits, _ = limiter(rpm=100, tpm=5000)
    limits.set_limits(rpm=2, model="gpt-4*")
    limits.set_limits(rpm=3, tpm=900, model="gpt-4o*")
    limits.set_limits(tpm=700, model="gpt-4o-mini")

    assert limits.limits_for("gpt-3.5-turbo") == Limits(100, 5000)
    assert limits.limits_for("gpt-4-turbo") == Limits(2, 5000)
    assert limits.limits_for("gpt-4o-2024-08-06") == Limits(3, 900)
    assert limits.limits_for("gpt-4o-mini") == Limits(100, 700)  # unset fields come from the default
    assert [limits.check("k", "gpt-4-turbo", 1).allowed for _ in range(3)] == [True, True, False]
    assert limits.check("k", "gpt-3.5-turbo", 1).headers["x-ratelimit-limit-requests"] == "100"


def test_limits_given_at_construction_apply_per_model() -> None:
    clock = FakeClock()
    limits = RateLimiter(models={"text-embedding-*": Limits(rpm=1, tpm=100)}, now=clock)

    assert limits.limits_for("gpt-4o") == DEFAULT_LIMITS
    assert limits.check(None, "text-embedding-3-small", 5).allowed
    assert not limits.check(None, "text-embedding-3-small", 5).allowed


def test_each_api_key_and_model_has_its_own_buckets() -> None:
    limits, _ = limiter(rpm=1)
    assert limits.check("sk-a", "gpt-4o", 1).allowed
    assert not limits.check("sk-a", "gpt-4o", 1).allowed

    assert limits.check("sk-b", "gpt-4o", 1).allowed
    assert limits.check("sk-a", "gpt-4o-mini", 1).allowed
    assert limits.check(None, "gpt-4o", 1).allowed


def test_the_org_in_429_texts_is_a_stable_fake_derived_from_the_key_and_never_shows_the_key() -> None:
    assert re.fullmatch(r"org-[0-9A-Za-z]{24}", org_id("sk-secret-key"))
    assert org_id("sk-secret-key") == "org-tRVYC1FB8kGG2kBhVlZhbEfo"  # the same in every process and run
    assert org_id("sk-secret-key") != org_id("sk-other-key")
    assert org_id(None) == org_id("")
    limits, _ = limiter(rpm=1)
    limits.check("sk-secret-key", "m", 1)
    error = limits.check("sk-secret-key", "m", 1).error
    assert error is not None and "sk-secret" not in error.message
    assert org_id("sk-secret-key") in error.message


def test_set_limits_starts_every_bucket_full_under_the_new_limits() -> None:
    limits, _ = limiter(rpm=1)
    limits.check("k", "m", 1)

    limits.set_limits(rpm=2)

    assert limits.limits_for("m") == Limits(2, 10_000_000)
    assert [limits.check("k", "m", 1).allowed for _ in range(3)] == [True, True, False]


def test_reset_empties_all_buckets_and_with_limits_true_also_undoes_set_limits() -> None:
    limits, _ = limiter(rpm=1)
    limits.check("k", "m", 1)
    limits.set_limits(rpm=5, model="m")

    limits.reset()
    assert len(limits) == 0
    assert limits.limits_for("m") == Limits(5, 10_000_000)

    limits.reset(limits=True)
    assert limits.limits_for("m") == Limits(1, 10_000_000)
    assert limits.check("k", "m", 1).allowed


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_limits_that_are_not_whole_numbers_above_zero_are_rejected_with_their_name(bad: object) -> None:
    limits, _ = limiter()
    with pytest.raises(UsageError, match=r"^mockai: rpm must be a whole number of at least 1; got "):
        limits.set_limits(rpm=bad, model="gpt-4*")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^mockai: tpm must be a whole number of at least 1"):
        Limits(rpm=1, tpm=bad)  # type: ignore[arg-type]
    assert limits.limits_for("gpt-4o") == Limits(10_000, 10_000_000)


def test_a_negative_token_cost_is_a_usage_error() -> None:
    limits, _ = limiter()
    with pytest.raises(UsageError, match="cannot cost -1 tokens"):
        limits.check("k", "m", -1)


def test_memory_stays_bounded_by_evicting_the_least_recently_used_bucket() -> None:
    limits, _ = limiter(rpm=10, max_buckets=3)
    for key in ("a", "b", "c"):
        limits.check(key, "m", 1)
    limits.check("a", "m", 1)  # "a" is now the most recently used

    limits.check("d", "m", 1)  # evicts "b"

    assert len(limits) == 3
    assert limits.check("a", "m", 1).headers["x-ratelimit-remaining-requests"] == "7"  # kept its history
    assert limits.check("b", "m", 1).headers["x-ratelimit-remaining-requests"] == "9"  # started afresh
    for n in range(1000):
        limits.check(f"key-{n}", "m", 1)
    assert len(limits) == 3


def test_concurrent_checks_admit_exactly_the_limit() -> None:
    limits, _ = limiter(rpm=250)
    allowed: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        allowed.append(sum(limits.check("k", "m", 1).allowed for _ in range(100)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(allowed) == 250


def test_a_check_costs_microseconds_not_milliseconds() -> None:
    limits, _ = limiter()
    runs = 5000
    started = time.perf_counter()
    for n in range(runs):
        limits.check(f"key-{n % 50}", "gpt-4o-mini", 100)
    per_check = (time.perf_counter() - started) / runs
    assert per_check < 200e-6  # measured ~2 us; the bound only catches an accidental slow path


def test_an_unenforced_limiter_counts_down_in_its_headers_but_refuses_nothing() -> None:
    limits = RateLimiter(Limits(rpm=2, tpm=100), now=lambda: 0.0, enforce=False)
    decisions = [limits.check("k", "m", 10) for _ in range(4)]
    assert all(d.allowed for d in decisions)
    assert [d.headers["x-ratelimit-remaining-requests"] for d in decisions] == ["1", "0", "0", "0"]
    limits.set_limits(rpm=2)
    assert [limits.check("k", "m", 10).allowed for _ in range(3)] == [True, True, False]
