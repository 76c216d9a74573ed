"""Spoken answers in chat: `modalities: ["text", "audio"]` with `audio: {voice, format}` on the audio models.

The answer's text becomes `message.audio.transcript` (and `content` is null), its audio is real bytes from
audio_synth in the asked format, and usage counts the audio tokens. Streams send the same as `delta.audio`
pieces. The checks refuse what the live API refuses, with its texts where they were found.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import parts_of
from mockai.endpoints import audio_probe
from mockai.endpoints.speech import voice_of
from mockai.endpoints.validate import invalid_enum
from mockai.generation import audio_synth, generator
from mockai.models.catalogue import Model

FORMATS = ("wav", "aac", "mp3", "flac", "opus", "pcm16")
"""`audio.format`, in the SDK's order (ChatCompletionAudioParam)."""
MODALITIES = ("text", "audio")
MAX_SPOKEN_CHARS = 4096
"""Budget: at most this much of a transcript is voiced (the speech endpoint's input limit), so a long scripted
reply cannot make minutes of audio. [UNVERIFIED] that the live API has such a cap."""
EXPIRES_AFTER = 3601
"""Seconds from `created` to `audio.expires_at`: one recorded response had exactly this [single source]."""
AUDIO_TOKENS_PER_SECOND = 16.0
"""[UNVERIFIED] audio output tokens a second of speech costs; one recorded answer: 37 tokens for ~2.3 s."""
STREAM_DATA_BYTES = 4800
"""Raw bytes per `delta.audio.data` piece: 0.1 s of 24 kHz pcm16. [UNVERIFIED] the live piece size."""
INPUT_TOKENS_PER_SECOND = 10
"""[UNVERIFIED] prompt tokens a second of `input_audio` costs (the transcription endpoint's rate here)."""
ESTIMATED_BYTES_PER_SECOND = 16_000
"""For input audio whose headers give no length: 128 kbit/s, as the transcription endpoint estimates."""
NEEDS_AUDIO = "This model requires that either input content or output modality contain audio."


def unsupported_content(kind: str) -> str:
    """The 400 for a content part the model cannot read. "This model does not support image_url content." is
    what gpt-4o-audio-preview answers an image (users pasted it with param `messages[7].content` and code
    `invalid_value`, pollinations#2588, and quote it in client code); for `input_audio` on a text model the
    same form is [UNVERIFIED]: no paste of that refusal was found."""
    return f"This model does not support {kind} content."


@dataclass(frozen=True)
class AudioOut:
    """What a request asked the answer to sound like."""

    voice: str
    format: str
    """One of FORMATS (`pcm16`, not the speech endpoint's `pcm`)."""

    @property
    def synth_format(self) -> str:
        return "pcm" if self.format == "pcm16" else self.format


def check(body: Mapping[str, Any], model: Model) -> AudioOut | None:
    """The asked audio output, None for a text-only answer; OpenAI's 400 for what the live API refuses."""
    # [UNVERIFIED] that the content check comes before the `modalities` one.
    _refuse_parts(body["messages"], "image_url" if "audio" in model.traits else "input_audio")
    modalities = _modalities(body.get("modalities"))
    if "audio" not in modalities:
        if "audio" in model.traits and not has_input_audio(body["messages"]):
            # Users pasted this one (LibreChat#5208, openrouter via truefoundry/models#822).
            raise errors.invalid_value("model", NEEDS_AUDIO)
        return None
    if "audio" not in model.traits:
        # [UNVERIFIED] text: the validator's "Unsupported value" form, as for `audio.format` with a stream.
        raise errors.OpenAIError(
            400,
            "Unsupported value: 'modalities' does not support 'audio' with this model. Supported values are: "
            "'text'.",
            param="modalities",
            code="unsupported_value",
        )
    audio = body.get("audio")
    if audio is None:
        raise errors.missing_parameter("audio")  # [UNVERIFIED] the live API's text for this case
    if not isinstance(audio, dict):
        raise errors.invalid_type("audio", "an object", audio)
    for name in ("voice", "format"):
        if audio.get(name) is None:
            raise errors.missing_parameter(f"audio.{name}")
    fmt = audio["format"]
    if fmt not in FORMATS:
        raise invalid_enum("audio.format", fmt, FORMATS)
    if body.get("stream") and fmt != "pcm16":
        # Users pasted this one (Agent-Field/agentfield#584, #968; relayed from OpenAI).
        raise errors.OpenAIError(
            400,
            f"Unsupported value: 'audio.format' does not support '{fmt}' when stream=true. Supported values "
            "are: 'pcm16'.",
            param="audio.format",
            code="unsupported_value",
        )
    return AudioOut(voice_of(audio["voice"], "audio.voice"), fmt)


