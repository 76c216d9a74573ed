"""openai==0.28.1, the module-level API of 2023 code: `openai.api_base`, `openai.ChatCompletion.create`.

Runs in its own virtual environment (tests/compat/requirements-openai028.txt: numpy decodes the
base64 embeddings it asks for by default, aiohttp serves `acreate`). Seed-era code ran against the
2023 API, so the checks of retired models set the simulated date to 2023-07-06 first.
"""

from __future__ import annotations

import asyncio
import sys
import time

import openai
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

openai.api_base = URL
openai.api_key = KEY
HELLO = [{"role": "user", "content": "Say hello to the compatibility suite."}]
WEATHER_FN = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@check("chat")
def chat() -> str:
    r = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=HELLO)
    content = r["choices"][0]["message"]["content"]
    expect(isinstance(content, str) and content and r.choices[0].finish_reason == "stop", f"{r}")
    expect(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, f"{r.usage}")
    return f"{r.model}: {content[:40]!r}"


@check("chat stream")
def chat_stream() -> str:
    whole = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=HELLO)["choices"][0]["message"][
        "content"
    ]
    parts = [
        c["choices"][0]["delta"].get("content", "") or ""
        for c in openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=HELLO, stream=True)
        if c["choices"]
    ]
    expect("".join(parts) == whole, f"{''.join(parts)!r} != {whole!r}")
    return f"{len(parts)} chunks"


@check("tools")
def tools() -> str:
    # 0.28 predates `tools` but passes any keyword through, as code migrating to tools did.
    r = openai.ChatCompletion.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[{"type": "function", "function": WEATHER_FN}],
    )
    call = r.choices[0].message.tool_calls[0]
    expect(
        r.choices[0].finish_reason == "tool_calls" and "city" in call.function.arguments, f"{r.choices[0]}"
    )
    return f"{call.function.name}({call.function.arguments})"


@check("tools stream")
def tools_stream() -> str:
    args, finish = "", None
    for c in openai.ChatCompletion.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[{"type": "function", "function": WEATHER_FN}],
        stream=True,
    ):
        for tc in c.choices[0].delta.get("tool_calls", []):
            args += tc["function"].get("arguments", "")
        finish = c.choices[0].finish_reason or finish
    expect(finish == "tool_calls" and "city" in args, f"{finish} {args!r}")
    return args


@check("legacy functions")
def functions() -> str:
    set_date("2023-07-06")
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = openai.ChatCompletion.create(
        model="gpt-3.5-turbo-0613", messages=messages, functions=[WEATHER_FN], function_call="auto"
    )
    message = r["choices"][0]["message"]
    expect(r.choices[0].finish_reason == "function_call" and message.get("function_call"), f"{r.choices[0]}")
    messages += [message, {"role": "function", "name": "get_weather", "content": '{"celsius": 18}'}]
    answer = openai.ChatCompletion.create(
        model="gpt-3.5-turbo-0613", messages=messages, functions=[WEATHER_FN]
    )
    expect(answer.choices[0].message.content, "no text after the function result")
    streamed = "".join(
        c.choices[0].delta.get("function_call", {}).get("arguments", "")
        for c in openai.ChatCompletion.create(
            model="gpt-3.5-turbo-0613", messages=messages[:1], functions=[WEATHER_FN], stream=True
        )
    )
    expect(streamed == message["function_call"]["arguments"], f"streamed {streamed!r}")
    return f"function_call {message['function_call']['name']}, answer after the result, streamed arguments"


@check("completions")
def completions() -> str:
    set_date("2023-07-06")
    r = openai.Completion.create(
        model="text-davinci-003",
        prompt="Write a tagline for an ice cream shop.",
        max_tokens=20,
        logprobs=1,
        echo=True,
    )
    expect(
        r.object == "text_completion" and r.choices[0].text.startswith("Write a tagline"),
        f"{r.choices[0].text!r}",
    )
    expect(r.choices[0].logprobs.token_logprobs[0] is None, "echo: the first token has no logprob")
    return f"{r.model}: {r.choices[0].text[:50]!r}"


