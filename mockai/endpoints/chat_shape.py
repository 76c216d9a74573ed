"""Which keys a chat completion carries on a simulated date, for a model: the live API grew its body over
time (dates read off recorded traffic, shared/reference/real-traffic, bracketed by the last recording
without a key and the first with it; the day inside that bracket is a launch date, [UNVERIFIED])."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mockai.generation import generator
from mockai.models.catalogue import Model

REFUSAL_SINCE = dt.date(2024, 8, 6)
"""`message.refusal` (and a stream's first delta `refusal`): structured outputs' launch.
Recorded: absent 2024-07-01, present 2024-08-31."""
USAGE_DETAILS_SINCE = dt.date(2024, 10, 1)
"""`usage.prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`: prompt
caching's launch. Recorded: absent 2024-08-31, present 2024-10-08."""
AUDIO_DETAILS_SINCE = dt.date(2024, 11, 4)
"""`audio_tokens` and `accepted/rejected_prediction_tokens`: predicted outputs' launch.
Recorded: absent 2024-10-11, present 2024-11-07."""
SERVICE_TIER_SINCE = dt.date(2024, 12, 17)
"""Top-level `service_tier`. Recorded: absent 2024-11-07, present 2025-01-13."""
ANNOTATIONS_SINCE = dt.date(2025, 3, 11)
"""`message.annotations`: web search's launch. Recorded: absent 2025-01-13, present 2025-03-14."""
OBFUSCATION_SINCE = dt.date(2025, 8, 5)
"""Stream chunks' `obfuscation` padding. Recorded: absent 2025-07-08, present 2025-08-05."""
FINGERPRINT_NULL_SINCE = {"gpt-3.5-turbo": dt.date(2024, 6, 1)}
"""Families whose `system_fingerprint` became null. Recorded: `fp_...` 2024-04-19, null 2024-06-08."""

ABSENT = object()
"""A key the body does not carry."""

OBFUSCATION_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class ChatShape:
    refusal: bool
    annotations: bool
    service_tier: str | None
    """None: no `service_tier` key."""
    usage_details: int
    """0: none; 1: cached and reasoning tokens; 2: also audio and prediction tokens."""
    cache_write: bool
    """`prompt_tokens_details.cache_write_tokens` (gpt-5.6 family)."""
    obfuscation: bool
    logprobs_key: bool
    fingerprint: object
    """The `system_fingerprint` value: a string, None (null), or ABSENT."""


def shape(model: Model, name: str, as_of: dt.date, service_tier: object = None) -> ChatShape:
    """The chat body's shape for `model` (answering as snapshot `name`) on `as_of`."""
    tier: str | None = None
    if as_of >= SERVICE_TIER_SINCE and "search" not in model.traits:
        # [UNVERIFIED] a tier asked for is echoed; `auto` answers as `default`.
        tier = service_tier if service_tier in ("flex", "priority", "scale") else "default"
    usage = 2 if as_of >= AUDIO_DETAILS_SINCE else 1 if as_of >= USAGE_DETAILS_SINCE else 0
    return ChatShape(
        refusal=as_of >= REFUSAL_SINCE,
        annotations=as_of >= ANNOTATIONS_SINCE,
        service_tier=tier,
        usage_details=usage,
        cache_write="cache_write" in model.traits,
        obfuscation=as_of >= OBFUSCATION_SINCE,
        logprobs_key=not (model.reasoning or "no_logprobs" in model.traits),
        fingerprint=_fingerprint(model, name, as_of),
    )


def _fingerprint(model: Model, name: str, as_of: dt.date) -> object:
    if "fp_absent" in model.traits:
        return ABSENT
    if "fp_empty" in model.traits:
        return ""
    if "fp_null" in model.traits:
        return None
    for family, since in FINGERPRINT_NULL_SINCE.items():
        if name.startswith(family) and as_of >= since:
            return None
    return generator.fingerprint(name)


def obfuscation(digest: bytes, index: int) -> str:
    """A stream chunk's padding: 0 to 15 characters, derived from the request and the chunk's place."""
    d = generator.derive(digest, f"obfuscation{index}")
    return "".join(OBFUSCATION_CHARS[b % len(OBFUSCATION_CHARS)] for b in d[1 : 1 + d[0] % 16])
