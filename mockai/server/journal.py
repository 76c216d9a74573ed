"""The journal: what each request asked and what mockai answered, for assertions.

A bounded ring buffer, so a long CI run cannot grow memory without limit. Secrets in headers are
masked before an entry is stored.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One request and its answer."""

    seq: int
    method: str
    path: str
    headers: Mapping[str, str]
    json: Any
    """The parsed body (None when it was not JSON); multipart uploads: the form fields."""
    status: int
    endpoint: str | None = None
    reply: Mapping[str, Any] = field(default_factory=dict)
    """`source` (generator, rule:..., cassette) and, for errors, the error body."""

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


class Journal:
    """A thread-safe ring buffer of entries, newest last."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, **fields: Any) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(seq=self._seq, **fields)
            self._entries.append(entry)
            return entry

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry; numbering starts again at 1, as on a fresh server."""
        with self._lock:
            self._entries.clear()
            self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())
