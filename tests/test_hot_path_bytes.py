"""The hot path's answers, pinned byte for byte: making the path faster must not change one byte.

Each request is answered on a fixed date with seed 0, so its body (ids, `created`, usage) is a pure function
of the request; the digests below were taken before the hot path was reworked (issue 17). The headers are
pinned too, in order, except `openai-processing-ms`, which is wall-clock time.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

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
PINNED = {
    "scripted chat": (
        200,
        "e816cea07049edd0a8bfccf6e247e4de6a7880495dd0ffcbb0ec4cacf413e3f8",
        [
            "content-type: application/json",
            "content-length: 832",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 29999",
            "x-ratelimit-remaining-tokens: 149999971",
            "x-ratelimit-reset-requests: 2ms",
            "x-ratelimit-reset-tokens: 0s",
            "openai-model: gpt-4o-mini-2024-07-18",
        ],
    ),
    "generated chat": (
        200,
        "8f416e5d77abcc22470872df2449729478e43efdf772fdea05670b70ba9d230a",
        [
            "content-type: application/json",
            "content-length: 1069",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 29999",
            "x-ratelimit-remaining-tokens: 149999986",
            "x-ratelimit-reset-requests: 2ms",
            "x-ratelimit-reset-tokens: 0s",
            "openai-model: gpt-4o-mini-2024-07-18",
        ],
    ),
    "system prompt and tools": (
        200,
        "7be7a88439116f89f6774d61f870a94da05a6845a1b3bb41cb09b59948fa2358",
        [
            "content-type: application/json",
            "content-length: 830",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 29999",
            "x-ratelimit-remaining-tokens: 149999699",
            "x-ratelimit-reset-requests: 2ms",
            "x-ratelimit-reset-tokens: 0s",
            "openai-model: gpt-4o-2024-08-06",
        ],
    ),
    "scripted stream": (
        200,
        "cb56dd7ccfcc2746f875a529a949cbebc34b874e8545a75cba8880b4afaf385e",
        [
            "content-type: text/event-stream; charset=utf-8",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 29999",
            "x-ratelimit-remaining-tokens: 149999991",
            "x-ratelimit-reset-requests: 2ms",
            "x-ratelimit-reset-tokens: 0s",
            "openai-model: gpt-4o-mini-2024-07-18",
            "transfer-encoding: chunked",
        ],
    ),
    "embeddings": (
        200,
        "4c802e55a61718d4f9412a1dbea50c71dfe8379e28718b6e9ab1447f3df68a30",
        [
            "content-type: application/json",
            "content-length: 47395",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 29999",
            "x-ratelimit-remaining-tokens: 149999995",
            "x-ratelimit-reset-requests: 2ms",
            "x-ratelimit-reset-tokens: 0s",
            "openai-model: text-embedding-3-small",
        ],
    ),
    "unknown model": (
        404,
        "0ec53c18a225579fa33b5fda981d376e383ab3bf7a098bd0b585588621575db5",
        [
            "content-type: application/json",
            "content-length: 193",
            "access-control-expose-headers: X-Request-ID",
            "openai-organization: user-mockai",
            "openai-version: 2020-10-01",
            "x-request-id: req_bf06f7891357242c29dc1bd58b74a964",
            "x-ratelimit-limit-requests: 30000",
            "x-ratelimit-limit-tokens: 150000000",
            "x-ratelimit-remaining-requests: 30000",
            "x-ratelimit-remaining-tokens: 150000000",
            "x-ratelimit-reset-requests: 0s",
            "x-ratelimit-reset-tokens: 0s",
        ],
    ),
}
"""Call -> (status, sha256 of the body, the answer's headers in order but openai-processing-ms)."""

STACK_HEADERS = {"date", "server", "openai-processing-ms"}


@pytest.fixture()
def scripted(http: httpx.Client, state: MockState) -> httpx.Client:
    set_date(state, "2025-06-01")
    state.rules.add_rule({"match": {"contains": "hello"}, "reply": "Hello there! How can I help?"})
    return http


@pytest.mark.parametrize("name", list(CALLS))
def test_the_hot_path_answers_the_same_bytes_as_before_it_was_reworked(
    scripted: httpx.Client, name: str
) -> None:
    path, body = CALLS[name]
    response = scripted.post(path, json=body, headers={"Authorization": "Bearer sk-test-0123456789abcdef"})
    headers = [f"{k}: {v}" for k, v in response.headers.items() if k not in STACK_HEADERS]
    got = (response.status_code, hashlib.sha256(response.content).hexdigest(), headers)
    assert got == PINNED[name]


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
