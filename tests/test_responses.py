"""POST /v1/responses: the Responses API as the official SDK calls it, bodies and events checked against
OpenAI's spec."""

from __future__ import annotations

import json

import httpx
import jsonschema
import openai
import pytest
from conformance import validate

from mockai.models import tokens
from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.testing.mock import MockAI

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}


def events_of(text: str) -> list[tuple[str, dict]]:
    """(event name, data) of each SSE event of a Responses stream."""
    out = []
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        out.append((name[7:], json.loads(data[6:])))
    return out


def test_a_string_input_gets_a_completed_response_valid_against_the_spec(http: httpx.Client) -> None:
    response = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Say hello"})
    assert response.status_code == 200
    body = response.json()
    validate("Response", body)
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["id"].startswith("resp_") and len(body["id"]) == 5 + 48
    assert body["model"] == "gpt-4o-mini-2024-07-18"
    assert response.headers["openai-model"] == "gpt-4o-mini-2024-07-18"
    [message] = body["output"]
    assert (message["type"], message["role"], message["status"]) == ("message", "assistant", "completed")
    assert message["content"][0]["type"] == "output_text"
    assert body["reasoning"] == {"effort": None, "summary": None}


def test_usage_counts_input_by_chats_rules_and_output_by_the_texts_tokens(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o", instructions="Be brief.", input="Say hello")
    chat_prompt = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
    assert response.usage is not None
    assert response.usage.input_tokens == tokens.count_chat_prompt("o200k_base", chat_prompt)
    assert response.usage.output_tokens == tokens.count("o200k_base", response.output_text)
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_a_json_schema_text_format_counts_as_chats_response_format(client: openai.OpenAI) -> None:
    """`text.format` of type json_schema enters the input as chat's `response_format` does."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    response = client.responses.create(
        model="gpt-4o",
        instructions="Be brief.",
        input="Name a city",
        text={"format": {"type": "json_schema", "name": "place", "schema": schema}},
    )
    chat = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Name a city"}],
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}},
    )
    assert response.usage is not None and chat.usage is not None
    assert response.usage.input_tokens == chat.usage.prompt_tokens


def test_input_tokens_endpoint_gives_the_same_count_as_create(client: openai.OpenAI) -> None:
    created = client.responses.create(model="gpt-4o", input="Count me", tools=[WEATHER])  # type: ignore[list-item]
    counted = client.responses.input_tokens.count(model="gpt-4o", input="Count me", tools=[WEATHER])  # type: ignore[list-item]
    assert created.usage is not None
    assert counted.input_tokens == created.usage.input_tokens
    assert counted.object == "response.input_tokens"


def test_a_function_tool_is_called_then_answered_from_its_output(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o", input="Weather in Paris?", tools=[WEATHER])  # type: ignore[list-item]
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    assert call.call_id.startswith("call_") and call.id.startswith("fc_")
    second = client.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        tools=[WEATHER],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
    )
    assert [o.type for o in second.output] == ["message"]
    assert second.previous_response_id == first.id
    assert second.usage is not None and first.usage is not None
    # The earlier turn (question and call) counts in the new input.
    assert second.usage.input_tokens > first.usage.input_tokens


def test_allowed_tools_keep_calls_to_the_listed_functions(client: openai.OpenAI) -> None:
    """`tool_choice: {"type": "allowed_tools", "mode": "required", "tools": [...]}` (the Responses API's
    flat twin of chat's): every tool stays offered, the calls keep to the listed ones."""
    clock = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
    choice = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_time"}],
    }
    for seed in range(6):
        reply = client.responses.create(
            model="gpt-4o",
            input=f"Anything, {seed}",
            tools=[WEATHER, clock],  # type: ignore[list-item]
            tool_choice=choice,  # type: ignore[arg-type]
        )
        assert [(o.type, getattr(o, "name", None)) for o in reply.output] == [("function_call", "get_time")]


def test_an_unknown_previous_response_id_gets_previous_response_not_found(http: httpx.Client) -> None:
    body = {"model": "gpt-4o", "input": "hi", "previous_response_id": "resp_nope"}
    response = http.post("/v1/responses", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "Previous response with id 'resp_nope' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }


def test_a_reasoning_model_emits_a_reasoning_item_and_counts_reasoning_tokens(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="gpt-5", input="Think", reasoning={"effort": "high", "summary": "auto"}
    )
    assert [o.type for o in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].type == "summary_text"
    assert response.usage is not None
    details = response.usage.output_tokens_details.reasoning_tokens
    assert details > 0
    assert response.usage.output_tokens == details + tokens.count("o200k_base", response.output_text)
    assert response.reasoning is not None and response.reasoning.effort == "high"


def test_a_non_reasoning_model_refuses_reasoning_and_a_reasoning_model_temperature(
    http: httpx.Client,
) -> None:
    refused = http.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "x", "reasoning": {"effort": "low"}}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Unsupported parameter: 'reasoning.effort' is not supported with this model."
    )
    hot = http.post("/v1/responses", json={"model": "gpt-5", "input": "x", "temperature": 0.2})
    assert hot.json()["error"] == {
        "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_parameter",
    }


