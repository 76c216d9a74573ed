"""Today's audio models through the real openai client: every model the SDK's AudioModel and SpeechModel name
answers, each with its own rules (gpt-4o-transcribe-diarize's speakers and `diarized_json`, gpt-transcribe's
`keywords`/`languages` and detected languages), and the live API's 400s for what a model does not take."""

from __future__ import annotations

import datetime as dt
import json
import struct
import typing
from typing import Any

import httpx
import openai
import pytest
from conformance import validate
from openai.types import audio_model
from openai.types.audio import speech_model

from mockai.generation import audio_synth
from mockai.models import catalogue
from mockai.server.state import MockState

SDK_AUDIO_MODELS = typing.get_args(audio_model.AudioModel)
SDK_SPEECH_MODELS = typing.get_args(speech_model.SpeechModel)
TEXT = "The beach was a popular spot on a hot summer day. Everyone had come to see the waves."
REFERENCE = "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAwF0AAIC7AAACABAAZGF0YQAAAAA="
DIARIZE: dict[str, Any] = {"model": "gpt-4o-transcribe-diarize", "chunking_strategy": "auto"}


def speech() -> tuple[str, bytes]:
    return ("talk.wav", audio_synth.synthesize(TEXT, "wav"))


def low_rate_wav(seconds: int) -> bytes:
    """An 8-bit mono WAV at 8 samples a second: a long recording in a small upload."""
    data = bytes(8 * seconds)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, 8, 8, 1, 8, b"data", len(data),
    )  # fmt: skip
    return header + data


def live_on(state: MockState, model_id: str) -> None:
    state.as_of = max(catalogue.MODELS[model_id].released, state.as_of)


def refused(info: pytest.ExceptionInfo[openai.BadRequestError]) -> tuple[str, Any, Any]:
    body: Any = info.value.body
    return body["message"], body["param"], body["code"]


# --- every current model answers -------------------------------------------------------------------


@pytest.mark.parametrize("model", SDK_AUDIO_MODELS)
def test_every_sdk_transcription_model_transcribes(
    client: openai.OpenAI, state: MockState, model: str
) -> None:
    live_on(state, model)
    extra = {"chunking_strategy": "auto"} if "diarize" in model else {}
    result = client.audio.transcriptions.create(model=model, file=speech(), **extra)
    assert result.text and result.usage is not None


@pytest.mark.parametrize("model", SDK_SPEECH_MODELS)
def test_every_sdk_speech_model_speaks(client: openai.OpenAI, model: str) -> None:
    extra = {} if model.startswith("tts-1") else {"instructions": "Speak warmly."}
    audio = client.audio.speech.create(model=model, voice="alloy", input=TEXT, response_format="wav", **extra)
    assert audio.content.startswith(b"RIFF")


def test_the_dated_tts_snapshot_streams_sse_events(http: httpx.Client) -> None:
    request = {"model": "gpt-4o-mini-tts-2025-12-15", "voice": "sage", "input": TEXT, "stream_format": "sse"}
    text = http.post("/v1/audio/speech", json={**request, "instructions": "Calmly."}).text
    events = [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: ")]
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert events[-1]["type"] == "speech.audio.done"


def test_gpt_transcribe_answers_from_its_release_day(client: openai.OpenAI, state: MockState) -> None:
    state.as_of = dt.date(2026, 7, 27)
    with pytest.raises(openai.NotFoundError):
        client.audio.transcriptions.create(model="gpt-transcribe", file=speech())
    state.as_of = dt.date(2026, 7, 28)
    assert client.audio.transcriptions.create(model="gpt-transcribe", file=speech()).text


# --- gpt-4o-transcribe-diarize ----------------------------------------------------------------------


def test_diarized_json_labels_each_segment_with_a_speaker(http: httpx.Client, client: openai.OpenAI) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        file=speech(), response_format="diarized_json", **DIARIZE
    )
    body = json.loads(raw.text)
    validate("CreateTranscriptionResponseDiarizedJson", body)
    assert list(body) == ["task", "duration", "text", "segments", "usage"]
    assert body["task"] == "transcribe" and body["usage"]["type"] == "duration"
    segments = body["segments"]
    assert [s["id"] for s in segments] == [f"seg_{i:03d}" for i in range(1, len(segments) + 1)]
    assert {s["type"] for s in segments} == {"transcript.text.segment"}
    assert {s["speaker"] for s in segments} <= {"A", "B"}
    assert " ".join(s["text"] for s in segments) == body["text"]
    assert segments[-1]["end"] == body["duration"]


