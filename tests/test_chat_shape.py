"""A chat completion's keys follow the simulated date and the model, as the live API's grew over time
(dates bracketed by recorded traffic, see mockai/endpoints/chat_shape.py)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from conftest import set_date

from mockai.server.state import MockState

HELLO = [{"role": "user", "content": "Hello"}]


def raw_body(client: openai.OpenAI, **body: object) -> dict:
    response = client.post("/chat/completions", body=body, cast_to=httpx.Response)
    return json.loads(response.content)


def test_a_mid_2024_body_has_no_refusal_usage_details_service_tier_or_annotations(
    client: openai.OpenAI, state: MockState
) -> None:
    set_date(state, "2024-07-01")
    body = raw_body(client, model="gpt-3.5-turbo", messages=HELLO)
    assert set(body) == {"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}
    assert set(body["choices"][0]["message"]) == {"role", "content"}
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert body["system_fingerprint"] is None


def test_late_2024_usage_details_arrive_in_two_steps(client: openai.OpenAI, state: MockState) -> None:
    set_date(state, "2024-10-10")
    usage = raw_body(client, model="gpt-4o", messages=HELLO)["usage"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}
    set_date(state, "2024-11-07")
    usage = raw_body(client, model="gpt-4o", messages=HELLO)["usage"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert set(usage["completion_tokens_details"]) == {
        "reasoning_tokens",
        "audio_tokens",
        "accepted_prediction_tokens",
        "rejected_prediction_tokens",
    }


def test_a_2025_body_has_refusal_annotations_and_service_tier(
    client: openai.OpenAI, state: MockState
) -> None:
    set_date(state, "2025-04-01")
    completion = client.chat.completions.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert completion.service_tier == "default"
    assert completion.choices[0].message.refusal is None
    assert completion.choices[0].message.annotations == []
    assert completion.system_fingerprint is not None and completion.system_fingerprint.startswith("fp_")


def test_gpt5_bodies_have_no_logprobs_key_and_a_null_fingerprint(
    client: openai.OpenAI, state: MockState
) -> None:
    body = raw_body(client, model="gpt-5-mini", messages=HELLO)
    assert "logprobs" not in body["choices"][0]
    assert body["system_fingerprint"] is None
    assert body["model"] == "gpt-5-mini-2025-08-07"


def stream_events(client: openai.OpenAI) -> list[dict]:
    """The JSON events of a streamed answer, as sent (the SDK's chunk objects drop unknown keys)."""
    body = {"model": "gpt-4o", "messages": HELLO, "stream": True, "stream_options": {"include_usage": True}}
    response = client.post("/chat/completions", body=body, cast_to=httpx.Response, stream=True)
    lines = response.read().decode().splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


@pytest.mark.parametrize(("day", "padded"), [("2025-07-08", False), ("2025-08-05", True)])
def test_stream_chunks_carry_obfuscation_from_august_2025(
    client: openai.OpenAI, state: MockState, day: str, padded: bool
) -> None:
    set_date(state, day)
    events = stream_events(client)
    assert all(("obfuscation" in e) == padded for e in events)
    assert events[-1]["usage"]["prompt_tokens"] == 8


def test_obfuscation_is_the_same_for_the_same_request(client: openai.OpenAI, state: MockState) -> None:
    first = stream_events(client)
    state.reset()
    assert stream_events(client) == first
    assert len({e["obfuscation"] for e in first}) > 1


def test_the_sdk_streams_a_padded_answer(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True)  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_obfuscation_can_be_turned_off(client: openai.OpenAI) -> None:
    body = {
        "model": "gpt-4o",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True, "include_obfuscation": False},
    }
    response = client.post("/chat/completions", body=body, cast_to=httpx.Response, stream=True)
    assert b"obfuscation" not in response.read()


def test_a_moderated_request_gets_moderation_results_for_input_and_output(client: openai.OpenAI) -> None:
    body = raw_body(client, model="gpt-5", messages=HELLO, moderation={"model": "omni-moderation-latest"})
    moderation = body["moderation"]
    assert set(moderation) == {"input", "output"}
    result = moderation["input"]["results"][0]
    assert moderation["input"]["type"] == "moderation_results" and result["type"] == "moderation_result"
    assert result["model"] == "omni-moderation-latest" and result["flagged"] is False
    assert len(result["category_scores"]) == 13 and "moderation" not in raw_body(
        client, model="gpt-5", messages=HELLO
    )


def test_a_custom_tool_is_called_with_free_text_input(client: openai.OpenAI) -> None:
    tools = [{"type": "custom", "custom": {"name": "run_sql", "description": "Run one SQL query"}}]
    body = raw_body(client, model="gpt-5", messages=HELLO, tools=tools, tool_choice="required")
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["type"] == "custom" and set(call["custom"]) == {"name", "input"}
    assert call["custom"]["name"] == "run_sql" and isinstance(call["custom"]["input"], str)
    completion = client.chat.completions.create(
        model="gpt-5", messages=HELLO, tools=tools, tool_choice="required"
    )  # type: ignore[arg-type]
    sdk_call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert sdk_call.type == "custom" and sdk_call.custom.input == call["custom"]["input"]  # type: ignore[union-attr]
