"""Objects the API keeps between calls (stored responses, stored chat completions): one bounded store per
server.

The live API keeps what a client asked it to `store`; mockai keeps it in memory, bounded by count and by
bytes (the oldest goes first), and a reset empties it, so the same calls give the same bytes again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_OBJECTS = 2000
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    value: Any
    size: int


class ObjectStore:
    """Objects by (kind, id), oldest evicted first past `max_objects` or `max_bytes`; thread-safe."""

    def __init__(self, max_objects: int = MAX_OBJECTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_objects = max_objects
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, kind: str, key: str, value: Any, size: int) -> None:
        """Keep `value` (about `size` bytes); one bigger than the whole budget is not kept."""
        with self._lock:
            old = self._entries.pop((kind, key), None)
            if old is not None:
                self._bytes -= old.size
            if size > self.max_bytes:
                return
            self._entries[(kind, key)] = Entry(value, size)
            self._bytes += size
            while len(self._entries) > self.max_objects or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size

    def get(self, kind: str, key: str) -> Any:
        with self._lock:
            entry = self._entries.get((kind, key))
            return None if entry is None else entry.value

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            entry = self._entries.pop((kind, key), None)
            if entry is None:
                return False
            self._bytes -= entry.size
            return True

    def values(self, kind: str) -> Iterator[Any]:
        """The objects of `kind`, oldest first (a snapshot: safe to use while others write)."""
        with self._lock:
            found = [e.value for (k, _), e in self._entries.items() if k == kind]
        return iter(found)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
