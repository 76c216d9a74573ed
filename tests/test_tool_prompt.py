"""How tool definitions are written into the prompt (a TypeScript-like namespace) and what they cost.

The token figures are the live API's, from recorded requests (shared/reference/real-traffic); the rendering
rules follow the public renderer of the harmony format where the recordings agree with it. Every model,
harmony ones included, reads the same namespace text.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from conftest import set_date

from mockai.models import tokens, tool_prompt
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
        "// A\n"
        "a: number,\n"
        "// B\n"
        "b: number,\n"
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_harmony_models_read_the_tools_section_in_a_developer_message_of_its_own() -> None:
    """The section gpt-4o reads in its system message, plus 85 tokens of framing; a leading system message
    takes it in after a blank line, one token fewer, tokenized with it (gpt-5-nano, recorded by crewAI on
    2026-02-18: a system text ending in a word costs one token more than one ending in a full stop)."""
    section = tool_prompt.TOOLS_HEADER + tool_prompt.render([ADD_TOOL["function"]])
    alone = tool_prompt.count("o200k_base", [ADD_TOOL["function"]], system=None, harmony=True)
    assert alone == tokens.count("o200k_base", section) + 85
    for system, merged in (("Help with sums.", 0), ("Help with sums", 1)):
        joined = tool_prompt.count(
            "o200k_base", [ADD_TOOL["function"]], system=system, harmony=True, leading_system=True
        )
        assert joined == alone - 1 + merged


def test_a_gpt_5_mini_request_with_titled_properties_costs_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by mirascope on 2025-12-22: gpt-5-mini counted 238 for two tools whose five properties carry
    pydantic titles, written one `// Title` line each as for gpt-4o (the harmony library's two-line titles
    would cost five more)."""
    set_date(state, "2025-12-22")

    def titled(name: str, description: str, fields: dict[str, str], strict: bool) -> dict[str, Any]:
        properties = {
            key: {"title": key.replace("_", " ").title(), "type": kind} for key, kind in fields.items()
        }
        parameters = {
            "properties": properties,
            "required": list(fields),
            "additionalProperties": False,
            "type": "object",
        }
        function = {"name": name, "description": description, "parameters": parameters, "strict": strict}
        return {"type": "function", "function": function}

    tools = [
        titled("get_book_info", "Look up book information by ISBN.", {"isbn": "string"}, False),
        titled(
            "__mirascope_formatted_output_tool__",
            "Use this tool to extract data in BookSummary format for a final response.",
            {"title": "string", "author": "string", "pages": "integer", "publication_year": "integer"},
            True,
        ),
    ]
    messages: list[Any] = [
        {
            "role": "system",
            "content": "Always respond to the user's query using the __mirascope_formatted_output_tool__ "
            "tool for structured output.",
        },
        {
            "role": "user",
            "content": "Please look up the book with ISBN 0-7653-1178-X and provide detailed info and a "
            "recommendation score",
        },
    ]
    reply = client.chat.completions.create(
        model="gpt-5-mini", messages=messages, tools=tools, tool_choice="required"
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 238


def test_an_object_without_comments_fits_on_one_line() -> None:
    function = {
        "name": "add",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "number"}},
            "required": ["a"],
        },
    }
    assert tool_prompt.render([function]) == (
        "namespace functions {\n\n"
        "type add = (_: { a: number, b?: number }) => any;\n\n"
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
                    "description": "Who stays",
                    "properties": {"name": {"type": "string", "description": "Full name"}},
                    "required": ["name"],
                },
                "party": {"type": "object", "properties": {"adults": {"type": "integer"}}},
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
        "// Who stays\n"
        "guest: {\n"
        "// Full name\n"
        "name: string,\n"
        "},\n"
        "party?: { adults?: number },\n"
        "nights?: number | null,\n"
        'room?: "single" | "double",\n'
        "floor?: 1 | 2,\n"
        "tags?: string[],\n"
        "extras?: Array<any>,\n"
        "ref?: any,\n"
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_a_multi_line_description_is_one_comment_per_line_without_its_indentation() -> None:
    """A docstring's lines each get `//`, stripped of the spaces around them, a blank one a bare `//`; the
    blank tail of the docstring goes (three recorded pydantic-ai MCP tool sets agree)."""
    function = {"name": "add", "description": "Adds a and b. \n\n    Args:\n        a: first\n    "}
    assert tool_prompt.render([function]) == (
        "namespace functions {\n\n"
        "// Adds a and b.\n"
        "//\n"
        "// Args:\n"
        "// a: first\n"
        "type add = () => any;\n\n"
        "} // namespace functions"
    )


