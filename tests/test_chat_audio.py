"""Spoken chat answers through the real openai client: `modalities: ["text", "audio"]` on the audio models
gives `message.audio` (real audio in the asked format, its transcript, an expiry) and audio token usage;
streams send `delta.audio`; the live API's 400s for the requests it refuses."""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Any

import av
import httpx
import openai
import pytest
from conformance import validate

from mockai.endpoints import chat_audio
from mockai.generation import audio_synth
from mockai.server.state import MockState

HELLO = [{"role": "user", "content": "Say hello."}]
SPOKEN: dict[str, Any] = {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}


def seconds_of(data: bytes, fmt: str) -> float:
    """How long FFmpeg says `data` plays."""
    raw = fmt == "pcm16"
    options = {"sample_rate": "24000", "channels": "1"} if raw else None
    with av.open(io.BytesIO(data), "r", format="s16le" if raw else None, options=options) as container:
        frames = list(container.decode(audio=0))
    return sum(f.samples for f in frames) / frames[0].sample_rate


def error_body(info: pytest.ExceptionInfo[openai.BadRequestError]) -> Any:
    return info.value.body


@pytest.mark.parametrize("model", ["gpt-4o-audio-preview", "gpt-4o-mini-audio-preview", "gpt-audio-mini"])
def test_the_answer_is_spoken_with_its_transcript_and_no_content(client: openai.OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=HELLO, **SPOKEN)  # type: ignore[call-overload]
    message = completion.choices[0].message
    assert message.content is None and message.audio is not None
    audio = message.audio
    assert audio.id.startswith("audio_") and len(audio.id) == 38
    assert audio.expires_at == completion.created + 3601
    data = base64.b64decode(audio.data)
    assert data.startswith(b"RIFF")
    assert seconds_of(data, "wav") == pytest.approx(audio_synth.speech_duration(audio.transcript), abs=0.1)


def test_the_body_matches_the_spec_and_usage_counts_the_audio(http: httpx.Client) -> None:
    response = http.post(
        "/v1/chat/completions", json={"model": "gpt-4o-audio-preview", "messages": HELLO, **SPOKEN}
    )
    body = response.json()
    validate("CreateChatCompletionResponse", body)
    message = body["choices"][0]["message"]
    assert list(message) == ["role", "content", "refusal", "audio", "annotations"]
    usage = body["usage"]
    spoken = chat_audio.audio_tokens(message["audio"]["transcript"])
    assert usage["completion_tokens_details"]["audio_tokens"] == spoken > 0
    assert usage["completion_tokens_details"]["text_tokens"] == usage["completion_tokens"] - spoken
    assert usage["prompt_tokens_details"] == {
        "cached_tokens": 0,
        "audio_tokens": 0,
        "text_tokens": usage["prompt_tokens"],
        "image_tokens": 0,
    }


@pytest.mark.parametrize("fmt", chat_audio.FORMATS)
def test_every_format_is_real_audio_of_the_transcript(client: openai.OpenAI, fmt: str) -> None:
    completion = client.chat.completions.create(
        model="gpt-audio-mini",
        messages=HELLO,  # type: ignore[arg-type]
        modalities=["text", "audio"],
        audio={"voice": "coral", "format": fmt},  # type: ignore[typeddict-item]
    )
    audio = completion.choices[0].message.audio
    assert audio is not None
    seconds = seconds_of(base64.b64decode(audio.data), fmt)
    assert seconds == pytest.approx(audio_synth.speech_duration(audio.transcript), abs=0.1)


