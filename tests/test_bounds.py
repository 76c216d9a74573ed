"""Hostile input gets a 4xx in OpenAI's envelope, never a 5xx, and never runs unbounded: numbers JSON does
not have, whitespace that overflows tiktoken's regex, malformed or enormous schemas, names the OS refuses.

Each test sends what a hostile or careless client would, through the real openai client where it can
send it, and pins the live API's text where one is known."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from hypothesis import given, settings, strategies as st
from openai_texts import BAD_JSON

from mockai.generation import fakejson
from mockai.models import tokens
from mockai.recording import proxy
from mockai.recording.scrub import Scrubber
from mockai.scenario import matching
from mockai.scenario.files import ScenarioError, scenario_from_text
from mockai.server.journal import Journal
from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.settings import Settings

HI = [{"role": "user", "content": "hi"}]


def json_schema(schema: Any, strict: bool = False) -> Any:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": strict}}


def nested(levels: int) -> dict[str, Any]:
    """A strict object schema `levels` objects deep."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {
            "type": "object",
            "properties": {"x": schema},
            "required": ["x"],
            "additionalProperties": False,
        }
    return schema


FAN_OUT = {
    "$defs": {"node": {"type": "object", "properties": {k: {"$ref": "#/$defs/node"} for k in "abcdefgh"}}},
    "$ref": "#/$defs/node",
}


# -- numbers JSON does not have ------------------------------------------------------------------------