def test_a_default_writes_its_object_one_property_a_line() -> None:
    """A `default` is a comment, so an object that has one is not written on one line."""
    function = {
        "name": "get_error",
        "parameters": {"type": "object", "properties": {"value": {"type": "boolean", "default": False}}},
    }
    assert tool_prompt.render([function]) == (
        "namespace functions {\n\n"
        "type get_error = (_: {\n"
        "value?: boolean, // default: false\n"
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_an_array_of_a_defined_model_is_written_as_that_model() -> None:
    """`items: {"$ref": "#/$defs/Answer"}` is the definition's type, as a property's own `$ref` is."""
    function = {
        "name": "final_result",
        "parameters": {
            "$defs": {
                "Answer": {
                    "type": "object",
                    "properties": {"answer": {"type": "string"}, "label": {"type": "string"}},
                    "required": ["label", "answer"],
                }
            },
            "type": "object",
            "properties": {"answers": {"type": "array", "items": {"$ref": "#/$defs/Answer"}}},
            "required": ["answers"],
        },
    }
    assert tool_prompt.render([function]) == (
        "namespace functions {\n\n"
        "type final_result = (_: { answers: { answer: string, label: string }[] }) => any;\n\n"
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
    assert "{ x?: any }" in tool_prompt.render([{"name": "deep", "parameters": schema}])


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
    assert await _streamed_prompt_tokens(aclient, ADD_MESSAGES, [ADD_TOOL]) == [75]


async def _streamed_prompt_tokens(
    aclient: openai.AsyncOpenAI, messages: list[Any], tools: list[Any]
) -> list[int]:
    """The prompt_tokens of each usage chunk of a gpt-4o stream that asks for usage."""
    stream = await aclient.chat.completions.create(
        model="gpt-4o", messages=messages, tools=tools, stream=True, stream_options={"include_usage": True}
    )
    return [chunk.usage.prompt_tokens async for chunk in stream if chunk.usage]


def test_two_uncommented_tools_on_gpt_4_1_nano_cost_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by openllmetry on 2025-05-13: gpt-4.1-nano counted 67 for this request, each function's
    parameters on one line (`{ location: string }`): gpt-4.1 models frame tools as gpt-4o does."""
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
    assert nano.usage is not None and nano.usage.prompt_tokens == 67


def test_an_empty_assistant_message_costs_what_any_message_costs(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by simonw/llm on 2025-05-13: gpt-4o-mini counted 87 with the empty message in the history;
    the empty message is in the prompt, 4 tokens like any message without text. (mockai counts 86 and 82:
    the integer rule of `count` is one token off on this request, a known miss.)"""
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
    assert with_empty.usage is not None and without.usage is not None
    assert with_empty.usage.prompt_tokens - without.usage.prompt_tokens == 4


WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather_in_city",
        "description": "",
        "parameters": {
            "additionalProperties": False,
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "type": "object",
        },
        "strict": True,
    },
}
"""A strict pydantic-ai tool, recorded with gpt-4o on 2025-08-28."""


