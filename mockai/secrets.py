"""What counts as a secret in a request, and how it is masked: shared by the journal, the cassette
scrubber and the 401 texts, so a secret hidden in one place is hidden in all of them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

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
    """Headers with secrets masked the way OpenAI masks keys (`sk-abcde***...wxyz`), read-only: the journal
    shares one mapping among the requests that sent these headers (mockai.server.exchange memoises it)."""
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, token = value.partition(" ")
            bearer = lower in ("authorization", "proxy-authorization") and token
            out[lower] = f"{scheme} {mask_secret(token)}" if bearer else mask_secret(value)
        else:
            out[lower] = value
    return MappingProxyType(out)