def test_nan_is_not_json_so_the_request_gets_openais_bad_json_400(http: httpx.Client) -> None:
    # Python's json.dumps writes NaN unless told not to: what a careless caller sends.
    body = json.dumps({"model": "gpt-4o-mini", "messages": HI, "temperature": float("nan")})
    answer = http.post("/v1/chat/completions", content=body, headers={"authorization": "Bearer sk-x"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {"message": BAD_JSON, "type": "invalid_request_error", "param": None, "code": None}
    }


def test_speech_speed_infinity_is_bad_json_too(http: httpx.Client) -> None:
    body = json.dumps({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": float("inf")})
    answer = http.post("/v1/audio/speech", content=body, headers={"authorization": "Bearer sk-x"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == BAD_JSON


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_the_admin_api_refuses_them_as_well(http: httpx.Client, constant: bytes) -> None:
    answer = http.put("/_mockai/limits", content=b'{"rpm": ' + constant + b"}")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == BAD_JSON


def test_a_schema_bound_past_float_range_still_gets_a_valid_object(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    raw = (
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "response_format": '
        b'{"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object", "properties": '
        b'{"a": {"type": "integer", "minimum": 1e400}, "b": {"type": "number", "maximum": 1'
        + b"0" * 400
        + b"}}}}}}"
    )
    answer = http.post("/v1/chat/completions", content=raw, headers={"authorization": "Bearer sk-x"})
    assert answer.status_code == 200
    content = json.loads(answer.json()["choices"][0]["message"]["content"])
    assert set(content) == {"a", "b"}


# -- tiktoken's regex overflow -------------------------------------------------------------------------


def test_megabytes_of_whitespace_are_counted_not_a_500(client: openai.OpenAI) -> None:
    spaces = " " * 2_000_000
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": spaces}]
    )
    # 2,000,000 spaces are 15,625 tokens of 128 spaces in o200k_base; "user" 1, 3 per message, 3 to prime.
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 15_625 + 1 + 3 + 3


def test_a_completions_prompt_of_whitespace_keeps_its_special_tokens() -> None:
    enc = tokens.get_encoding("cl100k_base")
    assert len(enc.encode_ordinary(" \t" * 1000)) == 999  # what tiktoken itself counts for a short run
    ids = tokens.with_special(enc, "<|endoftext|>" + " \t" * 600_000 + "<|endoftext|>")
    assert ids[0] == ids[-1] == enc.eot_token
    assert len(ids) == 2 + 599_999


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [" ", "  ", "\n", "\t", "\r\n", "\u3000", "a", "Word", "12345", "'s", "!?", "é", "😀"]
        ),
        max_size=60,
    ),
    st.sampled_from(["o200k_base", "cl100k_base", "p50k_base", "r50k_base"]),
)
def test_the_fallback_path_counts_exactly_what_tiktoken_counts(parts: list[str], encoding: str) -> None:
    text = "".join(parts)
    enc = tokens.get_encoding(encoding)
    assert tokens._by_pieces(enc, text) == enc.encode_ordinary(text)


def test_the_fallback_path_agrees_with_tiktoken_on_long_runs_it_can_still_encode() -> None:
    enc = tokens.get_encoding("o200k_base")
    for text in (" " * 90_000 + "x", "a" + "\n" * 90_000, "x " + "\t " * 40_000 + "y"):
        assert tokens._by_pieces(enc, text) == enc.encode_ordinary(text)


# -- pieces too long for tiktoken's byte-pair merge --------------------------------------------------

RUN_CHARS = [" ", "\t", "\n", "\r", "\u3000", "x", "a", "Z", "0", "7", "!", "-", "=", "é", "中", "😀", "ß"]
ENCODINGS = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base"]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(RUN_CHARS),
    st.one_of(st.integers(1, 5000), st.integers(5000, 200_000)),
    st.sampled_from(ENCODINGS),
)
def test_a_run_of_one_character_gets_tiktokens_own_tokens(char: str, length: int, encoding: str) -> None:
    enc = tokens.get_encoding(encoding)
    run = char * length
    assert tokens._piece(enc, run) == enc._core_bpe.encode_single_piece(run.encode())


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("char", [" ", "\n", "x"])
def test_the_closed_form_holds_at_every_length_just_past_where_it_starts(encoding: str, char: str) -> None:
    enc = tokens.get_encoding(encoding)
    start = 2 * tokens.RUN_WINDOW
    for length in range(start - 2, start + 300):
        run = char * length
        assert tokens._piece(enc, run) == enc._core_bpe.encode_single_piece(run.encode()), length


@settings(max_examples=30, deadline=None)
@given(
    st.text(st.sampled_from("ab Zé!?\t\n1'中"), min_size=1, max_size=12),
    st.integers(2 * tokens.RUN_WINDOW, 40_000),
    st.sampled_from(ENCODINGS),
)
def test_a_long_piece_of_mixed_characters_gets_tiktokens_own_tokens(
    unit: str, length: int, encoding: str
) -> None:
    # Whatever the pattern makes of a long repeated unit, each piece is merged as tiktoken merges it.
    enc = tokens.get_encoding(encoding)
    text = (unit * (length // len(unit) + 1))[:length]
    for piece in tokens._pattern(enc._pat_str).findall(text):
        assert tokens._piece(enc, piece) == enc._core_bpe.encode_single_piece(piece.encode())


@settings(max_examples=12, deadline=None)
@given(
    st.text(st.sampled_from("abqZxé中😀1-"), min_size=2, max_size=40),
    st.integers(2 * tokens.LONG_PIECE + 1, 5 * tokens.LONG_PIECE),
    st.sampled_from(ENCODINGS),
)
def test_a_piece_too_long_to_merge_whole_is_merged_in_windows_to_the_same_tokens(
    unit: str, length: int, encoding: str
) -> None:
    # Past 2 * LONG_PIECE bytes a piece is merged a window at a time, in linear time, to tiktoken's tokens.
    enc = tokens.get_encoding(encoding)
    data = (unit * (length // len(unit) + 1)).encode()[:length]
    assert tokens._sliced(enc, data) == enc._core_bpe.encode_single_piece(data)


def test_a_ten_megabyte_word_gets_its_count_not_a_frozen_worker(client: openai.OpenAI) -> None:
    word = "qwertyuiopasdfghjklzxcvbnm" * 400_000  # 10.4 M characters: one piece, 5,200,001 tokens (tiktoken)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": word}])
    assert caught.value.body == {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in "
        "5200008 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }


def test_a_message_past_ten_mebibytes_gets_openais_string_too_long(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": "hi"}, {"role": "user", "content": "x" * 10_485_761}],
        )
    assert caught.value.body == {
        "message": "Invalid 'messages[1].content': string too long. Expected a string with maximum length "
        "10485760, but got a string with length 10485761 instead.",
        "type": "invalid_request_error",
        "param": "messages[1].content",
        "code": "string_above_max_length",
    }


def test_a_responses_text_part_past_ten_mebibytes_is_refused_as_pasted(client: openai.OpenAI) -> None:
    text = {"type": "input_text", "text": "y" * 10_485_770}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="gpt-4o-mini",
            input=[{"role": "user", "content": "hi"}, {"role": "user", "content": [text]}],  # type: ignore[list-item]
        )
    assert caught.value.body == {
        "message": "Invalid 'input[1].content[0].text': string too long. Expected a string with maximum "
        "length 10485760, but got a string with length 10485770 instead.",
        "type": "invalid_request_error",
        "param": "input[1].content[0].text",
        "code": "string_above_max_length",
    }


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([" ", "\n", "word", "Word ", "123", "!?", "é"]),
            st.builds(lambda c, n: c * n, st.sampled_from(RUN_CHARS), st.integers(2000, 9000)),
            st.builds(
                lambda u, n: u * n,
                st.sampled_from(["ab", " \t", "!\n/", "x1", "é中", "Ab"]),
                st.integers(1000, 4000),
            ),
        ),
        max_size=8,
    ),
    st.sampled_from(ENCODINGS),
)
def test_text_with_long_runs_counts_what_tiktoken_counts(parts: list[str], encoding: str) -> None:
    text = "".join(parts)
    enc = tokens.get_encoding(encoding)
    assert tokens.ordinary(enc, text) == enc.encode_ordinary(text)


def test_a_long_run_is_found_wherever_it_is_and_short_runs_are_not() -> None:
    assert tokens._has_long_run("hi " + "x" * tokens.LONG_RUN + " there")
    assert tokens._has_long_run("x" + " " * tokens.LONG_RUN)
    assert not tokens._has_long_run(("x" * (tokens.LONG_RUN // 2) + " ") * 50)
    assert not tokens._has_long_run("hello world " * 10_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=12), st.integers(0, 3000))
def test_every_run_of_long_run_characters_is_found(lengths: list[int], offset: int) -> None:
    # Runs of non-space and space characters in turn, after `offset` characters of short words.
    text = "ab " * (offset // 3) + "".join(("x" if i % 2 else " ") * n for i, n in enumerate(lengths))
    if max(lengths) >= tokens.LONG_RUN:
        assert tokens._has_long_run(text)


def test_three_megabytes_of_spaces_are_counted_exactly() -> None:
    # o200k_base: 23,437 tokens of 128 spaces, then one of the last 64 (3,000,000 = 23,437 * 128 + 64).
    assert tokens.count("o200k_base", " " * 3_000_000) == 23_438
    assert tokens.count("cl100k_base", "x" * 3_000_000) == 375_000  # tokens of 8 letters


def test_an_embeddings_input_whose_length_proves_it_too_long_is_refused_without_encoding_it(
    client: openai.OpenAI,
) -> None:
    # Over 8192 * 128 characters: more than 8192 tokens whatever they are, as no token covers 129 bytes.
    word = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(1_100_000))
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input=["hi", word])
    assert caught.value.status_code == 400
    assert caught.value.body["message"] == "Invalid 'input[1]': maximum input length is 8192 tokens."  # type: ignore[index]


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_400_for_a_huge_word(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await aclient.embeddings.create(model="text-embedding-3-small", input="x" * 2_000_000)
    assert caught.value.body["message"] == "Invalid 'input[0]': maximum input length is 8192 tokens."  # type: ignore[index]


def test_the_2023_error_still_states_the_exact_count_of_a_long_word(
    http: httpx.Client, state: MockState
) -> None:
    state.as_of = dt.date(2023, 7, 6)
    response = http.post("/v1/embeddings", json={"model": "text-embedding-ada-002", "input": "x" * 2_000_000})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "This model's maximum context length is 8191 tokens, however you requested 250000 tokens "
        "(250000 in your prompt; 0 for the completion). Please reduce your prompt; or completion length."
    )


def test_an_empty_input_after_a_huge_one_is_still_the_schema_error(http: httpx.Client) -> None:
    response = http.post(
        "/v1/embeddings", json={"model": "text-embedding-3-small", "input": ["x" * 2_000_000, ""]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
    )


# -- schemas -------------------------------------------------------------------------------------------


def test_tool_choice_function_given_as_a_string_is_a_type_error(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=HI,
            tools=[tool],
            tool_choice={"type": "function", "function": "f"},  # type: ignore[list-item,typeddict-item]
        )
    assert caught.value.body == {
        "message": "Invalid type for 'tool_choice.function': expected an object, but got a string instead.",
        "type": "invalid_request_error",
        "param": "tool_choice.function",
        "code": "invalid_type",
    }


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": {"a": 1}}, "In context=(), {'a': 1} is not valid under any of the given schemas."),
        ({"type": "object", "properties": 5}, "In context=(), 5 is not of type 'object'."),
        (
            {"type": "object", "properties": {"a": {"type": "array", "items": 3}}},
            "In context=('properties', 'a'), 3 is not of type 'object', 'boolean'.",
        ),
        ({"type": "object", "required": None}, "In context=(), None is not of type 'array'."),
    ],
)
def test_a_malformed_response_format_schema_is_refused_with_where(
    client: openai.OpenAI, schema: Any, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI, response_format=json_schema(schema))
    assert caught.value.body["message"] == f"Invalid schema for response_format 'out': {message}"  # type: ignore[index]
    assert caught.value.body["param"] == "response_format"  # type: ignore[index]


def test_a_malformed_function_schema_names_the_function(client: openai.OpenAI) -> None:
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": []}},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI, tools=[tool])  # type: ignore[list-item]
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid schema for function 'lookup': In context=(), [] is not of type 'object'."
    )
    assert caught.value.body["param"] == "tools[0].function.parameters"  # type: ignore[index]


def test_a_strict_schema_deeper_than_ten_levels_gets_openais_limit(client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=HI, response_format=json_schema(nested(10), True)
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=HI, response_format=json_schema(nested(11), True)
        )
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid schema for response_format 'out': 11 levels of nesting exceeds limit of 10."
    )


