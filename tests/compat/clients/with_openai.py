"""The current `openai` package (v1+ API: `OpenAI()`/`AsyncOpenAI()`), used the way its docs show.

Runs in the project's own .venv (openai is a test dependency there). Each check is what an
application does: create, stream, tools, `.parse()` with a pydantic model, audio, models, raw
responses for headers, and the SDK's own retry on 429.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import sys

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
from pydantic import BaseModel

client = openai.OpenAI(base_url=URL, api_key=KEY, max_retries=0)
HELLO = [{"role": "user", "content": "Say hello to the compatibility suite."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}


@check("chat")
def chat() -> str:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    again = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    msg = r.choices[0].message
    expect(r.id.startswith("chatcmpl-") and r.model.startswith("gpt-4o-mini"), f"id/model: {r.id} {r.model}")
    expect(
        isinstance(msg.content, str) and msg.content and r.choices[0].finish_reason == "stop",
        f"message: {msg}",
    )
    expect(
        r.usage and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens,
        f"usage: {r.usage}",
    )
    expect(again.choices[0].message.content == msg.content, "the same request gave a different reply")
    return f"{r.model}: {r.usage.prompt_tokens}+{r.usage.completion_tokens} tokens"


@check("chat stream")
def chat_stream() -> str:
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content
    parts, usage = [], None
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
    ):
        parts += [c.delta.content or "" for c in chunk.choices]
        usage = chunk.usage or usage
    expect("".join(parts) == whole, f"stream text {''.join(parts)!r} != {whole!r}")
    expect(usage is not None and usage.completion_tokens > 0, "no usage chunk")
    with client.chat.completions.stream(model="gpt-4o-mini", messages=HELLO) as stream:
        final = stream.get_final_completion()
    expect(final.choices[0].message.content == whole, "the .stream() helper assembled another text")
    return f"{len(parts)} chunks, usage {usage.total_tokens}; .stream() helper ok"


@check("tools")
def tools() -> str:
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER]
    )
    call = r.choices[0].message.tool_calls[0]
    args = json.loads(call.function.arguments)
    expect(r.choices[0].finish_reason == "tool_calls" and "city" in args, f"{r.choices[0]}")
    follow = [
        *HELLO,
        r.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=follow, tools=[WEATHER])
    expect(answer.choices[0].message.content, "no text after the tool result")

    class Weather(BaseModel):
        city: str
        celsius: float

    parsed = (
        client.chat.completions.parse(model="gpt-4o-mini", messages=HELLO, response_format=Weather)
        .choices[0]
        .message.parsed
    )
    expect(isinstance(parsed, Weather), f"parse() gave {parsed!r}")
    forced = (
        client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=HELLO,
            tools=[openai.pydantic_function_tool(Weather)],
            tool_choice="required",
        )
        .choices[0]
        .message.tool_calls[0]
    )
    expect(isinstance(forced.function.parsed_arguments, Weather), "parse() with a pydantic tool")
    return f"{call.function.name}({call.function.arguments}); parse() -> {parsed!r}"


@check("tools stream")
def tools_stream() -> str:
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER], stream=True
    ):
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"name": "", "arguments": ""})
                slot["name"] += (tc.function and tc.function.name) or ""
                slot["arguments"] += (tc.function and tc.function.arguments) or ""
            finish = choice.finish_reason or finish
    expect(finish == "tool_calls" and calls, f"finish {finish}, calls {calls}")
    json.loads(calls[0]["arguments"])
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=HELLO, tools=[WEATHER], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    expect(final.choices[0].message.tool_calls, "the .stream() helper lost the tool call")
    return f"{calls[0]['name']}({calls[0]['arguments']})"


@check("legacy functions")
def functions() -> str:
    fn = WEATHER["function"]
    r = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Weather?"}],
        functions=[fn],
        function_call={"name": "get_weather"},
    )
    fc = r.choices[0].message.function_call
    expect(fc and fc.name == "get_weather" and "city" in json.loads(fc.arguments), f"{r.choices[0].message}")
    return f"function_call {fc.name}({fc.arguments})"


@check("completions")
def completions() -> str:
    r = client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt=["Once upon a time", "Roses are"],
        max_tokens=12,
        n=2,
        logprobs=2,
    )
    expect(r.object == "text_completion" and len(r.choices) == 4, f"{len(r.choices)} choices")
    expect(
        [c.index for c in r.choices] == [0, 1, 2, 3] and r.choices[0].logprobs.tokens,
        "choice indexes or logprobs",
    )
    return f"{r.model}: {r.usage.completion_tokens} completion tokens over 4 choices"


@check("completions stream")
def completions_stream() -> str:
    whole = (
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time").choices[0].text
    )
    parts = [
        c.choices[0].text
        for c in client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Once upon a time", stream=True
        )
        if c.choices
    ]
    expect("".join(parts) == whole, f"{''.join(parts)!r} != {whole!r}")
    return f"{len(parts)} chunks"


@check("embeddings")
def embeddings() -> str:
    r = client.embeddings.create(model="text-embedding-3-small", input=["hello world", "goodbye"])
    sent = requests_seen("/embeddings")[-1]["body"]
    expect(
        len(r.data) == 2 and len(r.data[0].embedding) == 1536,
        f"{len(r.data)} vectors of {len(r.data[0].embedding)}",
    )
    expect(r.usage.prompt_tokens == r.usage.total_tokens > 0, f"usage {r.usage}")
    small = client.embeddings.create(model="text-embedding-3-small", input=[[15339, 1917]], dimensions=256)
    expect(len(small.data[0].embedding) == 256, "dimensions=256")
    return f"SDK sent encoding_format={sent.get('encoding_format')!r} and decoded it; dimensions ok"


@check("embeddings base64")
def embeddings_base64() -> str:
    floats = (
        client.embeddings.create(model="text-embedding-ada-002", input="hello", encoding_format="float")
        .data[0]
        .embedding
    )
    packed = (
        client.embeddings.create(model="text-embedding-ada-002", input="hello", encoding_format="base64")
        .data[0]
        .embedding
    )
    expect(isinstance(packed, str), f"explicit base64 should hand back the string, got {type(packed)}")
    decoded = struct.unpack(f"<{len(floats)}f", base64.b64decode(packed))
    expect(all(abs(a - b) < 1e-6 for a, b in zip(decoded, floats)), "base64 and float vectors differ")
    return f"{len(packed)} base64 chars == {len(floats)} floats"


not_applicable("edits", "client.edits was removed in openai 1.7.2 (the endpoint retired 2024-01-04)")


@check("transcription")
def transcription() -> str:
    with open(sample_wav(), "rb") as f:
        r = client.audio.transcriptions.create(model="whisper-1", file=f)
    with open(sample_wav(), "rb") as f:
        verbose = client.audio.transcriptions.create(
            model="whisper-1",
            file=f,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    with open(sample_wav(), "rb") as f:
        srt = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="srt")
    expect(r.text and verbose.duration > 1 and verbose.segments and verbose.words, f"{verbose}")
    expect(isinstance(srt, str) and "-->" in srt, f"srt: {srt!r}")
    with open(sample_wav(), "rb") as f:
        events = list(client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=f, stream=True))
    expect(events and events[-1].type == "transcript.text.done", f"stream events {[e.type for e in events]}")
    return f"json/verbose_json/srt and a {len(events)}-event stream: {r.text[:40]!r}"


@check("translation")
def translation() -> str:
    with open(sample_wav(), "rb") as f:
        r = client.audio.translations.create(model="whisper-1", file=f)
    with open(sample_wav(), "rb") as f:
        text = client.audio.translations.create(model="whisper-1", file=f, response_format="text")
    expect(r.text and isinstance(text, str) and text.strip() == r.text.strip(), f"{r.text!r} vs {text!r}")
    return r.text[:50]


@check("speech")
def speech() -> str:
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello from the compatibility suite."
    )
    data = audio.read()
    expect(
        data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), f"not mp3: {data[:8]!r}"
    )
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="nova", input="Hi.", response_format="wav"
    ) as response:
        wav = response.read()
        expect(
            response.headers["content-type"].startswith("audio/") and wav[:4] == b"RIFF",
            f"{response.headers['content-type']} {wav[:4]!r}",
        )
    return f"{len(data)} bytes of mp3, {len(wav)} of wav"


@check("models")
def models() -> str:
    ids = [m.id for m in client.models.list()]
    expect("gpt-4o-mini" in ids and "whisper-1" in ids, f"{len(ids)} models")
    m = client.models.retrieve("gpt-4o-mini")
    expect(m.id == "gpt-4o-mini" and m.owned_by, f"{m}")
    try:
        client.models.retrieve("gpt-9")
        raise AssertionError("gpt-9 exists")
    except openai.NotFoundError as exc:
        expect(exc.code == "model_not_found", f"{exc.code}")
    return f"{len(ids)} models listed"


not_applicable("engine routes", "the v1+ SDK has no engine= (openai 0.28 only)")


@check("async")
def async_calls() -> str:
    async def run() -> str:
        aclient = openai.AsyncOpenAI(base_url=URL, api_key=KEY, max_retries=0)
        chat, emb = await asyncio.gather(
            aclient.chat.completions.create(model="gpt-4o-mini", messages=HELLO),
            aclient.embeddings.create(model="text-embedding-3-small", input="hello"),
        )
        parts = [
            c.choices[0].delta.content or ""
            async for c in await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=HELLO, stream=True
            )
            if c.choices
        ]
        expect("".join(parts) == chat.choices[0].message.content, "async stream differs from async create")
        tr = await aclient.audio.transcriptions.create(
            model="whisper-1", file=("hello.wav", sample_wav().read_bytes())
        )
        models = [m.id async for m in aclient.models.list()]
        await aclient.close()
        expect(
            len(emb.data[0].embedding) == 1536 and tr.text and models, "embedding, transcription or models"
        )
        return f"gather(chat, embeddings), stream of {len(parts)}, transcription, {len(models)} models"

    return asyncio.run(run())


@check("headers")
def headers() -> str:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    h = raw.headers
    for name in (
        "x-request-id",
        "openai-processing-ms",
        "openai-version",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-tokens",
    ):
        expect(name in h, f"missing header {name}")
    completion = raw.parse()
    expect(completion._request_id == h["x-request-id"] and h["x-request-id"].startswith("req_"), "request id")
    return f"x-request-id {h['x-request-id']}, remaining {h['x-ratelimit-remaining-requests']}"


@check("429 retry")
def retry() -> str:
    fail_next("chat", 429, times=2)
    r = client.with_options(max_retries=2).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    tries = [e["headers"].get("x-stainless-retry-count") for e in requests_seen("/chat/completions")]
    expect(r.choices[0].message.content and tries == ["0", "1", "2"], f"retry counts {tries}")
    fail_next("chat", 429)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        raise AssertionError("no RateLimitError")
    except openai.RateLimitError as exc:
        expect(
            exc.code == "rate_limit_exceeded" and exc.response.headers.get("retry-after"),
            f"{exc.code} {exc.response.headers}",
        )
    return "two 429s retried by the SDK (x-stainless-retry-count 0,1,2); RateLimitError with max_retries=0"


@check("retired model")
def retired() -> str:
    set_date("2023-07-06")
    ok = client.completions.create(model="text-davinci-003", prompt="Hello")
    set_date("2024-01-04")
    try:
        client.completions.create(model="text-davinci-003", prompt="Hello")
        raise AssertionError("text-davinci-003 still answers on 2024-01-04")
    except openai.NotFoundError as exc:
        expect(exc.code == "model_not_found" and "deprecated" in exc.message, exc.message)
    return f"{ok.model} on 2023-07-06, NotFoundError from 2024-01-04"


@check("context length")
def context() -> str:
    try:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": long_text(9000)}])
        raise AssertionError("no error for 9000 tokens on gpt-4")
    except openai.BadRequestError as exc:
        expect(exc.code == "context_length_exceeded" and exc.param == "messages", f"{exc.code} {exc.param}")
        return exc.message[:90]


RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    **{k: v for k, v in WEATHER["function"].items() if k != "name"},
}


@check("responses")
def responses_create() -> str:
    first = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[RESPONSES_TOOL])
    call = first.output[0]
    expect(call.type == "function_call" and call.name == "get_weather", f"{call.type}")
    json.loads(call.arguments)
    second = client.responses.create(
        model="gpt-4o-mini",
        previous_response_id=first.id,
        tools=[RESPONSES_TOOL],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
    )
    expect(second.output_text and second.status == "completed", f"{second.status}")
    expect(client.responses.retrieve(second.id).id == second.id, "retrieve")
    counted = client.responses.input_tokens.count(
        model="gpt-4o-mini", input="Weather in Paris?", tools=[RESPONSES_TOOL]
    )
    expect(first.usage is not None and counted.input_tokens == first.usage.input_tokens, "input_tokens")
    return second.output_text[:50]


@check("responses stream")
def responses_stream() -> str:
    with client.responses.stream(model="gpt-4o-mini", input="Say hello") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    expect("".join(deltas) == final.output_text, "deltas rebuild the text")
    return f"{len(deltas)} deltas"


not_applicable("agents run", "the Agents SDK is its own client (tests/compat/clients/with_agents.py)")


if __name__ == "__main__":
    sys.exit(main(f"openai {openai.__version__}"))
