"""Audio through the real openai client: speech out as real audio, uploads in as transcripts and
translations."""

from __future__ import annotations

import base64
import io
import json
import struct
from typing import Any

import av
import httpx
import openai
import pytest
from conformance import validate
from conftest import set_date
from hypothesis import HealthCheck, given, settings, strategies as st

from mockai.endpoints import speech, transcriptions
from mockai.generation import audio_synth
from mockai.models import tokens
from mockai.server.state import MockState

TEXT = "The beach was a popular spot on a hot summer day."
TEXT_PLAIN = "text/plain; charset=utf-8"
UPLOAD_FORMATS = [("wav", "a.wav"), ("mp3", "a.mp3"), ("flac", "a.flac"), ("opus", "a.ogg")]
BOUNDARY = "mockai-test-boundary"
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def decode(data: bytes, response_format: str) -> tuple[int, float]:
    """(sample rate, seconds) as FFmpeg decodes `data`."""
    raw = response_format == "pcm"
    options = {"sample_rate": "24000", "channels": "1"} if raw else None
    with av.open(io.BytesIO(data), "r", format="s16le" if raw else None, options=options) as container:
        frames = list(container.decode(audio=0))
    rate = frames[0].sample_rate
    return rate, sum(f.samples for f in frames) / rate


def spoken(text: str = TEXT, response_format: str = "wav") -> bytes:
    return audio_synth.synthesize(text, response_format)


def wav_of(seconds: float) -> bytes:
    """Silent 16-bit mono 24 kHz WAV of `seconds`."""
    size = 2 * int(24_000 * seconds)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + size,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        24_000,
        48_000,
        2,
        16,
        b"data",
        size,
    ) + bytes(size)


def form(fields: dict[str, Any], file: tuple[str, bytes] | None) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body written by hand, so a test can leave out any part (even the file)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
        if v is not None
    ]
    if file is not None:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{file[0]}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + file[1] + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), {
        "content-type": f"multipart/form-data; boundary={BOUNDARY}"
    }


def upload(
    http: httpx.Client,
    path: str = "/v1/audio/transcriptions",
    file: tuple[str, bytes] | None = ("a.wav", b""),
    **fields: Any,
) -> httpx.Response:
    """POST a form with `model: whisper-1` unless overridden; an empty file stands for spoken TEXT."""
    if file is not None and not file[1]:
        file = (file[0], spoken())
    content, headers = form({"model": "whisper-1", **fields}, file)
    return http.post(path, content=content, headers=headers)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    validate("ErrorResponse", response.json())
    return response.json()["error"]


# --- speech ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("response_format", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_every_speech_format_is_real_audio_with_its_content_type(
    client: openai.OpenAI, response_format: str
) -> None:
    raw = client.audio.speech.with_raw_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format=response_format
    )
    assert raw.headers["content-type"] == audio_synth.CONTENT_TYPES[response_format]
    data = raw.parse().content
    rate, seconds = decode(data, response_format)
    assert rate in (24_000, 48_000)  # Opus decodes at 48 kHz
    assert seconds == pytest.approx(audio_synth.speech_duration(TEXT), abs=0.1)


def test_mp3_is_the_default_and_longer_input_gives_longer_audio(client: openai.OpenAI) -> None:
    short = client.audio.speech.create(model="tts-1-hd", voice="nova", input="Hi there.")
    long = client.audio.speech.create(model="tts-1-hd", voice="nova", input=TEXT * 4)
    assert decode(short.read(), "mp3")[1] < decode(long.read(), "mp3")[1]
    assert (
        client.audio.speech.with_raw_response.create(model="tts-1", voice="echo", input="x").headers[
            "content-type"
        ]
        == "audio/mpeg"
    )


