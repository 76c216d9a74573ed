"""POST /v1/images/generations: decodable PNGs of the asked size, per model's sizes and options."""

from __future__ import annotations

import base64
import struct
import zlib

import httpx
import openai
import pytest
from conformance import validate


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking every chunk's CRC and that the pixels decompress."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, size, pixels = 8, (0, 0), b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            pixels += body
        at += 12 + length
    width, height = size
    assert len(zlib.decompress(pixels)) == height * (1 + width * 3)
    return size


@pytest.mark.parametrize(
    ("model", "size"), [("dall-e-2", "256x256"), ("dall-e-3", "1792x1024"), ("gpt-image-1", "1024x1536")]
)
def test_each_model_answers_a_png_of_the_asked_size(client: openai.OpenAI, model: str, size: str) -> None:
    extra = {} if model == "gpt-image-1" else {"response_format": "b64_json"}
    result = client.images.generate(model=model, prompt="a red fox", size=size, **extra)  # type: ignore[arg-type]
    width, height = (int(x) for x in size.split("x"))
    assert png_size(base64.b64decode(result.data[0].b64_json or "")) == (width, height)  # type: ignore[index]


def test_gpt_image_1_reports_usage_and_its_settings(http: httpx.Client) -> None:
    body = http.post(
        "/v1/images/generations", json={"model": "gpt-image-1", "prompt": "a fox", "quality": "low", "n": 2}
    ).json()
    validate("ImagesResponse", body)
    assert len(body["data"]) == 2 and (body["quality"], body["size"]) == ("low", "1024x1024")
    assert body["usage"]["output_tokens"] == 2 * 272
    assert body["usage"]["input_tokens"] == body["usage"]["input_tokens_details"]["text_tokens"] > 0


def test_a_url_answer_points_at_a_png_the_mock_serves(client: openai.OpenAI, http: httpx.Client) -> None:
    result = client.images.generate(model="dall-e-3", prompt="a lighthouse")
    assert result.data and result.data[0].revised_prompt == "a lighthouse"
    url = result.data[0].url or ""
    image = httpx.get(url)
    assert image.headers["content-type"] == "image/png"
    assert png_size(image.content) == (1024, 1024)
    validate("ImagesResponse", http.post("/v1/images/generations", json={"prompt": "x"}).json())


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"model": "dall-e-3", "prompt": "x", "n": 2}, "You must provide n=1 for this model.", None),
        (
            {"model": "dall-e-2", "prompt": "x", "size": "1792x1024"},
            "'1792x1024' is not one of ['256x256', '512x512', '1024x1024'] - 'size'",
            "size",
        ),
        (
            {"model": "gpt-image-1", "prompt": "x", "response_format": "url"},
            "Unknown parameter: 'response_format'.",
            "response_format",
        ),
        ({"model": "dall-e-2", "prompt": "x", "style": "vivid"}, "Unknown parameter: 'style'.", "style"),
    ],
)
def test_a_model_refuses_what_it_does_not_take(
    http: httpx.Client, body: dict, message: str, param: str
) -> None:
    response = http.post("/v1/images/generations", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["message"], error["param"]) == (message, param)


@pytest.mark.anyio
async def test_the_async_client_generates_images(aclient: openai.AsyncOpenAI) -> None:
    result = await aclient.images.generate(
        model="dall-e-2", prompt="x", size="512x512", response_format="b64_json"
    )
    assert png_size(base64.b64decode(result.data[0].b64_json or "")) == (512, 512)  # type: ignore[index]