def _round(call_id: str, name: str, arguments: str, result: str) -> list[Any]:
    """One assistant call and its result, as a client sends them back."""
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def test_a_tool_result_is_written_as_given_under_the_function_name(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2025-08-28: gpt-4o counted 87. The result's newlines are not escaped
    (JSON-quoting it would cost 3 more tokens), and its `tool_call_id` is not in the prompt."""
    set_date(state, "2025-08-28")
    messages = [{"role": "user", "content": "What is the weather in CDMX?"}] + _round(
        "call_fFAB8MNL3tUdfNIIdsIJTo0H",
        "get_weather_in_city",
        '{"city":"CDMX"}',
        "Did you mean Mexico City?\n\nFix the errors and try again.",
    )
    reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    other_id = [dict(m, tool_call_id="x") if m["role"] == "tool" else m for m in messages]
    other_id[1] = dict(other_id[1], tool_calls=[dict(other_id[1]["tool_calls"][0], id="x")])
    again = client.chat.completions.create(model="gpt-4o", messages=other_id, tools=[WEATHER_TOOL])
    assert reply.usage is not None and reply.usage.prompt_tokens == 87
    assert again.usage is not None and again.usage.prompt_tokens == 87


DURABLE = "durability_get_weather_in_city"
DURABLE_MESSAGES: list[Any] = (
    [{"role": "user", "content": "What is the weather in CDMX?"}]
    + _round(
        "call_1", DURABLE, '{"city":"CDMX"}', "Did you mean Mexico City?\n\nFix the errors and try again."
    )
    + _round("call_2", DURABLE, '{"city":"Mexico City"}', "sunny")
)
"""Two rounds of a tool whose name is 6 tokens long (`.d`, `ur`, `ability`... after `functions`)."""


@pytest.mark.anyio
async def test_the_function_name_is_written_with_the_call_and_with_its_result(
    aclient: openai.AsyncOpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2026-05-08: gpt-4o counted 127; each round costs 13 tokens of framing,
    the name twice, the arguments and the result. A stream reports the same count."""
    set_date(state, "2026-05-08")
    tool = {"type": "function", "function": dict(WEATHER_TOOL["function"], name=DURABLE)}
    reply = await aclient.chat.completions.create(model="gpt-4o", messages=DURABLE_MESSAGES, tools=[tool])
    assert reply.usage is not None and reply.usage.prompt_tokens == 127
    assert await _streamed_prompt_tokens(aclient, DURABLE_MESSAGES, [tool]) == [127]


def test_a_docstring_costs_what_the_live_api_counted_on_gpt_3_5_turbo(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by dd-trace-py on 2025-08-12: gpt-3.5-turbo-0125 counted 85 for langchain's docstring tool;
    its blank line is a bare `//` (a blank line would cost one token more on cl100k)."""
    set_date(state, "2025-08-12")
    description = (
        "add(a: int, b: int) -> int - Adds a and b.\n\n        Args:\n            a: first int\n"
        "            b: second int"
    )
    parameters = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }
    tool = {
        "type": "function",
        "function": {"name": "add", "description": description, "parameters": parameters},
    }
    reply = client.chat.completions.create(
        model="gpt-3.5-turbo-0125",
        messages=[{"role": "user", "content": "What is the sum of 1 and 2?"}],
        tools=[tool],
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 85


def test_a_message_name_costs_its_tokens_after_a_colon(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by openinference (autogen) on 2026-02-25: gpt-4o-2024-08-06 counted 28 for a user message
    named `user`: `:user` is one token, where the cookbook's name + 1 says two."""
    set_date(state, "2026-02-25")
    reply = client.chat.completions.create(
        model="gpt-4o-2024-08-06",
        messages=[
            {"role": "system", "content": "You are a helpful AI assistant."},
            {"role": "user", "name": "user", "content": "Write a short poem about the fall season."},
        ],
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 28


def test_an_assistant_name_is_written_with_its_call(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by dd-trace-py on 2025-08-15: gpt-4o-mini counted 123 with a call from an assistant named
    `not_your_average_bostonian`: `assistant:not_your_average_bostonian to=functions.add` (7 tokens)."""
    set_date(state, "2025-08-15")
    parameters = {
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "type": "object",
    }
    tool = {
        "type": "function",
        "function": {"name": "add", "description": "Adds two numbers together", "parameters": parameters},
    }
    call = {
        "type": "function",
        "id": "call_AMIJLbrlmV1VEtIa4G0nE0Io",
        "function": {"name": "add", "arguments": '{"a": 2, "b": 2}'},
    }
    messages: list[Any] = [
        {
            "role": "system",
            "content": "You are a helpful assistant who talks with a Boston accent but is also very nice. "
            "Please use the provided tool to answer the user's question.",
        },
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": None, "name": "not_your_average_bostonian", "tool_calls": [call]},
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": "Error: BdbQuit()\n Please fix your mistakes.",
        },
    ]
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[tool], temperature=0.5
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 123


def test_call_arguments_cost_what_their_compact_json_costs() -> None:
    """`{"a": 1231, "b": 2331}` as sent and `{"a":1231,"b":2331}` cost the same: the prompt re-serialises the
    arguments (the recorded count above needs it); arguments that are not JSON are written as given."""
    spaced = _round("c", "multiply", '{"a": 1231, "b": 2331}', "2869461")
    compact = _round("c", "multiply", '{"a":1231,"b":2331}', "2869461")
    not_json = _round("c", "multiply", "{a: 1231}", "2869461")
    cost = [
        tool_prompt.history_cost("o200k_base", m, {"c": "multiply"}, harmony=False)
        for m in (spaced[0], compact[0], not_json[0])
    ]
    assert cost[0] == cost[1] == 8 + 11
    assert cost[2] == 8 + 7  # "{a: 1231}" as sent: {, a, :, " ", 123, 1, }


def test_a_tool_round_costs_13_tokens_of_framing_and_19_in_the_harmony_format() -> None:
    """One call of `add` (1 token, `.add` after `functions`) with `{"a":1}` (5 tokens) and its result "3";
    in the harmony format a call without arguments (`{}`) costs 2 tokens of framing fewer."""
    call, result = _round("c", "add", '{"a":1}', "3")
    names = {"c": "add"}
    plain = [tool_prompt.history_cost("o200k_base", m, names, harmony=False) for m in (call, result)]
    harmony = [tool_prompt.history_cost("o200k_base", m, names, harmony=True) for m in (call, result)]
    assert sum(plain) == 13 + 1 + 1 + 5 + 1
    assert sum(harmony) == 19 + 1 + 1 + 5 + 1
    empty, _ = _round("c", "add", "{}", "3")
    assert tool_prompt.history_cost("o200k_base", empty, names, harmony=True) == (
        tool_prompt.history_cost("o200k_base", call, names, harmony=True) - 2 - 4
    )


def test_a_required_call_spares_a_token_per_function_after_the_first(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2026-01-29: gpt-5-mini counted 215 for three functions under `tool_choice:
    "required"` and one tool round (the namespace and 90, less 2 for the two functions after the first)."""
    set_date(state, "2026-01-29")
    tools = [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "parameters": {
                    "additionalProperties": False,
                    "properties": properties,
                    "required": list(properties),
                    "type": "object",
                },
                "strict": True,
            },
        }
        for name, description, properties in PYDANTIC_TOOLS
    ]
    messages = [{"role": "user", "content": "Get weather for Paris and summarize"}] + _round(
        "call_LCWM0K5IkLjASFTllZhX5HM3", "get_weather", '{"city":"Paris"}', "Sunny, 22C in Paris"
    )
    reply = client.chat.completions.create(
        model="gpt-5-mini", messages=messages, tools=tools, tool_choice="required"
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 215


def test_a_gpt_5_mini_tool_round_costs_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2025-12-19: gpt-5-mini counted 132 for the question and 167 once the call
    and its result joined it (harmony: 19 tokens of framing for the round)."""
    set_date(state, "2025-12-19")
    tools = [_strict("get_weather", "Get the current weather for a city.", {"city": {"type": "string"}})]
    question: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    messages = question + _round(
        "call_osdBmrDQSV2FQDgMWgTI1U99", "get_weather", '{"city":"Paris"}', "Sunny, 22C in Paris"
    )
    first = client.chat.completions.create(
        model="gpt-5-mini", messages=question, tools=tools, tool_choice="auto"
    )
    second = client.chat.completions.create(
        model="gpt-5-mini", messages=messages, tools=tools, tool_choice="auto"
    )
    assert first.usage is not None and first.usage.prompt_tokens == 132
    assert second.usage is not None and second.usage.prompt_tokens == 167


def test_parallel_calls_cost_what_the_live_api_counted(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by pydantic-ai on 2025-10-02: gpt-4o counted 133 for two calls in one assistant message,
    written as one `multi_tool_use.parallel` call answered by one JSON list of the results."""
    set_date(state, "2025-10-02")
    tools = [
        {"type": "function", "function": dict(WEATHER_TOOL["function"], name=name, parameters=PATH_SCHEMA)}
        for name in ("create_file", "delete_file")
    ]
    calls = [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "delete_file", "arguments": '{"path": ".env"}'},
        },
        {
            "id": "call_b",
            "type": "function",
            "function": {"name": "create_file", "arguments": '{"path": "test.txt"}'},
        },
    ]
    messages: list[Any] = [
        {"role": "system", "content": "Just call tools without asking for confirmation."},
        {"role": "user", "content": "Delete the file `.env` and create `test.txt`"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_a", "content": "true"},
        {"role": "tool", "tool_call_id": "call_b", "content": "Success"},
    ]
    reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, tool_choice="auto")
    assert reply.usage is not None and reply.usage.prompt_tokens == 133


def test_parallel_results_are_one_json_list_of_the_parsed_results() -> None:
    """Recorded by pydantic-ai on 2025-12-20: gpt-4.1 counted 89 more once two parallel calls and their JSON
    results joined the conversation: 20 tokens of framing, the calls' compact JSON (34) and the results
    re-serialised as one list, `[["users", "orders", "products", "reviews"], {"id": 42, ...}]` (35)."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "list_database_tables", "arguments": "{}"}},
            {
                "id": "b",
                "type": "function",
                "function": {"name": "fetch_user_data", "arguments": '{"user_id": 42}'},
            },
        ],
    }
    calls = [("list_database_tables", "{}"), ("fetch_user_data", '{"user_id": 42}')]
    results = [
        '["users","orders","products","reviews"]',
        '{"id":42,"name":"John Doe","email":"john@example.com"}',
    ]
    assert tool_prompt.parallel_cost("o200k_base", message, calls, results) == 89
    assert tool_prompt.parallel_cost("o200k_base", message, calls, ["a", "b"]) == 20 + 34 + 6  # ["a", "b"]


PATH_SCHEMA: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {"path": {"type": "string"}},
    "required": ["path"],
    "type": "object",
}


PYDANTIC_TOOLS: list[tuple[str, str, dict[str, Any]]] = [
    ("get_weather", "Get the current weather for a city.", {"city": {"type": "string"}}),
    ("get_time", "Get the current time in a timezone.", {"timezone": {"type": "string"}}),
    (
        "final_result",
        "The final response which ends this conversation",
        {"city": {"type": "string"}, "summary": {"type": "string"}},
    ),
]


def _strict(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A strict tool as pydantic-ai sends it."""
    schema = {"additionalProperties": False, "properties": properties, "required": list(properties)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": schema | {"type": "object"}}
        | {"strict": True},
    }


SQUARE_MESSAGES: list[Any] = [
    {"role": "system", "content": "Use the provided tool to calculate the square of 2."},
    {"role": "user", "content": "What is the square of 2?"},
]
SQUARE = _strict("calculate_square_tool", "", {"x": {"type": "integer"}})
FINAL = _strict(
    "final_result",
    "The final response which ends this conversation",
    {"original_number": {"type": "integer"}, "square": {"type": "integer"}},
)


def test_integer_parameters_cost_what_the_live_api_counted(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by dd-trace-py on 2025-07-07/08: gpt-4o counted 58 for the first tool alone and 85 for both,
    strict or not (an `integer` is written `number`, as any other number)."""
    set_date(state, "2025-07-08")
    one = client.chat.completions.create(model="gpt-4o", messages=SQUARE_MESSAGES, tools=[SQUARE])
    both = client.chat.completions.create(
        model="gpt-4o", messages=SQUARE_MESSAGES, tools=[SQUARE, FINAL], tool_choice="required"
    )
    loose = [{"type": "function", "function": dict(t["function"], strict=False)} for t in (SQUARE, FINAL)]
    not_strict = client.chat.completions.create(
        model="gpt-4o", messages=SQUARE_MESSAGES, tools=loose, tool_choice="required"
    )
    assert one.usage is not None and one.usage.prompt_tokens == 58
    assert both.usage is not None and both.usage.prompt_tokens == 85
    assert not_strict.usage is not None and not_strict.usage.prompt_tokens == 85


def test_a_strict_function_with_only_string_parameters_costs_its_rendering() -> None:
    """Recorded by pydantic-ai on 2025-08-11: gpt-4o counted 45 for one strict `city: string` tool (the
    section's 27 tokens, 4 of framing and one fewer; the user message and the reply's priming make 15)."""
    weather = _strict("get_weather", "", {"city": {"type": "string"}})["function"]
    section = tool_prompt.TOOLS_HEADER + tool_prompt.render([weather])
    assert section.endswith("type get_weather = (_: { city: string }) => any;\n\n} // namespace functions")
    assert tool_prompt.count("o200k_base", [weather], system=None, harmony=False) == 27 + 4 - 1


COUNTRY_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_user_country",
        "description": "",
        "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
    },
}
COUNTRY_MESSAGES: list[Any] = [{"role": "user", "content": "What is the largest city in the user country?"}]
CITY_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "CityLocation",
        "description": "A city and its country.",
        "strict": True,
        "schema": {
            "additionalProperties": False,
            "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
            "required": ["city", "country"],
            "type": "object",
        },
    },
}


def test_a_function_without_parameters_costs_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2026-01-30: gpt-4o counted 42 for one tool without parameters."""
    set_date(state, "2026-01-30")
    reply = client.chat.completions.create(
        model="gpt-4o", messages=COUNTRY_MESSAGES, tools=[COUNTRY_TOOL], tool_choice="auto"
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 42


def test_a_json_schema_beside_tools_is_written_without_additional_properties_and_required(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by pydantic-ai on 2026-01-30: gpt-4o counted 79 with the schema beside the tool (37 more
    than the tool alone): a `# Response Formats` section after the tools."""
    set_date(state, "2026-01-30")
    both = client.chat.completions.create(
        model="gpt-4o",
        messages=COUNTRY_MESSAGES,
        tools=[COUNTRY_TOOL],
        tool_choice="auto",
        response_format=CITY_FORMAT,
    )
    assert both.usage is not None and both.usage.prompt_tokens == 79


def test_a_json_schema_alone_is_the_same_section_joined_to_the_system_message(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by dd-trace-py on 2025-10-10: gpt-4o-2024-08-06 counted 127 for a pydantic schema with
    `$defs` and a system message: the section joins that message's text, 4 tokens of framing besides."""
    set_date(state, "2025-10-10")
    step = {
        "properties": {
            "explanation": {"title": "Explanation", "type": "string"},
            "output": {"title": "Output", "type": "string"},
        },
        "required": ["explanation", "output"],
        "title": "Step",
        "type": "object",
        "additionalProperties": False,
    }
    schema = {
        "$defs": {"Step": step},
        "properties": {
            "steps": {"items": {"$ref": "#/$defs/Step"}, "title": "Steps", "type": "array"},
            "final_answer": {"title": "Final Answer", "type": "string"},
        },
        "required": ["steps", "final_answer"],
        "title": "MathResponse",
        "type": "object",
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model="gpt-4o-2024-08-06",
        messages=[
            {"role": "system", "content": "You are a helpful math tutor."},
            {"role": "user", "content": "solve 8x + 31 = 2"},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"schema": schema, "name": "MathResponse", "strict": True},
        },
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 127


def test_tools_join_the_system_message(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by pydantic-ai on 2025-04-16: gpt-4.1-mini counted 50 for this request. The definitions are
    appended to the system message's text and tokenized with it."""
    set_date(state, "2025-04-16")
    tool = {
        "type": "function",
        "function": {
            "name": "get_temperature",
            "description": "",
            "strict": True,
            "parameters": {
                "additionalProperties": False,
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "type": "object",
            },
        },
    }
    messages: list[Any] = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the temperature in Tokyo?"},
    ]
    reply = client.chat.completions.create(model="gpt-4.1-mini", messages=messages, tools=[tool])
    assert reply.usage is not None and reply.usage.prompt_tokens == 50


SEARCH = "Retrieve sources from the Azure AI Search index"
DEMO = "This is the main function description"


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """The nested object of pamelafox's measured tools."""
    return {"type": "object", "description": "The object data type as a property", "properties": properties}


def _tool(
    name: str, description: str, properties: dict[str, Any] | None, required: list[str]
) -> dict[str, Any]:
    parameters = (
        None if properties is None else {"type": "object", "properties": properties, "required": required}
    )
    return {"name": name, "description": description} | (
        {} if parameters is None else {"parameters": parameters}
    )


@pytest.mark.parametrize(
    ("function", "choice", "expected"),
    [
        (_tool("search_sources", SEARCH, None, []), "auto", 42),
        (_tool("search_sources", SEARCH, {"search_query": {"type": "string"}}, []), "auto", 49),
        (_tool("search_sources", SEARCH, {"search_query": {"type": "string"}}, ["search_query"]), "auto", 49),
        (
            _tool("data_demonstration", DEMO, {"integer_enum": {"type": "integer", "enum": [-1, 1]}}, []),
            "none",
            54,
        ),
        (
            _tool(
                "data_demonstration",
                DEMO,
                {"object_1": _object({"string1": {"type": "string"}})},
                ["object_1"],
            ),
            "none",
            65,
        ),
        (
            _tool(
                "data_demonstration",
                DEMO,
                {
                    "object_1": _object(
                        {
                            "string_2a": {"type": "string", "enum": ["Happy", "Sad"]},
                            "string_2b": {
                                "type": "string",
                                "description": "Description in a second object is lost",
                            },
                        }
                    ),
                    "string_1": {"type": "string", "description": "Not required gets a question mark"},
                },
                ["object_1"],
            ),
            "none",
            103,
        ),
        (
            _tool(
                "get_coordinates",
                "Get the latitude and longitude of multiple mailing addresses",
                {
                    "addresses": {
                        "type": "array",
                        "description": "The mailing addresses to be located",
                        "items": {"type": "string"},
                    }
                },
                ["addresses"],
            ),
            "none",
            59,
        ),
    ],
)
def test_measured_tool_counts_on_a_cl100k_model(function: dict[str, Any], choice: str, expected: int) -> None:
    """Counts pamelafox/openai-messages-token-helper measured on the live API (a cl100k model, 2024) for
    the system message "You are a bot." and one tool: an uncommented object fits on one line, a commented
    nested object is not indented, an integer enum is a union of its values, and `tool_choice: "none"`
    costs one token."""
    system = {"role": "system", "content": "You are a bot."}
    total = tokens.count_chat_prompt("cl100k_base", [system]) + tool_prompt.count(
        "cl100k_base", [function], system=system["content"], harmony=False, declined=choice == "none"
    )
    assert total == expected


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            _tool(
                "search_sources",
                SEARCH,
                {
                    "search_query": {
                        "type": "string",
                        "description": "Query string to retrieve documents from azure search eg: "
                        "'Health care plan'",
                    }
                },
                ["search_query"],
            ),
            75,
        ),
        (_tool("data_demonstration", DEMO, {"integer_enum": {"type": "integer", "enum": [-1, 1]}}, []), 64),
        (_tool("search_sources", SEARCH, None, []), 51),
    ],
)
def test_a_named_tool_choice_costs_the_name_and_seven_tokens(function: dict[str, Any], expected: int) -> None:
    """pamelafox's three measurements of a `tool_choice` naming the function (a cl100k model, 2024): its
    name and 7 more, as on gpt-4o; the 2023 snapshots take 4 (`functions_era`, below)."""
    system = {"role": "system", "content": "You are a bot."}
    total = tokens.count_chat_prompt("cl100k_base", [system]) + tool_prompt.count(
        "cl100k_base", [function], system=system["content"], harmony=False, forced=function["name"]
    )
    assert total == expected


def test_a_named_tool_choice_costs_the_name_and_four_tokens(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by dd-trace-py on 2024-07-08 (langchain's structured output): gpt-4 (gpt-4-0613, a 2023
    snapshot) counted 95 with `tool_choice` naming the `Joke` function: 4 tokens besides the name."""
    set_date(state, "2024-07-08")
    joke = {
        "type": "function",
        "function": {
            "name": "Joke",
            "description": "A joke with a setup and punchline",
            "parameters": {
                "type": "object",
                "properties": {
                    "punchline": {"description": "The punchline for the joke", "type": "string"},
                    "setup": {"description": "The setup for the joke", "type": "string"},
                },
                "required": ["setup", "punchline"],
            },
        },
    }
    messages: list[Any] = [
        {
            "role": "system",
            "content": "You are an amazing stand-up comedian, but only makes jokes about trees.",
        },
        {"role": "user", "content": "Tell me a joke!"},
    ]
    reply = client.chat.completions.create(
        model="gpt-4",
        messages=messages,
        tools=[joke],
        tool_choice={"type": "function", "function": {"name": "Joke"}},
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 95


def test_a_named_tool_choice_costs_the_name_and_seven_tokens_on_gpt_4o(
    client: openai.OpenAI, state: MockState
) -> None:
    """Recorded by magentic on 2024-11-16: gpt-4o counted 58 with `tool_choice` naming `return_bool` (the
    same 7 tokens over the name on ten other recorded requests)."""
    set_date(state, "2024-11-16")
    tool = {
        "type": "function",
        "function": {
            "name": "return_bool",
            "parameters": {
                "properties": {"value": {"title": "Value", "type": "boolean"}},
                "required": ["value"],
                "type": "object",
            },
        },
    }
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "True if Dublin is the capital of Ireland."}],
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "return_bool"}},
        parallel_tool_calls=False,
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 58


def test_a_default_is_a_comment_after_its_property(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by magentic on 2024-11-24: gpt-4o counted 70 for a tool whose `unit` defaults to
    "fahrenheit" (and whose parameters have no type: `any`)."""
    set_date(state, "2024-11-24")
    weather = {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "properties": {
                "location": {"title": "Location"},
                "unit": {"default": "fahrenheit", "title": "Unit"},
            },
            "required": ["location"],
            "type": "object",
        },
    }
    assert 'unit?: any, // default: "fahrenheit"\n' in tool_prompt.render([weather])
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What's the weather like in Boston?"}],
        tools=[{"type": "function", "function": weather}],
        parallel_tool_calls=False,
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 70


BOOK_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "__mirascope_formatted_output_tool__",
        "description": "Use this tool to extract data in Book format for a final response.\n"
        "A book with a rating. The title should be in all caps!",
        "parameters": {
            "$defs": {
                "Author": {
                    "additionalProperties": False,
                    "description": "The author of a book.",
                    "properties": {
                        "first_name": {"title": "First Name", "type": "string"},
                        "last_name": {"title": "Last Name", "type": "string"},
                    },
                    "required": ["first_name", "last_name"],
                    "title": "Author",
                    "type": "object",
                }
            },
            "additionalProperties": False,
            "properties": {
                "author": {"$ref": "#/$defs/Author"},
                "rating": {
                    "description": "For testing purposes, the rating should be 7",
                    "title": "Rating",
                    "type": "integer",
                },
                "title": {"title": "Title", "type": "string"},
            },
            "required": ["title", "author", "rating"],
            "type": "object",
        },
        "strict": True,
    },
}
"""A pydantic model inside another, as mirascope sends it for structured output (recorded)."""

