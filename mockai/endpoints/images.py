"""POST /v1/images/generations: dall-e-2, dall-e-3 and gpt-image-1, each with the sizes, counts and
options it takes, answering decodable PNGs of the asked size as `b64_json` or a `url` on the mock.

gpt-image-1 always answers `b64_json` and reports `usage` (the text prompt's tokens in, the image's
tokens out by quality and size, as OpenAI prices them).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint
from mockai.endpoints.validate import P, Param, check_params, invalid_enum
from mockai.generation import generator, png
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "prompt": P("string", required=True),
    "model": P("string"),
    "n": P("integer", min=1, max=10),
    "quality": P("string"),
    "response_format": P("string", enum=("url", "b64_json")),
    "size": P("string"),
    "style": P("string", enum=("vivid", "natural")),
    "user": P("string"),
    "background": P("string", enum=("transparent", "opaque", "auto")),
    "moderation": P("string", enum=("low", "auto")),
    "output_compression": P("integer", min=0, max=100),
    "output_format": P("string", enum=("png", "jpeg", "webp")),
    "partial_images": P("integer", min=0, max=3),
    "stream": P("boolean"),
}
DEFAULT_MODEL = "dall-e-2"


@dataclass(frozen=True)
class Family:
    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    max_prompt: int
    max_n: int
    only: frozenset[str]
    """Parameters only this family takes (others refuse them)."""


FAMILIES = {
    "dall-e-2": Family(("256x256", "512x512", "1024x1024"), ("standard",), 1000, 10, frozenset()),
    "dall-e-3": Family(
        ("1024x1024", "1792x1024", "1024x1792"), ("standard", "hd"), 4000, 1, frozenset({"style"})
    ),
    "gpt-image-1": Family(
        ("1024x1024", "1536x1024", "1024x1536", "auto"),
        ("low", "medium", "high", "auto"),
        32000,
        10,
        frozenset(
            {"background", "moderation", "output_compression", "output_format", "partial_images", "stream"}
        ),
    ),
}
GPT_IMAGE_OUTPUT_TOKENS = {
    ("low", "1024x1024"): 272,
    ("low", "1024x1536"): 408,
    ("low", "1536x1024"): 400,
    ("medium", "1024x1024"): 1056,
    ("medium", "1024x1536"): 1584,
    ("medium", "1536x1024"): 1568,
    ("high", "1024x1024"): 4160,
    ("high", "1024x1536"): 6240,
    ("high", "1536x1024"): 6208,
}
"""Image output tokens of gpt-image-1 by quality and size (OpenAI's image pricing tables)."""


@dataclass(frozen=True)
class ImagePlan:
    call: Call
    resolved: catalogue.Resolved
    family: str
    n: int
    width: int
    height: int
    size: str
    quality: str
    b64: bool
    alpha: bool
    prompt_tokens: int

    @property
    def cost(self) -> int:
        return self.prompt_tokens


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> ImagePlan:
    """Check an image generation as the real API does for the model asked."""
    check_params(body, PARAMS)
    model = body.get("model") or DEFAULT_MODEL
    resolved = catalogue.resolve(model, "images", ctx.as_of, ctx.path)
    name = next((f for f in FAMILIES if resolved.model.id.startswith(f)), "dall-e-2")
    family = FAMILIES[name]
    for param in (
        "style",
        "background",
        "moderation",
        "output_compression",
        "output_format",
        "partial_images",
    ):
        if param in body and body[param] is not None and param not in family.only:
            raise _unknown(param)
    if body.get("stream") and "stream" not in family.only:
        raise _unknown("stream")
    if name == "gpt-image-1" and body.get("response_format") is not None:
        raise _unknown("response_format")
    if body.get("stream"):
        # [UNVERIFIED] mockai does not stream image generations yet: an honest refusal, not a wrong stream.
        raise errors.invalid_value(
            "stream", "mockai: streamed image generation is not supported; leave 'stream' out."
        )
    if body.get("output_format") in ("jpeg", "webp"):
        raise errors.invalid_value(
            "output_format", "mockai: only 'png' images are generated; ask for output_format 'png'."
        )
    prompt = body["prompt"]
    if len(prompt) > family.max_prompt:
        # [UNVERIFIED] for images; the limits (1000, 4000, 32000 characters) are OpenAI's documented ones.
        raise errors.string_too_long("prompt", len(prompt), family.max_prompt)
    n = body.get("n") or 1
    if n > family.max_n:
        raise errors.OpenAIError(400, "You must provide n=1 for this model.")
    size = body.get("size") or ("auto" if name == "gpt-image-1" else "1024x1024")
    if size not in family.sizes:
        # [UNVERIFIED] wording for dall-e-3 and gpt-image-1; dall-e-2's is the live API's.
        listed = ", ".join(f"'{s}'" for s in family.sizes)
        raise errors.OpenAIError(400, f"'{size}' is not one of [{listed}] - 'size'", param="size")
    quality = body.get("quality") or ("auto" if name == "gpt-image-1" else "standard")
    if quality not in family.qualities:
        raise invalid_enum("quality", quality, family.qualities)
    if size == "auto":
        size = "1024x1024"
    if quality == "auto":
        quality = "medium"
    width, height = (int(x) for x in size.split("x"))
    call = Call(endpoint="images", model=model, body=body, text=prompt, api_key=api_key, headers=headers)
    return ImagePlan(
        call=call,
        resolved=resolved,
        family=name,
        n=n,
        width=width,
        height=height,
        size=size,
        quality=quality,
        b64=name == "gpt-image-1" or body.get("response_format") == "b64_json",
        alpha=body.get("background") == "transparent",
        prompt_tokens=tokens.count("o200k_base", prompt),
    )


def _unknown(param: str) -> errors.OpenAIError:
    return errors.OpenAIError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def render(plan: ImagePlan, reply: Reply, ctx: Ctx) -> Body:
    """The images response: PNGs as base64, or URLs where the mock serves them."""
    data = []
    for i in range(plan.n):
        d = generator.derive(ctx.digest, f"image{i}")
        image = png.image(d, plan.width, plan.height, plan.alpha)
        if plan.b64:
            item: dict[str, Any] = {"b64_json": base64.b64encode(image).decode("ascii")}
        else:
            name = f"img-{generator.make_id('', d, 24)}.png"
            ctx.store.put("image", name, image, len(image))
            item = {"url": f"{ctx.base_url}/_mockai/images/{name}"}
        if plan.family == "dall-e-3":
            item["revised_prompt"] = reply.text if reply.text is not None else plan.call.text
        data.append(item)
    body: dict[str, Any] = {"created": ctx.created, "data": data}
    if plan.family == "gpt-image-1":
        out = GPT_IMAGE_OUTPUT_TOKENS[(plan.quality, plan.size)] * plan.n
        body.update(
            {
                "background": "transparent" if plan.alpha else "opaque",
                "output_format": "png",
                "quality": plan.quality,
                "size": plan.size,
                "usage": {
                    "input_tokens": plan.prompt_tokens,
                    "input_tokens_details": {"text_tokens": plan.prompt_tokens, "image_tokens": 0},
                    "output_tokens": out,
                    "total_tokens": plan.prompt_tokens + out,
                },
            }
        )
    return Body(JSON, json_bytes(body))


ENDPOINT = Endpoint("images", prepare, render)
