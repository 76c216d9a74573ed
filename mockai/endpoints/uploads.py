"""Uploads to the audio endpoints: read a multipart/form-data body into a plain JSON-able body.

The file itself never enters the body (which is hashed, journaled and matched): it is described by
name, content type, size, a sha256, and what `audio_probe` reads from its headers. Form keys written
the way the SDKs write them (`timestamp_granularities[]`, `chunking_strategy[type]`) become a list
and an object, so rules match them like JSON. Values stay strings; each endpoint converts its own.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from mockai import errors
from mockai.endpoints import audio_probe

MAX_UPLOAD_BYTES = 26_214_400
"""OpenAI's 25 MiB cap on the request body of the audio endpoints."""
MAX_FIELDS = 100
MAX_FIELD_BYTES = 1024 * 1024


async def parse_form(raw: bytes, content_type: str) -> dict[str, Any]:
    """An upload endpoint's body: the multipart form as a plain body, or OpenAI's 400."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        # [UNVERIFIED] wording: modelled on OpenAI's JSON-endpoint text for a wrong Content-Type.
        shown = content_type or "missing"
        raise errors.OpenAIError(
            400,
            f"Invalid Content-Type header ({shown}), expected multipart/form-data. (HINT: If you're using "
            "curl, "
            "you can pass -F 'file=@audio.mp3' -F model=whisper-1, which sets 'Content-Type: "
            "multipart/form-data')",
        )
    items = await _form_items(content_type, raw)
    body: dict[str, Any] = {}
    for key, value in items:
        name, sub = _split_key(key)
        if sub is None:
            body[name] = value
        elif sub == "":
            current = body.get(name)
            body[name] = [*current, value] if isinstance(current, list) else [value]
        else:
            current = body.get(name)
            body[name] = (
                {**current, sub: value}
                if isinstance(current, dict) and not is_upload(current)
                else {sub: value}
            )
    return body


async def _form_items(content_type: str, raw: bytes) -> list[tuple[str, Any]]:
    """(name, value) pairs in order: strings for fields, a description for each file."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield raw

    parser = MultiPartParser(
        Headers(raw=[(b"content-type", content_type.encode("latin-1", "replace"))]),
        stream(),
        max_files=MAX_FIELDS,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except Exception as exc:  # noqa: BLE001 - hostile bytes must answer 400, whatever the parser trips on
        # [UNVERIFIED] wording: OpenAI's reply to a body it cannot split into parts is not on record.
        reason = str(exc).rstrip(".") or type(exc).__name__
        raise errors.OpenAIError(
            400,
            f"Could not parse the multipart form: {reason}. Send the fields and the file as "
            "multipart/form-data, as the OpenAI SDKs do.",
        ) from None
    items: list[tuple[str, Any]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            await value.close()
            items.append((key, describe(value.filename or "", value.content_type, data)))
        else:
            items.append((key, value))
    return items


def describe(filename: str, content_type: str | None, data: bytes) -> dict[str, Any]:
    """What the body says about an uploaded file: enough to check it and to derive a transcript."""
    info = audio_probe.probe(data, filename)
    duration = info.duration if info.duration is not None and math.isfinite(info.duration) else None
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": info.format,
        "duration": duration,
    }


def _split_key(key: str) -> tuple[str, str | None]:
    """`a` -> (a, None); `a[]` -> (a, ""); `a[b]` -> (a, b): the SDKs' bracket notation."""
    if key.endswith("]") and "[" in key[:-1]:
        name, _, sub = key[:-1].partition("[")
        if name:
            return name, sub
    return key, None


def is_upload(value: Any) -> bool:
    """Whether a body value is a described file (as opposed to a text field)."""
    return isinstance(value, dict) and "sha256" in value and "size" in value
