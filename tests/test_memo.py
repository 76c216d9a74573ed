"""The hot path's memos are bounded twice, by entries and by the size of their keys, and forget the least
recently used first; memoised token counts and digests equal the ones computed afresh."""

from __future__ import annotations

from mockai.generation import generator
from mockai.memo import Memo
from mockai.models import tokens


def test_a_memo_keeps_at_most_its_entries_and_forgets_the_least_recently_used() -> None:
    memo: Memo[str, int] = Memo(entries=2, size=100, size_of=len)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "b" is now the least recently used
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    assert len(memo) == 2


def test_a_memo_keeps_at_most_its_size_of_keys_and_never_one_larger_than_all_of_it() -> None:
    memo: Memo[str, int] = Memo(entries=100, size=10, size_of=len)
    memo.put("x" * 6, 1)
    memo.put("y" * 6, 2)
    assert memo.get("x" * 6) is None and memo.get("y" * 6) == 2 and memo.held == 6
    assert memo.put("z" * 11, 3) == 3 and memo.get("z" * 11) is None and memo.held == 6


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
