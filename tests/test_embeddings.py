"""POST /v1/embeddings through the real openai client: shapes, encodings, limits, and vectors that rank."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import httpx
import openai
import pytest
from conformance import validate
from conftest import set_date
from hypothesis import HealthCheck, given, settings, strategies as st

from mockai.endpoints import embeddings
from mockai.generation import vectors
from mockai.models import tokens
from mockai.server.state import MockState

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)
HELLO_IDS = [15339, 1917]  # "hello world" in cl100k_base
CORPUS = [
    "The cat sat on the warm windowsill, purring softly.",
    "Stock markets fell sharply after the interest rate announcement.",
    "A recipe for chocolate chip cookies with brown butter.",
    "The football team won the championship final last night.",
    "How to repair a flat bicycle tire with a patch kit.",
    "Photosynthesis converts sunlight into chemical energy in plants.",
    "Python lists and dictionaries are built-in data structures.",
    "The volcano erupted, sending ash clouds over the island.",
]
QUERIES = [
    ("my cat is purring on the windowsill", 0),
    ("bake some chocolate cookies", 2),
    ("fix a flat tire on my bicycle", 4),
]


def post(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/v1/embeddings", json=body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    validate("ErrorResponse", response.json())
    return response.json()["error"]


@pytest.mark.parametrize(
    ("model", "reported", "dims"),
    [
        ("text-embedding-ada-002", "text-embedding-ada-002-v2", 1536),
        ("text-embedding-3-small", "text-embedding-3-small", 1536),
        ("text-embedding-3-large", "text-embedding-3-large", 3072),
    ],
)
def test_each_model_answers_its_own_dimension_and_reported_name(
    client: openai.OpenAI, model: str, reported: str, dims: int
) -> None:
    raw = client.embeddings.with_raw_response.create(
        model=model, input="The quick brown fox", encoding_format="float"
    )
    body = json.loads(raw.text)
    validate("CreateEmbeddingResponse", body)
    assert body["model"] == reported and body["object"] == "list"
    assert len(body["data"][0]["embedding"]) == dims
    assert body["usage"] == {
        "prompt_tokens": tokens.count("cl100k_base", "The quick brown fox"),
        "total_tokens": 4,
    }


def test_the_sdk_default_base64_decodes_to_the_same_float32_vector_as_float(client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="hello")
    wire = json.loads(raw.text)["data"][0]["embedding"]
    assert isinstance(wire, str) and len(wire) == 8192  # the SDK asked for base64: ceil(4 * 1536 / 3) chars
    decoded = raw.parse().data[0].embedding
    floats = (
        client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
        .data[0]
        .embedding
    )
    assert decoded == floats
    assert list(struct.unpack("<1536f", base64.b64decode(wire))) == floats


def test_an_explicit_base64_request_gets_the_string_little_endian_float32(client: openai.OpenAI) -> None:
    b64 = (
        client.embeddings.create(model="text-embedding-3-small", input="hi", encoding_format="base64")
        .data[0]
        .embedding
    )
    assert isinstance(b64, str)
    values = struct.unpack("<1536f", base64.b64decode(b64))
    assert math.isclose(math.hypot(*values), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize(
    ("given", "count", "prompt_tokens"),
    [
        ("hello world", 1, 2),
        (["hello world", "hello"], 2, 3),
        (HELLO_IDS, 1, 2),
        ([HELLO_IDS, [15339]], 2, 3),
    ],
)
def test_strings_lists_token_ids_and_token_id_lists_are_inputs(
    client: openai.OpenAI, given: Any, count: int, prompt_tokens: int
) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=given)
    assert [d.index for d in result.data] == list(range(count))
    assert result.usage.prompt_tokens == result.usage.total_tokens == prompt_tokens


def test_token_ids_embed_exactly_like_the_text_they_encode(client: openai.OpenAI) -> None:
    from_ids = client.embeddings.create(model="text-embedding-ada-002", input=[HELLO_IDS]).data[0].embedding
    from_text = (
        client.embeddings.create(model="text-embedding-ada-002", input="hello world").data[0].embedding
    )
    assert from_ids == from_text


def test_vectors_are_unit_length_and_the_same_on_every_call(client: openai.OpenAI) -> None:
    first = client.embeddings.create(model="text-embedding-3-large", input="deterministic").data[0].embedding
    again = (
        client.embeddings.create(model="text-embedding-3-large", input=["other", "deterministic"])
        .data[1]
        .embedding
    )
    assert first == again
    assert math.isclose(math.hypot(*first), 1.0, rel_tol=1e-5)


def test_the_expected_document_ranks_first_for_each_query(client: openai.OpenAI) -> None:
    docs = [d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=CORPUS).data]
    for query, expected in QUERIES:
        q = client.embeddings.create(model="text-embedding-3-small", input=query).data[0].embedding
        scores = [vectors.cosine(q, d) for d in docs]
        assert max(range(len(docs)), key=scores.__getitem__) == expected, (query, scores)
        assert scores[expected] > 0.3 > max(s for i, s in enumerate(scores) if i != expected)


def test_texts_differing_only_in_case_and_punctuation_are_near_but_not_equal(client: openai.OpenAI) -> None:
    a, b = (
        d.embedding
        for d in client.embeddings.create(
            model="text-embedding-3-small", input=["Hello world", "hello, WORLD!"]
        ).data
    )
    assert 0.9 < vectors.cosine(a, b) < 0.999


def test_dimensions_shortens_like_matryoshka_truncate_then_renormalise(client: openai.OpenAI) -> None:
    full = client.embeddings.create(model="text-embedding-3-large", input="shorten me").data[0].embedding
    short = (
        client.embeddings.create(model="text-embedding-3-large", input="shorten me", dimensions=256)
        .data[0]
        .embedding
    )
    norm = math.hypot(*full[:256])
    assert len(short) == 256
    assert all(math.isclose(s, f / norm, rel_tol=1e-5, abs_tol=1e-7) for s, f in zip(short, full))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"model": "text-embedding-ada-002", "input": "x", "dimensions": 512},
            400,
            "This model does not support specifying dimensions.",
        ),
        (
            {"model": "text-embedding-3-small", "input": "x", "dimensions": 1537},
            400,
            "Invalid 'dimensions': integer above maximum value. "
            "Expected a value <= 1536, but got 1537 instead.",
        ),
        (
            {"model": "text-embedding-3-small", "input": "x", "dimensions": 0},
            400,
            "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        ({"model": "text-embedding-3-small", "input": ""}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": []}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": ["a", ""]}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": ["a", 1]}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": [[]]}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": [-1]}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": ["a"] * 2049}, 400, INVALID_INPUT),
        ({"model": "text-embedding-3-small"}, 400, "Missing required parameter: 'input'."),
        (
            {"model": "text-embedding-3-small", "input": "x", "encoding_format": "hex"},
            400,
            "Invalid value: 'hex'. Supported values are: 'float' and 'base64'.",
        ),
        (
            {"model": "text-embedding-3-small", "input": "x", "extra": 1},
            400,
            "Unrecognized request argument supplied: extra",
        ),
        (
            {"model": "gpt-4o-mini", "input": "x"},
            400,
            "You are not allowed to generate embeddings from this model",
        ),
        (
            {"model": "text-embedding-4", "input": "x"},
            404,
            "The model `text-embedding-4` does not exist or you do not have access to it.",
        ),
    ],
)
def test_bad_requests_get_openais_error(
    http: httpx.Client, body: dict[str, Any], status: int, message: str
) -> None:
    response = http.post("/v1/embeddings", json=body)
    assert response.status_code == status
    assert error_of(response)["message"] == message


def test_exactly_2048_inputs_are_accepted(http: httpx.Client) -> None:
    response = post(http, model="text-embedding-3-small", input=["word"] * 2048, encoding_format="base64")
    assert response.status_code == 200 and len(response.json()["data"]) == 2048


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (
            "2023-07-06",
            "This model's maximum context length is 8191 tokens, however you requested 8193 tokens "
            "(8193 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
        ),
        ("2025-01-01", "Invalid 'input[1]': maximum input length is 8192 tokens."),
    ],
)
def test_an_input_over_the_token_limit_gets_the_error_of_its_era(
    http: httpx.Client, state: MockState, date: str, message: str
) -> None:
    set_date(state, date)
    response = post(http, model="text-embedding-ada-002", input=[[1], [15339] * 8193])
    assert response.status_code == 400 and error_of(response)["message"] == message


def test_more_than_300000_tokens_in_one_request_is_refused(http: httpx.Client) -> None:
    error = error_of(post(http, model="text-embedding-3-small", input=[[15339] * 8000] * 38))
    assert error["message"] == "Requested 304000 tokens, max 300000 tokens per request"
    assert error["code"] == error["type"] == "max_tokens_per_request"


@pytest.mark.parametrize(
    ("model", "dims"),
    [
        ("text-similarity-ada-001", 1024),
        ("text-search-babbage-doc-001", 2048),
        ("text-similarity-davinci-001", 12288),
    ],
)
def test_first_generation_models_answer_with_their_own_size_until_2024_01_04(
    http: httpx.Client, state: MockState, model: str, dims: int
) -> None:
    set_date(state, "2023-12-01")
    body = post(http, model=model, input="old times").json()
    assert len(body["data"][0]["embedding"]) == dims and body["usage"]["prompt_tokens"] == tokens.count(
        "r50k_base", "old times"
    )
    set_date(state, "2024-01-04")
    error = error_of(post(http, model=model, input="old times"))
    assert error["code"] == "model_not_found" and "has been deprecated" in error["message"]


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_a_scripted_embedding_is_returned_as_given_for_every_input(
    http: httpx.Client, state: MockState, encoding_format: str
) -> None:
    state.rules.add_rule({"match": {"endpoint": "embeddings"}, "reply": {"embedding": [0.6, 0.8, 3.0]}})
    body = post(
        http, model="text-embedding-3-small", input=["a", "b"], encoding_format=encoding_format
    ).json()
    for item in body["data"]:
        got = (
            item["embedding"]
            if encoding_format == "float"
            else list(struct.unpack("<3f", base64.b64decode(item["embedding"])))
        )
        assert got == pytest.approx([0.6, 0.8, 3.0])
    assert body["usage"]["prompt_tokens"] == 2


def test_a_scripted_value_beyond_float32_becomes_infinity_in_base64(
    http: httpx.Client, state: MockState
) -> None:
    state.rules.add_rule({"match": {"endpoint": "embeddings"}, "reply": {"embedding": [1e300, 0.5]}})
    body = post(http, model="text-embedding-3-small", input="x", encoding_format="base64").json()
    assert struct.unpack("<2f", base64.b64decode(body["data"][0]["embedding"])) == (math.inf, 0.5)


def test_the_legacy_engines_route_answers_embeddings(http: httpx.Client) -> None:
    response = http.post("/v1/engines/text-embedding-ada-002/embeddings", json={"input": "hi"})
    assert response.status_code == 200 and response.json()["model"] == "text-embedding-ada-002-v2"


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_vectors(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    result = await aclient.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert [d.embedding for d in result.data] == [
        d.embedding
        for d in client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"]).data
    ]


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
    st.sampled_from(sorted(embeddings.PARAMS)) | st.text(max_size=8), json_values, max_size=5
).map(lambda extra: {"model": "text-embedding-3-small", "input": "hi", **extra})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies | json_values)
def test_any_json_body_gets_a_2xx_or_an_openai_shaped_4xx(http: httpx.Client, body: Any) -> None:
    response = http.post("/v1/embeddings", json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
