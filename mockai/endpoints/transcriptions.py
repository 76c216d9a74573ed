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
from mockai.endpoints.transcription_models import DIARIZE_MAX_SECONDS, Abilities, abilities, use_instead
from mockai.endpoints.uploads import is_upload
from mockai.endpoints.validate import Param, check_value, invalid_enum
from mockai.generation import transcript
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

FIELDS = {
    "transcriptions": (
        "file", "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities",
        "include", "stream", "chunking_strategy", "keywords", "languages", "known_speaker_names",
        "known_speaker_references",
    ),
    "translations": ("file", "model", "prompt", "response_format", "temperature"),
}  # fmt: skip
FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
MAX_SPEAKERS = 4
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
    speakers: tuple[str, ...] = ()
    """The names of `known_speaker_names`, else none: diarized segments are then labelled A, B, ..."""
    languages: tuple[str, ...] = ()
    """The `languages` hints gpt-transcribe was given."""

    @property
    def cost(self) -> int:
        return self.prompt_tokens

    @property
    def abilities(self) -> Abilities:
        return abilities(self.resolved.model.id)

    @property
    def token_model(self) -> bool:
        """The gpt-4o transcribe models: usage in tokens."""
        return self.abilities.tokens


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
    can = abilities(resolved.model.id)
    response_format = _string(body, "response_format") or "json"
    formats = FORMATS if endpoint == "transcriptions" else FORMATS[:-1]  # translations have no diarized_json
    if response_format not in formats:
        raise invalid_enum("response_format", response_format, formats)
    if response_format not in can.formats:
        raise errors.OpenAIError(
            400,
            f"response_format '{response_format}' is not compatible with model '{model}'. Use "
            f"{use_instead(can.formats)} instead.",
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
    chunking = _chunking(body.get("chunking_strategy"))
    stream = _flag(body, "stream")
    prompt = _string(body, "prompt") or ""
    _model_rules(body, can, include, upload, chunking)
    speakers = _speakers(body) if can.diarize else ()
    hints = _languages(body) if can.hints else ()
    # The transcript is the output: rules match the prompt, the one text the client sent.
    call = Call(endpoint, model, body, text=prompt, api_key=api_key, headers=headers)
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
        stream=can.stream and stream,
        logprobs=can.logprobs and "logprobs" in include and response_format == "json",
        prompt_tokens=tokens.count(resolved.model.encoding, prompt),
        speakers=speakers,
        languages=hints,
    )


def _model_rules(
    body: Mapping[str, Any], can: Abilities, include: tuple[str, ...], upload: Upload, chunking: bool
) -> None:
    """Refuse the fields this model does not take. [UNVERIFIED] texts, except the diarize model's two."""
    # timestamp_granularities: the spec and SDK name only the diarize model as refusing it; the other gpt-4o
    # and gpt-transcribe models answer json or text, which carry no timestamps, and take it without a word
    # (vercel/ai#8246 sends it with json to gpt-4o-transcribe and gets its answer). [UNVERIFIED] the text.
    unsupported = ["timestamp_granularities"] if can.diarize else []
    if not can.hints:
        unsupported += ["keywords", "languages"]
    if not can.diarize:
        unsupported += ["known_speaker_names", "known_speaker_references"]
    else:
        unsupported += ["prompt"] + (["include"] if include else [])
    for name in unsupported:
        if body.get(name) not in (None, "", []):
            raise errors.unsupported_parameter(name)
    if can.diarize and not chunking:
        # Users pasted it (riffado#101, litellm#18125): refused whatever the audio's length.
        raise errors.invalid_value(
            "chunking_strategy", "chunking_strategy is required for diarization models"
        )
    if can.diarize and upload.duration > DIARIZE_MAX_SECONDS:
        # Users pasted it (murtaza-nasir/speakr#168): the seconds with six decimals.
        raise errors.OpenAIError(
            400,
            f"audio duration {upload.duration:f} seconds is longer than {DIARIZE_MAX_SECONDS} seconds which "
            "is the maximum for this model",
            code="invalid_value",
        )


def _speakers(body: Mapping[str, Any]) -> tuple[str, ...]:
    """`known_speaker_names` and their `known_speaker_references` (data URLs), up to 4 and as many of each."""
    names = _strings(body, "known_speaker_names")
    references = _strings(body, "known_speaker_references")
    for name, items in (("known_speaker_names", names), ("known_speaker_references", references)):
        check_value(name, list(items), Param(("array",), max_items=MAX_SPEAKERS))
    if len(names) != len(references):
        # [UNVERIFIED] text
        raise errors.invalid_value(
            "known_speaker_references",
            f"Invalid 'known_speaker_references': expected {len(names)} references, one for each of "
            f"'known_speaker_names', but got {len(references)}.",
        )
    for i, ref in enumerate(references):
        if not (ref.startswith("data:") and ";base64," in ref):
            # [UNVERIFIED] text
            raise errors.invalid_value(
                f"known_speaker_references[{i}]",
                f"Invalid 'known_speaker_references[{i}]': expected a data URL of audio, e.g. "
                "'data:audio/wav;base64,...'.",
            )
    return names