def test_strict_limits_count_properties_and_enum_values() -> None:
    many = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5001)}}
    with pytest.raises(Exception, match="5001 object properties exceeds limit of 5000"):
        fakejson.check(many, "response_format 'x'", "response_format", strict=True)
    fakejson.check(
        many, "response_format 'x'", "response_format", strict=False
    )  # the limits are strict mode's
    enums = {"type": "string", "enum": [str(i) for i in range(1001)]}
    with pytest.raises(Exception, match="1001 enum values exceeds limit of 1000"):
        fakejson.check(enums, "response_format 'x'", "response_format", strict=True)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "string"}, "minItems": 10**9},
        {"type": "string", "minLength": 10**9},
        FAN_OUT,
        {"type": "array", "minItems": 3000, "items": {"type": "array", "minItems": 3000}},
    ],
    ids=["minItems", "minLength", "ref-fan-out", "nested-arrays"],
)
def test_a_schema_asking_for_too_much_json_is_a_mockai_400_at_once(
    client: openai.OpenAI, schema: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI, response_format=json_schema(schema))
    body: Any = caught.value.body
    assert body["code"] == "mockai_schema_too_large"
    assert body["message"].startswith("mockai: the JSON this schema asks for is larger than mockai generates")


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_400(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=HI, response_format=json_schema(FAN_OUT)
        )
    assert caught.value.body["code"] == "mockai_schema_too_large"  # type: ignore[index]