def test_known_speakers_name_the_segments(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        file=speech(),
        response_format="diarized_json",
        known_speaker_names=["agent", "customer"],
        known_speaker_references=[REFERENCE, REFERENCE],
        **DIARIZE,
    )
    assert [s.speaker for s in result.segments][:2] == ["agent", "customer"][: len(result.segments)]


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_diarized_transcript(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    asynchronous = await aclient.audio.transcriptions.create(
        file=speech(), response_format="diarized_json", **DIARIZE
    )
    synchronous = client.audio.transcriptions.create(
        file=speech(), response_format="diarized_json", **DIARIZE
    )
    assert asynchronous == synchronous


def test_a_diarized_stream_sends_each_segment_after_its_deltas(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    events = list(
        client.audio.transcriptions.create(
            file=speech(), response_format="diarized_json", stream=True, **DIARIZE
        )
    )
    whole = client.audio.transcriptions.create(file=speech(), response_format="diarized_json", **DIARIZE)
    segments = [e for e in events if e.type == "transcript.text.segment"]
    assert [(s.id, s.speaker, s.text) for s in segments] == [
        (s.id, s.speaker, s.text) for s in whole.segments
    ]
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    assert {d.segment_id for d in deltas} == {s.id for s in segments}
    assert events[-1].type == "transcript.text.done" and events[-1].text == whole.text


def test_the_diarized_stream_events_match_the_spec(http: httpx.Client) -> None:
    content, headers = form({**DIARIZE, "response_format": "diarized_json", "stream": "true"})
    text = http.post("/v1/audio/transcriptions", content=content, headers=headers).text
    events = [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: ")]
    for event in events:
        validate("CreateTranscriptionResponseStreamEvent", event)
    assert {e["type"] for e in events} == {
        "transcript.text.delta",
        "transcript.text.segment",
        "transcript.text.done",
    }


def form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    boundary = "mockai-current"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    name, data = speech()
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), {
        "content-type": f"multipart/form-data; boundary={boundary}"
    }


def test_the_diarize_model_needs_a_chunking_strategy(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(model="gpt-4o-transcribe-diarize", file=speech())
    assert refused(info) == (
        "chunking_strategy is required for diarization models",
        "chunking_strategy",
        "invalid_value",
    )


def test_the_diarize_model_refuses_audio_over_1400_seconds(client: openai.OpenAI) -> None:
    assert client.audio.transcriptions.create(file=("long.wav", low_rate_wav(1400)), **DIARIZE).text
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(file=("long.wav", low_rate_wav(1401)), **DIARIZE)
    assert refused(info) == (
        "audio duration 1401.000000 seconds is longer than 1400 seconds which is the maximum for this model",
        None,
        "invalid_value",
    )


# --- gpt-transcribe ---------------------------------------------------------------------------------


def test_gpt_transcribe_takes_keywords_and_languages_and_reports_the_language(
    client: openai.OpenAI, state: MockState
) -> None:
    live_on(state, "gpt-transcribe")
    raw = client.audio.transcriptions.with_raw_response.create(
        model="gpt-transcribe", file=speech(), keywords=["AC-42", "Premium Plus"], languages=["fr", "en"]
    )
    body = json.loads(raw.text)
    validate("CreateTranscriptionResponseJson", body)
    assert body["languages"] == [{"code": "fr"}] and body["usage"]["type"] == "duration"
    plain = client.audio.transcriptions.create(model="gpt-transcribe", file=speech())
    assert plain.languages is not None and [lang.code for lang in plain.languages] == ["en"]


def test_gpt_transcribe_streams(client: openai.OpenAI, state: MockState) -> None:
    live_on(state, "gpt-transcribe")
    events = list(client.audio.transcriptions.create(model="gpt-transcribe", file=speech(), stream=True))
    assert events[-1].type == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]) == events[-1].text


# --- what each model refuses -------------------------------------------------------------------------


UNSUPPORTED = "Unsupported parameter: '{}' is not supported with this model."


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"model": "gpt-4o-transcribe", "response_format": "diarized_json"},
            (
                "response_format 'diarized_json' is not compatible with model 'gpt-4o-transcribe'. "
                "Use 'json' or 'text' instead.",
                "response_format",
                "unsupported_value",
            ),
        ),
        (
            {**DIARIZE, "response_format": "verbose_json"},
            (
                "response_format 'verbose_json' is not compatible with model "
                "'gpt-4o-transcribe-diarize'. Use 'json', 'text' or 'diarized_json' instead.",
                "response_format",
                "unsupported_value",
            ),
        ),
        (
            {"model": "whisper-1", "keywords": ["AC-42"]},
            (UNSUPPORTED.format("keywords"), "keywords", "unsupported_parameter"),
        ),
        (
            {"model": "gpt-4o-mini-transcribe", "languages": ["en"]},
            (UNSUPPORTED.format("languages"), "languages", "unsupported_parameter"),
        ),
        (
            {"model": "gpt-4o-transcribe", "known_speaker_names": ["agent"]},
            (UNSUPPORTED.format("known_speaker_names"), "known_speaker_names", "unsupported_parameter"),
        ),
        ({**DIARIZE, "prompt": "A call."}, (UNSUPPORTED.format("prompt"), "prompt", "unsupported_parameter")),
        (
            {
                **DIARIZE,
                "known_speaker_names": ["a", "b", "c", "d", "e"],
                "known_speaker_references": [REFERENCE] * 5,
            },
            (
                "Invalid 'known_speaker_names': array too long. Expected an array with maximum length 4, "
                "but got an array with length 5 instead.",
                "known_speaker_names",
                "array_above_max_length",
            ),
        ),
        (
            {**DIARIZE, "known_speaker_names": ["agent"], "known_speaker_references": ["https://x/a.wav"]},
            (
                "Invalid 'known_speaker_references[0]': expected a data URL of audio, e.g. "
                "'data:audio/wav;base64,...'.",
                "known_speaker_references[0]",
                "invalid_value",
            ),
        ),
    ],
)
def test_each_model_refuses_what_it_does_not_take(
    client: openai.OpenAI, fields: dict[str, Any], expected: tuple[str, Any, Any]
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(file=speech(), **fields)
    assert refused(info) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"languages": ["en"], "language": "en"},
            (
                "Invalid 'languages': send either 'language' or 'languages', not both.",
                "languages",
                "invalid_value",
            ),
        ),
        (
            {"languages": ["english"]},
            (
                "Invalid language 'english'. Language parameter must be specified in ISO-639-1 format.",
                "languages[0]",
                "invalid_language_format",
            ),
        ),
        (
            {"keywords": ["<b>AC-42</b>"]},
            (
                "Invalid 'keywords[0]': a keyword is one non-empty line without '<' or '>'.",
                "keywords[0]",
                "invalid_value",
            ),
        ),
    ],
)
def test_gpt_transcribe_checks_its_hints(
    client: openai.OpenAI, state: MockState, fields: dict[str, Any], expected: tuple[str, Any, Any]
) -> None:
    live_on(state, "gpt-transcribe")
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(model="gpt-transcribe", file=speech(), **fields)
    assert refused(info) == expected


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks translations deprecated
def test_translations_do_not_offer_diarized_json(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.translations.create(model="whisper-1", file=speech(), response_format="diarized_json")  # type: ignore[arg-type]
    assert refused(info) == (
        "Invalid value: 'diarized_json'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and "
        "'vtt'.",
        "response_format",
        "invalid_value",
    )


# --- timestamps: whisper-1's verbose_json carries them ---------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-transcribe"])
def test_the_json_models_take_timestamp_granularities_and_answer_without_timestamps(
    client: openai.OpenAI, state: MockState, model: str
) -> None:
    # The spec names only the diarize model as refusing them; the others answer json, which has no timestamps.
    live_on(state, model)
    result = client.audio.transcriptions.create(model=model, file=speech(), timestamp_granularities=["word"])
    assert result.text and "words" not in result.model_dump(exclude_none=True)


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_answer_with_timestamps_asked(
    aclient: openai.AsyncOpenAI,
) -> None:
    result = await aclient.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=speech(), timestamp_granularities=["segment"]
    )
    assert result.text and "segments" not in result.model_dump(exclude_none=True)


