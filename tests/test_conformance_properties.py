"""Generated valid requests get 200s whose bodies and stream chunks all conform to OpenAI's schemas.

test_properties.py throws arbitrary JSON at the server and checks it never crashes; this one builds
only requests the real API would accept (every parameter in range, in combinations: n, stop, logprobs,
tools, legacy functions, response formats, echo, suffix, streams with usage) and holds each answer
to the OpenAPI schema, chunk by chunk, so a rare combination cannot slip a malformed shape through.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from compat.tapcheck import relax
from conformance import validate
from hypothesis import HealthCheck, given, settings, strategies as st

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "days": {"type": "integer", "minimum": 1},
        },
        "required": ["city"],
    },
}
STOCK = {"name": "get_stock", "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}}}}


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A chat request the real API accepts: a conversation, then any mix of optional parameters."""
    model = draw(st.sampled_from(["gpt-4o-mini", "gpt-4o", "gpt-3.5-turbo", "gpt-4-turbo", "gpt-4.1-mini"]))
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": draw(st.sampled_from(["system", "developer"])), "content": draw(words)})
    for _ in range(draw(st.integers(0, 2))):
        messages += [{"role": "user", "content": draw(words)}, {"role": "assistant", "content": draw(words)}]
    messages.append(
        {
            "role": "user",
            "content": draw(words) if draw(st.booleans()) else [{"type": "text", "text": draw(words)}],
        }
    )
    body: dict[str, Any] = {"model": model, "messages": messages}
    optional = {
        "n": st.integers(1, 3),
        "max_tokens": st.integers(1, 60),
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "seed": st.integers(0, 2**31),
        "stop": st.one_of(words, st.lists(words, min_size=1, max_size=4)),
        "presence_penalty": st.floats(-2, 2),
        "user": words,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    if draw(st.booleans()):
        body["logprobs"] = True
        if draw(st.booleans()):
            body["top_logprobs"] = draw(st.integers(0, 5))
    tooling = draw(st.sampled_from(["none", "tools", "functions", "json_object", "json_schema"]))
    if tooling == "tools":
        body["tools"] = [
            {"type": "function", "function": f} for f in draw(st.sampled_from([[WEATHER], [WEATHER, STOCK]]))
        ]
        body["tool_choice"] = draw(
            st.sampled_from(
                ["auto", "required", "none", {"type": "function", "function": {"name": "get_weather"}}]
            )
        )
    elif tooling == "functions":
        body["functions"] = [WEATHER, STOCK]
        body["function_call"] = draw(st.sampled_from(["auto", "none", {"name": "get_stock"}]))
    elif tooling == "json_object":
        messages[-1] = {"role": "user", "content": "Answer in JSON: " + draw(words)}
        body["response_format"] = {"type": "json_object"}
    elif tooling == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "weather", "schema": WEATHER["parameters"]},
        }
    if draw(st.booleans()):
        body["stream"] = True
        if draw(st.booleans()):
            body["stream_options"] = {"include_usage": draw(st.booleans())}
    return body


@st.composite
def completion_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A legacy completions request: text, list, token-id or token-id-list prompts, and the options."""
    model = draw(st.sampled_from(["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002"]))
    ids = st.lists(st.integers(0, 50_000), min_size=1, max_size=12)
    prompt = draw(
        st.one_of(words, st.lists(words, min_size=1, max_size=3), ids, st.lists(ids, min_size=1, max_size=3))
    )
    body: dict[str, Any] = {"model": model, "prompt": prompt}
    n = draw(st.integers(1, 3))
    body["n"] = n
    for key, strategy in {
        "max_tokens": st.integers(0, 40),
        "echo": st.booleans(),
        "logprobs": st.integers(0, 5),
        "stop": st.one_of(words, st.lists(words, min_size=1, max_size=4)),
        "suffix": words,
        "seed": st.integers(0, 2**31),
        "temperature": st.floats(0, 2),
    }.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    if draw(st.booleans()):
        body["stream"] = True
        if draw(st.booleans()):
            body["stream_options"] = {"include_usage": True}
    elif draw(st.booleans()):
        body["best_of"] = draw(st.integers(n, 4))
    return body


def events(response: httpx.Response) -> list[Any]:
    """The JSON events of an SSE body, checking it ends with [DONE]."""
    blocks = [b for b in response.text.split("\n\n") if b]
    assert blocks[-1] == "data: [DONE]", blocks[-1]
    return [json.loads(b.removeprefix("data: ")) for b in blocks[:-1]]


@SETTINGS
@given(body=chat_bodies())
def test_every_valid_chat_request_gets_a_conforming_body_or_stream(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    if body.get("stream"):
        for event in events(response):
            validate("CreateChatCompletionStreamResponse", event)
    else:
        validate("CreateChatCompletionResponse", response.json())


@SETTINGS
@given(body=completion_bodies())
def test_every_valid_completions_request_gets_a_conforming_body_or_stream(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    response = http.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    if body.get("stream"):
        for event in events(response):
            validate("CreateCompletionResponse", relax("/v1/completions", event, stream=True))
    else:
        validate("CreateCompletionResponse", relax("/v1/completions", response.json()))