def test_the_same_request_gives_the_same_bytes(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="gpt-audio-mini", messages=HELLO, **SPOKEN)  # type: ignore[call-overload]
    again = client.chat.completions.create(model="gpt-audio-mini", messages=HELLO, **SPOKEN)  # type: ignore[call-overload]
    assert first.model_dump() == again.model_dump()


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_spoken_answer(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    asynchronous = await aclient.chat.completions.create(
        model="gpt-4o-mini-audio-preview",
        messages=HELLO,  # type: ignore[arg-type]
        **SPOKEN,
    )
    synchronous = client.chat.completions.create(model="gpt-4o-mini-audio-preview", messages=HELLO, **SPOKEN)  # type: ignore[call-overload]
    assert asynchronous.choices[0].message.audio == synchronous.choices[0].message.audio


def test_a_stream_sends_the_transcript_and_pcm16_audio_as_delta_audio(client: openai.OpenAI) -> None:
    request: dict[str, Any] = {
        "model": "gpt-4o-audio-preview",
        "messages": HELLO,
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "pcm16"},
    }
    whole = client.chat.completions.create(**request).choices[0].message.audio
    assert whole is not None
    stream = client.chat.completions.create(**request, stream=True)
    audio = [
        c.choices[0].delta.audio.model_dump(exclude_none=True)
        for c in stream
        if c.choices and c.choices[0].delta.audio is not None
    ]
    assert "".join(a.get("transcript", "") for a in audio) == whole.transcript
    assert b"".join(base64.b64decode(a["data"]) for a in audio if "data" in a) == base64.b64decode(whole.data)
    assert {a["id"] for a in audio if "id" in a} == {whole.id}
    assert audio[-1] == {"expires_at": whole.expires_at}


def test_the_stream_chunks_match_the_spec(http: httpx.Client) -> None:
    body = {
        "model": "gpt-audio-mini",
        "messages": HELLO,
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "pcm16"},
        "stream": True,
    }
    text = http.post("/v1/chat/completions", json=body).text
    chunks = [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: {")]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    first = chunks[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    assert all("content" not in c["choices"][0]["delta"] for c in chunks[1:])


# --- what the live API refuses -----------------------------------------------------------------------


def test_an_audio_model_refuses_a_request_with_no_audio_in_or_out(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-audio-preview", messages=HELLO)  # type: ignore[arg-type]
    assert error_body(info) == {
        "message": "This model requires that either input content or output modality contain audio.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "invalid_value",
    }


def test_an_audio_model_answers_in_text_to_an_audio_question(client: openai.OpenAI) -> None:
    wav = base64.b64encode(audio_synth.synthesize("What is the weather?", "wav")).decode()
    question = [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}]}
    ]
    completion = client.chat.completions.create(model="gpt-audio-mini", messages=question)  # type: ignore[arg-type]
    assert completion.choices[0].message.content and completion.choices[0].message.audio is None


def test_a_stream_refuses_audio_formats_other_than_pcm16(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-audio-preview", messages=HELLO, stream=True, **SPOKEN)  # type: ignore[call-overload]
    assert error_body(info) == {
        "message": "Unsupported value: 'audio.format' does not support 'wav' when stream=true. "
        "Supported values are: 'pcm16'.",
        "type": "invalid_request_error",
        "param": "audio.format",
        "code": "unsupported_value",
    }


@pytest.mark.parametrize(
    ("change", "message", "param"),
    [
        (
            {"model": "gpt-4o"},
            "Unsupported value: 'modalities' does not support 'audio' with this model. Supported values are: "
            "'text'.",
            "modalities",
        ),
        ({"audio": None}, "Missing required parameter: 'audio'.", "audio"),
        ({"audio": {"format": "wav"}}, "Missing required parameter: 'audio.voice'.", "audio.voice"),
        ({"audio": {"voice": "alloy"}}, "Missing required parameter: 'audio.format'.", "audio.format"),
        (
            {"audio": {"voice": "alloy", "format": "ogg"}},
            "Invalid value: 'ogg'. Supported values are: 'wav', 'aac', 'mp3', 'flac', 'opus', and 'pcm16'.",
            "audio.format",
        ),
        (
            {"audio": {"voice": "robot", "format": "wav"}},
            "Invalid value: 'robot'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', 'echo', "
            "'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', and 'cedar'.",
            "audio.voice",
        ),
        (
            {"modalities": ["text", "video"]},
            "Invalid value: 'video'. Supported values are: 'text' and 'audio'.",
            "modalities[1]",
        ),
    ],
)
def test_bad_audio_requests_get_openais_error(
    http: httpx.Client, change: dict[str, Any], message: str, param: str
) -> None:
    body = {"model": "gpt-4o-audio-preview", "messages": HELLO, **SPOKEN, **change}
    response = http.post("/v1/chat/completions", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["message"], error["param"]) == (message, param)


def test_a_custom_voice_object_is_accepted(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-audio-mini",
        messages=HELLO,  # type: ignore[arg-type]
        modalities=["text", "audio"],
        audio={"voice": {"id": "voice_1234"}, "format": "mp3"},
    )
    assert completion.choices[0].message.audio is not None


def test_a_long_scripted_answer_is_voiced_only_up_to_the_budget(
    client: openai.OpenAI, state: MockState
) -> None:
    long_text = "Spoken words go on. " * 1000
    state.rules.add_rule({"match": {"endpoint": "chat"}, "reply": {"text": long_text}})
    completion = client.chat.completions.create(model="gpt-audio-mini", messages=HELLO, **SPOKEN)  # type: ignore[call-overload]
    audio = completion.choices[0].message.audio
    assert audio is not None and audio.transcript == long_text
    seconds = seconds_of(base64.b64decode(audio.data), "wav")
    assert seconds == pytest.approx(
        audio_synth.speech_duration(long_text[: chat_audio.MAX_SPOKEN_CHARS]), abs=0.1
    )
    assert seconds < 300


def test_an_audio_question_counts_its_seconds_as_prompt_audio_tokens(http: httpx.Client) -> None:
    wav = audio_synth.synthesize("What is the weather like today in Paris?", "wav")
    part = {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}
    text_only = {"model": "gpt-audio-mini", "messages": HELLO, **SPOKEN}
    with_audio = {
        **text_only,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello."}, part]}],
    }
    plain = http.post("/v1/chat/completions", json=text_only).json()["usage"]
    heard = http.post("/v1/chat/completions", json=with_audio).json()["usage"]
    seconds = audio_synth.speech_duration("What is the weather like today in Paris?")
    audio_tokens = heard["prompt_tokens_details"]["audio_tokens"]
    assert audio_tokens == math.ceil(seconds * chat_audio.INPUT_TOKENS_PER_SECOND) > 0
    assert heard["prompt_tokens_details"]["text_tokens"] == heard["prompt_tokens"] - audio_tokens
    assert heard["prompt_tokens"] > plain["prompt_tokens"]


# --- which models read which content parts -----------------------------------------------------------

SPOKEN_QUESTION = base64.b64encode(audio_synth.synthesize("What is the weather?", "wav")).decode()
AUDIO_PART = {"type": "input_audio", "input_audio": {"data": SPOKEN_QUESTION, "format": "wav"}}
IMAGE_PART = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}


