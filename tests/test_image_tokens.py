"""Image parts count in prompt_tokens from the size their header declares (read offline)."""

from __future__ import annotations

import base64
import struct

import openai
import pytest

from mockai.models import image_tokens as images


def png(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">II", width, height)
        + b"\x08\x02"
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, height, width) + bytes(6)
    return b"\xff\xd8" + app0 + sof


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height)


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return b"RIFF" + bytes(4) + b"WEBPVP8L" + bytes(4) + b"\x2f" + bits.to_bytes(4, "little")


def data_url(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize("make", [png, jpeg, gif, webp_lossless])
def test_the_size_is_read_from_the_header(make) -> None:  # type: ignore[no-untyped-def]
    assert images.size_of(make(597, 566)) == (597, 566)


def test_anything_else_has_no_size() -> None:
    assert images.size_of(b"not an image") is None
    assert images.size_of_url("https://example.com/cat.png") is None
    assert images.size_of_url("data:image/png;base64,%%%") is None


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [((1024, 1024), "high", 765), ((2048, 4096), "high", 1105), ((4096, 8192), "low", 85)],
)
def test_gpt_4o_prices_images_by_512px_tiles(size: tuple[int, int], detail: str, expected: int) -> None:
    """The vision guide's worked examples."""
    assert images.image_tokens("gpt-4o-2024-08-06", *size, detail=detail) == expected


def test_patches_are_32px_and_capped() -> None:
    """The vision guide's worked examples: 1024x1024 is 1024 patches; 1800x2400 shrinks to 1452."""
    assert images.patches(1024, 1024) == 1024
    assert images.patches(1800, 2400) == 1452


def test_gpt_5_mini_counts_an_image_as_the_live_api_did(client: openai.OpenAI) -> None:
    """Recorded: a 400x301 PNG alone in a user message cost gpt-5-mini 160 tokens."""
    text_only = client.chat.completions.create(
        model="gpt-5-mini", messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    )
    with_image = client.chat.completions.create(
        model="gpt-5-mini",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "image_url", "image_url": {"url": data_url(png(400, 301))}},
                ],
            }
        ],
    )
    assert with_image.usage is not None and text_only.usage is not None
    assert with_image.usage.prompt_tokens - text_only.usage.prompt_tokens == 160


def test_a_linked_image_is_priced_at_the_documented_estimate() -> None:
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]
    assert images.prompt_tokens("gpt-4o", messages) == images.image_tokens("gpt-4o", *images.LINKED_SIZE)
    assert images.prompt_tokens("gpt-4o", messages) == 765
