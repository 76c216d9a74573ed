"""Exact token counts, built offline and checked against tiktoken's pinned hashes."""

from __future__ import annotations

import pytest

from mockai.models import tokens, tool_prompt

COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": (
            "You are a helpful, pattern-following assistant "
            "that translates corporate jargon into plain English."
        ),
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": (
            "Let's circle back when we have more bandwidth "
            "to touch base on opportunities for increased leverage."
        ),
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]

COOKBOOK_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
COOKBOOK_TOOL_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize("name", tokens.ENCODINGS)
def test_every_encoding_builds_offline_and_matches_tiktokens_pinned_hash(name: str) -> None:
    enc = tokens.get_encoding(name)
    assert enc.decode(enc.encode_ordinary("hello world")) == "hello world"


@pytest.mark.parametrize(
    ("encoding", "text", "expected"),
    [
        ("r50k_base", "hello world", [31373, 995]),
        ("p50k_base", "hello world", [31373, 995]),
        ("cl100k_base", "hello world", [15339, 1917]),
        ("o200k_base", "hello world", [24912, 2375]),
        ("p50k_base", "a" + " " * 10 + "b", [64, 50264, 275]),
        ("r50k_base", "a" + " " * 3 + "b", [64, 220, 220, 275]),
    ],
)
def test_encodings_give_the_token_ids_tiktoken_gives(encoding: str, text: str, expected: list[int]) -> None:
    assert tokens.encode(encoding, text) == expected


@pytest.mark.parametrize(
    ("encoding", "legacy", "expected"),
    [("cl100k_base", False, 129), ("cl100k_base", True, 127), ("o200k_base", False, 124)],
)
def test_chat_prompt_tokens_follow_the_cookbook_example(encoding: str, legacy: bool, expected: int) -> None:
    assert tokens.count_chat_prompt(encoding, COOKBOOK_MESSAGES, legacy_0301=legacy) == expected


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("cl100k_base", 105), ("o200k_base", 101)],
)
def test_tool_definitions_cost_what_the_cookbook_measured(encoding: str, expected: int) -> None:
    """The cookbook printed the live API's count for this request: 105 on gpt-3.5/4, 101 on gpt-4o."""
    functions = [t["function"] for t in COOKBOOK_TOOLS]
    total = tool_prompt.count(
        encoding,
        functions,
        system=COOKBOOK_TOOL_MESSAGES[0]["content"],
        harmony=False,
    ) + tokens.count_chat_prompt(encoding, COOKBOOK_TOOL_MESSAGES)
    assert total == expected


def test_tool_definitions_are_rendered_as_a_typescript_namespace() -> None:
    functions = [t["function"] for t in COOKBOOK_TOOLS]
    assert tool_prompt.render(functions) == (
        "namespace functions {\n\n"
        "// Get the current weather in a given location\n"
        "type get_current_weather = (_: {\n"
        "// The city and state, e.g. San Francisco, CA\n"
        "location: string,\n"
        "// The unit of temperature to return\n"
        'unit?: "celsius" | "fahrenheit",\n'
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_a_tampered_vocabulary_is_refused_with_the_file_named() -> None:
    with pytest.raises(tokens.TokenizerDataError, match="expected 223921b7"):
        tokens._verified("cl100k_base", b"AAAA 0\n", "somewhere/cl100k_base.tiktoken")
