"""One request in flight: what came in, how to read its body, and the headers every answer carries."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from mockai import errors
from mockai.memo import Memo
from mockai.secrets import mask_headers

_DEEP = 200
"""Fewer brackets than this cannot nest deep enough to reach json.loads' recursion limit, which orjson
does not share: below it orjson parses, and where both parse, both agree."""


@dataclass
class Exchange:
    """One request being answered: what came in, and what to say about it in the journal."""

    scope: Scope
    receive: Receive
    server_send: Send
    """The server's own `send`; take it with `answer()`, which notes that the answer has started."""
    method: str
    path: str
    headers: dict[str, str]
    request_id: str
    started: float
    body: Any = None
    """The parsed body, for the journal and rules (multipart uploads: the form fields)."""
    raw: bytes | None = None
    """The body's bytes as they came, once read (what a cassette keys on and an upstream gets)."""
    endpoint: str | None = None
    """The endpoint family answering it (chat, embeddings...); None for other routes."""
    source: str | None = None
    """Who answered: generator, rule:..., cassette, upstream, limiter, catalogue, error..."""
    parsed: Any = None
    """What `read_json` parsed from `raw`: while `body` is this very object, `raw` says it all."""
    answered: bool = False
    """True once the answer started: an error after that cannot be answered any more."""

    header_bytes: int = 0
    """The request headers' size, names and values (what the 431 limit counts)."""
    masked_headers: Mapping[str, str] = field(default_factory=dict)
    """The headers with secrets masked (secrets.mask_headers): what the journal keeps. Read-only."""

    @classmethod
    def begin(cls, scope: Scope, receive: Receive, send: Send, seed: int, number: int) -> Exchange:
        """The exchange of the `number`th request since start or reset; its request id derives from both."""
        id_hash = _ID_HASH.copy()
        id_hash.update(b"%d:%d" % (seed, number))
        headers, size, masked = decoded(scope["headers"])
        return cls(
            scope, receive, send, scope["method"], scope["path"], headers, "req_" + id_hash.hexdigest(),
            time.perf_counter(), header_bytes=size, masked_headers=masked,
        )  # fmt: skip

    def answer(self) -> Send:
        """The server's `send`, for the answer about to start."""
        self.answered = True
        return self.server_send

    @property
    def query(self) -> str:
        return bytes(self.scope.get("query_string", b"")).decode("latin-1")

    @cached_property
    def api_key(self) -> str | None:
        """The key the request carries (`Authorization: Bearer`, else `api-key`); read once, as the
        headers never change."""
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip() or None
        return self.headers.get("api-key") or None

    async def read_body(self, limit: int) -> bytes:
        """The request body; past `limit`, OpenAI's 413 naming how many bytes came. The rest is read and
        dropped, so the client sees the answer instead of a broken pipe."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            part = message.get("body", b"")
            size += len(part)
            if size <= limit:
                chunks.append(part)
            more = bool(message.get("more_body"))
        if size > limit:
            raise errors.payload_too_large(limit, size)
        self.raw = b"".join(chunks)
        return self.raw

    async def read_json(self, limit: int) -> Any:
        """The body parsed as JSON (strict UTF-8, a BOM allowed); OpenAI's 400 when it is not JSON."""
        body = parse_json(await self.read_body(limit))
        self.body = self.parsed = body
        return body

    def headers_out(self, ratelimit: Mapping[str, str]) -> dict[str, str]:
        """The headers every answer of the API carries, with these rate-limit headers."""
        elapsed = int((time.perf_counter() - self.started) * 1000)
        return {
            "access-control-expose-headers": "X-Request-ID",
            "openai-organization": "user-mockai",
            "openai-processing-ms": str(max(elapsed, 1)),
            "openai-version": "2020-10-01",
            "x-request-id": self.request_id,
            **ratelimit,
        }


def decoded(raw: Any) -> tuple[dict[str, str], int, Mapping[str, str]]:
    """Request headers as a dict with lower-case names (a fresh dict each time), their size in bytes, and
    the same headers with secrets masked (read-only, shared).

    Memoised (bounded): a client sends the same headers with every request, so a repeat costs a copy."""
    key = tuple(raw)
    found = _HEADERS.get(key)
    if found is None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in key}
        size = sum(len(k) + len(v) for k, v in key)
        found = _HEADERS.put(key, (headers, size, mask_headers(headers)))
    return dict(found[0]), found[1], found[2]


_HEADERS: Memo[tuple[tuple[bytes, bytes], ...], tuple[dict[str, str], int, Mapping[str, str]]] = Memo(
    entries=1024, size=1_000_000, size_of=lambda key: sum(len(k) + len(v) for k, v in key)
)
"""Raw header pairs -> decoded, their size, masked: 1,024 header sets and 1 MB of them at most. Only copies
of the decoded dicts are handed out."""
_ID_HASH = hashlib.blake2b(digest_size=16)
"""Request ids are blake2b of `seed:number`; copying an empty hash skips its set-up each time."""


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def parse_json(raw: bytes) -> Any:
    """`raw` parsed as strict JSON (UTF-8, a BOM allowed); OpenAI's 400 when it is not JSON.

    Python's json accepts `NaN`, `Infinity` and `-Infinity`, which JSON does not have: the live API
    answers them with its bad-JSON 400, and so does this. orjson parses the usual body several times
    faster; what it refuses or would change goes to json.loads: NaN and friends, lone surrogate escapes,
    nesting near json's recursion limit, and integers past 64 bits (orjson makes them floats)."""
    if _PLAIN.get(raw):  # seen before: strict UTF-8 without a BOM, and what orjson reads as json.loads does
        return orjson.loads(raw)
    try:
        # json.loads(bytes) would let UTF-8-encoded surrogates and UTF-16 through.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.bad_json() from None
    if raw.count(b"[") + raw.count(b"{") < _DEEP and _LONG_NUMBER.search(raw) is None:
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if len(text) == len(raw):  # ASCII, no BOM: the bytes themselves may go straight to orjson
                _PLAIN.put(raw, True)
            return body
    try:
        return json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise errors.bad_json() from None


_PLAIN: Memo[bytes, bool] = Memo(entries=1024, size=8_000_000, size_of=len)
"""Bodies already found plain (ASCII JSON that orjson reads as json.loads does): a repeat skips the checks.
1,024 bodies and 8 MB of them at most."""
_LONG_NUMBER = re.compile(rb"\d{19}")
"""A run of digits that may not fit 64 bits: such a body goes to json.loads, which keeps it exact."""
