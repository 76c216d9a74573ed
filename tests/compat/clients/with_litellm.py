"""litellm pointed at mockai with `api_base`: completion, text_completion, embedding, audio, errors.

Runs in its own virtual environment (tests/compat/requirements-litellm.txt). The driver sets
LITELLM_LOCAL_MODEL_COST_MAP so the import does not try to fetch the price list from the internet.
litellm maps errors by status *and* message text, so these checks also hold mockai to OpenAI's words.
"""

from __future__ import annotations

import asyncio
import json
import sys
from importlib.metadata import version

import litellm
from harness import (
    KEY,
    URL,
    check,
    expect,
    fail_next,
    long_text,
    main,
    not_applicable,
    requests_seen,
    sample_wav,
    set_date,
)

litellm.telemetry = False
API = {"api_base": URL, "api_key": KEY}
HELLO = [{"role": "user", "content": "Say hello to the compatibility suite."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@check("chat")
def chat() -> str:
    r = litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, **API)
    expect(r.choices[0].message.content and r.choices[0].finish_reason == "stop", f"{r}")
    expect(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0, f"{r.usage}")
    return f"{r.model}: {r.usage.prompt_tokens}+{r.usage.completion_tokens}"


@check("chat stream")
def chat_stream() -> str:
    whole = litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, **API).choices[0].message.content
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
            **API,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    built = litellm.stream_chunk_builder(chunks, messages=HELLO)
    expect(text == whole and built.choices[0].message.content == whole, f"{text!r} != {whole!r}")
    expect(built.usage.completion_tokens > 0, f"{built.usage}")
    return f"{len(chunks)} chunks; stream_chunk_builder usage {built.usage.total_tokens}"


@check("tools")
def tools() -> str:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    r = litellm.completion(model="openai/gpt-4o-mini", messages=messages, tools=[WEATHER], **API)
    call = r.choices[0].message.tool_calls[0]
    expect(
        r.choices[0].finish_reason == "tool_calls" and "city" in json.loads(call.function.arguments),
        f"{r.choices[0]}",
    )
    messages += [
        r.choices[0].message.model_dump(),
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    answer = litellm.completion(model="openai/gpt-4o-mini", messages=messages, tools=[WEATHER], **API)
    expect(answer.choices[0].message.content, "no text after the tool result")
    fmt = {
        "type": "json_schema",
        "json_schema": {
            "name": "w",
            "schema": {"type": "object", "properties": {"c": {"type": "number"}}, "required": ["c"]},
        },
    }
    structured = litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, response_format=fmt, **API)
    expect("c" in json.loads(structured.choices[0].message.content), "json_schema response_format")
    return f"{call.function.name}({call.function.arguments}) -> text; response_format json_schema"


@check("tools stream")
def tools_stream() -> str:
    messages = [{"role": "user", "content": "Weather?"}]
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=messages,
            tools=[WEATHER],
            tool_choice="required",
            stream=True,
            **API,
        )
    )
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    call = built.choices[0].message.tool_calls[0]
    expect("city" in json.loads(call.function.arguments), f"{call}")
    return f"stream_chunk_builder -> {call.function.name}({call.function.arguments})"


@check("legacy functions")
def functions() -> str:
    fn = WEATHER["function"]
    r = litellm.completion(
        model="openai/gpt-3.5-turbo",
        messages=HELLO,
        functions=[fn],
        function_call={"name": "get_weather"},
        **API,
    )
    fc = r.choices[0].message.function_call
    expect(fc and fc.name == "get_weather", f"{r.choices[0].message}")
    return f"function_call {fc.arguments}"


@check("completions")
def completions() -> str:
    r = litellm.text_completion(
        model="text-completion-openai/gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=20, **API
    )
    expect(r.choices[0].text and r.usage.total_tokens > 0, f"{r}")
    expect(requests_seen("/completions")[-1]["path"] == "/v1/completions", "went to /v1/completions")
    return f"text_completion: {r.choices[0].text[:40]!r}"


@check("completions stream")
def completions_stream() -> str:
    whole = (
        litellm.text_completion(
            model="text-completion-openai/gpt-3.5-turbo-instruct", prompt="Once upon a time", **API
        )
        .choices[0]
        .text
    )
    parts = [
        c.choices[0].text or ""
        for c in litellm.text_completion(
            model="text-completion-openai/gpt-3.5-turbo-instruct",
            prompt="Once upon a time",
            stream=True,
            **API,
        )
        if c.choices
    ]
    expect("".join(parts) == whole, f"{''.join(parts)!r} != {whole!r}")
    return f"{len(parts)} chunks"


@check("embeddings")
def embeddings() -> str:
    r = litellm.embedding(model="openai/text-embedding-3-small", input=["hello world", "goodbye"], **API)
    vector = r.data[0]["embedding"]
    expect(len(r.data) == 2 and len(vector) == 1536 and r.usage.prompt_tokens > 0, f"{len(vector)} {r.usage}")
    small = litellm.embedding(model="openai/text-embedding-3-small", input="hello", dimensions=256, **API)
    expect(len(small.data[0]["embedding"]) == 256, "dimensions")
    return (
        f"2 x {len(vector)} floats "
        f"(sent encoding_format={requests_seen('/embeddings')[0]['body'].get('encoding_format')!r}); "
        "dimensions=256"
    )


