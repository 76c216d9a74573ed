"""The headers of a scripted answer, byte for byte and in order, as the ASGI app hands them to the server.

Pinned before the header code was made leaner (issue 17): the encoded pairs are kept and reused, so these
tests make sure a repeat, a memo miss and a fresh process all send the same names, values and order.
Only `openai-processing-ms` (the time taken) is not pinned: it is checked to be a whole number >= 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from mockai import memo
from mockai.server.app import MockApp
from mockai.server.limiter import RateLimiter
from mockai.server.state import MockState
from mockai.settings import Settings

KEY = "sk-test-0123456789abcdef"
HELLO = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20}


def server(day: str) -> MockApp:
    """A server on `day` with a scripted hello, whose limiter's clock stands still (its headers then depend
    on the requests alone)."""
    state = MockState.from_settings(Settings(port=0, as_of=dt.date.fromisoformat(day)))
    state.limiter = RateLimiter(enforce=False, now=lambda: 1000.0)
    state.rules.add_rule({"match": {"contains": "hello"}, "reply": "Hello there! How can I help?"})
    return MockApp(state)


def post(app: MockApp, body: dict[str, Any], key: str = KEY) -> tuple[int, list[tuple[bytes, bytes]]]:
    """POST /v1/chat/completions straight to the ASGI app; the status and raw header pairs it starts with."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
        ],
    }
    started: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    asyncio.run(app(scope, receive, send))
    return started[0]["status"], list(started[0]["headers"])


def without_time(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The pairs with `openai-processing-ms`'s value replaced by a marker, after checking it is >= 1."""
    out = []
    for name, value in headers:
        if name == b"openai-processing-ms":
            assert value.isdigit() and int(value) >= 1
            value = b"<ms>"
        out.append((name, value))
    return out


COMMON = [
    (b"access-control-expose-headers", b"X-Request-ID"),
    (b"openai-organization", b"user-mockai"),
    (b"openai-processing-ms", b"<ms>"),
    (b"openai-version", b"2020-10-01"),
]
LIMITS = [(b"x-ratelimit-limit-requests", b"30000"), (b"x-ratelimit-limit-tokens", b"150000000")]
PROJECT = (b"openai-project", b"proj_jw29SlADvrIKz5OmQYx0d8KN")


def scripted_answer(
    request_id: bytes, remaining: bytes, tokens: bytes, reset: bytes
) -> list[tuple[bytes, bytes]]:
    """A scripted answer's pairs; the hello costs 29 tokens (9 in the prompt, `max_tokens` 20)."""
    return [
        (b"content-type", b"application/json"),
        (b"content-length", b"832"),
        *COMMON,
        (b"x-request-id", request_id),
        *LIMITS,
        (b"x-ratelimit-remaining-requests", remaining),
        (b"x-ratelimit-remaining-tokens", tokens),
        (b"x-ratelimit-reset-requests", reset),
        (b"x-ratelimit-reset-tokens", b"0s"),
        PROJECT,
    ]


def test_a_scripted_answer_sends_these_headers_in_this_order_every_time() -> None:
    """First sight, second (kept in the memos), third (answered from them), then after the memos are emptied:
    only the request id and the limiter's countdown move on."""
    memo.clear_all()
    app = server("2025-09-01")
    answers = [post(app, HELLO) for _ in range(3)]
    memo.clear_all()
    answers.append(post(app, HELLO))
    assert [(status, without_time(headers)) for status, headers in answers] == [
        (200, scripted_answer(b"req_bf06f7891357242c29dc1bd58b74a964", b"29999", b"149999971", b"2ms")),
        (200, scripted_answer(b"req_9ffd041d9eb6ca487c1c737f7ebde982", b"29998", b"149999942", b"4ms")),
        (200, scripted_answer(b"req_781ebacb409d7c6e44a17fd0e0dd201e", b"29997", b"149999913", b"6ms")),
        (200, scripted_answer(b"req_9ebaaf2db47f50797c9c0e8499936ad5", b"29996", b"149999884", b"8ms")),
    ]


def test_a_fresh_server_sends_the_same_headers_again() -> None:
    first = without_time(post(server("2025-09-01"), HELLO)[1])
    memo.clear_all()
    assert without_time(post(server("2025-09-01"), HELLO)[1]) == first


def test_a_scripted_stream_sends_these_headers() -> None:
    status, headers = post(server("2025-09-01"), {**HELLO, "stream": True})
    assert (status, without_time(headers)) == (
        200,
        [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            *COMMON,
            (b"x-request-id", b"req_bf06f7891357242c29dc1bd58b74a964"),
            *LIMITS,
            (b"x-ratelimit-remaining-requests", b"29999"),
            (b"x-ratelimit-remaining-tokens", b"149999971"),
            (b"x-ratelimit-reset-requests", b"2ms"),
            (b"x-ratelimit-reset-tokens", b"0s"),
            PROJECT,
        ],
    )


def test_a_refused_request_sends_the_limiters_untouched_levels() -> None:
    status, headers = post(server("2025-09-01"), {**HELLO, "temperature": 9})
    assert (status, without_time(headers)) == (
        400,
        [
            (b"content-type", b"application/json"),
            (b"content-length", b"235"),
            *COMMON,
            (b"x-request-id", b"req_bf06f7891357242c29dc1bd58b74a964"),
            *LIMITS,
            (b"x-ratelimit-remaining-requests", b"30000"),
            (b"x-ratelimit-remaining-tokens", b"150000000"),
            (b"x-ratelimit-reset-requests", b"0s"),
            (b"x-ratelimit-reset-tokens", b"0s"),
        ],
    )


def test_each_key_gets_its_own_project_and_an_early_chat_answer_names_its_model() -> None:
    """Before mid-2024 chat answers named the model; before August 2025 they carried no project."""
    app = server("2025-09-01")
    other = dict(post(app, HELLO, key="sk-other-0123456789abcdef")[1])
    assert other[b"openai-project"] != PROJECT[1]
    assert other[b"openai-project"].startswith(b"proj_") and len(other[b"openai-project"]) == 29
    early = dict(post(server("2024-03-01"), {**HELLO, "model": "gpt-4"})[1])
    assert early[b"openai-model"] == b"gpt-4-0613"
    assert b"openai-project" not in early
