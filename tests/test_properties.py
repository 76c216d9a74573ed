"""Properties over generated requests: any JSON gets a 2xx or an OpenAI-shaped 4xx, never a 5xx,
and the same request always gets the same bytes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mockai.endpoints import chat, completions

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "system", "assistant", "tool", "developer", "x"]),
            "content": st.text(max_size=30) | json_values,
        }
    ),
    max_size=3,
)


def bodies(params: dict[str, Any], base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies with some fields replaced by arbitrary JSON, and bodies of arbitrary keys."""
    keys = st.sampled_from(sorted(params)) | st.text(max_size=10)
    mutated = st.dictionaries(keys, json_values, max_size=4).map(lambda extra: {**base, **extra})
    return mutated | st.dictionaries(keys, json_values, max_size=6)


CHAT_BASE = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
COMPLETION_BASE = {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "max_tokens": 20}


def check_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert isinstance(error["message"], str) and error["message"]


@SETTINGS
@given(
    body=bodies(chat.PARAMS, CHAT_BASE)
    | st.fixed_dictionaries({"model": st.just("gpt-4o-mini"), "messages": messages})
)
def test_any_chat_body_gets_a_2xx_or_an_openai_shaped_4xx(http: httpx.Client, body: dict[str, Any]) -> None:
    check_answer(http.post("/v1/chat/completions", json=body))


@SETTINGS
@given(body=bodies(completions.PARAMS, COMPLETION_BASE))
def test_any_completions_body_gets_a_2xx_or_an_openai_shaped_4xx(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    check_answer(http.post("/v1/completions", json=body))


@SETTINGS
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_as_a_body_get_a_4xx_never_a_crash(http: httpx.Client, raw: bytes) -> None:
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/models"):
        check_answer(http.post(path, content=raw))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(min_size=1, max_size=200),
    n=st.integers(1, 3),
    stream=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_the_same_request_always_gets_the_same_bytes(
    http: httpx.Client, text: str, n: int, stream: bool, seed: int
) -> None:
    body = {
        **CHAT_BASE,
        "messages": [{"role": "user", "content": text}],
        "n": n,
        "stream": stream,
        "seed": seed,
    }
    first = http.post("/v1/chat/completions", json=body)
    assert first.status_code == 200
    assert http.post("/v1/chat/completions", json=body).content == first.content


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions"])
def test_a_deeply_nested_body_gets_a_4xx(http: httpx.Client, path: str) -> None:
    check_answer(http.post(path, content=b"[" * 100_000 + b"]" * 100_000))
