"""What image parts cost in prompt tokens, from the image's size read offline.

A `data:` URL carries the image: its size comes from the PNG, GIF, JPEG or WebP header, never from
decoding pixels. A linked image (`https://...`) is not fetched (mockai is offline): it is priced as if it
were LINKED_SIZE, an estimate, so its count differs from the live API's whenever its size does.

Two pricing schemes (OpenAI's vision guide; [UNVERIFIED] beyond the recorded gpt-5-mini traffic):
tiles (base + per 512px tile after fitting 2048 and shrinking the short side to 768, or base alone for
`detail: low`) and patches (32px patches, at most 1536, times a per-model factor).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from mockai.call import parts_of

T = TypeVar("T")

LINKED_SIZE = (1024, 1024)
"""The size a linked image is priced at: it cannot be read offline. A documented estimate."""

TILES: dict[str, tuple[int, int]] = {
    "gpt-4o-mini": (2833, 5667),
    "gpt-5": (70, 140),
    "o1": (75, 150),
    "o3": (75, 150),
    "gpt-4": (85, 170),
    "chatgpt-4o": (85, 170),
}
"""Tile pricing (base, per tile) by longest matching id prefix; gpt-4o, gpt-4.1, gpt-4.5 share `gpt-4`."""
PATCHES: dict[str, tuple[float, int]] = {
    "gpt-5-mini": (1.2, 4),
    "gpt-5-nano": (2.46, 0),
    "gpt-4.1-mini": (1.62, 0),
    "gpt-4.1-nano": (2.46, 0),
    "o4-mini": (1.72, 0),
}
"""Patch pricing (factor, tokens per image) by id prefix. gpt-5-mini's is fitted to recorded traffic
(130 and 342 patches answered 160 and 415 tokens); the others are the vision guide's factors."""
MAX_PATCHES = 1536


def prompt_tokens(model_id: str, messages: Iterable[Any]) -> int:
    """Tokens of every image part in the messages, for this model."""
    total = 0
    for _, part in parts_of(messages, "image_url"):
        image = part.get("image_url")
        image = image if isinstance(image, Mapping) else {}
        url, detail = image.get("url"), image.get("detail")
        size = size_of_url(url) if isinstance(url, str) else None
        total += image_tokens(model_id, *(size or LINKED_SIZE), detail=detail)
    return total


def image_tokens(model_id: str, width: int, height: int, detail: object = None) -> int:
    """Tokens of one image of this size for this model."""
    patch = _longest_prefix(model_id, PATCHES)
    if patch is not None:
        factor, per_image = patch
        return math.ceil(patches(width, height) * factor) + per_image
    base, per_tile = _longest_prefix(model_id, TILES) or (85, 170)
    if detail == "low":
        return base
    return base + per_tile * tiles(width, height)


def tiles(width: int, height: int) -> int:
    """512px tiles after fitting in 2048x2048 and shrinking the short side to 768."""
    w, h = float(max(width, 1)), float(max(height, 1))
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    return math.ceil(w / 512) * math.ceil(h / 512)


def patches(width: int, height: int) -> int:
    """32px patches, the image shrunk to fit MAX_PATCHES first."""
    w, h = max(width, 1), max(height, 1)
    raw = math.ceil(w / 32) * math.ceil(h / 32)
    if raw <= MAX_PATCHES:
        return raw
    shrink = math.sqrt(MAX_PATCHES * 32 * 32 / (w * h))
    sw, sh = w * shrink, h * shrink
    shrink *= min(math.floor(sw / 32) / (sw / 32), math.floor(sh / 32) / (sh / 32))
    return min(MAX_PATCHES, math.ceil(w * shrink / 32) * math.ceil(h * shrink / 32))


def _longest_prefix(model_id: str, table: Mapping[str, T]) -> T | None:
    matches = [prefix for prefix in table if model_id.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def size_of_url(url: str) -> tuple[int, int] | None:
    """The size of a `data:` URL's image; None for links and anything unreadable."""
    if not url.startswith("data:"):
        return None
    _, _, payload = url.partition(",")
    try:
        # The header is all that is read: the first 64 KiB cover any JPEG's frame header in practice.
        head = base64.b64decode(payload[: 64 * 1024 * 4 // 3 // 4 * 4], validate=False)
    except (binascii.Error, ValueError):
        return None
    return size_of(head)


def size_of(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF, JPEG or WebP header; None if it is none of them."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in SOF_MARKERS:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        if marker == 0xFF or 0xD0 <= marker <= 0xD9:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + max(length, 2)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None