@check("completions stream")
def completions_stream() -> str:
    parts = [
        c.choices[0].text
        for c in openai.Completion.create(
            model="gpt-3.5-turbo-instruct", prompt="Once upon a time", stream=True
        )
    ]
    whole = (
        openai.Completion.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time").choices[0].text
    )
    expect("".join(parts) == whole, f"{''.join(parts)!r} != {whole!r}")
    return f"{len(parts)} chunks"


@check("embeddings")
def embeddings() -> str:
    r = openai.Embedding.create(model="text-embedding-ada-002", input=["hello world", "goodbye"])
    sent = requests_seen("/embeddings")[-1]["body"]
    expect(sent.get("encoding_format") == "base64", f"0.28 should ask for base64, sent {sent}")
    vector = r["data"][0]["embedding"]
    expect(len(r.data) == 2 and len(vector) == 1536 and isinstance(vector[0], float), f"{len(vector)}")
    expect(r.model == "text-embedding-ada-002-v2", f"model {r.model}")
    return f"base64 asked and decoded by numpy: 2 x {len(vector)} floats, model {r.model}"


@check("embeddings base64")
def embeddings_base64() -> str:
    r = openai.Embedding.create(model="text-embedding-ada-002", input="hello", encoding_format="base64")
    expect(
        isinstance(r.data[0].embedding, str) and len(r.data[0].embedding) == 8192,
        "explicit base64 keeps the string",
    )
    return "8192 base64 chars"


@check("edits")
def edits() -> str:
    set_date("2023-07-06")
    r = openai.Edit.create(
        model="text-davinci-edit-001",
        input="What day of the wek is it?",
        instruction="Fix the spelling mistakes",
    )
    expect(r.object == "edit" and "week" in r.choices[0].text, f"{r}")
    set_date("2024-01-04")
    try:
        openai.Edit.create(model="text-davinci-edit-001", input="x", instruction="Fix the spelling mistakes")
        raise AssertionError("edits still answer on 2024-01-04")
    except openai.error.InvalidRequestError as exc:
        expect(exc.http_status == 404, f"{exc.http_status}")
    return f"{r.choices[0].text!r}; 404 after the shutdown"


@check("transcription")
def transcription() -> str:
    with open(sample_wav(), "rb") as f:
        r = openai.Audio.transcribe("whisper-1", f)
    with open(sample_wav(), "rb") as f:
        srt = openai.Audio.transcribe("whisper-1", f, response_format="srt")
    with open(sample_wav(), "rb") as f:
        verbose = openai.Audio.transcribe("whisper-1", f, response_format="verbose_json")
    expect(r["text"] and isinstance(srt, str) and "-->" in srt and verbose.segments, f"{srt!r}")
    return f"json, srt (text/plain as str), verbose_json: {r.text[:40]!r}"


@check("translation")
def translation() -> str:
    with open(sample_wav(), "rb") as f:
        r = openai.Audio.translate("whisper-1", f)
    with open(sample_wav(), "rb") as f:
        text = openai.Audio.translate("whisper-1", f, response_format="text")
    expect(r["text"] and isinstance(text, str), f"{text!r}")
    return r.text[:50]


not_applicable("speech", "openai 0.28 has no text-to-speech API (it came with 1.x)")


@check("models")
def models() -> str:
    ids = [m.id for m in openai.Model.list().data]
    m = openai.Model.retrieve("gpt-3.5-turbo")
    expect("gpt-3.5-turbo" in ids and m.id == "gpt-3.5-turbo", f"{len(ids)} {m}")
    return f"{len(ids)} models"