def test_a_gpt_4o_model_names_verbose_json_first_when_asked_for_timestamps(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe",
            file=speech(),
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert refused(info) == (
        "response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe'. Use 'json' or "
        "'text' instead.",
        "response_format",
        "unsupported_value",
    )


def test_whisper_word_timestamps_give_words_and_no_segments(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=speech(), response_format="verbose_json", timestamp_granularities=["word"]
    )
    validate("CreateTranscriptionResponseVerboseJson", result.model_dump(exclude_none=True))
    assert result.segments is None and result.words
    at = 0  # each word is the next one of the transcript
    for w in result.words:
        at = result.text.index(w.word, at) + len(w.word)
    assert all(w.start <= w.end for w in result.words)
    assert result.words[-1].end == pytest.approx(result.duration, abs=0.01)


@pytest.mark.anyio
async def test_whisper_segment_timestamps_give_segments_and_no_words(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    asynchronous = await aclient.audio.transcriptions.create(
        model="whisper-1",
        file=speech(),
        response_format="verbose_json",
        timestamp_granularities=["segment"],
    )
    synchronous = client.audio.transcriptions.create(
        model="whisper-1", file=speech(), response_format="verbose_json", timestamp_granularities=["segment"]
    )
    assert asynchronous == synchronous
    assert synchronous.words is None and synchronous.segments
    assert "".join(s.text for s in synchronous.segments).strip() == synchronous.text


def test_whisper_gives_segments_by_default_and_both_when_both_are_asked(client: openai.OpenAI) -> None:
    default = client.audio.transcriptions.create(
        model="whisper-1", file=speech(), response_format="verbose_json"
    )
    both = client.audio.transcriptions.create(
        model="whisper-1",
        file=speech(),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert default.segments and default.words is None
    assert both.segments == default.segments and both.words
