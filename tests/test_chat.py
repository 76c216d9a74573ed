"""POST /v1/chat/completions through the real openai client: shapes, tokens, options, streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from conformance import validate
from conftest import set_date
from test_tokens import COOKBOOK_MESSAGES

from mockai.server.state import MockState

HELLO = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def test_a_chat_completion_matches_openais_schema_and_reports_the_snapshot(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    body = json.loads(raw.text)
    validate("CreateChatCompletionResponse", body)
    completion = raw.parse()
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.id.startswith("chatcmpl-") and len(completion.id) == len("chatcmpl-") + 29
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.system_fingerprint is not None and completion.system_fingerprint.startswith("fp_")


def test_prompt_tokens_are_exact_for_the_cookbook_conversation(
    client: openai.OpenAI, state: MockState
) -> None:
    assert (
        client.chat.completions.create(model="gpt-4-0613", messages=COOKBOOK_MESSAGES).usage.prompt_tokens
        == 129
    )
    set_date(state, "2024-01-10")
    assert (
        client.chat.completions.create(
            model="gpt-3.5-turbo-0301", messages=COOKBOOK_MESSAGES
        ).usage.prompt_tokens
        == 127
    )
    assert (
        client.chat.completions.create(
            model="gpt-3.5-turbo-0613", messages=COOKBOOK_MESSAGES
        ).usage.prompt_tokens
        == 129
    )


def test_usage_adds_up_and_counts_completion_tokens_of_every_choice(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o", messages=HELLO, n=3)
    usage = completion.usage
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    from mockai.models import tokens

    assert usage.completion_tokens == sum(
        tokens.count("o200k_base", c.message.content) for c in completion.choices
    )


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_truncates_at_exactly_that_many_tokens(client: openai.OpenAI, param: str) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, **{param: 3})
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 3


def test_stop_sequences_cut_the_reply_before_the_stop_text(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content
    stop = full.split()[2]
    cut = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stop=[stop]).choices[0]
    assert cut.finish_reason == "stop"
    assert stop not in cut.message.content
    assert full.startswith(cut.message.content)


def test_the_same_request_gives_byte_identical_bodies_and_another_seed_does_not(http: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO}
    first = http.post("/v1/chat/completions", json=body).content
    assert http.post("/v1/chat/completions", json=body).content == first
    assert http.post("/v1/chat/completions", json={**body, "seed": 7}).content != first


def test_logprobs_carry_real_token_strings_and_bytes(client: openai.OpenAI) -> None:
    choice = client.chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, logprobs=True, top_logprobs=3
    ).choices[0]
    content = choice.logprobs.content
    assert "".join(t.token for t in content) == choice.message.content
    for t in content:
        assert bytes(t.bytes) == t.token.encode()
        assert t.logprob <= 0
        assert len(t.top_logprobs) == 3 and t.top_logprobs[0].token == t.token


def test_a_forced_tool_call_has_arguments_valid_against_the_functions_schema(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=HELLO,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = completion.choices[0]
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_TOOL["function"]["parameters"])
    assert choice.message.content is None
    assert choice.finish_reason == "stop"  # the real API says "stop" when a named function is forced


def test_required_tool_choice_calls_a_tool_and_finishes_with_tool_calls(client: openai.OpenAI) -> None:
    choice = client.chat.completions.create(
        model="gpt-4o", messages=HELLO, tools=[WEATHER_TOOL], tool_choice="required"
    ).choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "get_weather"


def test_allowed_tools_keep_every_tool_in_the_prompt_and_calls_to_the_listed_ones(
    client: openai.OpenAI,
) -> None:
    time_tool = {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    }
    for seed in range(8):
        choice = client.chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            tools=[WEATHER_TOOL, time_tool],
            seed=seed,
            tool_choice={
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_time"}}],
                },
            },
        ).choices[0]
        assert [c.function.name for c in choice.message.tool_calls or []] == ["get_time"]
        assert choice.finish_reason == "tool_calls"


def test_allowed_tools_take_a_mode_of_auto_or_required(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "allowed_tools", "allowed_tools": {"mode": "any", "tools": []}},  # type: ignore[typeddict-item]
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == "tool_choice.allowed_tools.mode"
    assert error["code"] == "invalid_value"


def test_an_allowed_tool_of_an_unknown_type_is_a_400_not_a_crash(client: openai.OpenAI) -> None:
    choice: Any = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "auto", "tools": [{"type": ["function"]}]},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=HELLO, tools=[WEATHER_TOOL], tool_choice=choice
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == "tool_choice.allowed_tools.tools[0].type"
    assert error["message"] == "Invalid value: '['function']'. Supported values are: 'function' and 'custom'."


def test_with_tools_on_auto_the_model_calls_a_tool_then_answers_the_tool_result(
    client: openai.OpenAI,
) -> None:
    first = (
        client.chat.completions.create(model="gpt-4o", messages=HELLO, tools=[WEATHER_TOOL])
        .choices[0]
        .message
    )
    assert first.tool_calls
    messages = [
        *HELLO,
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "sunny"},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL]).choices[
        0
    ]
    assert second.message.content and not second.message.tool_calls and second.finish_reason == "stop"


def test_legacy_functions_answer_with_a_function_call(client: openai.OpenAI) -> None:
    fn = WEATHER_TOOL["function"]
    choice = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=HELLO, functions=[fn], function_call="auto"
    ).choices[0]
    assert choice.finish_reason == "function_call"
    jsonschema.validate(json.loads(choice.message.function_call.arguments), fn["parameters"])


def test_json_schema_response_format_gives_content_valid_against_the_schema(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"steps": {"type": "array", "items": {"type": "string"}}, "answer": {"type": "number"}},
        "required": ["steps", "answer"],
    }
    content = (
        client.chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "math", "schema": schema, "strict": True},
            },
        )
        .choices[0]
        .message.content
    )
    jsonschema.validate(json.loads(content), schema)


def test_json_object_mode_needs_the_word_json_in_the_messages(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="gpt-4o", messages=HELLO, response_format={"type": "json_object"}
        )
    assert exc.value.body["message"] == (
        "'messages' must contain the word 'json' in some form, "
        "to use 'response_format' of type 'json_object'."
    )
    content = (
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Answer in JSON"}],
            response_format={"type": "json_object"},
        )
        .choices[0]
        .message.content
    )
    assert isinstance(json.loads(content), dict)


def test_a_stream_yields_chunks_that_rebuild_the_non_stream_reply(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == full.choices[0].message.content
    )
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == full.usage.model_dump()
    assert len({c.id for c in chunks}) == 1


def test_stream_chunks_match_openais_chunk_schema_and_end_with_done(http: httpx.Client) -> None:
    body = {
        "model": "gpt-4o",
        "messages": HELLO,
        "stream": True,
        "n": 2,
        "logprobs": True,
        "stream_options": {"include_usage": True},
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
    }
    response = http.post("/v1/chat/completions", json=body)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    for event in events[:-2]:
        assert event.startswith("data: ")
        validate("CreateChatCompletionStreamResponse", json.loads(event[6:]))


def test_a_streamed_tool_call_reassembles_into_valid_arguments(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=HELLO, tools=[WEATHER_TOOL], tool_choice="required", stream=True
    )
    args, name, finish = "", None, None
    for chunk in stream:
        delta = chunk.choices[0].delta
        for call in delta.tool_calls or []:
            name = name or call.function.name
            args += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "get_weather" and finish == "tool_calls"
    jsonschema.validate(json.loads(args), WEATHER_TOOL["function"]["parameters"])


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_answer_as_the_sync_one(
    client: openai.OpenAI, aclient: openai.AsyncOpenAI
) -> None:
    sync = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    async_ = await aclient.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert async_.model_dump() == sync.model_dump()
    text = ""
    async for chunk in await aclient.chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, stream=True
    ):
        text += chunk.choices[0].delta.content or ""
    assert text == sync.choices[0].message.content


CONTEXT_CASES = [
    (
        {},
        "This model's maximum context length is 8192 tokens. However, your messages resulted in {p} tokens. "
        "Please reduce the length of the messages.",
    ),
    (
        {"max_tokens": 100},
        "This model's maximum context length is 8192 tokens. "
        "However, you requested {t} tokens ({p} in the messages, 100 in the completion). "
        "Please reduce the length of the messages or completion.",
    ),
]


@pytest.mark.parametrize(("extra", "template"), CONTEXT_CASES)
def test_a_prompt_over_the_context_window_gets_context_length_exceeded(
    client: openai.OpenAI, extra: dict, template: str
) -> None:
    from mockai.models import tokens

    messages = [{"role": "user", "content": "word " * 9000}]
    p = tokens.count_chat_prompt("cl100k_base", messages)
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="gpt-4", messages=messages, **extra)
    assert exc.value.status_code == 400
    assert exc.value.code == "context_length_exceeded" and exc.value.param == "messages"
    assert exc.value.body["message"] == template.format(p=p, t=p + extra.get("max_tokens", 0))


@pytest.mark.parametrize(
    ("model", "as_of", "message"),
    [
        (
            "gpt-3.5-turbo-0613",
            "2024-09-13",
            "The model `gpt-3.5-turbo-0613` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
        ),
        (
            "gpt-4-vision-preview",
            "2024-12-06",
            "The model `gpt-4-vision-preview` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
        ),
        ("gpt-4o", "2024-01-01", "The model `gpt-4o` does not exist or you do not have access to it."),
        ("gpt-9", "2026-01-01", "The model `gpt-9` does not exist or you do not have access to it."),
    ],
)
def test_retired_unreleased_and_unknown_models_get_openais_404(
    client: openai.OpenAI, state: MockState, model: str, as_of: str, message: str
) -> None:
    set_date(state, as_of)
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model=model, messages=HELLO)
    assert exc.value.body == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


def test_a_retired_model_still_answers_the_day_before_its_shutdown(
    client: openai.OpenAI, state: MockState
) -> None:
    set_date(state, "2024-09-12")
    assert (
        client.chat.completions.create(model="gpt-3.5-turbo-0613", messages=HELLO).model
        == "gpt-3.5-turbo-0613"
    )


@pytest.mark.parametrize(
    ("as_of", "snapshot"),
    [
        ("2023-05-01", "gpt-3.5-turbo-0301"),
        ("2023-07-06", "gpt-3.5-turbo-0613"),
        ("2024-06-01", "gpt-3.5-turbo-0125"),
    ],
)
def test_an_alias_reports_the_snapshot_it_pointed_to_on_the_simulated_date(
    client: openai.OpenAI, state: MockState, as_of: str, snapshot: str
) -> None:
    set_date(state, as_of)
    assert client.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO).model == snapshot


def test_a_completion_model_on_chat_gets_not_a_chat_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="gpt-3.5-turbo-instruct", messages=HELLO)
    assert exc.value.body["message"] == (
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?"
    )
    assert exc.value.param == "model"


@pytest.mark.parametrize(
    ("body", "status", "param", "message"),
    [
        ({"messages": HELLO}, 400, None, "you must provide a model parameter"),
        ({"model": "gpt-4o"}, 400, "messages", "Missing required parameter: 'messages'."),
        (
            {"model": "gpt-4o", "messages": []},
            400,
            "messages",
            "Invalid 'messages': empty array. "
            "Expected an array with minimum length 1, but got an empty array instead.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "temperature": "hot"},
            400,
            "temperature",
            "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "temperature": 3},
            400,
            "temperature",
            "Invalid 'temperature': integer above maximum value. Expected a value <= 2, but got 3 instead.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "n": 0},
            400,
            "n",
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "stop": ["a", "b", "c", "d", "e"]},
            400,
            "stop",
            "Invalid 'stop': array too long. "
            "Expected an array with maximum length 4, but got an array with length 5 instead.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "api_key": "x"},
            400,
            "api_key",
            "Unrecognized request argument supplied: api_key",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "hi"}]},
            400,
            "messages[0].role",
            "Invalid value: 'robot'. "
            "Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
        ),
        (
            {"model": "gpt-4o", "messages": [{"content": "hi"}]},
            400,
            "messages[0].role",
            "Missing required parameter: 'messages[0].role'.",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "tool", "content": "hi"}]},
            400,
            "messages[0].tool_call_id",
            "Missing required parameter: 'messages[0].tool_call_id'.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "stream_options": {"include_usage": True}},
            400,
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "tool_choice": "auto"},
            400,
            "tool_choice",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "max_tokens": 100000},
            400,
            "max_tokens",
            "max_tokens is too large: 100000. "
            "This model supports at most 16384 completion tokens, whereas you provided 100000.",
        ),
    ],
)
def test_bad_requests_get_openais_400_naming_the_param(
    http: httpx.Client, body: dict, status: int, param: str | None, message: str
) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["message"], error["param"], error["type"]) == (message, param, "invalid_request_error")
    validate("ErrorResponse", response.json())