def test_slower_speed_gives_longer_audio(client: openai.OpenAI) -> None:
    slow = client.audio.speech.create(
        model="tts-1", voice="onyx", input=TEXT, speed=0.5, response_format="wav"
    ).content
    fast = client.audio.speech.create(
        model="tts-1", voice="onyx", input=TEXT, speed=2.0, response_format="wav"
    ).content
    assert decode(slow, "wav")[1] > 3 * decode(fast, "wav")[1]


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_audio(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    response = await aclient.audio.speech.create(
        model="gpt-4o-mini-tts", voice="coral", input=TEXT, instructions="Speak warmly."
    )
    assert (
        response.content
        == client.audio.speech.create(
            model="gpt-4o-mini-tts", voice="coral", input=TEXT, instructions="Speak warmly."
        ).content
    )


@pytest.mark.parametrize("voice", [*speech.VOICES, {"id": "voice_1234"}])
def test_every_voice_and_a_custom_voice_object_are_accepted(http: httpx.Client, voice: Any) -> None:
    response = http.post("/v1/audio/speech", json={"model": "gpt-4o-mini-tts", "voice": voice, "input": "Hi"})
    assert response.status_code == 200 and response.content.startswith(b"\xff\xf3")


def test_sse_sends_the_audio_as_base64_deltas_then_usage(http: httpx.Client) -> None:
    request = {"model": "gpt-4o-mini-tts", "voice": "sage", "input": TEXT * 3, "response_format": "pcm"}
    whole = http.post("/v1/audio/speech", json=request).content
    response = http.post("/v1/audio/speech", json={**request, "stream_format": "sse"})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = [json.loads(line[6:]) for line in response.text.split("\n\n") if line.startswith("data: ")]
    for event in events:
        validate("CreateSpeechResponseStreamEvent", event)
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"} and len(events) > 2
    assert b"".join(base64.b64decode(e["audio"]) for e in events[:-1]) == whole
    usage = events[-1]["usage"]
    assert events[-1]["type"] == "speech.audio.done" and usage["input_tokens"] == tokens.count(
        "o200k_base", TEXT * 3
    )
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"voice": "robot"},
            "Invalid value: 'robot'. Supported values are: "
            + ", ".join(f"'{v}'" for v in speech.VOICES[:-1])
            + ", and 'cedar'.",
        ),
        ({"voice": None}, "Missing required parameter: 'voice'."),
        ({"input": None}, "Missing required parameter: 'input'."),
        (
            {"speed": 4.5},
            "Invalid 'speed': decimal above maximum value. Expected a value <= 4, but got 4.5 instead.",
        ),
        (
            {"speed": 0.1},
            "Invalid 'speed': decimal below minimum value. Expected a value >= 0.25, but got 0.1 instead.",
        ),
        (
            {"response_format": "ogg"},
            "Invalid value: 'ogg'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.",
        ),
        (
            {"input": "a" * 4097},
            "[{'type': 'string_too_long', 'loc': ('body', 'input'), "
            "'msg': 'String should have at most 4096 characters', 'ctx': {'max_length': 4096}}]",
        ),
        (
            {"model": "gpt-4o-mini-tts", "input": "1," * 2040},
            "Input of 4080 tokens is over the maximum input limit of 2000 tokens. Please shorten your input.",
        ),
        (
            {"stream_format": "sse"},
            "stream_format 'sse' is not compatible with model 'tts-1'. "
            "Use 'audio' instead, or gpt-4o-mini-tts.",
        ),
        ({"lang": "en"}, "Unrecognized request argument supplied: lang"),
        ({"model": "whisper-1"}, "Invalid model whisper-1. This endpoint does not support it."),
    ],
)
def test_bad_speech_requests_get_openais_error(
    http: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {
        k: v
        for k, v in {"model": "tts-1", "voice": "alloy", "input": "Hi", **change}.items()
        if v is not None
    }
    assert error_of(http.post("/v1/audio/speech", json=body))["message"] == message


def test_lone_surrogates_in_input_and_voice_id_still_give_audio(http: httpx.Client) -> None:
    raw = (
        b'{"model": "gpt-4o-mini-tts", "voice": {"id": "voice_\\ud800"}, '
        b'"input": "hi \\udc00", "response_format": "opus"}'
    )
    response = http.post("/v1/audio/speech", content=raw)
    assert response.status_code == 200 and response.content.startswith(b"OggS")


@pytest.mark.parametrize("model", ["tts-1", "tts-1-hd"])
def test_instructions_are_refused_by_tts_1(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.speech.create(model=model, voice="alloy", input="Hi", instructions="Whisper.")
    assert info.value.body == {
        "message": "Unsupported parameter: 'instructions' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "instructions",
        "code": "unsupported_parameter",
    }


# --- transcriptions and translations ---------------------------------------------------------------


def test_json_is_the_default_and_matches_the_spec_with_usage_in_2025_and_later(
    client: openai.OpenAI, state: MockState
) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("speech.wav", spoken())
    )
    body = json.loads(raw.text)
    validate("CreateTranscriptionResponseJson", body)
    assert raw.headers["content-type"] == "application/json" and body["usage"] == {
        "type": "duration",
        "seconds": 4,
    }
    set_date(state, "2024-06-01")
    old = client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", spoken()))
    assert old.text == body["text"] and old.usage is None


def test_verbose_json_reads_the_duration_from_the_audio_and_times_every_segment_and_word(
    client: openai.OpenAI,
) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1",
        file=("speech.wav", spoken()),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="de",
    )
    body = json.loads(raw.text)
    validate("CreateTranscriptionResponseVerboseJson", body)
    assert body["task"] == "transcribe" and body["language"] == "german"
    assert body["duration"] == pytest.approx(audio_synth.speech_duration(TEXT), abs=0.01)
    segments, words = body["segments"], body["words"]
    assert segments[0]["start"] == 0 and segments[-1]["end"] == pytest.approx(body["duration"], abs=0.01)
    assert "".join(s["text"] for s in segments).strip() == body["text"]
    assert all(s["tokens"][0] >= 50364 and s["tokens"][-1] >= 50364 for s in segments)
    assert words[-1]["end"] == pytest.approx(body["duration"], abs=0.01) and all(
        w["word"].isalnum() for w in words
    )


