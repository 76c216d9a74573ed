"""Per-model parameter rules and the order of tool messages, with the texts the live API answers (as users
pasted them in public issues)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from conftest import set_date

from mockai.server.state import MockState

HELLO = [{"role": "user", "content": "Hello"}]
CALL = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def refusal(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**body)
    assert info.value.status_code == 400
    error = info.value.body
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize("model", ["o3-mini", "o4-mini", "gpt-5", "gpt-5.4-mini"])
def test_reasoning_models_refuse_max_tokens(client: openai.OpenAI, model: str) -> None:
    assert refusal(client, model=model, messages=HELLO, max_tokens=10) == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }


def test_reasoning_models_take_max_completion_tokens(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-5-mini", messages=HELLO, max_completion_tokens=5)  # type: ignore[arg-type]
    assert completion.usage is not None and completion.usage.completion_tokens <= 5


@pytest.mark.parametrize(
    ("param", "value", "text"),
    [
        ("temperature", 0.5, "Unsupported value: 'temperature' does not support 0.5 with this model. "
         "Only the default (1) value is supported."),
        ("temperature", 0, "Unsupported value: 'temperature' does not support 0 with this model. "
         "Only the default (1) value is supported."),
        ("top_p", 0.9, "Unsupported value: 'top_p' does not support 0.9 with this model. "
         "Only the default (1) value is supported."),
    ],
)  # fmt: skip
def test_reasoning_models_take_only_the_default_sampling(
    client: openai.OpenAI, param: str, value: float, text: str
) -> None:
    error = refusal(client, model="gpt-5", messages=HELLO, **{param: value})
    assert error == {
        "message": text,
        "type": "invalid_request_error",
        "param": param,
        "code": "unsupported_value",
    }


@pytest.mark.parametrize(
    ("param", "value"), [("presence_penalty", 0.5), ("frequency_penalty", 1), ("logprobs", True)]
)
def test_reasoning_models_refuse_penalties_and_logprobs(
    client: openai.OpenAI, param: str, value: Any
) -> None:
    error = refusal(client, model="o4-mini", messages=HELLO, **{param: value})
    assert error["message"] == f"Unsupported parameter: '{param}' is not supported with this model."
    assert (error["param"], error["code"]) == (param, "unsupported_parameter")


def test_reasoning_models_accept_the_defaults_spelled_out(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="o3", messages=HELLO, temperature=1, top_p=1, presence_penalty=0, logprobs=False
    )  # type: ignore[arg-type]
    assert completion.model == "o3-2025-04-16"


def test_chat_models_keep_their_sampling_parameters(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1", messages=HELLO, temperature=0.2, max_tokens=5
    )  # type: ignore[arg-type]
    assert completion.choices[0].finish_reason in ("stop", "length")


@pytest.mark.parametrize("role", ["system", "developer"])
def test_o1_mini_refuses_system_and_developer_messages(
    client: openai.OpenAI, state: MockState, role: str
) -> None:
    set_date(state, "2025-03-01")
    error = refusal(client, model="o1-mini", messages=[{"role": role, "content": "Be brief."}, *HELLO])
    assert error == {
        "message": f"Unsupported value: 'messages[0].role' does not support '{role}' with this model.",
        "type": "invalid_request_error",
        "param": "messages[0].role",
        "code": "unsupported_value",
    }


def test_a_tool_message_must_answer_an_assistant_tool_call(client: openai.OpenAI) -> None:
    messages = [*HELLO, {"role": "tool", "tool_call_id": "call_abc", "content": "Sunny"}]
    assert refusal(client, model="gpt-4o", messages=messages) == {
        "message": "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
        "with 'tool_calls'.",
        "type": "invalid_request_error",
        "param": "messages.[1].role",
        "code": None,
    }


def test_every_tool_call_needs_its_answer(client: openai.OpenAI) -> None:
    messages = [
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "user", "content": "Well?"},
    ]
    error = refusal(client, model="gpt-4o", messages=messages, tools=TOOLS)
    assert error["message"] == (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        "'tool_call_id'. The following tool_call_ids did not have response messages: call_abc"
    )
    assert error["code"] is None


def test_an_answer_to_an_unknown_call_is_refused(client: openai.OpenAI) -> None:
    messages = [
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_other", "content": "Sunny"},
    ]
    error = refusal(client, model="gpt-4o", messages=messages, tools=TOOLS)
    assert error["message"] == (
        "Invalid parameter: 'tool_call_id' of 'call_other' not found in 'tool_calls' of previous message."
    )


@pytest.mark.anyio
async def test_async_clients_get_the_same_answers_and_refusals(aclient: openai.AsyncOpenAI) -> None:
    second = {**CALL, "id": "call_def"}
    messages = [
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [CALL, second]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "Sunny"},
        {"role": "tool", "tool_call_id": "call_def", "content": "Rainy"},
    ]
    completion = await aclient.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert completion.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as info:
        await aclient.chat.completions.create(model="gpt-5-nano", messages=HELLO, max_tokens=3)  # type: ignore[arg-type]
    assert info.value.code == "unsupported_parameter"


@pytest.mark.parametrize(
    ("model", "bias", "text"),
    [
        ("gpt-3.5-turbo", {"100265": 10}, "Invalid key in 'logit_bias': 100265. Maximum value is 100257."),
        ("gpt-4o", {"200000": 10}, "Invalid key in 'logit_bias': 200000. Maximum value is 199999."),
        ("gpt-4o", {"hello": 10}, "Invalid key in 'logit_bias': hello. You should only be submitting "
         "non-negative integers."),
    ],
)  # fmt: skip
def test_logit_bias_keys_must_be_token_ids_of_the_model(
    client: openai.OpenAI, model: str, bias: dict[str, int], text: str
) -> None:
    error = refusal(client, model=model, messages=HELLO, logit_bias=bias)
    assert (error["message"], error["param"]) == (text, "logit_bias")


def test_logit_bias_values_stay_within_100(client: openai.OpenAI) -> None:
    assert refusal(client, model="gpt-4o", messages=HELLO, logit_bias={"50256": 101})["param"] == "logit_bias"
    assert client.chat.completions.create(model="gpt-4o", messages=HELLO, logit_bias={"50256": -100}).choices  # type: ignore[arg-type]


def test_web_search_options_belong_to_the_search_models(client: openai.OpenAI, state: MockState) -> None:
    set_date(state, "2025-05-14")
    search = {"search_context_size": "low"}
    assert client.chat.completions.create(
        model="gpt-4o-search-preview", messages=HELLO, web_search_options=search
    ).choices  # type: ignore[arg-type]
    refused = refusal(client, model="gpt-4-turbo", messages=HELLO, web_search_options=search)
    assert refused["message"] == "Web search options not supported with this model."
    unknown = refusal(client, model="o4-mini", messages=HELLO, web_search_options=search)
    assert (unknown["message"], unknown["code"]) == (
        "Unknown parameter: 'web_search_options'.",
        "unknown_parameter",
    )


WEATHER_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    }
                },
                "required": ["location"],
            },
        },
    }
]
WEATHER_QUESTION = [{"role": "user", "content": "What's the weather like in San Francisco?"}]


def test_tool_definitions_count_the_same_in_bodies_streams_and_context_errors(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded: this request cost gpt-3.5-turbo 68 prompt tokens (2024-06-08)."""
    set_date(state, "2024-06-08")
    args: dict[str, Any] = {"model": "gpt-3.5-turbo", "messages": WEATHER_QUESTION, "tools": WEATHER_TOOL}
    body = client.chat.completions.create(**args)
    assert body.usage is not None and body.usage.prompt_tokens == 68
    stream = client.chat.completions.create(**args, stream=True, stream_options={"include_usage": True})
    usage = [c.usage for c in stream if c.usage is not None]
    assert usage[-1].prompt_tokens == 68
    error = refusal(client, **{**args, "model": "gpt-4"}, max_tokens=8192 - 68 + 1)
    assert error["code"] == "context_length_exceeded"
    assert error["message"] == (
        "This model's maximum context length is 8192 tokens. However, you requested 8193 tokens (16 in the "
        "messages, 52 in the functions, and 8125 in the completion). Please reduce the length of the "
        "messages, functions, or completion."
    )