def test_max_output_tokens_stops_at_exactly_that_many_tokens_as_incomplete(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o", input="Go on", max_output_tokens=16)
    assert response.status == "incomplete"
    assert (
        response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    )
    assert response.usage is not None and response.usage.output_tokens == 16
    assert tokens.count("o200k_base", response.output_text) == 16


def test_max_output_tokens_below_16_is_refused(http: httpx.Client) -> None:
    response = http.post("/v1/responses", json={"model": "gpt-4o", "input": "x", "max_output_tokens": 5})
    assert response.json()["error"]["message"] == (
        "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead."
    )


def test_a_json_schema_format_gives_text_valid_against_the_schema(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model="gpt-4o",
        input="A person",
        text={"format": {"type": "json_schema", "name": "person", "schema": schema, "strict": True}},
    )
    jsonschema.validate(json.loads(response.output_text), schema)


def test_unknown_parameters_are_refused_as_the_responses_api_does(http: httpx.Client) -> None:
    response = http.post("/v1/responses", json={"model": "gpt-4o", "input": "x", "messages": []})
    assert response.json()["error"] == {
        "message": "Unknown parameter: 'messages'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "unknown_parameter",
    }


def test_the_stream_sends_every_typed_event_in_order_valid_against_the_spec(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": "Weather?", "tools": [WEATHER], "stream": True}
    response = http.post("/v1/responses", json={**body, "reasoning": {"summary": "auto"}})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = events_of(response.text)
    for name, data in events:
        assert name == data["type"]
        validate("ResponseStreamEvent", data)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    names = [n for n, _ in events]
    assert names[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.function_call_arguments.delta" in names
    assert "response.function_call_arguments.done" in names
    assert names[-1] == "response.completed"
    final = events[-1][1]["response"]
    deltas = "".join(d["delta"] for n, d in events if n == "response.function_call_arguments.delta")
    assert deltas == final["output"][-1]["arguments"]


def test_the_sdk_stream_rebuilds_the_same_response_as_without_stream(client: openai.OpenAI) -> None:
    plain = client.responses.create(model="gpt-4o", input="Tell me something")
    with client.responses.stream(model="gpt-4o", input="Tell me something") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == plain.output_text == final.output_text
    assert final.usage == plain.usage


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_answer_as_the_sync_one(
    client: openai.OpenAI, aclient: openai.AsyncOpenAI
) -> None:
    sync = client.responses.create(model="gpt-4o", input="Same?")
    other = await aclient.responses.create(model="gpt-4o", input="Same?")
    assert other.output_text == sync.output_text and other.id == sync.id
    stream = await aclient.responses.create(model="gpt-4o", input="Same?", stream=True)
    text = "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])
    assert text == sync.output_text


def test_the_same_request_gives_byte_identical_bodies_also_after_a_reset(
    http: httpx.Client, state: MockState
) -> None:
    body = {"model": "gpt-4o", "input": "Same bytes", "tools": [WEATHER]}
    first = http.post("/v1/responses", json=body).content
    assert http.post("/v1/responses", json=body).content == first
    state.reset()
    assert http.post("/v1/responses", json=body).content == first


def test_a_scripted_reply_renders_as_text_and_function_calls(
    client: openai.OpenAI, server: ServerThread, state: MockState
) -> None:
    mock = MockAI(server)
    mock.on_responses(contains="weather").reply(
        tool_calls=[{"name": "get_weather", "arguments": '{"city": "Oslo", "unit": "c"}'}]
    )
    mock.on_responses().reply("Scripted answer.")
    called = client.responses.create(model="gpt-4o", input="The weather?", tools=[WEATHER])  # type: ignore[list-item]
    assert (
        called.output[0].type == "function_call"
        and called.output[0].arguments == '{"city": "Oslo", "unit": "c"}'
    )
    answered = client.responses.create(model="gpt-4o", input="Anything")
    assert answered.output_text == "Scripted answer."


def test_a_scripted_stream_error_sends_the_error_event(
    http: httpx.Client, server: ServerThread, state: MockState
) -> None:
    MockAI(server).on_responses().reply("Never finished.", stream={"error_after": 3})
    response = http.post("/v1/responses", json={"model": "gpt-4o", "input": "x", "stream": True})
    events = events_of(response.text)
    assert [n for n, _ in events][-1] == "error"
    assert events[-1][1] == {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error while processing your request. Sorry about that!",
        "param": None,
        "sequence_number": 3,
    }
    validate("ResponseStreamEvent", events[-1][1])


def test_over_the_context_window_is_refused_and_truncation_auto_drops_the_oldest_turns(
    http: httpx.Client,
) -> None:
    long = "hello " * 70_000  # about 70,000 tokens: two turns overflow gpt-4o's 128,000
    first = http.post("/v1/responses", json={"model": "gpt-4o", "input": long}).json()
    follow = {"model": "gpt-4o", "input": long, "previous_response_id": first["id"]}
    refused = http.post("/v1/responses", json=follow)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "context_length_exceeded"
    assert refused.json()["error"]["param"] == "input"
    kept = http.post("/v1/responses", json={**follow, "truncation": "auto"}).json()
    assert kept["status"] == "completed" and kept["truncation"] == "auto"
    assert kept["usage"]["input_tokens"] < 128_000
    assert kept["usage"]["input_tokens"] >= first["usage"]["input_tokens"]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (
            {"input": [{"type": "bogus"}]},
            "input[0].type",
            None,
        ),
        (
            {"input": [{"role": "user"}]},
            "input[0].content",
            "Missing required parameter: 'input[0].content'.",
        ),
        (
            {"input": [{"type": "function_call_output", "output": "x"}]},
            "input[0].call_id",
            "Missing required parameter: 'input[0].call_id'.",
        ),
        (
            {"input": "x", "tools": [{"type": "function"}]},
            "tools[0].name",
            "Missing required parameter: 'tools[0].name'.",
        ),
        ({"input": "x", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name", None),
        ({"input": "x", "include": ["everything"]}, "include[0]", None),
        ({"input": "x", "truncation": "sometimes"}, "truncation", None),
        (
            {
                "input": "x",
                "tools": [WEATHER],
                "tool_choice": {"type": "allowed_tools", "mode": "any", "tools": []},
            },
            "tool_choice.mode",
            "Invalid value: 'any'. Supported values are: 'auto' and 'required'.",
        ),
        (
            {
                "input": "x",
                "tools": [WEATHER],
                "tool_choice": {
                    "type": "allowed_tools",
                    "mode": "auto",
                    "tools": [{"type": "function", "name": "nope"}],
                },
            },
            "tool_choice.tools[0]",
            "Tool choice 'function' with name 'nope' not found in 'tools' parameter.",
        ),
    ],
)
def test_malformed_requests_get_a_400_naming_the_param(
    http: httpx.Client, body: dict, param: str, message: str | None
) -> None:
    response = http.post("/v1/responses", json={"model": "gpt-4o", **body})
    assert response.status_code == 400
    error = response.json()["error"]
    validate("ErrorResponse", response.json())
    assert error["param"] == param
    if message is not None:
        assert error["message"] == message


def test_included_logprobs_carry_each_output_token_also_in_the_stream(http: httpx.Client) -> None:
    body = {"model": "gpt-4o", "input": "x", "include": ["message.output_text.logprobs"], "top_logprobs": 2}
    part = http.post("/v1/responses", json=body).json()["output"][0]["content"][0]
    assert "".join(lp["token"] for lp in part["logprobs"]) == part["text"]
    assert all(len(lp["top_logprobs"]) == 2 for lp in part["logprobs"])
    events = events_of(http.post("/v1/responses", json={**body, "stream": True}).text)
    for _, data in events:
        validate("ResponseStreamEvent", data)
    streamed = [lp for n, d in events if n == "response.output_text.delta" for lp in d["logprobs"]]
    assert [lp["token"] for lp in streamed] == [lp["token"] for lp in part["logprobs"]]