def test_a_forced_tool_whose_arguments_would_be_too_large_is_refused_before_the_stream(
    client: openai.OpenAI,
) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": FAN_OUT}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=HI, tools=[tool], tool_choice="required", stream=True
        )  # type: ignore[list-item]
    assert caught.value.body["param"] == "tools[0].function.parameters"  # type: ignore[index]


def test_a_schema_within_the_budget_still_gets_json_that_validates(client: openai.OpenAI) -> None:
    schema = {"type": "array", "items": {"type": "string", "minLength": 50}, "minItems": 500}
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=HI, response_format=json_schema(schema)
    )
    value = json.loads(completion.choices[0].message.content or "")
    jsonschema.validate(value, schema)
    assert len(value) == 500


# -- streams -------------------------------------------------------------------------------------------


def test_stream_logprobs_are_the_same_tokens_as_the_whole_answers(client: openai.OpenAI) -> None:
    kwargs: Any = {"model": "gpt-4o-mini", "messages": HI, "logprobs": True, "top_logprobs": 3, "seed": 1}
    whole = client.chat.completions.create(**kwargs)
    streamed = []
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
            streamed.extend(chunk.choices[0].logprobs.content)
    assert whole.choices[0].logprobs is not None
    assert [t.model_dump() for t in streamed] == [
        t.model_dump() for t in whole.choices[0].logprobs.content or []
    ]


