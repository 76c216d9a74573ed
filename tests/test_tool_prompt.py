"""How tool definitions are written into the prompt (a TypeScript-like namespace) and what they cost.

The token figures are the live API's, from recorded requests (shared/reference/real-traffic); the rendering
rules follow the public renderer of the harmony format where the recordings agree with it.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from conftest import set_date

from mockai.models import tool_prompt
from mockai.server.state import MockState

ADD_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers together",
        "parameters": {
            "additionalProperties": False,
            "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
            "required": ["a", "b"],
            "title": "add_args",
            "type": "object",
        },
    },
}
"""A tool as pydantic's JSON schema writes it (non-strict, with `title`s), recorded by dd-trace-py."""

ADD_MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a helpful assistant specialized in addition calculations."},
    {"role": "user", "content": "What is the sum of 1 and 2?"},
]


def test_titles_become_comments_before_the_object_and_each_property() -> None:
    assert tool_prompt.render([ADD_TOOL["function"]]) == (
        "namespace functions {\n\n"
        "// Add two numbers together\n"
        "type add = (_: // add_args\n"
        "{\n"
        "// A:\n"
        "a: number,\n"
        "// B:\n"
        "b: number,\n"
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_nested_objects_arrays_unions_and_enums_render_as_typescript() -> None:
    function = {
        "name": "book",
        "parameters": {
            "type": "object",
            "properties": {
                "guest": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "description": "Full name"}},
                    "required": ["name"],
                },
                "nights": {"type": ["integer", "null"]},
                "room": {"type": "string", "enum": ["single", "double"]},
                "floor": {"type": "integer", "enum": [1, 2]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "extras": {"type": "array"},
                "ref": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "required": ["guest"],
        },
    }
    assert tool_prompt.render([function]) == (
        "namespace functions {\n\n"
        "type book = (_: {\n"
        "guest: {\n"
        "    // Full name\n"
        "    name: string,\n"
        "    },\n"
        "nights?: number | null,\n"
        'room?: "single" | "double",\n'
        "floor?: number,\n"
        "tags?: string[],\n"
        "extras?: Array<any>,\n"
        "ref?: any,\n"
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_a_function_without_properties_takes_no_argument() -> None:
    function = {"name": "ping", "description": "", "parameters": {"type": "object", "properties": {}}}
    assert (
        tool_prompt.render([function])
        == "namespace functions {\n\ntype ping = () => any;\n\n} // namespace functions"
    )


def test_a_schema_nested_past_the_budget_renders_as_any() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(tool_prompt.MAX_DEPTH + 5):
        schema = {"type": "object", "properties": {"x": schema}}
    assert "x?: any," in tool_prompt.render([{"name": "deep", "parameters": schema}])


def test_a_titled_pydantic_tool_costs_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState
) -> None:
    set_date(state, "2025-09-03")
    reply = client.chat.completions.create(model="gpt-4o", messages=ADD_MESSAGES, tools=[ADD_TOOL])
    assert reply.usage is not None and reply.usage.prompt_tokens == 75


@pytest.mark.anyio
async def test_the_async_client_and_a_stream_see_the_same_count(
    aclient: openai.AsyncOpenAI, state: MockState
) -> None:
    set_date(state, "2025-09-03")
    stream = await aclient.chat.completions.create(
        model="gpt-4o",
        messages=ADD_MESSAGES,
        tools=[ADD_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [chunk.usage async for chunk in stream if chunk.usage]
    assert [u.prompt_tokens for u in usage] == [75]


def test_gpt_4_1_frames_tool_definitions_one_token_lower_than_gpt_4o(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by openllmetry on 2025-05-13: gpt-4.1-nano counted 67 for this request."""
    set_date(state, "2025-05-13")
    tools: list[Any] = [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": "",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}},
                    "required": ["location"],
                },
            },
        }
        for name in ("get_weather", "get_news")
    ]
    messages: list[Any] = [
        {"role": "user", "content": "Hey, what's the weather in San Francisco? Also, any news in town?"}
    ]
    nano = client.chat.completions.create(model="gpt-4.1-nano", messages=messages, tools=tools)
    mini = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)
    assert nano.usage is not None and nano.usage.prompt_tokens == 67
    assert mini.usage is not None and mini.usage.prompt_tokens == 68


def test_an_empty_assistant_message_is_not_in_the_prompt(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by simonw/llm on 2025-05-13: gpt-4o-mini counted 87 with the empty message in the history."""
    set_date(state, "2025-05-13")
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "multiply", "arguments": '{"a": 1231, "b": 2331}'},
    }
    tool = {
        "type": "function",
        "function": {
            "name": "multiply",
            "description": "Multiply two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }
    history: list[Any] = [
        {"role": "user", "content": "What is 1231 * 2331?"},
        {"role": "assistant", "content": ""},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "2869461"},
    ]
    with_empty = client.chat.completions.create(model="gpt-4o-mini", messages=history, tools=[tool])
    without = client.chat.completions.create(
        model="gpt-4o-mini", messages=history[:1] + history[2:], tools=[tool]
    )
    assert with_empty.usage is not None and with_empty.usage.prompt_tokens == 87
    assert without.usage is not None and without.usage.prompt_tokens == 87