@check("engine routes")
def engines() -> str:
    set_date("2023-07-06")
    c = openai.Completion.create(engine="text-davinci-003", prompt="Hello", max_tokens=5)
    chat = openai.ChatCompletion.create(engine="gpt-3.5-turbo", messages=HELLO)
    emb = openai.Embedding.create(engine="text-embedding-ada-002", input="hello")
    edit = openai.Edit.create(engine="text-davinci-edit-001", input="hello", instruction="Make it upper case")
    paths = [e["path"] for e in requests_seen("")]
    expect(all(p.startswith("/v1/engines/") for p in paths), f"{paths}")
    expect(
        c.choices[0].text
        and chat.choices[0].message.content
        and len(emb.data[0].embedding) == 1536
        and edit.choices[0].text == "HELLO",
        "replies",
    )
    return ", ".join(sorted({p.split("/", 4)[-1] for p in paths}))


@check("async")
def async_calls() -> str:
    async def run() -> str:
        chat, emb = await asyncio.gather(
            openai.ChatCompletion.acreate(model="gpt-3.5-turbo", messages=HELLO),
            openai.Embedding.acreate(model="text-embedding-ada-002", input="hello"),
        )
        parts = [
            c.choices[0].delta.get("content", "") or ""
            async for c in await openai.ChatCompletion.acreate(
                model="gpt-3.5-turbo", messages=HELLO, stream=True
            )
        ]
        expect(
            "".join(parts) == chat.choices[0].message.content and len(emb.data[0].embedding) == 1536,
            "async replies",
        )
        return f"acreate (aiohttp): chat, embeddings, stream of {len(parts)}"

    return asyncio.run(run())


@check("headers")
def headers() -> str:
    r = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=HELLO)
    expect(
        isinstance(r.response_ms, int) and r.organization == "user-mockai",
        f"response_ms {r.response_ms}, organization {r.organization}",
    )
    return f"response_ms {r.response_ms}, organization {r.organization}"


@check("429 retry")
def retry() -> str:
    # 0.28 has no retry of its own: applications caught RateLimitError and waited, as here.
    fail_next("chat", 429, times=2)
    waits = []
    for attempt in range(3):
        try:
            r = openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=HELLO)
            break
        except openai.error.RateLimitError as exc:
            # 0.28 passes no `code` to RateLimitError: the error body's code is on exc.error.
            expect(
                exc.http_status == 429 and exc.error.code == "rate_limit_exceeded",
                f"{exc.http_status} {exc.error}",
            )
            waits.append(float(exc.headers.get("retry-after-ms", 1000)) / 1000)
            time.sleep(waits[-1])
    else:
        raise AssertionError("still rate limited after 3 tries")
    expect(r.choices[0].message.content and len(waits) == 2, f"{waits}")
    return f"RateLimitError twice (waited {waits} s from retry-after-ms), then the reply"


@check("retired model")
def retired() -> str:
    set_date("2024-01-04")
    try:
        openai.Completion.create(model="text-davinci-003", prompt="Hello")
        raise AssertionError("text-davinci-003 answers on 2024-01-04")
    except openai.error.InvalidRequestError as exc:
        expect(
            exc.http_status == 404 and exc.code == "model_not_found" and "deprecated" in str(exc),
            f"{exc.http_status} {exc.code} {exc}",
        )
        return str(exc)[:90]


@check("context length")
def context() -> str:
    set_date("2023-07-06")
    try:
        openai.ChatCompletion.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": long_text(5000)}]
        )
        raise AssertionError("no error for 5000 tokens on gpt-3.5-turbo (4097)")
    except openai.error.InvalidRequestError as exc:
        expect(exc.code == "context_length_exceeded" and "4097" in str(exc), f"{exc.code} {exc}")
        return str(exc)[:90]


for _row, _why in (
    ("responses", "openai 0.28 has no Responses API (it came with 1.66)"),
    ("responses stream", "openai 0.28 has no Responses API (it came with 1.66)"),
    ("agents run", "the Agents SDK is its own client (tests/compat/clients/with_agents.py)"),
):
    not_applicable(_row, _why)


if __name__ == "__main__":
    sys.exit(main(f"openai {openai.version.VERSION}"))