def test_word_granularity_alone_gives_words_and_no_segments(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", spoken()),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert result.words and result.segments is None


@pytest.mark.parametrize(
    ("response_format", "start"),
    [("text", ""), ("srt", "1\n00:00:00,000 --> "), ("vtt", "WEBVTT\n\n00:00:00.000 --> ")],
)
def test_text_srt_and_vtt_are_plain_text_of_the_same_transcript(
    client: openai.OpenAI, response_format: str, start: str
) -> None:
    expected = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", spoken())).text
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("a.wav", spoken()), response_format=response_format
    )
    assert raw.headers["content-type"] == TEXT_PLAIN
    text = raw.parse()
    assert isinstance(text, str) and text.startswith(start) and text.endswith("\n")
    lines = [
        line
        for line in text.splitlines()
        if line and "-->" not in line and not line.isdigit() and line != "WEBVTT"
    ]
    assert " ".join(lines) == expected


@pytest.mark.parametrize(("kind", "filename"), UPLOAD_FORMATS)
def test_the_duration_is_read_from_each_kind_of_upload(
    client: openai.OpenAI, kind: str, filename: str
) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=(filename, spoken(TEXT * 2, kind)), response_format="verbose_json"
    )
    assert result.duration == pytest.approx(audio_synth.speech_duration(TEXT * 2), abs=0.05)


def test_unreadable_audio_has_its_duration_estimated_from_its_size(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("noise.m4a", bytes(160_000)), response_format="verbose_json"
    )
    assert result.duration == 10.0


def test_a_header_claiming_more_audio_than_the_file_can_hold_is_not_believed(client: openai.OpenAI) -> None:
    info = b"\xff\xf3\x44\xc0" + bytes(9) + b"Info" + struct.pack(">III", 3, 2**32 - 1, 0)  # 4 billion frames
    lying = info.ljust(96, b"\0") + b"\xff\xf3\x44\xc0" + bytes(92)
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("a.mp3", lying), response_format="verbose_json"
    )
    assert result.duration == 1.0


def test_the_transcript_grows_with_the_duration_and_depends_on_the_bytes(client: openai.OpenAI) -> None:
    short = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", spoken("Hi there.")))
    long = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", spoken(TEXT * 6)))
    other = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", spoken("Yo, mate.")))
    assert len(long.text.split()) > 3 * len(short.text.split()) and short.text != other.text


def test_a_scripted_text_language_and_duration_replace_the_defaults(
    client: openai.OpenAI, state: MockState
) -> None:
    state.rules.add_rule(
        {
            "match": {"endpoint": "transcriptions", "contains": "glossary"},
            "reply": {"text": "Bonjour. Ça va?", "language": "french", "duration": 4.0},
        }
    )
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", spoken()), prompt="glossary: Ça", response_format="verbose_json"
    )
    assert (result.text, result.language, result.duration) == ("Bonjour. Ça va?", "french", 4.0)
    assert [(s.start, s.end, s.text) for s in result.segments or []] == [
        (0.0, 1.33, " Bonjour."),
        (1.33, 4.0, " Ça va?"),
    ]  # time shared by word


@pytest.mark.filterwarnings(
    "ignore:deprecated:DeprecationWarning"
)  # openai 3.x marks translations deprecated
def test_translations_are_english_and_match_their_schemas(client: openai.OpenAI) -> None:
    raw = client.audio.translations.with_raw_response.create(
        model="whisper-1", file=("a.mp3", spoken(response_format="mp3")), response_format="verbose_json"
    )
    body = json.loads(raw.text)
    validate("CreateTranslationResponseVerboseJson", body)
    assert (body["task"], body["language"]) == ("translate", "english") and "usage" not in body
    plain = json.loads(
        client.audio.translations.with_raw_response.create(
            model="whisper-1", file=("a.mp3", spoken(response_format="mp3"))
        ).text
    )
    validate("CreateTranslationResponseJson", plain)
    assert plain == {"text": body["text"]}