# -- names the OS refuses ------------------------------------------------------------------------------


def test_a_scenario_file_name_too_long_for_the_os_is_not_found(tmp_path: Path) -> None:
    with ServerThread(Settings(port=0, scenario_dir=str(tmp_path))) as srv:
        answer = httpx.put(
            srv.url.removesuffix("/v1") + "/_mockai/scenario", params={"file": "a" * 300 + ".yaml"}
        )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "scenario_not_found"


# -- rule regexes --------------------------------------------------------------------------------------


def test_a_rule_regex_cannot_backtrack_catastrophically(client: openai.OpenAI, state: MockState) -> None:
    state.rules.add_rule({"match": {"regex": "^(a+)+$"}, "reply": {"content": "all a"}})
    # Python's re takes longer than the universe's age on this; RE2 answers in linear time.
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a" * 50_000 + "!"}]
    )
    assert completion.choices[0].message.content != "all a"
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "aaa"}]
    )
    assert completion.choices[0].message.content == "all a"


@pytest.mark.parametrize("pattern", ["(?=x)y", r"(a)\1", "(?<!no )thanks", "x{2000}"])
def test_a_regex_re2_cannot_run_is_refused_at_load_saying_why(http: httpx.Client, pattern: str) -> None:
    answer = http.post("/_mockai/rules", json={"match": {"regex": pattern}, "reply": {"content": "x"}})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert f"regular expression {pattern!r} is not available: " in message
    assert "mockai matches rules with RE2, which never backtracks" in message


def test_matching_stops_at_the_first_rule_that_answers(
    client: openai.OpenAI, state: MockState, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.rules.add_rule({"match": {"contains": "hello"}, "reply": {"content": "first"}})
    state.rules.add_rule({"match": {"regex": "never"}, "reply": {"content": "second"}})
    searched: list[str] = []
    original = matching.Regex.matches
    monkeypatch.setattr(
        matching.Regex, "matches", lambda self, call: searched.append(call.text) or original(self, call)
    )
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.choices[0].message.content == "first"
    assert searched == []  # the later rule's regex never ran
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "bye"}])
    # No rule answers: the regex runs once to match, and once more for the journal's `why`.
    assert searched == ["bye", "bye"]


# -- scenario files ------------------------------------------------------------------------------------