def _modalities(value: Any) -> tuple[str, ...]:
    if value is None:
        return ("text",)
    if not isinstance(value, list):
        raise errors.invalid_type("modalities", "an array", value)
    for i, item in enumerate(value):
        if item not in MODALITIES:
            raise invalid_enum(f"modalities[{i}]", item, MODALITIES)
    return tuple(value)


def _refuse_parts(messages: list[Any], kind: str) -> None:
    """OpenAI's 400 naming the first message with a `kind` part: audio models read no images, the others no
    audio."""
    for i, _ in parts_of(messages, kind):
        raise errors.invalid_value(f"messages[{i}].content", unsupported_content(kind))


def has_input_audio(messages: list[Any]) -> bool:
    """Whether any message holds an `input_audio` part."""
    return next(parts_of(messages, "input_audio"), None) is not None


def input_audio_tokens(messages: list[Any]) -> int:
    """Prompt tokens of the `input_audio` parts: their seconds (read from the audio's headers, else estimated
    from its size) at INPUT_TOKENS_PER_SECOND each."""
    total = 0
    for _, part in parts_of(messages, "input_audio"):
        audio = part.get("input_audio")
        if not isinstance(audio, dict):
            continue
        data = audio.get("data")
        try:
            raw = base64.b64decode(data if isinstance(data, str) else "", validate=False)
        except (binascii.Error, ValueError):
            raw = b""
        seconds = audio_probe.probe(raw, f"a.{audio.get('format')}").duration
        if seconds is None or seconds * 8 > len(raw):
            seconds = len(raw) / ESTIMATED_BYTES_PER_SECOND
        total += math.ceil(seconds * INPUT_TOKENS_PER_SECOND)
    return total


def _spoken(transcript: str) -> str:
    return transcript[:MAX_SPOKEN_CHARS].encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def audio_tokens(transcript: str) -> int:
    """Completion tokens the voiced transcript costs."""
    return math.ceil(audio_synth.speech_duration(_spoken(transcript)) * AUDIO_TOKENS_PER_SECOND)


def audio_id(d: bytes) -> str:
    """`audio_` and 32 hex digits, as the live ids look."""
    return "audio_" + generator.derive(d, "audio").hex()[:32]


def sound(out: AudioOut, transcript: str) -> bytes:
    """The answer's audio file; the same transcript and voice always give the same bytes."""
    return audio_synth.synthesize(_spoken(transcript), out.synth_format, 1.0, out.voice)


def message_audio(out: AudioOut, transcript: str, d: bytes, created: int) -> dict[str, Any]:
    """`message.audio` of a whole answer."""
    return {
        "id": audio_id(d),
        "data": base64.b64encode(sound(out, transcript)).decode("ascii"),
        "expires_at": created + EXPIRES_AFTER,
        "transcript": transcript,
    }


def deltas(
    out: AudioOut, pieces: list[str], transcript: str, d: bytes, created: int
) -> Iterator[dict[str, Any]]:
    """The `delta.audio` objects of a stream: transcript pieces each followed by their share of the audio
    (with the id), then one with only `expires_at`. [UNVERIFIED] the live interleaving and piece sizes."""
    ident = audio_id(d)
    data = sound(out, transcript)
    chunks = [data[i : i + STREAM_DATA_BYTES] for i in range(0, len(data), STREAM_DATA_BYTES)]
    per = max(1, math.ceil(len(chunks) / max(1, len(pieces))))
    for k in range(max(len(pieces), math.ceil(len(chunks) / per))):
        if k < len(pieces):
            yield {"id": ident, "transcript": pieces[k]}
        for chunk in chunks[k * per : (k + 1) * per]:
            yield {"id": ident, "data": base64.b64encode(chunk).decode("ascii")}
    yield {"expires_at": created + EXPIRES_AFTER}