@check("embeddings base64")
def embeddings_base64() -> str:
    r = litellm.embedding(
        model="openai/text-embedding-ada-002", input="hello", encoding_format="base64", **API
    )
    value = r.data[0]["embedding"]
    expect(isinstance(value, str) and len(value) == 8192, f"{type(value)}")
    return "encoding_format='base64' hands back the string"


not_applicable("edits", "litellm has no edits API")


@check("transcription")
def transcription() -> str:
    with open(sample_wav(), "rb") as f:
        r = litellm.transcription(model="openai/whisper-1", file=f, **API)
    with open(sample_wav(), "rb") as f:
        verbose = litellm.transcription(
            model="openai/whisper-1", file=f, response_format="verbose_json", **API
        )
    expect(r.text and verbose.text == r.text, f"{r.text!r} / {verbose.text!r}")
    return r.text[:50]


not_applicable("translation", "litellm has no translation API")


@check("speech")
def speech() -> str:
    audio = litellm.speech(
        model="openai/tts-1", voice="alloy", input="Hello from the compatibility suite.", **API
    )
    data = audio.content
    expect(data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3"), f"not mp3: {data[:8]!r}")
    return f"{len(data)} bytes of mp3"


@check("models")
def models() -> str:
    ids = litellm.get_valid_models(check_provider_endpoint=True, custom_llm_provider="openai", **API)
    expect(any("gpt-4o-mini" in i for i in ids), f"{ids[:5]}")
    return f"get_valid_models(check_provider_endpoint=True): {len(ids)} models"


not_applicable("engine routes", "engine= is openai 0.28 only")


@check("async")
def async_calls() -> str:
    async def run() -> str:
        chat, emb = await asyncio.gather(
            litellm.acompletion(model="openai/gpt-4o-mini", messages=HELLO, **API),
            litellm.aembedding(model="openai/text-embedding-3-small", input="hello", **API),
        )
        parts = [
            c.choices[0].delta.content or ""
            async for c in await litellm.acompletion(
                model="openai/gpt-4o-mini", messages=HELLO, stream=True, **API
            )
            if c.choices
        ]
        tr = await litellm.atranscription(
            model="openai/whisper-1", file=("hello.wav", sample_wav().read_bytes()), **API
        )
        expect(
            "".join(parts) == chat.choices[0].message.content
            and len(emb.data[0]["embedding"]) == 1536
            and tr.text,
            "async replies",
        )
        return f"acompletion, aembedding, async stream of {len(parts)}, atranscription"

    return asyncio.run(run())


@check("headers")
def headers() -> str:
    r = litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, **API)
    h = r._hidden_params.get("additional_headers") or {}
    expect(
        h.get("x-ratelimit-remaining-requests") is not None
        and h.get("llm_provider-x-request-id", "").startswith("req_"),
        f"{h}",
    )
    return (
        f"x-ratelimit-remaining-requests {h['x-ratelimit-remaining-requests']}, "
        f"request id {h['llm_provider-x-request-id']}"
    )


@check("429 retry")
def retry() -> str:
    fail_next("chat", 429, times=2)
    r = litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, num_retries=2, **API)
    expect(r.choices[0].message.content, "reply after retries")
    fail_next("chat", 429)
    try:
        litellm.completion(model="openai/gpt-4o-mini", messages=HELLO, num_retries=0, max_retries=0, **API)
        raise AssertionError("no RateLimitError")
    except litellm.RateLimitError as exc:
        expect(exc.status_code == 429, f"{exc.status_code}")
    return (
        f"num_retries=2 rode out two 429s ({len(requests_seen('/chat/completions'))} requests in all); "
        "litellm.RateLimitError without"
    )


@check("retired model")
def retired() -> str:
    set_date("2024-01-04")
    try:
        litellm.text_completion(model="text-completion-openai/text-davinci-003", prompt="Hello", **API)
        raise AssertionError("text-davinci-003 answers on 2024-01-04")
    except litellm.NotFoundError as exc:
        expect("deprecated" in str(exc), str(exc))
        return "litellm.NotFoundError"


@check("context length")
def context() -> str:
    try:
        litellm.completion(
            model="openai/gpt-4", messages=[{"role": "user", "content": long_text(9000)}], **API
        )
        raise AssertionError("no error for 9000 tokens on gpt-4")
    except litellm.ContextWindowExceededError as exc:
        return f"litellm.ContextWindowExceededError: {str(exc)[:60]}"


for _row, _why in (
    ("responses", "checked with the openai SDK litellm drives"),
    ("responses stream", "checked with the openai SDK litellm drives"),
    ("agents run", "the Agents SDK is its own client (tests/compat/clients/with_agents.py)"),
):
    not_applicable(_row, _why)


if __name__ == "__main__":
    sys.exit(main(f"litellm {version('litellm')}"))