def _languages(body: Mapping[str, Any]) -> tuple[str, ...]:
    """gpt-transcribe's `languages` hints (ISO-639-1, not with `language`) and `keywords` (one line each,
    without `<` or `>`, as the migration guide says). [UNVERIFIED] texts."""
    languages = _strings(body, "languages")
    if languages and body.get("language"):
        raise errors.invalid_value(
            "languages", "Invalid 'languages': send either 'language' or 'languages', not both."
        )
    for i, code in enumerate(languages):
        if code not in transcript.LANGUAGES:
            raise errors.OpenAIError(
                400,
                f"Invalid language '{code}'. Language parameter must be specified in ISO-639-1 format.",
                param=f"languages[{i}]",
                code="invalid_language_format",
            )
    for i, keyword in enumerate(_strings(body, "keywords")):
        if not keyword or any(c in keyword for c in "<>\r\n"):
            raise errors.invalid_value(
                f"keywords[{i}]",
                f"Invalid 'keywords[{i}]': a keyword is one non-empty line without '<' or '>'.",
            )
    return languages


def _strings(body: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list field of strings (a single value is a list of one)."""
    value = body.get(name)
    items = [] if value is None else value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise errors.invalid_type(name, "a string", item)
    return tuple(items)


def _upload(file: Mapping[str, Any]) -> Upload:
    filename = str(file.get("filename") or "")
    if not audio_probe.is_supported(filename):
        raise errors.OpenAIError(400, audio_probe.UNSUPPORTED_FORMAT_MESSAGE)
    size = int(file.get("size") or 0)
    if size == 0:
        # [UNVERIFIED] param and code; the message is the one OpenAI sends for audio it cannot decode.
        raise errors.invalid_value(
            "file", "The audio file could not be decoded or its format is not supported."
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


def _chunking(value: Any) -> bool:
    """`auto`, or a `server_vad` object (its tuning values are accepted and have no effect here): whether one
    was given."""
    if value is None or value == "":
        return False
    if value == "auto" or (isinstance(value, dict) and value.get("type") == "server_vad"):
        return True
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
    if fmt == "diarized_json":
        body: dict[str, Any] = {
            "task": "transcribe",
            "duration": round(duration, 3),
            "text": text,
            "segments": [_diarized_segment(plan, s, key) for s in segs],
        }
        if ctx.as_of >= USAGE_SINCE:
            body["usage"] = _usage_of(plan, text, duration)
        return Body(JSON, json_bytes(body))
    body = {"text": text}
    if plan.abilities.hints:
        body["languages"] = _detected(plan)
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
        body["usage"] = _usage_of(plan, text, duration)
    return Body(JSON, json_bytes(body))


def _usage_of(plan: TranscriptionPlan, text: str, duration: float) -> dict[str, Any]:
    """Tokens for the gpt-4o transcribe models, whole seconds of audio for the others."""
    if plan.token_model:
        return _usage(plan, text, duration)
    return {"type": "duration", "seconds": math.ceil(duration)}


def _detected(plan: TranscriptionPlan) -> list[dict[str, str]]:
    """gpt-transcribe's detected languages: the first hint, else the `language` given, else English.
    [UNVERIFIED] a heuristic; the live model predicts from the audio."""
    code = plan.languages[0] if plan.languages else plan.language or "en"
    return [{"code": code}]


def _speaker(plan: TranscriptionPlan, index: int, key: bytes) -> str:
    """The known speakers in turn, else A and B (or A alone, as the audio's hash says)."""
    labels = plan.speakers or ("A", "B")[: 1 + key[0] % 2]
    return labels[index % len(labels)]


def _diarized_segment(plan: TranscriptionPlan, seg: transcript.Segment, key: bytes) -> dict[str, Any]:
    return {
        "type": "transcript.text.segment",
        "id": f"seg_{seg.id + 1:03d}",
        "start": round(seg.start, 3),
        "end": round(seg.end, 3),
        "text": seg.text.strip(),
        "speaker": _speaker(plan, seg.id, key),
    }


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
    """`transcript.text.delta` events a word at a time, then `transcript.text.done` with the usage. Diarized:
    each segment's deltas carry its `segment_id`, and its `transcript.text.segment` event follows them
    ([UNVERIFIED] that order)."""
    if plan.response_format == "diarized_json":
        for seg in transcript.segments(text, duration):
            segment = _diarized_segment(plan, seg, key)
            for delta in re.findall(r"\s*\S+", seg.text):
                yield {"type": "transcript.text.delta", "delta": delta, "segment_id": segment["id"]}
            yield segment
    else:
        for delta in re.findall(r"\s*\S+", text):
            yield {"type": "transcript.text.delta", "delta": delta}
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text}
    if plan.logprobs:
        done["logprobs"] = _logprobs(plan, text, key)
    # The spec's done event carries token usage only, whichever the model ([UNVERIFIED] for the diarize model
    # and gpt-transcribe, whose whole answers count seconds).
    done["usage"] = _usage(plan, text, duration)
    # [UNVERIFIED] whether OpenAI ends these streams with `data: [DONE]`; the SDKs stop at the end of the
    # body.
    yield done


ENDPOINT = Endpoint("transcriptions", prepare, render, form=True)
