"""Bounded memos for the hot path: a suite sends the same system prompt, tools and request thousands of
times, and what is derived from them (token counts, digests, ids) is a pure function of them.

A `Memo` is an LRU map capped twice: by entries and by the total size of its keys, so a run of huge distinct
prompts cannot hold on to more than `size` characters (or bytes) of them. Values must be immutable.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """An LRU memo of at most `entries` keys whose sizes (by `size_of`) add up to at most `size`."""

    def __init__(self, entries: int, size: int, size_of: Callable[[K], int]) -> None:
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._entries = entries
        self._size = size
        self._size_of = size_of
        self._held = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key`, dropping the least recently used beyond the caps; returns `value`."""
        cost = self._size_of(key)
        if cost > self._size:
            return value  # larger than the whole memo: not kept
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._held -= old[1]
            self._items[key] = (value, cost)
            self._held += cost
            while len(self._items) > self._entries or self._held > self._size:
                _, (_, dropped) = self._items.popitem(last=False)
                self._held -= dropped
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def held(self) -> int:
        """The total size of the keys kept (at most `size`)."""
        return self._held