def asking(part: dict[str, Any]) -> list[dict[str, Any]]:
    """A system message, then a question holding `part`: the refusal names message 1."""
    return [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]},
    ]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-4o", "gpt-5"])
def test_a_text_model_refuses_an_audio_question(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=asking(AUDIO_PART))  # type: ignore[arg-type]
    assert info.value.status_code == 400
    assert error_body(info) == {
        "message": "This model does not support input_audio content.",
        "type": "invalid_request_error",
        "param": "messages[1].content",
        "code": "invalid_value",
    }


def test_a_text_model_refuses_an_audio_question_before_streaming(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=asking(AUDIO_PART), stream=True)  # type: ignore[arg-type]
    assert error_body(info)["message"] == "This model does not support input_audio content."


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_refusal_of_audio(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await aclient.chat.completions.create(model="gpt-4.1", messages=asking(AUDIO_PART))  # type: ignore[arg-type]
    assert error_body(info)["param"] == "messages[1].content"
    assert error_body(info)["message"] == "This model does not support input_audio content."


def test_an_audio_model_refuses_an_image(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-audio-preview", messages=asking(IMAGE_PART), **SPOKEN)  # type: ignore[call-overload]
    assert error_body(info) == {
        "message": "This model does not support image_url content.",
        "type": "invalid_request_error",
        "param": "messages[1].content",
        "code": "invalid_value",
    }


@pytest.mark.parametrize(
    "model", ["gpt-4o-audio-preview", "gpt-4o-mini-audio-preview", "gpt-audio", "gpt-audio-2025-08-28"]
)
def test_every_audio_model_hears_an_audio_question(client: openai.OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=asking(AUDIO_PART))  # type: ignore[arg-type]
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
    assert (completion.usage.prompt_tokens_details.audio_tokens or 0) > 0


@pytest.mark.anyio
async def test_the_async_client_hears_an_audio_question_too(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    asynchronous = await aclient.chat.completions.create(model="gpt-audio", messages=asking(AUDIO_PART))  # type: ignore[arg-type]
    synchronous = client.chat.completions.create(model="gpt-audio", messages=asking(AUDIO_PART))  # type: ignore[arg-type]
    assert asynchronous.choices[0].message.content == synchronous.choices[0].message.content
