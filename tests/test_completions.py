"""POST /v1/completions (legacy) through the real openai client."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from conformance import validate
from conftest import set_date

from mockai.models import tokens
from mockai.server.state import MockState


def test_a_completion_matches_openais_schema_with_sixteen_tokens_by_default(client: openai.OpenAI) -> None:
    raw = client.completions.with_raw_response.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon a time"
    )
    validate("CreateCompletionResponse", json.loads(raw.text))
    completion = raw.parse()
    assert completion.object == "text_completion" and completion.id.startswith("cmpl-")
    assert completion.usage.prompt_tokens == tokens.count("cl100k_base", "Once upon a time")
    assert completion.usage.completion_tokens <= 16


def test_a_list_of_prompts_gives_a_flat_list_of_choices_indexed_prompt_times_n(client: openai.OpenAI) -> None:
    completion = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt=["a", "b", "c"], n=2, max_tokens=5
    )
    assert [c.index for c in completion.choices] == list(range(6))
    assert completion.usage.prompt_tokens == 3


@pytest.mark.parametrize("prompt", [[15339, 1917], [[15339, 1917], [15339]]])
def test_token_id_prompts_are_accepted_and_counted_by_length(client: openai.OpenAI, prompt: list) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, max_tokens=2)
    assert completion.usage.prompt_tokens == (2 if isinstance(prompt[0], int) else 3)


def test_echo_with_logprobs_puts_the_prompt_first_with_a_null_first_logprob(client: openai.OpenAI) -> None:
    choice = client.completions.create(
        model="davinci-002", prompt="Hello there", echo=True, logprobs=2, max_tokens=4
    ).choices[0]
    assert choice.text.startswith("Hello there")
    lp = choice.logprobs
    assert lp.tokens[:2] == ["Hello", " there"]
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(len(t) == 2 for t in lp.top_logprobs[1:])
    assert lp.text_offset[0] == 0 and lp.text_offset[1] == len("Hello")
    assert "".join(lp.tokens) == choice.text


def test_max_tokens_truncates_and_reports_length(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", max_tokens=4)
    assert completion.choices[0].finish_reason == "length" and completion.usage.completion_tokens == 4


def test_a_stream_rebuilds_the_non_stream_text(client: openai.OpenAI) -> None:
    full = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Tell me", max_tokens=10)
    chunks = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Tell me", max_tokens=10, stream=True
        )
    )
    assert "".join(c.choices[0].text for c in chunks) == full.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_chat_model_on_completions_gets_openais_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.completions.create(model="gpt-4", prompt="x")
    assert exc.value.body["message"] == (
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?"
    )


def test_text_davinci_003_works_in_2023_and_is_retired_from_2024_01_04(
    client: openai.OpenAI, state: MockState
) -> None:
    set_date(state, "2023-07-06")
    assert client.completions.create(model="text-davinci-003", prompt="x").model == "text-davinci-003"
    set_date(state, "2024-01-04")
    with pytest.raises(openai.NotFoundError) as exc:
        client.completions.create(model="text-davinci-003", prompt="x")
    assert exc.value.code == "model_not_found" and "has been deprecated" in exc.value.body["message"]


@pytest.mark.parametrize("max_tokens", [None, 100])
def test_a_prompt_over_the_context_window_gets_the_legacy_context_error(
    http: httpx.Client, state: MockState, max_tokens: int | None
) -> None:
    set_date(state, "2023-07-06")
    prompt = "word " * 4090
    p = tokens.count("p50k_base", prompt)
    m = 16 if max_tokens is None else max_tokens
    body = {"model": "text-davinci-003", "prompt": prompt} | (
        {"max_tokens": max_tokens} if max_tokens else {}
    )
    response = http.post("/v1/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f"This model's maximum context length is 4097 tokens, however you requested {p + m} tokens "
        f"({p} in your prompt; {m} for the completion). Please reduce your prompt; or completion length."
    )


def test_best_of_below_n_and_streamed_best_of_are_refused(http: httpx.Client) -> None:
    base = {"model": "gpt-3.5-turbo-instruct", "prompt": "x"}
    assert http.post("/v1/completions", json={**base, "n": 3, "best_of": 2}).status_code == 400
    assert http.post("/v1/completions", json={**base, "best_of": 2, "stream": True}).status_code == 400


@pytest.mark.parametrize(
    "engine_path",
    ["/v1/engines/gpt-3.5-turbo-instruct/completions", "/v1/engines/gpt-4o-mini/chat/completions"],
)
def test_the_legacy_engine_routes_take_the_model_from_the_path(http: httpx.Client, engine_path: str) -> None:
    body = (
        {"prompt": "x"}
        if engine_path.endswith("/completions") and "chat" not in engine_path
        else {"messages": [{"role": "user", "content": "x"}]}
    )
    response = http.post(engine_path, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["model"].startswith(engine_path.split("/")[3])


def test_a_prompt_gets_the_same_completion_alone_in_a_batch_or_as_token_ids(client: openai.OpenAI) -> None:
    # langchain's OpenAI LLM sends ["x"] from invoke() and "x" from stream(): both must tell one story.
    model = "gpt-3.5-turbo-instruct"
    alone = client.completions.create(model=model, prompt="Hello world", n=2).choices
    batch = client.completions.create(model=model, prompt=["Roses are", "Hello world"], n=2).choices
    ids = client.completions.create(
        model=model, prompt=[tokens.encode("cl100k_base", "Hello world")], n=2
    ).choices
    single = client.completions.create(model=model, prompt=["Hello world"]).choices[0].text
    streamed = "".join(
        c.choices[0].text
        for c in client.completions.create(model=model, prompt="Hello world", stream=True)
        if c.choices
    )
    assert [c.text for c in alone] == [c.text for c in batch[2:]] == [c.text for c in ids]
    assert streamed == single and alone[0].text != alone[1].text


@pytest.mark.parametrize("echo", [False, True])
def test_a_stream_with_logprobs_carries_each_chunks_own_logprobs(client: openai.OpenAI, echo: bool) -> None:
    args = {"model": "davinci-002", "prompt": "Hello there", "logprobs": 2, "max_tokens": 6, "echo": echo}
    whole = client.completions.create(**args).choices[0].logprobs
    chunks = [c.choices[0].logprobs for c in client.completions.create(**args, stream=True) if c.choices]
    assert all(lp is not None for lp in chunks)
    for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset"):
        assert [v for lp in chunks for v in getattr(lp, key)] == getattr(whole, key)