def test_gpt_4o_transcribe_streams_deltas_that_add_up_to_the_done_text(client: openai.OpenAI) -> None:
    events = list(
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", spoken()), stream=True, include=["logprobs"]
        )
    )
    done = events[-1]
    assert done.type == "transcript.text.done" and "".join(e.delta for e in events[:-1]) == done.text
    assert done.usage.output_tokens == tokens.count("o200k_base", done.text) and done.logprobs


def test_the_transcription_stream_events_match_the_spec(http: httpx.Client) -> None:
    response = upload(http, model="gpt-4o-mini-transcribe", stream="true", **{"include[]": "logprobs"})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = [json.loads(line[6:]) for line in response.text.split("\n\n") if line.startswith("data: ")]
    for event in events:
        validate("CreateTranscriptionResponseStreamEvent", event)
    assert [e["type"] for e in events[-2:]] == ["transcript.text.delta", "transcript.text.done"]


def test_whisper_1_ignores_stream_as_openai_documents(http: httpx.Client) -> None:
    response = upload(http, stream="true")
    assert response.headers["content-type"] == "application/json" and "text" in response.json()


def test_gpt_4o_mini_transcribe_reports_token_usage_and_logprobs(client: openai.OpenAI) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        model="gpt-4o-mini-transcribe", file=("a.wav", spoken()), include=["logprobs"], prompt="Beach talk"
    )
    body = json.loads(raw.text)
    validate("CreateTranscriptionResponseJson", body)
    usage = body["usage"]
    assert usage["type"] == "tokens" and usage["input_token_details"]["text_tokens"] == tokens.count(
        "o200k_base", "Beach talk"
    )
    assert "".join(p["token"] for p in body["logprobs"]) == body["text"]


@pytest.mark.anyio
async def test_the_async_client_gets_the_same_transcript(
    aclient: openai.AsyncOpenAI, client: openai.OpenAI
) -> None:
    result = await aclient.audio.transcriptions.create(
        model="whisper-1", file=("a.flac", spoken(response_format="flac"))
    )
    assert (
        result.text
        == client.audio.transcriptions.create(
            model="whisper-1", file=("a.flac", spoken(response_format="flac"))
        ).text
    )


@pytest.mark.parametrize(
    ("path", "file", "fields", "message"),
    [
        (
            "/v1/audio/transcriptions",
            ("a.aiff", b"FORM"),
            {},
            "Invalid file format. "
            "Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        ),
        (
            "/v1/audio/transcriptions",
            ("upload", b"ID3"),
            {},
            "Invalid file format. "
            "Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        ),
        (
            "/v1/audio/transcriptions",
            None,
            {},
            "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)",
        ),
        ("/v1/audio/transcriptions", ("a.wav", b""), {"model": None}, "you must provide a model parameter"),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"foo": "1"},
            "Unrecognized request argument supplied: foo",
        ),
        (
            "/v1/audio/translations",
            ("a.wav", b""),
            {"language": "de"},
            "Unrecognized request argument supplied: language",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"model": "gpt-4o-transcribe", "response_format": "srt"},
            "response_format 'srt' is not compatible with model 'gpt-4o-transcribe'. "
            "Use 'json' or 'text' instead.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"language": "english"},
            "Invalid language 'english'. Language parameter must be specified in ISO-639-1 format.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"temperature": "1.5"},
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"temperature": "warm"},
            "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"response_format": "xml"},
            "Invalid value: 'xml'. Supported values are: 'json', 'text', 'srt', 'verbose_json', 'vtt', and "
            "'diarized_json'.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"timestamp_granularities[]": "sentence"},
            "Invalid value: 'sentence'. Supported values are: 'word' and 'segment'.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", wav_of(0.05)),
            {},
            "Audio file is too short. Minimum audio length is 0.1 seconds.",
        ),
        (
            "/v1/audio/transcriptions",
            ("a.wav", b""),
            {"model": "tts-1"},
            "Invalid model tts-1. This endpoint does not support it.",
        ),
        (
            "/v1/audio/translations",
            ("a.wav", b""),
            {"model": "gpt-4o-transcribe"},
            "Invalid model gpt-4o-transcribe. This endpoint does not support it.",
        ),
    ],
)
def test_bad_uploads_get_openais_error(
    http: httpx.Client, path: str, file: tuple[str, bytes] | None, fields: dict[str, Any], message: str
) -> None:
    assert error_of(upload(http, path, file, **fields))["message"] == message


