"""POST /v1/audio/transcriptions (and, through `translations`, /v1/audio/translations): multipart uploads.

The upload is checked as OpenAI checks it (form fields, file extension, 25 MiB, duration), its length
read from the audio headers where possible and estimated from its size otherwise. The transcript is
`Reply.text` when a rule scripts one, else readable sentences derived from the audio bytes; it is
rendered as json, text, srt, vtt or verbose_json, or streamed as events for the gpt-4o models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints import audio_probe
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.uploads import is_upload
from mockai.endpoints.validate import Param, check_value, invalid_enum
from mockai.generation import transcript
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

FIELDS = {
    "transcriptions": (
        "file", "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities",
        "include", "stream", "chunking_strategy",
    ),
    "translations": ("file", "model", "prompt", "response_format", "temperature"),
}  # fmt: skip
FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
TOKEN_MODEL_FORMATS = ("json", "text")
TEXT_PLAIN = "text/plain; charset=utf-8"
ESTIMATED_BYTES_PER_SECOND = 16_000
"""For audio whose headers give no length: 128 kbit/s, the commonest mp3 rate."""
MIN_BYTES_PER_SECOND = 8
"""Below this no codec stores sound (even FLAC of digital silence needs about 150 bytes a second)."""
AUDIO_TOKENS_PER_SECOND = 10
"""[UNVERIFIED] how the gpt-4o transcribe models count audio input tokens."""
USAGE_SINCE = dt.date(2025, 3, 20)
"""[UNVERIFIED] from when transcriptions carry `usage`: the day the gpt-4o transcribe models came out."""
FILE_MISSING = "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)"
FILE_NOT_UPLOAD = (
    "1 validation error for Request\nbody -> file\n"
    "  Expected UploadFile, received: <class 'str'> (type=value_error)"
)


@dataclass(frozen=True)
class Upload:
    filename: str
    sha256: str
    duration: float
    """Seconds, as the audio headers say, or estimated from the size when they cannot be read or believed."""


@dataclass(frozen=True)
class TranscriptionPlan:
    call: Call
    resolved: catalogue.Resolved
    task: str
    """"transcribe" or "translate"."""
    upload: Upload
    response_format: str
    language: str | None
    temperature: float
    granularities: tuple[str, ...]
    stream: bool
    logprobs: bool
    prompt_tokens: int

    @property
    def cost(self) -> int:
        return self.prompt_tokens

    @property
    def token_model(self) -> bool:
        """The gpt-4o transcribe models: json and text only, token usage, streaming, logprobs."""
        return self.resolved.model.id != "whisper-1"


def prepare(
    body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]
) -> TranscriptionPlan:
    return prepare_task("transcriptions", body, ctx, api_key, headers)


def prepare_task(
    endpoint: str, body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]
) -> TranscriptionPlan:
    """Check an upload's fields and file as OpenAI does, for `endpoint` "transcriptions" or "translations"."""
    for name in body:
        if name not in FIELDS[endpoint]:
            raise errors.unrecognized_argument(name)
    model = _string(body, "model")
    if model is None:
        raise errors.missing_parameter("model")
    file = body.get("file")
    if file is None:
        raise errors.OpenAIError(400, FILE_MISSING)
    if not is_upload(file):
        raise errors.OpenAIError(400, FILE_NOT_UPLOAD)
    resolved = catalogue.resolve(model, endpoint, ctx.as_of, ctx.path)
    upload = _upload(file)
    response_format = _string(body, "response_format") or "json"
    if response_format not in FORMATS:
        raise invalid_enum("response_format", response_format, FORMATS)
    if resolved.model.id != "whisper-1" and response_format not in TOKEN_MODEL_FORMATS:
        raise errors.OpenAIError(
            400,
            f"response_format '{response_format}' is not compatible with model '{model}'. Use 'json' or "
            "'text' instead.",
            param="response_format",
            code="unsupported_value",
        )
    temperature = _number(body, "temperature", 0.0)
    check_value("temperature", temperature, Param(("number",), min=0, max=1))
    language = _string(body, "language")
    if language is not None and language not in transcript.LANGUAGES:
        raise errors.OpenAIError(
            400,
            f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
            param="language",
            code="invalid_language_format",
        )
    granularities = _choices(body, "timestamp_granularities", ("word", "segment")) or ("segment",)
    include = _choices(body, "include", ("logprobs",))
    _chunking(body.get("chunking_strategy"))
    stream = _flag(body, "stream")
    prompt = _string(body, "prompt") or ""
    # The transcript is the output: rules match the prompt, the one text the client sent.
    call = Call(endpoint, model, body, text=prompt, api_key=api_key, headers=headers)
    token_model = resolved.model.id != "whisper-1"
    return TranscriptionPlan(
        call=call,
        resolved=resolved,
        task="translate" if endpoint == "translations" else "transcribe",
        upload=upload,
        response_format=response_format,
        language=language,
        temperature=temperature,
        granularities=granularities,
        # Streaming is a gpt-4o feature; whisper-1 ignores the flag, as OpenAI documents.
        stream=token_model and stream,
        logprobs=token_model and "logprobs" in include and response_format == "json",
        prompt_tokens=tokens.count(resolved.model.encoding, prompt),
    )


