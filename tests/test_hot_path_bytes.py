"""The hot path's memos cannot be seen: a repeated request gets the same bytes as a fresh one.

Each request is answered on a fixed date with seed 0, so its body (ids, `created`, usage) is a pure function
of the request. (The bytes were also pinned against the tree before the hot path was reworked, in issue 17's
branch; pins go stale with every fidelity fix, so what stays here is the memo-against-fresh comparison.)
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockai import memo
from mockai.server.state import MockState
from tests.conftest import set_date

SYSTEM = "You are a careful assistant. " * 40
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city, now.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                "required": ["city"],
            },
        },
    }
]
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "scripted chat": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20},
    ),
    "generated chat": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is 2+2?"}], "seed": 3},
    ),
    "system prompt and tools": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Say hello"}],
            "tools": TOOLS,
        },
    ),
    "scripted stream": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Say hello"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ),
    "embeddings": ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "The food was good."}),
    "unknown model": (
        "/v1/chat/completions",
        {"model": "gpt-nope", "messages": [{"role": "user", "content": "Say hello"}]},
    ),
}
STACK_HEADERS = {"date", "server", "openai-processing-ms"}


@pytest.fixture()
def scripted(http: httpx.Client, state: MockState) -> httpx.Client:
    set_date(state, "2025-06-01")
    state.rules.add_rule({"match": {"contains": "hello"}, "reply": "Hello there! How can I help?"})
    return http


@pytest.mark.parametrize("name", list(CALLS))
def test_a_repeated_request_answers_the_same_bytes_as_a_fresh_one(scripted: httpx.Client, name: str) -> None:
    """The second sight of a request keeps its plan and body; the third is answered from them; after the memos
    are emptied the same request is computed afresh. All four answers are the same bytes."""
    path, body = CALLS[name]

    def answer() -> tuple[int, bytes, list[str]]:
        response = scripted.post(
            path, json=body, headers={"Authorization": "Bearer sk-test-0123456789abcdef"}
        )
        names = [k for k in response.headers if k not in STACK_HEADERS]
        return response.status_code, response.content, names

    memo.clear_all()
    first, second, third = answer(), answer(), answer()
    memo.clear_all()
    fresh = answer()
    assert first == second == third == fresh
    assert first[0] == (404 if name == "unknown model" else 200)


def test_a_short_scripted_answer_reads_as_pinned(scripted: httpx.Client) -> None:
    path, body = CALLS["scripted chat"]
    assert scripted.post(path, json=body).json()["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello there! How can I help?",
        "refusal": None,
        "annotations": [],
    }


# ---------------------------------------------------------------------------------------------------------
# A repeated request takes its checked plan and rendered body from bounded memos: nothing else may show it.

HELLO = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}


def test_a_repeated_request_still_walks_a_rules_replies_in_turn(http: httpx.Client, state: MockState) -> None:
    state.rules.add_rule({"match": {"contains": "hello"}, "replies": ["one", "two"]})
    answers = [http.post("/v1/chat/completions", json=HELLO).json() for _ in range(3)]
    assert [a["choices"][0]["message"]["content"] for a in answers] == ["one", "two", "two"]
    assert len({a["id"] for a in answers}) == 1  # the id derives from the request, not from the reply


def test_a_repeated_request_is_journaled_each_time_with_its_own_key_masked(
    http: httpx.Client, state: MockState
) -> None:
    for key in ("sk-first-0123456789abcdef", "sk-second-0123456789abcdef"):
        http.post("/v1/chat/completions", json=HELLO, headers={"Authorization": f"Bearer {key}"})
    assert [e.headers["authorization"] for e in state.journal.entries()] == [
        "Bearer sk-first*************cdef",
        "Bearer sk-secon**************cdef",
    ]


def test_a_repeated_request_on_another_day_is_checked_and_dated_on_that_day(
    http: httpx.Client, state: MockState
) -> None:
    set_date(state, "2025-06-01")
    first = http.post("/v1/chat/completions", json=HELLO).json()
    set_date(state, "2025-06-02")
    second = http.post("/v1/chat/completions", json=HELLO).json()
    assert second["created"] - first["created"] == 86_400
    set_date(state, "2023-01-01")  # before gpt-4o-mini was released
    assert http.post("/v1/chat/completions", json=HELLO).status_code == 404


def test_a_refused_request_is_refused_again_when_repeated(http: httpx.Client, state: MockState) -> None:
    bad = {**HELLO, "temperature": 9}
    statuses = [http.post("/v1/chat/completions", json=bad).status_code for _ in range(2)]
    assert statuses == [400, 400]


def test_json_that_orjson_refuses_but_json_allows_is_still_read(http: httpx.Client, state: MockState) -> None:
    # An int past 64 bits and an escaped lone surrogate: valid JSON, parsed by json.loads as before.
    raw = (
        b'{"model": "gpt-4o-mini", "seed": 123456789012345678901234567890, '
        b'"messages": [{"role": "user", "content": "hi \\ud800"}]}'
    )
    response = http.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert "We could not parse the JSON body" not in response.text
    assert state.journal.entries()[-1].json["seed"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-4o-mini", "seed": 123456789012345678901234567890, '
        b'"messages": [{"role": "user", "content": "hi"}]}',
        '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "h\u00e9llo \u4f60"}]}'.encode(),
        b'\xef\xbb\xbf{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}',
    ],
    ids=["int past 64 bits", "non-ASCII", "BOM"],
)
def test_a_repeated_body_is_read_the_same_each_time(http: httpx.Client, state: MockState, raw: bytes) -> None:
    """Plain ASCII bodies seen before skip the parser's checks; these are not plain, and read as before."""
    statuses = [
        http.post(
            "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
        ).status_code
        for _ in range(3)
    ]
    bodies = [e.json for e in state.journal.entries()]
    assert statuses == [200, 200, 200]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["model"] == "gpt-4o-mini"


def test_a_repeated_body_that_is_not_json_is_refused_each_time(http: httpx.Client) -> None:
    raw = b'{"model": "gpt-4o-mini", "temperature": NaN, "messages": []}'
    answers = [
        http.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert all("We could not parse the JSON body of your request." in a.text for a in answers)
