from __future__ import annotations

from typing import Any

import pytest

from mockai.call import Call
from mockai.scenario.matching import MATCHERS, Gate, Probe, compile_match, draw, same

CHAT = {
    "model": "gpt-4o-mini",
    "stream": True,
    "temperature": 0,
    "response_format": {"type": "json_object"},
    "messages": [
        {"role": "system", "content": "You are a terse weather bot."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Is it raining"}, {"type": "text", "text": " in Paris?"}],
        },
        {"role": "assistant", "content": "Let me check."},
        {"role": "user", "content": "Thanks, and Lyon?"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    "functions": [{"name": "legacy_lookup"}],
}


def chat(**changes: Any) -> Call:
    body = {**CHAT, **changes}
    return Call("chat", body["model"], body, "Thanks, and Lyon?", api_key="sk-test")


def fits(match: dict[str, Any], call: Call) -> bool:
    matchers, issues = compile_match(match)
    assert issues == []
    return all(m.matches(call) for m in matchers)


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({}, True),
        ({"endpoint": "chat"}, True),
        ({"endpoint": ["embeddings", "chat"]}, True),
        ({"endpoint": "completions"}, False),
        ({"model": "gpt-4o-mini"}, True),
        ({"model": "gpt-4*"}, True),
        ({"model": "gpt-4?-mini"}, True),
        ({"model": "GPT-4*"}, False),
        ({"model": ["gpt-3.5*", "gpt-4o*"]}, True),
        ({"model": "gpt-4"}, False),
        ({"contains": "Lyon"}, True),
        ({"contains": "lyon"}, False),
        ({"contains": ["Thanks", "Lyon"]}, True),
        ({"contains": ["Thanks", "Paris"]}, False),
        ({"icontains": "LYON"}, True),
        ({"icontains": ["thanks", "LYON"]}, True),
        ({"regex": "(?i)^thanks"}, True),
        ({"regex": "^Lyon"}, False),
        ({"regex": r"and \w+\?$"}, True),
        ({"system": "weather bot"}, True),
        ({"system": "Lyon"}, False),
        ({"any_message": "raining in Paris"}, True),
        ({"any_message": ["Paris", "Let me check"]}, True),
        ({"any_message": "check.Thanks"}, False),
        ({"tools": "get_weather"}, True),
        ({"tools": "legacy_lookup"}, True),
        ({"tools": ["get_weather", "legacy_lookup"]}, True),
        ({"tools": ["get_weather", "send_email"]}, False),
        ({"stream": True}, True),
        ({"stream": False}, False),
        ({"json": {"temperature": 0}}, True),
        ({"json": {"temperature": 0.0}}, True),
        ({"json": {"temperature": False}}, False),
        ({"json": {"response_format.type": "json_object"}}, True),
        ({"json": {"response_format": {"type": "json_object"}}}, True),
        ({"json": {"messages.0.role": "system"}}, True),
        ({"json": {"messages.3.content": "Thanks, and Lyon?"}}, True),
        ({"json": {"messages.9.role": "user"}}, False),
        ({"json": {"temperature": 0, "response_format.type": "text"}}, False),
        ({"json": {"seed": None}}, True),
        ({"json": {"temperature": None}}, False),
        ({"json": {"temperature.__class__": None}}, True),
        ({"endpoint": "chat", "model": "gpt-4*", "contains": "Lyon", "stream": True}, True),
        ({"endpoint": "chat", "model": "gpt-4*", "contains": "Nice"}, False),
    ],
)
def test_each_match_key_fits_the_calls_its_docstring_promises(match: dict[str, Any], expected: bool) -> None:
    assert fits(match, chat()) is expected


def test_a_missing_stream_field_counts_as_not_streaming() -> None:
    body = {"model": "gpt-4o", "messages": []}
    call = Call("chat", "gpt-4o", body, "")
    assert fits({"stream": False}, call)
    assert not fits({"stream": True}, call)


def test_message_matchers_fall_back_to_the_call_text_outside_chat() -> None:
    call = Call("embeddings", "text-embedding-3-small", {"input": "some words"}, "some words")
    assert fits({"any_message": "words"}, call)
    assert not fits({"system": "words"}, call)
    assert not fits({"tools": "get_weather"}, call)


def test_matchers_are_sorted_cheapest_first_and_gates_last() -> None:
    matchers, _ = compile_match(
        {
            "probability": 0.5,
            "regex": "x",
            "contains": "x",
            "json": {"a": 1},
            "model": "m",
            "endpoint": "chat",
        }
    )
    assert [m.key for m in matchers] == ["endpoint", "model", "json", "contains", "regex", "probability"]
    assert isinstance(matchers[-1], Gate)


