"""Bounded memos for the hot path: a suite sends the same system prompt, tools and request thousands of
times, and what is derived from them (token counts, digests, plans, bodies) is a pure function of them.

A `Memo` is capped twice: by entries and by the total size of its keys, so a run of huge distinct prompts
cannot hold on to more than `size` characters (or bytes) of them; the oldest entry goes first. A key is
kept only the second time it is seen (a doorkeeper of key hashes, bounded too), so a run where every
request is new pays one hash per miss and keeps nothing alive. Values must be immutable.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A memo of at most `entries` keys whose sizes (by `size_of`) add up to at most `size`."""

    every: list[Memo[object, object]] = []
    """Every memo made, for `clear_all`."""

    def __init__(self, entries: int, size: int, size_of: Callable[[K], int]) -> None:
        # OrderedDicts, not dicts: evicting the oldest of a dict (`del d[next(iter(d))]`) scans past every
        # slot deleted before it, some 9 us a put once a memo is full of distinct keys; popitem is O(1).
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._entries = entries
        self._size = size
        self._size_of = size_of
        self._held = 0
        self._lock = threading.Lock()
        Memo.every.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        """The value kept for `key`, or None."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key` if `key` was seen before, dropping the oldest beyond the caps; returns
        `value`."""
        cost = self._size_of(key)
        if cost > self._size:
            return value  # larger than the whole memo: not kept
        with self._lock:
            seen = self._seen
            h = hash(key)
            if h not in seen:
                seen[h] = None
                if len(seen) > 4 * self._entries:
                    seen.popitem(last=False)
                return value
            items = self._items
            old = items.pop(key, None)
            if old is not None:
                self._held -= old[1]
            items[key] = (value, cost)
            self._held += cost
            while len(items) > self._entries or self._held > self._size:
                self._held -= items.popitem(last=False)[1][1]
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._seen.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def held(self) -> int:
        """The total size of the keys kept (at most `size`)."""
        return self._held


def clear_all() -> None:
    """Empty every memo: what a fresh process would compute, for tests that compare the two."""
    for memo in Memo.every:
        memo.clear()