BOOK_MESSAGES: list[Any] = [
    {
        "role": "system",
        "content": "Always respond to the user's query using the __mirascope_formatted_output_tool__ tool "
        "for structured output.",
    },
    {"role": "user", "content": "Please recommend the most popular book by Patrick Rothfuss"},
]


def test_a_referenced_definition_is_written_in_place_of_its_ref() -> None:
    assert "// Author\n// The author of a book.\nauthor: {\n// First Name\nfirst_name: string," in (
        tool_prompt.render([BOOK_TOOL["function"]])
    )


@pytest.mark.parametrize(
    ("model", "date", "expected"), [("gpt-4o", "2025-10-17", 172), ("gpt-5-mini", "2025-12-22", 240)]
)
def test_a_referenced_model_costs_what_the_live_api_counted(
    client: openai.OpenAI, state: MockState, model: str, date: str, expected: int
) -> None:
    """Recorded by mirascope: what gpt-4o and gpt-5-mini counted for the Book tool named in `tool_choice`."""
    set_date(state, date)
    reply = client.chat.completions.create(
        model=model,
        messages=BOOK_MESSAGES,
        tools=[BOOK_TOOL],
        tool_choice={"type": "function", "function": {"name": "__mirascope_formatted_output_tool__"}},
        parallel_tool_calls=False,
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == expected


def test_definitions_that_refer_to_each_other_stay_within_the_budget() -> None:
    """Each definition refers twice to the next: without a budget the text would double at every level."""
    defs = {
        f"D{i}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/D{i + 1}"}, "b": {"$ref": f"#/$defs/D{i + 1}"}},
        }
        for i in range(30)
    }
    schema = {"type": "object", "$defs": defs, "properties": {"root": {"$ref": "#/$defs/D0"}}}
    text = tool_prompt.render([{"name": "tree", "parameters": schema}])
    assert text.count("a?:") <= tool_prompt.MAX_REFS
    assert "any" in text


