"""POST /v1/audio/speech: text in, real audio bytes out (mp3, opus, aac, flac, wav or pcm) from audio_synth.

The audio lasts about as long as the text would take to say (longer for slower `speed`), so clients
that play, decode or measure it behave as with the real service. `stream_format: sse` (gpt-4o-mini-tts)
sends the same bytes as base64 `speech.audio.delta` events. A scripted `Reply.text` is what gets "said".
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.validate import P, Param, check_params, invalid_enum
from mockai.generation import audio_synth
from mockai.models import catalogue, tokens
from mockai.reply import Reply

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "input": P("string", required=True),
    "voice": P("string", "object", required=True),
    "instructions": P("string"),
    "response_format": P("string", enum=FORMATS),
    "speed": P("number", min=audio_synth.MIN_SPEED, max=audio_synth.MAX_SPEED),
    "stream_format": P("string", enum=("sse", "audio")),
}
MAX_CHARS = 4096
SSE_CHUNK_BYTES = 12_000
OUTPUT_TOKENS_PER_SECOND = 12.5
"""[UNVERIFIED] audio tokens per second reported in the `speech.audio.done` usage."""


@dataclass(frozen=True)
class SpeechPlan:
    call: Call
    resolved: catalogue.Resolved
    input: str
    voice: str
    response_format: str
    speed: float
    sse: bool
    prompt_tokens: int

    @property
    def cost(self) -> int:
        return self.prompt_tokens


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> SpeechPlan:
    """Check a speech request as the real API does; count the input's tokens."""
    check_params(body, PARAMS)
    resolved = catalogue.resolve(body["model"], "speech", ctx.as_of, ctx.path)
    text = body["input"]
    for name in ("input", "instructions"):
        value = body.get(name)
        if isinstance(value, str) and len(value) > MAX_CHARS:
            # OpenAI's validator speaks through here verbatim (seen for `input`, 2026).
            raise errors.OpenAIError(
                400,
                f"[{{'type': 'string_too_long', 'loc': ('body', '{name}'), "
                "'msg': 'String should have at most "
                f"{MAX_CHARS} characters', 'ctx': {{'max_length': {MAX_CHARS}}}}}]",
            )
    voice = voice_of(body["voice"], "voice")
    encoding, context = resolved.model.encoding, resolved.model.context
    prompt = tokens.count(encoding, text)
    if context and prompt > context:
        raise errors.OpenAIError(
            400,
            f"Input of {prompt} tokens is over the maximum input limit of {context} tokens. Please shorten "
            "your input.",
            code="invalid_value",
        )
    sse = body.get("stream_format") == "sse"
    if sse and resolved.model.id.startswith("tts-1"):
        # [UNVERIFIED] wording, after the one OpenAI uses for a transcription format a model lacks.
        raise errors.OpenAIError(
            400,
            f"stream_format 'sse' is not compatible with model '{body['model']}'. Use 'audio' instead, or "
            "gpt-4o-mini-tts.",
            param="stream_format",
            code="unsupported_value",
        )
    if body.get("instructions") and resolved.model.id.startswith("tts-1"):
        # The docs say `instructions` "does not work" with tts-1 / tts-1-hd, and a public report says the live
        # API rejects it (NousResearch/hermes-agent#43133); [UNVERIFIED] the text, the validator's usual one.
        raise errors.unsupported_parameter("instructions")
    call = Call("speech", body["model"], body, text=text, api_key=api_key, headers=headers)
    return SpeechPlan(
        call=call,
        resolved=resolved,
        input=text,
        voice=voice,
        response_format=body.get("response_format") or "mp3",
        speed=float(body.get("speed") or 1.0),
        sse=sse,
        prompt_tokens=prompt,
    )


def voice_of(value: Any, param: str) -> str:
    """A built-in voice name, or a custom voice object's id; `param` names the field in errors (`voice` here,
    `audio.voice` in chat)."""
    if isinstance(value, dict):
        voice_id = value.get("id")
        if set(value) != {"id"} or not isinstance(voice_id, str) or not voice_id:
            # [UNVERIFIED] wording for a malformed custom voice.
            raise errors.invalid_value(
                param,
                f"Invalid '{param}': a custom voice is an object with one key, 'id', e.g. {{\"id\": "
                '"voice_1234"}.',
            )
        return voice_id
    if value not in VOICES:
        raise invalid_enum(param, value, VOICES)
    return str(value)


def _well_formed(text: str) -> str:
    """`text` with lone surrogates (valid in JSON, not in UTF-8) replaced, so it can be encoded."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def render(plan: SpeechPlan, reply: Reply, ctx: Ctx) -> Body | Stream:
    text = _well_formed(reply.text if reply.text is not None else plan.input)
    audio = audio_synth.synthesize(text, plan.response_format, plan.speed, _well_formed(plan.voice))
    if not plan.sse:
        return Body(audio_synth.CONTENT_TYPES[plan.response_format], audio)
    return Stream(_events(plan, text, audio), done=False)


def _events(plan: SpeechPlan, text: str, audio: bytes) -> Iterator[dict[str, Any]]:
    """`speech.audio.delta` events of base64 audio, then `speech.audio.done` with the usage."""
    for i in range(0, len(audio), SSE_CHUNK_BYTES):
        chunk = base64.b64encode(audio[i : i + SSE_CHUNK_BYTES]).decode("ascii")
        yield {"type": "speech.audio.delta", "audio": chunk}
    output = math.ceil(audio_synth.speech_duration(text, plan.speed) * OUTPUT_TOKENS_PER_SECOND)
    usage = {
        "input_tokens": plan.prompt_tokens,
        "output_tokens": output,
        "total_tokens": plan.prompt_tokens + output,
    }
    yield {"type": "speech.audio.done", "usage": usage}


ENDPOINT = Endpoint("speech", prepare, render)
