"""The journal: what each request asked and what mockai answered, for assertions.

Bounded twice, so a long CI run or a hostile client cannot grow memory without limit: at most `size`
entries and `max_bytes` of them (the oldest go first), and a body past `body_bytes` is kept as a marker
with its first bytes instead. Secrets in headers are masked before an entry is stored.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from mockai.server.exchange import parse_json


class Entry:
    """One request and its answer, read-only.

    An entry keeps the body's bytes as they came and parses them when `json` is first read: a journal of
    10,000 entries holds 10,000 byte strings, not 10,000 parsed trees (less memory, and a hot path that
    frees what it parsed at once)."""

    __slots__ = ("seq", "method", "path", "headers", "status", "endpoint", "reply", "_json", "_raw")

    def __init__(
        self,
        seq: int,
        method: str,
        path: str,
        headers: Mapping[str, str],
        json: Any,
        status: int,
        endpoint: str | None = None,
        reply: Mapping[str, Any] | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.seq, self.method, self.path, self.headers = seq, method, path, headers
        self.status, self.endpoint, self.reply = status, endpoint, _NO_REPLY if reply is None else reply
        self._json, self._raw = json, raw

    @property
    def json(self) -> Any:
        """The parsed body (None when it was not JSON); multipart uploads: the form fields."""
        if self._raw is not None:
            self._json, self._raw = parse_json(self._raw), None
        return self._json

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.json,
            "status": self.status,
            "endpoint": self.endpoint,
            "reply": dict(self.reply),
        }

    def __repr__(self) -> str:
        return f"<Entry #{self.seq} {self.method} {self.path} {self.status} {self.reply.get('source')}>"


_NO_REPLY: Mapping[str, Any] = MappingProxyType({})


ENTRY_OVERHEAD = 512
"""Bytes an entry costs besides its body and headers (its fields, the reply), for the byte bound."""


def truncated(raw: bytes, limit: int) -> dict[str, Any]:
    """What the journal keeps of a body past `limit` bytes: a marker saying so, and its first bytes."""
    return {
        "mockai_truncated": f"the body was {len(raw):,} bytes; the journal keeps bodies up to {limit:,} "
        "bytes (journal_body_bytes), so here are its first bytes",
        "bytes": len(raw),
        "head": raw[:limit].decode("utf-8", "replace"),
    }


class Journal:
    """A thread-safe ring buffer of entries, newest last, bounded in entries and in bytes."""

    def __init__(
        self, size: int = 10_000, max_bytes: int = 128 * 1024 * 1024, body_bytes: int = 1024 * 1024
    ) -> None:
        self._entries: deque[tuple[Entry, int]] = deque()
        self._lock = threading.Lock()
        self._seq = 0
        self.size, self.max_bytes, self.body_bytes = size, max_bytes, body_bytes
        self._bytes = 0

    def record(
        self,
        raw: bytes | None = None,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        json: Any,
        status: int,
        endpoint: str | None = None,
        reply: Mapping[str, Any] | None = None,
        json_from_raw: bool = False,
        header_bytes: int | None = None,
    ) -> Entry:
        """Store one entry; `raw`, the body's bytes, is what it costs (past `body_bytes`, only a marker).
        `json_from_raw`: `json` is what `raw` parses to, so the entry keeps the bytes and parses them when
        read. `header_bytes`: the headers' size when known (else measured here)."""
        if header_bytes is None:
            header_bytes = sum(map(len, headers)) + sum(map(len, headers.values()))
        cost = ENTRY_OVERHEAD + header_bytes
        lazy = None
        if raw is not None and len(raw) > self.body_bytes:
            json = truncated(raw, self.body_bytes)
            cost += self.body_bytes
        elif raw is not None:
            cost += len(raw)
            if json_from_raw:
                json, lazy = None, raw
        with self._lock:
            self._seq += 1
            entry = Entry(self._seq, method, path, headers, json, status, endpoint, reply, lazy)
            self._entries.append((entry, cost))
            self._bytes += cost
            while len(self._entries) > self.size or (self._bytes > self.max_bytes and len(self._entries) > 1):
                self._bytes -= self._entries.popleft()[1]
            return entry

    def page(self, after: int = 0, limit: int | None = None) -> tuple[list[Entry], bool]:
        """Entries numbered past `after`, at most `limit` of them, oldest first; and whether more follow."""
        with self._lock:
            found = [e for e, _ in self._entries if e.seq > after]
        if limit is None or len(found) <= limit:
            return found, False
        return found[:limit], True

    @property
    def bytes(self) -> int:
        """What the entries kept cost, as the byte bound counts it."""
        return self._bytes

    def entries(self) -> list[Entry]:
        with self._lock:
            return [e for e, _ in self._entries]

    def clear(self) -> None:
        """Forget every entry; numbering starts again at 1, as on a fresh server."""
        with self._lock:
            self._entries.clear()
            self._seq = self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())