def _upload(file: Mapping[str, Any]) -> Upload:
    filename = str(file.get("filename") or "")
    if not audio_probe.is_supported(filename):
        raise errors.OpenAIError(400, audio_probe.UNSUPPORTED_FORMAT_MESSAGE)
    size = int(file.get("size") or 0)
    if size == 0:
        # [UNVERIFIED] param and code; the message is the one OpenAI sends for audio it cannot decode.
        raise errors.OpenAIError(
            400,
            "The audio file could not be decoded or its format is not supported.",
            param="file",
            code="invalid_value",
        )
    probed = file.get("duration")
    duration = float(probed) if isinstance(probed, (int, float)) else None
    if duration is not None and duration < 0.1:
        raise errors.OpenAIError(
            400,
            "Audio file is too short. Minimum audio length is 0.1 seconds.",
            param="file",
            code="audio_too_short",
        )
    if duration is None or size < duration * MIN_BYTES_PER_SECOND:
        # Unreadable headers, headers claiming more than the file can hold, or made-up test bytes:
        # estimate from the size, never less than a second.
        return Upload(filename, str(file.get("sha256", "")), max(1.0, size / ESTIMATED_BYTES_PER_SECOND))
    return Upload(filename, str(file.get("sha256", "")), duration)


def _string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise errors.invalid_type(name, "a string", value)


def _number(body: Mapping[str, Any], name: str, default: float) -> float:
    text = _string(body, name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise errors.invalid_type(name, "a decimal", text)
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool:
    text = (_string(body, name) or "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise errors.invalid_type(name, "a boolean", body.get(name))
    return text in ("true", "1")


def _choices(body: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A list field (`name[]` in the form; a single value is taken as a list of one), checked item by item."""
    value = body.get(name)
    items = [] if value is None else value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise errors.invalid_type(name, "a string", item)
        if item not in allowed:
            raise invalid_enum(name, item, allowed)
    return tuple(dict.fromkeys(items))


def _chunking(value: Any) -> None:
    """`auto`, or a `server_vad` object (its tuning values are accepted and have no effect here)."""
    if value is None or value == "auto" or (isinstance(value, dict) and value.get("type") == "server_vad"):
        return
    shown = value.get("type") if isinstance(value, dict) else value
    raise invalid_enum("chunking_strategy", shown, ("auto", "server_vad"))  # [UNVERIFIED] wording


# ----------------------------------------------------------------------------------------------------


def render(plan: TranscriptionPlan, reply: Reply, ctx: Ctx) -> Body | Stream:
    duration = float(reply.extra.get("duration", plan.upload.duration))
    key = bytes.fromhex(plan.upload.sha256) if plan.upload.sha256 else ctx.digest
    text = reply.text if reply.text is not None else transcript.default_text(key, duration)
    if plan.stream:
        return Stream(_events(plan, text, duration, key), done=False)
    fmt = plan.response_format
    if fmt == "text":
        return Body(TEXT_PLAIN, (text + "\n").encode("utf-8"))
    segs = transcript.segments(text, duration)
    if fmt in ("srt", "vtt"):
        return Body(
            TEXT_PLAIN, (transcript.srt(segs) if fmt == "srt" else transcript.vtt(segs)).encode("utf-8")
        )
    body: dict[str, Any] = {"text": text}
    if fmt == "verbose_json":
        language = reply.extra.get("language") or (
            "english"
            if plan.task == "translate"
            else transcript.LANGUAGES.get(plan.language or "en", "english")
        )
        body = {"task": plan.task, "language": language, "duration": round(duration, 3), "text": text}
        if "segment" in plan.granularities:
            body["segments"] = [transcript.segment_json(s, key, plan.temperature) for s in segs]
        if "word" in plan.granularities:
            body["words"] = transcript.words(segs)
    if plan.logprobs:
        body["logprobs"] = _logprobs(plan, text, key)
    if plan.task == "transcribe" and ctx.as_of >= USAGE_SINCE:
        body["usage"] = (
            _usage(plan, text, duration)
            if plan.token_model
            else {"type": "duration", "seconds": math.ceil(duration)}
        )
    return Body(JSON, json_bytes(body))


def _usage(plan: TranscriptionPlan, text: str, duration: float) -> dict[str, Any]:
    audio = math.ceil(duration * AUDIO_TOKENS_PER_SECOND)
    output = tokens.count(plan.resolved.model.encoding, text)
    return {
        "type": "tokens",
        "input_tokens": audio + plan.prompt_tokens,
        "input_token_details": {"text_tokens": plan.prompt_tokens, "audio_tokens": audio},
        "output_tokens": output,
        "total_tokens": audio + plan.prompt_tokens + output,
    }


def _logprobs(plan: TranscriptionPlan, text: str, key: bytes) -> list[dict[str, Any]]:
    enc = tokens.get_encoding(plan.resolved.model.encoding)
    out = []
    for i, token in enumerate(tokens.encode(plan.resolved.model.encoding, text)):
        raw = enc.decode_single_token_bytes(token)
        h = hashlib.blake2b(key + i.to_bytes(4, "big"), digest_size=2).digest()
        logprob = -round(int.from_bytes(h, "big") / 65535 * 0.5, 6)
        out.append({"token": raw.decode("utf-8", errors="replace"), "logprob": logprob, "bytes": list(raw)})
    return out


def _events(plan: TranscriptionPlan, text: str, duration: float, key: bytes) -> Iterator[dict[str, Any]]:
    """`transcript.text.delta` events a word at a time, then `transcript.text.done` with the usage."""
    for delta in re.findall(r"\s*\S+", text):
        yield {"type": "transcript.text.delta", "delta": delta}
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text}
    if plan.logprobs:
        done["logprobs"] = _logprobs(plan, text, key)
    done["usage"] = _usage(plan, text, duration)
    # [UNVERIFIED] whether OpenAI ends these streams with `data: [DONE]`; the SDKs stop at the end of the
    # body.
    yield done


ENDPOINT = Endpoint("transcriptions", prepare, render, form=True)
