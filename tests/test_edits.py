"""POST /v1/edits, retired 2024-01-04: the openai 3.x SDK has no `client.edits`, so `client.post` it is."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from conformance import validate
from conftest import set_date
from hypothesis import HealthCheck, given, settings, strategies as st

from mockai.endpoints import edits
from mockai.models import tokens
from mockai.server.state import MockState

DOCS_EXAMPLE = {
    "model": "text-davinci-edit-001",
    "input": "What day of the wek is it?",
    "instruction": "Fix the spelling mistakes",
}
"""The API reference's example, as written there (no final period): 25 prompt tokens."""


@pytest.fixture()
def in_2023(state: MockState) -> MockState:
    """The simulated date while the edit models still answered."""
    set_date(state, "2023-07-06")
    return state


def edit(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    return client.post("/edits", body=body, cast_to=object)  # type: ignore[return-value]


def test_a_recorded_edit_is_counted_as_the_live_api_did(client: openai.OpenAI, in_2023: MockState) -> None:
    """A response dd-trace-py's tests replay: 'test instruction 1' on 'test input 1' cost 18 prompt tokens."""
    body = edit(client, model="text-davinci-edit-001", input="test input 1", instruction="test instruction 1")
    assert body["usage"]["prompt_tokens"] == 18


def test_the_docs_example_is_fixed_and_counted_and_matches_the_edits_spec(
    client: openai.OpenAI, in_2023: MockState
) -> None:
    body = edit(client, **DOCS_EXAMPLE)
    validate("CreateEditResponse", body, "edits")
    assert body["object"] == "edit" and "id" not in body and "model" not in body
    assert body["choices"] == [{"text": "What day of the week is it?", "index": 0, "finish_reason": "stop"}]
    completion = tokens.count("p50k_edit", "What day of the week is it?")
    assert body["usage"] == {
        "prompt_tokens": 25,
        "completion_tokens": completion,
        "total_tokens": 25 + completion,
    }


@pytest.mark.parametrize(
    ("instruction", "text", "expected"),
    [
        ("Convert to upper case", "make me loud", "MAKE ME LOUD"),
        ("Capitalize everything", "shout", "SHOUT"),
        ("Make it lowercase", "Quiet PLEASE", "quiet please"),
        ("Reverse the word order", "one two three", "three two one"),
        ("Fix the spelling", "teh cat will recieve it", "The cat will receive it"),
        ("Correct any typos", "Teh end", "The end"),
    ],
)
def test_known_instructions_are_applied_visibly(
    client: openai.OpenAI, in_2023: MockState, instruction: str, text: str, expected: str
) -> None:
    body = edit(client, model="text-davinci-edit-001", input=text, instruction=instruction)
    assert body["choices"][0]["text"] == expected


def test_any_other_instruction_appends_a_deterministic_sentence_per_choice(
    client: openai.OpenAI, in_2023: MockState
) -> None:
    request = {
        "model": "code-davinci-edit-001",
        "input": "def add(a, b):\n    return a + b",
        "instruction": "Add a docstring",
        "n": 3,
    }
    body = edit(client, **request)
    texts = [c["text"] for c in body["choices"]]
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert all(
        t.startswith(request["input"]) and t.endswith(".") and len(t) > len(request["input"]) for t in texts
    )
    assert len(set(texts)) == 3
    assert edit(client, **request) == body
    assert body["usage"]["completion_tokens"] == sum(tokens.count("p50k_edit", t) for t in texts)


def test_input_defaults_to_empty_and_the_edit_is_then_the_sentence(
    client: openai.OpenAI, in_2023: MockState
) -> None:
    for omitted in ({}, {"input": None}, {"input": ""}):
        text = edit(client, model="text-davinci-edit-001", instruction="Write a haiku", **omitted)["choices"][
            0
        ]["text"]
        assert text and text[0].isupper() and text.endswith(".") and not text.startswith(" ")


def test_a_scripted_text_replaces_every_choice(client: openai.OpenAI, in_2023: MockState) -> None:
    in_2023.rules.add_rule(
        {"match": {"endpoint": "edits", "contains": "wek"}, "reply": {"text": "Scripted."}}
    )
    body = edit(client, **DOCS_EXAMPLE, n=2)
    assert [c["text"] for c in body["choices"]] == ["Scripted.", "Scripted."]


@pytest.mark.parametrize("model", ["text-davinci-edit-001", "code-davinci-edit-001"])
def test_the_edit_models_retire_on_2024_01_04(http: httpx.Client, state: MockState, model: str) -> None:
    request = {**DOCS_EXAMPLE, "model": model}
    set_date(state, "2024-01-03")
    assert http.post("/v1/edits", json=request).status_code == 200
    set_date(state, "2024-01-04")
    response = http.post("/v1/edits", json=request)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": f"The model `{model}` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"model": "gpt-3.5-turbo"}, 404, "Invalid URL (POST /v1/edits)"),
        ({"instruction": None}, 400, "Missing required parameter: 'instruction'."),
        (
            {"n": 21},
            400,
            "Invalid 'n': integer above maximum value. Expected a value <= 20, but got 21 instead.",
        ),
        (
            {"n": 0},
            400,
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"temperature": 2.5},
            400,
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
        ),
        ({"input": 5}, 400, "Invalid type for 'input': expected a string, but got an integer instead."),
        ({"max_tokens": 5}, 400, "Unrecognized request argument supplied: max_tokens"),
    ],
)
def test_bad_requests_get_openais_error(
    http: httpx.Client, in_2023: MockState, change: dict[str, Any], status: int, message: str
) -> None:
    body = {k: v for k, v in {**DOCS_EXAMPLE, **change}.items() if v is not None}
    response = http.post("/v1/edits", json=body)
    assert response.status_code == status and response.json()["error"]["message"] == message


def test_the_legacy_engines_route_answers_edits(http: httpx.Client, in_2023: MockState) -> None:
    body = {k: v for k, v in DOCS_EXAMPLE.items() if k != "model"}
    response = http.post("/v1/engines/text-davinci-edit-001/edits", json=body)
    assert (
        response.status_code == 200 and response.json()["choices"][0]["text"] == "What day of the week is it?"
    )


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_edit(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI, in_2023: MockState
) -> None:
    request = {**DOCS_EXAMPLE, "instruction": "Say more"}
    assert await aclient.post("/edits", body=request, cast_to=object) == edit(client, **request)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
bodies = st.dictionaries(
    st.sampled_from(sorted(edits.PARAMS)) | st.text(max_size=8), json_values, max_size=5
).map(lambda extra: {**DOCS_EXAMPLE, **extra})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies | json_values)
def test_any_json_body_gets_a_2xx_or_an_openai_shaped_4xx(
    http: httpx.Client, in_2023: MockState, body: Any
) -> None:
    response = http.post("/v1/edits", content=json.dumps(body))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
