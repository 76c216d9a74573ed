"""What counts as a secret in a request, and how it is masked: shared by the journal, the cassette
scrubber and the 401 texts, so a secret hidden in one place is hidden in all of them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockai.memo import Memo

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "api-key",
        "openai-organization",
        "openai-project",
        "cookie",
        "x-api-key",
        "proxy-authorization",
    }
)
"""Request headers whose values are secrets: masked in the journal, redacted in cassettes."""
SECRET_QUERY = frozenset(
    {
        "api-key",
        "api_key",
        "apikey",
        "x-api-key",
        "key",
        "access_token",
        "access-token",
        "refresh_token",
        "id_token",
        "token",
        "auth",
        "secret",
        "client_secret",
        "api_secret",
        "password",
        "passwd",
        "sig",
        "signature",
    }
)
"""Query parameters whose values are secrets: redacted in cassettes and left out of request keys."""


def mask_key(key: str) -> str:
    """Mask a key as OpenAI does: first 8, stars, last 4; short keys verbatim."""
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def mask_secret(secret: str) -> str:
    """A secret masked as OpenAI masks keys (`sk-abcde***...wxyz`); a short one all stars."""
    return mask_key(secret) if len(secret) > 12 else "*" * len(secret)


def mask_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Headers with secrets masked the way OpenAI masks keys (`sk-abcde***...wxyz`), read-only.

    Memoised (bounded) and shared: a client sends the same headers with every request, and the journal
    keeps one mapping for all of them."""
    key = tuple(headers.items())
    found = _MASKED.get(key)
    if found is None:
        found = _MASKED.put(key, MappingProxyType(_mask_headers(headers)))
    return found


_MASKED: Memo[tuple[tuple[str, str], ...], Mapping[str, str]] = Memo(
    entries=1024, size=1_000_000, size_of=lambda key: sum(len(k) + len(v) for k, v in key)
)
"""Bounded: 1,024 header sets and 1 M characters of them at most. Values are read-only views."""


def _mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, token = value.partition(" ")
            bearer = lower in ("authorization", "proxy-authorization") and token
            out[lower] = f"{scheme} {mask_secret(token)}" if bearer else mask_secret(value)
        else:
            out[lower] = value
    return out