def alias_bomb(levels: int, fan: int) -> str:
    """A small YAML document whose aliases expand to fan**levels values."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join([*lines, "rules: [{match: {contains: x}, reply: {content: hi}}]"])


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=6, max_value=12), st.integers(min_value=8, max_value=12))
def test_an_alias_bomb_is_refused_at_the_line_where_it_grows_too_large(levels: int, fan: int) -> None:
    text = alias_bomb(levels, fan)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, source="bomb.yaml")
    message = str(caught.value)
    assert message.startswith("bomb.yaml:")
    assert "its aliases expand to more than 200,000 values (an alias bomb?)" in message
    line = int(message.split(":")[1])
    assert line <= levels  # the anchor line where the expansion crossed the bound, not the end of the file


def test_aliases_that_stay_small_still_load() -> None:
    text = "rules:\n  - {match: {contains: w0}, reply: &r {content: shared}}\n" + "".join(
        f"  - {{match: {{contains: w{i}}}, reply: *r}}\n" for i in range(1, 200)
    )
    assert len(scenario_from_text(text).rules) == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x: &x 1\ny: [" + ", ".join(["*x"] * 1001) + "]\nrules: []",
            "f.yaml:2: the scenario is too large: more than 1,000 aliases",
        ),
        (
            "rules: " + "[" * 150 + "]" * 150,
            "f.yaml:1: the scenario is too large: nested more than 100 levels deep",
        ),
        (
            "#" * (2 * 1024 * 1024 + 1),
            "f.yaml: the scenario is 2,097,153 bytes; mockai reads at most 2,097,152 bytes",
        ),
    ],
    ids=["aliases", "depth", "size"],
)
def test_scenario_text_past_a_limit_is_refused_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, source="f.yaml")
    assert str(caught.value).startswith(message)


def test_an_alias_bomb_put_by_file_name_is_a_400_and_the_server_goes_on(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb(9, 9))
    with ServerThread(Settings(port=0, scenario_dir=str(tmp_path))) as srv:
        root = srv.url.removesuffix("/v1")
        answer = httpx.put(root + "/_mockai/scenario", params={"file": "bomb.yaml"})
        assert answer.status_code == 400
        assert answer.json()["error"]["message"].startswith("mockai: the scenario has mistakes: ")
        assert "bomb.yaml:" in answer.json()["error"]["message"]
        assert httpx.get(root + "/_mockai/health").json()["status"] == "ok"


# -- memory bounded in bytes ---------------------------------------------------------------------------


def test_the_journal_keeps_a_large_body_as_a_marker_with_its_first_bytes() -> None:
    journal = Journal(size=100, max_bytes=10_000_000, body_bytes=1_000)
    raw = json.dumps({"model": "m", "input": "x" * 5_000}).encode()
    entry = journal.record(
        raw=raw, method="POST", path="/v1/embeddings", headers={}, json=json.loads(raw), status=200
    )
    assert entry.json["bytes"] == len(raw)
    assert entry.json["head"] == raw[:1_000].decode()
    assert entry.json["mockai_truncated"].startswith(
        f"the body was {len(raw):,} bytes; the journal keeps bodies"
    )


def test_the_journal_drops_its_oldest_entries_past_its_byte_bound() -> None:
    journal = Journal(size=10_000, max_bytes=100_000, body_bytes=50_000)
    for i in range(100):
        journal.record(raw=b"x" * 20_000, method="POST", path="/v1/x", headers={}, json={"i": i}, status=200)
    kept = journal.entries()
    assert journal.bytes <= 100_000
    assert [e.json["i"] for e in kept] == list(range(100 - len(kept), 100))  # the newest, in order
    assert 1 <= len(kept) <= 5


def test_the_journal_pages_with_after_and_limit(client: openai.OpenAI, http: httpx.Client) -> None:
    for _ in range(5):
        client.embeddings.create(model="text-embedding-3-small", input="x")
    first = http.get("/_mockai/requests", params={"limit": 2}).json()
    assert [e["seq"] for e in first["data"]] == [1, 2] and first["has_more"] is True
    rest = http.get("/_mockai/requests", params={"after": 2, "limit": 10}).json()
    assert [e["seq"] for e in rest["data"]] == [3, 4, 5] and rest["has_more"] is False
    wrong = http.get("/_mockai/requests", params={"limit": "0"})
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "limit"


def test_headers_past_64_kib_get_a_431_in_openais_envelope(http: httpx.Client) -> None:
    answer = http.post("/v1/chat/completions", headers={"x-padding": "p" * 70_000}, json={})
    assert answer.status_code == 431
    assert answer.json()["error"]["message"].startswith("Request Header Fields Too Large")


# -- secrets -------------------------------------------------------------------------------------------


def test_proxy_authorization_is_masked_in_the_journal_and_never_forwarded(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    client.with_options(
        default_headers={"Proxy-Authorization": "Basic c2VjcmV0LXByb3h5LXBhc3N3b3Jk"}
    ).embeddings.create(model="text-embedding-3-small", input="x")
    journaled = http.get("/_mockai/requests").json()["data"][-1]["headers"]["proxy-authorization"]
    assert "c2VjcmV0LXByb3h5LXBhc3N3b3Jk" not in journaled
    assert "proxy-authorization" in proxy.REQUEST_DROP


@pytest.mark.parametrize("name", ["apikey", "secret", "client_secret", "password", "signature", "API_KEY"])
def test_key_like_query_names_are_redacted_in_cassettes(name: str) -> None:
    scrubbed = Scrubber.build().query(f"{name}=hunter2&limit=3")
    assert "hunter2" not in scrubbed and "limit=3" in scrubbed


# -- confinement ---------------------------------------------------------------------------------------


def test_a_reload_does_not_follow_a_symlink_swapped_in_after_the_first_load(tmp_path: Path) -> None:
    folder, outside = tmp_path / "scenarios", tmp_path / "private.yaml"
    folder.mkdir()
    outside.write_text("rules: [{match: {contains: x}, reply: {content: TOP-SECRET-LINE}}]\n")
    (folder / "s.yaml").write_text("rules: [{match: {contains: x}, reply: {content: fine}}]\n")
    with ServerThread(Settings(port=0, scenario_dir=str(folder))) as srv:
        root = srv.url.removesuffix("/v1")
        assert httpx.put(root + "/_mockai/scenario", params={"file": "s.yaml"}).status_code == 200
        (folder / "s.yaml").unlink()
        (folder / "s.yaml").symlink_to(outside)
        answer = httpx.post(root + "/_mockai/reload")
        assert answer.status_code == 400
        message = answer.json()["error"]["message"]
        assert "no longer resolves inside the scenario folder (a symlink swapped in?); not read" in message
        assert "TOP-SECRET-LINE" not in message
        assert srv.state is not None and len(srv.state.rules.rules) == 1  # the old rule stays


# -- recording -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "now", "later"),
    [
        (b'data: {"a": 1}\n\n', b'data: {"a": 1}\n\n', b""),
        (b'data: {"a": 1}\n\ndata: [DONE]\n\n', b'data: {"a": 1}\n\n', b"data: [DONE]\n\n"),
        (b'data: {"a": 1}\n\ndata: [DO', b'data: {"a": 1}\n\n', b"data: [DO"),
        (b"data: [DONE]\n\n", b"", b"data: [DONE]\n\n"),
        (b'data: {"text": "data: [DONE]"}\n\n', b'data: {"text": "data: [DONE]"}\n\n', b""),
    ],
    ids=["event", "done-at-end", "done-split-across-parts", "done-alone", "done-inside-a-string"],
)
def test_a_recorded_streams_done_event_waits_for_the_recording(data: bytes, now: bytes, later: bytes) -> None:
    assert proxy._hold_done(data) == (now, later)


# -- generated hostile schemas -------------------------------------------------------------------------

LEAVES = st.one_of(
    st.just({"type": "string"}),
    st.builds(lambda n: {"type": "string", "minLength": n}, st.integers(0, 10**12)),
    st.builds(
        lambda n: {"type": "integer", "minimum": n},
        st.one_of(st.integers(-(10**400), 10**400), st.floats(allow_nan=False, allow_infinity=False)),
    ),
    st.builds(
        lambda t: {"type": t},
        st.one_of(st.integers(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    ),
    st.just({"$ref": "#/$defs/n"}),
    st.just({"$ref": "#"}),
)
SCHEMAS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(
            lambda items, n: {"type": "array", "items": items, "minItems": n}, inner, st.integers(0, 10**12)
        ),
        st.builds(
            lambda props: {"type": "object", "properties": props, "required": list(props)},
            st.dictionaries(st.text("abcdef", min_size=1, max_size=3), inner, max_size=6),
        ),
        st.builds(lambda parts: {"anyOf": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(
            lambda p: {"type": "object", "properties": p}, st.one_of(st.integers(), st.text(max_size=3))
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(SCHEMAS, st.booleans(), st.booleans())
def test_any_schema_gets_a_valid_answer_or_a_400_at_once(
    server: ServerThread, schema: Any, strict: bool, as_tool: bool
) -> None:
    schema = {**schema, "$defs": {"n": schema}} if isinstance(schema, dict) else schema
    if as_tool:
        extra: Any = {
            "tools": [{"type": "function", "function": {"name": "f", "parameters": schema, "strict": strict}}]
        }
        extra["tool_choice"] = "required"
    else:
        extra = {"response_format": json_schema(schema, strict)}
    body = json.dumps({"model": "gpt-4o-mini", "messages": HI, **extra}, allow_nan=False, default=str)
    answer = httpx.post(
        server.url + "/chat/completions", content=body, headers={"authorization": "Bearer sk-x"}, timeout=30
    )
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code == 400:
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
    else:
        message = answer.json()["choices"][0]["message"]
        arguments = message["tool_calls"][0]["function"]["arguments"] if as_tool else message["content"]
        json.loads(arguments)  # always JSON, however odd the schema