def test_the_o_series_writes_tools_as_gpt_4o_does(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by a pydantic-ai fork on 2026-09-19: o3-mini counted 65, its tools section (43 tokens) in
    a system message of its own (4), not in the gpt-5 family's developer message (85 of framing)."""
    set_date(state, "2026-09-19")
    choices = [
        ("refund", "The customer wants their money back."),
        ("replace", "The customer wants a working unit instead."),
        ("escalate", "Nobody on this tier can resolve it."),
    ]
    response = {
        "anyOf": [{"const": value, "description": text} for value, text in choices],
        "description": "What the customer is asking for.",
        "type": "string",
    }
    tool = _strict("final_result", "The final response which ends this conversation", {"response": response})
    reply = client.chat.completions.create(
        model="o3-mini",
        messages=[
            {"role": "user", "content": "The blender arrived smashed. Please send me a replacement unit."}
        ],
        tools=[tool],
        tool_choice="required",
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 65


def test_tool_choice_costs_nothing_in_the_harmony_format(client: openai.OpenAI, state: MockState) -> None:
    """Recorded by pydantic-ai on 2025-12-19: gpt-5-mini counted 149 for two tools under `required`;
    `auto` and `allowed_tools` in `required` mode count the same (recorded requests of each agree)."""
    set_date(state, "2025-12-19")
    tools: list[Any] = [
        _strict(name, description, {field: {"type": "string"}})
        for name, description, field in (
            ("get_weather", "Get weather for a city", "city"),
            ("get_time", "Get current time in a timezone", "timezone"),
        )
    ]
    messages: list[Any] = [{"role": "user", "content": "Give me any information"}]
    every = [{"type": "function", "function": {"name": t["function"]["name"]}} for t in tools]
    counts = [
        client.chat.completions.create(model="gpt-5-mini", messages=messages, tools=tools, tool_choice=choice)
        for choice in (
            "required",
            "auto",
            {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": every}},
        )
    ]
    assert [r.usage.prompt_tokens for r in counts if r.usage is not None] == [149, 149, 149]