def test_the_file_sent_as_a_text_field_or_empty_is_refused(http: httpx.Client) -> None:
    content, headers = form({"model": "whisper-1", "file": "a.wav"}, None)
    as_text = http.post("/v1/audio/transcriptions", content=content, headers=headers)
    assert error_of(as_text)["message"] == (
        "1 validation error for Request\nbody -> file\n"
        "  Expected UploadFile, received: <class 'str'> (type=value_error)"
    )
    empty = http.post("/v1/audio/transcriptions", data={"model": "whisper-1"}, files={"file": ("a.mp3", b"")})
    assert error_of(empty)["message"] == "The audio file could not be decoded or its format is not supported."


def test_a_json_body_is_refused_with_a_hint_to_send_multipart(http: httpx.Client) -> None:
    error = error_of(http.post("/v1/audio/transcriptions", json={"model": "whisper-1", "file": "a.wav"}))
    assert error["message"].startswith(
        "Invalid Content-Type header (application/json), expected multipart/form-data."
    )


def test_an_upload_over_25_mib_gets_openais_413(http: httpx.Client) -> None:
    content, headers = form({"model": "whisper-1"}, ("big.mp3", bytes(26_214_400)))
    response = http.post("/v1/audio/transcriptions", content=content, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == {
        "message": f"Maximum content size limit (26214400) exceeded ({len(content)} bytes read)",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_the_journal_records_the_form_with_the_file_described_not_its_bytes(
    http: httpx.Client, state: MockState
) -> None:
    upload(http, file=("talk.wav", spoken()), response_format="text", **{"timestamp_granularities[]": "word"})
    body = state.journal.entries()[-1].json
    assert body["model"] == "whisper-1" and body["timestamp_granularities"] == ["word"]
    assert (
        body["file"]["filename"] == "talk.wav"
        and body["file"]["size"] == len(spoken())
        and body["file"]["format"] == "wav"
    )


form_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
form_fields = st.dictionaries(
    st.sampled_from(
        [
            *transcriptions.FIELDS["transcriptions"],
            "timestamp_granularities[]",
            "include[]",
            "chunking_strategy[type]",
        ]
    )
    | form_text,
    form_text
    | st.sampled_from(
        ["whisper-1", "gpt-4o-transcribe", "verbose_json", "srt", "word", "auto", "true", "0.5", "nan"]
    ),
    max_size=5,
)
files = st.tuples(
    st.sampled_from(["a.wav", "a.mp3", "a.flac", "a.ogg", "a.m4a", "a.webm", "a", "a.txt", ""]) | form_text,
    st.binary(max_size=300)
    | st.sampled_from(
        [spoken(response_format=f)[:n] for f in ("wav", "mp3", "flac", "opus") for n in (12, 60, 400)]
    ),
)


@SETTINGS
@given(
    fields=form_fields,
    file=files,
    path=st.sampled_from(["/v1/audio/transcriptions", "/v1/audio/translations"]),
)
def test_any_multipart_upload_gets_a_2xx_or_an_openai_shaped_4xx(
    http: httpx.Client, fields: dict[str, str], file: tuple[str, bytes], path: str
) -> None:
    response = http.post(path, data={"model": "whisper-1", **fields}, files={"file": file})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


@SETTINGS
@given(
    raw=st.binary(max_size=300),
    boundary=st.sampled_from(
        ["", "; boundary=x", "; boundary=", '; boundary="a b"', "; charset=nope; boundary=x"]
    ),
)
def test_any_bytes_sent_as_multipart_get_a_4xx(http: httpx.Client, raw: bytes, boundary: str) -> None:
    response = http.post(
        "/v1/audio/transcriptions", content=raw, headers={"content-type": "multipart/form-data" + boundary}
    )
    assert 400 <= response.status_code < 500, response.text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(
    body=st.dictionaries(
        st.sampled_from(sorted(speech.PARAMS)) | st.text(max_size=8), json_values, max_size=5
    ).map(lambda extra: {"model": "tts-1", "voice": "alloy", "input": "Hi", **extra})
    | json_values
)
def test_any_json_body_to_speech_gets_audio_or_an_openai_shaped_4xx(http: httpx.Client, body: Any) -> None:
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
