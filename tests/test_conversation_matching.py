"""Stateless multi-turn match keys (`turn`, `last_role`, `tool_result`, `called`): rules that read the
conversation itself, for chat and the Responses API alike, so an agent loop needs no `state`."""

from __future__ import annotations

import json

import openai
import pytest

from mockai.call import Call
from mockai.scenario.matching import compile_match
from mockai.server.runner import ServerThread
from mockai.testing.mock import MockAI

WEATHER_CHAT = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_RESPONSES = {"type": "function", "name": "get_weather", **WEATHER_CHAT["function"]}  # type: ignore[dict-item]


def agent_rules(mock: MockAI, endpoint: str) -> None:
    """Call the tool when the user speaks; answer from the tool's result when it comes back."""
    mock.on(endpoint, last_role="user", turn=0).reply_tool_call("get_weather", city="Paris")
    mock.on(endpoint, last_role="tool", called="get_weather").reply("It is {{ tool_result }} in Paris.")


def test_a_chat_agent_loop_calls_the_tool_then_answers_from_its_result(
    client: openai.OpenAI, server: ServerThread
) -> None:
    agent_rules(MockAI(server), "chat")
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_CHAT])  # type: ignore[list-item]
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_CHAT])  # type: ignore[list-item]
    assert second.choices[0].message.content == "It is sunny in Paris."


def test_a_responses_agent_loop_matches_across_previous_response_id(
    client: openai.OpenAI, server: ServerThread
) -> None:
    agent_rules(MockAI(server), "responses")
    first = client.responses.create(model="gpt-4o", input="Weather in Paris?", tools=[WEATHER_RESPONSES])  # type: ignore[list-item]
    [call] = first.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Paris"}
    second = client.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        tools=[WEATHER_RESPONSES],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "rainy"}],
    )
    assert second.output_text == "It is rainy in Paris."


def test_a_responses_agent_loop_matches_with_the_whole_conversation_passed_back(
    client: openai.OpenAI, server: ServerThread
) -> None:
    agent_rules(MockAI(server), "responses")
    items: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.responses.create(model="gpt-4o", input=items, tools=[WEATHER_RESPONSES], store=False)  # type: ignore[list-item]
    call = first.output[0]
    assert call.type == "function_call"
    items += [
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "foggy"},
    ]
    second = client.responses.create(model="gpt-4o", input=items, tools=[WEATHER_RESPONSES], store=False)  # type: ignore[list-item]
    assert second.output_text == "It is foggy in Paris."


def chat_call(*messages: dict) -> Call:
    return Call(endpoint="chat", model="gpt-4o", body={"messages": list(messages)}, messages=messages)


def fits(match: dict, call: Call) -> bool:
    matchers, issues = compile_match(match)
    assert not issues
    return all(m.matches(call) for m in matchers)


USER = {"role": "user", "content": "hi"}
CALLED = {
    "role": "assistant",
    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}],
}
RESULT = {"role": "tool", "tool_call_id": "c1", "content": "42 items"}


@pytest.mark.parametrize(
    ("match", "messages", "expected"),
    [
        ({"turn": 0}, [USER], True),
        ({"turn": 1}, [USER], False),
        ({"turn": [1, 2]}, [USER, CALLED, RESULT], True),
        ({"last_role": "tool"}, [USER, CALLED, RESULT], True),
        ({"last_role": ["assistant", "user"]}, [USER, CALLED, RESULT], False),
        ({"tool_result": "42"}, [USER, CALLED, RESULT], True),
        ({"tool_result": "43"}, [USER, CALLED, RESULT], False),
        ({"tool_result": ""}, [USER], False),
        ({"called": "lookup"}, [USER, CALLED, RESULT], True),
        ({"called": ["lookup", "other"]}, [USER, CALLED, RESULT], False),
    ],
)
def test_conversation_keys_read_the_messages(match: dict, messages: list, expected: bool) -> None:
    assert fits(match, chat_call(*messages)) is expected


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ({"turn": -1}, "match.turn: expected a whole number from 0 or a list of them, e.g. turn: 1; got -1"),
        (
            {"last_role": "tools"},
            "match.last_role: unknown role 'tools'. Did you mean 'tool'? Valid roles: user, assistant, tool, "
            "system, developer.",
        ),
    ],
)
def test_bad_conversation_keys_say_how_to_fix_them(match: dict, message: str) -> None:
    _, issues = compile_match(match)
    assert [i.message for i in issues] == [message]
