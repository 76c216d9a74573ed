"""The hot path's memos keep a key the second time it is seen, are bounded twice, by entries and by the
size of their keys, and forget the oldest first; memoised token counts and ids equal the ones computed
afresh."""

from __future__ import annotations

from mockai.generation import generator
from mockai.memo import Memo
from mockai.models import tokens


def twice(memo: Memo[str, int], key: str, value: int) -> None:
    memo.put(key, value)
    memo.put(key, value)


def test_a_memo_keeps_a_key_only_the_second_time_it_is_seen() -> None:
    memo: Memo[str, int] = Memo(entries=2, size=100, size_of=len)
    assert memo.put("a", 1) == 1 and memo.get("a") is None
    memo.put("a", 1)
    assert memo.get("a") == 1


def test_a_memo_keeps_at_most_its_entries_and_forgets_the_oldest() -> None:
    memo: Memo[str, int] = Memo(entries=2, size=100, size_of=len)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        twice(memo, key, value)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 3)
    assert len(memo) == 2


def test_a_memo_keeps_at_most_its_size_of_keys_and_never_one_larger_than_all_of_it() -> None:
    memo: Memo[str, int] = Memo(entries=100, size=10, size_of=len)
    twice(memo, "x" * 6, 1)
    twice(memo, "y" * 6, 2)
    assert memo.get("x" * 6) is None and memo.get("y" * 6) == 2 and memo.held == 6
    twice(memo, "z" * 11, 3)
    assert memo.get("z" * 11) is None and memo.held == 6


def test_a_run_of_distinct_keys_keeps_nothing_and_a_bounded_doorkeeper() -> None:
    memo: Memo[str, int] = Memo(entries=10, size=1000, size_of=len)
    for i in range(1000):
        memo.put(f"prompt {i}", i)
    assert len(memo) == 0 and len(memo._seen) <= 40


def test_a_memoised_token_count_is_the_tokenizers_own() -> None:
    text = "You are a careful assistant. " * 200
    first = tokens.count("o200k_base", text)
    assert first == len(tokens.encode("o200k_base", text)) == tokens.count("o200k_base", text)
    assert tokens.count("cl100k_base", text) == len(tokens.encode("cl100k_base", text))


def test_memoised_ids_and_times_are_the_same_as_computed_afresh() -> None:
    d = generator.digest(0, "chat", {"model": "gpt-4o-mini", "messages": []})
    first = generator.make_id("chatcmpl-", d)
    generator.make_id.cache_clear()
    assert generator.make_id("chatcmpl-", d) == first and len(first) == len("chatcmpl-") + 29
