"""Deterministic PNG images of any size, built with zlib: what /v1/images/generations returns.

Horizontal bands of colours derived from a hash: every row of a band is the same bytes, so even a
1792x1024 image is built and compressed in milliseconds and stays a few kilobytes.
"""

from __future__ import annotations

import struct
import zlib

from mockai.generation import generator

MAX_SIDE = 4096
"""No side larger than this is drawn (the largest size any image model takes is 1792)."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image(d: bytes, width: int, height: int, alpha: bool = False) -> bytes:
    """A `width` x `height` PNG (RGB, or RGBA with a transparent top band when `alpha`), from digest `d`."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"image size {width}x{height} is outside 1..{MAX_SIDE}")
    channels = 4 if alpha else 3
    bands = 3 + generator.number(d, "bands", 5)
    rows: list[bytes] = []
    for y in range(height):
        band = y * bands // height
        colour = generator.derive(d, f"band{band}")[:3]
        pixel = colour + (b"\x00" if alpha and band == 0 else b"\xff") if alpha else colour
        rows.append(b"\x00" + pixel * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    raw = b"".join(rows)
    assert len(raw) == height * (1 + width * channels)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
