"""Keep secrets off disk: what a cassette must never hold, and how it is taken out before writing.

Three layers, applied to every interaction before its line is written:
1. secret headers: request values become `<redacted>`; response headers are dropped (the client got them
   live);
2. configured JSON fields (by key name, at any depth, request and response bodies and stream chunks) and
   secret query parameters become `<redacted>`;
3. the literal values of the request's secret headers (the API key, org and project ids, cookies) are
   replaced wherever they still appear in the line, e.g. echoed back in an upstream error message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mockai.secrets import SECRET_HEADERS as REQUEST_SECRETS, SECRET_QUERY

REDACTED = "<redacted>"
SECRET_HEADERS = REQUEST_SECRETS | {"set-cookie"}
MIN_SECRET = 8
"""Shorter header values are not hunted for in the whole line: too likely to hit innocent text."""


@dataclass(frozen=True)
class Scrubber:
    """Which headers and JSON fields are secret; built once per cassette in use."""

    headers: frozenset[str] = SECRET_HEADERS
    fields: frozenset[str] = frozenset()
    extra_values: tuple[str, ...] = field(default=(), repr=False)
    """Known secrets to hunt for in every line (e.g. an upstream key mockai adds itself)."""

    @classmethod
    def build(
        cls, headers: Iterable[str] = (), fields: Iterable[str] = (), values: Iterable[str] = ()
    ) -> Scrubber:
        return cls(
            SECRET_HEADERS | {h.lower() for h in headers}, frozenset(fields), tuple(v for v in values if v)
        )

    def request_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, REDACTED if k.lower() in self.headers else v) for k, v in headers]

    def response_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers if k.lower() not in self.headers]

    def query(self, query: str) -> str:
        if not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(k.lower() in SECRET_QUERY or k in self.fields for k, _ in pairs):
            return query
        return urlencode(
            [(k, REDACTED if k.lower() in SECRET_QUERY or k in self.fields else v) for k, v in pairs]
        )

    def json(self, obj: Any) -> tuple[Any, bool]:
        """`obj` with configured fields redacted, and whether anything changed."""
        if not self.fields:
            return obj, False
        return _redact(obj, self.fields)

    def secrets(self, headers: Iterable[tuple[str, str]]) -> list[str]:
        """The secret values a request carried, longest first, to hunt for in the written line."""
        found = set(self.extra_values)
        for name, value in headers:
            if name.lower() not in self.headers:
                continue
            found.add(value)
            scheme, _, token = value.partition(" ")
            if token:
                found.add(token.strip())
            for cookie in value.split(";"):
                found.add(cookie.partition("=")[2].strip())
        return sorted((s for s in found if len(s) >= MIN_SECRET and s != REDACTED), key=len, reverse=True)

    def values(self, obj: Any, query: str = "") -> list[str]:
        """The values of secret fields in a request body and query: hunted in the line like header secrets."""
        found = [
            v
            for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() in SECRET_QUERY or k in self.fields
        ]
        if self.fields:
            _collect(obj, self.fields, found)
        return [v for v in found if len(v) >= MIN_SECRET]

    @staticmethod
    def text(line: str, secrets: Iterable[str]) -> str:
        for secret in secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return line


def _redact(obj: Any, fields: frozenset[str]) -> tuple[Any, bool]:
    if isinstance(obj, dict):
        out, changed = {}, False
        for k, v in obj.items():
            if k in fields:
                out[k], changed = REDACTED, True
            else:
                out[k], sub = _redact(v, fields)
                changed = changed or sub
        return (out, True) if changed else (obj, False)
    if isinstance(obj, list):
        pairs = [_redact(v, fields) for v in obj]
        if any(c for _, c in pairs):
            return [v for v, _ in pairs], True
    return obj, False


def _collect(obj: Any, fields: frozenset[str], found: list[str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in fields and isinstance(v, str):
                found.append(v)
            else:
                _collect(v, fields, found)
    elif isinstance(obj, list):
        for v in obj:
            _collect(v, fields, found)
