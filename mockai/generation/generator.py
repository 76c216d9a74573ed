"""The deterministic default: ids, timestamps and text derived from a hash of the request and seed.

Nothing here reads the wall clock or a random source, so the same request and seed give the same
bytes every time (DESIGN.md, "Determinism").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

OPENERS = (
    "Sure.",
    "Certainly.",
    "Here is a short answer.",
    "Good question.",
    "Of course.",
    "Happy to help.",
    "Let me explain.",
    "In short:",
)
WORDS = (
    "the",
    "model",
    "reply",
    "is",
    "a",
    "simple",
    "clear",
    "answer",
    "to",
    "your",
    "request",
    "and",
    "it",
    "shows",
    "how",
    "this",
    "works",
    "in",
    "practice",
    "with",
    "one",
    "small",
    "example",
    "that",
    "you",
    "can",
    "test",
    "again",
    "later",
    "today",
    "for",
    "each",
    "case",
    "step",
    "result",
    "value",
    "data",
    "plan",
    "idea",
    "point",
    "note",
    "list",
    "task",
    "code",
    "text",
    "user",
    "system",
    "check",
    "run",
    "output",
    "input",
    "fast",
    "safe",
    "stable",
    "quiet",
    "bright",
    "careful",
    "useful",
    "final",
    "next",
)


# Parameters that change how a reply is delivered, not what the "model" writes: left out of the digest
# so a stream rebuilds the non-stream reply, and max_tokens or stop cut the very same text.
PRESENTATION = frozenset(
    {
        "stream",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "logprobs",
        "top_logprobs",
        "user",
        "metadata",
        "store",
        "service_tier",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
        "echo",
        "encoding_format",
        "timestamp_granularities[]",
    }
)


_canonical_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode
"""json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str), with one encoder
built once instead of one per request."""


def digest(seed: int, endpoint: str, body: Mapping[str, Any]) -> bytes:
    """A stable fingerprint of what a request asks the model: endpoint, content parameters and seed."""
    content = {k: v for k, v in body.items() if k not in PRESENTATION}
    canonical = _canonical_json(content)
    return hashlib.blake2b(
        f"{seed}\x00{endpoint}\x00{canonical}".encode("utf-8", "surrogatepass"), digest_size=32
    ).digest()


def derive(d: bytes, label: str) -> bytes:
    return hashlib.blake2b(d + label.encode(), digest_size=32).digest()


_PAIRS = [ALPHABET[r % 62] + ALPHABET[r // 62] for r in range(62 * 62)]
"""Two base62 digits at once, least significant first: half the big-number divisions of one at a time."""


@lru_cache(maxsize=4096)
def make_id(prefix: str, d: bytes, length: int = 29, label: str = "id") -> str:
    """`prefix` + `length` base62 characters, as OpenAI's ids look (`chatcmpl-` + 29).

    The digits of a hash, least significant first. Memoised (bounded): a repeated request repeats its ids."""
    n = int.from_bytes(derive(d, label), "big")
    chars = []
    for _ in range(length // 2):
        n, r = divmod(n, 3844)
        chars.append(_PAIRS[r])
    if length % 2:
        chars.append(ALPHABET[n % 62])
    return prefix + "".join(chars)


def hex_id(d: bytes, label: str, length: int = 32) -> str:
    return derive(d, label).hex()[:length]


@lru_cache(maxsize=512)
def fingerprint(model: str) -> str:
    """`fp_` + 10 hex: fixed per model snapshot, as the real API's is per deployment."""
    return "fp_" + hashlib.blake2b(model.encode(), digest_size=5).hexdigest()


@lru_cache(maxsize=4096)
def created(as_of: dt.date, d: bytes) -> int:
    """A unix time on the simulated date, derived from the request (memoised, bounded, as make_id)."""
    return _midnight(as_of) + int.from_bytes(derive(d, "created")[:4], "big") % 86400


@lru_cache(maxsize=64)
def _midnight(as_of: dt.date) -> int:
    """Unix time of 00:00 UTC on the simulated date: the same for every request of a day, so cached."""
    return int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.timezone.utc).timestamp())


def number(d: bytes, label: str, n: int) -> int:
    """A deterministic integer in [0, n)."""
    return int.from_bytes(derive(d, label)[:8], "big") % n


_WORD_AT = [WORDS[b * 7 % len(WORDS) ^ m] for b in range(256) for m in range(3)]
"""The word for hash byte b at position k: `_WORD_AT[b * 3 + k % 3]`, looked up instead of computed."""


def text(d: bytes, label: str = "text") -> str:
    """A short, readable reply of 2-3 sentences, about 20-45 words."""
    h = derive(d, label)
    parts = [OPENERS[h[0] % len(OPENERS)]]
    i = 1
    for _ in range(2 + h[1] % 2):
        length = 8 + h[i % 32] % 10
        words = [_WORD_AT[h[(i + k) % 32] * 3 + k % 3] for k in range(length)]
        i += length
        sentence = " ".join(words)
        parts.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(parts)