@pytest.mark.parametrize(
    ("match", "message"),
    [
        (
            {"contians": "x"},
            "unknown match key 'contians'. Did you mean 'contains'? Valid keys: any_message, call, "
            "called, contains, endpoint, icontains, json, last_role, model, probability, regex, state, "
            "stream, system, tool_result, tools, turn.",
        ),
        (
            {"endpoint": "chat_completions"},
            "match.endpoint: unknown endpoint 'chat_completions'. Did you mean 'completions'? Valid "
            "endpoints: chat, completions, edits, embeddings, transcriptions, translations, speech, "
            "responses, moderations, images.",
        ),
        ({"model": 4}, 'match.model: expected a string or a list of strings, e.g. model: "gpt-4*"; got 4'),
        (
            {"contains": []},
            'match.contains: expected a string or a list of strings, e.g. contains: "weather"; got []',
        ),
        (
            {"regex": "(?P<x"},
            "match.regex: invalid regular expression '(?P<x': missing >, unterminated name at position 4. "
            "Fix it, or use contains for a plain substring.",
        ),
        (
            {"regex": ["a"]},
            "match.regex: expected a regular expression string, e.g. regex: \"(?i)thanks\"; got ['a']",
        ),
        ({"stream": "yes"}, "match.stream: expected true or false; got 'yes'"),
        (
            {"json": {"a..b": 1}},
            "match.json: 'a..b' is not a dotted path such as 'temperature' or 'messages.0.role'",
        ),
        (
            {"json": []},
            'match.json: expected a mapping of dotted paths to values, e.g. json: {"response_format.type": '
            "json_object}; got []",
        ),
        (
            {"probability": 1.5},
            "match.probability: expected a number from 0 to 1, e.g. probability: 0.25; got 1.5",
        ),
        (
            {"probability": True},
            "match.probability: expected a number from 0 to 1, e.g. probability: 0.25; got True",
        ),
        ({"call": 0}, "match.call: expected a call number from 1, a list of them, or {every: k}; got 0"),
        ({"call": {"every": 0}}, "match.call: every must be a whole number of at least 1; got 0"),
        (
            {"call": {"evry": 2}},
            "match.call: expected a call number from 1, a list of them, or {every: k}; got {'evry': 2}",
        ),
        ({"state": 1}, "match.state: expected a string or a list of strings, e.g. state: started; got 1"),
    ],
)
def test_bad_match_values_are_rejected_with_a_fix(match: dict[str, Any], message: str) -> None:
    _, issues = compile_match(match)
    assert [i.message for i in issues] == [message]


def test_a_match_that_is_not_a_mapping_is_rejected() -> None:
    _, issues = compile_match(["contains", "x"])
    assert [i.message for i in issues] == [
        "match must be a mapping of match keys, e.g. match: {endpoint: chat, contains: hello}; got "
        "['contains', 'x']"
    ]


def test_every_registered_key_is_documented_by_a_class_with_that_key() -> None:
    assert all(cls.key == key for key, cls in MATCHERS.items())


@pytest.mark.parametrize(
    ("value", "admitted"),
    [
        (2, [2]),
        ([1, 3], [1, 3]),
        ({"every": 2}, [2, 4, 6]),
        ({"every": 1}, [1, 2, 3, 4, 5, 6]),
    ],
)
def test_call_gates_admit_the_listed_call_numbers(value: Any, admitted: list[int]) -> None:
    (gate,), _ = compile_match({"call": value})
    assert isinstance(gate, Gate)
    assert [n for n in range(1, 7) if gate.admits(Probe(n, "started", 0, "s#1"))] == admitted


def test_state_gates_admit_only_their_states() -> None:
    (gate,), _ = compile_match({"state": ["started", "retrying"]})
    assert isinstance(gate, Gate)
    assert gate.before_count
    assert gate.admits(Probe(1, "retrying", 0, "s#1"))
    assert not gate.admits(Probe(1, "done", 0, "s#1"))


def test_probability_draws_are_fixed_by_seed_rule_and_call_number() -> None:
    assert draw(0, "s#1", 1) == draw(0, "s#1", 1)
    assert 0 <= draw(0, "s#1", 1) < 1
    assert [draw(0, "s#1", n) for n in range(20)] != [draw(1, "s#1", n) for n in range(20)]
    (gate,), _ = compile_match({"probability": 0.25})
    assert isinstance(gate, Gate)
    hits = sum(gate.admits(Probe(n, "started", 7, "s#1")) for n in range(1, 4001))
    assert 850 < hits < 1150


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 0.0, True),
        (0, False, False),
        (1, True, False),
        (True, True, True),
        ("1", 1, False),
        ({"a": [1, True]}, {"a": [1.0, True]}, True),
        ({"a": [1, True]}, {"a": [1, 1]}, False),
        ([1, 2], [1], False),
        (None, None, True),
    ],
)
def test_json_values_compare_like_json_not_like_python(a: Any, b: Any, expected: bool) -> None:
    assert same(a, b) is expected


def test_stream_reads_a_multipart_form_field_too() -> None:
    call = Call("transcriptions", "gpt-4o-transcribe", {"stream": "true", "file": "a.wav"}, "")
    assert fits({"stream": True}, call)
